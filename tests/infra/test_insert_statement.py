"""The single-event insert as a prepared statement of our own, executed
through libpq (TenantRecorder._insert_one): it survives a session that lost
its prepared statements, keeps a bounded number per connection, reports the
database's refusals as before and recovers from a lost connection.

A database of one connection (pool size 1) makes "the same session" certain."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent

from infra import eventstore
from infra.bootstrap import System
from infra.eventstore import EventStoreDatabase, IdempotencyRecord, Tenant, TenantRecorder
from infra.personal_data import PersonErased
from projections.registry import PROJECTIONS
from tests.conftest import random_slug

pytestmark = pytest.mark.timeout(60)

# An event no projection handles: these tests store bytes that are not an
# event's state, and the workers of later tests catch up every tenant. No
# domain event: a projection may come to handle any of those (the listing
# handles every event of its records).
TOPIC = "tests.infra.test_insert_statement:OpaqueBytes"


def test_no_projection_reads_the_topic_these_tests_store_bytes_under() -> None:
    assert all(TOPIC.rsplit(".", 1)[-1].rsplit(":", 1)[-1] not in p.handles for p in PROJECTIONS)


@pytest.fixture
def single(database_url: str, system: System) -> Iterator[EventStoreDatabase]:
    db = EventStoreDatabase(database_url, pool_size=1)
    db.migrate()
    yield db
    db.close()


def recorder(db: EventStoreDatabase, tenant: Tenant) -> TenantRecorder:
    return TenantRecorder(db.datastore, events_table_name=tenant.events_table, tenant_id=tenant.id)


def prepared(db: EventStoreDatabase) -> list[str]:
    with db.datastore.get_connection() as conn:
        rows = conn.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'sroi_%%'"
                            " ORDER BY prepare_time").fetchall()
    return [r["name"] for r in rows]


def event(oid: uuid.UUID, version: int, state: bytes = b"\x00state\xff") -> StoredEvent:
    return StoredEvent(originator_id=oid, originator_version=version, topic=TOPIC, state=state)


def stored(db: EventStoreDatabase, tenant: Tenant) -> list[tuple[int, uuid.UUID, int, bytes]]:
    with db.datastore.get_connection() as conn:
        rows = conn.execute(f"SELECT notification_id, originator_id, originator_version, state"
                            f" FROM events.{tenant.events_table} ORDER BY notification_id").fetchall()
    return [(r["notification_id"], r["originator_id"], r["originator_version"], bytes(r["state"])) for r in rows]


def test_an_event_is_stored_with_its_bytes_and_position_through_the_prepared_statement(
        single: EventStoreDatabase, tenant: Tenant) -> None:
    rec, oid = recorder(single, tenant), uuid.uuid4()
    first = rec.insert_events([event(oid, 1, bytes(range(256)))])
    second = rec.insert_events([event(oid, 2)])
    assert second == [first[0] + 1]
    assert stored(single, tenant)[-2:] == [(first[0], oid, 1, bytes(range(256))), (second[0], oid, 2, b"\x00state\xff")]
    assert prepared(single) == [rec.insert_one_statement.decode()]


def test_a_session_that_lost_its_prepared_statements_prepares_again(
        single: EventStoreDatabase, tenant: Tenant) -> None:
    rec, oid = recorder(single, tenant), uuid.uuid4()
    rec.insert_events([event(oid, 1)])
    for reset in ("DEALLOCATE ALL", "DISCARD ALL"):
        with single.datastore.get_connection() as conn:
            conn.execute(reset)
        assert prepared(single) == []
        rec.insert_events([event(oid, 2 if reset == "DEALLOCATE ALL" else 3)])
        assert prepared(single) == [rec.insert_one_statement.decode()]
    assert [v for _, o, v, _ in stored(single, tenant) if o == oid] == [1, 2, 3]


def test_a_connection_keeps_at_most_prepared_max_insert_statements(
        single: EventStoreDatabase, system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventstore, "PREPARED_MAX", 2)
    tenants = [system.registry.create_tenant(random_slug(), f"Tenant {i}") for i in range(3)]
    recs = [recorder(single, t) for t in tenants]
    for i, rec in enumerate(recs):
        rec.insert_events([event(uuid.uuid4(), 1)])
    # The least recently used (the first tenant's) was deallocated.
    assert prepared(single) == [recs[1].insert_one_statement.decode(), recs[2].insert_one_statement.decode()]
    recs[0].insert_events([event(uuid.uuid4(), 1)])
    assert prepared(single) == [recs[2].insert_one_statement.decode(), recs[0].insert_one_statement.decode()]
    assert [len(stored(single, t)) for t in tenants] == [2, 1, 1]


def test_a_version_conflict_is_an_integrity_error_and_takes_no_position(
        single: EventStoreDatabase, tenant: Tenant) -> None:
    rec, oid = recorder(single, tenant), uuid.uuid4()
    [position] = rec.insert_events([event(oid, 1)])
    with pytest.raises(IntegrityError) as refused:
        rec.insert_events([event(oid, 1, b"other")])
    assert isinstance(refused.value.__cause__, psycopg.errors.UniqueViolation)
    assert rec.insert_events([event(oid, 2)]) == [position + 1]  # no gap in the sequence


def test_an_erased_person_is_refused_and_nothing_is_stored(
        single: EventStoreDatabase, system: System, tenant: Tenant) -> None:
    rec, oid, person = recorder(single, tenant), uuid.uuid4(), uuid.uuid4()
    rec.insert_events([event(oid, 1)], unerased=[person])
    with single.datastore.get_connection() as conn:
        conn.execute("INSERT INTO events.erasures (tenant_id, subject_id) VALUES (%s, %s)", (tenant.id, person))
    with pytest.raises(PersonErased):
        rec.insert_events([event(oid, 2)], unerased=[uuid.uuid4(), person])
    assert [v for _, o, v, _ in stored(single, tenant) if o == oid] == [1]


def test_an_idempotency_record_is_stored_with_the_event_in_its_own_text(
        single: EventStoreDatabase, tenant: Tenant) -> None:
    rec, oid = recorder(single, tenant), uuid.uuid4()
    body = {"id": str(oid), "opmerking": "één keer, ‘goed’ 👍"}
    record = IdempotencyRecord(tenant_id=tenant.id, key="sleutel-é-1", fingerprint="f" * 64,
                               created=True, response=body)
    rec.insert_events([event(oid, 1)], idempotency=record)
    assert single.find_idempotent_response(tenant.id, "sleutel-é-1") == ("f" * 64, True, body)
    # The same key again: refused on the key's constraint, and the event is not stored.
    with pytest.raises(IntegrityError) as refused:
        rec.insert_events([event(oid, 2)], idempotency=record)
    assert refused.value.__cause__.diag.constraint_name == "idempotency_keys_pkey"
    assert [v for _, o, v, _ in stored(single, tenant) if o == oid] == [1]


def test_a_lost_connection_fails_one_insert_and_the_next_one_succeeds(
        single: EventStoreDatabase, system: System, tenant: Tenant) -> None:
    rec, oid = recorder(single, tenant), uuid.uuid4()
    rec.insert_events([event(oid, 1)])
    with single.datastore.get_connection() as conn:
        pid = conn.info.backend_pid
    with system.stores.database("default").datastore.get_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(OperationalError):
        rec.insert_events([event(oid, 2)])
    rec.insert_events([event(oid, 2)])  # on a new connection, prepared again
    assert [v for _, o, v, _ in stored(single, tenant) if o == oid] == [1, 2]
