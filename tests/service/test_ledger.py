"""The ledger (service layer) against the real PostgreSQL: the stories of a
placement, who may do what, idempotent retries, concurrent changes and the
walls between tenants."""
from __future__ import annotations

import threading
import time
import uuid
from copy import deepcopy
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.contribution import Contribution
from domain.duties import PlacementDuties
from domain.placement import Placement
from domain.support import PlacementSupport
from domain.vacancy import Vacancy
from infra.bootstrap import System
from infra.eventstore import SCHEMA, Tenant, event_metadata
from service import commands as c
from service.actor import Actor
from service.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidReference,
    NotFound,
    PermissionDenied,
    TenantSuspended,
)
from service.ledger import Ledger
from tests.conftest import random_slug
from tests.service.conftest import (
    EVERY_COMMAND,
    Seeded,
    actor,
    event_count,
    new_id,
    open_vacancy,
    register_candidate,
    register_contract,
    seed,
    start_placement,
)

pytestmark = pytest.mark.timeout(60)

KINDS = {
    "employer": Employer,
    "contract": SocialReturnContract,
    "candidate": Candidate,
    "vacancy": Vacancy,
    "placement": Placement,
}

def feedback_on(system: System, tenant: Tenant, placement: uuid.UUID) -> list[dict[str, Any]]:
    """The feedback given on a placement, read from its history."""
    history = system.ledger.history(tenant, Actor.system(), Placement, placement)
    return [e["data"] for e in history if e["type"] == "FeedbackGiven"]


def types_of(history: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in history]


# -- the whole story of one placement ------------------------------------------------

def test_a_placement_is_recorded_from_registration_to_its_end_with_who_did_what(
        system: System, tenant: Tenant, agency: Actor) -> None:
    ledger = system.ledger

    def run(cmd: Any, corr: str) -> Any:
        return ledger.execute(tenant, agency, cmd, correlation_id=corr)

    employer = new_id(run(c.RegisterEmployer(name="Bouwbedrijf De Vries"), "req-employer"))
    contract = new_id(run(register_contract(employer), "req-contract"))
    candidate = new_id(run(register_candidate(), "req-candidate"))
    vacancy = new_id(run(open_vacancy(employer), "req-vacancy"))
    matched = run(c.MatchCandidate(vacancy_id=vacancy, candidate_id=candidate), "req-match")
    assert (matched.created, matched.body) == (
        True, {"vacancy_id": str(vacancy), "candidate_id": str(candidate)})

    started = run(start_placement(candidate, employer, contract, vacancy), "req-start")
    placement = new_id(started)

    # In the same save: the placement starts, its support record opens (seeded
    # from the person's stated needs), its duties record opens (the support
    # schemes judged), its contribution to the contract is reported and
    # valued, and the vacancy is filled (the last six notifications).
    app = system.stores.for_tenant(tenant)
    assert started.position == app.recorder.max_notification_id()
    last_six = app.recorder.select_notifications(started.position - 5, limit=6)
    contribution = Contribution.id_for_placement(placement)
    assert [(n.originator_id, n.topic.rsplit(".", 1)[-1]) for n in last_six] == [
        (placement, "PlacementStarted"), (PlacementSupport.id_for(placement), "SupportOpened"),
        (PlacementDuties.id_for(placement), "PlacementDutiesOpened"),
        (contribution, "ContributionReported"), (contribution, "ContributionValued"), (vacancy, "VacancyFilled")]
    filled = ledger.get(tenant, agency, Vacancy, vacancy)
    assert (filled.status, filled.placement_id) == ("filled", placement)
    vacancy_history = ledger.history(tenant, agency, Vacancy, vacancy)
    assert types_of(vacancy_history) == ["VacancyOpened", "CandidateMatched", "VacancyFilled"]
    assert vacancy_history[-1]["metadata"]["correlation_id"] == "req-start"

    feedback = run(c.GiveFeedback(placement_id=placement, score=4, from_role="coach",
                                  comment="Sanne is goed ingewerkt."), "req-feedback")
    assert (feedback.created, feedback.body) == (True, {"id": str(placement), "version": 2})
    hours = run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("32"),
                              effective_on=date(2025, 4, 1)), "req-hours")
    assert (hours.created, hours.body) == (False, {"id": str(placement), "version": 3})
    extended = run(c.ExtendPlacement(placement_id=placement, until=date(2026, 6, 30)), "req-extend")
    assert (extended.created, extended.body) == (False, {"id": str(placement), "version": 4})
    ended = run(c.EndPlacement(placement_id=placement, ends_on=date(2026, 3, 31),
                               reason="direct_employment"), "req-end")
    assert (ended.created, ended.body) == (False, {"id": str(placement), "version": 5})
    assert ended.position == app.recorder.max_notification_id()

    p = ledger.get(tenant, agency, Placement, placement)
    assert (p.is_active, p.ended_on, p.end_reason) == (False, date(2026, 3, 31), "direct_employment")
    assert p.planned_end_on == date(2026, 6, 30)
    assert p.hours_on(date(2025, 3, 1)) == Decimal("24")
    assert p.hours_on(date(2025, 5, 1)) == Decimal("32")
    assert [(f["score"], f["from_role"]) for f in feedback_on(system, tenant, placement)] == [
        (4, "coach")]

    history = ledger.history(tenant, agency, Placement, placement)
    assert types_of(history) == ["PlacementStarted", "FeedbackGiven", "HoursChanged",
                                 "PlacementExtended", "PlacementEnded"]
    assert [e["version"] for e in history] == [1, 2, 3, 4, 5]
    assert [e["metadata"]["correlation_id"] for e in history] == [
        "req-start", "req-feedback", "req-hours", "req-extend", "req-end"]
    recorded = []
    for e in history:
        meta = e["metadata"]
        assert meta["user_id"] == str(agency.user_id)
        assert meta["role"] == "agency"
        assert meta["organisation"] == agency.organisation
        at = datetime.fromisoformat(meta["recorded_at"])
        assert at.tzinfo is not None
        recorded.append(at)
    assert recorded == sorted(recorded)
    assert history[-1]["data"] == {"ends_on": date(2026, 3, 31), "reason": "direct_employment"}


