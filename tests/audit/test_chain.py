"""The tenant hash chain: tampering is found at the right position, in the
database and in an export verified offline; concurrent writers make one chain."""
from __future__ import annotations

import base64
import threading
import uuid
from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from infra import audit
from infra.bootstrap import System
from infra.eventstore import Tenant
from infra.export_verify import verify_export
from service import commands as c
from service.actor import Actor
from service.errors import Conflict

AGENCY = Actor(user_id=uuid.uuid4(), role="agency", organisation="audit-test")


def _history(system: System, tenant: Tenant, feedbacks: int = 6) -> uuid.UUID:
    run = lambda cmd: system.ledger.execute(tenant, AGENCY, cmd)  # noqa: E731
    employer = uuid.UUID(run(c.RegisterEmployer(name="Bouwbedrijf De Vries B.V.")).body["id"])
    candidate = uuid.UUID(run(c.RegisterCandidate(
        full_name="Sanne Bakker", date_of_birth=date(1994, 4, 12), target_group="doelgroepregister",
        competences=["data-analyse"], support_needs="Tolk NGT bij overleg")).body["id"])
    placement = uuid.UUID(run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=None, vacancy_id=None,
        starts_on=date(2026, 1, 5), hours_per_week=Decimal("32"), permanent_contract=False)).body["id"])
    for i in range(feedbacks):
        run(c.GiveFeedback(placement_id=placement, score=4, from_role="agency", comment=f"Week {i}"))
    return placement


def _table(tenant: Tenant) -> sql.Composed:
    return sql.SQL("events.{}").format(sql.Identifier(tenant.events_table))


def _last_stored(system: System, tenant: Tenant) -> StoredEvent:
    with system.stores.database(tenant.database).connection() as conn:
        last = conn.execute(sql.SQL("SELECT originator_id, originator_version, topic, state FROM {}"
                                    " ORDER BY notification_id DESC LIMIT 1").format(_table(tenant))).fetchone()
    return StoredEvent(originator_id=last["originator_id"], originator_version=last["originator_version"],
                       topic=last["topic"], state=bytes(last["state"]))


def _verify(system: System, tenant: Tenant) -> audit.VerifyReport:
    db = system.stores.database(tenant.database)
    return audit.verify_tenant(system.stores.database("default"), db, tenant)


def _export(system: System, tenant: Tenant, path: Path) -> bytes:
    db = system.stores.database(tenant.database)
    key = audit.load_signing_key(system.settings)
    audit.export_tenant(system.stores.database("default"), db, tenant, key, path)
    return base64.b64decode(audit.public_key_b64(key))


def _positions(system: System, tenant: Tenant) -> list[int]:
    with system.stores.database(tenant.database).connection() as conn:
        return [r["notification_id"] for r in conn.execute(
            sql.SQL("SELECT notification_id FROM {} ORDER BY notification_id").format(_table(tenant))).fetchall()]


def test_an_untouched_history_verifies_in_the_database_and_offline(system, tenant, tmp_path):
    _history(system, tenant)
    assert _verify(system, tenant).ok
    public = _export(system, tenant, tmp_path / "export.jsonl")
    report = verify_export(tmp_path / "export.jsonl", public)
    assert report.ok, report.message
    assert report.events == len(_positions(system, tenant))


def test_one_changed_byte_is_found_at_its_position(system, tenant, tmp_path):
    _history(system, tenant)
    target = _positions(system, tenant)[4]
    public = _export(system, tenant, tmp_path / "before.jsonl")
    with system.stores.database(tenant.database).connection() as conn:
        conn.execute(sql.SQL("UPDATE {} SET state = overlay(state placing '\\x58'::bytea from 20 for 1)"
                             " WHERE notification_id = %s").format(_table(tenant)), (target,))
    report = _verify(system, tenant)
    assert not report.ok and report.bad_position == target
    # The same tampering in an export file, verified offline.
    lines = (tmp_path / "before.jsonl").read_text().splitlines()
    import json
    tampered = []
    for line in lines:
        item = json.loads(line)
        if item.get("type") == "event" and item["position"] == target:
            state = bytearray(base64.b64decode(item["state"]))
            state[19] ^= 0x01
            item["state"] = base64.b64encode(bytes(state)).decode()
        tampered.append(json.dumps(item))
    (tmp_path / "tampered.jsonl").write_text("\n".join(tampered) + "\n")
    offline = verify_export(tmp_path / "tampered.jsonl", public)
    assert not offline.ok and offline.bad_position == target


