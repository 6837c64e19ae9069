"""Suggestions through the real projection and query: ranking, reasons, who is
left out, and that special-category data never changes a score."""
from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.matching import VacancyNeeds, normalise, rank
from domain.values import TARGET_GROUPS
from infra.bootstrap import System
from projections import matching
from projections.base import RM
from service import commands as c
from tests.conftest import random_slug
from tests.projections.conftest import API, Books, bearer, catch_up, runner, token_for

START = date(2026, 3, 1)


def project(books: Books) -> None:
    runner(books.system, books.tenant, matching.NAME).catch_up(books.tenant, wait=True)


def candidate(books: Books, competences: list[str], hours: str | None = "24", region: str = "Utrecht",
              available_from: date = date(2026, 1, 1), **special: Any) -> UUID:
    ident = books.candidate(competences=competences, **special)
    if hours is not None:
        books.run(c.StateAvailability(candidate_id=ident, hours_per_week=Decimal(hours),
                                      available_from=available_from, region=region))
    return ident


def needs(required=("Administratie",), optional=("Excel",), hours="24", region="Utrecht") -> VacancyNeeds:
    return VacancyNeeds(tuple(required), tuple(optional), Decimal(hours), region, START)


async def test_suggestions_are_ranked_with_reasons(books: Books, pool: asyncpg.Pool):
    best = candidate(books, ["administratie", "EXCEL"])
    no_excel = candidate(books, ["Administratie"])
    elsewhere = candidate(books, ["Administratie", "Excel"], hours="16", region="Amsterdam")
    unrelated = candidate(books, ["Lassen"])
    project(books)
    found = await matching.suggestions(pool, books.tenant.id, needs())
    assert [s.candidate_id for s in found] == [best, no_excel, elsewhere]
    assert unrelated not in {s.candidate_id for s in found}  # shares no competence
    assert found[0].score == 100
    assert found[1].score == 90 and "0 of 1 optional competences" in found[1].reasons
    assert found[2].score == 85  # 60 + 10 + 15 x 16/24 + 0 + 5
    assert found[2].reasons[-2] == "other region: Amsterdam (asked: Utrecht)"


async def test_placed_hours_reduce_the_fit_and_full_time_is_left_out(books: Books, pool: asyncpg.Pool):
    employer = books.employer()
    part_time = candidate(books, ["Administratie"], hours="36")
    full_time = candidate(books, ["Administratie"], hours="40")
    ended = candidate(books, ["Administratie"], hours="24")
    p1 = books.placement(part_time, employer, None, hours_per_week=Decimal("16"))
    books.placement(full_time, employer, None, hours_per_week=Decimal("20"))
    p2 = books.placement(full_time, employer, None, hours_per_week=Decimal("12"))
    books.run(c.ChangeHours(placement_id=p2, hours_per_week=Decimal("16"), effective_on=date(2025, 3, 1)))
    p3 = books.placement(ended, employer, None, hours_per_week=Decimal("36"))
    books.run(c.EndPlacement(placement_id=p3, ends_on=date(2025, 6, 30), reason="resigned"))
    books.run(c.ChangeHours(placement_id=p1, hours_per_week=Decimal("20"), effective_on=date(2025, 4, 1)))
    project(books)
    found = {s.candidate_id: s for s in await matching.suggestions(pool, books.tenant.id, needs(optional=()))}
    assert full_time not in found  # 20 + 16 = 36 h placed
    assert "hours fit: 16 of 24" in found[part_time].reasons  # 36 stated - 20 placed
    assert "hours fit: 24 of 24" in found[ended].reasons  # the 36 h placement ended


async def test_erased_candidates_are_not_suggested(books: Books, pool: asyncpg.Pool):
    erased = candidate(books, ["Administratie"])
    kept = candidate(books, ["Administratie"])
    books.run(c.EraseCandidate(candidate_id=erased))
    project(books)
    found = {s.candidate_id for s in await matching.suggestions(pool, books.tenant.id, needs())}
    assert found == {kept}


async def test_candidates_of_other_tenants_are_never_suggested(new_books, pool: asyncpg.Pool):
    mine, theirs = new_books(), new_books("Andere Detachering B.V.")
    own = candidate(mine, ["Administratie"])
    candidate(theirs, ["Administratie", "Excel"])
    project(mine)
    project(theirs)
    found = await matching.suggestions(pool, mine.tenant.id, needs())
    assert [s.candidate_id for s in found] == [own]


# -- special-category data never changes a score -------------------------------------
VOCABULARY = ["Administratie", "Excel", "SQL", "Klantcontact", "Logistiek", "Python", "Boekhouden"]
REGIONS = ["Utrecht", "Amsterdam", "Friesland"]

