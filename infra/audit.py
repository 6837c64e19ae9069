"""Audit: verify a tenant's hash chain, sign its head, export it.

Heads are signed with Ed25519 (`cryptography`): SIGNING_KEY is the base64 of
the 32-byte private seed. In development, without SIGNING_KEY, a key is made
once and kept in <data_dir>/signing-key (mode 0600); production refuses to
start signing without one. `sroi keys public` prints the public key partners
use with `sroi verify-export`.

A worker signs the head of every tenant whose chain moved within
HEAD_SIGN_SECONDS of the write (HeadSigner, run by the worker's scheduler),
so the tail that a database writer could still rewrite or remove unnoticed
is bounded in time; `verify_tenant` says how many events are not yet under a
signed head and warns when they are older than that bound.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from psycopg import sql

from infra.chain import ChainBreak, ChainVerifier, genesis
from infra.eventstore import SCHEMA, EventStoreDatabase, Tenant
from infra.export_verify import EXPORT_FORMAT, head_message, readable_metadata, verify_signature
from infra.secrets import SecretError, load_secret
from infra.settings import Settings

log = logging.getLogger("sroi.audit")

HEADS_DDL = """
CREATE TABLE IF NOT EXISTS platform.chain_heads (
    tenant_id uuid NOT NULL,
    position bigint NOT NULL,
    hash bytea NOT NULL,
    signed_at timestamptz NOT NULL,
    key_id text NOT NULL,
    public_key text NOT NULL,
    signature text NOT NULL,
    PRIMARY KEY (tenant_id, signed_at)
);
"""

# Exports requested from the audit pages, run by a worker (infra/export_jobs.py).
EXPORT_JOBS_DDL = """
CREATE TABLE IF NOT EXISTS platform.export_jobs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    requested_by uuid NOT NULL,
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    done bigint NOT NULL DEFAULT 0,
    total bigint,
    path text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS export_jobs_tenant_created_idx ON platform.export_jobs (tenant_id, created_at DESC);
"""


class SigningKeyMissing(SecretError):
    pass


def load_signing_key(settings: Settings) -> Any:
    """The platform's Ed25519 key: SIGNING_KEY, or in development a key kept
    in <data_dir>/signing-key (0600)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = load_secret(settings.signing_key, setting="SIGNING_KEY", dev_file=settings.data_dir / "signing-key",
                      production=settings.is_production, what="a 32-byte Ed25519 seed", error=SigningKeyMissing)
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(private_key: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def platform_public_key(settings: Settings) -> bytes | None:
    """The raw public key that heads must verify with (None: no signing key available)."""
    try:
        return base64.b64decode(public_key_b64(load_signing_key(settings)))
    except (SigningKeyMissing, OSError, ValueError):
        return None


def key_id(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def migrate(database: EventStoreDatabase) -> None:
    with database.connection() as conn:
        conn.execute(HEADS_DDL)
        conn.execute(EXPORT_JOBS_DDL)


@dataclass(frozen=True)
class SignedHead:
    tenant_id: str
    events_table: str
    position: int
    hash_hex: str
    signed_at: str
    key_id: str
    public_key: str
    signature: str

    def as_record(self) -> dict[str, Any]:
        return {"type": "head", "position": self.position, "hash": self.hash_hex,
                "signed_at": self.signed_at, "key_id": self.key_id, "public_key": self.public_key,
                "signature": self.signature}


def _events(database: EventStoreDatabase, tenant: Tenant, batch: int = 5000,
            columns: str = "notification_id, originator_id, originator_version, topic, state, chain_hash, recorded_at",
            after: int = 0) -> Iterator[dict[str, Any]]:
    last = after
    select = sql.SQL("SELECT " + columns + " FROM {}.{} WHERE notification_id > %s "
                     "ORDER BY notification_id LIMIT %s").format(
        sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))
    while True:
        with database.connection() as conn:
            rows = conn.execute(select, (last, batch)).fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1]["notification_id"]


