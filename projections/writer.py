"""The projection writer: tenant events in, read-model rows out, exactly once.

For each (projection, tenant) the writer keeps a tracking position, written in
the same transaction as the rows that the events up to it produced: a batch
either commits whole (rows and position) or not at all, so no event is ever
counted twice or half. One tenant's projection is processed by one process at
a time (a PostgreSQL session advisory lock per projection and tenant); a
second worker that finds it taken asks to be called again shortly.

Rows of every read-model table carry (tenant_id, gen). A rebuild projects a
new generation beside the live one and switches `rm.live` in one
transaction when it has caught up, so readers (projections/reader.py) see
the old rows or the new ones, never a half-built table.

Projections write through a `Batch`: rows are read (once per run, then kept
in memory while the run holds the lock), changed in Python, and written back
with one upsert statement per table per batch.

A projection that fails on an event (a bug, or an event stored before the
domain refused such input) stops at that event for that tenant only: the
failure is kept in `rm.failures` (projection, tenant, event position, error
type and where it was raised, by infra/logsafe.py: never the message;
attempts, next retry) and the runner does not try again before the next
retry time (1 s, doubling, at most 5 minutes), whichever process asks.
Other tenants and other projections carry on; a run that gets past the event
(a release that handles it, a rebuild) clears the failure.

Synchronous (psycopg): it runs in the worker, the CLI and tests.
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from infra.eventstore import SCHEMA as EVENTS_SCHEMA
from infra.eventstore import EventStoreDatabase, Tenant, make_transcoder
from infra.logsafe import error_type, location
from infra.personal_data import PERSONAL_KEY, PersonalDataCodec
from projections.base import RM, Event, Projection, Table

log = logging.getLogger("sroi.projections")

AS_OF_KEEP = 5  # as-of generations kept per projection and tenant


PLATFORM_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {RM};
CREATE TABLE IF NOT EXISTS {RM}.live (
    projection text NOT NULL,
    tenant_id uuid NOT NULL,
    gen int NOT NULL,
    switched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, tenant_id)
);
CREATE TABLE IF NOT EXISTS {RM}.tracking (
    projection text NOT NULL,
    tenant_id uuid NOT NULL,
    gen int NOT NULL,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, tenant_id, gen)
);
ALTER TABLE {RM}.live ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1;
ALTER TABLE {RM}.tracking ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1;
CREATE TABLE IF NOT EXISTS {RM}.failures (
    projection text NOT NULL,
    tenant_id uuid NOT NULL,
    stage text NOT NULL,           -- 'live' (catching up) or 'rebuild'
    gen int NOT NULL,
    position bigint NOT NULL,      -- the event it failed on
    event text,                    -- that event's name (null: failed writing the batch)
    error_type text NOT NULL,      -- the exception's type, never its message
    location text NOT NULL,        -- where it was raised: file:line function
    attempts int NOT NULL,
    first_failed_at timestamptz NOT NULL,
    last_failed_at timestamptz NOT NULL,
    next_retry_at timestamptz NOT NULL,
    PRIMARY KEY (projection, tenant_id, stage)
);
-- A tenant the sweep sent a catch-up message for, and until when that
-- message counts as on its way (projections/registry.py `claim_catch_ups`).
CREATE TABLE IF NOT EXISTS {RM}.catch_ups (
    tenant_id uuid PRIMARY KEY,
    until timestamptz NOT NULL
);
"""