special_fields = st.fixed_dictionaries({
    "target_group": st.sampled_from(TARGET_GROUPS),
    "support_needs": st.sampled_from(["", "Gebarentolk bij overleg", "Braille-leesregel",
                                      "Rustige werkplek, vaste begeleider", "Autisme: vaste structuur"]),
    "date_of_birth": st.dates(date(1960, 1, 1), date(2005, 12, 31)),
    "benefit_since": st.none() | st.dates(date(2021, 1, 1), date(2025, 12, 31)),
    "status_holder": st.booleans(),
    "qualifies_via": st.none() | st.sampled_from(["Wajong", "banenafspraak", "indicatie UWV"]),
})
later_support_needs = st.none() | st.sampled_from(["Gebarentolk", "Schriftelijke instructies"])


def query(database_url: str, tenant_id: UUID, vacancy: VacancyNeeds) -> list:
    async def go() -> list:
        conn = await asyncpg.connect(database_url)
        try:
            return await matching.suggestions(conn, tenant_id, vacancy, limit=50)
        finally:
            await conn.close()
    return asyncio.run(go())


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one=special_fields, two=special_fields, later=later_support_needs,
       competences=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=5, unique=True),
       hours=st.integers(1, 60), region=st.sampled_from(REGIONS),
       available_from=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
       placed=st.none() | st.sampled_from([8, 16, 24]),
       required=st.lists(st.sampled_from(VOCABULARY), max_size=4, unique=True),
       optional=st.lists(st.sampled_from(VOCABULARY), max_size=3, unique=True),
       vacancy_hours=st.integers(1, 40), vacancy_region=st.none() | st.sampled_from(REGIONS))
def test_special_category_data_never_changes_a_score(
        system: System, database_url: str, one, two, later, competences, hours, region, available_from,
        placed, required, optional, vacancy_hours, vacancy_region):
    optional = [o for o in optional if o not in required]
    books = Books(system, system.registry.create_tenant(random_slug("match"), "Eigenschap B.V."))
    employer = books.employer()
    twins = []
    for special in (one, two):
        ident = candidate(books, competences, hours=str(hours), region=region,
                          available_from=available_from, **special)
        if placed is not None:
            books.placement(ident, employer, None, hours_per_week=Decimal(placed))
        twins.append(ident)
    if later is not None:  # stated after registration, by one of them only
        books.run(c.StateSupportNeeds(candidate_id=twins[1], support_needs=later))
    project(books)
    vacancy = VacancyNeeds(tuple(required), tuple(optional), Decimal(vacancy_hours), vacancy_region, START)
    found = {s.candidate_id: s for s in query(database_url, books.tenant.id, vacancy)}
    assert (twins[0] in found) == (twins[1] in found)
    if twins[0] in found:
        a, b = found[twins[0]], found[twins[1]]
        assert (a.score, a.reasons, a.points) == (b.score, b.reasons, b.points)


# -- the SQL preselection gives what scoring every candidate in Python gives ------------
ALL_SQL = f"""
SELECT m.candidate_id, m.competences, m.match_keys, m.hours_available, m.placed_hours,
       m.available_from, m.region
FROM {RM}.m_candidates m
WHERE m.tenant_id = $1 AND m.gen = (SELECT gen FROM {RM}.live WHERE projection = 'matching' AND tenant_id = $1)
"""


async def test_the_sql_preselection_equals_ranking_every_candidate(books: Books, pool: asyncpg.Pool):
    rng = random.Random(7)
    employer = books.employer()
    words = [f"competentie {i}" for i in range(12)]
    for _ in range(250):
        ident = candidate(books, rng.sample(words, rng.randint(1, 4)) + (["Excel"] if rng.random() < .3 else []),
                          hours=rng.choice([None, "8", "16", "24", "32", "36", "40"]),
                          region=rng.choice(REGIONS),
                          available_from=START + timedelta(days=rng.randint(-60, 60)))
        if rng.random() < 0.3:
            books.placement(ident, employer, None, hours_per_week=Decimal(rng.choice([8, 16, 24, 36])))
    project(books)
    rows = await pool.fetch(ALL_SQL, books.tenant.id)
    for _ in range(25):
        asked = rng.sample(words + ["EXCEL"], rng.randint(0, 6))
        split = rng.randint(0, len(asked))
        vacancy = VacancyNeeds(tuple(asked[:split]), tuple(asked[split:]),
                               Decimal(rng.choice(["12", "24", "32.5", "36"])),
                               rng.choice([None, *REGIONS]), START + timedelta(days=rng.randint(-30, 30)))
        keys = {normalise(k) for k in asked}
        eligible = [matching.profile_of(r) for r in rows if r["placed_hours"] < 36
                    and (not keys or keys & set(r["match_keys"]))]
        limit = rng.choice([1, 5, 20])
        expected = rank(vacancy, eligible, limit)
        got = await matching.suggestions(pool, books.tenant.id, vacancy, limit)
        assert [(s.candidate_id, s.score, s.reasons) for s in got] == \
            [(s.candidate_id, s.score, s.reasons) for s in expected]


