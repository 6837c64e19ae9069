"""Outcomes beyond euros through the HTTP API (issue 16): progression and the
employee's own check-ins; who sees what, errors naming the field, and small
groups withheld."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Org, candidate_body, placement_body
from tests.projections.conftest import catch_up

SCORES = {"supported": 4, "work_suits": 5, "can_ask": 3, "want_to_stay": 4}


@pytest.fixture
def utrecht(org: Org) -> Org:
    org.seed()
    return org


def _employee(org: Org, candidate: str | None = None) -> str:
    return org.token_for("employee", candidate_id=candidate or org.ids["candidate"])


def _more_placements(org: Org, n: int, **overrides: Any) -> list[tuple[str, str]]:
    """n more people placed at the seeded employer on its contract: (candidate, placement)."""
    out = []
    for i in range(n):
        candidate = org.create("/candidates", candidate_body(full_name=f"Persoon {i}"))
        placement = org.create("/placements", placement_body(candidate, org.ids["employer"], org.ids["contract"],
                                                             **overrides))
        out.append((candidate, placement))
    return out


# -- progression -----------------------------------------------------------------------
def test_a_scale_that_looks_like_money_is_refused_naming_the_field(utrecht: Org) -> None:
    base = f"/placements/{utrecht.ids['placement']}"
    before = utrecht.event_count()
    for scale in ("€ 2.800", "schaal 2800", "3000 euro"):
        r = utrecht.post(f"{base}/role", {"scale": scale, "effective_on": "2025-06-01"})
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["scale"]
    assert utrecht.event_count() == before


def test_a_placements_timeline_and_who_sees_its_words(utrecht: Org) -> None:
    base = f"/placements/{utrecht.ids['placement']}"
    assert utrecht.post(f"{base}/hours", {"hours_per_week": "32", "effective_on": "2025-04-01"}).status_code == 200
    r = utrecht.post(f"{base}/role", {"scale": "Schaal 6", "role": "Teamleider groen", "effective_on": "2025-05-01"})
    assert r.status_code == 201, r.text
    assert utrecht.post(f"{base}/trainings", {"training": "VCA basis", "completed_on": "2025-03-10"}).status_code == 201
    assert utrecht.post(f"{base}/permanent", {"on": "2025-07-01"}).status_code == 200
    assert utrecht.post(f"{base}/permanent", {"on": "2025-07-02"}).status_code == 409
    catch_up(utrecht.system, utrecht.tenant)
    agency = utrecht.get(f"{base}/progression").json()
    assert [s["kind"] for s in agency["timeline"]] == ["started", "training", "hours", "role", "permanent"]
    assert agency["timeline"][3] == {"kind": "role", "on": "2025-05-01", "scale": "schaal 6",
                                     "role": "Teamleider groen"}
    assert agency["made_permanent_on"] == "2025-07-01" and agency["scale"] == "schaal 6"
    assert _employee(utrecht) and "VCA basis" in str(utrecht.get(f"{base}/progression", _employee(utrecht)).json())
    employer = utrecht.get(f"{base}/progression", utrecht.token_for("employer", employer_id=utrecht.ids["employer"]))
    assert employer.status_code == 200
    assert "Teamleider" not in employer.text and "VCA" not in employer.text and "schaal 6" in employer.text
    authority = utrecht.token_for("authority", organisation="Gemeente Utrecht")
    assert utrecht.get(f"{base}/progression", authority).status_code == 404
    # the role's title and the training's name are sealed: erased with the person
    assert utrecht.post(f"/candidates/{utrecht.ids['candidate']}/erase", {}).status_code == 200
    catch_up(utrecht.system, utrecht.tenant)
    after = utrecht.get(f"{base}/progression").text
    assert "Teamleider" not in after and "VCA" not in after and "schaal 6" in after


def test_progression_figures_from_four_people_are_withheld_and_from_five_shown(utrecht: Org) -> None:
    people = _more_placements(utrecht, 3)  # with the seeded one: 4 people
    for _, placement in people[:2]:
        assert utrecht.post(f"/placements/{placement}/end",
                            {"ends_on": "2025-06-30", "reason": "direct_employment"}).status_code == 200
    catch_up(utrecht.system, utrecht.tenant)
    path = f"/employers/{utrecht.ids['employer']}/progression"
    four = utrecht.get(path).json()
    assert four["total"]["withheld"] is True
    assert four["total"]["people"] is None and four["total"]["direct_employment"] is None
    _more_placements(utrecht, 1)
    catch_up(utrecht.system, utrecht.tenant)
    five = utrecht.get(path).json()["total"]
    assert (five["withheld"], five["people"], five["direct_employment"], five["direct_employment_percent"]) == (
        False, 5, 2, "40.0")
    assert utrecht.get(f"/contracts/{utrecht.ids['contract']}/progression").json()["by_cohort"][0]["group"] == "2025-Q1"
    other = utrecht.create("/employers", {"name": "Schoonmaak Noord"})
    assert utrecht.get(path, utrecht.token_for("employer", employer_id=other)).status_code == 404


# -- the employee's voice ---------------------------------------------------------------
def test_only_the_employee_answers_their_own_check_in(utrecht: Org) -> None:
    path = f"/placements/{utrecht.ids['placement']}/check-ins"
    body = {"moment": 1, "answers": SCORES, "remark": "Fijne collega's, wel veel lawaai"}
    assert utrecht.post(path, body).status_code == 403  # the coach does not answer for them
    someone_else = _more_placements(utrecht, 1)[0][0]
    assert utrecht.post(path, body, _employee(utrecht, someone_else)).status_code == 404
    me = _employee(utrecht)
    r = utrecht.post(path, body, me)
    assert r.status_code == 201, r.text
    assert utrecht.post(path, body, me).status_code == 409
    mine = utrecht.get(path, me).json()
    assert mine["sharing"] == "aggregated"
    assert mine["check_ins"][0]["answers"] == SCORES and mine["check_ins"][0]["remark"].startswith("Fijne")
    assert [m["state"] for m in mine["moments"]][0] == "answered"
    coach = utrecht.get(path).json()
    assert coach["check_ins"][0]["remark"].startswith("Fijne")
    auditor = utrecht.get(path, utrecht.token_for("auditor")).json()
    assert "answers" not in str(auditor["check_ins"]) and "Fijne" not in str(auditor)


@pytest.mark.parametrize("body,field", [
    ({"moment": 2, "answers": SCORES}, "moment"),
    ({"moment": 1, "answers": {**SCORES, "supported": 6}}, "supported"),
    ({"moment": 1, "answers": {**SCORES, "can_ask": 0}}, "can_ask"),
    ({"moment": 1, "answers": {**SCORES, "work_suits": "5"}}, "answers.work_suits"),
    ({"moment": 1, "answers": SCORES, "remark": "x" * 1001}, "remark"),
])
def test_bad_check_in_answers_name_the_field(utrecht: Org, body: dict, field: str) -> None:
    r = utrecht.post(f"/placements/{utrecht.ids['placement']}/check-ins", body, _employee(utrecht))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_the_employer_sees_answers_only_with_the_employees_consent(utrecht: Org) -> None:
    path = f"/placements/{utrecht.ids['placement']}/check-ins"
    me = _employee(utrecht)
    assert utrecht.post(path, {"moment": 1, "answers": SCORES, "remark": "Graag minder uren"}, me).status_code == 201
    employer = utrecht.token_for("employer", employer_id=utrecht.ids["employer"])
    without = utrecht.get(path, employer)
    assert without.status_code == 200
    assert without.json()["shared"] is False and without.json()["check_ins"] == []
    assert "want_to_stay\": 4" not in without.text
    assert utrecht.post(f"{path}/sharing", {"sharing": "individual"}, employer).status_code == 403
    assert utrecht.post(f"{path}/sharing", {"sharing": "individual"}, me).status_code == 200
    shared = utrecht.get(path, employer).json()
    assert shared["shared"] is True and shared["check_ins"][0]["answers"] == SCORES
    assert "Graag" not in str(shared)  # never the remark
    authority = utrecht.token_for("authority", organisation="Gemeente Utrecht")
    assert utrecht.get(path, authority).status_code == 404


def test_satisfaction_from_four_people_is_withheld_and_from_five_shown(utrecht: Org) -> None:
    people = [(utrecht.ids["candidate"], utrecht.ids["placement"]), *_more_placements(utrecht, 4)]
    scores = [5, 4, 4, 3, 4]
    for (candidate, placement), score in list(zip(people, scores))[:4]:
        r = utrecht.post(f"/placements/{placement}/check-ins",
                         {"moment": 1, "answers": {q: score for q in SCORES}}, _employee(utrecht, candidate))
        assert r.status_code == 201, r.text
    # one person answering twice is still one person
    candidate, placement = people[0]
    assert utrecht.post(f"/placements/{placement}/check-ins", {"moment": 3, "answers": {q: 5 for q in SCORES}},
                        _employee(utrecht, candidate)).status_code == 201
    catch_up(utrecht.system, utrecht.tenant)
    path = f"/employers/{utrecht.ids['employer']}/satisfaction"
    employer = utrecht.token_for("employer", employer_id=utrecht.ids["employer"])
    four = utrecht.get(path, employer).json()
    assert four["withheld"] is True and four["satisfaction"] is None and four["people"] is None
    assert four["questions"]["supported"] is None and all(q["withheld"] for q in four["by_quarter"])
    candidate, placement = people[4]
    assert utrecht.post(f"/placements/{placement}/check-ins", {"moment": 1, "answers": {q: 4 for q in SCORES}},
                        _employee(utrecht, candidate)).status_code == 201
    catch_up(utrecht.system, utrecht.tenant)
    five = utrecht.get(path, employer).json()
    assert (five["withheld"], five["people"], five["satisfaction"]) == (False, 5, "4.00")
    contract = utrecht.get(f"/contracts/{utrecht.ids['contract']}/satisfaction",
                           utrecht.token_for("authority", organisation="Gemeente Utrecht")).json()
    assert contract["satisfaction"] == "4.00"


def test_erasing_the_person_erases_their_remarks(utrecht: Org) -> None:
    path = f"/placements/{utrecht.ids['placement']}/check-ins"
    me = _employee(utrecht)
    assert utrecht.post(path, {"moment": 1, "answers": SCORES, "remark": "Mijn rug doet pijn"}, me).status_code == 201
    assert utrecht.post(f"/candidates/{utrecht.ids['candidate']}/erase", {}).status_code == 200
    assert "Mijn rug" not in utrecht.get(path).text
