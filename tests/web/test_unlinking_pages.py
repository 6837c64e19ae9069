"""Unlinking and the reporting period through the pages: the agency empties the
authority's organisation id on the amend form (or stops sharing an employer
record), and the old organisation's user loses the contract on /portfolio,
in the statement queue and on the statement page at once; the contract page
says how the contract reports, and its forms choose it."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

from domain.contract import SocialReturnContract
from tests.web.test_portfolio_pages import Shared, _statement, shared  # noqa: F401  (the fixture)
from tests.web.world import Agency, Browser


def _contract(agency: Agency, ident: uuid.UUID) -> SocialReturnContract:
    return agency.system.ledger.get(agency.tenant, agency.actor, SocialReturnContract, ident)


def _amend_form(agency: Agency, ident: uuid.UUID, **changes: str) -> dict[str, str]:
    k = _contract(agency, ident)
    return {"title": k.title, "contracting_authority": k.contracting_authority,
            "contract_value_eur": str(k.contract_value_eur), "obligation_percent": str(k.obligation_percent),
            "starts_on": k.starts_on.isoformat(), "ends_on": k.ends_on.isoformat(),
            "authority_org_id": str(k.authority_org_id or ""), "reporting_period": k.reporting_period or "",
            **changes}


def test_emptying_the_authority_on_the_amend_form_unlinks_it_for_the_officer_everywhere(
        shared: Shared, pages: Callable[..., Browser]) -> None:  # noqa: F811
    first, contract = shared.first, shared.ids["first_contract"]
    statement = _statement(first, contract)
    officer = pages(shared.officer)
    assert f'href="/statements/{statement}"' in officer.get("/portfolio?lang=en").text
    agency = pages(first.user("agency"))

    # Awaiting the officer's decision: the link holds, the page says why, nothing stored.
    held = agency.post(f"/contracts/{contract}/amend", _amend_form(first, contract, authority_org_id=""))
    assert held.status_code == 409, held.text
    assert "wacht op het besluit van de gekoppelde aanbesteder" in held.text
    assert _contract(first, contract).authority_org_id is not None

    assert officer.post(f"/statements/{statement}/lines/L1/decide", {"decision": "accepted"}).status_code == 303
    r = agency.post(f"/contracts/{contract}/amend", _amend_form(first, contract, authority_org_id=""))
    assert r.status_code == 303, r.text
    assert _contract(first, contract).authority_org_id is None
    first.project()
    listed = officer.get("/portfolio?lang=en").text
    assert "De Vries bij first" not in listed and "De Vries bij second" in listed
    assert str(statement) not in listed
    assert officer.get(f"/statements/{statement}").status_code == 404
    assert officer.get(f"/statements/{uuid.uuid4()}").status_code == 404
    # The other agency's contract for the same officer is untouched.
    assert _contract(shared.second, shared.ids["second_contract"]).authority_org_id is not None


def test_stop_sharing_the_employer_record_on_its_page(shared: Shared, pages: Callable[..., Browser]) -> None:  # noqa: F811
    first = shared.first
    employer = _contract(first, shared.ids["first_contract"]).employer_id
    agency = pages(first.user("agency"))
    page = agency.get(f"/employers/{employer}?lang=en").text
    assert "Stop sharing with De Vries B.V." in page
    r = agency.post(f"/employers/{employer}/organisation", {"unlink": "yes"})
    assert r.status_code == 303, r.text
    first.project()
    assert "Not shared with an organisation of the platform." in agency.get(f"/employers/{employer}?lang=en").text
    mine = pages(shared.employer_user)
    placements = mine.get("/portfolio-placements?lang=en").text
    assert "1 placements, 1 active" in placements
    contracts = mine.get("/portfolio?lang=en").text
    assert "1 contracts" in contracts and "De Vries bij first" not in contracts


def test_the_contract_page_shows_and_changes_the_reporting_period(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    page = me.get(f"/contracts/{ids['contract']}?lang=en").text
    assert "statements per year" in page and "as the counting rules say" in page
    assert 'name="reporting_period"' in page
    r = me.post(f"/contracts/{ids['contract']}/amend", _amend_form(agency, ids["contract"], reporting_period="quarter"))
    assert r.status_code == 303, r.text
    agency.project()
    dutch = me.get(f"/contracts/{ids['contract']}?lang=nl").text
    assert "verantwoording per kwartaal" in dutch and "gekozen voor dit contract" in dutch
    # A quarter prepared: back to years is refused next to the field, in Dutch.
    start, end = agency.period_around(ids["contract"], date.today() - timedelta(days=1))
    assert (end - start).days < 92
    assert me.post(f"/contracts/{ids['contract']}/statements",
                   {"period_start": start.isoformat(), "period_end": end.isoformat()}).status_code == 303
    refused = me.post(f"/contracts/{ids['contract']}/amend", _amend_form(agency, ids["contract"], reporting_period="year"))
    assert refused.status_code == 422, refused.text
    assert 'id="amend-reporting_period-error"' in refused.text and "geen jaar van het contract" in refused.text
    assert _contract(agency, ids["contract"]).reporting_period == "quarter"
