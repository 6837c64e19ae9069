"""Moving a tenant to another database: `sroi tenant move SLUG --to KEY`.

Everything of the tenant on its database is copied to the target: its events
table (every row as stored: positions, chain hashes, recorded_at; the
sequence set to the last position), its chain switch (`events.chain_versions`)
and insert functions, and its rows of every `events` table with a `tenant_id`
column (idempotency keys, personal-data keys, erasures, the access log,
documents; found by that column, so a table added later moves too). The
platform's rows (registry, users, signed heads) stay where they are. Then:

1. copy (the tenant writable): everything, in one repeatable-read snapshot
   of the source; the read models built on the target by the worker's own
   projections (`project`);
2. switch (the tenant read-only, for as long as the last events take): on
   the source, the tenant's write lock (`LOCK TABLE ... IN EXCLUSIVE MODE`,
   the lock every insert takes) and a trigger that refuses every insert
   from then on with SQLSTATE `SRM01` (the web answers 503 with
   Retry-After: nothing was stored, send it again); what came after the
   snapshot is copied; the target's chain is verified (infra/audit.py, as
   `sroi verify`) and every count compared with the source's; the read
   models caught up; the refusal committed, then the registry entry
   switched. A write that waited for the lock meets the refusal, never a
   copy that is no longer read;
3. cleanup: after `GRACE_SECONDS` (every process's cached view of the
   registry has expired; requests that read it before the switch finish,
   their writes refused), the access-log rows written meanwhile are
   copied and the source copy removed (table, functions, rows, read models).
   A directory document store (`DOCUMENT_STORE=directory:`) is one folder
   for every database: its files stay.

A move that fails before the switch leaves the tenant as it was, on the
source and writable (the refusal is rolled back with the lock); what it
copied to the target is removed (or, if the target cannot be reached, by
the next attempt, which starts by clearing the target; meanwhile reads
across databases count a tenant's rows only from the database the registry
names). Run again, a move
that is done only clears what is left of the tenant on other databases.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from infra import audit
from infra.eventstore import MOVING_SQLSTATE, SCHEMA, EventStoreDatabase, Tenant, TenantStores
from infra.registry import REGISTRY_CACHE_SECONDS, TenantRegistry

log = logging.getLogger("sroi.move")

# How long the source copy is kept, refusing writes, after the registry
# switched: until every process's cached view of the registry (the worker's
# tenants, the pages' viewers) names the target.
GRACE_SECONDS = REGISTRY_CACHE_SECONDS + 2.0
BATCH = 1000
# Tables whose rows are copied apart (the events table has no tenant_id column).
_INCREMENTAL = "access_log"  # an append-only log with an id of each database's own
_DIFFED = "documents"  # large rows, never changed: only those missing are copied


class MoveFailed(RuntimeError):
    """The move stopped; the tenant is where it was, writable."""


@dataclass
class MoveReport:
    tenant: Tenant
    source: str
    events: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    already: bool = False
    removed_from: list[str] = field(default_factory=list)


def _ident(*names: str) -> sql.Composable:
    return sql.SQL(".").join(sql.Identifier(n) for n in names)


def _tenant_tables(conn: Any) -> list[str]:
    """The `events` tables with a tenant_id column, by name."""
    rows = conn.execute("SELECT table_name FROM information_schema.columns WHERE table_schema = %s"
                        " AND column_name = 'tenant_id' ORDER BY table_name", (SCHEMA,)).fetchall()
    return [r["table_name"] for r in rows]


def _columns(conn: Any, table: str) -> list[tuple[str, str]]:
    """(name, type) of the table's columns, in order."""
    rows = conn.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s"
                        " AND table_name = %s ORDER BY ordinal_position", (SCHEMA, table)).fetchall()
    return [(r["column_name"], r["data_type"]) for r in rows]


def _names(columns: list[tuple[str, str]]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns)


def _insert(conn: Any, table: str, columns: list[tuple[str, str]], rows: list[Any]) -> None:
    """The rows as read (dict rows), into the same columns of the target's table."""
    if not rows:
        return
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        _ident(SCHEMA, table), _names(columns), sql.SQL(", ").join(sql.Placeholder() * len(columns)))

    def value(row: Any, name: str, kind: str) -> Any:
        found = row[name]
        return Jsonb(found) if kind in ("json", "jsonb") and found is not None else found

    with conn.cursor() as cur:
        cur.executemany(statement, [tuple(value(r, name, kind) for name, kind in columns) for r in rows])


