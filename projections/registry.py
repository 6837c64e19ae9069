"""Which projections exist, and which tenants are behind on them."""
from __future__ import annotations

from uuid import UUID

from infra.bootstrap import System
from projections.compliance import ComplianceProjection
from projections.directory import DirectoryProjection
from projections.engine import RM, migrate
from projections.retention import RetentionProjection
from projections.matching import MatchingProjection
from projections.duties import DutiesProjection
from projections.support import SupportProjection

PROJECTIONS = (ComplianceProjection(), RetentionProjection(), DirectoryProjection(), MatchingProjection(),
               DutiesProjection(), SupportProjection())
BY_NAME = {p.name: p for p in PROJECTIONS}
QUEUE = "projections"
RETRY_BUSY_MS = 100


def migrate_read_models(system: System) -> None:
    for database in system.stores.databases.values():
        migrate(database, PROJECTIONS)


def behind_tenants(system: System) -> list[UUID]:
    """Tenants with events past some projection's live position.

    The tenant's notification sequence tells cheaply which tenants may have
    news (its last value can run ahead of stored events after a rolled-back
    insert); those are checked against the table's real maximum.
    """
    behind: list[UUID] = []
    tenants = [t for t in system.registry.list_tenants() if t.is_active]
    names = [p.name for p in PROJECTIONS]
    for key, database in system.stores.databases.items():
        mine = {f"{t.events_table}_notification_id_seq": t for t in tenants if t.database == key}
        if not mine:
            continue
        with database.connection() as conn:
            heads = {r["sequencename"]: r["last_value"] for r in conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'events'"
                " AND last_value IS NOT NULL").fetchall()}
            tracked: dict[UUID, int] = {}
            for r in conn.execute(
                    f"SELECT l.tenant_id, min(t.position) AS position, count(*) AS n FROM {RM}.live l"
                    f" JOIN {RM}.tracking t ON t.projection = l.projection AND t.tenant_id = l.tenant_id"
                    " AND t.gen = l.gen WHERE l.projection = ANY(%s) GROUP BY l.tenant_id",
                    (names,)).fetchall():
                tracked[r["tenant_id"]] = r["position"] if r["n"] == len(names) else 0
            for seq, head in heads.items():
                tenant = mine.get(seq)
                if tenant is None or head <= tracked.get(tenant.id, 0):
                    continue
                real = conn.execute(f'SELECT max(notification_id) AS m FROM events."{tenant.events_table}"'
                                    ).fetchone()["m"] or 0
                if real > tracked.get(tenant.id, 0):
                    behind.append(tenant.id)
    return behind


def outdated_generations(system: System) -> list[tuple[UUID, str]]:
    """(tenant, projection) pairs whose live generation an older version of
    the projection built: the worker rebuilds them (see Projection.version)."""
    found: list[tuple[UUID, str]] = []
    active = {t.id for t in system.registry.list_tenants() if t.is_active}
    for database in system.stores.databases.values():
        with database.connection() as conn:
            for r in conn.execute(
                    f"SELECT l.tenant_id, l.projection FROM {RM}.live l"
                    " JOIN unnest(%s::text[], %s::int[]) AS p(name, version) ON p.name = l.projection"
                    " WHERE l.version < p.version ORDER BY l.tenant_id, l.projection",
                    ([p.name for p in PROJECTIONS], [p.version for p in PROJECTIONS])).fetchall():
                if r["tenant_id"] in active:
                    found.append((r["tenant_id"], r["projection"]))
    return found
