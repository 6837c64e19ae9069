"""The directory read model behind the list pages: names to show, filters per
role, and no special-category data."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
import pytest

from infra.bootstrap import System
from projections import directory
from projections.base import RM
from service import commands as c
from tests.web.conftest import Agency


@pytest.fixture(scope="module")
async def pool(database_url: str, system: System) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    yield p
    await p.close()


async def test_lists_carry_names_and_follow_the_changes(agency: Agency, pool: asyncpg.Pool) -> None:
    ids = agency.seed(employer_name="Bouwbedrijf De Vries B.V.", candidate_name="Sanne Jansen")
    agency.run(c.GiveFeedback(placement_id=ids["placement"], score=4, from_role="coach", comment="Goed."))
    agency.run(c.ChangeHours(placement_id=ids["placement"], hours_per_week=Decimal("28"),
                             effective_on=date.today()))
    agency.run(c.EndPlacement(placement_id=ids["placement"], ends_on=date.today(), reason="direct_employment"))
    agency.project()
    tenant = agency.tenant.id

    [placement] = await directory.placements(pool, tenant)
    assert (placement["candidate_name"], placement["employer_name"], placement["contract_title"]) == (
        "Sanne Jansen", "Bouwbedrijf De Vries B.V.", "Onderhoud openbare ruimte")
    assert placement["hours_per_week"] == Decimal("28") and placement["feedback_count"] == 1
    assert placement["ended_on"] == date.today() and placement["end_reason"] == "direct_employment"
    [vacancy] = await directory.vacancies(pool, tenant)
    assert vacancy["status"] == "filled" and vacancy["matched"] == [str(ids["candidate"])]
    [contract] = await directory.contracts(pool, tenant)
    assert contract["obligation_eur"] == Decimal("50000.00")
    names = await directory.names(pool, tenant, [ids["employer"], ids["candidate"], None])
    assert names == {ids["employer"]: "Bouwbedrijf De Vries B.V.", ids["candidate"]: "Sanne Jansen"}


async def test_role_filters_narrow_the_lists(agency: Agency, pool: asyncpg.Pool) -> None:
    ours = agency.seed(employer_name="Bouwbedrijf De Vries B.V.", candidate_name="Sanne Jansen")
    theirs = agency.seed(employer_name="Schoonmaakbedrijf Hollandia", candidate_name="Ahmed Yilmaz")
    agency.project()
    tenant = agency.tenant.id
    mine = await directory.placements(pool, tenant, employer_id=ours["employer"])
    assert [p["candidate_name"] for p in mine] == ["Sanne Jansen"]
    own = await directory.placements(pool, tenant, candidate_id=theirs["candidate"])
    assert [p["employer_name"] for p in own] == ["Schoonmaakbedrijf Hollandia"]
    assert len(await directory.contracts(pool, tenant, authority="Gemeente Utrecht")) == 2
    assert await directory.contracts(pool, tenant, authority="Gemeente Harlingen") == []
    assert len(await directory.vacancies(pool, tenant, employer_id=ours["employer"])) == 1


async def test_candidates_are_searched_by_name_or_competence_with_wildcards_taken_literally(
        agency: Agency, pool: asyncpg.Pool) -> None:
    for name, competences in [("Sanne Bakker", ["data-analyse", "Python"]), ("Joke Mulder", ["planning"]),
                              ("Daan 100% Smit", ["testen"])]:
        agency.run(c.RegisterCandidate(full_name=name, date_of_birth=date(1990, 1, 1), target_group="no_benefit",
                                       competences=competences, support_needs="Geheim: NVDA schermlezer."))
    agency.project()
    tenant = agency.tenant.id
    assert [r["full_name"] for r in await directory.candidates(pool, tenant, search="PYTH")] == ["Sanne Bakker"]
    assert [r["full_name"] for r in await directory.candidates(pool, tenant, search="mulder")] == ["Joke Mulder"]
    assert [r["full_name"] for r in await directory.candidates(pool, tenant, search="%")] == ["Daan 100% Smit"]
    assert await directory.candidates(pool, tenant, search="_") == []
    assert len(await directory.candidates(pool, tenant)) == 3


async def test_no_special_category_data_is_copied(agency: Agency, pool: asyncpg.Pool) -> None:
    agency.seed()
    agency.project()
    columns = {r["column_name"] for r in await pool.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'd_candidates'",
        RM)}
    # `search`: the name and competences again, lower-cased for the search.
    assert columns == {"tenant_id", "gen", "candidate_id", "full_name", "competences", "registered_on", "search"}
    rows = await pool.fetch(f"SELECT * FROM {RM}.d_candidates WHERE tenant_id = $1", agency.tenant.id)
    assert rows and all("Schriftelijke instructies" not in str(dict(r)) for r in rows)


async def test_retention_by_cohort_and_month(agency: Agency, pool: asyncpg.Pool) -> None:
    today = date.today()
    ids = agency.seed()
    # Started 60 days ago (conftest), ended after 20 days.
    agency.run(c.EndPlacement(placement_id=ids["placement"], ends_on=today - timedelta(days=40), reason="resigned"))
    agency.project()
    [cohort] = await directory.retention_cohorts(pool, agency.tenant.id, today)
    assert cohort["placements"] == 1 and cohort["active"] == 0
    assert cohort["windows"][3] == {"started": 0, "retained": 0, "percent": None}
    curve = await directory.retention_curve(pool, agency.tenant.id, today)
    assert curve[0] == {"month": 0, "started": 1, "retained": 1, "percent": Decimal("100.0")}
    assert curve[1] == {"month": 1, "started": 1, "retained": 0, "percent": Decimal("0.0")}
    assert curve[3]["started"] == 0 and curve[3]["percent"] is None  # too recent to tell



async def test_the_search_column_is_blanked_on_erasure_and_old_rows_are_still_found(
        agency: Agency, pool: asyncpg.Pool) -> None:
    kept = agency.run(c.RegisterCandidate(full_name="Fleur de Wit", date_of_birth=date(1990, 1, 1),
                                          target_group="no_benefit", competences=["Heftruck", "Reachtruck"],
                                          support_needs=""))
    erased = agency.run(c.RegisterCandidate(full_name="Bram Visser", date_of_birth=date(1990, 1, 1),
                                            target_group="no_benefit", competences=["Lassen"], support_needs=""))
    agency.run(c.EraseCandidate(candidate_id=erased))
    agency.project()
    tenant = agency.tenant.id
    rows = {r["candidate_id"]: r["search"] for r in await pool.fetch(
        f"SELECT candidate_id, search FROM {RM}.d_candidates WHERE tenant_id = $1 AND gen = {directory.LIVE}",
        tenant)}
    # The erased person keeps neither name nor competences.
    assert rows == {kept: "fleur de wit\nheftruck\nreachtruck", erased: "[erased]"}
    assert [r["full_name"] for r in await directory.candidates(pool, tenant, search="REACH")] == ["Fleur de Wit"]
    assert await directory.candidates(pool, tenant, search="visser") == []
    # A row projected before the column existed is searched on its name and competences.
    await pool.execute(f"UPDATE {RM}.d_candidates SET search = NULL WHERE tenant_id = $1", tenant)
    assert [r["full_name"] for r in await directory.candidates(pool, tenant, search="fleur")] == ["Fleur de Wit"]
    assert [r["full_name"] for r in await directory.candidates(pool, tenant, search="reach")] == ["Fleur de Wit"]


async def test_a_search_is_answered_a_page_at_a_time_with_the_number_of_matches(
        agency: Agency, pool: asyncpg.Pool) -> None:
    for i in range(7):
        agency.run(c.RegisterCandidate(full_name=f"Kandidaat {i}", date_of_birth=date(1990, 1, 1),
                                       target_group="no_benefit", competences=["Schoonmaak"], support_needs=""))
    agency.run(c.RegisterCandidate(full_name="Anders", date_of_birth=date(1990, 1, 1),
                                   target_group="no_benefit", competences=["Koken"], support_needs=""))
    agency.project()
    tenant = agency.tenant.id
    first, total = await directory.search_candidates(pool, tenant, search="kandidaat", limit=3)
    assert [r["full_name"] for r in first] == ["Kandidaat 0", "Kandidaat 1", "Kandidaat 2"] and total == 7
    last, total = await directory.search_candidates(pool, tenant, search="kandidaat", limit=3, offset=6)
    assert [r["full_name"] for r in last] == ["Kandidaat 6"] and total == 7
    assert await directory.search_candidates(pool, tenant, search="kandidaat", limit=3, offset=9) == ([], 7)
    assert await directory.search_candidates(pool, tenant, search="niemand", limit=3) == ([], 0)
    assert (await directory.search_candidates(pool, tenant, search="a", limit=10))[1] == 8  # all on one page
    # The count stops after the cap: a broad search does not read every candidate.
    count = directory.CANDIDATES_COUNT_SQL.replace(f"LIMIT {directory.COUNT_CAP + 1}", "LIMIT 5")
    assert await pool.fetchval(count, tenant, "%kandidaat%") == 5
