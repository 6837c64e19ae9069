"""Per-tenant event storage on one shared connection pool per database.

Choice (see docs/architecture.md): every database holds one `events` schema
with one composite type and one psycopg pool (one eventsourcing
PostgresDatastore); each tenant gets its own events table in that schema,
`t_<tenant hex>_events`, with its own notification sequence, its own write
lock (the library's LOCK TABLE ... IN EXCLUSIVE MODE) and so its own export and
erasure unit. Tenant applications share the datastore, so connections do not
grow with tenants. POSTGRES_ENABLE_DB_FUNCTIONS stays off: its single
per-schema insert function would write every tenant into one table.
"""
from __future__ import annotations

import contextlib
import json
import operator
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing import persistence as es_errors
from eventsourcing.persistence import (
    BaseInfrastructureFactory,
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.persistence import find_id_convertor
from eventsourcing.utils import get_topic, resolve_topic
import orjson
import psycopg
from psycopg import sql
from psycopg import pq
from psycopg.errors import DuplicateObject, UniqueViolation, error_from_result
from psycopg.rows import tuple_row

from infra import chain
from infra.chain import genesis as chain_genesis
from infra.personal_data import PERSONAL_KEY, PersonalDataCodec, PersonErased
from infra.database import connection_kwargs, uuid_array

SCHEMA = "events"
STORED_EVENT_TYPE = "stored_event_uuid"
META_KEY = "_meta"
# Raised by the insert functions when a person the command records something
# about has been erased (events.erasures): nothing of the call is stored.
ERASED_SQLSTATE = "SRE01"
# The tenant's inserts refused while `sroi tenant move` switches it (infra/tenant_move.py).
MOVING_SQLSTATE = "SRM01"

# Who caused the events being saved: set by the service layer around save().
event_metadata: ContextVar[Mapping[str, Any] | None] = ContextVar("event_metadata", default=None)


class TenantMoving(RuntimeError):
    """The tenant is being moved to another database: nothing was stored; the
    same request, sent again in a few seconds, is stored there."""


class MissingEventMetadata(RuntimeError):
    """An event was about to be stored without actor and correlation metadata."""


@dataclass(frozen=True)
class Tenant:
    id: UUID
    slug: str
    name: str
    status: str
    database: str
    events_table: str

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class IdempotencyRecord:
    """Written in the same transaction as the command's events: a repeat of
    the request is answered from it (created or changed, and the body)."""

    tenant_id: UUID
    key: str
    fingerprint: str
    created: bool
    response: Mapping[str, Any]


def events_table_for(tenant_id: UUID) -> str:
    return f"t_{tenant_id.hex}_events"


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MetadataMapper(Mapper[UUID]):
    """Stores who/when/why beside each event's own state, inside the stored bytes.

    Keeping the metadata inside `state` (rather than in a column of our own)
    keeps the library's insert path untouched and puts the metadata under
    whatever integrity or encryption covers the event itself.
    """

    personal: Any = None  # a PersonalDataCodec, set by the tenant application

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        meta = event_metadata.get()
        if meta is None:
            raise MissingEventMetadata(
                f"no actor metadata for {type(domain_event).__qualname__}; "
                "events must be saved through the service layer"
            )
        cls = type(domain_event)
        return self._stored(domain_event, meta, cls.__name__, get_topic(cls), getattr(cls, "class_version", 1))

    def to_stored_events(self, domain_events: Sequence[Any]) -> list[StoredEvent]:
        """`to_stored_event` of each, as one batch: what is the same for every
        event of a batch (the metadata, each class's name, topic and
        version) found once. A batch of a spreadsheet import holds 5,000
        events."""
        meta = event_metadata.get()
        if meta is None or not domain_events:
            return [self.to_stored_event(e) for e in domain_events]
        classes: dict[type, tuple[str, str, int]] = {}  # class -> name, topic, version
        out = []
        for domain_event in domain_events:
            cls = type(domain_event)
            known = classes.get(cls)
            if known is None:
                known = classes[cls] = (cls.__name__, get_topic(cls), getattr(cls, "class_version", 1))
            out.append(self._stored(domain_event, meta, *known))
        return out

    def _stored(self, domain_event: Any, meta: dict[str, Any], name: str, topic: str,
                class_version: int) -> StoredEvent:
        """The event stored: its state without its id and version, the class
        version if beyond 1, its personal fields sealed, the metadata spliced
        in; made without StoredEvent's frozen dataclass `__init__` (its four
        fields set at once: 0.7 us an event)."""
        event_state = dict(domain_event.__dict__)
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        if class_version > 1:
            event_state["class_version"] = class_version
        if self.personal is not None:
            event_state = self.personal.seal(name, originator_id, event_state)
        state = self._with_meta(self.transcoder.encode(event_state), meta)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        stored = _new(StoredEvent)
        _set(stored, "__dict__", {"originator_id": originator_id, "originator_version": originator_version,
                                  "topic": topic, "state": state})
        return stored

    # The metadata last encoded: (the dict, a copy of it, its bytes).
    _meta_encoded: tuple[Any, dict[str, Any], bytes] = (None, {}, b"")

    def _with_meta(self, encoded: bytes, meta: dict[str, Any]) -> bytes:
        """The encoded state with `META_KEY: meta` as its last key: the bytes
        encoding the state with the metadata in it gives (compact JSON: the
        object's closing brace, a comma, the key, the value), the metadata
        encoded once for all the events of a command or batch."""
        held, copy, meta_bytes = self._meta_encoded
        if held is not meta or copy != meta:
            copy = dict(meta)
            meta_bytes = self.transcoder.encode(copy)
            self._meta_encoded = (meta, copy, meta_bytes)
        return encoded[:-1] + (_META_AFTER if len(encoded) > 2 else _META_FIRST) + meta_bytes + b"}"

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        event_state = self.decode_state(stored_event.state, cls.__name__)
        event_state.pop(META_KEY, None)
        event_state["originator_id"] = find_id_convertor(cls, type(stored_event.originator_id))(
            stored_event.originator_id)
        event_state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return domain_event

    def decode_state(self, stored_state: bytes, event_name: str = "") -> dict[str, Any]:
        """An event's stored state as a dict, metadata included, personal fields
        decrypted (or read as erased)."""
        if self.cipher:
            stored_state = self.cipher.decrypt(stored_state)
        if self.compressor:
            stored_state = self.compressor.decompress(stored_state)
        state = self.transcoder.decode(stored_state)
        if self.personal is not None and PERSONAL_KEY in state:
            state = self.personal.open(event_name, state)
        return state


_JSON_SCALARS = frozenset((str, int, bool, type(None)))
_new = object.__new__
_set = object.__setattr__
_META_FIRST = b'"' + META_KEY.encode() + b'":'
_META_AFTER = b"," + _META_FIRST


# The transcodings `FastJSONTranscoder._plain` makes envelopes for in line:
# how each makes its data (its own `encode`'s text; None: orjson writes the
# value, `isoformat()`'s text: a datetime only in UTC, checked there).
_NO_DIRECT = object()
_DIRECT: dict[type, Callable[[Any], Any] | None] = {
    UUIDAsHex: operator.attrgetter("hex"), DecimalAsStr: str, DatetimeAsISO: None, DateAsISO: None}


class _NotPlain(Exception):
    """A value `FastJSONTranscoder` leaves to the library's encoder."""


class FastJSONTranscoder(JSONTranscoder):
    """The library's JSON transcoder, encoding with orjson: the same bytes
    (compact, UTF-8, the same `{"_type_", "_data_"}` envelopes for the
    registered types), in half the time; an event's state is encoded at
    every save, a spreadsheet import's largest single cost. The envelopes
    are made first, in Python (orjson would write UUIDs, dates and the like
    its own way); a value whose text could differ (a float, a subclass of a
    plain type, a key that is no string, an integer beyond 64 bits, a type
    not registered) is encoded by the library's encoder instead, as before.
    A date, and a datetime in UTC (every event's timestamp), are left in the
    envelope for orjson to write: its text is `isoformat()`'s (tests/infra/
    test_transcoder.py), a fifth of the time of an aware datetime's
    `isoformat()`.

    Decoding likewise: orjson reads, then a pass turns the envelopes back
    into values, bottom up as the library's object hook does. What orjson
    reads otherwise than `json` (NaN, a lone surrogate: it refuses them;
    an integer beyond 64 bits: it reads a float) is read by the library's
    decoder instead: any float sends the whole state there."""

    def __init__(self) -> None:
        super().__init__()
        # A registered type whose envelope `_plain` makes in line, without a
        # call: the type -> (its transcoding's name, how to make its data;
        # None: the value itself, for orjson to write). Only the transcodings
        # in `_DIRECT`, registered for their own type.
        self._direct: dict[type, tuple[str, Callable[[Any], Any] | None]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._direct = {t: (tr.name, _DIRECT[type(tr)]) for t, tr in self.types.items()
                        if _DIRECT.get(type(tr), _NO_DIRECT) is not _NO_DIRECT and t is tr.type}

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, TypeError):  # orjson.JSONEncodeError is a TypeError
            return super().encode(obj)

    def _plain(self, o: Any) -> Any:
        # A call for each container and registered value but the common ones
        # (ids, amounts, dates, UTC times: made in line), none for the
        # strings, numbers and nulls in them (most of an event).
        t = type(o)
        if t is dict:
            out = {}
            direct = self._direct
            for k, v in o.items():
                tv = type(v)
                if tv in _JSON_SCALARS:
                    out[k] = v
                    continue
                how = direct.get(tv)
                if how is not None and (tv is not datetime or v.tzinfo is timezone.utc):
                    out[k] = {"_type_": how[0], "_data_": v if how[1] is None else how[1](v)}
                else:
                    out[k] = self._plain(v)
            return out
        if t in _JSON_SCALARS:
            return o
        if t is list or t is tuple:
            return [v if type(v) in _JSON_SCALARS else self._plain(v) for v in o]
        how = self._direct.get(t)  # as in a dict above
        if how is not None and (t is not datetime or o.tzinfo is timezone.utc):
            return {"_type_": how[0], "_data_": o if how[1] is None else how[1](o)}
        transcoding = self.types.get(t)
        if transcoding is None:
            raise _NotPlain
        data = transcoding.encode(o)
        return {"_type_": transcoding.name, "_data_": data if type(data) in _JSON_SCALARS else self._plain(data)}

    def decode(self, data: bytes) -> Any:
        try:
            return self._revived(orjson.loads(data))
        except (_NotPlain, orjson.JSONDecodeError):
            return super().decode(data)

    def _revived(self, o: Any) -> Any:
        # The library's object hook (JSONTranscoder._decode_obj), bottom up.
        t = type(o)
        if t is dict:
            for k, v in o.items():
                tv = type(v)
                if tv is dict or tv is list:
                    o[k] = self._revived(v)
                elif tv is float:
                    raise _NotPlain
            if len(o) == 2 and "_type_" in o and "_data_" in o:
                return self._decode_obj(o)
            return o
        if t is list:
            for i, v in enumerate(o):
                tv = type(v)
                if tv is dict or tv is list:
                    o[i] = self._revived(v)
                elif tv is float:
                    raise _NotPlain
            return o
        if t is float:
            raise _NotPlain
        return o


def make_transcoder() -> JSONTranscoder:
    transcoder = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


# The single-event insert's parameters, as the prepared statement declares
# them: (id uuid, version int8, topic text, state bytea, idempotency tenant
# uuid, key text, fingerprint text, created bool, response jsonb, erasure
# tenant uuid, erased ids uuid[]); all sent as text except the state (binary).
_INSERT1_TYPES = [2950, 20, 25, 17, 2950, 25, 25, 16, 3802, 2950, 2951]
_INSERT1_FORMATS = [pq.Format.TEXT] * 3 + [pq.Format.BINARY] + [pq.Format.TEXT] * 7
# How many tenants' insert statements a connection keeps prepared (the
# least recently used is deallocated beyond that; psycopg's own default).
PREPARED_MAX = 100
_NO_IDEMPOTENCY: tuple[None, ...] = (None,) * 5
# PostgreSQL's binary COPY format (the COPY page of its manual): a
# signature, flags and header extension, then per row its field count and
# each field as a length and its bytes (a null: length -1), then -1.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
_COPY_ROW_ID = (7).to_bytes(2, "big") + (16).to_bytes(4, "big")  # 7 fields; a uuid's 16 bytes
_COPY_INT8 = (8).to_bytes(4, "big")
_COPY_HASH = (32).to_bytes(4, "big")
_COPY_NULL = (-1).to_bytes(4, "big", signed=True)
# From this many events without an idempotency record (a spreadsheet
# import's batch), `_insert_bulk`: one COPY, the hashes in Python.
BULK_MIN = 64


class _Session:
    """The insert statements prepared on one pooled connection (the server
    keeps them per session), least recently used first, and its encoding."""

    __slots__ = ("prepared", "encoding")

    def __init__(self, encoding: str):
        self.prepared: OrderedDict[bytes, None] = OrderedDict()
        self.encoding = encoding


_sessions: weakref.WeakKeyDictionary[Any, _Session] = weakref.WeakKeyDictionary()
_sessions_lock = threading.Lock()


def _session(conn: Any) -> _Session:
    session = _sessions.get(conn)
    if session is None:
        if not conn.autocommit:  # the insert is its own transaction
            raise RuntimeError("the single-event insert needs an autocommit connection")
        with _sessions_lock:
            session = _sessions.setdefault(conn, _Session(conn.info.encoding))
    return session


def _library_error(e: psycopg.Error) -> Exception:
    """psycopg's exception as the library's datastore reports it (the same
    classes, in the same order, as PostgresDatastore.get_connection)."""
    for theirs, ours in ((psycopg.InterfaceError, es_errors.InterfaceError),
                         (psycopg.OperationalError, es_errors.OperationalError),
                         (psycopg.DataError, es_errors.DataError),
                         (psycopg.IntegrityError, es_errors.IntegrityError),
                         (psycopg.InternalError, es_errors.InternalError),
                         (psycopg.ProgrammingError, es_errors.ProgrammingError),
                         (psycopg.NotSupportedError, es_errors.NotSupportedError),
                         (psycopg.DatabaseError, es_errors.DatabaseError)):
        if isinstance(e, theirs):
            return ours(str(e))
    return es_errors.PersistenceError(str(e))


class TenantRecorder(PostgresApplicationRecorder):
    """The library's recorder for one tenant's table, with a one-round-trip insert.

    The library inserts in a pipelined transaction of six statements (BEGIN,
    SET lock_timeout, LOCK TABLE, NOTIFY, INSERT, COMMIT). Here the same steps
    run inside one PL/pgSQL function per tenant table, called as a single
    autocommit statement: the same table lock (so notification ids commit in
    order and a reader tailing the log never skips one) and the idempotency
    row in the same transaction, at a third of the cost. Unlike the library's
    POSTGRES_ENABLE_DB_FUNCTIONS mode, the function is per table (not per
    schema) and takes the table lock. No NOTIFY: PostgreSQL serialises the
    commits of all NOTIFYing transactions in a database on one lock, which
    would couple every tenant's writes; projections are woken by the broker.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str, hash_chain: bool = True,
                 v2: tuple[int, bytes] | None = None, tenant_id: UUID | None = None):
        super().__init__(datastore, events_table_name=events_table_name)
        self.tenant_id = tenant_id  # for the erasure check (insert_events' `unerased`)
        # Drop the library's per-schema insert function from what we create:
        # it names one table per schema and is never called here.
        del self.sql_create_statements[self.create_insert_function_statement_index]
        self.insert_function_name = f"{events_table_name}_insert"
        self.check_identifier_length(self.insert_function_name)
        schema = sql.Identifier(datastore.schema)
        # Both functions: take the tenant's write lock, record the idempotency
        # key (if any), refuse if one of the people the command records
        # something about (`erased`: their ids, or NULL) has been erased (read
        # here, in the storing statement, rather than in a round trip of its
        # own before it), refuse a version conflict before taking a position (so
        # the table's sequence never runs ahead of its last event: `sroi
        # verify` reads a sequence ahead of the events as events removed from
        # the end), then append each event: its position from the table's
        # sequence, its commit-order time and its chain hash (see
        # infra/chain.py): rule v2 (recorded_at included) from the position
        # recorded in events.chain_versions, linked to the switch link kept
        # there; rule v1 while the tenant has no such row (read on every call,
        # so a migration can switch a live tenant: see
        # EventStoreDatabase.create_tenant_tables). The first takes arrays
        # (several events), the second scalars (one event: array parameters
        # cost psycopg ~0.07 ms).
        self.hash_chain = hash_chain
        seq = f"{datastore.schema}.{events_table_name}_notification_id_seq"
        genesis_literal = "\\x" + chain_genesis(events_table_name).hex()
        conflict = ("  RAISE EXCEPTION 'duplicate key value violates unique constraint (originator_id,"
                    " originator_version)' USING ERRCODE = 'unique_violation';")

        # The switch to v2: once recorded, written into the function; until
        # then read on every call (see EventStoreDatabase.create_tenant_tables).
        if not hash_chain:
            switch = ""
        elif v2 is not None:
            switch = f" v2_from := {int(v2[0])}; v2_link := '\\x{v2[1].hex()}'::bytea;"
        else:
            switch = (" SELECT c.from_position, c.link INTO v2_from, v2_link FROM {schema}.chain_versions c"
                      f"  WHERE c.events_table = '{events_table_name}' AND c.version = 2;")

        def prologue(conflict_check: str) -> str:
            return (
                " LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
                " IF idem_key IS NOT NULL THEN"
                "  INSERT INTO {schema}.idempotency_keys (tenant_id, key, fingerprint, created, response)"
                "  VALUES (idem_tenant, idem_key, idem_fp, idem_created, idem_response);"
                " END IF;"
                # Nested: the erasures table is only planned when there is someone to check.
                " IF erased IS NOT NULL THEN IF EXISTS (SELECT 1 FROM {schema}.erasures x"
                "  WHERE x.tenant_id = erased_tenant AND x.subject_id = ANY (erased)) THEN"
                f"  RAISE EXCEPTION 'the person was erased' USING ERRCODE = '{ERASED_SQLSTATE}';"
                " END IF; END IF;"
                f" IF EXISTS ({conflict_check}) THEN {conflict} END IF;"
                + switch +
                " SELECT notification_id, chain_hash INTO last_pos, prev FROM {schema}.{table}"
                "  ORDER BY notification_id DESC LIMIT 1;"
                " IF v2_from IS NOT NULL AND (last_pos IS NULL OR last_pos < v2_from) THEN prev := v2_link;"
                " ELSIF prev IS NULL THEN prev := '" + genesis_literal + "'::bytea; END IF;"
            )

        def append(i: str, v: str, t: str, st: str) -> str:
            v1 = (f"prev || int8send(pos) || uuid_send({i}) || int8send({v})"
                  f" || int4send(length(convert_to({t}, 'UTF8'))) || convert_to({t}, 'UTF8')"
                  f" || int4send(length({st})) || {st}")
            hash_expr = (
                f"CASE WHEN v2_from IS NULL THEN sha256({v1})"
                f" ELSE sha256({v1} || timestamptz_send(ts)) END"
                if hash_chain else "NULL"
            )
            return (
                f" pos := nextval('{seq}'); ts := clock_timestamp(); h := {hash_expr};"
                " INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state,"
                "  notification_id, chain_hash, recorded_at)"
                f"  VALUES ({i}, {v}, {t}, {st}, pos, h, ts);"
                " prev := coalesce(h, prev);"
            )

        declare = (" DECLARE pos bigint; prev bytea; h bytea; i int; ts timestamptz; last_pos bigint;"
                   " v2_from bigint; v2_link bytea; BEGIN")
        idem_params = "idem_tenant uuid, idem_key text, idem_fp text, idem_created boolean, idem_response jsonb"
        idem_params += ", erased_tenant uuid, erased uuid[]"
        # The signatures before: without the erasure check, and with it while
        # the idempotency record still took an HTTP status (int) where it now
        # takes whether the command created something.
        old_idem_types = ("uuid, text, text, int, jsonb", "uuid, text, text, int, jsonb, uuid, uuid[]")
        self.insert_one_function_name = f"{events_table_name}_insert1"
        self.check_identifier_length(self.insert_one_function_name)
        # CREATE OR REPLACE with a new parameter list adds an overload: drop the old ones.
        self.function_statements: list[sql.Composed] = [
            sql.SQL("DROP FUNCTION IF EXISTS {schema}.{fn}(" + types + ")").format(
                schema=schema, fn=sql.Identifier(fn))
            for old_types in old_idem_types
            for fn, types in [(self.insert_function_name, "uuid[], bigint[], text[], bytea[], " + old_types),
                              (self.insert_one_function_name, "uuid, bigint, text, bytea, " + old_types)]]
        # Columns the library's table does not have (its reads ignore them).
        for column in ("chain_hash bytea", "recorded_at timestamptz"):
            self.sql_create_statements.append(sql.SQL(
                "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS " + column).format(
                schema=schema, table=sql.Identifier(events_table_name)))
        for fn, signature, body in [
            (self.insert_function_name,
             "ids uuid[], versions bigint[], topics text[], states bytea[], " + idem_params,
             " RETURNS SETOF bigint LANGUAGE plpgsql AS $body$" + declare
             + prologue("SELECT 1 FROM {schema}.{table} e, unnest(ids, versions) AS n(id, version)"
                        " WHERE e.originator_id = n.id AND e.originator_version = n.version")
             + " FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP"
             + append("ids[i]", "versions[i]", "topics[i]", "states[i]")
             + " RETURN NEXT pos; END LOOP; END $body$"),
            (self.insert_one_function_name,
             "id uuid, version bigint, topic text, state bytea, " + idem_params,
             " RETURNS bigint LANGUAGE plpgsql AS $body$" + declare
             + prologue("SELECT 1 FROM {schema}.{table} e WHERE e.originator_id = id"
                        " AND e.originator_version = version")
             + append("id", "version", "topic", "state")
             + " RETURN pos; END $body$"),
        ]:
            self.function_statements.append(
                sql.SQL("CREATE OR REPLACE FUNCTION {schema}.{fn}(" + signature + ")" + body).format(
                    schema=schema, fn=sql.Identifier(fn), table=sql.Identifier(events_table_name)))
        self.sql_create_statements.extend(self.function_statements)
        # Rendered once (a Composed is rendered again on every execute).
        self.call_insert_one_function = sql.SQL(
            "SELECT {schema}.{fn}(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(schema=schema, fn=sql.Identifier(self.insert_one_function_name)).as_bytes()
        self.call_insert_function = sql.SQL(
            "SELECT * FROM {schema}.{fn}(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(schema=schema, fn=sql.Identifier(self.insert_function_name)).as_bytes()
        # The single-event call as a named prepared statement of our own,
        # executed through libpq directly (see _insert_one).
        self.insert_one_statement = b"sroi_" + self.insert_one_function_name.encode()
        self.insert_one_query = sql.SQL(
            "SELECT {schema}.{fn}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ).format(schema=schema, fn=sql.Identifier(self.insert_one_function_name)).as_bytes()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Store the events (and `idempotency`, an IdempotencyRecord) in one
        statement; with `unerased` (people's ids), store nothing and raise
        PersonErased if one of them has been erased. With `in_transaction` (a
        function of the connection: a document's bytes, infra/documents.py),
        run it and the statement in one transaction: both stored or neither."""
        unerased = list(kwargs.get("unerased") or ()) or None
        in_transaction = kwargs.get("in_transaction")
        if unerased is not None and self.tenant_id is None:
            raise RuntimeError("an erasure check needs the recorder's tenant_id")
        if not stored_events:
            if unerased:  # nothing to store, and still refused (the rare no-change command)
                with self.datastore.get_connection() as conn:
                    self._refuse_erased(conn, unerased)
            return []
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if len(stored_events) >= BULK_MIN and record is None:
            return self._insert_bulk(stored_events, unerased, in_transaction)
        if len(stored_events) == 1 and in_transaction is None:
            return [self._insert_one(stored_events[0], record, unerased)]
        idem = (
            record.tenant_id if record else None,
            record.key if record else None,
            record.fingerprint if record else None,
            record.created if record else None,
            json.dumps(record.response) if record else None,
            self.tenant_id if unerased else None,
            uuid_array(unerased) if unerased else None,
        )
        if len(stored_events) == 1:  # in the caller's transaction: psycopg's cursor
            e = stored_events[0]
            # Tuple rows: the datastore's dict rows decode the column names on every call.
            with (self.datastore.get_connection() as conn, self._together(conn, in_transaction),
                  conn.cursor(row_factory=tuple_row) as cur, self._erasure_refused(unerased)):
                row = cur.execute(self.call_insert_one_function,
                                  (e.originator_id, e.originator_version, e.topic, e.state, *idem),
                                  prepare=True).fetchone()
            assert row is not None
            return [row[0]]
        # Four arrays of scalars rather than one array of a composite type:
        # psycopg dumps these in C, and nothing depends on the type's OID.
        params = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
            *idem,
        )
        with (self.datastore.get_connection() as conn, self._together(conn, in_transaction),
              conn.cursor(row_factory=tuple_row) as cur, self._erasure_refused(unerased)):
            rows = cur.execute(self.call_insert_function, params, prepare=True).fetchall()
        return [row[0] for row in rows]

    def _insert_bulk(self, stored_events: Sequence[StoredEvent], unerased: list[UUID] | None,
                     in_transaction: Callable[[Any], None] | None) -> list[int]:
        """Many events (a spreadsheet import's batch) in one transaction, the
        insert function's steps in Python around one binary COPY: the same
        table lock, erasure refusal and version-conflict refusal (no position
        taken by a refused batch), positions from the table's sequence,
        one commit-order time for the batch, and the chain hashes computed
        here by infra/chain.py (the rule `sroi verify` checks) rather than in
        PL/pgSQL row by row. Measured in bench/import.py."""
        schema, table = self.datastore.schema, self.events_table_name
        ident = sql.Identifier(schema, table)
        # What of each event's COPY row and hash does not depend on its
        # position, the previous hash or the batch's time, made before the
        # table's lock is taken (held, the other writers wait): the row's
        # first four fields, and the hash's tail (infra/chain.py).
        heads: list[bytes] = []
        tails: list[bytes] = []
        for e in stored_events:
            topic = e.topic.encode()
            tail = chain.event_tail(e.originator_id, e.originator_version, topic, e.state)
            tails.append(tail)
            # id, version, topic and state: the tail's bytes, a length before the first two.
            heads.append(_COPY_ROW_ID + tail[:16] + _COPY_INT8 + tail[16:])
        with (self.datastore.get_connection() as conn, conn.transaction(),
              conn.cursor(row_factory=tuple_row) as cur, self._erasure_refused(unerased)):
            if in_transaction is not None:
                in_transaction(conn)
            cur.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(ident))
            if unerased:
                self._refuse_erased(cur, unerased)
            # The positions are the sequence's next values, read here and
            # taken (setval) only after the COPY: every writer advances the
            # sequence only under this lock, so nobody else takes them
            # meanwhile, and a batch refused at the COPY (an aggregate
            # already has a version it brings: the primary key) takes none,
            # as `sroi verify` needs (a position taken and not used reads as
            # an event removed). No conflict query before: for a batch of new
            # aggregates it probed the index once per event, the table locked.
            seq_name = f"{table}_notification_id_seq"
            seq = sql.Identifier(schema, seq_name)
            last_pos, prev, v2_from, v2_link, seq_last, seq_called, recorded_at = cur.execute(sql.SQL(
                "SELECT l.notification_id, l.chain_hash, c.from_position, c.link, s.last_value, s.is_called,"
                " clock_timestamp() FROM {} s"
                " LEFT JOIN (SELECT notification_id, chain_hash FROM {} ORDER BY notification_id DESC LIMIT 1) l"
                " ON true LEFT JOIN {}.chain_versions c ON c.events_table = %s AND c.version = 2").format(
                    seq, ident, sql.Identifier(schema)), (table,)).fetchone()
            first = seq_last + 1 if seq_called else seq_last
            if v2_from is not None and (last_pos is None or last_pos < v2_from):
                prev = bytes(v2_link)
            elif prev is None:
                prev = chain_genesis(table)
            else:
                prev = bytes(prev)
            positions = list(range(first, first + len(stored_events)))
            # A v1 tenant's hashes leave the time out (chain.py).
            recorded = chain.recorded_bytes(recorded_at)
            hashed_time = recorded if v2_from is not None else b""
            time_field = _COPY_INT8 + recorded
            tail_hash = chain.tail_hash
            out = [_COPY_SIGNATURE]
            for pos, head, tail in zip(positions, heads, tails):
                position = chain.position_bytes(pos)
                if self.hash_chain:
                    prev = tail_hash(prev, position, tail, hashed_time)
                    out += (head, _COPY_INT8, position, _COPY_HASH, prev, time_field)
                else:
                    out += (head, _COPY_INT8, position, _COPY_NULL, time_field)
            out.append(_COPY_TRAILER)
            # One block in PostgreSQL's binary COPY format, written here (the
            # format is fixed and documented; psycopg's row writer took a
            # tenth of a batch's time): the columns in the statement's order.
            try:
                with cur.copy(sql.SQL(
                        "COPY {} (originator_id, originator_version, topic, state, notification_id, chain_hash,"
                        " recorded_at) FROM STDIN (FORMAT BINARY)").format(ident)) as copy:
                    copy.write(b"".join(out))
            except UniqueViolation:
                raise es_errors.IntegrityError(
                    "duplicate key value violates unique constraint (originator_id, originator_version)") from None
            cur.execute(sql.SQL("SELECT setval({}, %s)").format(sql.Literal(f"{schema}.{seq_name}")),
                        (positions[-1],))
        return positions

    def _refuse_erased(self, conn: Any, unerased: list[UUID]) -> None:
        """PersonErased if one of these people has been erased (read on `conn`)."""
        if conn.execute(sql.SQL("SELECT 1 FROM {}.erasures WHERE tenant_id = %s AND subject_id = ANY (%s::uuid[])"
                                " LIMIT 1").format(sql.Identifier(self.datastore.schema)),
                        (self.tenant_id, uuid_array(unerased))).fetchone():
            raise PersonErased(unerased[0])

    def _insert_one(self, e: StoredEvent, record: IdempotencyRecord | None,
                    unerased: list[UUID] | None) -> int:
        """One event through the insert function, as one prepared statement
        executed through libpq (psycopg's `pgconn`): the same statement and
        round trip as `cursor.execute(..., prepare=True)`, without psycopg's
        per-call query conversion, adapter lookups, cursor and result
        machinery, which cost ~180 us of Python a command (measured: 250-300
        us per insert through the cursor, 65-95 us this way). The parameters
        are sent as text (the state as binary), typed by the statement."""
        # The pool's connection without the library's wrapper (~10 us): the
        # connections are in autocommit (the library's after-connect), so
        # there is no transaction to end; errors become the library's as there.
        pool = self.datastore.pool
        try:
            conn = pool.getconn()
            try:
                return self._insert_one_on(conn, e, record, unerased)
            finally:
                pool.putconn(conn)
        except psycopg.Error as error:
            raise _library_error(error) from error

    def _insert_one_on(self, conn: Any, e: StoredEvent, record: IdempotencyRecord | None,
                       unerased: list[UUID] | None) -> int:
        with self._erasure_refused(unerased):
            session = _session(conn)
            enc = session.encoding
            params: list[bytes | None] = [
                str(e.originator_id).encode(), str(e.originator_version).encode(), e.topic.encode(enc),
                bytes(e.state)]
            if record is None:
                params.extend(_NO_IDEMPOTENCY)
            else:
                params += [str(record.tenant_id).encode(), record.key.encode(enc), record.fingerprint.encode(enc),
                           b"t" if record.created else b"f", json.dumps(record.response).encode(enc)]
            if unerased:
                params += [str(self.tenant_id).encode(), ("{" + ",".join(map(str, unerased)) + "}").encode()]
            else:
                params += [None, None]
            pgconn, name = conn.pgconn, self.insert_one_statement
            if name in session.prepared:
                session.prepared.move_to_end(name)
            else:
                self._prepare(pgconn, session)
            result = pgconn.exec_prepared(name, params, _INSERT1_FORMATS)
            if result.status == pq.ExecStatus.FATAL_ERROR and result.error_field(
                    pq.DiagnosticField.SQLSTATE) == b"26000":
                # The session lost its prepared statements (DISCARD ALL,
                # DEALLOCATE ALL): prepare again and run once more.
                session.prepared.clear()
                self._prepare(pgconn, session)
                result = pgconn.exec_prepared(name, params, _INSERT1_FORMATS)
            if result.status != pq.ExecStatus.TUPLES_OK:
                raise self._error(pgconn, result, enc)
            return int(result.get_value(0, 0))

    def _prepare(self, pgconn: Any, session: _Session) -> None:
        while len(session.prepared) >= PREPARED_MAX:
            oldest, _ = session.prepared.popitem(last=False)
            pgconn.exec_(b"DEALLOCATE " + oldest)
        result = pgconn.prepare(self.insert_one_statement, self.insert_one_query, _INSERT1_TYPES)
        if result.status != pq.ExecStatus.COMMAND_OK and result.error_field(
                pq.DiagnosticField.SQLSTATE) != b"42P05":  # already prepared: fine
            raise self._error(pgconn, result, session.encoding)
        session.prepared[self.insert_one_statement] = None

    @staticmethod
    def _error(pgconn: Any, result: Any, encoding: str) -> psycopg.Error:
        """The psycopg exception for a failed result, as psycopg's cursor raises it."""
        if pgconn.status != pq.ConnStatus.OK:
            return psycopg.OperationalError(
                f"the connection was lost: {pgconn.get_error_message(encoding)}")
        return error_from_result(result, encoding=encoding)

    @staticmethod
    @contextlib.contextmanager
    def _together(conn: Any, in_transaction: Callable[[Any], None] | None) -> Iterator[None]:
        """Nothing for an ordinary command (its one statement commits by
        itself); with `in_transaction`, one transaction around it and the insert."""
        if in_transaction is None:
            yield
            return
        with conn.transaction():
            in_transaction(conn)
            yield

    @staticmethod
    @contextlib.contextmanager
    def _erasure_refused(unerased: list[UUID] | None) -> Iterator[None]:
        """The insert function's erasure refusal as PersonErased, and a moving
        tenant's refusal as TenantMoving (the library's wrapper would make any
        other database error a generic one)."""
        try:
            yield
        except psycopg.Error as e:
            if unerased and e.sqlstate == ERASED_SQLSTATE:
                raise PersonErased(unerased[0]) from None
            if e.sqlstate == MOVING_SQLSTATE:
                raise TenantMoving(str(e)) from None
            raise


