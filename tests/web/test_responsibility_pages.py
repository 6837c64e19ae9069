"""Who is responsible, on the pages: who looks after a placement (and so gets
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

from domain.contract import NO_TARGETS
from domain.placement import Placement
from service import commands as c
from service.actor import Actor
from tests.web.conftest import Agency, Browser
from tests.web.conftest import login

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
    assert agency.system.remind(None, tenants=[agency.tenant]).recorded >= 2
    agency.project()
    as_coach, as_planner = pages(coach), pages(planner)
    assert "Sanne Jansen" in as_coach.get("/reminders").text
    assert "Sanne Jansen" not in as_planner.get("/reminders").text
    assert "Geen herinneringen voor u." in as_planner.get("/reminders").text
    everyone = as_planner.get("/reminders?show=everyone").text
    assert "Sanne Jansen" in everyone and coach.email in everyone
    assert "van uw herinneringen" in as_coach.get("/").text
    assert "Geen openstaande herinneringen voor u." in as_planner.get("/").text


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
    assert contract.targets == {**NO_TARGETS, "placements": 10, "retention_12m_percent": Decimal("70")}


# -- the open-support list ------------------------------------------------------------------

def _second_placement(agency: Agency, days_ago: int) -> dict[str, Any]:
    employer = agency.run(c.RegisterEmployer(name="Schoonmaakbedrijf Hollandia"))
    candidate = agency.run(c.RegisterCandidate(
        full_name="Youssef El Amrani", date_of_birth=date(1992, 3, 4), target_group="participatiewet",
        competences=["Schoonmaak"], support_needs="Gebarentolk bij overleg."))
    placement = agency.run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=None, vacancy_id=None,
        starts_on=date.today() - timedelta(days=days_ago), hours_per_week=Decimal("20"), permanent_contract=False))
    return {"employer": employer, "placement": placement}


def test_open_support_oldest_first_and_the_employer_sees_only_what_it_acts_on(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed(candidate_name="Sanne Jansen")  # started 60 days ago; needs: written instructions
    other = _second_placement(agency, 10)
    agency.run(c.RequestAdjustment(placement_id=ids["placement"], kind="tool", description="Schermlezer",
                                   funder="employer"))
    for item in ("tools_ready", "team_informed"):
        agency.run(c.TickChecklistItem(placement_id=ids["placement"], item_id=item))
    agency.project()
    me = pages(agency.user("agency"))
    listing = me.get("/support")
    assert listing.status_code == 200 and 'href="/support"' in listing.text  # in the menu
    rows = re.findall(r"<tr>.*?</tr>", listing.text.split("<tbody>")[1], re.S)
    assert ["Sanne Jansen" in rows[0], "Youssef El Amrani" in rows[1]] == [True, True]  # oldest first
    assert f'href="/placements/{ids["placement"]}#support"' in rows[0]
    assert "Team geïnformeerd" not in rows[0] and "Vaste contactpersoon benoemd" in rows[0]
    assert "1 door de persoon genoemde behoefte" in rows[0] and "Schriftelijke" not in listing.text
    assert re.search(r"<td>1</td>\s*</tr>", rows[0])  # one adjustment awaiting delivery

    boss = pages(agency.user("employer", employer_id=ids["employer"]))
    theirs = boss.get("/support")
    assert theirs.status_code == 200 and 'href="/support"' in theirs.text
    assert "Sanne Jansen" in theirs.text and "Youssef" not in theirs.text  # its own placements only
    assert "behoefte" not in theirs.text and "Schriftelijke" not in theirs.text  # never the person's needs
    assert "Eerste contactmoment gepland" not in theirs.text.split("<tbody>")[1]  # the agency's item, not its to act on
    # Once its own items are done and the adjustment delivered, nothing waits for it.
    agency.run(c.TickChecklistItem(placement_id=ids["placement"], item_id="contact_person"))
    agency.run(c.DeliverAdjustment(placement_id=ids["placement"], adjustment_id="adj-1"))
    agency.project()
    assert "Sanne Jansen" not in boss.get("/support").text
    assert "Sanne Jansen" in me.get("/support").text  # the agency still has its own items open
    for role, extra in (("auditor", {}), ("employee", {"candidate_id": ids["candidate"]})):
        assert pages(agency.user(role, **extra)).get("/support").status_code == 403
    assert pages(agency.user("authority", organisation="Gemeente Utrecht")).get("/support").status_code == 403


# -- in a real browser: axe-core on the new pages and states ---------------------------------

def test_the_new_pages_are_accessible(agency: Agency, audited_page: Any, audit: Callable[[str], None]) -> None:  # noqa: F811
    ids = agency.seed(candidate_name="Sanne Jansen")
    coach = agency.user("agency")
    agency.run(c.AssignPlacementResponsible(placement_id=ids["placement"], responsible_user_id=coach.id))
    agency.run(c.ReportSickness(placement_id=ids["placement"], first_sick_day=date.today() - timedelta(days=2)))
    vacancy = agency.run(c.OpenVacancy(employer_id=ids["employer"], title="Magazijnmedewerker",
                                       required_competences=["Administratie"], optional_competences=[],
                                       hours_per_week=Decimal("24")))
    agency.run(c.RecordMatchStep(vacancy_id=vacancy, candidate_id=ids["candidate"], step="proposed"))
    agency.project()
    agency.system.remind(None, tenants=[agency.tenant])
    agency.project()
    page = audited_page
    login(page, coach.email)
    page.goto(f"/placements/{ids['placement']}")
    expect(page.get_by_role("heading", name="Begeleid door")).to_be_visible()
    audit("the placement page with who looks after it")
    page.locator("#responsible").get_by_label("Verantwoordelijke medewerker van het bureau").select_option("")
    page.locator("#responsible").get_by_role("button", name="Opslaan").click()
    expect(page.locator("#responsible")).to_contain_text("Niemand in het bijzonder")
    for path, heading in (("/reminders", "Herinneringen"), ("/reminders?show=everyone", "Herinneringen"),
                          ("/support", "Open ondersteuning"), ("/", None)):
        page.goto(path)
        if heading:
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        audit(path)
    page.goto("/contracts/new")
    form = page.locator("form.card")
    form.locator("#f-employer_id").select_option(str(ids["employer"]))
    for field, value in (("title", "Groenonderhoud Noord"), ("contracting_authority", "Gemeente Utrecht"),
                         ("contract_value_eur", "1200000"), ("awarded_on", "2025-01-15"),
                         ("starts_on", "2025-02-01"), ("ends_on", "2027-01-31")):
        form.locator(f"#f-{field}").fill(value)
    page.get_by_label("Naam, bij de werkgever").fill("Petra de Boer")
    page.get_by_label("Doel aantal plaatsingen").fill("tien")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#f-target_placements-error")).to_be_visible()
    audit("the contract registration form with errors")
    page.context.clear_cookies()
    boss = agency.user("employer", employer_id=ids["employer"])
    login(page, boss.email)
    page.goto(f"/vacancies/{vacancy}/pipeline")
    expect(page.get_by_role("button", name=re.compile("Naar kennismaking"))).to_be_visible()
    audit("the employer's board with its buttons")
    page.goto("/support")
    audit("the employer's open support")
