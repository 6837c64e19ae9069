"""Support through the HTTP API: what each role sees, errors naming the field,
conflicts, the access log, employer activities, and targets beside the euros."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api.conftest import Org, candidate_body, contract_body, placement_body
from tests.projections.conftest import catch_up

TODAY = date.today()


@pytest.fixture
def utrecht(org: Org) -> Org:
    org.seed()
    return org


def _support_path(org: Org) -> str:
    return f"/placements/{org.ids['placement']}/support"


def _fill(org: Org) -> str:
    """A checklist item done, an adjustment funded by UWV, a check-in and a coaching session."""
    base = _support_path(org)
    assert org.post(f"{base}/items/tools_ready/done", {"done_on": "2025-01-31"}).status_code == 200
    r = org.post(f"{base}/adjustments", {"kind": "tool", "description": "Brailleleesregel bij de werkplek",
                                         "requested_on": "2025-02-03"})
    assert r.status_code == 201, r.text
    adjustment = r.json()["adjustment_id"]
    assert org.post(f"{base}/adjustments/{adjustment}/funder", {"funder": "uwv"}).status_code == 200
    assert org.post(f"{base}/check-ins", {"held_on": "2025-02-14", "with_whom": "employee",
                                          "note": "Vermoeid na lange dagen, rustmoment afgesproken"}).status_code == 201
    assert org.post(f"{base}/coaching", {"held_on": TODAY.isoformat(), "hours": "1.5",
                                         "note": "Planning geoefend"}).status_code == 201
    return adjustment


def test_the_agency_sees_everything_and_the_employer_only_what_it_acts_on(utrecht: Org) -> None:
    _fill(utrecht)
    agency = utrecht.get(_support_path(utrecht)).json()
    needs = [i for i in agency["checklist"] if i["kind"] == "need"]
    assert needs[0]["label"] == "Schriftelijke instructies, een vaste werkplek."
    assert agency["adjustments"][0]["description"] == "Brailleleesregel bij de werkplek"
    assert agency["check_ins"][0]["note"].startswith("Vermoeid")
    assert agency["coaching_hours_recent"] == "1.5"
    assert agency["job_coach"]["eligible"] is True  # 24 h a week, eleven months
    employer = utrecht.get(_support_path(utrecht), utrecht.token_for("employer",
                                                                     employer_id=utrecht.ids["employer"])).json()
    assert [i["kind"] for i in employer["checklist"]] == ["tools_ready", "team_informed", "contact_person",
                                                         "first_check_in"]
    assert employer["adjustments"][0]["description"] == "Brailleleesregel bij de werkplek"
    assert employer["check_ins"][0]["held_on"] == "2025-02-14" and "note" not in employer["check_ins"][0]
    auditor = utrecht.get(_support_path(utrecht), utrecht.token_for("auditor")).json()
    assert "Schriftelijke" not in str(auditor) and "Braille" not in str(auditor) and "Vermoeid" not in str(auditor)
    assert [a["funder"] for a in auditor["adjustments"]] == ["uwv"]
    assert len(auditor["checklist"]) == 5  # the need is there, its words are not


def test_reading_the_persons_support_is_logged_for_the_auditor_to_see(utrecht: Org) -> None:
    _fill(utrecht)
    utrecht.get(_support_path(utrecht))
    auditor = utrecht.token_for("auditor")
    latest = utrecht.get(f"/access-log?subject={utrecht.ids['candidate']}", auditor).json()["entries"][0]
    assert latest["fields"] == ["support_needs", "workplace adjustments", "support notes"]
    assert latest["via"] == "GET /api/v1/placements/{id}/support"


def test_another_employer_and_the_authority_get_404(utrecht: Org) -> None:
    other = utrecht.create("/employers", {"name": "Schoonmaak Noord"})
    stranger = utrecht.token_for("employer", employer_id=other)
    assert utrecht.get(_support_path(utrecht), stranger).status_code == 404
    r = utrecht.post(f"{_support_path(utrecht)}/items/tools_ready/done", {}, stranger)
    assert r.status_code == 404
    authority = utrecht.token_for("authority", organisation="Gemeente Utrecht")
    assert utrecht.get(_support_path(utrecht), authority).status_code == 404


def test_the_person_sees_their_own_support_and_asks_for_an_adjustment(utrecht: Org) -> None:
    me = utrecht.token_for("employee", candidate_id=utrecht.ids["candidate"])
    r = utrecht.post(f"{_support_path(utrecht)}/adjustments", {"kind": "tool", "description": "Koptelefoon"}, me)
    assert r.status_code == 201, r.text
    view = utrecht.get(_support_path(utrecht), me).json()
    assert view["adjustments"][0]["description"] == "Koptelefoon"
    assert view["adjustments"][0]["funder"] is None
    assert utrecht.post(f"{_support_path(utrecht)}/check-ins", {"held_on": "2025-03-01", "with_whom": "employee"},
                        me).status_code == 403


def test_bad_input_names_the_field_and_a_second_delivery_is_a_conflict(utrecht: Org) -> None:
    adjustment = _fill(utrecht)
    base = _support_path(utrecht)
    before = utrecht.event_count()
    r = utrecht.post(f"{base}/coaching", {"held_on": "2025-03-01", "hours": "20"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hours"
    r = utrecht.post(f"{base}/check-ins", {"held_on": (TODAY + timedelta(days=2)).isoformat(),
                                           "with_whom": "employee"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "held_on"
    r = utrecht.post(f"{base}/adjustments/{adjustment}/funder", {"funder": "gemeente"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "funder"
    assert utrecht.event_count() == before
    assert utrecht.post(f"{base}/adjustments/{adjustment}/delivered", {"delivered_on": "2025-03-03"}
                        ).status_code == 200
    r = utrecht.post(f"{base}/adjustments/{adjustment}/delivered", {})
    assert r.status_code == 409
    assert utrecht.post(f"{base}/items/tools_ready/done", {}).status_code == 409


def test_the_open_onboarding_list_and_employer_activities_come_from_the_read_model(utrecht: Org) -> None:
    ids = utrecht.ids
    _fill(utrecht)
    r = utrecht.post(f"/employers/{ids['employer']}/support-activities", {
        "kind": "workshop", "topic": "inclusive_leadership", "held_on": "2025-03-04", "participants": 12,
        "given_by": "agency", "title": "Samenwerken met een dove collega"})
    assert r.status_code == 201, r.text
    bad = utrecht.post(f"/employers/{ids['employer']}/support-activities", {
        "kind": "workshop", "topic": "golf", "held_on": "2025-03-04", "participants": 12, "given_by": "agency"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "topic"
    catch_up(utrecht.system, utrecht.tenant)
    rows = utrecht.get(f"/support/open?as_of={TODAY.isoformat()}").json()["placements"]
    mine = [row for row in rows if row["placement_id"] == ids["placement"]]
    assert len(mine) == 1
    assert (mine[0]["items_total"], mine[0]["items_done"], mine[0]["employer_items_open"],
            mine[0]["adjustments_open"], mine[0]["check_ins"], mine[0]["last_check_in_on"]) == (
        5, 1, 2, 1, 1, "2025-02-14")
    assert mine[0]["coaching_hours_recent"] == "1.5"
    employer = utrecht.token_for("employer", employer_id=ids["employer"])
    found = utrecht.get(f"/employers/{ids['employer']}/support-activities", employer).json()
    assert [(a["kind"], a["topic"], a["participants"]) for a in found["activities"]] == [
        ("workshop", "inclusive_leadership", 12)]
    assert found["by_topic"] == [{"topic": "inclusive_leadership", "activities": 1, "participants": 12}]
    other = utrecht.create("/employers", {"name": "Schoonmaak Noord"})
    assert utrecht.get(f"/employers/{other}/support-activities", employer).status_code == 404


def test_contract_targets_stand_beside_what_was_achieved(org: Org) -> None:
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    contract = org.create("/contracts", contract_body(
        employer, starts_on="2023-01-01", awarded_on="2022-11-15", ends_on="2027-12-31",
        agency_owner_name="Youssef El Amrani", agency_owner_email="youssef@agency.example",
        target_placements=4, target_retention_12m_percent="60"))
    def place(*spans: tuple[str, str | None]) -> None:
        for starts_on, ends_on in spans:
            candidate = org.create("/candidates", candidate_body(full_name=f"Kandidaat {starts_on}"))
            placement = org.create("/placements", placement_body(candidate, employer, contract, starts_on=starts_on,
                                                                 planned_end_on=None))
            if ends_on:
                assert org.post(f"/placements/{placement}/end", {"ends_on": ends_on, "reason": "resigned"}
                                ).status_code == 200
        catch_up(org.system, org.tenant)

    # Three placements: one started over a year ago and still working, one
    # ended after 5 months, one recent (not yet 12 months: not counted for retention).
    place(("2024-01-01", None), ("2024-02-01", "2024-06-30"), ((TODAY - timedelta(days=30)).isoformat(), None))
    targets = org.get(f"/contracts/{contract}/targets").json()
    assert (targets["placements"], targets["target_placements"], targets["placements_met"]) == (3, 4, False)
    # Two people started over a year ago: fewer than 5, so how many stayed is withheld.
    assert targets["retention_12m_started"] == 2
    assert (targets["retention_12m_retained"], targets["retention_12m_percent"]) == (None, None)
    assert targets["retention_12m_withheld"] is True and targets["retention_met"] is None
    assert targets["target_retention_12m_percent"] == "60"
    # Three more started over a year ago (two still working): 5 people, 3 stayed.
    place(("2024-03-01", None), ("2024-04-01", "2024-05-31"), ("2024-05-01", None))
    targets = org.get(f"/contracts/{contract}/targets").json()
    assert (targets["retention_12m_started"], targets["retention_12m_retained"]) == (5, 3)
    assert targets["retention_12m_percent"] == "60.0" and targets["retention_12m_withheld"] is False
    assert targets["retention_met"] is True
    view = org.get(f"/contracts/{contract}").json()
    assert view["owners"] == {"agency": {"name": "Youssef El Amrani", "email": "youssef@agency.example"}}
    r = org.post(f"/contracts/{contract}/targets", {"target_placements": 3, "target_retention_12m_percent": "50"})
    assert r.status_code == 200
    catch_up(org.system, org.tenant)
    targets = org.get(f"/contracts/{contract}/targets").json()
    assert (targets["placements_met"], targets["retention_met"]) == (True, True)
    r = org.post(f"/contracts/{contract}/targets", {"target_placements": 0})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "target_placements"
