"""A contract's compliance report, as CSV and as a printable page, for the
roles that may see the contract; 404 for another employer."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable

from tests.web.conftest import Agency, Browser
from tests.web.world import login_as


def test_the_contracting_authority_gets_the_report_as_csv_and_as_a_printable_page(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    authority = login_as(agency, pages, "authority", ids)
    r = authority.get(f"/contracts/{ids['contract']}/report.csv?as_of=2026-12-31")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    facts = {row[0]: row[1:] for row in rows if row}
    assert facts["contract_id"] == [str(ids["contract"])]
    assert facts["contracting_authority"] == ["Gemeente Utrecht"]
    assert facts["as_of"] == ["2026-12-31"]
    obligation = facts["obligation_eur"][0]
    assert obligation and float(obligation) > 0
    header = rows.index(["quarter", "reported_eur", "accepted_eur", "rejected_eur", "pending_eur"])
    assert rows[header + 1][0].startswith("20")  # at least one quarter

    page = authority.get(f"/contracts/{ids['contract']}/report?as_of=2026-12-31")
    assert page.status_code == 200
    assert "Rapportage social return" in page.text and "Gemeente Utrecht" in page.text
    assert f"/contracts/{ids['contract']}/report.csv" in page.text


def test_another_employer_cannot_fetch_the_report(agency: Agency, pages: Callable[..., Browser]) -> None:
    ours = agency.seed(employer_name="Bouwbedrijf De Vries B.V.", candidate_name="Sanne Jansen")
    theirs = agency.seed(employer_name="Schoonmaakbedrijf Hollandia", candidate_name="Youssef El Amrani")
    agency.project()
    me = login_as(agency, pages, "employer", ours)
    assert me.get(f"/contracts/{ours['contract']}/report.csv").status_code == 200
    assert me.get(f"/contracts/{theirs['contract']}/report.csv").status_code == 404
    assert me.get(f"/contracts/{theirs['contract']}/report").status_code == 404


def test_a_purchase_shows_its_supplier_on_the_contract_page_and_in_the_csv_without_formulas(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from domain.contribution import SOCIAL_ENTERPRISE_REGISTERS
    from service import commands as c

    ids = agency.seed()
    agency.run(c.ReportSocialEnterprisePurchase(
        contract_id=ids["contract"], supplier="=HYPERLINK(\"http://x\")", register=SOCIAL_ENTERPRISE_REGISTERS[0],
        invoice_amount_eur_excl_vat=Decimal("12000.00"), invoice_date=date.today() - timedelta(days=10),
        description="Catering voor de bouwkeet"))
    agency.project()
    authority = login_as(agency, pages, "authority", ids)

    page = authority.get(f"/contracts/{ids['contract']}")
    rows = list(csv.reader(io.StringIO(authority.get(f"/contracts/{ids['contract']}/report.csv").content
                                       .decode("utf-8-sig")), delimiter=";"))
    header = rows.index(["contribution_id", "kind", "reported_on", "value_eur", "status", "decided_on", "reason",
                         "description", "supplier", "zero_code"])
    purchase = next(r for r in rows[header + 1:] if r and r[1] == "social_enterprise_purchase")

    assert "Catering voor de bouwkeet" in page.text
    assert "=HYPERLINK(&#34;http://x&#34;)" in page.text or "=HYPERLINK(&quot;http://x&quot;)" in page.text
    assert purchase[7] == "Catering voor de bouwkeet"
    assert purchase[8] == "'=HYPERLINK(\"http://x\")"  # read as text, not as a formula
    assert purchase[9] == ""  # counted in full: no rule made it zero


def test_the_forecast_on_accepted_and_on_pending_is_on_the_contract_page_report_csv_and_dashboard(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    import re
    from datetime import date, timedelta

    from service import commands as c

    ids = agency.seed()
    today = date.today()
    # Doelgroepregister (50,000 a year), 24 of 36 hours, from 60 days ago to 304 days
    # ahead: 365 days x 50,000 x 24/36 / 365 = 33,333.33, all pending; not to the
    # contract's end (700 days ahead).
    agency.run(c.ExtendPlacement(placement_id=ids["placement"], until=today + timedelta(days=304)))
    agency.project()
    me = login_as(agency, pages, "agency", ids)

    def shown(html: str, dd_id: str) -> str:
        found = re.search(rf'id="{dd_id}">([^<]*)<', html)
        assert found is not None, dd_id
        return found.group(1)

    dutch = me.get(f"/contracts/{ids['contract']}?lang=nl").text
    assert "Prognose op geaccepteerd" in dutch and "Prognose op in behandeling" in dutch
    assert shown(dutch, "forecast") == shown(dutch, "forecast-pending") == "€\xa033.333,33"
    assert shown(dutch, "forecast-accepted") == "€\xa00,00"
    english = me.get(f"/contracts/{ids['contract']}?lang=en").text
    assert "Forecast on accepted" in english and "Forecast on pending" in english
    assert shown(english, "forecast-pending") == "€33,333.33"

    rows = list(csv.reader(io.StringIO(
        me.get(f"/contracts/{ids['contract']}/report.csv").content.decode("utf-8-sig")), delimiter=";"))
    facts = {row[0]: row[1:] for row in rows if row}
    assert (facts["forecast_eur"], facts["forecast_accepted_eur"], facts["forecast_pending_eur"]) == (
        ["33333.33"], ["0.00"], ["33333.33"])
    report = me.get(f"/contracts/{ids['contract']}/report?lang=en").text
    assert "Forecast on accepted" in report and "€33,333.33" in report

    dashboard = me.get("/?lang=en").text
    assert shown(dashboard, "total-forecast-pending") == "€33,333"
    assert shown(dashboard, "total-forecast-accepted") == "€0"
    assert "(on accepted €0, on pending €33,333)" in dashboard