def head_of(database: EventStoreDatabase, tenant: Tenant) -> tuple[int, bytes]:
    """(position, hash) of the tenant's last event; (0, genesis) for none."""
    with database.connection() as conn:
        row = conn.execute(sql.SQL("SELECT notification_id, chain_hash FROM {}.{} "
                                   "ORDER BY notification_id DESC LIMIT 1").format(
            sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))).fetchone()
    if row is None:
        return 0, genesis(tenant.events_table)
    return row["notification_id"], bytes(row["chain_hash"])


class HeadNotExtending(RuntimeError):
    """The chain no longer extends the last signed head: signing now would
    cover up what changed. Run `sroi verify`."""


def _check_extends(platform_db: EventStoreDatabase, database: EventStoreDatabase, tenant: Tenant,
                   position: int, private_key: Any) -> None:
    """Refuse to sign unless the chain up to `position` follows from the last
    signed head: that head's signature is ours, its event still has its hash,
    and every event after it links on (recomputed). Reads only the events
    since that head (or, once, the whole chain when it crosses the v2 switch)."""
    signed = latest_signed_head(platform_db, tenant)
    if signed is None:
        return
    sp, sh = signed["position"], bytes(signed["hash"])
    public = public_key_b64(private_key)
    if signed["key_id"] == key_id(public) and not verify_signature(
            base64.b64decode(public), head_message(str(tenant.id), tenant.events_table, sp, sh.hex(),
                                                   _moment(signed["signed_at"])),
            base64.b64decode(signed["signature"])):
        raise HeadNotExtending(f"the last signed head of {tenant.slug} (position {sp}) does not verify: "
                               "the signed heads were altered")
    if position < sp:
        raise HeadNotExtending(f"the chain of {tenant.slug} ends at {position}, below its signed head at {sp}: "
                               "events were removed")
    v2_from = database.chain_v2_from(tenant)
    verifier = ChainVerifier(tenant.events_table, v2_from)
    full = sp == 0 or (v2_from is not None and sp < v2_from <= position)
    if not full:
        verifier.resume(sp, sh)
    found = sp == 0
    try:
        for row in _events(database, tenant, after=0 if full else sp - 1):
            if row["notification_id"] > position:
                break
            stored = bytes(row["chain_hash"]) if row["chain_hash"] is not None else None
            if not full and row["notification_id"] == sp:
                found = stored == sh
                continue
            digest = verifier.add(row["notification_id"], row["originator_id"], row["originator_version"],
                                  row["topic"], bytes(row["state"]), stored, row["recorded_at"])
            if row["notification_id"] == sp:
                found = digest == sh
    except ChainBreak as e:
        raise HeadNotExtending(f"the chain of {tenant.slug} after its signed head at {sp} does not hold: {e}"
                               ) from None
    if not found:
        raise HeadNotExtending(f"the event at the signed head of {tenant.slug} (position {sp}) was removed or "
                               "altered")


