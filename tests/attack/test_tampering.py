"""Tampering with a tenant's history, as someone with write access to the
database (or to an export file) would: every change an auditor could be
misled by is found, by `sroi verify` (audit.verify_tenant) on the database
and by `sroi verify-export` on an export.

The one thing no chain can show is a consistent rewrite of events no signed
head covers yet; a worker signs each tenant's head within HEAD_SIGN_SECONDS of
a write, and the last tests show that the same rewrite is found once it has.
The figures (cases tried and found) are in docs/security.md, "Tamper evidence".
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from infra import audit
from infra.bootstrap import System
from infra.chain import RecordedDigest, event_hash, event_hash_v2, genesis, switch_link
from infra.eventstore import Tenant
from infra.export_verify import verify_export
from service import commands as c
from service.actor import Actor
from tests.conftest import random_slug
from tests.projections.conftest import spawn, subprocess_env, wait_until, worker_command  # noqa: F401

AGENCY = Actor(user_id=uuid.uuid4(), role="agency", organisation="Werkbedrijf Utrecht")


@dataclass
class Books:
    system: System
    tenant: Tenant

    @property
    def db(self):
        return self.system.stores.database(self.tenant.database)

    @property
    def platform(self):
        return self.system.stores.database("default")

    @property
    def table(self) -> sql.Composed:
        return sql.SQL("events.{}").format(sql.Identifier(self.tenant.events_table))

    def run(self, command: Any) -> Any:
        return self.system.ledger.execute(self.tenant, AGENCY, command)

    def feedback(self, placement: uuid.UUID, times: int) -> None:
        for i in range(times):
            self.run(c.GiveFeedback(placement_id=placement, score=4, from_role="agency", comment=f"Week {i}"))

    def rows(self) -> list[dict[str, Any]]:
        with self.db.connection() as conn:
            return conn.execute(sql.SQL("SELECT * FROM {} ORDER BY notification_id").format(self.table)).fetchall()

    def execute(self, query: str, params: tuple = ()) -> None:
        with self.db.connection() as conn, conn.transaction():
            conn.execute(sql.SQL(query).format(table=self.table), params)

    def sign(self) -> audit.SignedHead:
        return audit.sign_head(self.platform, self.db, self.tenant, audit.load_signing_key(self.system.settings))

    def verify(self, **kwargs: Any) -> audit.VerifyReport:
        return audit.verify_tenant(self.platform, self.db, self.tenant,
                                   public_key=audit.platform_public_key(self.system.settings),
                                   sign_within=self.system.settings.head_sign_seconds, **kwargs)

    def export(self, path: Path) -> bytes:
        key = audit.load_signing_key(self.system.settings)
        audit.export_tenant(self.platform, self.db, self.tenant, key, path)
        return base64.b64decode(audit.public_key_b64(key))

    def rewrite_from(self, position: int, state: Callable[[bytes], bytes] = lambda s: s,
                     recorded_at: Callable[[datetime], datetime] = lambda t: t) -> None:
        """What an attacker who knows the rule does: change the event at `position`
        and recompute every hash from there to the end, so the chain holds."""
        v2_from = self.db.chain_v2_from(self.tenant)
        previous, digest, switched = genesis(self.tenant.events_table), RecordedDigest(), False
        updates = []
        for r in self.rows():
            s, t = bytes(r["state"]), r["recorded_at"]
            if r["notification_id"] == position:
                s, t = state(s), recorded_at(t)
            if v2_from is not None and r["notification_id"] >= v2_from:
                if not switched:
                    previous, switched = switch_link(self.tenant.events_table, v2_from, previous,
                                                     digest.digest()), True
                previous = event_hash_v2(previous, r["notification_id"], r["originator_id"],
                                         r["originator_version"], r["topic"], s, t)
            else:
                previous = event_hash(previous, r["notification_id"], r["originator_id"],
                                      r["originator_version"], r["topic"], s)
                digest.add(r["notification_id"], t)
            if r["notification_id"] >= position:
                updates.append((s, t, previous, r["notification_id"]))
        with self.db.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(sql.SQL("UPDATE {} SET state = %s, recorded_at = %s, chain_hash = %s"
                                    " WHERE notification_id = %s").format(self.table), updates)


def history(system: System, tenant: Tenant, feedbacks: int = 6) -> tuple[Books, uuid.UUID]:
    books = Books(system, tenant)
    employer = uuid.UUID(books.run(c.RegisterEmployer(name="Bouwbedrijf De Vries B.V.")).body["id"])
    candidate = uuid.UUID(books.run(c.RegisterCandidate(
        full_name="Sanne Bakker", date_of_birth=date(1994, 4, 12), target_group="doelgroepregister",
        competences=["data-analyse"], support_needs="Tolk NGT bij overleg")).body["id"])
    placement = uuid.UUID(books.run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=None, vacancy_id=None,
        starts_on=date(2026, 1, 5), hours_per_week=Decimal("32"), permanent_contract=False)).body["id"])
    books.feedback(placement, feedbacks)
    return books, placement


def forged_meta(state: bytes, **changes: str) -> bytes:
    item = json.loads(state)
    item["_meta"].update(changes)
    return json.dumps(item).encode()


# -- on the database ---------------------------------------------------------------------
# Each case: a short history with a head signed over all of it; the case tampers and returns the first position that no longer holds.

def _byte(b: Books, p: list[int]) -> int:
    b.execute("UPDATE {table} SET state = overlay(state placing '\\x58'::bytea from 20 for 1)"
              " WHERE notification_id = %s", (p[4],))
    return p[4]


def _deletion(b: Books, p: list[int]) -> int:
    b.execute("DELETE FROM {table} WHERE notification_id = %s", (p[3],))
    return p[4]  # the first event that no longer links


def _swap(b: Books, p: list[int]) -> int:
    """Two feedback events trade places, each with its own hash and time."""
    rows = {r["notification_id"]: r for r in b.rows()}
    for mine, other in ((p[5], p[6]), (p[6], p[5])):
        b.execute("UPDATE {table} SET state = %s, chain_hash = %s, recorded_at = %s WHERE notification_id = %s",
                  (rows[other]["state"], rows[other]["chain_hash"], rows[other]["recorded_at"], mine))
    return p[5]


def _recorded_at(b: Books, p: list[int]) -> int:
    # Moves a placement's start out of `?known_at=` windows (the retention figures).
    b.execute("UPDATE {table} SET recorded_at = recorded_at - interval '40 days' WHERE notification_id = %s",
              (p[2],))
    return p[2]


def _metadata(field: str, value: str) -> Callable[[Books, list[int]], int]:
    def tamper(b: Books, p: list[int]) -> int:
        state = next(bytes(r["state"]) for r in b.rows() if r["notification_id"] == p[3])
        b.execute("UPDATE {table} SET state = %s WHERE notification_id = %s",
                  (forged_meta(state, **{field: value}), p[3]))
        return p[3]
    return tamper


def _truncate_below_head(b: Books, p: list[int]) -> int:
    b.execute("DELETE FROM {table} WHERE notification_id >= %s", (p[-2],))
    return p[-2]


def _rewrite_below_head(b: Books, p: list[int]) -> int:
    b.rewrite_from(p[4], state=lambda s: forged_meta(s, role="auditor"))
    return p[-1]  # the chain holds; it is not the chain the head signed


def _rewrite_below_head_and_head(b: Books, p: list[int]) -> int:
    b.rewrite_from(p[4], state=lambda s: forged_meta(s, organisation="FORGED"))
    last = b.rows()[-1]
    with b.platform.connection() as conn:
        conn.execute("UPDATE platform.chain_heads SET hash = %s WHERE tenant_id = %s",
                     (last["chain_hash"], b.tenant.id))
    return p[-1]


def _v2_switch_moved(b: Books, p: list[int]) -> int:
    with b.db.connection() as conn:
        conn.execute("UPDATE events.chain_versions SET from_position = %s WHERE events_table = %s",
                     (p[3], b.tenant.events_table))
    return p[0]


DATABASE_CASES = {
    "changed-byte-in-state": _byte,
    "deleted-event": _deletion,
    "swapped-events": _swap,
    "changed-recorded-at": _recorded_at,
    "changed-metadata-role": _metadata("role", "auditor"),
    "changed-metadata-organisation": _metadata("organisation", "FORGED"),
    "changed-metadata-user": _metadata("user_id", str(uuid.UUID(int=7))),
    "truncated-below-signed-head": _truncate_below_head,
    "rewritten-with-recomputed-hashes-under-signed-head": _rewrite_below_head,
    "rewritten-under-signed-head-and-head-row-edited": _rewrite_below_head_and_head,
    "moved-chain-v2-switch": _v2_switch_moved,
}


@pytest.mark.parametrize("tamper", DATABASE_CASES.values(), ids=DATABASE_CASES.keys())
def test_tampering_with_the_database_is_found_at_its_position(system, tenant, tamper):
    books, _ = history(system, tenant)
    books.sign()
    positions = [r["notification_id"] for r in books.rows()]
    assert books.verify().ok
    expected = tamper(books, positions)
    report = books.verify()
    assert not report.ok, report.message
    assert report.bad_position == expected, report.message


def test_tampering_is_not_covered_up_by_signing_a_new_head(system, tenant):
    """A head signed after tampering would make the tampering part of what was
    signed: the signer refuses instead (and so does an export)."""
    books, placement = history(system, tenant)
    books.sign()
    positions = [r["notification_id"] for r in books.rows()]
    books.rewrite_from(positions[2], state=lambda s: forged_meta(s, role="auditor"))
    books.feedback(placement, 1)
    with pytest.raises(audit.HeadNotExtending):
        books.sign()
    assert not books.verify().ok


def test_events_removed_above_the_signed_head_are_found_by_the_positions_handed_out(system, tenant):
    books, placement = history(system, tenant)
    books.sign()
    books.feedback(placement, 2)
    last = books.rows()[-1]["notification_id"]
    books.execute("DELETE FROM {table} WHERE notification_id = %s", (last,))
    report = books.verify()
    assert not report.ok and report.bad_position == last, report.message
    assert "removed from the end" in report.message


def test_removed_signed_heads_are_reported_once_the_tail_is_older_than_the_signing_bound(system, tenant):
    books, placement = history(system, tenant)
    books.sign()
    books.feedback(placement, 3)
    fresh = books.verify()
    assert fresh.ok and fresh.unsigned == 3 and fresh.warning is None
    assert "3 events not yet under a signed head" in fresh.message
    with books.platform.connection() as conn:
        conn.execute("DELETE FROM platform.chain_heads WHERE tenant_id = %s", (tenant.id,))
    later = books.verify(now=datetime.now(timezone.utc) + timedelta(minutes=5))
    assert later.unsigned == len(books.rows())
    assert later.warning and "not under a signed head" in later.warning


def test_a_head_row_of_someone_elses_making_does_not_verify(system, tenant):
    books, placement = history(system, tenant)
    books.sign()
    books.feedback(placement, 1)
    last = books.rows()[-1]
    with books.platform.connection() as conn:
        conn.execute("INSERT INTO platform.chain_heads (tenant_id, position, hash, signed_at, key_id,"
                     " public_key, signature) SELECT tenant_id, %s, %s, now(), key_id, public_key, signature"
                     " FROM platform.chain_heads WHERE tenant_id = %s",
                     (last["notification_id"], last["chain_hash"], tenant.id))
    report = books.verify()
    assert not report.ok and "does not verify" in report.message


# -- on an export file -------------------------------------------------------------------

def _events_of(lines: list[dict]) -> list[dict]:
    return [item for item in lines if item.get("type") == "event"]


def _x_byte(lines: list[dict]) -> int:
    e = _events_of(lines)[4]
    state = bytearray(base64.b64decode(e["state"]))
    state[19] ^= 0x01
    e["state"] = base64.b64encode(bytes(state)).decode()
    return e["position"]


def _x_deletion(lines: list[dict]) -> int:
    events = _events_of(lines)
    lines.remove(events[3])
    return events[4]["position"]


def _x_swap(lines: list[dict]) -> int:
    events = _events_of(lines)
    i, j = lines.index(events[5]), lines.index(events[6])
    lines[i], lines[j] = lines[j], lines[i]
    return events[6]["position"]  # now first, after position 5's predecessor: out of chain


def _x_recorded_at(lines: list[dict]) -> int:
    e = _events_of(lines)[2]
    e["recorded_at"] = (datetime.fromisoformat(e["recorded_at"]) - timedelta(days=40)).isoformat()
    return e["position"]


def _x_readable(field: str, value: str) -> Callable[[list[dict]], int]:
    def tamper(lines: list[dict]) -> int:
        e = _events_of(lines)[3]
        e["metadata"][field] = value
        return e["position"]
    return tamper


def _x_hashed_and_readable_metadata(lines: list[dict]) -> int:
    e = _events_of(lines)[3]
    e["state"] = base64.b64encode(forged_meta(base64.b64decode(e["state"]), role="auditor")).decode()
    e["metadata"]["role"] = "auditor"
    return e["position"]


def _x_truncated(lines: list[dict]) -> int:
    events = _events_of(lines)
    for e in events[-2:]:
        lines.remove(e)
    return events[-2]["position"]


def _x_rewritten_with_head(lines: list[dict]) -> int | None:
    """The attacker recomputes every hash after a change and puts the new last
    hash into the head: the head's signature no longer verifies."""
    from infra.export_verify import readable_metadata

    header = lines[0]
    events = _events_of(lines)
    events[4]["state"] = base64.b64encode(forged_meta(base64.b64decode(events[4]["state"]),
                                                      organisation="FORGED")).decode()
    events[4]["metadata"] = readable_metadata(base64.b64decode(events[4]["state"]))
    v2_from = header["chain"]["v2_from"]
    previous = switch_link(header["events_table"], v2_from, genesis(header["events_table"]),
                           RecordedDigest().digest())
    for e in events:
        previous = event_hash_v2(previous, e["position"], uuid.UUID(e["originator_id"]), e["version"], e["topic"],
                                 base64.b64decode(e["state"]), datetime.fromisoformat(e["recorded_at"]))
        e["hash"] = previous.hex()
    lines[-1]["hash"] = previous.hex()
    return None  # found at the head, not at an event


