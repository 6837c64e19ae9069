"""Issue 16 through the HTTP API: the managers' survey, the yearly impact
report of an employer and of a contract (withheld under 5 people, shown from
5), targets beyond placements and retention with their trend, who may read
what, and errors naming the field."""
from __future__ import annotations

import pytest

from tests.api.conftest import Org, candidate_body, placement_body
from tests.projections.conftest import catch_up

ANSWERS = [(4, 3, "yes"), (5, 3, "yes"), (3, 4, "unsure"), (4, 5, "no"), (4, 5, "yes")]


@pytest.fixture
def utrecht(org: Org) -> Org:
    org.seed()
    return org


def _session(org: Org, managers: int = 6, token: str | None = None) -> str:
    r = org.post(f"/employers/{org.ids['employer']}/team-sessions",
                 {"kind": "workshop", "held_on": "2025-05-12", "managers": managers}, token)
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def _answer(org: Org, session: str, answer: tuple[int, int, str], token: str | None = None) -> int:
    knowledge, confidence, hire = answer
    return org.post(f"/employers/{org.ids['employer']}/team-sessions/{session}/answers",
                    {"knowledge": knowledge, "confidence": confidence, "would_hire_again": hire}, token).status_code


def _report(org: Org, token: str | None = None, year: int = 2025) -> dict:
    catch_up(org.system, org.tenant)
    r = org.get(f"/employers/{org.ids['employer']}/impact?year={year}", token)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_survey_is_withheld_at_four_answers_and_shown_at_five(utrecht: Org) -> None:
    employer = utrecht.token_for("employer", employer_id=utrecht.ids["employer"])
    session = _session(utrecht)
    # The employer's own user enters the managers' answers (anonymous).
    assert [_answer(utrecht, session, a, employer) for a in ANSWERS[:4]] == [201] * 4
    four = _report(utrecht)["team_survey"]
    assert four["sessions"] == 1 and four["managers"] == 6
    assert four["knowledge_average"] == {"value": None, "withheld": True, "people": 4}
    assert four["answers"] == {"value": None, "withheld": True, "people": 4}
    assert _answer(utrecht, session, ANSWERS[4]) == 201
    five = _report(utrecht, employer)["team_survey"]
    assert five["knowledge_average"] == {"value": "4.0", "withheld": False, "people": 5}
    assert five["confidence_average"]["value"] == "4.0"
    assert five["would_hire_again_yes_percent"]["value"] == "60.0"
    # The report of another year holds none of it.
    assert _report(utrecht, year=2024)["team_survey"]["sessions"] == 0


def test_a_session_takes_no_more_answers_than_it_had_managers(utrecht: Org) -> None:
    session = _session(utrecht, managers=1)
    assert _answer(utrecht, session, ANSWERS[0]) == 201
    before = utrecht.event_count()
    assert _answer(utrecht, session, ANSWERS[1]) == 409
    assert utrecht.event_count() == before