def _stream(conn: Any, query: sql.Composable, params: tuple, key: str, after: Any) -> Iterator[list[Any]]:
    """Batches of a query ordered by `key`, from after `after` (a keyset walk)."""
    while True:
        rows = conn.execute(query, (*params, after, BATCH)).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][key]


class _Copy:
    """The state of one move's copy to the target: what was copied so far."""

    def __init__(self, tenant: Tenant, source: EventStoreDatabase, target: EventStoreDatabase, rm_schema: str):
        self.tenant, self.source, self.target, self.rm_schema = tenant, source, target, rm_schema
        self.table = tenant.events_table
        self.last_position = 0
        self.last_access_id = 0

    # -- the target -----------------------------------------------------------
    def clear(self, database: EventStoreDatabase) -> None:
        """Remove everything of the tenant on `database` (a leftover copy; the source after the switch).
        Each step its own transaction: a projector still reading there waits, never deadlocks."""
        with database.connection() as conn:
            with conn.transaction():
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(_ident(SCHEMA, self.table)))
                for r in conn.execute("SELECT p.oid::regprocedure::text AS fn FROM pg_proc p JOIN pg_namespace n"
                                      " ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = ANY(%s)",
                                      (SCHEMA, [f"{self.table}_insert", f"{self.table}_insert1"])).fetchall():
                    conn.execute(sql.SQL("DROP FUNCTION IF EXISTS " + r["fn"]))
                conn.execute(sql.SQL("DELETE FROM {} WHERE events_table = %s").format(
                    _ident(SCHEMA, "chain_versions")), (self.table,))
            for table in _tenant_tables(conn):
                conn.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(_ident(SCHEMA, table)),
                             (self.tenant.id,))
            for r in conn.execute("SELECT table_name FROM information_schema.columns WHERE table_schema = %s"
                                  " AND column_name = 'tenant_id' ORDER BY table_name", (self.rm_schema,)).fetchall():
                conn.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(
                    _ident(self.rm_schema, r["table_name"])), (self.tenant.id,))

    def prepare(self, src: Any) -> None:
        """The target's events table and insert functions, under the source's chain switch."""
        switch = src.execute(sql.SQL("SELECT * FROM {} WHERE events_table = %s ORDER BY version").format(
            _ident(SCHEMA, "chain_versions")), (self.table,)).fetchall()
        if self.source.hash_chain and not any(r["version"] == 2 for r in switch):
            raise MoveFailed("the tenant's chain has no recorded switch: run `sroi migrate` first")
        with self.target.connection() as conn, conn.transaction():
            _insert(conn, "chain_versions", _columns(conn, "chain_versions"), switch)
        self.target.create_tenant_tables(replace(self.tenant))  # the switch copied first: kept, not started anew

    # -- copying ---------------------------------------------------------------
    def events(self, src: Any) -> int:
        """The events after the last one copied, as stored; the target's sequence after them."""
        columns = _columns(src, self.table)
        query = sql.SQL("SELECT {} FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s").format(
            _names(columns), _ident(SCHEMA, self.table))
        copied = 0
        with self.target.connection() as conn:
            for rows in _stream(src, query, (), "notification_id", self.last_position):
                with conn.transaction():
                    _insert(conn, self.table, columns, rows)
                copied += len(rows)
                self.last_position = rows[-1]["notification_id"]
            if self.last_position:
                conn.execute("SELECT setval(%s, %s, true)",
                             (f"{SCHEMA}.{self.table}_notification_id_seq", self.last_position))
        return copied

    def rows(self, src: Any) -> None:
        """The tenant's rows of every other `events` table, as on the source now."""
        for table in _tenant_tables(src):
            columns = _columns(src, table)
            if table == _INCREMENTAL:
                self.access_log(src)
                continue
            with self.target.connection() as conn, conn.transaction():
                if table == _DIFFED:
                    have = {r["document_id"] for r in conn.execute(
                        "SELECT document_id FROM events.documents WHERE tenant_id = %s", (self.tenant.id,))}
                    there = {r["document_id"] for r in src.execute(
                        "SELECT document_id FROM events.documents WHERE tenant_id = %s", (self.tenant.id,))}
                    conn.execute("DELETE FROM events.documents WHERE tenant_id = %s AND document_id = ANY(%s)",
                                 (self.tenant.id, list(have - there)))
                    for missing in _chunks(sorted(there - have), 50):
                        _insert(conn, table, columns, src.execute(
                            "SELECT * FROM events.documents WHERE tenant_id = %s AND document_id = ANY(%s)",
                            (self.tenant.id, missing)).fetchall())
                    continue
                # Small tables, changed in place (a key deleted on erasure): as they are now.
                conn.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(_ident(SCHEMA, table)),
                             (self.tenant.id,))
                _insert(conn, table, columns, src.execute(sql.SQL("SELECT * FROM {} WHERE tenant_id = %s").format(
                    _ident(SCHEMA, table)), (self.tenant.id,)).fetchall())

    def access_log(self, src: Any) -> None:
        """The access log's rows after the last copied (its ids are each database's own: new ones)."""
        kept = [c for c in _columns(src, _INCREMENTAL) if c[0] != "id"]
        query = sql.SQL("SELECT * FROM {} WHERE tenant_id = %s AND id > %s ORDER BY id LIMIT %s").format(
            _ident(SCHEMA, _INCREMENTAL))
        with self.target.connection() as conn:
            for rows in _stream(src, query, (self.tenant.id,), "id", self.last_access_id):
                with conn.transaction():
                    _insert(conn, _INCREMENTAL, kept, rows)
                self.last_access_id = rows[-1]["id"]

    def counts(self, conn: Any) -> dict[str, int]:
        """Events and each table's rows of the tenant on a connection's database."""
        found = {"events": conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(
            _ident(SCHEMA, self.table))).fetchone()["n"]}
        for table in _tenant_tables(conn):
            found[table] = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE tenant_id = %s").format(
                _ident(SCHEMA, table)), (self.tenant.id,)).fetchone()["n"]
        return found


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@contextmanager
def refusing_writes(source: EventStoreDatabase, tenant: Tenant) -> Iterator[Any]:
    """A transaction on the source holding the tenant's write lock, with the
    trigger that refuses its inserts: committed on leaving, rolled back (the
    tenant writable again) if the block raises."""
    table = _ident(SCHEMA, tenant.events_table)
    with source.connection() as conn, conn.transaction():
        # One snapshot for the whole switch, taken after the lock (PostgreSQL
        # freezes it at the first query, not at LOCK): the rows copied and the
        # counts compared are the same. A personal-data key is created in its
        # own transaction before its command's events; one created while the
        # switch runs belongs to a command the trigger refuses, and stays
        # behind with the source copy.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        conn.execute(sql.SQL(
            "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'the tenant is moving to another database' USING ERRCODE = '" + MOVING_SQLSTATE
            + "'; END $$").format(_ident(SCHEMA, "tenant_moving")))
        conn.execute(sql.SQL("DROP TRIGGER IF EXISTS tenant_moving ON {}").format(table))
        conn.execute(sql.SQL("CREATE TRIGGER tenant_moving BEFORE INSERT ON {} FOR EACH STATEMENT"
                             " EXECUTE FUNCTION {}()").format(table, _ident(SCHEMA, "tenant_moving")))
        yield conn


