"""Retention figures on hand-made placements, read back through the real
retention projection and its asyncpg queries (and once through the HTTP API).

Placements and vacancies get their dates from the commands. Feedback through
the ledger is dated today (GiveFeedback has no date), so feedback on a chosen
day is given through the domain (Placement.give_feedback(given_on=...)) and
saved in the tenant's store with actor metadata, as the ledger would.
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from projections.reader import forget_figures

from domain.placement import Placement
from infra.eventstore import event_metadata
from projections.retention import WARNINGS_SHOWN, retention
from service import commands as c
from tests.projections.conftest import API, Books, bearer, catch_up, runner, token_for

pytestmark = pytest.mark.timeout(60)

AS_OF = date(2026, 9, 30)
THIRTEEN_MONTHS_BEFORE = date(2025, 8, 30)


def feedback_on(books: Books, placement: UUID, score: int, given_on: date, from_role: str = "coach") -> None:
    app = books.system.stores.for_tenant(books.tenant)
    p: Placement = app.repository.get(placement)  # a copy: the cache changes only on save
    p.give_feedback(score, from_role, "Gesprek met de jobcoach.", given_on=given_on)
    token = event_metadata.set({"user_id": str(uuid.uuid4()), "role": "agency", "organisation": "test",
                                "correlation_id": str(uuid.uuid4()), "recorded_at": "2026-01-01T00:00:00+00:00"})
    # Whose personal data the feedback carries, as the ledger says around its save
    # (infra.personal_data, where present).
    try:
        from infra.personal_data import placement_candidates
    except ImportError:  # pragma: no cover - before personal-data encryption
        placement_candidates = None
    subjects = placement_candidates.set({p.id: p.candidate_id}) if placement_candidates else None
    try:
        app.save(p)
    finally:
        event_metadata.reset(token)
        if placement_candidates is not None:
            placement_candidates.reset(subjects)


def end(books: Books, placement: UUID, on: date, reason: str) -> None:
    books.run(c.EndPlacement(placement_id=placement, ends_on=on, reason=reason))


async def figures(pool: Any, books: Books, as_of: date = AS_OF, employer: UUID | None = None) -> dict:
    catch_up(books.system, books.tenant)
    return await retention(pool, books.tenant.id, as_of, employer_id=employer)


def place(books: Books, employer: UUID, starts_on: date, **kwargs: Any) -> UUID:
    return books.placement(books.candidate(), employer, None, starts_on=starts_on, **kwargs)


def warnings_by_kind(f: dict) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for w in f["warnings"]:
        out.setdefault(w["kind"], {})[w["placement_id"]] = w
    return out


async def test_three_six_and_twelve_month_retention_of_hand_made_placements(pool, books):
    employer = books.employer()
    still_working = place(books, employer, THIRTEEN_MONTHS_BEFORE)
    four_months = place(books, employer, THIRTEEN_MONTHS_BEFORE)
    end(books, four_months, date(2025, 12, 30), "resigned")
    hired = place(books, employer, THIRTEEN_MONTHS_BEFORE)
    end(books, hired, date(2025, 10, 30), "direct_employment")  # after 2 months: a success
    a_day_short = place(books, employer, THIRTEEN_MONTHS_BEFORE)
    end(books, a_day_short, date(2025, 11, 29), "dismissed")  # 3 months would be 2025-11-30
    place(books, employer, date(2026, 5, 15))  # 4.5 months: judged at 3 months only
    place(books, employer, date(2026, 8, 1))  # 2 months: too young for any window
    place(books, employer, date(2026, 10, 15))  # starts after the day asked

    f = await figures(pool, books)

    assert f["placements"] == 6
    assert f["active"] == 3
    assert f["retention"]["3_months"] == {"started": 5, "retained": 4, "percent": "80.0"}
    assert f["retention"]["6_months"] == {"started": 4, "retained": 2, "percent": "50.0"}
    assert f["retention"]["12_months"] == {"started": 4, "retained": 2, "percent": "50.0"}
    assert f["end_reasons"] == {"resigned": 1, "direct_employment": 1, "dismissed": 1}
    assert str(still_working) not in {w["placement_id"] for w in f["warnings"] if w["kind"] != "no_feedback"}


async def test_a_placement_ending_exactly_three_months_after_its_start_is_retained_at_three(pool, books):
    employer = books.employer()
    p = place(books, employer, THIRTEEN_MONTHS_BEFORE)
    end(books, p, date(2025, 11, 30), "contract_ended")

    f = await figures(pool, books)

    assert f["retention"]["3_months"] == {"started": 1, "retained": 1, "percent": "100.0"}
    assert f["retention"]["6_months"] == {"started": 1, "retained": 0, "percent": "0.0"}


async def test_no_placements_give_no_percentages(pool, books):
    books.employer()

    f = await figures(pool, books)

    assert f["placements"] == 0
    assert f["retention"]["3_months"] == {"started": 0, "retained": 0, "percent": None}
    assert f["median_days_vacancy_to_start"] is None
    assert f["feedback_trend"]["average_score"] is None


async def test_end_reasons_and_active_count_respect_the_day_asked(pool, books):
    employer = books.employer()
    p = place(books, employer, date(2026, 1, 5))
    end(books, p, date(2026, 6, 30), "resigned")
    q = place(books, employer, date(2026, 1, 5))
    end(books, q, date(2026, 10, 31), "other")  # ends after AS_OF

    earlier = await figures(pool, books, date(2026, 6, 29))
    f = await figures(pool, books)

    assert earlier["end_reasons"] == {}
    assert earlier["active"] == 2
    assert f["end_reasons"] == {"resigned": 1}
    assert f["active"] == 1


async def test_median_days_from_vacancy_opened_to_start(pool, books):
    employer = books.employer()
    opened = date(2026, 1, 1)
    books.matched_placement(employer, None, opened_on=opened, starts_on=date(2026, 1, 11))  # 10 days
    books.matched_placement(employer, None, opened_on=opened, starts_on=date(2026, 2, 1))  # 31 days
    books.matched_placement(employer, None, opened_on=opened, starts_on=date(2026, 3, 2))  # 60 days
    place(books, employer, date(2026, 1, 2))  # no vacancy: not part of the median

    odd = await figures(pool, books)
    books.matched_placement(employer, None, opened_on=date(2026, 2, 1), starts_on=date(2026, 4, 11))  # 69
    even = await figures(pool, books)

    assert odd["median_days_vacancy_to_start"] == 31.0
    assert even["median_days_vacancy_to_start"] == 45.5  # (31 + 60) / 2


async def test_feedback_trend_compares_the_last_90_days_with_the_90_before(pool, books):
    employer = books.employer()
    p = place(books, employer, date(2025, 12, 1))
    feedback_on(books, p, 1, date(2026, 1, 15))  # more than 180 days before: left out
    feedback_on(books, p, 4, date(2026, 5, 1))
    feedback_on(books, p, 5, date(2026, 6, 1))
    feedback_on(books, p, 4, AS_OF - timedelta(days=90))  # the last day of the earlier window
    feedback_on(books, p, 3, date(2026, 8, 1))
    feedback_on(books, p, 2, date(2026, 9, 15))
    feedback_on(books, p, 5, date(2026, 10, 15))  # after the day asked: left out

    f = await figures(pool, books)

    assert f["feedback_trend"] == {"days": 90, "average_score": "2.50", "scores": 2,
                                   "previous_average_score": "4.33", "previous_scores": 3,
                                   "change": "-1.83"}


async def test_feedback_given_through_the_ledger_counts_today(pool, books):
    employer = books.employer()
    p = place(books, employer, date.today() - timedelta(days=30))
    for score in (4, 2):
        books.run(c.GiveFeedback(placement_id=p, score=score, from_role="agency", comment="Loopt goed."))

    f = await figures(pool, books, date.today())

    assert f["feedback_trend"]["average_score"] == "3.00"
    assert f["feedback_trend"]["scores"] == 2
    with books.system.stores.database("default").connection() as conn:
        row = conn.execute(
            "SELECT feedback_count, last_feedback_on FROM rm.r_placements WHERE tenant_id = %s AND "
            "placement_id = %s AND gen = (SELECT gen FROM rm.live WHERE projection = 'retention' "
            "AND tenant_id = %s)", (books.tenant.id, p, books.tenant.id)).fetchone()
    assert row == {"feedback_count": 2, "last_feedback_on": date.today()}


async def test_no_feedback_for_more_than_six_weeks_is_a_warning(pool, books):
    employer = books.employer()
    silent = place(books, employer, date(2026, 8, 1))  # 60 days without feedback
    six_weeks = place(books, employer, date(2026, 6, 1))
    feedback_on(books, six_weeks, 4, AS_OF - timedelta(days=42))  # exactly six weeks: not yet
    six_weeks_and_a_day = place(books, employer, date(2026, 6, 1))
    feedback_on(books, six_weeks_and_a_day, 4, AS_OF - timedelta(days=43))
    ended = place(books, employer, date(2026, 6, 1))
    end(books, ended, date(2026, 9, 1), "resigned")  # ended: no warning
    fresh = place(books, employer, AS_OF - timedelta(days=10))  # started 10 days ago

    f = await figures(pool, books)

    no_feedback = warnings_by_kind(f).get("no_feedback", {})
    assert set(no_feedback) == {str(silent), str(six_weeks_and_a_day)}
    assert no_feedback[str(silent)]["last_feedback_or_start"] == "2026-08-01"
    assert no_feedback[str(silent)]["days"] == 60
    assert no_feedback[str(six_weeks_and_a_day)]["days"] == 43
    assert str(fresh) not in no_feedback and str(ended) not in no_feedback


async def test_falling_feedback_is_a_warning_when_the_latest_score_is_1_5_below_the_earlier_average(
        pool, books):
    employer = books.employer()
    start = date(2026, 6, 1)
    falling = place(books, employer, start)
    for day, score in ((date(2026, 7, 1), 4), (date(2026, 8, 1), 5), (date(2026, 9, 20), 3)):
        feedback_on(books, falling, score, day)  # 3 <= 4.5 - 1.5
    slight = place(books, employer, start)
    for day, score in ((date(2026, 7, 1), 4), (date(2026, 8, 1), 4), (date(2026, 9, 20), 3)):
        feedback_on(books, slight, score, day)  # only 1 below
    one_earlier = place(books, employer, start)
    for day, score in ((date(2026, 8, 1), 5), (date(2026, 9, 20), 1)):
        feedback_on(books, one_earlier, score, day)  # needs at least two earlier scores
    recovered = place(books, employer, start)
    for day, score in ((date(2026, 7, 1), 5), (date(2026, 8, 1), 5), (date(2026, 9, 20), 2),
                       (date(2026, 9, 25), 5)):
        feedback_on(books, recovered, score, day)  # the latest is what counts

    f = await figures(pool, books)

    falling_w = warnings_by_kind(f).get("falling_feedback", {})
    assert set(falling_w) == {str(falling)}
    assert falling_w[str(falling)]["latest_score"] == 3
    assert falling_w[str(falling)]["previous_average"] == "4.50"
    assert "no_feedback" not in warnings_by_kind(f)


async def test_falling_feedback_looks_only_at_scores_up_to_the_day_asked(pool, books):
    employer = books.employer()
    p = place(books, employer, date(2026, 6, 1))
    for day, score in ((date(2026, 7, 1), 5), (date(2026, 8, 1), 5), (date(2026, 9, 20), 2)):
        feedback_on(books, p, score, day)
    feedback_on(books, p, 5, date(2026, 10, 10))  # after AS_OF

    f = await figures(pool, books)

    assert set(warnings_by_kind(f).get("falling_feedback", {})) == {str(p)}


async def test_feedback_given_after_the_day_asked_does_not_hide_a_no_feedback_warning(pool, books):
    employer = books.employer()
    p = place(books, employer, date(2026, 1, 5))
    feedback_on(books, p, 4, date(2026, 9, 1))

    f = await figures(pool, books, date(2026, 3, 31))  # 85 days after the start, no feedback yet

    assert str(p) in warnings_by_kind(f).get("no_feedback", {})


async def test_figures_per_employer_count_only_that_employers_placements(pool, books):
    de_vries, jansen = books.employer(), books.employer("Schoonmaakbedrijf Jansen")
    place(books, de_vries, THIRTEEN_MONTHS_BEFORE)
    gone = place(books, jansen, THIRTEEN_MONTHS_BEFORE)
    end(books, gone, date(2025, 10, 1), "resigned")
    place(books, jansen, THIRTEEN_MONTHS_BEFORE)

    everyone = await figures(pool, books)
    only_jansen = await figures(pool, books, employer=jansen)

    assert everyone["retention"]["12_months"] == {"started": 3, "retained": 2, "percent": "66.7"}
    assert only_jansen["retention"]["12_months"] == {"started": 2, "retained": 1, "percent": "50.0"}
    assert only_jansen["end_reasons"] == {"resigned": 1}
    assert sorted(p["state"] for p in only_jansen["placement_list"]) == ["active", "ended"]
    assert {p["duration_days"] for p in only_jansen["placement_list"]} == {33, 397}


def test_retention_through_the_api_for_the_agency_and_for_an_employer(client, system, books):
    de_vries, jansen = books.employer(), books.employer("Schoonmaakbedrijf Jansen")
    place(books, de_vries, THIRTEEN_MONTHS_BEFORE)
    hired = place(books, jansen, THIRTEEN_MONTHS_BEFORE)
    end(books, hired, date(2025, 10, 30), "direct_employment")
    catch_up(system, books.tenant)
    agency = bearer(token_for(system, books.tenant, "agency"))
    employer = bearer(token_for(system, books.tenant, "employer", employer_id=jansen))

    tenant_wide = client.get(f"{API}/retention", params={"as_of": str(AS_OF)}, headers=agency)
    own = client.get(f"{API}/employers/{jansen}/retention", params={"as_of": str(AS_OF)}, headers=employer)
    others = client.get(f"{API}/employers/{de_vries}/retention", params={"as_of": str(AS_OF)}, headers=employer)
    refused = client.get(f"{API}/retention", headers=employer)

    assert tenant_wide.status_code == 200, tenant_wide.text
    assert tenant_wide.json()["retention"]["12_months"] == {"started": 2, "retained": 2, "percent": "100.0"}
    assert own.status_code == 200, own.text
    assert own.json()["placements"] == 1
    assert own.json()["end_reasons"] == {"direct_employment": 1}
    assert others.status_code == 404
    assert refused.status_code == 403
    assert Decimal(tenant_wide.json()["retention"]["3_months"]["percent"]) == 100


# -- the warning figures kept on r_placements -------------------------------------

def kept(books: Books, placement: UUID) -> dict:
    with books.system.stores.database("default").connection() as conn:
        return conn.execute(
            "SELECT latest_score, earlier_score_sum, earlier_scores FROM rm.r_placements WHERE tenant_id = %s"
            " AND placement_id = %s AND gen = (SELECT gen FROM rm.live WHERE projection = 'retention'"
            " AND tenant_id = %s)", (books.tenant.id, placement, books.tenant.id)).fetchone()


async def test_feedback_dated_before_the_latest_counts_as_an_earlier_score(pool, books):
    employer = books.employer()
    p = place(books, employer, date(2026, 6, 1))
    # Stored in this order: the 20 September score stays the latest, though
    # two scores dated before it arrive after it; on a tie of days the one
    # stored last is the latest.
    for day, score in ((date(2026, 7, 1), 5), (date(2026, 9, 20), 4), (date(2026, 8, 1), 5),
                       (date(2026, 7, 15), 4), (date(2026, 9, 20), 2)):
        feedback_on(books, p, score, day)

    f = await figures(pool, books)

    assert kept(books, p) == {"latest_score": 2, "earlier_score_sum": 18, "earlier_scores": 4}
    w = warnings_by_kind(f)["falling_feedback"][str(p)]
    assert (w["latest_score"], w["previous_average"]) == (2, "4.50")  # 2 <= 4.5 - 1.5


async def test_warnings_from_the_kept_figures_equal_those_read_from_every_score(pool, books):
    employer = books.employer()
    start = date(2026, 6, 1)
    placements = [place(books, employer, start) for _ in range(4)]
    scores = [((7, 1, 5), (8, 1, 5), (9, 20, 2)), ((7, 1, 4), (9, 20, 3), (8, 1, 4)),
              ((7, 1, 3),), ((8, 1, 5), (8, 1, 5), (8, 1, 1))]
    for p, given in zip(placements, scores):
        for month, day, score in given:
            feedback_on(books, p, score, date(2026, month, day))
    kept_figures = await figures(pool, books)

    # As a database projected before the columns existed has them: empty. The
    # query then reads r_feedback for those placements, and a score given
    # meanwhile leaves them empty (not half-known) until a rebuild.
    with books.system.stores.database("default").connection() as conn:
        conn.execute("UPDATE rm.r_placements SET latest_score = NULL, earlier_score_sum = NULL,"
                     " earlier_scores = NULL WHERE tenant_id = %s AND placement_id = ANY(%s)",
                     (books.tenant.id, placements[:3]))
    forget_figures()
    assert (await retention(pool, books.tenant.id, AS_OF))["warnings"] == kept_figures["warnings"]
    assert kept_figures["warning_counts"] == {"no_feedback": 2, "falling_feedback": 2}  # 7/1 and 8/1 last
    assert {w["placement_id"] for w in kept_figures["warnings"] if w["kind"] == "falling_feedback"} == {
        str(placements[0]), str(placements[3])}

    feedback_on(books, placements[1], 1, date(2026, 9, 25))
    after = await figures(pool, books)
    assert kept(books, placements[1]) == {"latest_score": None, "earlier_score_sum": None, "earlier_scores": None}
    falling = warnings_by_kind(after)["falling_feedback"]
    assert falling[str(placements[1])]["latest_score"] == 1
    assert falling[str(placements[1])]["previous_average"] == "3.67"

    runner(books.system, books.tenant, "retention").rebuild(books.tenant)
    assert kept(books, placements[1]) == {"latest_score": 1, "earlier_score_sum": 11, "earlier_scores": 3}
    assert (await retention(pool, books.tenant.id, AS_OF))["warnings"] == after["warnings"]


async def test_the_first_hundred_warnings_of_a_kind_are_listed_the_longest_silent_first_with_the_total(
        pool, books):
    employer = books.employer()
    silent = [place(books, employer, date(2026, 1, 1) + timedelta(days=i)) for i in range(WARNINGS_SHOWN + 3)]

    f = await figures(pool, books)

    assert f["warning_counts"] == {"no_feedback": WARNINGS_SHOWN + 3, "falling_feedback": 0}
    listed = [w["placement_id"] for w in f["warnings"]]
    assert listed == [str(p) for p in silent[:WARNINGS_SHOWN]]


async def test_months_after_a_start_are_counted_as_postgresql_counts_them(pool):
    from projections.retention import add_months

    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(0, 800, 3)] + [
        date(2025, 8, 31), date(2023, 11, 30), date(2024, 2, 29), date(2025, 12, 31)]
    for n in (3, 6, 12):
        rows = await pool.fetch("SELECT d, (d + make_interval(months => $2))::date AS later"
                                " FROM unnest($1::date[]) AS d", days, n)
        assert {r["d"]: r["later"] for r in rows} == {d: add_months(d, n) for d in days}, n
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)


async def test_retention_from_the_kept_flags_equals_retention_from_the_dates(pool, books):
    employer = books.employer()
    for start, end_on, reason in ((date(2025, 1, 31), date(2025, 4, 29), "resigned"),
                                  (date(2025, 1, 31), date(2025, 4, 30), "resigned"),
                                  (date(2025, 2, 28), date(2025, 3, 15), "direct_employment"),
                                  (date(2024, 8, 31), date(2025, 2, 27), "dismissed"),
                                  (date(2024, 8, 31), date(2025, 2, 28), "dismissed"),
                                  (date(2025, 5, 1), None, None)):
        p = place(books, employer, start)
        if end_on:
            end(books, p, end_on, reason)
    kept = await figures(pool, books)
    with books.system.stores.database("default").connection() as conn:  # as projected before the flags
        conn.execute("UPDATE rm.r_placements SET retained_3 = NULL, retained_6 = NULL, retained_12 = NULL"
                     " WHERE tenant_id = %s", (books.tenant.id,))
    forget_figures()
    assert await retention(pool, books.tenant.id, AS_OF) == kept
    # 3 months after 31 January is 30 April: only the first ends a day short.
    assert kept["retention"]["3_months"] == {"started": 6, "retained": 5, "percent": "83.3"}
    assert kept["retention"]["6_months"]["retained"] == 3  # 31 August + 6 months = 28 February


async def test_figures_are_kept_per_position_so_a_change_shows_at_once_and_a_caller_cannot_spoil_them(
        pool, books):
    employer = books.employer()
    first_placement = place(books, employer, date(2026, 6, 1))
    first = await figures(pool, books)
    first["warnings"].clear()  # the dashboard trims the list it is given
    first["retention"]["3_months"]["started"] = 999

    same = await retention(pool, books.tenant.id, AS_OF)
    place(books, employer, date(2026, 7, 1))
    before_projected = await retention(pool, books.tenant.id, AS_OF)  # the read model has not moved yet
    moved = await figures(pool, books)

    assert [w["placement_id"] for w in same["warnings"]] == [str(first_placement)]
    assert same["retention"]["3_months"]["started"] == 1
    assert before_projected == same
    assert moved["placements"] == 2 and len(moved["warnings"]) == 2
