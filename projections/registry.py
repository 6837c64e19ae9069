"""Which projections exist, and which tenants are behind on them.

The questions take what they need and nothing more: the tenants (from the
tenant registry) and the tenant stores (their databases by key). The
composition root (infra/bootstrap.py) migrates the read models; the entry
points (infra/actors.py, infra/cli.py, web/app.py's /ready) ask here.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from infra.eventstore import Tenant, TenantStores
from projections.base import RM
from projections.compliance import ComplianceProjection
from projections.directory import DirectoryProjection
from projections.duties import DutiesProjection
from projections.impact import ImpactProjection
from projections.listing import ListingProjection
from projections.matching import MatchingProjection
from projections.notices import NoticesProjection
from projections.portfolio import PortfolioProjection
from projections.progression import ProgressionProjection
from projections.retention import RetentionProjection
from projections.shared import SharedProjection
from projections.support import SupportProjection
from projections.voice import VoiceProjection
from projections.writer import FAILURE_COLUMNS, LIVE, REBUILD, Failure, failure_from_row

PROJECTIONS = (ComplianceProjection(), RetentionProjection(), DirectoryProjection(), MatchingProjection(),
               DutiesProjection(), SupportProjection(), SharedProjection(), PortfolioProjection(),
               NoticesProjection(), ListingProjection(), ProgressionProjection(), VoiceProjection(),
               ImpactProjection())
BY_NAME = {p.name: p for p in PROJECTIONS}
QUEUE = "projections"
# The sweep's catch-up messages (tenants found behind: after a lost message,
# or a backlog after the workers were away) have a queue of their own, so a
# command's own message ("projections") is never behind them: read-your-writes
# stays prompt while a backlog drains.
CATCH_UP_QUEUE = "projections-catch-up"
RETRY_BUSY_MS = 100
# How long the sweep's catch-up message for a tenant counts as on its way:
# every worker's sweep (each every few seconds) sends no other for the tenant
# until a catch-up of it ends, or this long if none does (the message was lost,
# its worker died). Without it a tenant slow to catch up got a message per
# sweep, each one finding it busy and sending itself again.
CATCH_UP_LEASE_S = 60
NOTHING_DUE = 2**63 - 1


def _tracked_query(one_tenant: bool) -> str:
    """Per tenant: how many projections have a live generation, and the
    lowest position among those not backing off (NULL: all backing off)."""
    return (f"SELECT l.tenant_id, count(*) AS n, min(t.position) FILTER"
            " (WHERE f.next_retry_at IS NULL OR f.next_retry_at <= now()) AS position"
            f" FROM {RM}.live l JOIN {RM}.tracking t ON t.projection = l.projection"
            " AND t.tenant_id = l.tenant_id AND t.gen = l.gen"
            f" LEFT JOIN {RM}.failures f ON f.projection = l.projection AND f.tenant_id = l.tenant_id"
            f" AND f.stage = '{LIVE}' WHERE l.projection = ANY(%s)"
            + (" AND l.tenant_id = %s" if one_tenant else "") + " GROUP BY l.tenant_id")


def _tracked_position(row: Any, names: list[str]) -> int:
    if row["n"] < len(names):
        return 0  # a projection without a live generation: everything is news to it
    return NOTHING_DUE if row["position"] is None else row["position"]  # None: every one backing off


def behind_tenants(tenants: Iterable[Tenant], stores: TenantStores) -> list[UUID]:
    """Tenants with events past some projection's live position.

    The tenant's notification sequence tells cheaply which tenants may have
    news (its last value can run ahead of stored events after a rolled-back
    insert); those are checked against the table's real maximum. A projection
    backing off after a failure does not count as behind until its next
    retry time (every worker's sweep reads the same `rm.failures`).
    """
    behind: list[UUID] = []
    tenants = [t for t in tenants if t.is_active]
    names = [p.name for p in PROJECTIONS]
    for key, database in stores.databases.items():
        mine = [t for t in tenants if t.database == key]
        if not mine:
            continue
        with database.connection() as conn:
            heads = database.issued_positions(mine, conn)
            tracked = {r["tenant_id"]: _tracked_position(r, names)
                       for r in conn.execute(_tracked_query(False), (names,)).fetchall()}
            for tenant, head in heads:
                if head <= tracked.get(tenant.id, 0):
                    continue
                real = conn.execute(f'SELECT max(notification_id) AS m FROM events."{tenant.events_table}"'
                                    ).fetchone()["m"] or 0
                if real > tracked.get(tenant.id, 0):
                    behind.append(tenant.id)
    return behind


def claim_catch_ups(behind: list[UUID], tenants: Iterable[Tenant], stores: TenantStores,
                    lease_s: float = CATCH_UP_LEASE_S) -> list[UUID]:
    """Of these tenants found behind, those the sweep sends a catch-up for
    now: the ones without one on its way (`rm.catch_ups`, one statement per
    database, so two workers' sweeps never both send for a tenant)."""
    database_of = {t.id: t.database for t in tenants}
    claimed: set[UUID] = set()
    for key, database in stores.databases.items():
        mine = [i for i in behind if database_of.get(i) == key]
        if not mine:
            continue
        with database.connection() as conn:
            claimed.update(r["tenant_id"] for r in conn.execute(
                f"INSERT INTO {RM}.catch_ups (tenant_id, until)"
                " SELECT unnest(%s::uuid[]), now() + make_interval(secs => %s)"
                f" ON CONFLICT (tenant_id) DO UPDATE SET until = excluded.until WHERE {RM}.catch_ups.until <= now()"
                " RETURNING tenant_id", (mine, lease_s)).fetchall())
    return [i for i in behind if i in claimed]


def catch_up_ended(tenant: Tenant, stores: TenantStores) -> None:
    """A catch-up of the tenant ended (whichever message asked for it): the
    next sweep may send one again if the tenant is still behind."""
    with stores.database(tenant.database).connection() as conn:
        conn.execute(f"DELETE FROM {RM}.catch_ups WHERE tenant_id = %s", (tenant.id,))


def tenant_behind(tenant: Tenant, stores: TenantStores) -> bool:
    """Whether some projection of this one tenant has news (as
    `behind_tenants` decides), in two indexed queries: a worker asks before
    running every projection, so a message that arrives after its tenant was
    caught up (a backlog of them, after the workers were away) costs little."""
    names = [p.name for p in PROJECTIONS]
    with stores.database(tenant.database).connection() as conn:
        row = conn.execute(_tracked_query(True), (names, tenant.id)).fetchone()
        tracked = 0 if row is None else _tracked_position(row, names)
        real = conn.execute(f'SELECT max(notification_id) AS m FROM events."{tenant.events_table}"'
                            ).fetchone()["m"] or 0
    return real > tracked


def outdated_generations(tenants: Iterable[Tenant], stores: TenantStores) -> list[tuple[UUID, str]]:
    """(tenant, projection) pairs whose live generation an older version of
    the projection built: the worker rebuilds them (see Projection.version),
    except while an earlier rebuild's failure is backing off."""
    found: list[tuple[UUID, str]] = []
    # A tenant's rows count only on the database the registry places it on
    # (not a copy `sroi tenant move` is making or left).
    active = {(t.database, t.id) for t in tenants if t.is_active}
    for key, database in stores.databases.items():
        with database.connection() as conn:
            for r in conn.execute(
                    f"SELECT l.tenant_id, l.projection FROM {RM}.live l"
                    " JOIN unnest(%s::text[], %s::int[]) AS p(name, version) ON p.name = l.projection"
                    " WHERE l.version < p.version AND NOT EXISTS (SELECT 1 FROM"
                    f" {RM}.failures f WHERE f.projection = l.projection AND f.tenant_id = l.tenant_id"
                    f" AND f.stage = '{REBUILD}' AND f.next_retry_at > now())"
                    " ORDER BY l.tenant_id, l.projection",
                    ([p.name for p in PROJECTIONS], [p.version for p in PROJECTIONS])).fetchall():
                if (key, r["tenant_id"]) in active:
                    found.append((r["tenant_id"], r["projection"]))
    return found


def failures(tenants: Iterable[Tenant], stores: TenantStores) -> list[Failure]:
    """Every recorded projection failure of an active tenant, in every database."""
    found: list[tuple[str, Failure]] = []
    for key, database in stores.databases.items():
        with database.connection() as conn:
            found += [(key, failure_from_row(r)) for r in conn.execute(
                f"SELECT {FAILURE_COLUMNS} FROM {RM}.failures ORDER BY projection, tenant_id, stage").fetchall()]
    if not found:
        return []
    # On the database the registry places the tenant on (not a copy a move is making).
    active = {(t.database, t.id) for t in tenants if t.is_active}
    return [f for key, f in found if (key, f.tenant_id) in active]


def failing_projections(tenants: Iterable[Tenant], stores: TenantStores) -> dict[str, int]:
    """How many (active) tenants each projection is stuck on: live read models
    not advancing. No tenant is named (for `/ready`)."""
    counts: dict[str, int] = {}
    for f in failures(tenants, stores):
        if f.stage == LIVE:
            counts[f.projection] = counts.get(f.projection, 0) + 1
    return dict(sorted(counts.items()))