def test_a_placement_on_a_vacancy_that_is_already_filled_is_refused_and_nothing_is_stored(
        system: System, seeded: Seeded, agency: Actor) -> None:
    other = new_id(system.ledger.execute(seeded.tenant, agency,
                                         register_candidate(full_name="Daan Visser")))
    before = event_count(system, seeded.tenant)
    with pytest.raises(InvalidReference) as refused:
        system.ledger.execute(seeded.tenant, agency, start_placement(
            other, seeded.employer, seeded.contract, seeded.vacancy))
    assert refused.value.field == "candidate_id"  # not matched to this vacancy
    # The matched candidate again: the vacancy is filled, so the start must not be stored either.
    with pytest.raises(Conflict):
        system.ledger.execute(seeded.tenant, agency, start_placement(
            seeded.candidate, seeded.employer, seeded.contract, seeded.vacancy))
    assert event_count(system, seeded.tenant) == before


def test_ending_a_placement_twice_is_a_conflict(system: System, seeded: Seeded, agency: Actor) -> None:
    end = c.EndPlacement(placement_id=seeded.placement, ends_on=date(2025, 6, 30), reason="resigned")
    system.ledger.execute(seeded.tenant, agency, end)
    before = event_count(system, seeded.tenant)
    with pytest.raises(Conflict):
        system.ledger.execute(seeded.tenant, agency, end)
    assert event_count(system, seeded.tenant) == before


@pytest.mark.parametrize(("cmd", "field"), [
    (lambda s: c.EndPlacement(placement_id=s.placement, ends_on=date(2025, 1, 31),
                              reason="resigned"), "ends_on"),
    (lambda s: c.EndPlacement(placement_id=s.placement, ends_on=date(2025, 6, 30),
                              reason="verhuisd"), "reason"),
    (lambda s: c.GiveFeedback(placement_id=s.placement, score=6, from_role="agency"), "score"),
    (lambda s: c.ChangeHours(placement_id=s.placement, hours_per_week=Decimal("61"),
                             effective_on=date(2025, 3, 1)), "hours_per_week"),
    (lambda s: register_contract(s.employer, ends_on=date(2024, 12, 31)), "ends_on"),
    (lambda s: register_contract(s.employer, rule_set="amsterdam-1999"), "rule_set"),
    (lambda s: register_candidate(target_group="onbekend"), "target_group"),
    (lambda s: register_contract(s.employer, contract_value_eur=Decimal("0")), "contract_value_eur"),
    (lambda s: register_contract(s.employer, contract_value_eur=Decimal("12.345")),
     "contract_value_eur"),
    (lambda s: register_contract(s.employer, obligation_percent=Decimal("101")), "obligation_percent"),
    pytest.param(
        lambda s: register_contract(s.employer, contract_value_eur=Decimal("1E+30")),
        "contract_value_eur", id="contract-worth-10^30"),
], ids=["end-before-start", "unknown-end-reason", "score-6", "hours-61",
        "contract-ends-before-start", "unknown-rule-set", "unknown-target-group",
        "contract-worth-nothing", "contract-in-tenths-of-cents", "obligation-101",
        "contract-worth-10^30"])
def test_invalid_input_names_the_field_and_stores_nothing(
        system: System, seeded: Seeded, agency: Actor, cmd: Any, field: str) -> None:
    before = event_count(system, seeded.tenant)
    with pytest.raises(InvalidInput) as refused:
        system.ledger.execute(seeded.tenant, agency, cmd(seeded))
    assert refused.value.field == field
    assert event_count(system, seeded.tenant) == before


# -- who may do what -----------------------------------------------------------------

@pytest.mark.parametrize("command", sorted(EVERY_COMMAND))
def test_an_auditor_may_read_but_not_issue_any_command(
        system: System, seeded: Seeded, command: str) -> None:
    auditor = actor("auditor")
    before = event_count(system, seeded.tenant)
    with pytest.raises(PermissionDenied):
        system.ledger.execute(seeded.tenant, auditor, EVERY_COMMAND[command](seeded))
    assert event_count(system, seeded.tenant) == before
    assert system.ledger.get(seeded.tenant, auditor, Placement, seeded.placement).id == seeded.placement