class _SharedDatastoreFactory(PostgresFactory):
    """A factory that hands out a datastore it does not own (never closes it)."""

    def __init__(self, env: Any, datastore: PostgresDatastore):
        BaseInfrastructureFactory.__init__(self, env)
        self.datastore = datastore

    def close(self) -> None:  # the pool belongs to EventStoreDatabase
        pass


class TenantApplication(Application[UUID]):
    """One tenant's event store: repository, notification log and save()."""

    log_section_size = 1000

    def __init__(self, tenant: Tenant, datastore: PostgresDatastore, aggregate_cache_size: int,
                 person_keys: Any = None, documents: Any = None):
        self.tenant = tenant
        self._datastore = datastore
        self._person_keys = person_keys
        # The documents' bytes (infra/documents.py DocumentVault), if kept.
        self.documents = documents
        super().__init__(env={
            "AGGREGATE_CACHE_MAXSIZE": str(aggregate_cache_size),
            # No fast-forward query on every get: the cache is trusted, and a
            # cache made stale by another process shows up as a version
            # conflict at save time, after which the ledger reloads from the
            # database and decides again (service/ledger.py).
            "AGGREGATE_CACHE_FASTFORWARD": "n",
        })

    def construct_factory(self, env: Any) -> _SharedDatastoreFactory:
        return _SharedDatastoreFactory(env, self._datastore)

    def construct_transcoder(self) -> JSONTranscoder:
        return make_transcoder()

    def construct_mapper(self) -> MetadataMapper:
        mapper = MetadataMapper(transcoder=self.construct_transcoder())
        if self._person_keys is not None:
            mapper.personal = PersonalDataCodec(self._person_keys, self.tenant.id, mapper.transcoder)
        return mapper

    def construct_recorder(self) -> TenantRecorder:
        return TenantRecorder(self._datastore, events_table_name=self.tenant.events_table,
                              tenant_id=self.tenant.id)

    def save(self, *aggregates: Any, **kwargs: Any) -> list[Any]:
        """The library's save, minus what we do not use (snapshots, tracking,
        notify hooks) and its runtime Protocol isinstance checks, which cost
        a quarter of the Python time of a command."""
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        recordings = self.events.put(events, **kwargs)
        cache = self.repository.cache
        if cache is not None:
            for aggregate in aggregates:
                cache.put(aggregate.id, aggregate)
        return recordings

    def save_batch(self, *aggregates: Any, **kwargs: Any) -> int:
        """`save` for a spreadsheet import's batch: the position of its last
        event (0 if none), without the library's `Recording` and
        `Notification` objects per event (a batch asks only for its last
        position), and without caching the aggregates the batch created: the
        import's later batches load what they need themselves, and its child
        processes (service/importing.py) end with the import. An aggregate
        that was there before and changed is cached as `save` caches it, so
        the cache never holds an older version of it."""
        events: list[Any] = []
        cached_before: list[Any] = []  # not created by this batch
        for aggregate in aggregates:
            pending = aggregate.collect_events()
            if not pending or pending[0].originator_version > aggregate.INITIAL_VERSION:
                cached_before.append(aggregate)
            events += pending
        if not events:
            return 0
        positions = self.recorder.insert_events(self.metadata_mapper.to_stored_events(events), **kwargs)
        cache = self.repository.cache
        if cache is not None:
            for aggregate in cached_before:
                cache.put(aggregate.id, aggregate)
        return max(positions, default=0)

    @property
    def person_keys(self) -> Any:
        return self._person_keys

    @property
    def tenant_recorder(self) -> TenantRecorder:
        assert isinstance(self.recorder, TenantRecorder)
        return self.recorder

    @property
    def metadata_mapper(self) -> MetadataMapper:
        assert isinstance(self.mapper, MetadataMapper)
        return self.mapper