# -- the API ----------------------------------------------------------------------------
def test_suggestions_over_the_api(system: System, client):
    tenant = system.registry.create_tenant(random_slug(), "Werkbedrijf Utrecht B.V.")
    agency = bearer(token_for(system, tenant, "agency"))

    def post(path: str, body: dict, headers=agency):
        return client.post(API + path, json=body, headers=headers)

    employer = post("/employers", {"name": "Gemeente Utrecht ICT"}).json()["id"]
    vacancy = post("/vacancies", {"employer_id": employer, "title": "Data-analist",
                                  "required_competences": ["SQL", "Python"], "optional_competences": ["Excel"],
                                  "hours_per_week": "24"}).json()["id"]
    people = {}
    for name, competences, hours in (("Sanne Jansen", ["sql", "python", "excel"], "24"),
                                     ("Daan de Vries", ["SQL"], "32")):
        people[name] = post("/candidates", {"full_name": name, "date_of_birth": "1990-06-15",
                                            "target_group": "doelgroepregister", "competences": competences,
                                            "support_needs": "Gebarentolk"}).json()["id"]
        r = post(f"/candidates/{people[name]}/availability",
                 {"hours_per_week": hours, "available_from": "2026-01-01", "region": "Utrecht"})
        assert r.status_code == 200, r.text
    catch_up(system, tenant)  # matching, and the directory for names
    r = client.get(f"{API}/vacancies/{vacancy}/suggestions?limit=5&region=utrecht&starts_on=2026-02-01",
                   headers=agency)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(s["full_name"], s["score"]) for s in body["suggestions"]] == [("Sanne Jansen", 100),
                                                                         ("Daan de Vries", 60)]
    assert body["suggestions"][1]["reasons"][0] == "1 of 2 required competences; missing: Python"
    assert "support" not in r.text and "Gebarentolk" not in r.text and "doelgroep" not in r.text

    # Bad input names the field and stores nothing.
    before = system.stores.for_tenant(tenant).recorder.max_notification_id()
    r = post(f"/candidates/{people['Sanne Jansen']}/availability",
             {"hours_per_week": "0", "available_from": "2026-01-01", "region": "Utrecht"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hours_per_week"
    r = post(f"/candidates/{people['Sanne Jansen']}/availability",
             {"hours_per_week": "24", "available_from": "2026-01-01", "region": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "region"
    assert system.stores.for_tenant(tenant).recorder.max_notification_id() == before
    r = client.get(f"{API}/vacancies/{vacancy}/suggestions?limit=0", headers=agency)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
    r = client.get(f"{API}/vacancies/{vacancy}/suggestions?starts_on=morgen", headers=agency)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "starts_on"
    r = client.get(f"{API}/vacancies/{uuid.uuid4()}/suggestions", headers=agency)
    assert r.status_code == 404

    # Agency only: an employer does not get candidates' names and scores.
    boss = bearer(token_for(system, tenant, "employer", employer_id=uuid.UUID(employer)))
    assert client.get(f"{API}/vacancies/{vacancy}/suggestions", headers=boss).status_code == 403
    # The person states their own availability; not someone else's.
    me = bearer(token_for(system, tenant, "employee", candidate_id=uuid.UUID(people["Daan de Vries"])))
    body = {"hours_per_week": "16", "available_from": "2026-01-01", "region": "Utrecht"}
    assert post(f"/candidates/{people['Daan de Vries']}/availability", body, me).status_code == 200
    assert post(f"/candidates/{people['Sanne Jansen']}/availability", body, me).status_code == 404


def test_the_read_model_holds_no_special_category_data(system: System, books: Books):
    from projections.matching import MatchingProjection
    from tests.projections.conftest import snapshot

    projection = MatchingProjection()
    assert projection.needs_personal_data is False  # the sealed fields are never even opened
    columns = {c for t in projection.tables for c in t.columns}
    for word in ("target", "support", "birth", "benefit", "status_holder", "qualifies", "health", "name"):
        assert not any(word in c for c in columns), word
    candidate(books, ["Administratie"], target_group="wajong", support_needs="Gebarentolk bij elk overleg",
              date_of_birth=date(1987, 5, 17), benefit_since=date(2019, 3, 1), qualifies_via="Wajong-indicatie")
    project(books)
    rows = repr({t: r for t, r in snapshot(system, books.tenant).items() if t.startswith("m_")})
    assert "Administratie" in rows
    for secret in ("wajong", "Wajong", "Gebarentolk", "date(1987", "date(2019", "Sanne"):
        assert secret not in rows, secret