def test_an_employer_gives_feedback_on_its_own_placement_only(
        system: System, seeded: Seeded, agency: Actor) -> None:
    # A second employer in the same tenant, with its own placement.
    other = seed(system, seeded.tenant, agency, employer_name="Schoonmaakbedrijf Jansen",
                 candidate_name="Fatima Bakker")
    de_vries = actor("employer", employer_id=seeded.employer)
    before = event_count(system, seeded.tenant)

    with pytest.raises(NotFound):
        system.ledger.execute(seeded.tenant, de_vries, c.GiveFeedback(
            placement_id=other.placement, score=1, from_role="employer", comment="Niet goed."))
    with pytest.raises(NotFound):
        system.ledger.get(seeded.tenant, de_vries, Placement, other.placement)
    assert event_count(system, seeded.tenant) == before
    assert feedback_on(system, seeded.tenant, other.placement) == []

    done = system.ledger.execute(seeded.tenant, de_vries, c.GiveFeedback(
        placement_id=seeded.placement, score=5, from_role="employer", comment="Harde werker."))
    assert done.created
    feedback = feedback_on(system, seeded.tenant, seeded.placement)
    assert [(f["score"], f["from_role"]) for f in feedback] == [(5, "employer")]


@pytest.mark.parametrize("pretends", ["agency", "coach", "employee"])
def test_an_employer_gives_feedback_only_as_the_employer(
        system: System, seeded: Seeded, pretends: str) -> None:
    de_vries = actor("employer", employer_id=seeded.employer)
    before = event_count(system, seeded.tenant)
    with pytest.raises(InvalidInput) as refused:
        system.ledger.execute(seeded.tenant, de_vries, c.GiveFeedback(
            placement_id=seeded.placement, score=5, from_role=pretends))
    assert refused.value.field == "from_role"
    assert event_count(system, seeded.tenant) == before


def test_an_employer_may_not_end_even_its_own_placement(system: System, seeded: Seeded) -> None:
    de_vries = actor("employer", employer_id=seeded.employer)
    with pytest.raises(PermissionDenied):
        system.ledger.execute(seeded.tenant, de_vries, c.EndPlacement(
            placement_id=seeded.placement, ends_on=date(2025, 6, 30), reason="dismissed"))
    assert system.ledger.get(seeded.tenant, de_vries, Placement, seeded.placement).is_active


def test_an_employee_gives_feedback_on_their_own_placement_only(
        system: System, seeded: Seeded, agency: Actor) -> None:
    other = seed(system, seeded.tenant, agency, employer_name="Zorggroep Noord",
                 candidate_name="Lotte de Boer")
    sanne = actor("employee", candidate_id=seeded.candidate)
    before = event_count(system, seeded.tenant)

    with pytest.raises(NotFound):
        system.ledger.execute(seeded.tenant, sanne, c.GiveFeedback(
            placement_id=other.placement, score=2, from_role="employee"))
    with pytest.raises(InvalidInput) as as_employer:
        system.ledger.execute(seeded.tenant, sanne, c.GiveFeedback(
            placement_id=seeded.placement, score=2, from_role="employer"))
    assert as_employer.value.field == "from_role"
    with pytest.raises(NotFound):
        system.ledger.get(seeded.tenant, sanne, Candidate, other.candidate)
    assert event_count(system, seeded.tenant) == before

    done = system.ledger.execute(seeded.tenant, sanne, c.GiveFeedback(
        placement_id=seeded.placement, score=4, from_role="employee", comment="Fijne collega's."))
    assert done.created
    assert event_count(system, seeded.tenant) == before + 1


# -- idempotent retries --------------------------------------------------------------

def test_a_retried_command_with_the_same_key_is_stored_once_and_answered_the_same(
        system: System, seeded: Seeded, agency: Actor) -> None:
    cmd = c.GiveFeedback(placement_id=seeded.placement, score=4, from_role="coach",
                         comment="Loopt goed.")
    before = event_count(system, seeded.tenant)
    first = system.ledger.execute(seeded.tenant, agency, cmd, idempotency_key="fb-2025-03-01")
    after_first = event_count(system, seeded.tenant)
    second = system.ledger.execute(seeded.tenant, agency, cmd, idempotency_key="fb-2025-03-01")

    assert after_first == before + 1
    assert event_count(system, seeded.tenant) == after_first
    assert (first.replayed, second.replayed) == (False, True)
    assert (second.created, second.body) == (first.created, first.body)
    history = system.ledger.history(seeded.tenant, agency, Placement, seeded.placement)
    assert types_of(history).count("FeedbackGiven") == 1


def test_a_retried_creation_returns_the_same_new_id(system: System, tenant: Tenant, agency: Actor) -> None:
    cmd = c.RegisterEmployer(name="Hoveniersbedrijf Groen")
    first = system.ledger.execute(tenant, agency, cmd, idempotency_key="employer-groen")
    second = system.ledger.execute(tenant, agency, cmd, idempotency_key="employer-groen")
    assert second.replayed and second.body == first.body and second.created
    assert event_count(system, tenant) == 1
    # The replay's position: the head, at or past the first answer's (read-your-writes after a retry).
    later = system.ledger.execute(tenant, agency, c.RegisterEmployer(name="Schilders Blauw"))
    third = system.ledger.execute(tenant, agency, cmd, idempotency_key="employer-groen")
    assert first.position == 1 and second.position == 1 and third.position == later.position == 2