def sign_head(platform_db: EventStoreDatabase, database: EventStoreDatabase, tenant: Tenant,
              private_key: Any) -> SignedHead:
    """Sign the tenant's current head, if the chain extends the last signed head
    (HeadNotExtending otherwise)."""
    position, digest = head_of(database, tenant)
    _check_extends(platform_db, database, tenant, position, private_key)
    signed_at = datetime.now(timezone.utc).isoformat()
    message = head_message(str(tenant.id), tenant.events_table, position, digest.hex(), signed_at)
    public = public_key_b64(private_key)
    head = SignedHead(str(tenant.id), tenant.events_table, position, digest.hex(), signed_at,
                      key_id(public), public, base64.b64encode(private_key.sign(message)).decode())
    with platform_db.connection() as conn:
        conn.execute("INSERT INTO platform.chain_heads (tenant_id, position, hash, signed_at, key_id,"
                     " public_key, signature) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                     (tenant.id, position, digest, signed_at, head.key_id, public, head.signature))
    return head


def latest_signed_head(platform_db: EventStoreDatabase, tenant: Tenant) -> dict[str, Any] | None:
    with platform_db.connection() as conn:
        return conn.execute("SELECT position, hash, signed_at, key_id, signature FROM platform.chain_heads"
                            " WHERE tenant_id = %s ORDER BY signed_at DESC LIMIT 1", (tenant.id,)).fetchone()


class HeadSigner:
    """Signs the head of every tenant whose chain moved since its last signed head.

    Run every HEAD_SIGN_SECONDS by the worker's scheduler (one worker at a
    time). Cheap when nothing changed: one read of the tenants' sequences per
    database; a tenant's table is read only when its sequence passed the
    position last signed (remembered here, read once per tenant)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._key: Any = None
        self._signed: dict[Any, int] = {}

    def run(self, platform_db: EventStoreDatabase, databases: dict[str, EventStoreDatabase],
            tenants: list[Tenant]) -> list[SignedHead]:
        if self._key is None:
            self._key = load_signing_key(self.settings)
        signed = []
        for key, database in databases.items():
            for tenant, last in database.issued_positions(t for t in tenants if t.database == key):
                if tenant.id not in self._signed:
                    head = latest_signed_head(platform_db, tenant)
                    self._signed[tenant.id] = head["position"] if head else -1
                if last <= self._signed[tenant.id]:
                    continue
                position, _ = head_of(database, tenant)
                if position == self._signed[tenant.id]:
                    continue  # the sequence ran ahead of the events (a failed write)
                try:
                    head = sign_head(platform_db, database, tenant, self._key)
                except HeadNotExtending as e:
                    # Not signed: the next run tries again and fails again until
                    # someone looks; `sroi verify` says what changed.
                    log.error("not signing the head of tenant %s: %s", tenant.id, e)
                    continue
                self._signed[tenant.id] = head.position
                signed.append(head)
        return signed


@dataclass
class VerifyReport:
    ok: bool
    events: int
    message: str
    bad_position: int | None = None
    # Events after the latest signed head (a database writer could still
    # rewrite or remove them without a trace until a head covers them).
    unsigned: int = 0
    # Verified, but something an auditor must look at (heads not being signed).
    warning: str | None = None


def _moment(value: Any) -> str:
    return value.astimezone(timezone.utc).isoformat() if isinstance(value, datetime) else str(value)


def _issued_position(database: EventStoreDatabase, tenant: Tenant) -> int:
    """The last position the tenant's sequence handed out (0 for none)."""
    with database.connection() as conn:
        row = conn.execute("SELECT last_value FROM pg_sequences WHERE schemaname = %s AND sequencename = %s",
                           (SCHEMA, f"{tenant.events_table}_notification_id_seq")).fetchone()
    return (row["last_value"] or 0) if row else 0


def verify_tenant(platform_db: EventStoreDatabase, database: EventStoreDatabase, tenant: Tenant,
                  progress: Callable[[int], None] | None = None, *, public_key: bytes | None = None,
                  sign_within: float | None = None, now: datetime | None = None) -> VerifyReport:
    """Recompute the tenant's chain (v1, then v2 with recorded_at from its
    recorded switch), check the latest signed head (its signature with
    `public_key`, its position and hash), and that the sequence handed out no
    position past the last event. `sign_within` (HEAD_SIGN_SECONDS): warn when
    events older than twice that (at least a minute) are not under a signed head."""
    verifier = ChainVerifier(tenant.events_table, database.chain_v2_from(tenant))
    head = latest_signed_head(platform_db, tenant)
    head_position = head["position"] if head else 0
    head_digest: bytes | None = None
    unsigned, oldest_unsigned = 0, None
    try:
        for row in _events(database, tenant):
            digest = verifier.add(row["notification_id"], row["originator_id"], row["originator_version"],
                                  row["topic"], bytes(row["state"]),
                                  bytes(row["chain_hash"]) if row["chain_hash"] is not None else None,
                                  row["recorded_at"])
            if row["notification_id"] == head_position:
                head_digest = digest
            elif row["notification_id"] > head_position:
                unsigned += 1
                oldest_unsigned = oldest_unsigned or row["recorded_at"]
            if progress:
                progress(1)
    except ChainBreak as e:
        return VerifyReport(False, verifier.count, str(e), e.position)
    if head is not None and public_key is not None:
        message = head_message(str(tenant.id), tenant.events_table, head["position"], bytes(head["hash"]).hex(),
                               _moment(head["signed_at"]))
        if not verify_signature(public_key, message, base64.b64decode(head["signature"])):
            return VerifyReport(False, verifier.count,
                                f"the latest head (position {head['position']}, signed at {_moment(head['signed_at'])})"
                                " does not verify with the platform's public key: the signed heads were altered",
                                head["position"])
    if head is not None and head_position > 0:
        if head_digest is None:
            return VerifyReport(False, verifier.count,
                                f"the head signed at {_moment(head['signed_at'])} is position {head_position}, "
                                f"which is no longer in the chain (events removed)",
                                min(head_position, verifier.last_position + 1))
        if head_digest != bytes(head["hash"]):
            return VerifyReport(False, verifier.count, "the chain differs from the signed head at position "
                                f"{head_position}", head_position)
    issued = _issued_position(database, tenant)
    if issued > verifier.last_position:
        return VerifyReport(False, verifier.count,
                            f"positions up to {issued} were handed out but the events end at "
                            f"{verifier.last_position}: events were removed from the end (or the database "
                            "crashed after handing them out; a new write clears that)",
                            verifier.last_position + 1, unsigned)
    signed = (f"; matches the head signed at {_moment(head['signed_at'])} (position {head_position})"
              if head else "; no signed head yet")
    pending = (f"; {unsigned} event{'s' if unsigned != 1 else ''} not yet under a signed head" if unsigned
               else "; every event is under it")
    warning = None
    if unsigned and sign_within is not None:
        limit = max(2 * sign_within, 60.0)
        age = ((now or datetime.now(timezone.utc)) - oldest_unsigned).total_seconds()
        if age > limit:
            warning = (f"{unsigned} events are not under a signed head, the oldest recorded {age:.0f} s ago "
                       f"(heads are due within {sign_within:.0f} s): no worker is signing heads, or signed "
                       "heads were removed")
    if verifier.v2_from is None:
        warning = (warning + "; " if warning else "") + ("this tenant's chain has no v2 switch: recorded_at is "
                                                         "not covered (run `sroi migrate`)")
    return VerifyReport(True, verifier.count, f"{verifier.count} events, chain intact{signed}{pending}",
                        unsigned=unsigned, warning=warning)


def export_tenant(platform_db: EventStoreDatabase, database: EventStoreDatabase, tenant: Tenant,
                  private_key: Any, out: Path, progress: Callable[[int], None] | None = None) -> SignedHead:
    """JSON Lines: header, every event (stored bytes, hash, recorded_at, a readable
    copy of its metadata), then a freshly signed head (HeadNotExtending if the
    chain no longer extends the last signed head).

    The head is signed first and the events are written up to its position, so
    events committed during the export do not make it inconsistent."""
    head = sign_head(platform_db, database, tenant, private_key)
    tmp = out.with_suffix(out.suffix + ".part")
    with tmp.open("w") as fh:
        fh.write(json.dumps({
            "type": "header", "format": EXPORT_FORMAT,
            "tenant": {"id": str(tenant.id), "slug": tenant.slug, "name": tenant.name},
            "events_table": tenant.events_table, "genesis": genesis(tenant.events_table).hex(),
            # From this position on, each hash covers recorded_at too (infra/chain.py).
            "chain": {"v2_from": database.chain_v2_from(tenant)},
            "exported_at": datetime.now(timezone.utc).isoformat(),
        }) + "\n")
        for row in _events(database, tenant):
            if row["notification_id"] > head.position:
                break
            state = bytes(row["state"])
            fh.write(json.dumps({
                "type": "event", "position": row["notification_id"],
                "originator_id": str(row["originator_id"]), "version": row["originator_version"],
                "topic": row["topic"], "recorded_at": _moment(row["recorded_at"]) if row["recorded_at"] else None,
                # A readable copy of what the state holds; verify-export checks it against the state.
                "metadata": readable_metadata(state), "state": base64.b64encode(state).decode(),
                "hash": bytes(row["chain_hash"]).hex() if row["chain_hash"] is not None else None,
            }, default=str) + "\n")
            if progress:
                progress(1)
        fh.write(json.dumps(head.as_record()) + "\n")
    tmp.replace(out)
    return head


def count_events(database: EventStoreDatabase, tenant: Tenant) -> int:
    with database.connection() as conn:
        return conn.execute(sql.SQL("SELECT count(*) AS n FROM {}.{}").format(
            sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))).fetchone()["n"]
