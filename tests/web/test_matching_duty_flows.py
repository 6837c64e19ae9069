"""Suggestions, the pipeline board, sickness and duties in a real browser
(Chromium, a real server and worker), with htmx under the CSP, each page
checked with axe-core (WCAG 2 A and AA)."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from service import commands as c
from tests.web.conftest import Agency
from tests.web.conftest import expect, login


def test_an_agency_proposes_moves_a_match_and_reports_sickness(
        agency: Agency, audited_page: Any, audit: Callable[[str], None]) -> None:
    page = audited_page
    ids = agency.seed(candidate_name="Sanne Jansen")
    vacancy = agency.run(c.OpenVacancy(employer_id=ids["employer"], title="Medewerker backoffice",
                                       required_competences=["Administratie"], optional_competences=["Excel"],
                                       hours_per_week=Decimal("24")))
    fatima = agency.run(c.RegisterCandidate(
        full_name="Fatima Bakker", date_of_birth=date(1995, 3, 1), target_group="participatiewet",
        competences=["Administratie", "Excel"], support_needs="", benefit_since=date(2020, 1, 1)))
    agency.run(c.StateAvailability(candidate_id=fatima, hours_per_week=Decimal("32"),
                                   available_from=date.today() - timedelta(days=3), region="Utrecht"))
    user = agency.user("agency")
    login(page, user.email)

    agency.wait_for_worker()  # the suggestions come from the matching read model
    page.goto(f"/vacancies/{vacancy}/suggestions?region=Utrecht")
    expect(page.locator("#suggestion-" + str(fatima))).to_contain_text("zelfde regio: Utrecht")
    audit("the suggestions")
    page.get_by_role("button", name="Voorstellen Fatima Bakker").click()
    expect(page.locator("#suggestion-" + str(fatima))).to_contain_text("In de pijplijn: voorgesteld")

    page.goto(f"/vacancies/{vacancy}/pipeline")
    expect(page.locator("#col-proposed").locator("..")).to_contain_text("Fatima Bakker")
    audit("the pipeline board")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name=re.compile(r"^Naar kennismaking")).first.click()
    expect(page.locator("#col-introduced").locator("..")).to_contain_text("Fatima Bakker")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the board
    page.get_by_text("Afwijzen").first.click()  # open the decline form
    audit("the pipeline board with the decline form")

    page.goto(f"/placements/{ids['placement']}")
    page.get_by_label("Eerste ziektedag").fill((date.today() - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Ziekte melden").click()
    expect(page.locator("#duties")).to_contain_text("nog ziek")
    expect(page.locator("#duties")).to_contain_text("probleemanalyse door de bedrijfsarts")
    audit("the placement's duties")
    page.get_by_label("Hersteld op").fill((date.today() - timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Herstel melden").click()
    expect(page.locator("#recovery-recovered_on-error")).to_be_visible()  # before the first sick day
    audit("the placement's duties with an error")

    page.goto("/duties")
    expect(page.get_by_role("heading", name="Taken van de juridisch werkgever", level=1)).to_be_visible()
    audit("the duties list")
    page.goto("/reminders")
    audit("the reminders")
