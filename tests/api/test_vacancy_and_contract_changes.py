"""Changing a vacancy (competences, hours, region) and a contract's terms after
they were opened or registered, and closing a vacancy, over the API."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import API, Org, bearer, candidate_body, vacancy_body
from tests.projections.conftest import catch_up

pytestmark = pytest.mark.timeout(60)


def patch(org: Org, path: str, body: Any, token: str | None = None, **headers: str) -> Any:
    return org.client.patch(API + path, json=body, headers={**bearer(token or org.agency_token), **headers})


def test_a_vacancy_is_edited_with_its_competences_hours_and_region(org: Org) -> None:
    ids = org.seed()
    vacancy = org.create("/vacancies", vacancy_body(ids["employer"], region="Utrecht"))
    read = org.get(f"/vacancies/{vacancy}").json()
    assert read["region"] == "Utrecht"
    r = patch(org, f"/vacancies/{vacancy}", {"required_competences": ["Administratie", "SQL"],
                                             "hours_per_week": "32", "region": "Amersfoort"},
              **{"If-Match": str(read["version"])})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == read["version"] + 1 and "X-Event-Position" in r.headers
    view = org.get(f"/vacancies/{vacancy}").json()
    assert (view["title"], view["required_competences"], view["optional_competences"], view["hours_per_week"],
            view["region"]) == ("Administratief medewerker", ["Administratie", "SQL"], ["Excel"], "32", "Amersfoort")
    # null clears the region; fields not given stay.
    assert patch(org, f"/vacancies/{vacancy}", {"region": None}).status_code == 200
    assert org.get(f"/vacancies/{vacancy}").json()["region"] is None

    # Someone else's change since the version you read: 409, nothing stored.
    before = org.event_count()
    r = patch(org, f"/vacancies/{vacancy}", {"title": "Anders"}, **{"If-Match": str(read["version"])})
    assert r.status_code == 409 and org.event_count() == before


def test_bad_edits_name_the_field_and_store_nothing(org: Org) -> None:
    ids = org.seed()
    vacancy = org.create("/vacancies", vacancy_body(ids["employer"]))
    before = org.event_count()
    for body, field in (({"hours_per_week": "61"}, "hours_per_week"),
                        ({"optional_competences": ["administratie"]}, "optional_competences"),
                        ({"title": "  "}, "title"),
                        ({"region": "x" * 101}, "region")):
        r = patch(org, f"/vacancies/{vacancy}", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, body
    assert org.event_count() == before
    # A filled vacancy is not edited any more: a conflict with its state.
    r = patch(org, f"/vacancies/{ids['vacancy']}", {"title": "Anders"})
    assert r.status_code == 409


def test_the_employer_edits_and_closes_its_own_vacancies_only(org: Org, new_org: Any) -> None:
    ours = org.seed()
    theirs = org.create("/employers", {"name": "Schoonmaakbedrijf Hollandia"})
    their_vacancy = org.create("/vacancies", vacancy_body(theirs))
    own_vacancy = org.create("/vacancies", vacancy_body(ours["employer"]))
    boss = org.token_for("employer", employer_id=uuid.UUID(ours["employer"]))
    assert patch(org, f"/vacancies/{own_vacancy}", {"hours_per_week": "16"}, boss).status_code == 200
    assert patch(org, f"/vacancies/{their_vacancy}", {"hours_per_week": "16"}, boss).status_code == 404
    assert org.post(f"/vacancies/{their_vacancy}/close", {}, boss).status_code == 404
    auditor = org.token_for("auditor")
    assert patch(org, f"/vacancies/{own_vacancy}", {"hours_per_week": "16"}, auditor).status_code == 403
    # Another tenant's agency cannot reach it at all.
    other = new_org("Ander Werkbedrijf")
    assert patch(other, f"/vacancies/{own_vacancy}", {"hours_per_week": "16"}).status_code == 404

    r = org.post(f"/vacancies/{own_vacancy}/close", {"reason": "Intern ingevuld"}, boss)
    assert r.status_code == 200, r.text
    assert org.get(f"/vacancies/{own_vacancy}").json()["status"] == "closed"
    assert org.post(f"/vacancies/{own_vacancy}/close", {}, boss).status_code == 409
    assert patch(org, f"/vacancies/{own_vacancy}", {"hours_per_week": "20"}).status_code == 409


def test_suggestions_use_the_vacancys_region_unless_the_request_names_one(org: Org) -> None:
    employer = org.create("/employers", {"name": "Gemeente Utrecht ICT"})
    vacancy = org.create("/vacancies", vacancy_body(employer, required_competences=["SQL"], optional_competences=[],
                                                    region="Utrecht"))
    people = {}
    for name, region in (("Sanne Jansen", "Amersfoort"), ("Daan de Vries", "utrecht ")):
        people[name] = org.create("/candidates", candidate_body(full_name=name, competences=["SQL"]))
        r = org.post(f"/candidates/{people[name]}/availability",
                     {"hours_per_week": "24", "available_from": "2026-01-01", "region": region})
        assert r.status_code == 200, r.text
    catch_up(org.system, org.tenant)

    def ranking(query: str = "") -> list[tuple[str, int]]:
        r = org.get(f"/vacancies/{vacancy}/suggestions?starts_on=2026-02-01{query}")
        assert r.status_code == 200, r.text
        return [(s["full_name"], s["score"]) for s in r.json()["suggestions"]]

    assert ranking() == [("Daan de Vries", 100), ("Sanne Jansen", 90)]
    assert ranking("&region=Amersfoort") == [("Sanne Jansen", 100), ("Daan de Vries", 90)]
    # After an edit the vacancy's new region counts.
    assert patch(org, f"/vacancies/{vacancy}", {"region": "Amersfoort"}).status_code == 200
    assert ranking() == [("Sanne Jansen", 100), ("Daan de Vries", 90)]


def test_a_contract_is_amended_by_the_agency(org: Org) -> None:
    ids = org.seed()
    contract = ids["contract"]
    version = org.get(f"/contracts/{contract}").json()["version"]
    r = patch(org, f"/contracts/{contract}", {"contract_value_eur": "1200000.00", "ends_on": "2028-06-30"},
              **{"If-Match": str(version)})
    assert r.status_code == 200, r.text
    view = org.get(f"/contracts/{contract}").json()
    assert (view["contract_value_eur"], view["ends_on"], view["obligation_eur"]) == (
        "1200000.00", "2028-06-30", "60000.00")
    before = org.event_count()
    r = patch(org, f"/contracts/{contract}", {"ends_on": "2024-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_on"
    r = patch(org, f"/contracts/{contract}", {"obligation_percent": "120"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "obligation_percent"
    r = patch(org, f"/contracts/{contract}", {"rule_set": "harlingen-2024"})
    assert r.status_code == 422 and "rule_set" in r.text  # not an amendable term: unknown field
    r = patch(org, f"/contracts/{contract}", {"title": "Anders"}, **{"If-Match": str(version)})
    assert r.status_code == 409
    boss = org.token_for("employer", employer_id=uuid.UUID(ids["employer"]))
    assert patch(org, f"/contracts/{contract}", {"title": "Anders"}, boss).status_code == 403
    assert org.event_count() == before
    assert org.post(f"/contracts/{contract}/close", {"closed_on": "2026-01-01"}).status_code == 200
    assert patch(org, f"/contracts/{contract}", {"title": "Anders"}).status_code == 409
