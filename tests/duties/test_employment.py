"""The legal employer's duties follow the person's employment with the
agency, not each secondment (shared/domain.md, "The secondment agency as
legal employer"): through the ledger, the duties projection and the API."""
from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import pytest

from domain.duties import DUTY_NAMESPACE
from infra.bootstrap import System
from projections import duties
from service import commands as c
from service.errors import Conflict, InvalidInput, InvalidReference
from tests.projections.conftest import API, Books, bearer, runner, snapshot, token_for


def project(books: Books) -> None:
    runner(books.system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)


def employed(books: Books, candidate: UUID, **overrides) -> UUID:
    """A fixed-term employment from Saturday 1 February 2025 up to and
    including Sunday 31 January 2027."""
    return books.new(c.StartEmployment(**{"candidate_id": candidate, "starts_on": date(2025, 2, 1),
                                          "kind": "fixed_term", "ends_on": date(2027, 1, 31), **overrides}))


def seconded(books: Books, candidate: UUID, employment: UUID | None, starts_on: date, planned_end_on: date | None,
             employer: UUID | None = None) -> UUID:
    return books.placement(candidate, employer or books.employer(), None, starts_on=starts_on,
                           planned_end_on=planned_end_on, employment_id=employment)


def kinds(found: dict) -> dict[str, str]:
    return {f"{d['kind']}@{d['due_on']}": d["status"] for d in found["duties"]}


async def test_a_secondment_ending_while_the_employment_runs_keeps_the_sickness_duties(books: Books, pool):
    """Sick from Monday 3 March 2025 during the first secondment, which ends
    on 30 June 2025 while the employment runs. Week 42 of the sickness ends
    on 3 March + (7 x 42 - 1) = 293 days = 21 December 2025: the report to
    UWV is still due on 1 December 2025. Only the secondment's planned end
    (30 June) is its own; no sick out of service, the employment goes on."""
    person = books.candidate()
    employment = employed(books, person)
    first = seconded(books, person, employment, date(2025, 2, 1), date(2025, 6, 30))
    books.run(c.ReportSickness(placement_id=first, first_sick_day=date(2025, 3, 3)))
    books.run(c.EndPlacement(placement_id=first, ends_on=date(2025, 6, 30), reason="contract_ended"))
    project(books)

    on_1_december = kinds(await duties.employment_duties(pool, books.tenant.id, employment, date(2025, 12, 1)))
    assert on_1_december["uwv_report@2025-12-21"] == "due"
    assert on_1_december["first_year_evaluation@2026-03-01"] == "due"  # 3 March 2025 + 363 days
    assert on_1_december["planned_end@2025-06-30"] == "overdue"  # the secondment's own, not done
    assert not any(k.startswith("sick_out_of_service") for k in on_1_december)
    # The placement's page shows the same sickness duties, found through its employment.
    through_secondment = await duties.placement_duties(pool, books.tenant.id, first, date(2025, 12, 1))
    assert through_secondment["employment_id"] == str(employment)
    assert kinds(through_secondment)["uwv_report@2025-12-21"] == "due"
    assert through_secondment["sickness"] == [{"first_sick_day": "2025-03-03", "recovered_on": None,
                                               "counted_from": "2025-03-03"}]
    # The recovery is reported through the ended secondment (the employment's sickness).
    books.run(c.ReportRecovery(placement_id=first, recovered_on=date(2025, 12, 8)))
    project(books)
    after = kinds(await duties.employment_duties(pool, books.tenant.id, employment, date(2025, 12, 9)))
    assert after["uwv_report@2025-12-21"] == "closed"


