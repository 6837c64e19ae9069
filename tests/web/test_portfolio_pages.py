"""The portfolio pages of an organisation's user: the authority's contracts
across agencies and the employer's contracts and placements, with filters,
totals and CSV, reached from the menu; checked with axe-core in a browser."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from infra.bootstrap import System
from service import commands as c
from tests.web.conftest import login
from tests.web.world import PASSWORD, Agency, Browser


@dataclass
class Shared:
    first: Agency
    second: Agency
    officer: Any  # the authority's user
    employer_user: Any
    ids: dict[str, uuid.UUID]


@pytest.fixture
def shared(system: System, new_agency: Callable[..., Agency]) -> Shared:
    """Two agencies each share a contract with Harlingen and their employer
    record with De Vries; a third seeds the same and shares nothing."""
    number = uuid.uuid4().int
    harlingen = system.registry.create_organisation("authority", "Gemeente Harlingen", oin=f"{number % 10**20:020d}")
    devries = system.registry.create_organisation("employer", "De Vries B.V.", kvk=f"{number % 10**8:08d}")
    first = new_agency(f"Aa Detachering {number % 1000}")
    second = new_agency(f"Zuid Werkt {number % 1000}")
    other = new_agency("Niet Gedeeld B.V.")
    ids: dict[str, uuid.UUID] = {}
    for name, agency in (("first", first), ("second", second)):
        seeded = agency.seed(employer_name=f"De Vries bij {name}")
        agency.run(c.AmendContract(contract_id=seeded["contract"], authority_org_id=harlingen.id))
        agency.run(c.LinkEmployerOrganisation(employer_id=seeded["employer"], org_id=devries.id))
        ids[f"{name}_contract"], ids[f"{name}_placement"] = seeded["contract"], seeded["placement"]
    ids["hidden"] = other.seed(employer_name="Verborgen B.V.")["contract"]
    ids["devries"] = devries.id
    for agency in (first, second, other):
        agency.project()
    officer = system.registry.create_org_user(harlingen.id, f"{uuid.uuid4().hex}@example.org", "authority",
                                              password=PASSWORD)
    employer_user = system.registry.create_org_user(devries.id, f"{uuid.uuid4().hex}@example.org", "employer",
                                                    password=PASSWORD)
    return Shared(first=first, second=second, officer=officer, employer_user=employer_user, ids=ids)


def test_the_authority_sees_its_portfolio_across_agencies_with_totals_filters_and_csv(
        shared: Shared, pages: Callable[..., Browser]) -> None:
    me = pages(shared.officer)
    home = me.get("/?lang=en")
    assert 'href="/portfolio"' in home.text and 'href="/portfolio-placements"' not in home.text
    listed = me.get("/portfolio?lang=en")
    assert listed.status_code == 200, listed.text
    text = listed.text
    assert "De Vries bij first" in text and "De Vries bij second" in text and "Verborgen" not in text
    assert text.index(shared.first.tenant.name) < text.index(shared.second.tenant.name)
    assert "2 contracts" in text and "Total" in text
    assert "€100,000.00" in text  # two obligations of 50,000 in the totals

    one = me.get(f"/portfolio?lang=en&agency={shared.second.tenant.id}")
    assert "1 contracts" in one.text and "De Vries bij first" not in one.text
    assert f'href="/portfolio.csv?agency={shared.second.tenant.id}"' in one.text
    csv = me.get(f"/portfolio.csv?agency={shared.second.tenant.id}")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and str(shared.ids["second_contract"]) in lines[1]

    # The suppliers' organisations to choose from; one chosen keeps its contracts in every agency.
    assert '<label for="portfolio-employer_org">Supplier organisation</label>' in text
    assert f'<option value="{shared.ids["devries"]}">De Vries B.V.</option>' in text
    by_org = me.get(f"/portfolio?lang=en&employer_org={shared.ids['devries']}")
    assert "2 contracts" in by_org.text and f'href="/portfolio.csv?employer_org={shared.ids["devries"]}"' in by_org.text
    assert f'<option value="{shared.ids["devries"]}" selected>' in by_org.text
    assert "No contracts match these filters." in me.get(f"/portfolio?lang=en&employer_org={uuid.uuid4()}").text
    by_org_csv = me.get(f"/portfolio.csv?employer_org={shared.ids['devries']}")
    assert len(by_org_csv.content.decode("utf-8-sig").splitlines()) == 3
    wrong = me.get("/portfolio?lang=en&employer_org=de-vries")
    assert wrong.status_code == 422 and 'id="portfolio-employer_org-error"' in wrong.text

    bad = me.get("/portfolio?lang=en&from=2026-05-01&to=2026-01-01")
    assert bad.status_code == 422
    assert 'id="portfolio-to-error"' in bad.text and "may not be before its start" in bad.text
    dutch = me.get("/portfolio?lang=nl&status=lost")
    assert dutch.status_code == 422 and 'id="portfolio-status-error"' in dutch.text
    assert "Portefeuille" in dutch.text
    # Not the employer's list; not an agency page.
    assert me.get("/portfolio-placements").status_code == 403
    assert me.get("/contracts").status_code == 403


def _statement(agency: Agency, contract: uuid.UUID, submit: bool = True) -> uuid.UUID:
    """A statement for the seeded contract's year of yesterday (its placement gives it a line)."""
    start, end = agency.period_around(contract, date.today() - timedelta(days=1))
    statement = agency.run(c.PrepareStatement(contract_id=contract, period_start=start, period_end=end))
    if submit:
        agency.run(c.SubmitStatement(statement_id=statement))
    agency.project()
    return statement


