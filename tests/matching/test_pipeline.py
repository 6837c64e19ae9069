"""The match pipeline: proposed, introduced, trial, placed, or declined (by
whom and why); forward only, and a refused step stores nothing."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from domain.errors import InvalidValue
from domain.matching import MatchPipeline, StepOutOfOrder, UnknownDeclineReason
from infra.bootstrap import System
from tests.conftest import random_slug
from tests.projections.conftest import API, Books, bearer, catch_up, token_for

VACANCY, CANDIDATE = uuid.UUID(int=1), uuid.UUID(int=2)
DAY = date(2026, 3, 2)


def a_match() -> MatchPipeline:
    return MatchPipeline.propose(VACANCY, CANDIDATE, DAY)


def test_a_match_goes_forward_step_by_step():
    match = a_match()
    assert match.id == MatchPipeline.id_for(VACANCY, CANDIDATE)
    match.advance("introduced", DAY)
    match.advance("trial", date(2026, 3, 9))
    match.advance("placed", date(2026, 4, 1), placement_id=uuid.UUID(int=3))
    assert [s["step"] for s in match.steps] == ["proposed", "introduced", "trial", "placed"]
    assert [type(e).__name__ for e in match.collect_events()] == [
        "MatchProposed", "MatchAdvanced", "MatchAdvanced", "MatchAdvanced"]


def test_a_step_may_be_skipped_forward():
    match = a_match()
    match.advance("placed", DAY, placement_id=uuid.UUID(int=3))
    assert match.step == "placed" and not match.is_open


@pytest.mark.parametrize("done, step", [
    (["introduced", "trial"], "introduced"),   # backwards
    (["introduced"], "introduced"),            # twice
    ([], "proposed"),                          # proposed again
    ([], "hired"),                             # not a step
])
def test_steps_out_of_order_name_the_step_field(done, step):
    match = a_match()
    for s in done:
        match.advance(s, DAY)
    with pytest.raises(StepOutOfOrder) as raised:
        match.advance(step, DAY)
    assert raised.value.field == "step" and not raised.value.is_state_conflict


def test_nothing_follows_a_decline_or_a_placement():
    declined = a_match()
    declined.decline("employer", "hours", DAY)
    assert declined.steps[-1] == {"step": "declined", "on": DAY, "by": "employer", "reason": "hours"}
    with pytest.raises(StepOutOfOrder):
        declined.advance("trial", DAY)
    placed = a_match()
    placed.advance("placed", DAY, placement_id=uuid.UUID(int=3))
    with pytest.raises(StepOutOfOrder):
        placed.decline("candidate", "other_offer", DAY)


def test_declines_say_who_and_why_from_a_list():
    with pytest.raises(InvalidValue) as raised:
        a_match().decline("manager", "hours", DAY)
    assert raised.value.field == "by"
    with pytest.raises(UnknownDeclineReason) as raised:
        a_match().decline("candidate", "te ziek", DAY)
    assert raised.value.field == "reason"


def test_steps_are_dated_in_order_and_placed_names_the_placement():
    match = a_match()
    with pytest.raises(InvalidValue) as raised:
        match.advance("introduced", date(2026, 3, 1))
    assert raised.value.field == "on"
    with pytest.raises(InvalidValue) as raised:
        match.advance("placed", DAY)
    assert raised.value.field == "placement_id"


def test_the_pipeline_over_the_api(system: System, client):
    tenant = system.registry.create_tenant(random_slug(), "Werkbedrijf Utrecht B.V.")
    books = Books(system, tenant)
    employer = books.employer()
    vacancy = books.vacancy(employer)
    sanne, daan = books.candidate(), books.candidate(full_name="Daan de Vries")
    agency = bearer(token_for(system, tenant, "agency"))
    url = f"{API}/vacancies/{vacancy}/pipeline"

    def step(candidate, step, **body):
        return client.post(url, json={"candidate_id": str(candidate), "step": step, **body}, headers=agency)

    before = books.head()
    r = step(sanne, "trial", on="2025-01-10")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "step"
    assert books.head() == before  # nothing stored
    assert step(sanne, "proposed", on="2025-01-06").status_code == 201
    assert step(daan, "proposed", on="2025-01-06").status_code == 201
    assert step(sanne, "introduced", on="2025-01-08").status_code == 200
    before = books.head()
    r = step(sanne, "proposed")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "step"
    r = step(sanne, "introduced", on="2025-01-09")
    assert r.status_code == 422 and "cannot follow 'introduced'" in r.json()["detail"]
    r = step(daan, "declined", by="candidate", reason="gezondheid")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = step(sanne, "placed", on="2025-02-01")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "placement_id"
    assert books.head() == before
    assert step(daan, "declined", on="2025-01-09", by="employer", reason="hours").status_code == 200

    # The proposal matched the candidate to the vacancy, so the placement can name it.
    placement = books.placement(sanne, employer, None, vacancy=vacancy)
    assert step(sanne, "placed", on="2025-02-01", placement_id=str(placement)).status_code == 200

    catch_up(system, tenant)
    r = client.get(url, headers=agency)
    assert r.status_code == 200, r.text
    items = r.json()["pipeline"]
    assert [(i["full_name"], i["step"]) for i in items] == [("Sanne Jansen", "placed"), ("Daan de Vries", "declined")]
    assert [s["step"] for s in items[0]["steps"]] == ["proposed", "introduced", "placed"]
    assert items[0]["steps"][-1]["placement_id"] == str(placement)
    assert items[1]["steps"][-1] == {"step": "declined", "on": "2025-01-09", "by": "employer", "reason": "hours"}
    # The employer reads its own vacancy's board (see test_employer_pipeline.py for what it records).
    boss = bearer(token_for(system, tenant, "employer", employer_id=employer))
    assert client.get(url, headers=boss).status_code == 200
    assert client.post(url, json={"candidate_id": str(sanne), "step": "placed"}, headers=boss).status_code == 403


def test_the_new_routes_are_in_the_openapi_schema(client):
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/v1/candidates/{candidate_id}/availability", "/api/v1/vacancies/{vacancy_id}/suggestions",
                 "/api/v1/vacancies/{vacancy_id}/pipeline", "/api/v1/placements/{placement_id}/sickness",
                 "/api/v1/placements/{placement_id}/recovery", "/api/v1/placements/{placement_id}/duties",
                 "/api/v1/duties", "/api/v1/duties/{duty_id}/done", "/api/v1/reminders"):
        assert path in paths
