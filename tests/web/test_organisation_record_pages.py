"""The record pages of a platform organisation's user: an authority's officer
opens, from its portfolio, each contract an agency shares with it (figures,
contributions with why they are worth what they are, documents, statements,
its decisions), an employer's user its contracts and placements (feedback
included), each in the agency that shares it and as that agency's in-tenant
partner role would see it. Two agencies, two authorities, two employers: what
is not shared with the organisation answers as an unknown id does. Decisions
and feedback land in the owning agency's history with the organisation's user
as actor. Checked with axe-core in a browser."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.contribution import Contribution
from domain.placement import Placement
from infra.bootstrap import System
from service import commands as c
from service.actor import Actor
from tests.api import document_samples
from tests.web.conftest import login
from tests.web.world import PASSWORD, Agency, Browser

CSRF = re.compile(r'name="_csrf_token" value="[^"]*"')


@dataclass
class Partners:
    first: Agency
    second: Agency
    harlingen: Any  # the authorities' users
    utrecht: Any
    devries: Any  # the employers' users
    visserij: Any
    orgs: dict[str, Any]
    ids: dict[str, uuid.UUID]


@pytest.fixture
def partners(system: System, new_agency: Callable[..., Agency]) -> Partners:
    """Two agencies each share a contract with Harlingen and their employer
    record De Vries with the De Vries organisation; the second also has a
    contract with Utrecht for its employer Visserij, linked to those two."""
    number = uuid.uuid4().int
    registry = system.registry
    orgs = {"harlingen": registry.create_organisation("authority", "Gemeente Harlingen",
                                                      oin=f"{number % 10**20:020d}"),
            "utrecht": registry.create_organisation("authority", "Gemeente Utrecht",
                                                    oin=f"{(number // 7) % 10**20:020d}"),
            "devries": registry.create_organisation("employer", "De Vries B.V.", kvk=f"{number % 10**8:08d}"),
            "visserij": registry.create_organisation("employer", "Visserij B.V.",
                                                     kvk=f"{(number // 7) % 10**8:08d}")}
    first, second = new_agency(f"Aa Detachering {number % 1000}"), new_agency(f"Zuid Werkt {number % 1000}")
    ids: dict[str, uuid.UUID] = {}
    for name, agency in (("first", first), ("second", second)):
        seeded = agency.seed(employer_name=f"De Vries bij {name}")
        agency.run(c.AmendContract(contract_id=seeded["contract"], authority_org_id=orgs["harlingen"].id))
        agency.run(c.LinkEmployerOrganisation(employer_id=seeded["employer"], org_id=orgs["devries"].id))
        ids[f"{name}_contract"], ids[f"{name}_placement"] = seeded["contract"], seeded["placement"]
    ids["purchase"] = first.run(c.ReportSocialEnterprisePurchase(
        contract_id=ids["first_contract"], supplier="Werkbedrijf Groen",
        invoice_amount_eur_excl_vat=Decimal("12500"), register="registered_social_enterprise",
        invoice_date=date.today() - timedelta(days=20), description="Groenonderhoud"))
    ids["invoice"] = first.run(c.AttachDocument(
        record_kind="contribution", record_id=ids["purchase"], kind="invoice", filename="Factuur groen.pdf",
        content=document_samples.pdf("Factuur Werkbedrijf Groen")))
    visserij = second.seed(employer_name="Visserij bij second", candidate_name="Kees Visser")
    second.run(c.AmendContract(contract_id=visserij["contract"], authority_org_id=orgs["utrecht"].id))
    second.run(c.LinkEmployerOrganisation(employer_id=visserij["employer"], org_id=orgs["visserij"].id))
    ids["utrecht_contract"], ids["visserij_placement"] = visserij["contract"], visserij["placement"]
    for agency in (first, second):
        agency.project()

    def user(org: str) -> Any:
        return registry.create_org_user(orgs[org].id, f"{uuid.uuid4().hex}@example.org", orgs[org].kind,
                                        password=PASSWORD)
    return Partners(first=first, second=second, harlingen=user("harlingen"), utrecht=user("utrecht"),
                    devries=user("devries"), visserij=user("visserij"), orgs=orgs, ids=ids)


def _unknown_alike(me: Browser, path: str, ident: uuid.UUID) -> None:
    """A record not shared answers exactly as an id nobody has."""
    nobody = uuid.uuid4()
    hidden, unknown = me.get(path.format(id=ident) + "?lang=en"), me.get(path.format(id=nobody) + "?lang=en")
    assert hidden.status_code == unknown.status_code == 404, path
    assert CSRF.sub("", hidden.text).replace(str(ident), "ID") == CSRF.sub("", unknown.text).replace(str(nobody), "ID")


def test_the_authority_opens_each_shared_contract_from_its_portfolio(
        partners: Partners, pages: Callable[..., Browser]) -> None:
    me = pages(partners.harlingen)
    first, second = partners.ids["first_contract"], partners.ids["second_contract"]
    portfolio = me.get("/portfolio?lang=en").text
    assert f'href="/contracts/{first}"' in portfolio and f'href="/contracts/{second}"' in portfolio
    assert str(partners.ids["utrecht_contract"]) not in portfolio
    home = me.get("/?lang=en").text  # the list of what is shared links the contracts too
    assert f'href="/contracts/{first}"' in home and f'href="/placements/' not in home

    page = me.get(f"/contracts/{first}?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    assert f"Shared with Gemeente Harlingen by {partners.first.tenant.name}." in text
    for shown in ("Obligation", "Accepted", "Pending", "Forecast to the end", "€50,000.00",  # the figures
                  "Groenonderhoud", "invoice €12,500.00 excl. VAT, counted for",  # a contribution and why
                  "Factuur groen.pdf", f'href="/documents/{partners.ids["invoice"]}/download"',  # its evidence
                  "Period statements"):
        assert shown in text, shown
    # Its decisions: per contribution (this contract reports no statements); not the agency's forms.
    assert f'/contributions/{partners.ids["purchase"]}/accept"' in text
    assert f'/contributions/{partners.ids["purchase"]}/reject"' in text
    for agency_only in ("/amend", "/close", "/purchases", "/statements\"", "/owners"):
        assert f'action="/contracts/{first}{agency_only}' not in text, agency_only
    assert "Sanne Jansen" not in text  # the authority sees no names of people
    assert "Door " + partners.first.tenant.name in me.get(f"/contracts/{first}?lang=nl").text
    download = me.get(f"/documents/{partners.ids['invoice']}/download")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert me.get(f"/contracts/{first}/report?lang=en").status_code == 200
    assert me.get(f"/contracts/{first}/report.csv").status_code == 200
    assert me.get(f"/contracts/{second}?lang=en").status_code == 200  # the other agency's, there

    # Not shared with Harlingen: as an unknown id, on every page of the contract.
    for path in ("/contracts/{id}", "/contracts/{id}/report", "/contracts/{id}/report.csv"):
        _unknown_alike(me, path, partners.ids["utrecht_contract"])
    # The placement page is not the authority's (as for the authority in a tenant), nor the agency's lists.
    assert me.get(f"/placements/{partners.ids['first_placement']}").status_code == 403
    assert me.get("/contracts").status_code == 403


def test_the_authoritys_decision_lands_in_the_owning_agencys_history(
        partners: Partners, pages: Callable[..., Browser]) -> None:
    me = pages(partners.harlingen)
    contract, purchase = partners.ids["first_contract"], partners.ids["purchase"]
    events_before = [_events(a) for a in (partners.first, partners.second)]
    # Without a reason a rejection is shown at its row, nothing stored.
    refused = me.post(f"/contracts/{contract}/contributions/{purchase}/reject?lang=en", {"reason": ""})
    assert refused.status_code == 422 and f'id="reason-{purchase}-error"' in refused.text
    # Another municipality cannot decide it: as an unknown contract.
    other = pages(partners.utrecht).post(f"/contracts/{contract}/contributions/{purchase}/accept",
                                         {"reason": "not ours"})
    assert other.status_code == 404
    assert [_events(a) for a in (partners.first, partners.second)] == events_before

    accepted = me.post(f"/contracts/{contract}/contributions/{purchase}/accept", {"reason": "Factuur gezien"})
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"].startswith(f"/contracts/{contract}?min_position=")
    history = partners.first.system.ledger.history(partners.first.tenant, Actor.system(), Contribution, purchase)
    decided = history[-1]
    assert decided["type"] == "ContributionAccepted"
    assert decided["metadata"]["user_id"] == str(partners.harlingen.id)
    assert decided["metadata"]["org_id"] == str(partners.orgs["harlingen"].id)
    assert (decided["metadata"]["role"], decided["metadata"]["organisation"]) == ("authority", "Gemeente Harlingen")
    assert _events(partners.second) == events_before[1]  # nothing in the other agency
    partners.first.project()
    row = me.get(f"/contracts/{contract}?lang=en").text
    assert f'/contributions/{purchase}/accept"' not in row and "Factuur gezien" in row


def test_a_contract_that_reports_by_statements_is_decided_per_line(
        partners: Partners, pages: Callable[..., Browser]) -> None:
    contract = partners.ids["second_contract"]
    start, end = partners.second.period_around(contract, date.today() - timedelta(days=1))
    statement = partners.second.run(c.PrepareStatement(contract_id=contract, period_start=start, period_end=end))
    partners.second.run(c.SubmitStatement(statement_id=statement))
    partners.second.project()
    me = pages(partners.harlingen)
    text = me.get(f"/contracts/{contract}?lang=en").text
    assert f'href="/statements/{statement}"' in text
    assert "/accept\"" not in text and "/reject\"" not in text  # its lines are decided on the statement
    assert "/lines/L1/decide" in me.get(f"/statements/{statement}?lang=en").text
    assert me.get(f"/statements/{statement}").status_code == 200
    assert pages(partners.utrecht).get(f"/statements/{statement}").status_code == 404
    home = me.get("/?lang=en").text  # the list of what is shared links it too, by its kind
    assert f'href="/statements/{statement}"' in home and "period statement" in home


def test_the_employer_opens_its_placements_and_contracts_and_gives_feedback(
        partners: Partners, pages: Callable[..., Browser]) -> None:
    me = pages(partners.devries)
    placement, contract = partners.ids["second_placement"], partners.ids["second_contract"]
    listed = me.get("/portfolio-placements?lang=en").text
    assert f'href="/placements/{placement}"' in listed and f'href="/contracts/{contract}"' in listed
    assert str(partners.ids["visserij_placement"]) not in listed
    assert f'href="/contracts/{contract}"' in me.get("/portfolio?lang=en").text
    assert f'href="/placements/{placement}"' in me.get("/?lang=en").text

    page = me.get(f"/placements/{placement}?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    assert f"Shared with De Vries B.V. by {partners.second.tenant.name}." in text
    assert "Sanne Jansen" in text  # the person placed with it, by name, as in the tenant
    assert f'action="/placements/{placement}/feedback"' in text  # the employer gives feedback
    assert f'href="/contracts/{contract}"' in text and f'href="/candidates/' not in text
    for agency_only in ("/hours", "/end", "/sickness", "/responsible"):
        assert f'action="/placements/{placement}{agency_only}"' not in text, agency_only
    assert "Schriftelijke instructies" not in text  # the person's stated needs are not the employer's
    assert me.get(f"/placements/{placement}/timeline?page=1").status_code == 200
    contract_page = me.get(f"/contracts/{contract}?lang=en").text
    assert "Shared with De Vries B.V." in contract_page and f'href="/placements/{placement}"' in contract_page
    assert f'action="/contracts/{contract}/purchases"' in contract_page  # as the employer in the tenant

    before_first = _events(partners.first)
    given = me.post(f"/placements/{placement}/feedback", {"score": "4", "comment": "Goed bezig"})
    assert given.status_code == 303, given.text
    history = partners.second.system.ledger.history(partners.second.tenant, Actor.system(), Placement, placement)
    feedback = history[-1]
    assert feedback["type"] == "FeedbackGiven" and feedback["data"]["from_role"] == "employer"
    assert feedback["metadata"]["user_id"] == str(partners.devries.id)
    assert feedback["metadata"]["org_id"] == str(partners.orgs["devries"].id)
    assert _events(partners.first) == before_first
    assert "Goed bezig" in me.get(f"/placements/{placement}?lang=en").text

    # Another employer's placement, in the same agency: as an unknown id; so is its feedback.
    for path in ("/placements/{id}", "/placements/{id}/timeline", "/placements/{id}/feedback"):
        _unknown_alike(me, path, partners.ids["visserij_placement"])
    before_second = _events(partners.second)
    assert me.post(f"/placements/{partners.ids['visserij_placement']}/feedback",
                   {"score": "1"}).status_code == 404
    assert pages(partners.visserij).post(f"/placements/{placement}/feedback", {"score": "1"}).status_code == 404
    assert _events(partners.second) == before_second
    _unknown_alike(me, "/contracts/{id}", partners.ids["utrecht_contract"])


def _events(agency: Agency) -> int:
    return agency.system.stores.for_tenant(agency.tenant).recorder.max_notification_id() or 0


def test_the_record_pages_pass_axe_in_a_browser(
        partners: Partners, audited_page: Any, audit: Callable[[str], None]) -> None:
    page = audited_page
    login(page, partners.harlingen.email)
    page.get_by_role("link", name="Portefeuille").click()
    page.wait_for_url("**/portfolio")
    page.locator(f'a[href="/contracts/{partners.ids["first_contract"]}"]').click()
    page.wait_for_url(f"**/contracts/{partners.ids['first_contract']}")
    assert page.locator(f'form[action$="/contributions/{partners.ids["purchase"]}/accept"]').count() == 1
    audit("a shared contract, as the authority's officer")

    page.context.clear_cookies()
    login(page, partners.devries.email)
    page.get_by_role("link", name="Plaatsingen bij alle bureaus").click()
    page.wait_for_url("**/portfolio-placements")
    page.locator(f'a[href="/placements/{partners.ids["first_placement"]}"]').click()
    page.wait_for_url(f"**/placements/{partners.ids['first_placement']}")
    assert page.locator("form.feedback-form").count() == 1
    audit("a shared placement, as the employer's user")
    page.locator(f'a[href="/contracts/{partners.ids["first_contract"]}"]').first.click()
    page.wait_for_url(f"**/contracts/{partners.ids['first_contract']}")
    audit("a shared contract, as the employer's user")