def test_a_removed_event_is_found_where_the_gap_is(system, tenant, tmp_path):
    _history(system, tenant)
    positions = _positions(system, tenant)
    removed = positions[3]
    public = _export(system, tenant, tmp_path / "export.jsonl")
    with system.stores.database(tenant.database).connection() as conn:
        conn.execute(sql.SQL("DELETE FROM {} WHERE notification_id = %s").format(_table(tenant)), (removed,))
    report = _verify(system, tenant)
    assert not report.ok and report.bad_position == positions[4]  # the first event that no longer links
    lines = [l for l in (tmp_path / "export.jsonl").read_text().splitlines()
             if f'"position": {removed},' not in l]
    (tmp_path / "gap.jsonl").write_text("\n".join(lines) + "\n")
    offline = verify_export(tmp_path / "gap.jsonl", public)
    assert not offline.ok and offline.bad_position == positions[4]


def test_a_removed_last_event_is_caught_by_the_signed_head(system, tenant, tmp_path):
    _history(system, tenant)
    positions = _positions(system, tenant)
    public = _export(system, tenant, tmp_path / "export.jsonl")  # signs the head at the last position
    with system.stores.database(tenant.database).connection() as conn:
        conn.execute(sql.SQL("DELETE FROM {} WHERE notification_id = %s").format(_table(tenant)),
                     (positions[-1],))
    report = _verify(system, tenant)
    assert not report.ok and report.bad_position == positions[-1]
    lines = (tmp_path / "export.jsonl").read_text().splitlines()
    without_last_event = lines[:-2] + lines[-1:]
    (tmp_path / "short.jsonl").write_text("\n".join(without_last_event) + "\n")
    offline = verify_export(tmp_path / "short.jsonl", public)
    assert not offline.ok and offline.bad_position == positions[-1]


def test_two_swapped_events_are_found_at_the_first_of_the_pair(system, tenant, tmp_path):
    _history(system, tenant)
    positions = _positions(system, tenant)
    a, b = positions[5], positions[6]
    with system.stores.database(tenant.database).connection() as conn, conn.transaction():
        rows = {r["notification_id"]: r for r in conn.execute(sql.SQL(
            "SELECT notification_id, state, chain_hash FROM {} WHERE notification_id = ANY(%s)").format(
            _table(tenant)), ([a, b],)).fetchall()}
        for mine, other in ((a, b), (b, a)):
            conn.execute(sql.SQL("UPDATE {} SET state = %s, chain_hash = %s WHERE notification_id = %s").format(
                _table(tenant)), (rows[other]["state"], rows[other]["chain_hash"], mine))
    report = _verify(system, tenant)
    assert not report.ok and report.bad_position == a


def test_a_signature_from_another_key_is_refused(system, tenant, tmp_path):
    _history(system, tenant, feedbacks=1)
    _export(system, tenant, tmp_path / "export.jsonl")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    other = base64.b64decode(audit.public_key_b64(Ed25519PrivateKey.generate()))
    report = verify_export(tmp_path / "export.jsonl", other)
    assert not report.ok and "signature" in report.message


def _feedback_writers(system: System, tenant: Tenant, placements: list[uuid.UUID],
                      rounds: int) -> tuple[list[threading.Thread], list[Exception]]:
    """Started threads, one a placement named, each giving `rounds` feedbacks
    (a Conflict, two writers on one placement, is fine); errors collected."""
    errors: list[Exception] = []

    def writer(placement: uuid.UUID) -> None:
        for i in range(rounds):
            try:
                system.ledger.execute(tenant, AGENCY, c.GiveFeedback(
                    placement_id=placement, score=3, from_role="coach", comment=f"ronde {i}"))
            except Conflict:
                pass
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

    threads = [threading.Thread(target=writer, args=(p,)) for p in placements]
    for t in threads:
        t.start()
    return threads, errors


def test_concurrent_writers_to_one_tenant_make_one_valid_chain(system, tenant):
    placements = [_history(system, tenant, feedbacks=0) for _ in range(4)]
    threads, errors = _feedback_writers(system, tenant, placements + placements, 25)
    for t in threads:
        t.join()
    assert not errors
    report = _verify(system, tenant)
    assert report.ok, report.message
    assert report.events == len(_positions(system, tenant)) >= 4 * 3 + 100