def migrate(database: EventStoreDatabase, projections: Iterable[Projection]) -> None:
    with database.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7202)")
        conn.execute(PLATFORM_DDL)
        for projection in projections:
            for table in projection.tables:
                for statement in table.ddl():
                    conn.execute(statement)


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit advisory lock key."""
    digest = hashlib.blake2b(":".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Batch:
    """Rows of one (tenant, gen) being changed by a batch of events."""

    def __init__(self, conn: Any, tenant_id: UUID, gen: int, cache: dict[tuple[str, tuple], dict | None],
                 tables: dict[str, Table], complete: set[str] | None = None,
                 keys: dict[str, Callable[[dict], tuple]] | None = None):
        self.conn, self.tenant_id, self.gen = conn, tenant_id, gen
        self.cache = cache
        self.tables = tables
        # Tables whose every stored row of this generation is in `cache` (a run
        # that began on an empty generation: a rebuild, an as-of, a first
        # catch-up): a row not in the cache is not stored, so it is not looked
        # for, and a new row is added by COPY rather than upserted. Shared by
        # the run's batches; a table leaves it when a group of its rows is
        # replaced (the group's old rows leave the database, not the cache).
        self.complete = complete if complete is not None else set()
        self.keys = keys if keys is not None else key_getters(tables)
        self.dirty: dict[tuple[str, tuple], dict | None] = {}
        self.groups: dict[tuple[str, str, Any], list[dict]] = {}

    def get(self, table: str, *key: Any) -> dict | None:
        """The row with this key (a copy to change and put back), or None."""
        ck = (table, key)
        if ck in self.dirty:
            row = self.dirty[ck]
        elif ck in self.cache:
            row = self.cache[ck]
        elif table in self.complete:
            return None
        else:
            row = self._load(table, key)
            self.cache[ck] = row
        return dict(row) if row is not None else None

    def _load(self, table: str, key: tuple) -> dict | None:
        t = self.tables[table]
        where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in t.key)
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in t.columns)
        cur = self.conn.execute(
            sql.SQL("SELECT {} FROM {}.{} WHERE tenant_id = %s AND gen = %s AND {}").format(
                cols, sql.Identifier(RM), sql.Identifier(table), where),
            (self.tenant_id, self.gen, *key))
        values = cur.fetchone()
        return dict(values) if values is not None else None

    def put(self, table: str, row: dict) -> None:
        self.dirty[(table, self.keys[table](row))] = row

    def delete(self, table: str, *key: Any) -> None:
        self.dirty[(table, key)] = None

    def replace_group(self, table: str, column: str, value: Any, rows: list[dict]) -> None:
        """All rows of `table` whose `column` is `value` become `rows`."""
        self.complete.discard(table)
        self.groups[(table, column, value)] = rows

    def select(self, table: str, column: str, value: Any) -> list[dict]:
        """Rows of a table where column = value (pending changes written first)."""
        self.flush()
        t = self.tables[table]
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in t.columns)
        rows = self.conn.execute(
            sql.SQL("SELECT {} FROM {}.{} WHERE tenant_id = %s AND gen = %s AND {} = %s").format(
                cols, sql.Identifier(RM), sql.Identifier(table), sql.Identifier(column)),
            (self.tenant_id, self.gen, value)).fetchall()
        found = []
        for r in rows:
            row = dict(r)
            self.cache[(table, self.keys[table](row))] = row
            found.append(dict(row))
        return found

    def flush(self) -> None:
        """Write pending changes (still inside the batch's transaction): per
        table one DELETE for removed rows and replaced groups, one COPY of the
        rows known to be new (see `complete`) and one upsert of the other
        changed rows passed as arrays (a few round trips per batch, not one
        per row)."""
        upserts: dict[str, list[dict]] = {}
        inserts: dict[str, list[dict]] = {}
        deletes: dict[str, list[tuple]] = {}
        cache = self.cache
        copied = {name for name in self.complete if _copies(self.tables[name])}
        for ck, row in self.dirty.items():
            table = ck[0]
            if row is None:
                deletes.setdefault(table, []).append(ck[1])
            elif table in copied and cache.get(ck) is None:
                inserts.setdefault(table, []).append(row)
            else:
                upserts.setdefault(table, []).append(row)
            cache[ck] = row
        self.dirty.clear()
        for table, keys in deletes.items():
            t = self.tables[table]
            if len(t.key) == 1:
                self.conn.execute(_sql(t, "delete_any"), (self.tenant_id, self.gen, [k[0] for k in keys]),
                                  binary=True)
            else:
                with self.conn.cursor() as cur:
                    cur.executemany(_sql(t, "delete_key"), [(self.tenant_id, self.gen, *k) for k in keys])
        groups: dict[tuple[str, str], tuple[list[Any], list[dict]]] = {}
        for (table, column, value), rows in self.groups.items():
            values, all_rows = groups.setdefault((table, column), ([], []))
            values.append(value)
            all_rows.extend(rows)
        self.groups.clear()
        for (table, column), (values, rows) in groups.items():
            t = self.tables[table]
            self.conn.execute(_sql(t, "delete_group", column), (self.tenant_id, self.gen, values), binary=True)
            upserts.setdefault(table, []).extend(rows)
        for table, rows in inserts.items():
            self._copy(self.tables[table], rows)
        for table, rows in upserts.items():
            self._upsert(self.tables[table], rows)

    def _upsert(self, t: Table, rows: list[dict]) -> None:
        columns = list(t.columns)
        arrays = []
        for c in columns:
            if _passed_as_json(t.columns[c]):
                arrays.append([_json(r.get(c)) for r in rows])
            else:
                arrays.append([r.get(c) for r in rows])
        self.conn.execute(_sql(t, "upsert"), (self.tenant_id, self.gen, *arrays), binary=True)

    def _copy(self, t: Table, rows: list[dict]) -> None:
        """Add rows not stored yet by COPY, each value as the upsert passes it."""
        columns = list(t.columns)
        as_json = [_passed_as_json(t.columns[c]) for c in columns]
        head = (self.tenant_id, self.gen)
        with self.conn.cursor() as cur, cur.copy(_sql(t, "copy")) as copy:
            write = copy.write_row
            if not any(as_json):
                for r in rows:
                    write((*head, *map(r.get, columns)))
                return
            for r in rows:
                write((*head, *(_json(r.get(c)) if j else r.get(c) for c, j in zip(columns, as_json))))


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def key_getters(tables: dict[str, Table]) -> dict[str, Callable[[dict], tuple]]:
    """Per table, a function giving a row's key as a tuple."""
    getters: dict[str, Callable[[dict], tuple]] = {}
    for name, t in tables.items():
        if len(t.key) == 1:
            getters[name] = (lambda k: lambda row: (row[k],))(t.key[0])
        else:
            getters[name] = itemgetter(*t.key)
    return getters


def _copies(t: Table) -> bool:
    """Whether new rows of the table are added by COPY: any column but arrays
    (an array's text form is not the JSON the upsert passes)."""
    return not any(typ.endswith("[]") for typ in t.columns.values())


_SQL_CACHE: dict[tuple[str, str, str], sql.Composed] = {}


def _passed_as_json(sql_type: str) -> bool:
    return sql_type.startswith("jsonb") or sql_type.endswith("[]")


def _sql(t: Table, kind: str, column: str = "") -> sql.Composed:
    """The table's statements, built once."""
    cached = _SQL_CACHE.get((t.name, kind, column))
    if cached is not None:
        return cached
    table = sql.SQL("{}.{}").format(sql.Identifier(RM), sql.Identifier(t.name))
    if kind == "delete_any":
        stmt = sql.SQL("DELETE FROM {} WHERE tenant_id = %b AND gen = %b AND {} = ANY(%b::{}[])").format(
            table, sql.Identifier(t.key[0]), sql.SQL(t.columns[t.key[0]]))
    elif kind == "delete_key":
        where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in t.key)
        stmt = sql.SQL("DELETE FROM {} WHERE tenant_id = %s AND gen = %s AND {}").format(table, where)
    elif kind == "copy":
        stmt = sql.SQL("COPY {} (tenant_id, gen, {}) FROM STDIN").format(
            table, sql.SQL(", ").join(sql.Identifier(c) for c in t.columns))
    elif kind == "delete_group":
        stmt = sql.SQL("DELETE FROM {} WHERE tenant_id = %b AND gen = %b AND {} = ANY(%b::{}[])").format(
            table, sql.Identifier(column), sql.SQL(t.columns[column]))
    else:
        cols = list(t.columns)
        base_type = {c: ("text" if _passed_as_json(typ) else typ) for c, typ in t.columns.items()}

        def value(c: str) -> sql.Composable:
            typ = t.columns[c]
            if typ.startswith("jsonb"):
                return sql.SQL("u.{}::jsonb").format(sql.Identifier(c))
            if typ.endswith("[]"):  # arrays cannot be unnested as arrays: passed as JSON
                return sql.SQL("ARRAY(SELECT jsonb_array_elements_text(u.{}::jsonb))::{}").format(
                    sql.Identifier(c), sql.SQL(typ))
            return sql.SQL("u.{}").format(sql.Identifier(c))
        stmt = sql.SQL(
            "INSERT INTO {} (tenant_id, gen, {}) SELECT %b, %b, {} FROM unnest({}) AS u({})"
            " ON CONFLICT (tenant_id, gen, {}) DO {}"
        ).format(
            table,
            sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            sql.SQL(", ").join(value(c) for c in cols),
            sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(base_type[c])) for c in cols),
            sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            sql.SQL(", ").join(sql.Identifier(c) for c in t.key),
            sql.SQL("UPDATE SET {}").format(sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in t.value_columns))
            if t.value_columns else sql.SQL("NOTHING"),
        )
    _SQL_CACHE[(t.name, kind, column)] = stmt
    return stmt