class _Datastore(PostgresDatastore):
    """The library's datastore, with lock_timeout set once per connection
    (instead of SET LOCAL in every insert)."""

    def after_connect_func(self) -> Any:
        base = super().after_connect_func()
        statement = sql.SQL("SET lock_timeout = '{}s'").format(sql.SQL(str(int(self.lock_timeout))))

        def after_connect(conn: Any) -> None:
            base(conn)
            conn.cursor().execute(statement)

        return after_connect


class EventStoreDatabase:
    """One PostgreSQL database holding tenants' events: one pool, one schema."""

    def __init__(self, url: str, pool_size: int, *, lock_timeout_s: int = 10, hash_chain: bool = True):
        self.url = url
        # Off only to measure what the chain costs (bench/audit.py).
        self.hash_chain = hash_chain
        self.person_keys: Any = None  # PersonKeys, set by bootstrap
        self.documents: Any = None  # DocumentVault, set by bootstrap
        self.datastore = _Datastore(
            **connection_kwargs(url),
            schema=SCHEMA,
            pool_size=1,
            max_overflow=max(pool_size - 1, 0),
            max_waiting=0,
            lock_timeout=lock_timeout_s,
            connect_timeout=10,
            # Opened once here: the library's per-call open(wait=True) is not
            # safe from many threads at once (psycopg_pool asserts in wait()).
            pool_open_timeout=None,
            originator_id_type="uuid",
            enable_db_functions=False,
        )
        self.datastore.pool.open(wait=True, timeout=30)

    def migrate(self) -> None:
        """Create the schema, the shared composite type and the idempotency table."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
        with self.datastore.transaction(commit=True) as curs, contextlib.suppress(DuplicateObject):
            curs.execute(sql.SQL(
                "CREATE TYPE {}.{} AS (originator_id uuid, originator_version bigint, "
                "topic text, state bytea)"
            ).format(sql.Identifier(SCHEMA), sql.Identifier(STORED_EVENT_TYPE)))
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.idempotency_keys ("
                " tenant_id uuid NOT NULL,"
                " key text NOT NULL,"
                " fingerprint text NOT NULL,"
                " status_code int,"
                " response jsonb NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now(),"
                " created boolean,"
                " CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, key))"
            ).format(sql.Identifier(SCHEMA)))
            # A request's answer is stored as an outcome (`created`: it created
            # something, else it changed something), no longer as the HTTP
            # status it was answered with; rows from before keep their
            # `status_code` (201 = created, 200 = changed) and replay the same.
            curs.execute(sql.SQL(
                "ALTER TABLE {}.idempotency_keys ADD COLUMN IF NOT EXISTS created boolean,"
                " ALTER COLUMN status_code DROP NOT NULL").format(sql.Identifier(SCHEMA)))
            # Where each tenant's chain switches to a new rule (infra/chain.py):
            # the insert functions read it; the chain itself covers it.
            curs.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.chain_versions ("
                " events_table text NOT NULL,"
                " version int NOT NULL,"
                " from_position bigint NOT NULL,"
                " link bytea NOT NULL,"
                " recorded_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (events_table, version))"
            ).format(sql.Identifier(SCHEMA)))
        self.datastore.db_type_names.add(STORED_EVENT_TYPE)
        self.datastore.register_type_adapters()

    def create_tenant_tables(self, tenant: Tenant) -> None:
        """Create or update the tenant's table and insert functions, and start
        chain v2 (recorded_at covered) for a tenant that has not yet.

        Two steps, in this order: the insert functions (which read the switch
        position on every call) are replaced and committed first; then, under
        the tenant's write lock, the switch is recorded after the last event.
        A write that began under the old function has taken the lock (or
        queued for it) before the switch does, so it lands below the switch,
        under the rule it used. The switch recorded, the functions are replaced
        once more, in the same transaction, with the switch written into them."""
        v2 = self.chain_v2(tenant) if self.hash_chain else None
        TenantRecorder(self.datastore, events_table_name=tenant.events_table,
                       hash_chain=self.hash_chain, v2=v2).create_table()
        if self.hash_chain and v2 is None:
            self._start_chain_v2(tenant)

    def _start_chain_v2(self, tenant: Tenant) -> None:
        """Record where chain v2 starts (once per tenant; later calls do nothing).

        Events stored before the chain existed (older databases) are first
        chained under v1. The old events keep their v1 hashes; the switch link
        covers the last of them, the switch position and every old event's
        recorded_at (infra/chain.py)."""
        from infra.chain import RecordedDigest, event_hash, genesis, switch_link

        table = sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))
        recorded = sql.SQL("SELECT 1 FROM {}.chain_versions WHERE events_table = %s AND version = 2").format(
            sql.Identifier(SCHEMA))
        with self.datastore.get_connection() as conn:
            if conn.execute(recorded, (tenant.events_table,)).fetchone() is not None:
                return
            with conn.transaction():
                conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
                if conn.execute(recorded, (tenant.events_table,)).fetchone() is not None:
                    return  # another process recorded it meanwhile
                conn.execute(sql.SQL("UPDATE {} SET recorded_at = now() WHERE recorded_at IS NULL").format(table))
                rows = conn.execute(sql.SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state, chain_hash,"
                    " recorded_at FROM {} ORDER BY notification_id").format(table)).fetchall()
                previous, digest, unchained = genesis(tenant.events_table), RecordedDigest(), []
                backfill = any(r["chain_hash"] is None for r in rows)
                for r in rows:
                    if backfill:  # the whole chain, as before v2: it never existed
                        previous = event_hash(previous, r["notification_id"], r["originator_id"],
                                              r["originator_version"], r["topic"], bytes(r["state"]))
                        unchained.append((previous, r["notification_id"]))
                    else:
                        previous = bytes(r["chain_hash"])
                    digest.add(r["notification_id"], r["recorded_at"])
                if unchained:
                    with conn.cursor() as cur:
                        cur.executemany(sql.SQL("UPDATE {} SET chain_hash = %s WHERE notification_id = %s"
                                                ).format(table), unchained)
                from_position = (rows[-1]["notification_id"] + 1) if rows else 1
                link = switch_link(tenant.events_table, from_position, previous, digest.digest())
                conn.execute(sql.SQL(
                    "INSERT INTO {}.chain_versions (events_table, version, from_position, link)"
                    " VALUES (%s, 2, %s, %s)").format(sql.Identifier(SCHEMA)),
                    (tenant.events_table, from_position, link))
                for statement in TenantRecorder(self.datastore, events_table_name=tenant.events_table,
                                                v2=(from_position, link)).function_statements:
                    conn.execute(statement)

    def chain_v2(self, tenant: Tenant) -> tuple[int, bytes] | None:
        """(position from which the tenant's events are chained under v2, the
        switch link), or None: not switched, every event is v1."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(sql.SQL("SELECT from_position, link FROM {}.chain_versions"
                                       " WHERE events_table = %s AND version = 2").format(sql.Identifier(SCHEMA)),
                               (tenant.events_table,)).fetchone()
        return (row["from_position"], bytes(row["link"])) if row else None

    def chain_v2_from(self, tenant: Tenant) -> int | None:
        v2 = self.chain_v2(tenant)
        return v2[0] if v2 else None

    def find_idempotent_response(self, tenant_id: UUID, key: str) -> tuple[str, bool, Any] | None:
        """(fingerprint, created, response) of an earlier request with this key."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT fingerprint, coalesce(created, status_code = 201) AS created, response"
                        " FROM {}.idempotency_keys "
                        "WHERE tenant_id = %s AND key = %s").format(sql.Identifier(SCHEMA)),
                (tenant_id, key),
            ).fetchone()
        if row is None:
            return None
        return row["fingerprint"], row["created"], row["response"]

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn:
            yield conn

    def issued_positions(self, tenants: Iterable[Tenant], conn: Any = None) -> list[tuple[Tenant, int]]:
        """The last position each of these tenants' sequences handed out, in one
        query for the whole database: cheap news of who may have written since.
        It can run ahead of the stored events (a rolled-back insert), so a
        caller that acts on it reads the tenant's table to be sure."""
        by_sequence = {f"{t.events_table}_notification_id_seq": t for t in tenants}
        if not by_sequence:
            return []
        with contextlib.nullcontext(conn) if conn is not None else self.connection() as c:
            rows = c.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s"
                             " AND last_value IS NOT NULL", (SCHEMA,)).fetchall()
        return [(by_sequence[r["sequencename"]], r["last_value"]) for r in rows if r["sequencename"] in by_sequence]

    def close(self) -> None:
        self.datastore.close()


