"""Support on the pages: the placement's support section per role, forms that
work without JavaScript and show errors next to the field, the employer's
support activities, contract owners and targets; in a real browser, the
section checked with axe-core and changed through htmx."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.support import PlacementSupport
from service import commands as c
from tests.web.conftest import Agency, Browser
from tests.web.conftest import login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

NEEDS = "Schriftelijke instructies."


def _support(agency: Agency, placement: Any) -> PlacementSupport:
    return agency.system.ledger.get(agency.tenant, agency.actor, PlacementSupport, PlacementSupport.id_for(placement))


def test_each_role_sees_its_share_of_the_support_section(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.run(c.RequestAdjustment(placement_id=ids["placement"], kind="tool", description="Brailleleesregel",
                                   funder="uwv"))
    agency.run(c.LogCheckIn(placement_id=ids["placement"], held_on=date.today(), with_whom="employee",
                            note="Vermoeid na lange dagen"))
    path = f"/placements/{ids['placement']}"
    html = pages(agency.user("agency")).get(path).text
    assert "Ondersteuning" in html and NEEDS in html and "Vermoeid" in html and "Brailleleesregel" in html
    html = pages(agency.user("employer", employer_id=ids["employer"])).get(path).text
    assert "Checklist voor de start" in html and "Brailleleesregel" in html
    assert NEEDS not in html and "Vermoeid" not in html
    html = pages(agency.user("auditor")).get(path).text
    assert "Checklist voor de start" in html
    assert NEEDS not in html and "Vermoeid" not in html and "Brailleleesregel" not in html
    html = pages(agency.user("employee", candidate_id=ids["candidate"])).get(path).text
    assert NEEDS in html and "Vermoeid" in html


def test_forms_work_without_javascript_and_errors_stand_next_to_the_field(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    base = f"/placements/{ids['placement']}/support"
    r = employer.post(f"{base}/items/team_informed/done", {})
    assert r.status_code == 303 and r.headers["location"].endswith("#support")
    assert _support(agency, ids["placement"]).item("team_informed")["done_by"] == "employer"
    # The agency's item is not the employer's to tick: refused, nothing stored.
    r = employer.post(f"{base}/items/first_check_in/done", {})
    assert r.status_code == 403
    assert _support(agency, ids["placement"]).item("first_check_in")["done_on"] is None
    browser = pages(agency.user("agency"))
    r = browser.post(f"{base}/coaching", {"held_on": date.today().isoformat(), "hours": "30",
                                          "with_whom": "employee"})
    assert r.status_code == 422
    assert 'id="coaching-hours-error"' in r.text and 'aria-describedby="coaching-hours-error"' in r.text
    assert "tussen 0,25 en 12" in r.text
    assert _support(agency, ids["placement"]).coaching_sessions == 0
    r = browser.post(f"{base}/check-ins", {"held_on": "", "with_whom": "employee"})
    assert r.status_code == 422 and 'id="check-in-held_on-error"' in r.text
    r = browser.post(f"{base}/coaching", {"held_on": date.today().isoformat(), "hours": "1,5",
                                          "with_whom": "employee", "note": "Planning geoefend"})
    assert r.status_code == 303
    assert _support(agency, ids["placement"]).coaching_sessions == 1


def test_the_authority_gets_no_support_section_and_cannot_post(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    authority = pages(agency.user("authority", organisation="Gemeente Utrecht"))
    html = authority.get(f"/placements/{ids['placement']}").text
    assert "Checklist voor de start" not in html and NEEDS not in html
    r = authority.post(f"/placements/{ids['placement']}/support/items/tools_ready/done", {})
    assert r.status_code in (403, 404)


def test_the_employer_page_lists_workshops_and_the_contract_page_shows_targets(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    browser = pages(agency.user("agency"))
    r = browser.post(f"/employers/{ids['employer']}/support-activities", {
        "kind": "workshop", "topic": "inclusive_leadership", "held_on": date.today().isoformat(),
        "participants": "12", "given_by": "agency", "title": "Samenwerken met een dove collega"})
    assert r.status_code == 303
    r = browser.post(f"/employers/{ids['employer']}/support-activities", {
        "kind": "workshop", "topic": "inclusive_leadership", "held_on": date.today().isoformat(),
        "participants": "0", "given_by": "agency"})
    assert r.status_code == 422 and 'id="activity-participants-error"' in r.text
    r = browser.post(f"/contracts/{ids['contract']}/targets", {"target_placements": "3",
                                                              "target_retention_12m_percent": "70"})
    assert r.status_code == 303
    r = browser.post(f"/contracts/{ids['contract']}/owners", {"side": "employer", "name": "Marieke de Vries",
                                                             "email": "geen-adres"})
    assert r.status_code == 422 and 'id="owner-email-error"' in r.text
    agency.project()
    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    html = employer.get(f"/employers/{ids['employer']}").text
    assert "Samenwerken met een dove collega" in html and "inclusief leiderschap" in html
    html = employer.get(f"/contracts/{ids['contract']}").text
    assert "1 van doel 3" in html and "Behoud na 12 maanden" in html
    html = employer.get("/").text  # the dashboard: targets beside the euro figures
    assert "Plaatsingen: 1 van doel 3" in html and "Behoud na 12 maanden: – van doel 70" in html


def test_the_support_section_is_accessible_and_ticks_through_htmx(
        agency: Agency, page: Any, audited_page: Any, audit: Callable[[str], None]) -> None:  # noqa: F811
    ids = agency.seed()
    agency.run(c.RequestAdjustment(placement_id=ids["placement"], kind="workplace",
                                   description="Zit-sta bureau", funder="employer"))
    agency.run(c.LogCoachingSession(placement_id=ids["placement"], held_on=date.today() - timedelta(days=1),
                                    hours=Decimal("2")))
    user = agency.user("agency")
    login(audited_page, user.email)
    audited_page.goto(f"/placements/{ids['placement']}")
    expect(audited_page.get_by_role("heading", name="Ondersteuning")).to_be_visible()
    audit("the placement page with its support section")
    login(page, user.email)
    page.goto(f"/placements/{ids['placement']}")
    page.evaluate("window.notReloaded = true")
    page.locator("#support").get_by_role("button", name=re.compile("Gedaan.*Team geïnformeerd")).click()
    expect(page.locator("#support")).to_contain_text("gedaan op")
    assert page.evaluate("window.notReloaded") is True
    assert _support(agency, ids["placement"]).item("team_informed")["done_by"] == "agency"
    assert page.console_errors == []