def test_the_same_key_for_a_different_command_is_refused_and_stores_nothing(
        system: System, seeded: Seeded, agency: Actor) -> None:
    system.ledger.execute(seeded.tenant, agency, c.GiveFeedback(
        placement_id=seeded.placement, score=4, from_role="coach"), idempotency_key="key-1")
    before = event_count(system, seeded.tenant)
    with pytest.raises(IdempotencyKeyReused):
        system.ledger.execute(seeded.tenant, agency, c.GiveFeedback(
            placement_id=seeded.placement, score=2, from_role="coach"), idempotency_key="key-1")
    with pytest.raises(IdempotencyKeyReused):
        system.ledger.execute(seeded.tenant, agency, c.EndPlacement(
            placement_id=seeded.placement, ends_on=date(2025, 6, 30), reason="resigned"),
            idempotency_key="key-1")
    assert event_count(system, seeded.tenant) == before


def test_the_same_key_in_two_tenants_are_two_different_requests(
        system: System, tenant: Tenant, other_tenant: Tenant, agency: Actor) -> None:
    cmd = c.RegisterEmployer(name="Bouwbedrijf De Vries")
    in_a = system.ledger.execute(tenant, agency, cmd, idempotency_key="shared-key")
    in_b = system.ledger.execute(other_tenant, agency, cmd, idempotency_key="shared-key")
    assert not in_a.replayed and not in_b.replayed
    assert in_a.body["id"] != in_b.body["id"]
    assert event_count(system, tenant) == 1 and event_count(system, other_tenant) == 1
    # Each tenant sees only its own employer.
    with pytest.raises(NotFound):
        system.ledger.get(tenant, agency, Employer, uuid.UUID(in_b.body["id"]))


def test_a_failed_command_does_not_use_up_its_key(system: System, seeded: Seeded, agency: Actor) -> None:
    with pytest.raises(InvalidInput):
        system.ledger.execute(seeded.tenant, agency, c.GiveFeedback(
            placement_id=seeded.placement, score=9, from_role="coach"), idempotency_key="retry-me")
    ok = system.ledger.execute(seeded.tenant, agency, c.GiveFeedback(
        placement_id=seeded.placement, score=3, from_role="coach"), idempotency_key="retry-me")
    assert ok.created and not ok.replayed


# -- concurrent changes --------------------------------------------------------------

def _meta(name: str) -> dict[str, str]:
    return {"user_id": str(uuid.UUID(int=0)), "role": "agency", "organisation": "test",
            "correlation_id": name, "recorded_at": datetime.now().astimezone().isoformat()}


