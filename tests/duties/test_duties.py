"""Duties through the ledger, the projection and the API: statuses on a day,
recovery and endings closing duties, duties done, bad input storing nothing."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from domain.placement import Placement
from infra.bootstrap import System
from projections import duties
from service import commands as c
from service.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.conftest import random_slug
from tests.projections.conftest import API, Books, actor, bearer, catch_up, runner, token_for


def project(books: Books) -> None:
    runner(books.system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)


def placed(books: Books, **overrides) -> UUID:
    """A placement from 1 February 2025 to 31 December 2025, 24 h a week."""
    overrides.setdefault("planned_end_on", date(2025, 12, 31))
    return books.placement(books.candidate(), books.employer(), None, **overrides)


async def statuses(books: Books, pool, placement: UUID, as_of: date) -> dict[str, str]:
    found = await duties.placement_duties(pool, books.tenant.id, placement, as_of)
    return {f"{d['kind']}@{d['due_on']}": d["status"] for d in found["duties"]}


async def test_a_placement_starts_with_its_three_month_requests_and_planned_end(books: Books, pool):
    placement = placed(books)  # doelgroepregister: the banenafspraak LKV
    project(books)
    assert await statuses(books, pool, placement, date(2025, 4, 30)) == {
        "target_group_declaration@2025-04-30": "due", "planned_end@2025-12-31": "due"}
    assert (await statuses(books, pool, placement, date(2025, 5, 1)))["target_group_declaration@2025-04-30"] \
        == "overdue"
    found = await duties.placement_duties(pool, books.tenant.id, placement, date(2025, 5, 1))
    assert found["job_coach"]["eligible"] is True  # 24 h, 11 months


async def test_sickness_duties_and_recovery_closing_the_rest(books: Books, pool):
    placement = placed(books)
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3)))
    project(books)
    on_10th = await statuses(books, pool, placement, date(2025, 3, 10))
    assert on_10th["sick_report@2025-03-03"] == "overdue"
    assert on_10th["company_doctor_informed@2025-03-09"] == "overdue"
    assert on_10th["problem_analysis@2025-04-13"] == "due"
    assert on_10th["wage_payment_ends@2027-02-28"] == "due"
    assert len([k for k in on_10th if k.startswith("plan_review")]) == 15
    # Before the sickness, its duties are not shown.
    assert not any(k.startswith("sick_report") for k in await statuses(books, pool, placement, date(2025, 3, 2)))

    sick_report = next(d for d in (await duties.placement_duties(pool, books.tenant.id, placement,
                                                                 date(2025, 3, 10)))["duties"]
                       if d["kind"] == "sick_report")
    books.run(c.CompleteDuty(placement_id=placement, duty_id=UUID(sick_report["duty_id"]),
                             done_on=date(2025, 3, 3)))
    books.run(c.ReportRecovery(placement_id=placement, recovered_on=date(2025, 3, 20)))
    project(books)
    after = await statuses(books, pool, placement, date(2025, 3, 25))
    assert after["sick_report@2025-03-03"] == "done"
    assert after["company_doctor_informed@2025-03-09"] == "overdue"  # missed, before the recovery
    assert after["problem_analysis@2025-04-13"] == "closed"
    assert after["wage_payment_ends@2027-02-28"] == "closed"
    assert (await statuses(books, pool, placement, date(2025, 3, 15)))["problem_analysis@2025-04-13"] == "due"
    found = await duties.placement_duties(pool, books.tenant.id, placement, date(2025, 3, 25))
    assert found["sickness"] == [{"first_sick_day": "2025-03-03", "recovered_on": "2025-03-20",
                                  "counted_from": "2025-03-03"}]
    closed = next(d for d in found["duties"] if d["kind"] == "problem_analysis")
    assert (closed["closed_on"], closed["closed_reason"]) == ("2025-03-20", "recovered")

    # The open duties of the tenant: overdue and due, by due date.
    listed = await duties.duties(pool, books.tenant.id, date(2025, 3, 25))
    assert [(d["kind"], d["status"]) for d in listed] == [
        ("company_doctor_informed", "overdue"), ("no_risk_report", "due"),  # a recovery does not close it
        ("target_group_declaration", "due"), ("planned_end", "due")]


async def test_extension_moves_the_planned_end_and_ending_closes_later_duties(books: Books, pool):
    placement = placed(books)
    books.run(c.ExtendPlacement(placement_id=placement, until=date(2026, 6, 30)))
    books.run(c.EndPlacement(placement_id=placement, ends_on=date(2025, 5, 31), reason="resigned"))
    project(books)
    after = await statuses(books, pool, placement, date(2025, 6, 1))
    assert after == {"target_group_declaration@2025-04-30": "overdue", "planned_end@2026-06-30": "closed"}


# -- the ledger refuses what does not fit, and stores nothing ----------------------------
def test_bad_sickness_input_names_the_field_and_stores_nothing(books: Books):
    placement = placed(books)
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3)))
    before = books.head()
    with pytest.raises(InvalidInput) as raised:
        books.run(c.ReportRecovery(placement_id=placement, recovered_on=date(2025, 3, 2)))
    assert raised.value.field == "recovered_on"
    with pytest.raises(Conflict):
        books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 4, 1)))
    with pytest.raises(InvalidInput) as raised:
        books.run(c.ReportSickness(placement_id=placed(books), first_sick_day=date(2025, 1, 31)))
    assert raised.value.field == "first_sick_day"
    with pytest.raises(NotFound):
        books.run(c.CompleteDuty(placement_id=placement, duty_id=uuid.uuid4()))
    with pytest.raises(PermissionDenied):
        books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3)),
                  as_=actor("employer", employer_id=uuid.uuid4()))
    # only the second placement (employer, candidate, start, its support and duties records)
    assert books.head() == before + 5


def test_two_first_reports_at_once_store_one_sickness(system: System, books: Books):
    """The duties record's id follows from the placement: a concurrent first
    use clashes on it, the loser decides again and is refused."""
    from concurrent.futures import ThreadPoolExecutor

    placement = placed(books)
    command = c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3))

    def report() -> str:
        try:
            system.ledger.execute(books.tenant, books.who, command)
            return "stored"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(lambda _: report(), range(4)))
    assert outcomes == ["conflict"] * 3 + ["stored"]


# -- the API ------------------------------------------------------------------------------
def test_duties_over_the_api(system: System, client):
    tenant = system.registry.create_tenant(random_slug(), "Werkbedrijf Utrecht B.V.")
    books = Books(system, tenant)
    placement = str(placed(books, hours_per_week=Decimal("32")))
    agency = bearer(token_for(system, tenant, "agency"))
    url = f"{API}/placements/{placement}"

    r = client.post(f"{url}/sickness", json={"first_sick_day": "2025-03-03"}, headers=agency)
    assert r.status_code == 201, r.text
    started = {d["kind"]: d["due_on"] for d in r.json()["duties"]}
    assert started["problem_analysis"] == "2025-04-13" and started["uwv_report"] == "2025-12-21"

    before = books.head()
    for body, status, field in (
            ({"first_sick_day": "2025-04-01"}, 409, None),             # one is open
            ({"first_sick_day": "3 maart"}, 422, "first_sick_day"),    # not a date
            ({"first_sick": "2025-04-01"}, 422, "first_sick"),         # unknown field
    ):
        r = client.post(f"{url}/sickness", json=body, headers=agency)
        assert r.status_code == status, r.text
        if field:
            assert r.json()["errors"][0]["field"] == field
    r = client.post(f"{url}/recovery", json={"recovered_on": "2025-03-01"}, headers=agency)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "recovered_on"
    assert books.head() == before

    catch_up(system, tenant)
    r = client.get(f"{url}/duties?as_of=2025-03-10", headers=agency)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sickness"] == [{"first_sick_day": "2025-03-03", "recovered_on": None, "counted_from": "2025-03-03"}]
    analysis = next(d for d in body["duties"] if d["kind"] == "problem_analysis")
    assert (analysis["due_on"], analysis["status"]) == ("2025-04-13", "due")

    r = client.post(f"{API}/duties/{analysis['duty_id']}/done", json={"done_on": "2025-04-10"}, headers=agency)
    assert r.status_code == 200, r.text
    assert r.json()["done_on"] == "2025-04-10"
    r = client.post(f"{API}/duties/{analysis['duty_id']}/done", json={}, headers=agency)
    assert r.status_code == 409
    assert client.post(f"{API}/duties/{uuid.uuid4()}/done", json={}, headers=agency).status_code == 404

    r = client.post(f"{url}/recovery", json={"recovered_on": "2025-03-20"}, headers=agency)
    assert r.status_code == 200, r.text
    catch_up(system, tenant)
    r = client.get(f"{API}/duties?as_of=2025-04-20&status=done,closed", headers=agency)
    got = {(d["kind"], d["status"]) for d in r.json()["duties"]}
    assert ("problem_analysis", "done") in got and ("uwv_report", "closed") in got
    assert r.json()["duties"][0]["candidate_name"] == "Sanne Jansen"
    # As of 25 March the analysis (done on 10 April) was still to do.
    r = client.get(f"{API}/duties?as_of=2025-03-25&within_days=40", headers=agency)
    assert {d["kind"] for d in r.json()["duties"]} == {"sick_report", "company_doctor_informed", "problem_analysis",
                                                       "target_group_declaration", "no_risk_report"}  # kept: UWV pays on it
    assert client.get(f"{API}/duties?status=late", headers=agency).json()["errors"][0]["field"] == "status"
    assert client.get(f"{API}/duties?as_of=gisteren", headers=agency).json()["errors"][0]["field"] == "as_of"

    # Sickness is health data: the agency only, and its reading is logged.
    employer_id = system.ledger.get(tenant, books.who, Placement, UUID(placement)).employer_id
    boss = bearer(token_for(system, tenant, "employer", employer_id=employer_id))
    assert client.get(f"{url}/duties", headers=boss).status_code == 403
    assert client.post(f"{url}/sickness", json={"first_sick_day": "2025-06-02"}, headers=boss).status_code == 403
    assert client.get(f"{API}/duties", headers=boss).status_code == 403
    auditor = bearer(token_for(system, tenant, "auditor"))
    log = client.get(f"{API}/access-log", headers=auditor).json()["entries"]
    assert any(e["fields"] == ["sickness"] for e in log)


def test_a_rebuild_gives_the_same_rows(system: System, books: Books):
    """Both new read models are functions of the events: rebuilt from the first
    event (beside the live one, then switched), they hold the same rows."""
    from tests.projections.conftest import snapshot

    placement = placed(books)
    books.run(c.StateAvailability(candidate_id=books.candidate(), hours_per_week=Decimal("24"),
                                  available_from=date(2025, 1, 1), region="Utrecht"))
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3)))
    books.run(c.ReportRecovery(placement_id=placement, recovered_on=date(2025, 3, 20)))
    books.run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("32"), effective_on=date(2025, 4, 1)))
    books.run(c.ExtendPlacement(placement_id=placement, until=date(2026, 6, 30)))
    system.remind(None, today=date(2025, 4, 25), tenants=[books.tenant])
    catch_up(system, books.tenant)
    before = snapshot(system, books.tenant)
    for name in ("matching", duties.NAME):
        runner(system, books.tenant, name).rebuild(books.tenant)
    assert snapshot(system, books.tenant) == before
    assert before["du_reminders"] and before["m_candidates"] and before["du_sickness"]


async def test_a_sickness_soon_after_recovery_continues_the_timeline_in_the_read_model(books: Books, pool):
    placement = placed(books)
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3)))
    books.run(c.ReportRecovery(placement_id=placement, recovered_on=date(2025, 3, 17)))  # 14 sick days
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 31)))  # 14 days later
    project(books)
    found = await duties.placement_duties(pool, books.tenant.id, placement, date(2025, 4, 1))
    assert found["sickness"][-1] == {"first_sick_day": "2025-03-31", "recovered_on": None,
                                     "counted_from": "2025-03-17"}
    spell = {f"{d['kind']}@{d['due_on']}": d["status"] for d in found["duties"]
             if d["sickness_starts_on"] == "2025-03-31"}
    # Its own report and notice; the timeline's weeks count on from the first spell:
    # problem analysis by week 6 = 17 March + 41 days; wage payment ends 14 days later than it would have.
    assert spell["sick_report@2025-03-31"] == "overdue"
    assert spell["company_doctor_informed@2025-04-06"] == "due"
    assert spell["problem_analysis@2025-04-27"] == "due"
    assert spell["second_track@2026-04-26"] == "due"
    assert spell["wage_payment_ends@2027-03-14"] == "due"
    # The first spell's later duties stay closed by its recovery.
    first = {d["kind"]: d["status"] for d in found["duties"] if d["sickness_starts_on"] == "2025-03-03"}
    assert first["wage_payment_ends"] == first["problem_analysis"] == "closed"
    # Open duties of the tenant: one wage-payment end, on the continued count.
    listed = await duties.duties(pool, books.tenant.id, date(2025, 4, 1), statuses=("due",))
    assert [d["due_on"] for d in listed if d["kind"] == "wage_payment_ends"] == ["2027-03-14"]


# -- the support schemes, judged at the start, in the read model --------------------------
async def test_the_declaration_only_for_an_lkv_group_and_not_after_recent_employment(books: Books, pool):
    student = books.placement(
        books.candidate(target_group="bol", date_of_birth=date(2005, 1, 1), benefit_since=None),
        books.employer(), None, planned_end_on=date(2025, 12, 31))
    older = books.placement(books.candidate(target_group="ww", date_of_birth=date(1968, 5, 1)),
                            books.employer(), None, starts_on=date(2025, 2, 1))  # 56 on 1 February 2025
    project(books)
    assert await statuses(books, pool, student, date(2025, 3, 1)) == {"planned_end@2025-12-31": "due"}
    assert await statuses(books, pool, older, date(2025, 3, 1)) == {"target_group_declaration@2025-04-30": "due"}

    # The same person placed again: employed by the agency until 31 March 2025,
    # so a start on 1 September 2025 (6 months before: 1 March) brings no new
    # declaration; a start on 1 October 2025 (6 months before: 1 April) does.
    person, employer = books.candidate(), books.employer()
    first = books.placement(person, employer, None, starts_on=date(2024, 6, 1), planned_end_on=None)
    books.run(c.EndPlacement(placement_id=first, ends_on=date(2025, 3, 31), reason="contract_ended"))
    project(books)  # the earlier employment read back from the stored read model
    again = books.placement(person, employer, None, starts_on=date(2025, 9, 1))
    other = books.candidate()
    before = books.placement(other, employer, None, starts_on=date(2024, 6, 1), planned_end_on=None)
    books.run(c.EndPlacement(placement_id=before, ends_on=date(2025, 3, 31), reason="contract_ended"))
    later = books.placement(other, employer, None, starts_on=date(2025, 10, 1))
    project(books)
    assert await statuses(books, pool, again, date(2025, 9, 2)) == {}
    assert await statuses(books, pool, later, date(2025, 10, 2)) == {"target_group_declaration@2025-12-31": "due"}


async def test_a_covered_worker_s_sickness_is_reported_to_uwv_within_six_weeks(books: Books, pool):
    covered = placed(books)  # doelgroepregister: structurally covered
    books.run(c.ReportSickness(placement_id=covered, first_sick_day=date(2025, 3, 3)))
    uncovered = books.placement(books.candidate(target_group="participatiewet"), books.employer(), None)
    books.run(c.ReportSickness(placement_id=uncovered, first_sick_day=date(2025, 3, 3)))
    project(books)
    sick = await statuses(books, pool, covered, date(2025, 3, 10))
    assert sick["no_risk_report@2025-04-13"] == "due"  # 3 March + 6 weeks - 1 day
    assert sick["reintegration_report@2026-11-29"] == "due"     # week 91
    assert sick["wia_application_check@2026-12-13"] == "due"    # week 93
    assert not any(k.startswith("no_risk_report") for k in await statuses(books, pool, uncovered, date(2025, 3, 10)))
    report = next(d for d in (await duties.placement_duties(pool, books.tenant.id, covered, date(2025, 3, 10)))[
        "duties"] if d["kind"] == "no_risk_report")
    books.run(c.CompleteDuty(placement_id=covered, duty_id=UUID(report["duty_id"]), done_on=date(2025, 3, 5)))
    project(books)
    assert (await statuses(books, pool, covered, date(2025, 3, 10)))["no_risk_report@2025-04-13"] == "done"


async def test_a_history_from_before_replays_and_reads_sensibly(system: System, books: Books, pool):
    """Events stored before the change: a placement without judged schemes, its
    no-risk policy request done, a reminder of it, and the week-91 duty done
    as the "WIA application". They replay; the done request stays done, the
    week-91 duty is the re-integration report, done; the ledger decides on
    the history as before."""
    from domain.duties import DUTY_NAMESPACE, PlacementDuties, Reminder

    app = system.stores.for_tenant(books.tenant)
    # What the ledger stored before: a placement started alone, its duties
    # record opened on first use (no schemes), the request of the no-risk
    # policy done, a sickness, its week-91 duty done, a reminder of the request.
    started = Placement.start(candidate_id=books.candidate(), employer_id=books.employer(), contract_id=None,
                              vacancy_id=None, starts_on=date(2025, 2, 1), hours_per_week=Decimal("24"),
                              permanent_contract=False, planned_end_on=date(2025, 12, 31))
    placement = started.id
    stored = PlacementDuties.open(placement)
    no_risk_id = uuid.uuid5(DUTY_NAMESPACE, f"duty|{placement}|no_risk_policy||2025-04-30")
    stored._duty_completed(placement_id=placement, duty_id=no_risk_id, kind="no_risk_policy",
                           due_on=date(2025, 4, 30), done_on=date(2025, 2, 10))
    stored._sickness_reported(placement_id=placement, first_sick_day=date(2025, 3, 3))
    wia_id = uuid.uuid5(DUTY_NAMESPACE, f"duty|{placement}|wia_application|2025-03-03|2026-11-29")
    stored._duty_completed(placement_id=placement, duty_id=wia_id, kind="wia_application",
                           due_on=date(2026, 11, 29), done_on=date(2026, 11, 20))
    reminder = Reminder(duty_id=no_risk_id, due_on=date(2025, 4, 30), placement_id=placement,
                        kind="no_risk_policy", reminded_on=date(2025, 4, 25))
    from datetime import datetime, timezone

    from infra.eventstore import event_metadata
    token = event_metadata.set({"user_id": str(books.who.user_id), "role": "agency",
                                "organisation": books.who.organisation, "correlation_id": str(uuid.uuid4()),
                                "recorded_at": datetime.now(timezone.utc).isoformat()})
    try:
        app.save(started, stored, reminder)
    finally:
        event_metadata.reset(token)
    project(books)
    found = await duties.placement_duties(pool, books.tenant.id, placement, date(2026, 11, 30))
    by_kind = {d["kind"]: d for d in found["duties"] if d["kind"] in ("no_risk_policy", "reintegration_report")}
    assert (by_kind["no_risk_policy"]["status"], by_kind["no_risk_policy"]["done_on"]) == ("done", "2025-02-10")
    assert "no longer required" in by_kind["no_risk_policy"]["label"]
    assert (by_kind["reintegration_report"]["duty_id"], by_kind["reintegration_report"]["status"]) == (
        str(wia_id), "done")
    listed = await duties.reminders(pool, books.tenant.id)
    assert [(r["kind"], r["duty_done_on"]) for r in listed] == [("no_risk_policy", "2025-02-10")]
    # The ledger replays the record and decides on it: the retired request is no duty to complete.
    with pytest.raises(NotFound):
        books.run(c.CompleteDuty(placement_id=placement, duty_id=no_risk_id))
    with pytest.raises(Conflict):
        books.run(c.CompleteDuty(placement_id=placement, duty_id=wia_id))  # done already
    # A rebuild reads the same.
    from tests.projections.conftest import snapshot
    before = snapshot(system, books.tenant)
    runner(system, books.tenant, duties.NAME).rebuild(books.tenant)
    assert snapshot(system, books.tenant) == before


# -- sick out of service -------------------------------------------------------------------
async def test_ending_during_sickness_raises_sick_out_of_service_on_the_last_day(books: Books, pool):
    """Sick from Monday 3 March 2025; the placement (the employment, as long
    as there is no employment record) ends on 30 June 2025: the
    ziek-uit-dienst-melding is due on 30 June; the later sickness duties close."""
    sick = placed(books)
    books.run(c.ReportSickness(placement_id=sick, first_sick_day=date(2025, 3, 3)))
    books.run(c.EndPlacement(placement_id=sick, ends_on=date(2025, 6, 30), reason="contract_ended"))
    well = placed(books)  # recovered before the end: nothing to report
    books.run(c.ReportSickness(placement_id=well, first_sick_day=date(2025, 3, 3)))
    books.run(c.ReportRecovery(placement_id=well, recovered_on=date(2025, 6, 30)))
    books.run(c.EndPlacement(placement_id=well, ends_on=date(2025, 6, 30), reason="contract_ended"))
    project(books)
    on_end = await statuses(books, pool, sick, date(2025, 6, 30))
    assert on_end["sick_out_of_service@2025-06-30"] == "due"
    assert on_end["uwv_report@2025-12-21"] == "closed"
    assert (await statuses(books, pool, sick, date(2025, 7, 1)))["sick_out_of_service@2025-06-30"] == "overdue"
    assert not any(k.startswith("sick_out_of_service") for k in await statuses(books, pool, well, date(2025, 7, 1)))
    # Done through the ledger, which knows the duty too.
    duty = next(d for d in (await duties.placement_duties(pool, books.tenant.id, sick, date(2025, 7, 1)))["duties"]
                if d["kind"] == "sick_out_of_service")
    books.run(c.CompleteDuty(placement_id=sick, duty_id=UUID(duty["duty_id"]), done_on=date(2025, 6, 30)))
    # A recovery reported afterwards, on the last day: it was not sick out of service after all.
    late = placed(books)
    books.run(c.ReportSickness(placement_id=late, first_sick_day=date(2025, 5, 5)))
    books.run(c.EndPlacement(placement_id=late, ends_on=date(2025, 6, 30), reason="resigned"))
    books.run(c.ReportRecovery(placement_id=late, recovered_on=date(2025, 6, 16)))
    # A sickness reported after the end, open on the last day: raised then.
    after = placed(books)
    books.run(c.EndPlacement(placement_id=after, ends_on=date(2025, 6, 30), reason="resigned"))
    books.run(c.ReportSickness(placement_id=after, first_sick_day=date(2025, 6, 27)))
    project(books)
    assert (await statuses(books, pool, sick, date(2025, 7, 1)))["sick_out_of_service@2025-06-30"] == "done"
    assert (await statuses(books, pool, late, date(2025, 7, 1)))["sick_out_of_service@2025-06-30"] == "closed"
    later = await statuses(books, pool, after, date(2025, 7, 1))
    assert later["sick_out_of_service@2025-06-30"] == "overdue"
    assert later["problem_analysis@2025-08-07"] == "closed"  # after the end
    from tests.projections.conftest import snapshot
    before = snapshot(books.system, books.tenant)
    runner(books.system, books.tenant, duties.NAME).rebuild(books.tenant)
    assert snapshot(books.system, books.tenant) == before