@pytest.mark.parametrize("path_tail,body,field", [
    ("team-sessions", {"kind": "party", "held_on": "2025-05-12", "managers": 3}, "kind"),
    ("team-sessions", {"kind": "workshop", "held_on": "2999-05-12", "managers": 3}, "held_on"),
    ("team-sessions", {"kind": "workshop", "held_on": "2025-05-12", "managers": 0}, "managers"),
    ("team-sessions", {"kind": "workshop", "held_on": "2025-05-12", "managers": "3"}, "managers"),
    ("team-sessions/session-1/answers", {"knowledge": 6, "confidence": 3, "would_hire_again": "yes"}, "knowledge"),
    ("team-sessions/session-1/answers", {"knowledge": 3, "confidence": 0, "would_hire_again": "yes"}, "confidence"),
    ("team-sessions/session-1/answers", {"knowledge": 3, "confidence": 3, "would_hire_again": "ja"},
     "would_hire_again"),
    ("team-sessions/session-9/answers", {"knowledge": 3, "confidence": 3, "would_hire_again": "yes"}, "session_id"),
])
def test_bad_sessions_and_answers_name_the_field(utrecht: Org, path_tail: str, body: dict, field: str) -> None:
    _session(utrecht)
    before = utrecht.event_count()
    r = utrecht.post(f"/employers/{utrecht.ids['employer']}/{path_tail}", body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert utrecht.event_count() == before


def test_who_reads_the_employer_report(utrecht: Org, new_org) -> None:
    _session(utrecht)
    assert utrecht.get(f"/employers/{utrecht.ids['employer']}/impact?year=2025",
                       utrecht.token_for("auditor")).status_code == 200
    other = utrecht.create("/employers", {"name": "Schoonmaak Noord"})
    for token in (utrecht.token_for("employer", employer_id=other),
                  utrecht.token_for("authority", organisation="Gemeente Utrecht"),
                  utrecht.token_for("employee", candidate_id=utrecht.ids["candidate"])):
        assert utrecht.get(f"/employers/{utrecht.ids['employer']}/impact?year=2025", token).status_code == 404
    # Another agency knows nothing of these ids: 404, for the report and for recording answers.
    stranger = new_org("Ander Bureau B.V.")
    assert stranger.get(f"/employers/{utrecht.ids['employer']}/impact?year=2025").status_code == 404
    assert stranger.get(f"/contracts/{utrecht.ids['contract']}/impact?year=2025").status_code == 404
    assert stranger.get(f"/contracts/{utrecht.ids['contract']}/targets/trend").status_code == 404
    r = stranger.post(f"/employers/{utrecht.ids['employer']}/team-sessions/session-1/answers",
                      {"knowledge": 3, "confidence": 3, "would_hire_again": "yes"})
    assert r.status_code == 404


def test_the_contract_report_counts_its_placements_and_is_the_authoritys_to_read(utrecht: Org) -> None:
    # Four more people toward the contract: five in all, started in 2025.
    for n in range(4):
        person = utrecht.create("/candidates", candidate_body(full_name=f"Persoon {n}"))
        utrecht.create("/placements", placement_body(person, utrecht.ids["employer"], utrecht.ids["contract"],
                                                     permanent_contract=n < 2))
    authority = utrecht.token_for("authority", organisation="Gemeente Utrecht")
    catch_up(utrecht.system, utrecht.tenant)
    r = utrecht.get(f"/contracts/{utrecht.ids['contract']}/impact?year=2025", authority)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["placements"]["started"] == {"value": 5, "withheld": False, "people": 5}
    assert report["placements"]["permanent_percent"]["value"] == "40.0"
    # One onboarding checklist with a need and four standard items per person, none ticked.
    assert report["accessibility"]["onboarding"]["items"]["value"] == 25
    assert report["accessibility"]["onboarding"]["done_by_day_one_percent"]["value"] == "0.0"
    # No adjustments asked: nobody behind the figure, withheld.
    assert report["accessibility"]["adjustments"]["asked"] == {"value": None, "withheld": True, "people": 0}
    assert set(report["euros"]) >= {"reported_eur", "accepted_eur", "obligation_eur"}
    other_authority = utrecht.token_for("authority", organisation="Gemeente Amersfoort")
    assert utrecht.get(f"/contracts/{utrecht.ids['contract']}/impact?year=2025",
                       other_authority).status_code == 404


@pytest.mark.parametrize("query", ["year=twenty", "year=1999", "year=2101", "year=-5"])
def test_a_bad_year_is_a_422_naming_it(utrecht: Org, query: str) -> None:
    r = utrecht.get(f"/employers/{utrecht.ids['employer']}/impact?{query}")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "year"


def test_targets_beyond_placements_and_retention_with_their_trend(utrecht: Org) -> None:
    path = f"/contracts/{utrecht.ids['contract']}/targets"
    r = utrecht.post(path, {"target_placements": 4, "target_permanent_percent": "50",
                            "target_adjustments_30d_percent": "90", "target_satisfaction_min": "4"})
    assert r.status_code == 200, r.text
    catch_up(utrecht.system, utrecht.tenant)
    trend = utrecht.get(f"{path}/trend", utrecht.token_for("authority", organisation="Gemeente Utrecht"))
    assert trend.status_code == 200, trend.text
    targets = trend.json()["targets"]
    assert targets["permanent_percent"]["target"] == "50"
    assert targets["satisfaction_min"]["target"] == "4"
    assert targets["retention_12m_percent"]["target"] is None
    # One placement, from 1 February 2025: a point per quarter since the contract's start (1 January 2025).
    placements = targets["placements"]
    assert placements["trend"][0] == {"quarter": "2025-Q1", "day": "2025-03-31", "value": 1, "withheld": False,
                                      "people": 1}
    assert placements["actual"] == 1 and placements["met"] is False
    # One person: the permanent share is withheld at every quarter.
    assert all(p["withheld"] and p["value"] is None for p in targets["permanent_percent"]["trend"])
    assert targets["permanent_percent"]["met"] is None
    bad = utrecht.post(path, {"target_satisfaction_min": "6"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "target_satisfaction_min"