async def test_the_employment_ending_during_sickness_raises_sick_out_of_service_on_its_last_day(
        books: Books, pool):
    """Sick from Monday 3 March 2025; the secondment ends 30 June, the
    employment on Tuesday 30 September 2025 (resigned), the person still
    sick: the ziek-uit-dienst-melding is due on 30 September; the week-42
    report (21 December) is closed by the end of employment."""
    person = books.candidate()
    employment = employed(books, person)
    secondment = seconded(books, person, employment, date(2025, 2, 1), date(2025, 6, 30))
    books.run(c.ReportSickness(placement_id=secondment, first_sick_day=date(2025, 3, 3)))
    books.run(c.EndPlacement(placement_id=secondment, ends_on=date(2025, 6, 30), reason="contract_ended"))
    books.run(c.EndEmployment(employment_id=employment, ends_on=date(2025, 9, 30), reason="resigned"))
    project(books)
    found = await duties.employment_duties(pool, books.tenant.id, employment, date(2025, 9, 30))
    on_last_day = kinds(found)
    assert on_last_day["sick_out_of_service@2025-09-30"] == "due"
    assert on_last_day["uwv_report@2025-12-21"] == "closed"
    closed = next(d for d in found["duties"] if d["kind"] == "uwv_report")
    assert (closed["closed_on"], closed["closed_reason"]) == ("2025-09-30", "employment ended")
    assert (found["ended_on"], found["end_reason"], found["secondments"]) == ("2025-09-30", "resigned",
                                                                            [str(secondment)])
    # Done through the ledger, which knows the duty as the employment's.
    duty = next(d for d in found["duties"] if d["kind"] == "sick_out_of_service")
    assert duty["owner"] == "employment"
    books.run(c.CompleteDuty(placement_id=employment, duty_id=UUID(duty["duty_id"]), done_on=date(2025, 9, 30)))
    with pytest.raises(Conflict):
        books.run(c.CompleteDuty(placement_id=employment, duty_id=UUID(duty["duty_id"])))
    project(books)
    assert kinds(await duties.employment_duties(pool, books.tenant.id, employment, date(2025, 10, 1)))[
        "sick_out_of_service@2025-09-30"] == "done"
    # A rebuild reads the same.
    before = snapshot(books.system, books.tenant)
    runner(books.system, books.tenant, duties.NAME).rebuild(books.tenant)
    assert snapshot(books.system, books.tenant) == before


async def test_the_employment_waits_for_its_secondments_and_takes_sickness_within_its_own_days(books: Books):
    person = books.candidate()
    employment = employed(books, person)
    secondment = seconded(books, person, employment, date(2025, 2, 1), None)
    with pytest.raises(InvalidInput) as running:  # the secondment runs on
        books.run(c.EndEmployment(employment_id=employment, ends_on=date(2025, 9, 30), reason="resigned"))
    assert running.value.field == "ends_on"
    books.run(c.EndPlacement(placement_id=secondment, ends_on=date(2025, 5, 31), reason="other"))
    # Sick after the secondment ended, the employment running: reported through it.
    books.run(c.ReportSickness(placement_id=secondment, first_sick_day=date(2025, 6, 2)))
    books.run(c.ReportRecovery(placement_id=secondment, recovered_on=date(2025, 6, 6)))
    books.run(c.EndEmployment(employment_id=employment, ends_on=date(2025, 9, 30), reason="mutual_agreement"))
    with pytest.raises(InvalidInput) as after_end:
        books.run(c.ReportSickness(placement_id=secondment, first_sick_day=date(2025, 10, 1)))
    assert after_end.value.field == "first_sick_day"
    assert "after the employment ended (2025-09-30)" in str(after_end.value)
    other = books.candidate(full_name="Noor de Wit")
    with pytest.raises(InvalidInput) as someone_else:  # an employment of another person
        seconded(books, other, employed(books, person), date(2025, 3, 1), None)
    assert someone_else.value.field == "employment_id"
    with pytest.raises(InvalidReference) as unknown:
        seconded(books, person, uuid.uuid4(), date(2025, 3, 1), None)
    assert unknown.value.field == "employment_id"