def _writable(database: EventStoreDatabase, tenant: Tenant) -> None:
    """Take back a refusal an interrupted move left (the tenant writable where it is)."""
    with database.connection() as conn:
        if conn.execute("SELECT to_regclass(%s) AS t", (f"{SCHEMA}.{tenant.events_table}",)).fetchone()["t"]:
            conn.execute(sql.SQL("DROP TRIGGER IF EXISTS tenant_moving ON {}").format(
                _ident(SCHEMA, tenant.events_table)))


def _verify(platform: EventStoreDatabase, target: EventStoreDatabase, tenant: Tenant) -> None:
    report = audit.verify_tenant(platform, target, tenant)
    if not report.ok:
        raise MoveFailed(f"the chain does not verify on the target, at position {report.bad_position}:"
                         f" {report.message}")


def move_tenant(registry: TenantRegistry, stores: TenantStores, slug: str, to: str,
                project: Callable[[EventStoreDatabase, Tenant], None], *, rm_schema: str,
                grace: float = GRACE_SECONDS, say: Callable[[str], None] = log.info) -> MoveReport:
    """Move the tenant to database `to` (see the module's text). `project`
    builds or catches up the tenant's read models on a database (the worker's
    projections); `say` reports each step. One move of a tenant at a time
    (an advisory lock on the platform's database, held while it runs)."""
    tenant = registry.tenant_by_slug(slug)
    target = stores.database(to)  # LookupError: not configured
    with registry.db.connection() as conn:
        if not conn.execute("SELECT pg_try_advisory_lock(hashtext('sroi tenant move'), hashtext(%s)) AS ok",
                            (str(tenant.id),)).fetchone()["ok"]:
            raise MoveFailed(f"another move of tenant {slug!r} is running")
        try:
            return _move(registry, stores, tenant, to, target, project, rm_schema, grace, say)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('sroi tenant move'), hashtext(%s))", (str(tenant.id),))


