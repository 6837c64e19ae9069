"""Issue 16: accessibility, the managers' team survey and the placements of a
year, on hand-worked data through the real ledger, the impact projection and
its queries. One set of five people at one employer, four of them toward a
contract: the employer's figures are shown (5 people), the contract's are
withheld (4), by the one small-group rule.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from projections import impact
from projections.reader import reading
from service import commands as c
from service.errors import Conflict
from tests.projections.conftest import Books, catch_up

pytestmark = pytest.mark.timeout(90)

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
START = date(2025, 3, 1)
REQUESTED = date(2025, 3, 3)
# Days each of the five people waited for their delivered adjustment.
DAYS = (10, 30, 60, 5, 20)


def adjustment(books: Books, placement: UUID, funder: str | None = "uwv") -> str:
    return books.run(c.RequestAdjustment(placement_id=placement, kind="tool", description="Brailleleesregel",
                                         funder=funder, requested_on=REQUESTED)).body["adjustment_id"]


def world(books: Books) -> dict[str, Any]:
    employer = books.employer()
    contract = books.contract(employer)
    placements = []
    for n in range(5):
        person = books.candidate(support_needs="")
        placements.append(books.placement(person, employer, contract if n < 4 else None, starts_on=START,
                                          permanent_contract=n in (0, 1)))
    for placement, days in zip(placements, DAYS):
        books.run(c.DeliverAdjustment(placement_id=placement, adjustment_id=adjustment(books, placement),
                                      delivered_on=REQUESTED + timedelta(days=days)))
    # The first person also had one refused, the second one still open.
    books.run(c.RefuseAdjustment(placement_id=placements[0], adjustment_id=adjustment(books, placements[0]),
                                 reason="not_needed", refused_on=date(2025, 3, 10)))
    adjustment(books, placements[1], funder=None)
    # Onboarding: all four items of the first before day one, two of the second on it, one after.
    for item in ("tools_ready", "team_informed", "contact_person", "first_check_in"):
        books.run(c.TickChecklistItem(placement_id=placements[0], item_id=item, done_on=date(2025, 2, 28)))
    for item, day in (("tools_ready", START), ("team_informed", START), ("contact_person", date(2025, 3, 5))):
        books.run(c.TickChecklistItem(placement_id=placements[1], item_id=item, done_on=day))
    # The fifth ended in the year, hired by the employer.
    books.run(c.EndPlacement(placement_id=placements[4], ends_on=date(2025, 9, 30), reason="direct_employment"))
    return {"employer": employer, "contract": contract, "placements": placements}


async def read(pool: Any, books: Books, fn: Any, *args: Any, **kwargs: Any) -> Any:
    catch_up(books.system, books.tenant)
    async with reading(pool, impact.NAME) as conn:
        return await fn(conn, books.tenant.id, *args, **kwargs)


async def test_accessibility_of_five_people_is_shown_and_of_four_withheld(pool, books):
    w = world(books)
    shown = await read(pool, books, impact.accessibility, *YEAR, employer_id=w["employer"])
    a = shown["adjustments"]
    assert (a["asked"].value, a["delivered"].value, a["refused"].value, a["open"].value) == (7, 5, 1, 1)
    assert a["asked"].people == 5
    # 5, 10, 20, 30, 60 days: the median 20, the mean 25; 4 of 5 within 30 days.
    assert a["median_days"].value == Decimal("20.0")
    assert a["mean_days"].value == Decimal("25.0")
    assert a["within_30_days_percent"].value == Decimal("80.0")
    o = shown["onboarding"]
    # 5 placements x 4 standard items; 4 + 2 done by the first day (the third of the second was late).
    assert (o["placements"].value, o["items"].value, o["done_by_day_one"].value) == (5, 20, 6)
    assert o["done_by_day_one_percent"].value == Decimal("30.0")

    withheld = await read(pool, books, impact.accessibility, *YEAR, contract_id=w["contract"])
    for section in ("adjustments", "onboarding"):
        for name, figure in withheld[section].items():
            assert figure.value is None and figure.withheld, (section, name)
            assert figure.people == 4 or (name in ("median_days", "mean_days", "within_30_days_percent")
                                          and figure.people == 4), (section, name, figure)
    # Another year holds nothing of it: nothing to show (0 people, withheld).
    empty = await read(pool, books, impact.accessibility, date(2024, 1, 1), date(2024, 12, 31),
                       employer_id=w["employer"])
    assert empty["adjustments"]["asked"].people == 0 and empty["adjustments"]["asked"].value is None


async def test_placements_of_the_year(pool, books):
    w = world(books)
    p = await read(pool, books, impact.placements, *YEAR, employer_id=w["employer"])
    assert (p["started"].value, p["running"].value) == (5, 5)
    assert p["permanent_percent"].value == Decimal("40.0")  # 2 of 5 on a permanent contract
    # One ended (fewer than 5 people): withheld, as its direct employment.
    assert p["ended"].value is None and p["ended"].people == 1
    assert p["to_direct_employment"].value is None
    # No placement reached its twelfth month in 2025 (they started in March).
    assert p["retention_12m_percent"].people == 0 and p["retention_12m_percent"].value is None
    later = await read(pool, books, impact.placements, date(2026, 1, 1), date(2026, 12, 31),
                       employer_id=w["employer"])
    # Their twelfth month ends on 1 March 2026: four still working, one hired directly: 100%.
    assert later["retention_12m_percent"].value == Decimal("100.0")
    assert later["retention_12m_started"].value == 5


async def test_team_survey_is_withheld_under_five_answers_and_shown_from_five(pool, books):
    employer = books.employer()
    session = books.run(c.HoldTeamSession(employer_id=employer, kind="workshop", held_on=date(2025, 5, 12),
                                          managers=6)).body["session_id"]
    answers = [(4, 3, "yes"), (5, 3, "yes"), (3, 4, "unsure"), (4, 5, "no"), (4, 5, "yes"), (5, 5, "yes")]
    for knowledge, confidence, hire in answers[:4]:
        books.run(c.AnswerTeamSurvey(employer_id=employer, session_id=session, knowledge=knowledge,
                                     confidence=confidence, would_hire_again=hire))
    four = await read(pool, books, impact.team_survey, employer, *YEAR)
    assert four["sessions"] == 1 and four["managers"] == 6
    assert four["answers"].people == 4
    assert all(four[k].value is None and four[k].withheld for k in (
        "answers", "knowledge_average", "confidence_average", "would_hire_again_yes_percent"))
    knowledge, confidence, hire = answers[4]
    books.run(c.AnswerTeamSurvey(employer_id=employer, session_id=session, knowledge=knowledge,
                                 confidence=confidence, would_hire_again=hire))
    five = await read(pool, books, impact.team_survey, employer, *YEAR)
    # knowledge 4, 5, 3, 4, 4 = 20/5; confidence 3, 3, 4, 5, 5 = 20/5; yes 3, no 1, unsure 1.
    assert (five["answers"].value, five["knowledge_average"].value, five["confidence_average"].value) == (
        5, Decimal("4.0"), Decimal("4.0"))
    assert (five["would_hire_again_yes_percent"].value, five["would_hire_again_no_percent"].value,
            five["would_hire_again_unsure_percent"].value) == (Decimal("60.0"), Decimal("20.0"), Decimal("20.0"))
    knowledge, confidence, hire = answers[5]
    books.run(c.AnswerTeamSurvey(employer_id=employer, session_id=session, knowledge=knowledge,
                                 confidence=confidence, would_hire_again=hire))
    # Six managers, six answers: a seventh is a conflict, nothing stored.
    with pytest.raises(Conflict):
        books.run(c.AnswerTeamSurvey(employer_id=employer, session_id=session, knowledge=1, confidence=1,
                                     would_hire_again="no"))
    assert (await read(pool, books, impact.team_survey, employer, *YEAR))["answers"].value == 6


async def test_target_trend_per_quarter(pool, books):
    w = world(books)
    days = impact.quarter_ends(date(2025, 1, 1), date(2025, 11, 15))
    assert days == [date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30), date(2025, 11, 15)]
    trend = await read(pool, books, impact.target_trend, w["contract"], days)
    assert [t["quarter"] for t in trend] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    # Four people toward the contract: every point withheld, with its count of people.
    assert all(t["permanent_percent"].value is None and t["permanent_percent"].people == 4 for t in trend)


async def test_the_trend_takes_conversions_to_permanent_and_the_employees_check_ins(pool, books):
    """Five people toward one contract from 1 March 2025: two permanent from the
    start, one made permanent on 15 August 2025; each answers their 1-month
    check-in (today, by the ledger's clock): scores averaging 4, 4, 3, 5 and 4.5."""
    employer = books.employer()
    contract = books.contract(employer)
    people, placements = [], []
    for n in range(5):
        person = books.candidate(support_needs="")
        people.append(person)
        placements.append(books.placement(person, employer, contract, starts_on=START,
                                          permanent_contract=n < 2))
    books.run(c.MakePlacementPermanent(placement_id=placements[2], on=date(2025, 8, 15)))
    scores = [(4, 4, 4, 4), (5, 3, 4, 4), (3, 3, 3, 3), (5, 5, 5, 5), (5, 4, 5, 4)]
    for person, placement, (a, b_, c_, d) in zip(people, placements, scores):
        employee = books.who.__class__(user_id=books.who.user_id, role="employee", organisation="test",
                                       candidate_id=person)
        books.run(c.AnswerCheckIn(placement_id=placement, moment=1, answers={
            "supported": a, "work_suits": b_, "can_ask": c_, "want_to_stay": d}), as_=employee)
    today = date.today()
    days = [date(2025, 6, 30), date(2025, 9, 30), today]
    trend = await read(pool, books, impact.target_trend, contract, days)
    # 2 of 5 permanent at the end of June, 3 of 5 from 15 August.
    assert [t["permanent_percent"].value for t in trend] == [Decimal("40.0"), Decimal("60.0"), Decimal("60.0")]
    # No check-in yet in 2025; today (4 + 4 + 3 + 5 + 4.5) / 5 = 4.1.
    assert trend[0]["satisfaction"].people == 0 and trend[0]["satisfaction"].value is None
    assert trend[2]["satisfaction"].value == Decimal("4.1")
    voiced = await read(pool, books, impact.employee_voice, date(today.year, 1, 1), today, contract_id=contract)
    assert voiced["at_least_4_percent"].value == Decimal("80.0")  # all but the one averaging 3


async def test_the_trends_placements_and_retention_agree_with_the_support_read_models(pool, books):
    """The trend counts placements and 12-month retention as the contract's
    targets section does (projections/support.py), at every quarter's end."""
    from projections import support as support_rm

    w = world(books)
    days = impact.quarter_ends(date(2025, 1, 1), date(2026, 6, 30))
    trend = await read(pool, books, impact.target_trend, w["contract"], days)
    for day, point in zip(days, trend):
        base = (await support_rm.contract_targets(pool, books.tenant.id, [w["contract"]], day))[w["contract"]]
        assert point["placements"].value == base["placements"], day
        assert point["retention_12m_percent"].people == base["retention_12m_started"], day
    # Four placements toward the contract from 1 March 2025; none reached 12 months before March 2026.
    assert [p["placements"].value for p in trend] == [4, 4, 4, 4, 4, 4]
    assert trend[-1]["retention_12m_percent"].people == 4 and trend[-1]["retention_12m_percent"].withheld


async def test_the_reports_progression_counts_what_happened_in_its_year(pool, books):
    # Six people from 2025-03-01 at 20 hours; steps in 2025 and in 2026.
    from web.impact import _progression

    employer = books.employer()
    people = [books.placement(books.candidate(support_needs=""), employer, None, starts_on=START,
                              hours_per_week=Decimal("20"), permanent_contract=n != 0) for n in range(6)]
    books.run(c.ChangeHours(placement_id=people[0], hours_per_week=Decimal("24"), effective_on=date(2025, 6, 1)))
    books.run(c.ChangeHours(placement_id=people[1], hours_per_week=Decimal("28"), effective_on=date(2026, 2, 1)))
    books.run(c.CompleteTraining(placement_id=people[2], training="VCA", completed_on=date(2025, 5, 1)))
    books.run(c.CompleteTraining(placement_id=people[3], training="Heftruck", completed_on=date(2026, 3, 1)))
    books.run(c.CompleteTraining(placement_id=people[3], training="EHBO", completed_on=date(2026, 4, 1)))
    books.run(c.ChangeRole(placement_id=people[4], scale="schaal 5", effective_on=date(2025, 4, 1)))
    books.run(c.ChangeRole(placement_id=people[4], scale="schaal 6", effective_on=date(2026, 1, 15)))
    books.run(c.MakePlacementPermanent(placement_id=people[0], on=date(2026, 1, 10)))
    books.run(c.EndPlacement(placement_id=people[5], ends_on=date(2026, 6, 30), reason="direct_employment"))
    catch_up(books.system, books.tenant)

    def values(figures):
        return {k: v.value for k, v in figures.items()}

    y2025 = values(await _progression(pool, books.tenant.id, date(2025, 1, 1), date(2025, 12, 31),
                                      employer_id=employer, contract_id=None))
    assert y2025 == {"placements": 6, "hours_up_percent": Decimal("16.7"), "made_permanent_percent": Decimal("0.0"),
                     "direct_employment_percent": Decimal("0.0"), "role_changed_percent": Decimal("16.7"),
                     "trained_percent": Decimal("16.7"), "trainings": 1}
    y2026 = values(await _progression(pool, books.tenant.id, date(2026, 1, 1), date(2026, 12, 31),
                                      employer_id=employer, contract_id=None))
    # 2026: one went from 20 to 28 (the first's 24 was already in effect on 1 January),
    # the only fixed-term one made permanent, one hired directly, one new scale, two trainings of one.
    assert y2026 == {"placements": 6, "hours_up_percent": Decimal("16.7"), "made_permanent_percent": Decimal("100.0"),
                     "direct_employment_percent": Decimal("16.7"), "role_changed_percent": Decimal("16.7"),
                     "trained_percent": Decimal("16.7"), "trainings": 2}
    # 2027: five still working (the sixth left in 2026), nothing happened in it.
    y2027 = await _progression(pool, books.tenant.id, date(2027, 1, 1), date(2027, 12, 31),
                               employer_id=employer, contract_id=None)
    assert y2027["placements"].value == 5 and y2027["trainings"].value == 0
    # A year with fewer than 5 people working: withheld as a whole.
    y2024 = await _progression(pool, books.tenant.id, date(2024, 1, 1), date(2024, 12, 31),
                               employer_id=employer, contract_id=None)
    assert all(v.withheld for v in y2024.values())
