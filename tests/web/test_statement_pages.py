"""Period statements on the pages: the contract's statements section, preparing
and submitting as the agency, deciding per line as the authority; errors next
to the field in Dutch; in a real browser, the whole flow by labels and
buttons, each page checked with axe-core."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from domain.statement import Statement
from service import commands as c
from tests.web.conftest import Agency, Browser, login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]


def statement_of(agency: Agency, ident: Any) -> Statement:
    return agency.system.ledger.get(agency.tenant, agency.actor, Statement, ident)


def test_the_agency_prepares_and_submits_the_authority_decides_without_javascript(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()  # contract from a year ago, placement from 60 days ago
    agency.project()
    today = date.today()
    me = pages(agency.user("agency"))
    html = me.get(f"/contracts/{ids['contract']}").text
    assert "Verantwoordingen per periode" in html and 'action="/contracts/%s/statements"' % ids["contract"] in html

    bad = me.post(f"/contracts/{ids['contract']}/statements", {
        "period_start": (today - timedelta(days=400)).isoformat(), "period_end": today.isoformat()})
    assert bad.status_code == 422
    assert 'id="statement-period_start-error"' in bad.text and "looptijd van het contract" in bad.text
    start, end = agency.period_around(ids["contract"], today - timedelta(days=1))
    r = me.post(f"/contracts/{ids['contract']}/statements", {
        "period_start": start.isoformat(), "period_end": end.isoformat()})
    assert r.status_code == 303, r.text
    statement = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    html = me.get(f"/statements/{statement}").text
    assert "concept" in html and "Deze verantwoording indienen" in html and "dagen geteld" in html
    assert me.post(f"/statements/{statement}/submit", {}).status_code == 303
    assert statement_of(agency, statement).status == "submitted"

    authority = pages(agency.user("authority", organisation="Gemeente Utrecht"))
    bad = authority.post(f"/statements/{statement}/lines/L1/decide", {"decision": "rejected", "reason": ""})
    assert bad.status_code == 422 and 'id="reason-L1-reason-error"' in bad.text
    ok = authority.post(f"/statements/{statement}/lines/L1/decide", {"decision": "accepted",
                                                                     "reason": "Loonstroken gezien"})
    assert ok.status_code == 303 and ok.headers["location"].endswith("#line-L1")
    again = authority.post(f"/statements/{statement}/lines/L1/decide", {"decision": "rejected", "reason": "Nee"})
    assert again.status_code == 409 and "al beoordeeld" in again.text, again.text[again.text.find("line-L1"):][:3000]
    assert statement_of(agency, statement).locked
    # The agency submits but does not decide; an employer of another contract sees nothing.
    assert me.post(f"/statements/{statement}/lines/L1/decide", {"decision": "accepted"}).status_code == 403
    other = agency.run(c.RegisterEmployer(name="Ander Bedrijf B.V."))
    stranger = pages(agency.user("employer", employer_id=other))
    assert stranger.get(f"/statements/{statement}").status_code == 404


def test_the_statement_flow_in_the_browser_is_accessible(
        agency: Agency, audited_page: Any, audit: Callable[[str], None]) -> None:
    ids = agency.seed()
    agency.run(c.ReportOtherActivity(contract_id=ids["contract"], description="Gastles op het ROC",
                                     activity_date=date.today() - timedelta(days=10), hours=3))  # type: ignore[arg-type]
    agency.project()
    page = audited_page
    login(page, agency.user("agency").email)
    page.goto(f"/contracts/{ids['contract']}")
    section = page.locator("#statements")
    expect(section.get_by_role("heading", name="Verantwoordingen per periode")).to_be_visible()
    audit("the contract page with its statements section")
    start, end = agency.period_around(ids["contract"], date.today() - timedelta(days=10))  # the activity's
    section.get_by_label("Periode van").fill(start.isoformat())
    section.get_by_label("Periode tot en met").fill(end.isoformat())
    section.get_by_role("button", name="Verantwoording opstellen").click()
    page.wait_for_url(re.compile(r"/statements/"))
    expect(page.get_by_role("heading", name="Regels")).to_be_visible()
    audit("a draft statement")
    page.get_by_role("button", name="Deze verantwoording indienen").click()
    expect(page.get_by_text("wacht op beoordeling").first).to_be_visible()
    statement_url = page.url.split("?")[0]
    page.get_by_role("button", name="Uitloggen").click()

    login(page, agency.user("authority", organisation="Gemeente Utrecht").email)
    page.goto(statement_url)
    audit("a submitted statement with a decision form per line")
    line = page.locator("#line-L2")
    line.get_by_label("Afwijzen", exact=True).check()
    line.get_by_role("button", name=re.compile("Beoordeling vastleggen")).click()
    expect(page.locator("#line-L2 .error")).to_contain_text("reden")
    line = page.locator("#line-L2")
    line.get_by_label("Afwijzen", exact=True).check()
    line.get_by_label("Reden (verplicht bij afwijzen)").fill("Geen presentielijst")
    line.get_by_role("button", name=re.compile("Beoordeling vastleggen")).click()
    expect(page.locator("#line-L2")).to_contain_text("Geen presentielijst")
    page.locator("#line-L1").get_by_role("button", name=re.compile("Beoordeling vastleggen")).click()
    expect(page.get_by_text("Elke regel is beoordeeld")).to_be_visible()
    audit("a decided statement")