EXPORT_CASES = {
    "changed-byte-in-state": _x_byte,
    "deleted-event": _x_deletion,
    "swapped-events": _x_swap,
    "changed-recorded-at": _x_recorded_at,
    "changed-readable-metadata-role": _x_readable("role", "auditor"),
    "changed-readable-metadata-organisation": _x_readable("organisation", "FORGED"),
    "changed-readable-metadata-user": _x_readable("user_id", str(uuid.UUID(int=7))),
    "changed-hashed-and-readable-metadata": _x_hashed_and_readable_metadata,
    "truncated-below-signed-head": _x_truncated,
    "rewritten-with-recomputed-hashes-and-head": _x_rewritten_with_head,
}


@pytest.mark.parametrize("tamper", EXPORT_CASES.values(), ids=EXPORT_CASES.keys())
def test_tampering_with_an_export_is_found_offline(system, tenant, tmp_path, tamper):
    books, _ = history(system, tenant)
    public = books.export(tmp_path / "export.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "export.jsonl").read_text().splitlines()]
    assert verify_export(tmp_path / "export.jsonl", public).ok
    expected = tamper(lines)
    (tmp_path / "tampered.jsonl").write_text("".join(json.dumps(item) + "\n" for item in lines))
    report = verify_export(tmp_path / "tampered.jsonl", public)
    assert not report.ok, report.message
    if expected is not None:
        assert report.bad_position == expected, report.message
    else:
        assert "signature" in report.message


# -- the unsigned tail -------------------------------------------------------------------

def test_a_rewrite_of_events_no_head_covers_yet_is_the_documented_gap(system, tenant):
    """Within the signing interval a consistent rewrite of the newest events
    cannot be told from the real thing: verify says how many events that is."""
    books, placement = history(system, tenant)
    books.sign()
    books.feedback(placement, 2)
    last = books.rows()[-1]["notification_id"]
    books.rewrite_from(last, state=lambda s: forged_meta(s, role="auditor"))
    report = books.verify()
    assert report.ok and report.unsigned == 2


@pytest.mark.timeout(180)
def test_a_worker_signs_each_change_within_the_bound_after_which_a_rewrite_is_found(system, database_url, spawn):
    books, placement = history(system, system.registry.create_tenant(random_slug("heads"), "Werkbedrijf B.V."))
    audit.load_signing_key(system.settings)  # the key file exists before the worker reads it
    worker = spawn(worker_command() + ["--threads", "1"], subprocess_env(database_url, HEAD_SIGN_SECONDS="1"),
                   name="worker")

    def covered() -> bool:
        assert worker.proc.poll() is None, worker.output()[-3000:]
        head = audit.latest_signed_head(books.platform, books.tenant)
        return head is not None and head["position"] == books.rows()[-1]["notification_id"]

    wait_until(covered, 90, message="the worker's first signed head")
    books.feedback(placement, 1)
    written = time.monotonic()
    wait_until(covered, 30, poll=0.05, message="a head over the new event")
    # HEAD_SIGN_SECONDS=1, plus the scheduler's tick (2 s) and a busy machine's slack.
    assert time.monotonic() - written < 1 + 2 + 5
    assert books.verify().unsigned == 0
    last = books.rows()[-1]["notification_id"]
    books.rewrite_from(last, state=lambda s: forged_meta(s, role="auditor"))
    report = books.verify()
    assert not report.ok and report.bad_position == last, report.message


# -- the switch to chain v2 in an existing deployment -----------------------------------

def test_an_existing_deployment_switches_to_v2_without_rewriting_old_hashes(system):
    """A tenant whose events were chained under v1 (no recorded_at): the
    migration records the switch after its last event, old hashes stay, new
    events are chained under v2, and the old events' recorded_at is covered
    from then on."""
    from infra.eventstore import TenantRecorder

    tenant = system.registry.create_tenant(random_slug("old"), "Oud Werkbedrijf B.V.")
    database = system.stores.database(tenant.database)
    with database.connection() as conn:  # as a release before v2 left it: no switch recorded
        conn.execute("DELETE FROM events.chain_versions WHERE events_table = %s", (tenant.events_table,))
    TenantRecorder(database.datastore, events_table_name=tenant.events_table).create_table()
    books, placement = history(system, tenant)  # chained as v1 (the insert function finds no switch)
    old = {r["notification_id"]: bytes(r["chain_hash"]) for r in books.rows()}
    assert books.db.chain_v2_from(tenant) is None
    system.stores.database(tenant.database).create_tenant_tables(tenant)  # `sroi migrate`
    assert books.db.chain_v2_from(tenant) == max(old) + 1
    books.feedback(placement, 2)
    assert {r["notification_id"]: bytes(r["chain_hash"]) for r in books.rows() if r["notification_id"] in old} == old
    assert books.verify().ok
    books.execute("UPDATE {table} SET recorded_at = recorded_at - interval '1 day' WHERE notification_id = %s",
                  (min(old) + 1,))
    report = books.verify()
    assert not report.ok and report.bad_position == max(old) + 1, report.message
