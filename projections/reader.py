"""The read side of the projections: what web pages, the API and the CLI use
to read read models, never to write them.

- `live_gen_sql` / `reading`: queries read the live generation (or, inside
  `reading(..., gen=)`, an as-of generation) in one repeatable-read snapshot,
  so a rebuild's switch is never half-seen;
- the figure cache (`cached_figures`): figures computed once per position;
- positions (`live_positions`, `wait_for_position`): read your own writes
  after a command, bounded; `positions` and `position_known_at` for the CLI
  and the as-of pages (psycopg).

Mostly asynchronous (asyncpg, the web's pool); the writer (projections/
writer.py) is synchronous and lives in the worker.
"""
from __future__ import annotations

import asyncio
import copy
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from psycopg import sql

from infra.eventstore import EventStoreDatabase, Tenant
from infra.registry import tenants_by_id_async
from projections.base import RM


# Which database a read asks (web/pools.py): a tenant read asks the pool
# itself (the database of the tenant the request acts in), a platform read
# `platform_pool(pool)`, a read across tenants `each_database(pool)` and then
# `tenants_listed` for the tenants' names: no statement joins a platform table
# with a tenant's read model.

def platform_pool(pool: Any) -> Any:
    """The platform's database (users, organisations, the registry's tenants):
    a request's routed pool knows it; a plain pool (a test) is that database."""
    return getattr(pool, "platform", pool)


def each_database(pool: Any) -> list[tuple[str, Any]]:
    """(database key, pool) for each database a read across tenants asks: a
    request's routed pool knows every database's; a plain pool is one, the default."""
    databases = getattr(pool, "databases", None)
    return list(databases.items()) if databases else [("default", pool)]


async def tenants_listed(pool: Any, found: Iterable[tuple[str, UUID]]) -> dict[UUID, Tenant]:
    """The tenants of rows read across databases, from the platform's registry:
    given (database key, tenant id) of each row, the tenants whose rows count,
    those on the database the registry places them (a tenant's copy left on
    another database, as while `sroi tenant move` copies it, is not theirs)."""
    found = set(found)
    if not found:
        return {}
    tenants = await tenants_by_id_async(platform_pool(pool), {tenant_id for _, tenant_id in found})
    return {t.id: t for t in tenants.values() if (t.database, t.id) in found}


async def across_databases(pool: Any, query: str, *args: Any) -> tuple[list[Any], dict[UUID, Tenant]]:
    """A read across tenants: the rows of the query (a `tenant_id` column) on
    every database, those of tenants the registry places there, and those
    tenants. The caller orders them (each database's order is its own)."""
    found = [(key, row) for key, database in each_database(pool) for row in await database.fetch(query, *args)]
    tenants = await tenants_listed(pool, {(key, row["tenant_id"]) for key, row in found})
    return [row for key, row in found if row["tenant_id"] in tenants and tenants[row["tenant_id"]].database == key], \
        tenants


def live_gen_sql(projection: str) -> str:
    """The generation a query reads: the live one, unless the transaction set
    `sroi.gen_<projection>` (an as-of replay, see ProjectionRunner.as_of)."""
    return (f"coalesce(nullif(current_setting('sroi.gen_{projection}', true), '')::int,"
            f" (SELECT gen FROM {RM}.live WHERE projection = '{projection}' AND tenant_id = $1))")


def as_of_setting(projection: str) -> str:
    return f"sroi.gen_{projection}"


@asynccontextmanager
async def reading(pool: Any, projection: str, gen: int | None = None) -> AsyncIterator[Any]:
    """A read-only snapshot on one connection: every query of a figure sees the
    same moment (a rebuild's switch is never half-seen); with `gen`, the
    queries read that (as-of) generation instead of the live one."""
    async with pool.acquire() as conn:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            if gen is not None:
                await conn.execute("SELECT set_config($1, $2, true)", as_of_setting(projection), str(gen))
            yield conn