async def test_two_secondments_under_one_employment_have_one_declaration(books: Books, pool):
    """The employment starts on 1 February 2025: the target-group declaration
    is requested by 1 February + 3 months - 1 day = 30 April 2025, once.
    The second secondment (from 1 June 2025, at another employer) starts no
    declaration of its own; each secondment keeps its own planned end."""
    person = books.candidate()  # doelgroepregister: the banenafspraak LKV
    employment = employed(books, person)
    first = seconded(books, person, employment, date(2025, 2, 1), date(2025, 5, 31))
    books.run(c.EndPlacement(placement_id=first, ends_on=date(2025, 5, 31), reason="contract_ended"))
    second = seconded(books, person, employment, date(2025, 6, 1), date(2025, 12, 31))
    project(books)
    found = await duties.employment_duties(pool, books.tenant.id, employment, date(2025, 6, 1))
    assert sorted(kinds(found)) == ["planned_end@2025-05-31", "planned_end@2025-12-31",
                                    "target_group_declaration@2025-04-30"]
    declarations = [d for d in await duties.duties(pool, books.tenant.id, date(2025, 6, 1),
                                                   statuses=duties.STATUSES, kind="target_group_declaration")
                    if d["candidate_id"] == str(person)]
    assert [(d["placement_id"], d["owner"], d["employer_id"]) for d in declarations] == [
        (str(employment), "employment", None)]
    assert found["secondments"] == [str(first), str(second)]
    # The second secondment's page shows the employment's declaration and its own planned end.
    assert sorted(kinds(await duties.placement_duties(pool, books.tenant.id, second, date(2025, 6, 1)))) == [
        "planned_end@2025-12-31", "target_group_declaration@2025-04-30"]
    # A new employment of the person within 6 months of this one's end: no declaration.
    books.run(c.EndPlacement(placement_id=second, ends_on=date(2025, 12, 31), reason="contract_ended"))
    books.run(c.EndEmployment(employment_id=employment, ends_on=date(2025, 12, 31), reason="contract_ended"))
    again = employed(books, person, starts_on=date(2026, 3, 1), kind="permanent", ends_on=None)
    project(books)
    assert kinds(await duties.employment_duties(pool, books.tenant.id, again, date(2026, 3, 1))) == {}


async def test_an_old_placement_only_history_keeps_exactly_its_duties(books: Books, pool):
    """A placement without an employment is its own (same id, start and end),
    as every placement stored before employments were recorded: from 1
    February 2025, planned until 31 December 2025, sick from Monday 3 March
    2025, ended on 30 June 2025 while sick. Its duties are those it had:
    the declaration by 30 April, the planned end, the sickness's duties
    (report on 3 March, company doctor by 9 March, problem analysis by 13
    April, plan of action by 27 April, reviews every 6 weeks, ...), the later
    ones closed by the end, sick out of service on 30 June; each with the id
    derived from the placement as before (done marks and reminders hold)."""
    placement = seconded(books, books.candidate(), None, date(2025, 2, 1), date(2025, 12, 31))
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3)))
    books.run(c.EndPlacement(placement_id=placement, ends_on=date(2025, 6, 30), reason="contract_ended"))
    project(books)
    found = await duties.placement_duties(pool, books.tenant.id, placement, date(2025, 7, 1))
    assert found["employment_id"] is None
    listed = kinds(found)
    assert {k: v for k, v in listed.items() if not k.startswith("plan_review")} == {
        "target_group_declaration@2025-04-30": "overdue",
        "planned_end@2025-12-31": "closed",
        "sick_report@2025-03-03": "overdue",
        "company_doctor_informed@2025-03-09": "overdue",
        "no_risk_report@2025-04-13": "overdue",  # doelgroepregister: no-risk, reported by week 6
        "problem_analysis@2025-04-13": "overdue",
        "plan_of_action@2025-04-27": "overdue",
        "uwv_report@2025-12-21": "closed",
        "first_year_evaluation@2026-03-01": "closed",
        "second_track@2026-04-12": "closed",
        "reintegration_report@2026-11-29": "closed",
        "wia_application_check@2026-12-13": "closed",
        "wage_payment_ends@2027-02-28": "closed",
        "sick_out_of_service@2025-06-30": "overdue",
    }
    # Plan reviews every 6 weeks from week 14 (3 March + 97 days = 8 June 2025)
    # to week 98: 15; only week 14 falls before the end, the other 14 are closed.
    reviews = {k: v for k, v in listed.items() if k.startswith("plan_review")}
    assert len(reviews) == 15 and reviews["plan_review@2025-06-08"] == "overdue"
    assert sum(v == "closed" for v in reviews.values()) == 14
    # Ids as before: uuid5(namespace, "duty|<placement>|<kind>|<first sick day>|<due on>").
    ids = {(d["kind"], d["due_on"]): d["duty_id"] for d in found["duties"]}
    assert ids[("uwv_report", "2025-12-21")] == str(
        uuid.uuid5(DUTY_NAMESPACE, f"duty|{placement}|uwv_report|2025-03-03|2025-12-21"))
    assert ids[("target_group_declaration", "2025-04-30")] == str(
        uuid.uuid5(DUTY_NAMESPACE, f"duty|{placement}|target_group_declaration||2025-04-30"))