class Busy(Exception):
    """Another process is projecting this tenant right now."""


# Backoff after a failure: the first retry after RETRY_FIRST_S, each next one
# after twice as long, never more than RETRY_CAP_S apart.
RETRY_FIRST_S = 1.0
RETRY_CAP_S = 300.0
LIVE, REBUILD = "live", "rebuild"


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failure in a row."""
    return min(RETRY_CAP_S, RETRY_FIRST_S * 2 ** max(attempts - 1, 0))


@dataclass
class Failure:
    """Where a projection stopped for a tenant, and when it tries again.

    Holds no event data and no exception message (either may carry personal
    data): the position, the event's name, the exception type and where it
    was raised are enough to find the cause."""

    projection: str
    tenant_id: UUID
    position: int
    event: str | None
    error_type: str
    location: str
    stage: str = LIVE
    gen: int = 0
    attempts: int = 0
    first_failed_at: Any = None
    next_retry_at: Any = None
    backing_off: bool = False  # next_retry_at is still ahead (database clock)

    def describe(self) -> str:
        what = f" ({self.event})" if self.event else ""
        return (f"{self.projection} failed at event position {self.position}{what}:"
                f" {self.error_type} at {self.location}")


class ProjectionFailed(Exception):
    """A projection could not project an event of a tenant (see `Failure`)."""

    def __init__(self, failure: Failure):
        super().__init__(failure.describe())
        self.failure = failure


class BackingOff(ProjectionFailed):
    """Not tried again: an earlier failure's next retry time is still ahead."""

    def __init__(self, failure: Failure):
        super().__init__(failure)
        self.args = (f"{failure.describe()}; next retry at {failure.next_retry_at:%Y-%m-%d %H:%M:%S %Z}",)


