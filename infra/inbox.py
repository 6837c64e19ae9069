"""The notifications inbox on the platform database: one row per (notice,
recipient), so each notice is told to each recipient once however often, or
by how many workers at once, the notifications process manager runs
(service/notifications.py).

`platform.notifications`: a recipient is a platform user (`user:<id>`: an
agency user or an in-tenant authority user, with the tenant; an
organisation's user, with the organisation) or a contract's owner
(`owner:<side>`, mail only: the address stays sealed in the agency's history
and is looked up when mailing). A row holds ids, the contract's title, the
period and line counts: no person, nothing of special category.
`platform.notice_fanouts` records which notices were fanned out, in the same
transaction as their rows, so a later run (or a user created later) does
not tell an old notice again.

Read by the pages and the API (`for_user`, `unread_count`, `mark_read`: the
signed-in user's own rows only, of their tenant or organisation).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from infra.eventstore import EventStoreDatabase

LIST_LIMIT = 200

INBOX_DDL = """
CREATE TABLE IF NOT EXISTS platform.notice_fanouts (
    tenant_id uuid NOT NULL,
    notice_id uuid NOT NULL,
    fanned_out_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, notice_id)
);
CREATE TABLE IF NOT EXISTS platform.notifications (
    id bigserial PRIMARY KEY,
    notice_id uuid NOT NULL,
    recipient text NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid,
    org_id uuid,
    kind text NOT NULL,
    statement_id uuid NOT NULL,
    contract_id uuid NOT NULL,
    contract_title text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    lines int NOT NULL DEFAULT 0,
    accepted int NOT NULL DEFAULT 0,
    rejected int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    mailed_at timestamptz,
    CONSTRAINT notifications_once UNIQUE (notice_id, recipient)
);
-- Webhook subscriptions paused after failing (infra/webhooks.py): kind
-- 'webhook_paused', the subscription's id, `lines` the failed attempts; no
-- statement, and an organisation's row has no tenant.
-- Altered once (an ALTER TABLE locks the table even when it changes nothing,
-- and every process runs this at start).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'platform'
                 AND table_name = 'notifications' AND column_name = 'subscription_id') THEN
    ALTER TABLE platform.notifications ADD COLUMN IF NOT EXISTS subscription_id uuid,
      ALTER COLUMN tenant_id DROP NOT NULL, ALTER COLUMN statement_id DROP NOT NULL,
      ALTER COLUMN contract_id DROP NOT NULL, ALTER COLUMN contract_title DROP NOT NULL,
      ALTER COLUMN period_start DROP NOT NULL, ALTER COLUMN period_end DROP NOT NULL;
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS notifications_user_idx ON platform.notifications (user_id, created_at DESC)
    WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS notifications_unmailed_idx ON platform.notifications (created_at)
    WHERE mailed_at IS NULL;
"""

COLUMNS = ("notice_id", "recipient", "tenant_id", "user_id", "org_id", "kind", "statement_id", "contract_id",
           "contract_title", "period_start", "period_end", "lines", "accepted", "rejected")


def migrate(platform_db: EventStoreDatabase) -> None:
    with platform_db.connection() as conn:
        conn.execute(INBOX_DDL)


class PlatformInbox:
    """The notifications process manager's `Inbox` port (service/notifications.py)."""

    def __init__(self, platform_db: EventStoreDatabase):
        self.platform_db = platform_db

    def fanned_out(self, tenant_id: UUID, notice_ids: Sequence[UUID]) -> set[UUID]:
        with self.platform_db.connection() as conn:
            rows = conn.execute("SELECT notice_id FROM platform.notice_fanouts WHERE tenant_id = %s"
                                " AND notice_id = ANY(%s)", (tenant_id, list(notice_ids))).fetchall()
        return {r["notice_id"] for r in rows}

    def fan_out(self, tenant_id: UUID, notice_id: UUID, rows: Sequence[Mapping[str, Any]]) -> int | None:
        """Record the notice's rows, once: None if it was fanned out before
        (by this or another worker), else how many rows are new."""
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        with self.platform_db.connection() as conn, conn.transaction():
            got = conn.execute("INSERT INTO platform.notice_fanouts (tenant_id, notice_id) VALUES (%s, %s)"
                               " ON CONFLICT DO NOTHING RETURNING notice_id", (tenant_id, notice_id)).fetchone()
            if got is None:
                return None
            added = 0
            for row in rows:
                cur = conn.execute(f"INSERT INTO platform.notifications ({', '.join(COLUMNS)})"
                                   f" VALUES ({placeholders}) ON CONFLICT (notice_id, recipient) DO NOTHING",
                                   tuple(row[c] for c in COLUMNS))
                added += cur.rowcount
            return added

    @contextmanager
    def unmailed(self, since: datetime) -> Iterator[tuple[list[dict[str, Any]], Callable[[list[int]], None]]]:
        """The rows not mailed yet (created since `since`), locked for this run:
        another worker's run skips them until this one commits. Yields the rows
        (with the user's e-mail and language for a user's row) and `mark(ids)`: mailed."""
        with self.platform_db.connection() as conn, conn.transaction():
            rows = conn.execute(
                "SELECT n.*, u.email AS user_email, u.lang AS user_lang FROM platform.notifications n"
                " LEFT JOIN platform.users u ON u.id = n.user_id"
                " WHERE n.mailed_at IS NULL AND n.statement_id IS NOT NULL AND n.created_at >= %s ORDER BY n.id"
                " FOR UPDATE OF n SKIP LOCKED", (since,)).fetchall()

            def mark(ids: list[int]) -> None:
                conn.execute("UPDATE platform.notifications SET mailed_at = now() WHERE id = ANY(%s)", (ids,))

            yield [dict(r) for r in rows], mark