def test_the_api_starts_ends_and_shows_an_employment(system: System, books: Books, client):
    agency = bearer(token_for(system, books.tenant, "agency"))
    person = books.candidate()
    made = client.post(f"{API}/employments", json={"candidate_id": str(person), "starts_on": "2025-02-01",
                                                  "kind": "permanent"}, headers=agency)
    assert made.status_code == 201, made.text
    employment = made.json()["id"]
    placed = client.post(f"{API}/placements", headers=agency, json={
        "candidate_id": str(person), "employer_id": str(books.employer()), "starts_on": "2025-02-01",
        "hours_per_week": "24", "employment_id": employment})
    assert placed.status_code == 201, placed.text
    secondment = placed.json()["id"]
    client.post(f"{API}/placements/{secondment}/end", headers=agency, json={"ends_on": "2025-08-31",
                                                                           "reason": "contract_ended"})
    ended = client.post(f"{API}/employments/{employment}/end", headers=agency,
                        json={"ends_on": "2025-08-31", "reason": "dismissed"})
    assert ended.status_code == 200, ended.text
    shown = client.get(f"{API}/employments/{employment}", headers=agency).json()
    assert (shown["kind"], shown["starts_on"], shown["ended_on"], shown["end_reason"], shown["secondments"]) == (
        "permanent", "2025-02-01", "2025-08-31", "dismissed", [secondment])
    assert client.get(f"{API}/placements/{secondment}", headers=agency).json()["employment_id"] == employment
    project(books)
    listed = client.get(f"{API}/employments/{employment}/duties?as_of=2025-03-01", headers=agency)
    assert listed.status_code == 200, listed.text
    assert [(d["kind"], d["due_on"]) for d in listed.json()["duties"] if d["owner"] == "employment"] == [
        ("target_group_declaration", "2025-04-30")]  # 1 February + 3 months - 1 day
    # Not for the person, and another tenant's id is not found.
    employee = bearer(token_for(system, books.tenant, "employee", candidate_id=person))
    assert client.get(f"{API}/employments/{employment}", headers=employee).status_code == 404
    assert client.get(f"{API}/employments/{employment}/duties", headers=employee).status_code == 403
    assert client.get(f"{API}/employments/{uuid.uuid4()}", headers=agency).status_code == 404
    bad = client.post(f"{API}/employments", headers=agency, json={"candidate_id": str(person),
                                                                  "starts_on": "2025-02-01", "kind": "fixed_term"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ends_on"


def test_an_employment_duty_is_reminded_to_whoever_looks_after_its_latest_secondment(system: System):
    """The employment starts on 1 February 2025: its declaration is due on 30
    April. A run on 25 April (7 days ahead: up to 2 May) reminds of it once,
    addressed to the agency user who started the secondment, and the
    reminder leads to the person (not a placement)."""
    from tests.conftest import random_slug
    from tests.duties.listing import reminders_listed

    books = Books(system, system.registry.create_tenant(random_slug("employ"), "Werkbedrijf Utrecht B.V."))
    person = books.candidate()
    employment = employed(books, person)
    seconded(books, person, employment, date(2025, 2, 1), date(2025, 12, 31))
    project(books)
    run = system.remind(None, today=date(2025, 4, 25), tenants=[books.tenant])
    assert run.recorded == 1  # the declaration; the secondment's planned end is months away
    assert system.remind(None, today=date(2025, 4, 25), tenants=[books.tenant]).recorded == 0
    project(books)
    [reminder] = reminders_listed(system, books)
    assert (reminder["kind"], reminder["due_on"], reminder["placement_id"], reminder["employment_candidate_id"],
            reminder["addressed_to"]) == ("target_group_declaration", "2025-04-30", str(employment), str(person),
                                          str(books.who.user_id))


async def test_erasing_the_person_removes_the_employment_duties_that_told_their_group(books: Books, pool):
    """The declaration follows from the person's target group (judged when the
    employment started, sealed under their key): erased, it is no duty any
    more, and a rebuild reads the same."""
    person = books.candidate()
    employment = employed(books, person)
    project(books)
    assert "target_group_declaration@2025-04-30" in kinds(
        await duties.employment_duties(pool, books.tenant.id, employment, date(2025, 3, 1)))
    books.run(c.EraseCandidate(candidate_id=person))
    project(books)
    assert kinds(await duties.employment_duties(pool, books.tenant.id, employment, date(2025, 3, 1))) == {}
    before = snapshot(books.system, books.tenant)
    runner(books.system, books.tenant, duties.NAME).rebuild(books.tenant)
    assert snapshot(books.system, books.tenant) == before