def test_a_write_refused_as_a_conflict_hands_out_no_position(system, tenant):
    """`sroi verify` reads a sequence ahead of the last event as events removed
    from the end; a conflicting write must therefore not take a position."""
    from eventsourcing.persistence import IntegrityError

    from infra.eventstore import BULK_MIN

    _history(system, tenant, feedbacks=1)
    app = system.stores.for_tenant(tenant)
    again = _last_stored(system, tenant)
    fresh = [replace(again, originator_id=uuid.uuid4(), originator_version=1) for _ in range(BULK_MIN)]
    # The one-event, the several-events and the bulk insert (a conflict after BULK_MIN new events).
    for events in ([again], [again, again], fresh + [again]):
        with pytest.raises(IntegrityError):
            app.recorder.insert_events(events)
    report = _verify(system, tenant)
    assert report.ok, report.message


# -- the bulk insert (a spreadsheet import's batch: one COPY, hashes in Python) ------------------------
def _import_employers(system: System, tenant: Tenant, n: int, prefix: str) -> None:
    """n employers through a spreadsheet import: one batch of n events (>= BULK_MIN: the bulk insert)."""
    from service import importing

    content = ("Sleutel;Naam\n" + "".join(f"{prefix}{i};Werkgever {prefix}{i}\n" for i in range(n))).encode()
    result = importing.confirm(system.ledger, tenant, AGENCY, importing.plan(importing._read(content), "employers", {}),
                               uuid.uuid4())
    assert result["new"] == n, result


def _recorded_times(system: System, tenant: Tenant) -> dict[int, object]:
    with system.stores.database(tenant.database).connection() as conn:
        return {r["notification_id"]: r["recorded_at"] for r in conn.execute(
            sql.SQL("SELECT notification_id, recorded_at FROM {}").format(_table(tenant))).fetchall()}


def test_a_bulk_insert_makes_one_chain_with_writers_beside_it(system, tenant):
    from infra.eventstore import BULK_MIN

    placements = [_history(system, tenant, feedbacks=0) for _ in range(2)]
    threads, errors = _feedback_writers(system, tenant, placements, 15)  # one writer a placement: no conflict
    for k in range(3):
        _import_employers(system, tenant, BULK_MIN + 36, f"B{k}-")
    for t in threads:
        t.join()
    assert not errors
    _history(system, tenant, feedbacks=1)  # single inserts go on after the bulk ones
    positions = _positions(system, tenant)
    assert positions == list(range(positions[0], positions[0] + len(positions)))  # no gap, none twice
    times = _recorded_times(system, tenant)
    batches = [t for t, n in Counter(times.values()).items() if n >= BULK_MIN]
    assert len(batches) == 3  # each import's batch went in as one, at one commit-order time
    report = _verify(system, tenant)
    assert report.ok, report.message
    history = 5  # events of a _history without feedback
    assert report.events == len(positions) == 2 * history + 30 + 3 * (BULK_MIN + 36) + history + 1


def test_a_bulk_insert_about_an_erased_person_is_refused_and_takes_no_position(system, tenant):
    from infra.eventstore import BULK_MIN
    from infra.personal_data import PersonErased

    _history(system, tenant, feedbacks=1)
    app = system.stores.for_tenant(tenant)
    last = _last_stored(system, tenant)
    fresh = [replace(last, originator_id=uuid.uuid4(), originator_version=1) for _ in range(BULK_MIN)]
    erased = uuid.uuid4()
    with system.stores.database(tenant.database).connection() as conn:
        conn.execute("INSERT INTO events.erasures (tenant_id, subject_id, erased_by) VALUES (%s, %s, %s)",
                     (tenant.id, erased, uuid.uuid4()))
    with pytest.raises(PersonErased):
        app.recorder.insert_events(fresh, unerased=[erased])
    report = _verify(system, tenant)
    assert report.ok, report.message
    assert report.events == len(_positions(system, tenant)) == 6  # nothing of the batch was stored