FAILURE_COLUMNS = ("projection, tenant_id, stage, gen, position, event, error_type, location, attempts,"
                   " first_failed_at, next_retry_at, next_retry_at > now() AS backing_off")


def failure_from_row(r: Any) -> Failure:
    return Failure(projection=r["projection"], tenant_id=r["tenant_id"], position=r["position"],
                   event=r["event"], error_type=r["error_type"], location=r["location"], stage=r["stage"],
                   gen=r["gen"], attempts=r["attempts"], first_failed_at=r["first_failed_at"],
                   next_retry_at=r["next_retry_at"], backing_off=r["backing_off"])


# A generation nobody reads yet (a rebuild before its switch, an as-of
# generation) is committed every this many events rather than every batch: a
# row changed by many events (a placement's feedback figures) is written once
# per commit, not once per batch. A rebuild killed halfway is dropped and
# begun afresh, so larger commits lose nothing.
BUILD_COMMIT_EVENTS = 20_000


@dataclass
class RunResult:
    processed: int = 0
    position: int = 0


class ProjectionRunner:
    """Projects one tenant's events into one projection's generation."""

    def __init__(self, database: EventStoreDatabase, projection: Projection, *,
                 batch_size: int = 2000, build_commit: int = BUILD_COMMIT_EVENTS):
        self.database = database
        self.projection = projection
        self.batch_size = batch_size
        self.build_commit = build_commit
        self.tables = {t.name: t for t in projection.tables}
        self.keys = key_getters(self.tables)
        self.transcoder = make_transcoder()
        self._topics_cache: dict[str, str] = {}

    # -- generations -----------------------------------------------------
    def live_gen(self, conn: Any, tenant: Tenant) -> int:
        """The live generation, created (gen 1, position 0) on first use."""
        row = conn.execute(f"SELECT gen FROM {RM}.live WHERE projection = %s AND tenant_id = %s",
                           (self.projection.name, tenant.id)).fetchone()
        if row is not None:
            return row["gen"]
        with conn.transaction():
            conn.execute(f"INSERT INTO {RM}.live (projection, tenant_id, gen, version) VALUES (%s, %s, 1, %s)"
                         " ON CONFLICT DO NOTHING", (self.projection.name, tenant.id, self.projection.version))
            conn.execute(f"INSERT INTO {RM}.tracking (projection, tenant_id, gen, version) VALUES (%s, %s, 1, %s)"
                         " ON CONFLICT DO NOTHING", (self.projection.name, tenant.id, self.projection.version))
        return self.live_gen(conn, tenant)

    @contextmanager
    def _session_lock(self, conn: Any, key: int, wait: bool) -> Iterator[None]:
        if wait:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        elif not conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (key,)).fetchone()["ok"]:
            raise Busy(self.projection.name)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def live_lock_key(self, tenant: Tenant) -> int:
        return lock_key("projection", self.projection.name, str(tenant.id))

    # -- running -----------------------------------------------------------
    def catch_up(self, tenant: Tenant, *, wait: bool = False,
                 progress: Callable[[int], None] | None = None, retry_now: bool = False) -> RunResult:
        """Project the live generation up to the tenant's latest event.

        Raises ProjectionFailed (recorded, logged) when an event fails, and
        BackingOff without trying when an earlier failure's next retry time
        is still ahead (`retry_now` tries anyway: the operator's retry)."""
        with self.database.connection() as conn:
            gen = self.live_gen(conn, tenant)
            with self._session_lock(conn, self.live_lock_key(tenant), wait):
                gen = self.live_gen(conn, tenant)  # a rebuild may have switched meanwhile
                failed = self.failure(conn, tenant, LIVE)
                if failed is not None and failed.backing_off and not retry_now:
                    raise BackingOff(failed)
                try:
                    result = self._run(conn, tenant, gen, progress)
                except ProjectionFailed as e:
                    failure = e.failure
                    try:  # the batch rolled back: project the events before the bad one
                        self._run(conn, tenant, gen, progress, stop_at=failure.position - 1)
                    except ProjectionFailed as earlier:
                        failure = earlier.failure
                    failure.gen = gen
                    self._record_failure(conn, failure, LIVE)
                    raise ProjectionFailed(failure) from None
                if failed is not None:
                    self.clear_failures(conn, tenant, LIVE)
                    log.info("projection %s of tenant %s got past event position %d; failure cleared",
                             self.projection.name, tenant.id, failed.position)
                return result

    # -- failures ------------------------------------------------------------
    def failure(self, conn: Any, tenant: Tenant, stage: str) -> Failure | None:
        row = conn.execute(f"SELECT {FAILURE_COLUMNS} FROM {RM}.failures WHERE projection = %s"
                           " AND tenant_id = %s AND stage = %s", (self.projection.name, tenant.id, stage)
                           ).fetchone()
        return None if row is None else failure_from_row(row)

    def _record_failure(self, conn: Any, failure: Failure, stage: str) -> None:
        """Count the failure and set its next retry time; one log line (no
        event data, no exception message)."""
        failure.stage = stage
        with conn.transaction():
            before = conn.execute(f"SELECT attempts, position FROM {RM}.failures WHERE projection = %s"
                                  " AND tenant_id = %s AND stage = %s FOR UPDATE",
                                  (failure.projection, failure.tenant_id, stage)).fetchone()
            # The same event failing again backs off further; another one starts afresh.
            attempts = before["attempts"] + 1 if before and before["position"] == failure.position else 1
            delay = retry_delay(attempts)
            row = conn.execute(
                f"INSERT INTO {RM}.failures (projection, tenant_id, stage, gen, position, event, error_type,"
                " location, attempts, first_failed_at, last_failed_at, next_retry_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now(), now(), now() + %s * interval '1 second')"
                " ON CONFLICT (projection, tenant_id, stage) DO UPDATE SET gen = EXCLUDED.gen,"
                " position = EXCLUDED.position, event = EXCLUDED.event, error_type = EXCLUDED.error_type,"
                " location = EXCLUDED.location, attempts = EXCLUDED.attempts, last_failed_at = now(),"
                " next_retry_at = EXCLUDED.next_retry_at,"
                f" first_failed_at = CASE WHEN EXCLUDED.attempts = 1 THEN now() ELSE {RM}.failures.first_failed_at END"
                f" RETURNING {FAILURE_COLUMNS}",
                (failure.projection, failure.tenant_id, stage, failure.gen, failure.position, failure.event,
                 failure.error_type, failure.location, attempts, delay)).fetchone()
        recorded = failure_from_row(row)
        failure.attempts, failure.first_failed_at = recorded.attempts, recorded.first_failed_at
        failure.next_retry_at, failure.backing_off = recorded.next_retry_at, True
        log.warning("projection %s (%s) of tenant %s failed at event position %d (%s): %s at %s;"
                    " attempt %d, next retry in %.0f s", failure.projection, stage, failure.tenant_id,
                    failure.position, failure.event or "writing the batch", failure.error_type,
                    failure.location, attempts, delay)

    def clear_failures(self, conn: Any, tenant: Tenant, *stages: str) -> None:
        conn.execute(f"DELETE FROM {RM}.failures WHERE projection = %s AND tenant_id = %s AND stage = ANY(%s)",
                     (self.projection.name, tenant.id, list(stages)))

    def retry_soon(self, tenant: Tenant, stage: str) -> bool:
        """Let the next run of `stage` try at once (the operator says the
        cause is fixed); False if there was no such failure."""
        with self.database.connection() as conn:
            cur = conn.execute(f"UPDATE {RM}.failures SET next_retry_at = now() WHERE projection = %s"
                               " AND tenant_id = %s AND stage = %s", (self.projection.name, tenant.id, stage))
            return cur.rowcount > 0

    def _run(self, conn: Any, tenant: Tenant, gen: int,
             progress: Callable[[int], None] | None = None, stop_at: int | None = None,
             commit_every: int = 0) -> RunResult:
        """Batches until caught up; the caller holds the lock for (projection, tenant, gen).

        Events are read in pages of `batch_size`; a transaction (the rows and
        the position) takes pages until it holds `commit_every` events (at
        least one page). `progress` is told each page's events once committed."""
        try:
            return self._batches(conn, tenant, gen, progress, stop_at, commit_every)
        finally:
            if commit_every:
                gc.unfreeze()  # see the gc.freeze() at each commit

    def _batches(self, conn: Any, tenant: Tenant, gen: int, progress: Callable[[int], None] | None,
                 stop_at: int | None, commit_every: int) -> RunResult:
        cache: dict[tuple[str, tuple], dict | None] = {}
        complete: set[str] | None = None  # known at the first position read
        result = RunResult()
        personal = None
        only = None if self.projection.needs_personal_data else self.projection.personal_fields
        if (only is None or only) and self.database.person_keys is not None:
            personal = PersonalDataCodec(self.database.person_keys, tenant.id, self.transcoder)
        select = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{}"
            " WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        ).format(sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table))
        upto = stop_at if stop_at is not None else 2**62
        handles, apply, decode = self.projection.handles, self.projection.apply, self.transcoder.decode
        event_name = self._event_name
        while True:
            try:
                with conn.transaction():
                    row = conn.execute(
                        f"SELECT position FROM {RM}.tracking WHERE projection = %s AND tenant_id = %s"
                        " AND gen = %s FOR UPDATE", (self.projection.name, tenant.id, gen)).fetchone()
                    if row is None:
                        raise LookupError(f"no tracking for {self.projection.name} gen {gen}")
                    position = row["position"]
                    if complete is None:
                        # No event projected yet: the generation holds no rows.
                        complete = set(self.tables) if position == 0 else set()
                    batch = Batch(conn, tenant.id, gen, cache, self.tables, complete, self.keys)
                    pages: list[int] = []  # events per page read in this transaction
                    caught_up = False
                    while True:
                        with conn.cursor(row_factory=tuple_row) as cur:
                            rows = cur.execute(select, (position, upto, self.batch_size)).fetchall()
                        if not rows:
                            caught_up = True
                            break
                        decoded = self._prefetch_keys(rows, personal, tenant) if personal is not None else {}
                        for position_, originator_id, version, topic, state in rows:
                            name = event_name(topic)
                            if name in handles:
                                try:
                                    data = decoded.pop(position_, None)
                                    if data is None:
                                        data = decode(bytes(state))
                                    if personal is not None and PERSONAL_KEY in data:
                                        data = personal.open(name, data, only=only)
                                    apply(batch, Event(position_, originator_id, version, name, data))
                                except psycopg.OperationalError:
                                    raise  # the database, not the event: retried as usual
                                except Exception as e:  # noqa: BLE001 - recorded by type and place, see Failure
                                    raise self._failed(tenant, position_, name, e) from None
                        if not pages:
                            start = rows[0][0]
                        position = rows[-1][0]
                        pages.append(len(rows))
                        if len(rows) < self.batch_size or (stop_at is not None and position >= stop_at):
                            caught_up = True
                            break
                        if sum(pages) >= commit_every:
                            break
                    if not pages:
                        result.position = position
                        return result
                    try:
                        batch.flush()
                    except psycopg.OperationalError:
                        raise
                    except Exception as e:  # noqa: BLE001 - rows the database refused (a value out of range)
                        raise self._failed(tenant, start, None, e) from None
                    conn.execute(
                        f"UPDATE {RM}.tracking SET position = %s, updated_at = now()"
                        " WHERE projection = %s AND tenant_id = %s AND gen = %s",
                        (position, self.projection.name, tenant.id, gen))
            except BaseException:
                cache.clear()  # rolled back: what we cached may not be stored
                raise
            result.processed += sum(pages)
            result.position = position
            if commit_every:
                # The rows kept in memory hold UUIDs: Python's cycle collector
                # would walk them all again at each full collection, slowing
                # every event as they grow. What is kept up to this commit is
                # set aside from it until the run ends (freed as usual when
                # no longer referenced; cycles among it wait for the end).
                gc.freeze()
            if progress:
                for n in pages:
                    progress(n)
            if caught_up:
                return result

    def _failed(self, tenant: Tenant, position: int, event: str | None, e: Exception) -> ProjectionFailed:
        return ProjectionFailed(Failure(projection=self.projection.name, tenant_id=tenant.id, position=position,
                                        event=event, error_type=error_type(e), location=location(e)))

    def _prefetch_keys(self, rows: list[Any], personal: PersonalDataCodec, tenant: Tenant) -> dict[int, dict]:
        """Decode the batch's handled events and load the keys of the people they
        seal data of in one query (not one per person); the decoded events by
        position. An event that does not decode is left to the loop, which
        records the failure."""
        decoded: dict[int, dict] = {}
        subjects: set[UUID] = set()
        for r in rows:
            if self._event_name(r[3]) not in self.projection.handles:
                continue
            try:
                data = self.transcoder.decode(bytes(r[4]))
                sealed = data.get(PERSONAL_KEY)
                if sealed is not None:
                    subjects.add(UUID(sealed["subject"]))
            except Exception:  # noqa: BLE001 - decoded again, and recorded, in the loop
                continue
            decoded[r[0]] = data
        if subjects:
            personal.keys.prefetch(tenant.id, subjects)
        return decoded

    def _event_name(self, topic: str) -> str:
        name = self._topics_cache.get(topic)
        if name is None:
            name = self._topics_cache[topic] = topic.rsplit(".", 1)[-1]
        return name

    # -- rebuild -------------------------------------------------------------
    def live_version(self, tenant: Tenant) -> int | None:
        """The projection version the live generation was built by (None: no generation yet)."""
        with self.database.connection() as conn:
            row = conn.execute(f"SELECT version FROM {RM}.live WHERE projection = %s AND tenant_id = %s",
                               (self.projection.name, tenant.id)).fetchone()
        return None if row is None else row["version"]

    def rebuild_if_outdated(self, tenant: Tenant,
                            progress: Callable[[int], None] | None = None) -> RunResult | None:
        """Rebuild when the live generation was built by an older version of
        the projection; None when it is current. Raises Busy while another
        rebuild of this tenant runs, BackingOff while an earlier rebuild's
        failure waits for its next retry time."""
        return self.rebuild(tenant, progress, only_if_outdated=True)

    def rebuild(self, tenant: Tenant, progress: Callable[[int], None] | None = None, *,
                only_if_outdated: bool = False) -> RunResult | None:
        """Build a new generation beside the live one, then switch readers to it.

        An event the projection fails on ends the rebuild at once: the new
        generation is dropped, the live one keeps serving, and the failure
        is recorded (stage 'rebuild') and raised as ProjectionFailed. A
        successful switch clears the projection's failures for the tenant."""
        name, version = self.projection.name, self.projection.version
        with self.database.connection() as conn:
            self.live_gen(conn, tenant)
            with self._session_lock(conn, lock_key("rebuild", name, str(tenant.id)), wait=False):
                if only_if_outdated and conn.execute(
                        f"SELECT version FROM {RM}.live WHERE projection = %s AND tenant_id = %s",
                        (name, tenant.id)).fetchone()["version"] >= version:
                    return None
                if only_if_outdated:
                    failed = self.failure(conn, tenant, REBUILD)
                    if failed is not None and failed.backing_off:
                        raise BackingOff(failed)
                with self._session_lock(conn, self.live_lock_key(tenant), wait=True):
                    live = self.live_gen(conn, tenant)
                    # Leftovers of a rebuild that was killed: not live, not as-of.
                    for r in conn.execute(f"SELECT gen FROM {RM}.tracking WHERE projection = %s AND tenant_id = %s"
                                          " AND gen > 0 AND gen <> %s", (name, tenant.id, live)).fetchall():
                        self._drop_generation(conn, tenant, r["gen"])
                    with conn.transaction():
                        new = conn.execute(
                            f"SELECT coalesce(max(gen), 0) + 1 AS gen FROM {RM}.tracking WHERE projection = %s"
                            " AND tenant_id = %s AND gen > 0", (name, tenant.id)).fetchone()["gen"]
                        conn.execute(f"INSERT INTO {RM}.tracking (projection, tenant_id, gen, version)"
                                     " VALUES (%s, %s, %s, %s)", (name, tenant.id, new, version))
                try:
                    result = self._run(conn, tenant, new, progress, commit_every=self.build_commit)
                    # Switch: hold the live lock (workers wait), catch up the last
                    # events, and move readers in one transaction.
                    with self._session_lock(conn, self.live_lock_key(tenant), wait=True):
                        tail = self._run(conn, tenant, new, progress)
                        result.processed += tail.processed
                        result.position = tail.position
                        with conn.transaction():
                            live = self.live_gen(conn, tenant)
                            conn.execute(f"UPDATE {RM}.live SET gen = %s, version = %s, switched_at = now()"
                                         " WHERE projection = %s AND tenant_id = %s", (new, version, name, tenant.id))
                            self.clear_failures(conn, tenant, LIVE, REBUILD)
                        self._drop_generation(conn, tenant, live)
                except ProjectionFailed as e:
                    self._drop_generation(conn, tenant, new)
                    e.failure.gen = new
                    self._record_failure(conn, e.failure, REBUILD)
                    raise
                except BaseException:
                    self._drop_generation(conn, tenant, new)
                    raise
        return result

    # -- as known at a moment ------------------------------------------------
    def as_of(self, tenant: Tenant, position: int) -> int:
        """A generation holding the projection of the tenant's events up to
        `position` only (what was known then); built once, then reused.

        Such generations are negative (-position) and never live: readers ask
        for them explicitly (see `as_of_setting`). The newest few are kept."""
        gen = -position
        name = self.projection.name
        with self.database.connection() as conn:
            with self._session_lock(conn, lock_key("as_of", name, str(tenant.id), str(position)), wait=True):
                row = conn.execute(f"SELECT position, version FROM {RM}.tracking WHERE projection = %s"
                                   " AND tenant_id = %s AND gen = %s", (name, tenant.id, gen)).fetchone()
                if row is not None and row["version"] != self.projection.version:
                    self._drop_generation(conn, tenant, gen)  # built by an older version
                    row = None
                if row is None:
                    conn.execute(f"INSERT INTO {RM}.tracking (projection, tenant_id, gen, version)"
                                 " VALUES (%s, %s, %s, %s)", (name, tenant.id, gen, self.projection.version))
                if row is None or row["position"] < position:
                    self._run(conn, tenant, gen, stop_at=position, commit_every=self.build_commit)
                old = conn.execute(f"SELECT gen FROM {RM}.tracking WHERE projection = %s AND tenant_id = %s"
                                   " AND gen < 0 AND gen <> %s ORDER BY updated_at DESC OFFSET %s",
                                   (name, tenant.id, gen, AS_OF_KEEP - 1)).fetchall()
            for r in old:
                self._drop_generation(conn, tenant, r["gen"])
        return gen

    def _drop_generation(self, conn: Any, tenant: Tenant, gen: int) -> None:
        with conn.transaction():
            for table in self.projection.tables:
                conn.execute(sql.SQL("DELETE FROM {}.{} WHERE tenant_id = %s AND gen = %s").format(
                    sql.Identifier(RM), sql.Identifier(table.name)), (tenant.id, gen))
            conn.execute(f"DELETE FROM {RM}.tracking WHERE projection = %s AND tenant_id = %s AND gen = %s",
                         (self.projection.name, tenant.id, gen))
