"""The pages in a real browser (Debian's Chromium through Playwright), against
a real uvicorn server and a real worker: an agency's day from login to a
placement with feedback, each page checked with axe-core (WCAG 2 A and AA);
feedback given with the keyboard alone; htmx under the Content-Security-Policy."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from domain.placement import Placement
from tests.web.conftest import PASSWORD, SCREENSHOTS_DIR, Agency, Server, login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it
    expect = None  # type: ignore[assignment]


def figure(page: Any, selector: str) -> str:
    return page.locator(selector).inner_text().replace("\xa0", " ").strip()


def shoot(page: Any, name: str) -> None:
    """A full-page screenshot into docs/screenshots when SROI_SCREENSHOTS=1."""
    if os.environ.get("SROI_SCREENSHOTS") == "1":
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS_DIR / f"{name}.png"), full_page=True)


def test_an_agency_places_a_candidate_and_sees_the_figures_move(
        agency: Agency, audited_page: Any, audit: Callable[[str], None]) -> None:
    page = audited_page
    today = date.today()
    user = agency.user("agency")
    login(page, user.email)
    expect(page.get_by_role("heading", name="Overzicht", level=1)).to_be_visible()
    audit("the dashboard")
    assert figure(page, "#total-reported") == "€ 0"

    # An employer, then a contract it holds.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Werkgevers").click()
    page.get_by_label("Naam van de organisatie").fill("Bouwbedrijf De Vries B.V.")
    page.get_by_role("button", name="Werkgever registreren").click()
    expect(page.get_by_role("cell", name="Bouwbedrijf De Vries B.V.", exact=True)).to_be_visible()
    audit("the employers")
    page.get_by_role("link", name="Contract registreren (Bouwbedrijf De Vries B.V.)").click()
    page.get_by_label("Titel").fill("Onderhoud openbare ruimte Utrecht-Oost")
    page.get_by_label("Opdrachtgever").fill("Gemeente Utrecht")
    page.get_by_label("Opdrachtwaarde (EUR)").fill("2400000")
    page.get_by_label("Gegund op").fill((today - timedelta(days=400)).isoformat())
    page.get_by_label("Begint op").fill((today - timedelta(days=365)).isoformat())
    page.get_by_label("Eindigt op").fill((today + timedelta(days=700)).isoformat())
    audit("the contract form")
    page.get_by_role("button", name="Contract registreren").click()
    expect(page.get_by_role("heading", name="Onderhoud openbare ruimte Utrecht-Oost", level=1)).to_be_visible()
    expect(page.get_by_text("€ 120.000,00")).to_be_visible()  # 5% of 2.4 million
    audit("the contract")

    # A candidate, found again by searching as you type (htmx, no page load).
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Kandidaten").click()
    page.get_by_role("link", name="Kandidaat registreren").click()
    page.get_by_label("Volledige naam").fill("Sanne Bakker")
    page.get_by_label("Geboortedatum").fill("1994-04-12")
    page.get_by_label("Doelgroep").select_option("doelgroepregister")
    page.get_by_label("Competenties").fill("data-analyse, Python, SQL")
    page.get_by_label("Ondersteuningsbehoeften, in de eigen woorden van de persoon").fill(
        "Ik ben doof; bij overleggen werk ik met een tolk NGT.")
    audit("the candidate form")
    page.get_by_role("button", name="Kandidaat registreren").click()
    expect(page.get_by_role("heading", name="Sanne Bakker", level=1)).to_be_visible()
    expect(page.locator("p.quote")).to_contain_text("tolk NGT")
    audit("the candidate profile")
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Kandidaten").click()
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Zoek op naam of competentie").press_sequentially("pyth", delay=40)
    expect(page.locator("#candidate-results")).to_contain_text("zoekopdracht: pyth")
    expect(page.locator("#candidate-results")).to_contain_text("Sanne Bakker")
    assert page.evaluate("window.notReloaded") is True
    assert "q=pyth" in page.url
    audit("the candidate search")

    # A vacancy asking for her competences; the match is suggested.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Vacatures").click()
    page.get_by_role("link", name="Vacature openen").click()
    page.get_by_label("Werkgever").select_option(label="Bouwbedrijf De Vries B.V.")
    page.get_by_label("Titel").fill("Data-analist")
    page.get_by_label("Vereiste competenties").fill("data-analyse")
    page.get_by_label("Gewenste competenties").fill("SQL")
    page.get_by_label("Uren per week").fill("32")
    audit("the vacancy form")
    page.get_by_role("button", name="Vacature openen").click()
    expect(page.get_by_role("heading", name="Data-analist", level=1)).to_be_visible()
    audit("the vacancy")
    page.get_by_label(re.compile("^Sanne Bakker")).check()
    page.get_by_role("button", name="Kandidaat koppelen").click()
    expect(page.get_by_role("link", name="Plaatsing starten (Sanne Bakker)")).to_be_visible()

    # The placement counts toward the contract from its start.
    page.get_by_role("link", name="Plaatsing starten (Sanne Bakker)").click()
    page.get_by_label("Telt mee voor contract").select_option(label="Onderhoud openbare ruimte Utrecht-Oost")
    page.get_by_label("Begint op").fill((today - timedelta(days=30)).isoformat())
    audit("the placement form")
    page.get_by_role("button", name="Plaatsing starten").click()
    expect(page.get_by_role("heading", name="Plaatsing van Sanne Bakker")).to_be_visible()
    expect(page.get_by_role("region", name="Tijdlijn").locator(".timeline")).to_contain_text("Plaatsing gestart")
    audit("the placement")

    # Feedback inline: the section swaps itself, the page stays.
    page.evaluate("window.notReloaded = true")
    feedback = page.locator("#feedback")
    feedback.get_by_label("4", exact=True).check()
    feedback.get_by_label("Toelichting").fill("Sterke start: het dashboard staat.")
    feedback.get_by_role("button", name="Feedback geven").click()
    expect(page.locator("#feedback").get_by_role("status")).to_contain_text("uw feedback is opgeslagen")
    expect(page.locator("#feedback")).to_contain_text("Sterke start: het dashboard staat.")
    assert page.evaluate("window.notReloaded") is True
    audit("the placement after feedback")

    # The dashboard shows the change once the worker has projected it in the background.
    agency.wait_for_worker()
    page.goto("/")
    assert figure(page, "#total-reported") != "€ 0"
    assert figure(page, "#feedback-average").startswith("4")
    expect(page.get_by_role("link", name="Onderhoud openbare ruimte Utrecht-Oost")).to_be_visible()
    audit("the dashboard after the placement")
    page.goto("/retention")
    expect(page.locator("svg.chart")).to_be_visible()
    audit("the retention page")


def test_feedback_can_be_given_with_the_keyboard_alone(agency: Agency, page: Any) -> None:
    """With the Content-Security-Policy enforced: htmx must work without any inline script."""
    ids = agency.seed()
    user = agency.user("employer", employer_id=ids["employer"])
    login(page, user.email)
    page.goto(f"/placements/{ids['placement']}")
    page.evaluate("window.notReloaded = true")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "score":
            break
    else:
        pytest.fail("the score could not be reached with Tab")
    # Arrow keys choose within a radio group: 1 -> 4.
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "comment"
    page.keyboard.type("Goed ingewerkt; de vaste werkplek helpt.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Feedback geven"
    page.keyboard.press("Enter")
    expect(page.locator("#feedback").get_by_role("status")).to_contain_text("uw feedback is opgeslagen")
    # Focus lands on the confirmation (htmx honours autofocus once the swap settles),
    # so a keyboard or screen reader user is not left on a removed button.
    page.wait_for_function("document.activeElement && document.activeElement.getAttribute('role') === 'status'",
                           timeout=5000)
    assert page.evaluate("window.notReloaded") is True
    placement = agency.system.ledger.get(agency.tenant, agency.actor, Placement, ids["placement"])
    assert placement.last_feedback["score"] == 4 and placement.last_feedback["from_role"] == "employer"
    assert page.console_errors == []  # no CSP violation, no script error


def test_without_javascript_the_feedback_form_posts_and_redirects(agency: Agency, chromium: Any,
                                                                  server: Server) -> None:
    ids = agency.seed()
    user = agency.user("employer", employer_id=ids["employer"])
    context = chromium.new_context(base_url=server.url, java_script_enabled=False, locale="nl-NL")
    page = context.new_page()
    try:
        login(page, user.email)
        page.goto(f"/placements/{ids['placement']}")
        page.get_by_label("3", exact=True).check()
        page.get_by_role("button", name="Feedback geven").click()
        page.wait_for_url(re.compile(rf"/placements/{ids['placement']}\?min_position=\d+#feedback"))
        expect(page.locator("#feedback")).to_contain_text("Score 3 van 5")
    finally:
        context.close()


def test_an_employer_cannot_open_another_employers_placement_in_the_browser(agency: Agency, page: Any) -> None:
    ours, theirs = agency.seed(employer_name="Bouwbedrijf De Vries B.V."), agency.seed(employer_name="Hollandia")
    login(page, agency.user("employer", employer_id=ours["employer"]).email)
    response = page.goto(f"/placements/{theirs['placement']}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Niet gevonden")).to_be_visible()


def test_an_auditor_sees_no_form_to_change_anything(agency: Agency, page: Any) -> None:
    ids = agency.seed()
    login(page, agency.user("auditor").email)
    page.goto(f"/placements/{ids['placement']}")
    expect(page.get_by_role("heading", name="Tijdlijn")).to_be_visible()
    assert page.locator("form[method=post]").count() == 1  # log out only
    assert page.get_by_role("button", name="Feedback geven").count() == 0


def test_the_language_switches_to_english_and_stays(agency: Agency, page: Any) -> None:
    login(page, agency.user("agency").email)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Placements").click()
    expect(page.get_by_role("heading", name="Placements", level=1)).to_be_visible()


@pytest.mark.skipif("os.environ.get('SROI_SCREENSHOTS') != '1'", reason="make screenshots (SROI_SCREENSHOTS=1)")
def test_screenshots_of_the_demo(system: Any, page: Any, tmp_path: Any) -> None:
    """docs/screenshots/*.png from the demo tenant (`make screenshots`)."""
    import dataclasses

    from infra.demo import DEMO_SLUG, seed_demo
    from infra.registry import TenantNotFound

    try:
        system.registry.tenant_by_slug(DEMO_SLUG)
    except TenantNotFound:
        # The demo's credentials file goes to a temporary directory, not .data.
        demo_system = dataclasses.replace(system, settings=dataclasses.replace(system.settings, data_dir=tmp_path))
        seed_demo(demo_system)
    tenant = system.registry.tenant_by_slug(DEMO_SLUG)
    for role in ("agency", "employer"):
        system.registry.set_password(f"{role}@demo.sroi.test", PASSWORD)
    deadline = time.monotonic() + 30
    login(page, "agency@demo.sroi.test")
    while "Onderhoud openbare ruimte" not in page.content():  # the worker projects the demo
        assert time.monotonic() < deadline
        time.sleep(0.5)
        page.goto("/")
    shoot(page, "dashboard")
    page.get_by_role("link", name="Onderhoud openbare ruimte Utrecht-Oost 2025-2027").first.click()
    page.wait_for_url("**/contracts/*")
    shoot(page, "contract")
    page.goto("/candidates?q=python")
    shoot(page, "candidates")
    page.goto("/vacancies")
    page.get_by_role("link", name="Testautomatiseerder").click()
    page.wait_for_url("**/vacancies/*")
    shoot(page, "vacancy")
    vacancy_url = page.url.split("?")[0]
    page.goto(vacancy_url + "/suggestions")
    shoot(page, "suggestions")
    page.goto(vacancy_url + "/pipeline")
    shoot(page, "pipeline")
    page.goto("/duties")
    shoot(page, "duties")
    page.goto("/placements")
    page.get_by_role("link", name="Sanne Bakker").click()
    page.wait_for_url("**/placements/*")
    shoot(page, "placement")
    page.goto("/retention")
    shoot(page, "retention")
    page.goto("/?lang=en")
    shoot(page, "dashboard-en")
    page.goto("/?lang=nl")
    assert tenant.slug == DEMO_SLUG
