"""A contract's compliance report, as CSV and as a printable page, for the
roles that may see the contract; 404 for another employer."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable

from tests.web.conftest import Agency, Browser
from tests.web.test_roles import login_as


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
