"""What the audit pages read straight from a tenant's events table: who did
what and when, and the chain hash of each event.

Only the metadata (`_meta`: user, role, organisation, correlation id), the
event type, the record's id and version, and the hash leave this module; an
event's own data, personal fields included, is never returned.

Synchronous (psycopg, the tenant's own database); the pages call these in a
thread. The table name comes from the tenant, never from a request.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from infra.eventstore import META_KEY, SCHEMA, EventStoreDatabase, Tenant, make_transcoder

_transcoder = make_transcoder()

# The metadata as PostgreSQL reads it, for the filters on who (only these
# keys are read; `json`, not `jsonb`, so no other field is ever rejected).
_META = "(convert_from(state, 'UTF8')::json -> '_meta' ->> {})"


@dataclass(frozen=True)
class EventFilter:
    event_type: str | None = None  # the event's name, e.g. "HoursChanged"
    record_id: UUID | None = None
    user_id: UUID | None = None
    role: str | None = None
    since: datetime | None = None  # recorded at or after
    until: datetime | None = None  # recorded before


def _where(f: EventFilter, before: int | None) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    if before is not None:
        clauses.append(sql.SQL("notification_id < %s"))
        params.append(before)
    if f.event_type:
        # Topics are "module:Aggregate.EventName".
        clauses.append(sql.SQL("right(topic, %s) = %s"))
        params += [len(f.event_type) + 1, "." + f.event_type]
    if f.record_id is not None:
        clauses.append(sql.SQL("originator_id = %s"))
        params.append(f.record_id)
    if f.since is not None:
        clauses.append(sql.SQL("recorded_at >= %s"))
        params.append(f.since)
    if f.until is not None:
        clauses.append(sql.SQL("recorded_at < %s"))
        params.append(f.until)
    if f.user_id is not None:
        clauses.append(sql.SQL(_META.format("'user_id'") + " = %s"))
        params.append(str(f.user_id))
    if f.role:
        clauses.append(sql.SQL(_META.format("'role'") + " = %s"))
        params.append(f.role)
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses), params


def _meta(state: bytes) -> dict[str, Any]:
    try:
        meta = _transcoder.decode(state).get(META_KEY)
    except Exception:
        return {}  # not ours to read: the row still shows its position, type and hash
    return meta if isinstance(meta, dict) else {}


def event_history(database: EventStoreDatabase, tenant: Tenant, f: EventFilter, *,
                  before: int | None = None, limit: int = 50) -> tuple[list[dict[str, Any]], bool]:
    """The tenant's events matching `f`, newest first, below position `before`
    (keyset pagination); and whether there are older ones."""
    where, params = _where(f, before)
    select = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state, chain_hash, recorded_at"
        " FROM {}.{}{} ORDER BY notification_id DESC LIMIT %s").format(
        sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table), where)
    with database.connection() as conn:
        rows = conn.execute(select, (*params, limit + 1)).fetchall()
    out = []
    for r in rows[:limit]:
        meta = _meta(bytes(r["state"]))
        aggregate, _, name = r["topic"].rpartition(":")[2].rpartition(".")
        out.append({
            "position": r["notification_id"], "recorded_at": r["recorded_at"], "type": name,
            "aggregate": aggregate, "record_id": r["originator_id"], "version": r["originator_version"],
            "user_id": meta.get("user_id"), "role": meta.get("role"), "organisation": meta.get("organisation"),
            "correlation_id": meta.get("correlation_id"),
            "hash": bytes(r["chain_hash"]).hex() if r["chain_hash"] is not None else None,
        })
    return out, len(rows) > limit


def event_types(database: EventStoreDatabase, tenant: Tenant) -> list[str]:
    """The names of the kinds of event the tenant has stored (for the filter).

    A scan of the table's topics (no index on them): the page asks for it on
    a whole page only, not for each further page of results."""
    select = sql.SQL("SELECT DISTINCT topic FROM {}.{}").format(
        sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))
    with database.connection() as conn:
        topics = [r["topic"] for r in conn.execute(select).fetchall()]
    return sorted({t.rpartition(".")[2] for t in topics})


def chain_hash_at(database: EventStoreDatabase, tenant: Tenant, position: int) -> str | None:
    """The chain hash (hex) of the event at `position`, if there is one."""
    select = sql.SQL("SELECT chain_hash FROM {}.{} WHERE notification_id = %s").format(
        sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))
    with database.connection() as conn:
        row = conn.execute(select, (position,)).fetchone()
    return bytes(row["chain_hash"]).hex() if row and row["chain_hash"] is not None else None