# Figures read from a generation at a given position are the same until that
# generation moves on (tracking and rows commit together, and a read runs in
# one repeatable-read snapshot): a summary over 10,000 placements need not be
# computed again for every view of a page while nothing has changed. Per
# process, keyed by (projection, tenant, generation, position, arguments).
FIGURE_CACHE_SIZE = 256
_figures: OrderedDict[tuple, Any] = OrderedDict()
_POSITION_SQL = (f"SELECT gen, position FROM {RM}.tracking WHERE projection = $1 AND tenant_id = $2"
                 f" AND gen = coalesce(nullif(current_setting('sroi.gen_' || $1, true), '')::int,"
                 f" (SELECT gen FROM {RM}.live WHERE projection = $1 AND tenant_id = $2))")


def forget_figures() -> None:
    """Empty the figure cache (tests that change read-model rows behind the projector's back)."""
    _figures.clear()


async def cached_figures(conn: Any, projection: str, tenant_id: UUID, arguments: tuple,
                         compute: Callable[[Any], Awaitable[Any]]) -> Any:
    """`compute(conn)`, or what it gave for the same arguments at the same
    position of the generation this snapshot reads (a copy: callers may change it)."""
    at = await conn.fetchrow(_POSITION_SQL, projection, tenant_id)
    if at is None:
        return await compute(conn)
    key = (projection, tenant_id, at["gen"], at["position"], arguments)
    found = _figures.get(key)
    if found is None:
        found = _figures[key] = await compute(conn)
        while len(_figures) > FIGURE_CACHE_SIZE:
            _figures.popitem(last=False)
    else:
        _figures.move_to_end(key)
    return copy.deepcopy(found)


POSITIONS_SQL = f"""
SELECT l.projection, t.position FROM {RM}.live l
JOIN {RM}.tracking t ON t.projection = l.projection AND t.tenant_id = l.tenant_id AND t.gen = l.gen
WHERE l.tenant_id = {{tenant}} AND l.projection = ANY({{names}})
"""


def _by_name(rows: Iterable[Any], names: Sequence[str]) -> dict[str, int]:
    found = {r["projection"]: r["position"] for r in rows}
    return {n: found.get(n, 0) for n in names}


def positions(conn: Any, tenant: Tenant, names: Sequence[str]) -> dict[str, int]:
    """The live tracking position of each named projection (0 if never run)."""
    rows = conn.execute(POSITIONS_SQL.format(tenant="%s", names="%s"), (tenant.id, list(names))).fetchall()
    return _by_name(rows, names)


KNOWN_AT_SQL = """SELECT coalesce(max(notification_id), 0) AS position FROM events.{table}
WHERE recorded_at <= %s"""


def position_known_at(database: EventStoreDatabase, tenant: Tenant, known_at: Any) -> int:
    """The tenant's last position recorded at or before `known_at` (commit order:
    the insert function stamps clock_timestamp() under the tenant's write lock)."""
    with database.connection() as conn:
        return conn.execute(sql.SQL(KNOWN_AT_SQL).format(table=sql.Identifier(tenant.events_table)),
                            (known_at,)).fetchone()["position"]


async def live_positions(pool: Any, tenant_id: UUID, names: Sequence[str]) -> dict[str, int]:
    rows = await pool.fetch(POSITIONS_SQL.format(tenant="$1", names="$2::text[]"), tenant_id, list(names))
    return _by_name(rows, names)


async def wait_for_position(pool: Any, tenant_id: UUID, names: Sequence[str], position: int,
                            timeout: float = 2.0, poll: float = 0.01) -> bool:
    """Read your own writes: wait (bounded) until the named projections of the
    tenant reached `position` (X-Event-Position of a command). True if they did."""
    deadline = time.monotonic() + timeout
    while True:
        current = await live_positions(pool, tenant_id, names)
        if min(current.values(), default=0) >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll)