# -- the signed-in user's inbox (asyncpg) ----------------------------------------------

def _scope(tenant_id: UUID | None, org_id: UUID | None) -> str:
    # A user's rows of their own tenant, or of their own organisation: never another's.
    return "n.tenant_id = $2 AND n.org_id IS NULL" if org_id is None else "n.org_id = $2"


async def for_user(pool: Any, user_id: UUID, tenant_id: UUID | None, org_id: UUID | None, *,
                   unread_only: bool = False, shared_contracts: set[tuple[UUID, UUID]] | None = None) -> list[dict[str, Any]]:
    """The user's notifications, newest first. For an organisation's user,
    `shared_contracts` ((tenant, contract) pairs): only those about contracts
    still shared with it."""
    rows = await pool.fetch(
        "SELECT n.id, n.tenant_id, n.kind, n.subscription_id, n.statement_id, n.contract_id, n.contract_title, n.period_start, n.period_end,"
        " n.lines, n.accepted, n.rejected, n.created_at, n.read_at FROM platform.notifications n"
        f" WHERE n.user_id = $1 AND {_scope(tenant_id, org_id)} AND ($3::bool IS FALSE OR n.read_at IS NULL)"
        f" ORDER BY n.created_at DESC, n.id DESC LIMIT {LIST_LIMIT}",
        user_id, org_id if org_id is not None else tenant_id, unread_only)
    out = []
    for r in rows:
        if r["kind"] == "webhook_paused":
            out.append({"id": r["id"], "kind": r["kind"], "subscription_id": str(r["subscription_id"]),
                        "statement_id": None, "contract_id": None, "contract_title": None, "period_start": None,
                        "period_end": None, "lines": r["lines"], "accepted": 0, "rejected": 0,
                        "created_at": r["created_at"].isoformat(),
                        "read_at": r["read_at"].isoformat() if r["read_at"] else None,
                        "link": f"/webhooks/{r['subscription_id']}"})
            continue
        if shared_contracts is not None and (r["tenant_id"], r["contract_id"]) not in shared_contracts:
            continue
        out.append({"id": r["id"], "kind": r["kind"], "subscription_id": None, "statement_id": str(r["statement_id"]),
                    "contract_id": str(r["contract_id"]), "contract_title": r["contract_title"],
                    "period_start": r["period_start"].isoformat(), "period_end": r["period_end"].isoformat(),
                    "lines": r["lines"], "accepted": r["accepted"], "rejected": r["rejected"],
                    "created_at": r["created_at"].isoformat(),
                    "read_at": r["read_at"].isoformat() if r["read_at"] else None,
                    "link": f"/statements/{r['statement_id']}"})
    return out


async def mark_read(pool: Any, user_id: UUID, tenant_id: UUID | None, org_id: UUID | None,
                    ids: list[int] | None) -> int:
    """Mark the user's own notifications read (`ids`, or all of them when None);
    how many changed. Another user's id changes nothing."""
    result = await pool.execute(
        f"UPDATE platform.notifications n SET read_at = now() WHERE n.user_id = $1 AND {_scope(tenant_id, org_id)}"
        " AND n.read_at IS NULL AND ($3::bigint[] IS NULL OR n.id = ANY($3::bigint[]))",
        user_id, org_id if org_id is not None else tenant_id, ids)
    return int(result.split()[-1])


class PlatformPeople:
    """The notifications process manager's `People` port on platform.users."""

    def __init__(self, platform_db: EventStoreDatabase):
        self.platform_db = platform_db

    def org_users(self, org_id: UUID) -> dict[UUID, str]:
        with self.platform_db.connection() as conn:
            rows = conn.execute("SELECT id, email FROM platform.users WHERE org_id = %s ORDER BY email",
                                (org_id,)).fetchall()
        return {r["id"]: r["email"] for r in rows}

    def tenant_users(self, tenant_id: UUID, role: str, organisation: str | None = None) -> dict[UUID, str]:
        with self.platform_db.connection() as conn:
            rows = conn.execute("SELECT id, email FROM platform.users WHERE tenant_id = %s AND role = %s"
                                " AND (%s::text IS NULL OR organisation = %s) ORDER BY email",
                                (tenant_id, role, organisation, organisation)).fetchall()
        return {r["id"]: r["email"] for r in rows}