def test_two_sessions_that_loaded_the_same_placement_cannot_both_save(
        system: System, seeded: Seeded, agency: Actor) -> None:
    app = system.stores.for_tenant(seeded.tenant)
    barrier = threading.Barrier(2, timeout=10)
    outcome: dict[str, str] = {}

    def session(name: str, change: Any) -> None:
        token = event_metadata.set(_meta(name))
        try:
            placement = app.repository.get(seeded.placement)
            change(placement)
            barrier.wait()  # both hold version 1 and a pending version 2
            try:
                app.save(placement)
                outcome[name] = "saved"
            except IntegrityError:
                outcome[name] = "conflict"
        finally:
            event_metadata.reset(token)

    threads = [
        threading.Thread(target=session, args=("ender", lambda p: p.end(date(2025, 6, 30), "resigned"))),
        threading.Thread(target=session, args=("reviewer", lambda p: p.give_feedback(5, "coach", "Top."))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcome.values()) == ["conflict", "saved"]
    winner = next(name for name, result in outcome.items() if result == "saved")
    history = system.ledger.history(seeded.tenant, agency, Placement, seeded.placement)
    assert types_of(history) == ["PlacementStarted",
                                 "PlacementEnded" if winner == "ender" else "FeedbackGiven"]
    assert history[-1]["metadata"]["correlation_id"] == winner
    # The loser's change left no trace in this process's cache either.
    for placement in (app.repository.get(seeded.placement),
                      system.ledger.get(seeded.tenant, agency, Placement, seeded.placement)):
        assert placement.version == 2
        assert placement.is_active == (winner == "reviewer")


def _queued_behind(conn: psycopg.Connection, holder_pid: int) -> int:
    """How many backends wait, directly or through another waiter, on `holder_pid`."""
    return conn.execute(
        "WITH RECURSIVE waiting(pid) AS ("
        " SELECT pid FROM pg_stat_activity WHERE %(holder)s = ANY(pg_blocking_pids(pid))"
        " UNION"
        " SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY(pg_blocking_pids(a.pid))"
        ") SELECT count(*) FROM waiting", {"holder": holder_pid}).fetchone()[0]


def _race_behind_table_lock(system: System, tenant: Tenant, calls: list[Any]) -> list[Any]:
    """Run the calls in threads while this test holds the tenant's events-table
    write lock, so all of them load the same state and queue up to save; then
    release. Deterministic: every call reaches its save before any commits."""
    results: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as e:  # noqa: BLE001 - the outcome is what is tested
            results[i] = e

    with psycopg.connect(system.database_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(f'LOCK TABLE "{SCHEMA}"."{tenant.events_table}" IN EXCLUSIVE MODE')
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 8
            with psycopg.connect(system.database_url, autocommit=True) as probe:
                while _queued_behind(probe, conn.info.backend_pid) < len(calls):
                    assert time.monotonic() < deadline, "the commands never queued up to save"
                    assert all(t.is_alive() for t in threads), results
                    time.sleep(0.01)
        # Lock released: the queue drains.
        for t in threads:
            t.join(20)
    return results


def test_two_agents_ending_the_same_placement_at_once_one_wins_the_other_gets_a_conflict(
        system: System, seeded: Seeded, agency: Actor) -> None:
    colleague = actor("agency")
    ledger = system.ledger
    results = _race_behind_table_lock(system, seeded.tenant, [
        lambda: ledger.execute(seeded.tenant, agency, c.EndPlacement(
            placement_id=seeded.placement, ends_on=date(2025, 6, 30), reason="resigned"),
            correlation_id="end-by-anna"),
        lambda: ledger.execute(seeded.tenant, colleague, c.EndPlacement(
            placement_id=seeded.placement, ends_on=date(2025, 7, 31), reason="dismissed"),
            correlation_id="end-by-bram"),
    ])
    wins = [r for r in results if not isinstance(r, Exception)]
    assert len(wins) == 1, results
    loser = next(r for r in results if isinstance(r, Exception))
    assert isinstance(loser, Conflict), repr(loser)
    winner = "end-by-anna" if results[0] is wins[0] else "end-by-bram"
    history = ledger.history(seeded.tenant, agency, Placement, seeded.placement)
    assert types_of(history) == ["PlacementStarted", "PlacementEnded"]
    assert history[-1]["metadata"]["correlation_id"] == winner


def test_a_concurrent_retry_with_the_same_key_is_answered_from_the_first(
        system: System, seeded: Seeded, agency: Actor) -> None:
    cmd = c.GiveFeedback(placement_id=seeded.placement, score=4, from_role="coach")
    before = event_count(system, seeded.tenant)
    results = _race_behind_table_lock(system, seeded.tenant, [
        lambda: system.ledger.execute(seeded.tenant, agency, cmd, idempotency_key="double-click"),
        lambda: system.ledger.execute(seeded.tenant, agency, cmd, idempotency_key="double-click"),
    ])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.replayed for r in results) == [False, True]
    assert results[0].body == results[1].body
    assert event_count(system, seeded.tenant) == before + 1


def test_ten_coaches_giving_feedback_on_one_placement_at_once_are_all_stored(
        system: System, seeded: Seeded) -> None:
    """Every one of them still fits after a refresh, so none may get a 409 (a
    single retry lost up to 7 of 20 parallel posts)."""
    ledger = system.ledger
    coaches = [actor("agency") for _ in range(10)]  # the pool holds 12 connections
    results = _race_behind_table_lock(system, seeded.tenant, [
        (lambda who=who, n=n: ledger.execute(seeded.tenant, who, c.GiveFeedback(
            placement_id=seeded.placement, score=n % 5 + 1, from_role="coach"), correlation_id=f"coach-{n}"))
        for n, who in enumerate(coaches)
    ])
    assert not [r for r in results if isinstance(r, Exception)], results
    history = system.ledger.history(seeded.tenant, coaches[0], Placement, seeded.placement)
    feedback = [e for e in history if e["type"] == "FeedbackGiven"]
    assert sorted(e["metadata"]["correlation_id"] for e in feedback) == sorted(f"coach-{n}" for n in range(10))
    assert [e["version"] for e in history] == list(range(1, len(history) + 1))


def test_a_command_that_keeps_losing_its_race_ends_in_a_conflict_after_a_bounded_number_of_tries(
        system: System, seeded: Seeded, agency: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy that never catches up (here: refreshing is switched off and the
    cache holds an old version) loses every save; the ledger stops after its
    bound with a clear Conflict, having stored nothing."""
    app = system.stores.for_tenant(seeded.tenant)
    stale = deepcopy(app.repository.get(seeded.placement))
    system.ledger.execute(seeded.tenant, agency, c.GiveFeedback(
        placement_id=seeded.placement, score=4, from_role="coach"))
    app.repository.cache.put(seeded.placement, stale)
    monkeypatch.setattr(Ledger, "_refresh", staticmethod(lambda app, unit: None))
    saves: list[int] = []
    real_save = app.save
    monkeypatch.setattr(app, "save", lambda *a, **k: (saves.append(1), real_save(*a, **k))[1])
    bounded = Ledger(system.stores, conflict_attempts=4)
    before = event_count(system, seeded.tenant)
    with pytest.raises(Conflict, match="changed by another request"):
        bounded.execute(seeded.tenant, agency, c.GiveFeedback(
            placement_id=seeded.placement, score=2, from_role="coach"))
    assert len(saves) == 4
    assert event_count(system, seeded.tenant) == before
    app.repository.cache.get(seeded.placement, evict=True)


@pytest.mark.parametrize("kind", ["end", "feedback"])
def test_concurrent_changes_to_one_placement_never_lose_or_duplicate_an_event(
        system: System, tenant: Tenant, agency: Actor, kind: str) -> None:
    ledger = system.ledger
    employer = new_id(ledger.execute(tenant, agency, c.RegisterEmployer(name="Bouwbedrijf De Vries")))
    candidate = new_id(ledger.execute(tenant, agency, register_candidate()))
    colleague = actor("agency")

    def change(who: Actor, placement: uuid.UUID, n: int) -> Any:
        if kind == "end":
            return c.EndPlacement(placement_id=placement, ends_on=date(2025, 6, n),
                                  reason="contract_ended")
        return c.GiveFeedback(placement_id=placement, score=n, from_role="coach")

    for round_ in range(20):
        placement = new_id(ledger.execute(tenant, agency, start_placement(candidate, employer)))
        barrier = threading.Barrier(2, timeout=10)
        results: list[Any] = [None, None]

        def worker(i: int, who: Actor) -> None:
            barrier.wait()
            try:
                results[i] = ledger.execute(tenant, who, change(who, placement, i + 1))
            except Exception as e:  # noqa: BLE001
                results[i] = e

        threads = [threading.Thread(target=worker, args=(0, agency)),
                   threading.Thread(target=worker, args=(1, colleague))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        successes = [r for r in results if not isinstance(r, Exception)]
        conflicts = [r for r in results if isinstance(r, Conflict)]
        assert len(successes) + len(conflicts) == 2, (round_, results)
        history = ledger.history(tenant, agency, Placement, placement)
        changes = history[1:]
        assert len(changes) == len(successes), (round_, results, types_of(history))
        assert [e["version"] for e in history] == list(range(1, len(history) + 1))
        if kind == "end":
            assert len(successes) == 1, (round_, results)
            assert types_of(changes) == ["PlacementEnded"]
        else:
            assert sorted(e["data"]["score"] for e in changes) == sorted(
                i + 1 for i, r in enumerate(results) if not isinstance(r, Exception))


def test_a_save_waiting_on_one_tenants_lock_does_not_hold_up_another_tenant(
        system: System, settings: Any, database_url: str, agency: Actor) -> None:
    """Regression: with one idle connection and pool_open_timeout set, every checkout
    waited for the pool to refill, and a second waiter died on psycopg_pool's
    `assert not self._pool_full_event` (infra/eventstore.py, EventStoreDatabase)."""
    from infra.bootstrap import bootstrap

    # A just-started process (its pool holds one connection); `system` has migrated.
    fresh = bootstrap(settings, database_url=database_url, migrate=False)
    try:
        utrecht = fresh.registry.create_tenant(random_slug("utr"), "Werkbedrijf Utrecht")
        zwolle = fresh.registry.create_tenant(random_slug("zwl"), "Werkbedrijf Zwolle")
        in_utrecht = seed(fresh, utrecht, agency)
        in_zwolle = seed(fresh, zwolle, agency, employer_name="Zorggroep Zwolle")
        results: dict[str, Any] = {}

        def run(name: str, tenant: Tenant, cmd: Any) -> None:
            try:
                results[name] = fresh.ledger.execute(tenant, agency, cmd)
            except Exception as e:  # noqa: BLE001
                results[name] = e

        feedback = c.GiveFeedback(placement_id=in_zwolle.placement, score=4, from_role="coach")
        with psycopg.connect(database_url, autocommit=True) as lock, lock.transaction():
            lock.execute(f'LOCK TABLE "{SCHEMA}"."{utrecht.events_table}" IN EXCLUSIVE MODE')
            slow = threading.Thread(target=run, args=("utrecht", utrecht, c.EndPlacement(
                placement_id=in_utrecht.placement, ends_on=date(2025, 6, 30), reason="resigned")))
            slow.start()
            with psycopg.connect(database_url, autocommit=True) as probe:
                deadline = time.monotonic() + 5
                while _queued_behind(probe, lock.info.backend_pid) < 1:
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
            others = [threading.Thread(target=run, args=(f"zwolle-{i}", zwolle, feedback))
                      for i in range(2)]
            for t in others:
                t.start()
            for t in others:
                t.join(3)
            during = {k: v for k, v in results.items() if k.startswith("zwolle")}
        slow.join(20)
        for t in others:
            t.join(20)
        assert sorted(during) == ["zwolle-0", "zwolle-1"], during
        assert all(r.created for r in during.values()), during
    finally:
        fresh.close()


def test_two_agents_placing_different_candidates_on_one_vacancy_fill_it_once(
        system: System, seeded: Seeded, agency: Actor) -> None:
    ledger = system.ledger
    second = new_id(ledger.execute(seeded.tenant, agency, register_candidate(full_name="Daan Visser")))
    ledger.execute(seeded.tenant, agency, open_vacancy(seeded.employer, title="Magazijnmedewerker"))
    vacancy = new_id(ledger.execute(seeded.tenant, agency, open_vacancy(seeded.employer,
                                                                        title="Heftruckchauffeur")))
    for who in (seeded.candidate, second):
        ledger.execute(seeded.tenant, agency, c.MatchCandidate(vacancy_id=vacancy, candidate_id=who))
    before = event_count(system, seeded.tenant)

    results = _race_behind_table_lock(system, seeded.tenant, [
        lambda: ledger.execute(seeded.tenant, agency, start_placement(
            seeded.candidate, seeded.employer, vacancy_id=vacancy)),
        lambda: ledger.execute(seeded.tenant, actor("agency"), start_placement(
            second, seeded.employer, vacancy_id=vacancy)),
    ])
    wins = [r for r in results if not isinstance(r, Exception)]
    assert len(wins) == 1 and any(isinstance(r, Conflict) for r in results), results
    history = ledger.history(seeded.tenant, agency, Vacancy, vacancy)
    assert types_of(history).count("VacancyFilled") == 1
    assert history[-1]["data"]["placement_id"] == uuid.UUID(wins[0].body["id"])
    # The winner's placement, its support and duties records and the fill; nothing of the loser.
    assert event_count(system, seeded.tenant) == before + 4


@pytest.fixture(scope="module")
def other_process(settings: Any, database_url: str, system: System) -> Any:
    """A second process on the same database (another web worker, the CLI)."""
    from infra.bootstrap import bootstrap

    other = bootstrap(settings, database_url=database_url, migrate=False)
    yield other
    other.close()


def test_a_placement_on_a_contract_closed_by_another_process_is_refused(
        system: System, other_process: System, seeded: Seeded, agency: Actor) -> None:
    other_process.ledger.execute(seeded.tenant, agency, c.CloseContract(
        contract_id=seeded.contract, closed_on=date(2025, 3, 1), reason="Vroegtijdig beëindigd"))
    before = event_count(system, seeded.tenant)
    with pytest.raises(InvalidReference) as refused:
        system.ledger.execute(seeded.tenant, agency, start_placement(
            seeded.candidate, seeded.employer, seeded.contract))
    assert refused.value.field == "contract_id"
    assert event_count(system, seeded.tenant) == before


def test_an_authority_sees_placements_by_the_contracts_current_authority(
        system: System, other_process: System, seeded: Seeded, agency: Actor) -> None:
    """Regression: Unit.visible read the placement's contract from this process's cache,
    never brought up to date, so another process's amendment went unseen."""
    utrecht = actor("authority", organisation="Gemeente Utrecht")
    amersfoort = actor("authority", organisation="Gemeente Amersfoort")
    assert system.ledger.get(seeded.tenant, utrecht, Placement, seeded.placement)  # cached here
    other_process.ledger.execute(seeded.tenant, agency, c.AmendContract(
        contract_id=seeded.contract, changes={"contracting_authority": "Gemeente Amersfoort"}))
    assert system.ledger.get(seeded.tenant, amersfoort, SocialReturnContract, seeded.contract)
    with pytest.raises(NotFound):
        system.ledger.get(seeded.tenant, utrecht, Placement, seeded.placement)
    assert system.ledger.get(seeded.tenant, amersfoort, Placement, seeded.placement)


def test_an_authority_sees_its_own_contracts_and_their_placements_only(
        system: System, seeded: Seeded, agency: Actor) -> None:
    utrecht = actor("authority", organisation="Gemeente Utrecht")
    harlingen = actor("authority", organisation="Gemeente Harlingen")
    assert system.ledger.get(seeded.tenant, utrecht, SocialReturnContract, seeded.contract)
    assert system.ledger.get(seeded.tenant, utrecht, Placement, seeded.placement)
    assert types_of(system.ledger.history(seeded.tenant, utrecht, Placement, seeded.placement)) == [
        "PlacementStarted"]
    for kind in ("employer", "candidate", "vacancy"):
        with pytest.raises(NotFound):
            system.ledger.get(seeded.tenant, utrecht, KINDS[kind], getattr(seeded, kind))
    for kind in ("contract", "placement"):
        with pytest.raises(NotFound):
            system.ledger.get(seeded.tenant, harlingen, KINDS[kind], getattr(seeded, kind))
    # A placement without a contract is no authority's business.
    loose = new_id(system.ledger.execute(seeded.tenant, agency, start_placement(
        seeded.candidate, seeded.employer)))
    with pytest.raises(NotFound):
        system.ledger.get(seeded.tenant, utrecht, Placement, loose)
    with pytest.raises(PermissionDenied):
        system.ledger.execute(seeded.tenant, utrecht, c.GiveFeedback(
            placement_id=seeded.placement, score=3, from_role="agency"))


def test_a_candidate_states_their_own_support_needs_only(
        system: System, seeded: Seeded, agency: Actor) -> None:
    other = new_id(system.ledger.execute(seeded.tenant, agency,
                                         register_candidate(full_name="Fatima Bakker")))
    sanne = actor("employee", candidate_id=seeded.candidate)
    done = system.ledger.execute(seeded.tenant, sanne, c.StateSupportNeeds(
        candidate_id=seeded.candidate, support_needs="Liever geen telefoondiensten."))
    assert not done.created
    assert system.ledger.get(seeded.tenant, agency, Candidate, seeded.candidate).support_needs == \
        "Liever geen telefoondiensten."
    before = event_count(system, seeded.tenant)
    with pytest.raises(NotFound):
        system.ledger.execute(seeded.tenant, sanne, c.StateSupportNeeds(
            candidate_id=other, support_needs="Iets anders."))
    assert event_count(system, seeded.tenant) == before


# -- walls between tenants -----------------------------------------------------------

@pytest.fixture(scope="module")
def two_tenants(system: System) -> tuple[Tenant, Seeded, Tenant, Seeded]:
    agency = Actor(user_id=uuid.uuid4(), role="agency", organisation="werkbedrijf")
    a = system.registry.create_tenant(random_slug("a"), "Werkbedrijf Utrecht")
    b = system.registry.create_tenant(random_slug("b"), "Werkbedrijf Harlingen")
    return a, seed(system, a, agency), b, seed(system, b, agency, employer_name="Visserij Harlingen",
                                                 candidate_name="Jan Postma")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_tenant_cannot_see_another_tenants_records(
        system: System, two_tenants: Any, agency: Actor, kind: str) -> None:
    a, _, b, seeded_b = two_tenants
    b_id = getattr(seeded_b, kind)
    assert system.ledger.get(b, agency, KINDS[kind], b_id).id == b_id  # it exists, in B
    with pytest.raises(NotFound):
        system.ledger.get(a, agency, KINDS[kind], b_id)
    with pytest.raises(NotFound):
        system.ledger.history(a, agency, KINDS[kind], b_id)


def _b_ids_in_a(seeded_a: Seeded, seeded_b: Seeded, kind: str) -> Seeded:
    """Tenant B's ids where the command takes them; tenant A's own for the rest,
    so that only B's id can be the reason for a refusal."""
    if kind == "MatchCandidate_body":
        return Seeded(seeded_a.tenant, seeded_a.employer, seeded_a.contract, seeded_b.candidate,
                      seeded_a.vacancy, seeded_a.placement)
    return seeded_b


# Commands whose target is given by id answer NotFound; an id inside the body
# is an InvalidReference naming the field, exactly as for an id that exists nowhere.
ISOLATION_CASES = {
    "AddContactPerson": None, "AmendContract": None, "CloseContract": None,
    "StateSupportNeeds": None, "MatchCandidate": None, "CloseVacancy": None,
    "GiveFeedback": None, "ChangeHours": None, "ExtendPlacement": None, "EndPlacement": None,
    "RegisterContract": "employer_id", "OpenVacancy": "employer_id",
    "StartPlacement": "candidate_id", "MatchCandidate_body": "candidate_id",
}


@pytest.mark.parametrize("case", sorted(ISOLATION_CASES))
def test_a_tenant_cannot_change_another_tenants_records(
        system: System, two_tenants: Any, agency: Actor, case: str) -> None:
    a, seeded_a, b, seeded_b = two_tenants
    command_name = case.removesuffix("_body")
    ids = _b_ids_in_a(seeded_a, seeded_b, case)
    before_a, before_b = event_count(system, a), event_count(system, b)
    b_history = {kind: system.ledger.history(b, agency, cls, getattr(seeded_b, kind))
                 for kind, cls in KINDS.items()}

    field = ISOLATION_CASES[case]
    with pytest.raises(InvalidReference if field else NotFound) as refused:
        system.ledger.execute(a, agency, EVERY_COMMAND[command_name](ids))
    if field:
        assert refused.value.field == field
        # The same answer as for an id that exists nowhere.
        nowhere = uuid.uuid4()
        ghost = Seeded(a, *(nowhere if getattr(ids, f) == getattr(seeded_b, f) else getattr(ids, f)
                            for f in ("employer", "contract", "candidate", "vacancy", "placement")))
        with pytest.raises(InvalidReference) as for_nothing:
            system.ledger.execute(a, agency, EVERY_COMMAND[command_name](ghost))
        assert for_nothing.value.field == field
        assert str(refused.value).replace(str(getattr(seeded_b, field.removesuffix("_id"))), "?") == \
            str(for_nothing.value).replace(str(nowhere), "?")

    assert (event_count(system, a), event_count(system, b)) == (before_a, before_b)
    assert {kind: system.ledger.history(b, agency, cls, getattr(seeded_b, kind))
            for kind, cls in KINDS.items()} == b_history


# -- a suspended tenant --------------------------------------------------------------

@pytest.mark.parametrize("command", ["RegisterEmployer", "GiveFeedback", "EndPlacement"])
def test_a_suspended_tenant_cannot_issue_commands_but_keeps_its_history(
        system: System, agency: Actor, command: str) -> None:
    tenant = system.registry.create_tenant(random_slug("sus"), "Werkbedrijf Zwolle")
    seeded = seed(system, tenant, agency)
    before = event_count(system, tenant)
    suspended = system.registry.set_status(tenant.slug, "suspended")
    with pytest.raises(TenantSuspended):
        system.ledger.execute(suspended, agency, EVERY_COMMAND[command](seeded))
    assert event_count(system, suspended) == before
    assert types_of(system.ledger.history(suspended, agency, Placement, seeded.placement)) == [
        "PlacementStarted"]
    active = system.registry.set_status(tenant.slug, "active")
    assert system.ledger.execute(active, agency, EVERY_COMMAND[command](seeded)).position > 0