def test_the_authority_sees_the_statements_awaiting_its_decision_and_opens_them(
        shared: Shared, pages: Callable[..., Browser]) -> None:
    submitted = _statement(shared.first, shared.ids["first_contract"])
    draft = _statement(shared.second, shared.ids["second_contract"], submit=False)
    me = pages(shared.officer)
    text = me.get("/portfolio?lang=en").text
    assert "Awaiting your decision" in text and "1 statements" in text
    assert f'href="/statements/{submitted}"' in text and str(draft) not in text
    assert "0 / 1" in text  # lines decided of lines
    assert "Wacht op uw besluit" in me.get("/portfolio?lang=nl").text
    # The link opens the statement in the agency that shares it; the officer decides its line there.
    opened = me.get(f"/statements/{submitted}?lang=en")
    assert opened.status_code == 200, opened.text
    assert 'action="/statements/' in opened.text and "/lines/L1/decide" in opened.text
    assert me.get(f"/statements/{uuid.uuid4()}").status_code == 404  # shared by no agency
    decided = me.post(f"/statements/{submitted}/lines/L1/decide", {"decision": "accepted"})
    assert decided.status_code == 303, decided.text
    shared.first.project()
    after = me.get("/portfolio?lang=en").text
    assert "No statements are awaiting your decision." in after and str(submitted) not in after
    # The employer has no such queue.
    assert "Awaiting your decision" not in pages(shared.employer_user).get("/portfolio?lang=en").text


def test_the_employer_sees_its_contracts_and_placements_across_agencies(
        shared: Shared, pages: Callable[..., Browser]) -> None:
    me = pages(shared.employer_user)
    contracts = me.get("/portfolio?lang=en")
    assert contracts.status_code == 200
    assert "Contracts across agencies" in contracts.text and "2 contracts" in contracts.text
    assert 'name="employer_org"' not in contracts.text  # its own list: no supplier organisation to choose
    placements = me.get("/portfolio-placements?lang=en")
    assert placements.status_code == 200, placements.text
    assert "2 placements, 2 active" in placements.text and "Sanne" not in placements.text
    ended = me.get("/portfolio-placements?lang=en&status=ended")
    assert "No placements match these filters." in ended.text
    csv = me.get("/portfolio-placements.csv")
    assert len(csv.content.decode("utf-8-sig").splitlines()) == 3


def test_an_agency_user_gets_no_portfolio(agency: Agency, pages: Callable[..., Browser]) -> None:
    employer = agency.seed()["employer"]
    extra = {"authority": {"organisation": "Gemeente Utrecht"}, "employer": {"employer_id": employer}}
    for role in ("agency", "authority", "employer"):
        me = pages(agency.user(role, **extra.get(role, {})))
        for path in ("/portfolio", "/portfolio.csv", "/portfolio-placements"):
            assert me.get(path).status_code == 403, (role, path)


def test_the_portfolio_pages_pass_axe_in_a_browser(
        shared: Shared, audited_page: Any, audit: Callable[[str], None]) -> None:
    page = audited_page
    _statement(shared.first, shared.ids["first_contract"])
    login(page, shared.officer.email)
    page.get_by_role("link", name="Portefeuille").click()
    page.wait_for_url("**/portfolio")
    assert page.locator("table.queue tbody tr").count() == 1
    assert page.locator("table.portfolio:not(.queue) tbody tr").count() == 2
    audit("the authority's portfolio")
    page.get_by_label("Detacheringsbureau").select_option(str(shared.second.tenant.id))
    page.get_by_role("button", name="Contracten tonen").click()
    page.wait_for_url(f"**/portfolio?*agency={shared.second.tenant.id}*")
    assert page.locator("table.portfolio:not(.queue) tbody tr").count() == 1
    page.get_by_label("Detacheringsbureau").select_option("")
    page.get_by_label("Leverancier (organisatie)").select_option(str(shared.ids["devries"]))
    page.get_by_role("button", name="Contracten tonen").click()
    page.wait_for_url(f"**/portfolio?*employer_org={shared.ids['devries']}*")
    assert page.locator("table.portfolio:not(.queue) tbody tr").count() == 2
    page.get_by_label("Periode tot en met").fill("2000-01-01")
    page.get_by_label("Periode van", exact=True).fill("2001-01-01")
    page.get_by_role("button", name="Contracten tonen").click()
    page.locator("#portfolio-to-error").wait_for()
    audit("the portfolio with an error at a filter")

    page.context.clear_cookies()
    login(page, shared.employer_user.email)
    page.get_by_role("link", name="Plaatsingen bij alle bureaus").click()
    page.wait_for_url("**/portfolio-placements")
    assert page.locator("table.portfolio tbody tr").count() == 2
    audit("the employer's placements across agencies")


def test_the_authority_opens_a_shared_contracts_targets_and_impact_report(
        shared: Shared, pages: Callable[..., Browser]) -> None:
    """Issue 16: from the portfolio to the contract's targets per quarter and
    its yearly impact report, in the agency that shares it; not another's."""
    from decimal import Decimal

    shared.first.run(c.SetContractTargets(contract_id=shared.ids["first_contract"], target_placements=2,
                                          target_permanent_percent=Decimal("50")))
    shared.first.project()
    me = pages(shared.officer)
    listed = me.get("/portfolio").text
    assert f'href="/contracts/{shared.ids["first_contract"]}/impact"' in listed
    page = me.get(f"/contracts/{shared.ids['first_contract']}")
    assert page.status_code == 200 and 'id="targets-trend"' in page.text and "Aandeel vaste contracten" in page.text
    report = me.get(f"/contracts/{shared.ids['first_contract']}/impact")
    assert report.status_code == 200 and "Impactrapportage" in report.text
    assert me.get(f"/contracts/{shared.ids['first_contract']}/impact.csv").status_code == 200
    assert me.get(f"/contracts/{shared.ids['hidden']}/impact").status_code == 404