def _move(registry: TenantRegistry, stores: TenantStores, tenant: Tenant, to: str, target: EventStoreDatabase,
          project: Callable[[EventStoreDatabase, Tenant], None], rm_schema: str, grace: float,
          say: Callable[[str], None]) -> MoveReport:
    tenant = registry.tenant_by_id(tenant.id)  # as the registry names it now, under the lock
    slug = tenant.slug
    source_key = tenant.database
    if source_key == to:
        report = MoveReport(tenant=tenant, source=source_key, already=True)
        _writable(target, tenant)
        for key, database in stores.databases.items():
            if key != to and _holds(database, tenant):
                _Copy(tenant, database, target, rm_schema).clear(database)
                report.removed_from.append(key)
        return report
    source = stores.database(source_key)
    moved = replace(tenant, database=to)
    copy = _Copy(moved, source, target, rm_schema)
    report = MoveReport(tenant=moved, source=source_key)
    _writable(source, tenant)
    # 1. Copy, the tenant writable: one snapshot of the source.
    say(f"copying {slug} from {source_key} to {to}")
    copy.clear(target)
    try:
        with source.connection() as src, src.transaction():
            src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            copy.prepare(src)
            report.events = copy.events(src)
            copy.rows(src)
        say(f"copied {report.events} events; building the read models on {to}")
        project(target, moved)
        # 2. Switch: writes refused on the source while the rest is copied and checked.
        say("switching: the tenant is read-only until the registry names the target")
        with refusing_writes(source, tenant) as src:
            report.events += copy.events(src)
            copy.rows(src)
            _verify(registry.db, target, moved)
            with target.connection() as dst:
                there, here = copy.counts(src), copy.counts(dst)
            mismatched = {k: (there.get(k), here.get(k)) for k in there.keys() | here.keys()
                          if there.get(k) != here.get(k) and k != _INCREMENTAL}
            if mismatched:
                raise MoveFailed(f"the copy's counts differ from the source's (source, target): {mismatched}")
            report.rows = here
            project(target, moved)
    except BaseException:
        _failed(copy, target, say, f"{slug} stays on {source_key}, writable")
        raise
    try:
        registry.move_entry(tenant, to)
    except BaseException:
        _writable(source, tenant)
        _failed(copy, target, say, f"{slug} stays on {source_key}, writable")
        raise
    stores.forget(tenant.id)
    say(f"{slug} is on {to}; the chain verified there ({report.events} events)")
    # 3. Cleanup, after the requests that read the registry before the switch.
    time.sleep(grace)
    with source.connection() as src:
        copy.access_log(src)  # reads go on while the move runs: their log rows follow the tenant
    copy.clear(source)
    report.removed_from.append(source_key)
    say(f"removed the copy on {source_key}")
    return report


def _failed(copy: _Copy, target: EventStoreDatabase, say: Callable[[str], None], where: str) -> None:
    """A failed move's copy removed from the target (as the next attempt would)."""
    try:
        copy.clear(target)
    except Exception:  # the target may be what failed: the next attempt clears it
        log.warning("the failed move's copy could not be removed from the target now")
    say(f"the move failed: {where}")


def _holds(database: EventStoreDatabase, tenant: Tenant) -> bool:
    """Whether anything of the tenant's is on the database (its events table)."""
    with database.connection() as conn:
        return conn.execute("SELECT to_regclass(%s) AS t", (f"{SCHEMA}.{tenant.events_table}",)
                            ).fetchone()["t"] is not None