def test_a_bulk_insert_chains_a_v1_tenant_and_is_the_first_after_its_switch(system):
    """A tenant as a release before v2 left it (no switch recorded): the bulk
    insert chains by rule v1; after `sroi migrate` records the switch, the
    next batch (the first v2 event) links to the switch link."""
    from infra.eventstore import TenantRecorder
    from tests.conftest import random_slug

    tenant = system.registry.create_tenant(random_slug("old"), "Oud Werkbedrijf B.V.")
    database = system.stores.database(tenant.database)
    with database.connection() as conn:
        conn.execute("DELETE FROM events.chain_versions WHERE events_table = %s", (tenant.events_table,))
    TenantRecorder(database.datastore, events_table_name=tenant.events_table).create_table()
    _history(system, tenant, feedbacks=1)  # six events
    _import_employers(system, tenant, 80, "V1-")
    assert database.chain_v2_from(tenant) is None
    assert _verify(system, tenant).ok
    database.create_tenant_tables(tenant)  # `sroi migrate`: the switch after the last event
    switch = database.chain_v2_from(tenant)
    _import_employers(system, tenant, 80, "V2-")
    assert min(p for p in _positions(system, tenant) if p >= switch) == switch
    report = _verify(system, tenant)
    assert report.ok, report.message
    assert report.events == 6 + 80 + 80


def test_a_bulk_insert_is_refused_while_its_tenant_moves(system, tenant):
    """`sroi tenant move`'s refusal (a statement trigger) holds for the COPY too."""
    from eventsourcing.persistence import StoredEvent

    from infra.eventstore import BULK_MIN, TenantMoving
    from infra.tenant_move import _writable, refusing_writes

    _history(system, tenant, feedbacks=0)
    app = system.stores.for_tenant(tenant)
    fresh = [StoredEvent(originator_id=uuid.uuid4(), originator_version=1, topic="x", state=b"{}")
             for _ in range(BULK_MIN)]
    database = system.stores.database(tenant.database)
    with refusing_writes(database, tenant):
        pass
    try:
        with pytest.raises(TenantMoving):
            app.recorder.insert_events(fresh)
    finally:
        _writable(database, tenant)
    assert len(_positions(system, tenant)) == 5


def test_a_bulk_insert_stores_each_event_as_given_and_chains_it(system, tenant):
    """The bulk insert writes PostgreSQL's binary COPY format itself: every
    column must read back as given (sizes from empty to large, versions
    beyond 32 bits), one time for the batch, each hash the v2 rule's
    (infra/chain.py's reference functions, not the insert's shortcut); a
    recorder without the chain writes NULL hashes."""
    import os

    from infra import chain
    from infra.eventstore import BULK_MIN

    _history(system, tenant, feedbacks=1)
    app = system.stores.for_tenant(tenant)
    sizes = [0, 1, 255, 256, 65_535, 65_536, 300_000] + [37 * k for k in range(BULK_MIN)]
    given = [StoredEvent(originator_id=uuid.uuid4(), originator_version=[1, 2**31, 2**40][k % 3],
                         topic=f"domain.employer:Employer{'é' * (k % 4)}", state=os.urandom(size))
             for k, size in enumerate(sizes)]
    app.recorder.insert_events(given)
    app.recorder.hash_chain = False
    unchained = [replace(e, originator_id=uuid.uuid4()) for e in given[:BULK_MIN]]
    try:
        app.recorder.insert_events(unchained)
    finally:
        app.recorder.hash_chain = True
    with system.stores.database(tenant.database).connection() as conn:
        rows = conn.execute(sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state,"
                                    " chain_hash, recorded_at FROM {} ORDER BY notification_id").format(
                                        _table(tenant))).fetchall()
    stored = rows[-len(given) - len(unchained):-len(unchained)]
    assert [(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])) for r in stored] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in given]
    assert len({r["recorded_at"] for r in stored}) == 1
    prev = bytes(rows[-len(given) - len(unchained) - 1]["chain_hash"])
    for r in stored:
        assert bytes(r["chain_hash"]) == chain.event_hash_v2(prev, r["notification_id"], r["originator_id"],
                                                             r["originator_version"], r["topic"],
                                                             bytes(r["state"]), r["recorded_at"])
        prev = bytes(r["chain_hash"])
    last = rows[-len(unchained):]
    assert [(r["originator_id"], bytes(r["state"])) for r in last] == [(e.originator_id, e.state) for e in unchained]
    assert all(r["chain_hash"] is None for r in last)