class TenantStores:
    """Databases by key, and an LRU of tenant applications over their pools."""

    def __init__(self, databases: Mapping[str, EventStoreDatabase], *,
                 aggregate_cache_size: int = 1000, max_tenant_apps: int = 2000):
        self.databases = dict(databases)
        self.aggregate_cache_size = aggregate_cache_size
        self.max_tenant_apps = max_tenant_apps
        self._apps: OrderedDict[UUID, TenantApplication] = OrderedDict()
        self._lock = threading.Lock()

    def database(self, key: str) -> EventStoreDatabase:
        try:
            return self.databases[key]
        except KeyError:
            raise LookupError(f"tenant database {key!r} is not configured (TENANT_DATABASES)") from None

    def for_tenant(self, tenant: Tenant) -> TenantApplication:
        with self._lock:
            app = self._apps.get(tenant.id)
            if app is not None and app.tenant == tenant:
                self._apps.move_to_end(tenant.id)
                return app
        database = self.database(tenant.database)
        app = TenantApplication(tenant, database.datastore, self.aggregate_cache_size,
                                person_keys=database.person_keys, documents=database.documents)
        with self._lock:
            self._apps[tenant.id] = app
            self._apps.move_to_end(tenant.id)
            while len(self._apps) > self.max_tenant_apps:
                self._apps.popitem(last=False)
        return app

    def forget(self, tenant_id: UUID) -> None:
        with self._lock:
            self._apps.pop(tenant_id, None)

    def close(self) -> None:
        for db in self.databases.values():
            db.close()


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()
