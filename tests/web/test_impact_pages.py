"""Issue 16 on the pages: the employer page's accessibility and team survey
section and its forms (without JavaScript, errors next to the field), the
contract page's targets with their trend chart and table, the dashboard, and
the yearly impact report as a printable page and as CSV (withheld under 5
people, formula-guarded, another tenant's ids a 404); in a real browser, the
pages checked with axe-core."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from service import commands as c
from tests.web.conftest import Agency, Browser, login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

TODAY = date.today()
ANSWERS = [("4", "3", "yes"), ("5", "3", "yes"), ("3", "4", "unsure"), ("4", "5", "no"), ("4", "5", "yes")]


def _csv(body: bytes) -> dict[tuple[str, str], tuple[str, str]]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    return {(r[0], r[1]): (r[2], r[3]) for r in rows[5:] if len(r) == 4}


def test_a_session_and_five_answers_through_the_employer_page(agency: Agency,
                                                               pages: Callable[..., Browser]) -> None:
    ids = agency.seed(employer_name="=HYPERLINK(\"http://evil\") Bouw")
    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    base = f"/employers/{ids['employer']}"
    r = employer.post(f"{base}/team-sessions", {"kind": "team_session", "held_on": TODAY.isoformat(),
                                                "managers": "0"})
    assert r.status_code == 422 and 'id="session-managers-error"' in r.text
    r = employer.post(f"{base}/team-sessions", {"kind": "team_session", "held_on": TODAY.isoformat(),
                                                "managers": "6"})
    assert r.status_code == 303 and r.headers["location"].endswith("#impact")
    r = employer.post(f"{base}/team-sessions/session-1/answers", {"knowledge": "7", "confidence": "3",
                                                                  "would_hire_again": "yes"})
    assert r.status_code == 422 and 'id="answer-knowledge-error"' in r.text
    for knowledge, confidence, hire in ANSWERS[:4]:
        assert employer.post(f"{base}/team-sessions/session-1/answers", {
            "knowledge": knowledge, "confidence": confidence, "would_hire_again": hire}).status_code == 303
    agency.project()
    html = employer.get(base).text
    assert "Toegankelijkheid en teamenquête" in html and "1 sessies met 6 leidinggevenden." in html
    assert "niet getoond (minder dan 5 mensen)" in html and "4,0" not in html.split('id="impact"')[1][:3000]
    knowledge, confidence, hire = ANSWERS[4]
    employer.post(f"{base}/team-sessions/session-1/answers", {"knowledge": knowledge, "confidence": confidence,
                                                              "would_hire_again": hire})
    agency.project()
    section = employer.get(base).text.split('id="impact"')[1].split("</section>")[0]
    assert "4,0" in section and "60,0%" in section  # knowledge 20/5, would hire again 3 of 5
    # The report of this year, as a page and as CSV; the name cannot run as a formula.
    r = employer.get(f"{base}/impact?year={TODAY.year}")
    assert r.status_code == 200 and "Impactrapportage" in r.text
    r = employer.get(f"{base}/impact.csv?year={TODAY.year}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1] == ["employer", "'=HYPERLINK(\"http://evil\") Bouw"]
    figures = _csv(r.content)
    assert figures[("team_survey", "knowledge_average")] == ("4.0", "false")
    assert figures[("team_survey", "would_hire_again_yes_percent")] == ("60.0", "false")
    # One person placed: every figure about people is empty and withheld.
    assert figures[("placements", "started")] == ("", "true") or figures[("placements", "running")] == ("", "true")
    assert figures[("accessibility.onboarding", "done_by_day_one_percent")] == ("", "true")


def test_the_report_is_its_own_tenants_and_the_authority_reads_the_contracts(
        agency: Agency, new_agency: Callable[..., Agency], pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    other = new_agency()
    stranger = pages(other.user("agency"))
    for path in (f"/employers/{ids['employer']}/impact", f"/employers/{ids['employer']}/impact.csv",
                 f"/contracts/{ids['contract']}/impact", f"/contracts/{ids['contract']}/impact.csv"):
        assert stranger.get(path).status_code == 404, path
    authority = pages(agency.user("authority", organisation="Gemeente Utrecht"))
    assert authority.get(f"/contracts/{ids['contract']}/impact").status_code == 200
    assert authority.get(f"/employers/{ids['employer']}/impact").status_code in (403, 404)
    r = pages(agency.user("agency")).get(f"/contracts/{ids['contract']}/impact?year=abc")
    assert r.status_code == 422


def test_the_contract_page_shows_targets_with_a_trend_chart_and_a_table(agency: Agency,
                                                                       pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    browser = pages(agency.user("agency"))
    r = browser.post(f"/contracts/{ids['contract']}/targets", {"target_placements": "3",
                                                              "target_permanent_percent": "50",
                                                              "target_satisfaction_min": "9"})
    assert r.status_code == 422 and 'id="targets-target_satisfaction_min-error"' in r.text
    r = browser.post(f"/contracts/{ids['contract']}/targets", {"target_placements": "3",
                                                              "target_permanent_percent": "50",
                                                              "target_satisfaction_min": "4"})
    assert r.status_code == 303
    agency.project()
    html = browser.get(f"/contracts/{ids['contract']}").text
    trend = html.split('id="targets-trend"')[1].split("</section>")[0]
    assert "Aandeel vaste contracten" in trend and "Tevredenheid van de medewerkers (1-5)" in trend
    assert trend.count("<svg") == 3 and trend.count("<table") == 3  # placements, permanent, satisfaction
    assert "target-line" in trend and "niet getoond (minder dan 5 mensen)" in trend
    html = browser.get("/").text  # the dashboard: the new kinds beside the others, linking to the chart
    assert "Aandeel vaste contracten" in html and "#targets-trend" in html


def test_the_impact_pages_are_accessible(agency: Agency, audited_page: Any,
                                         audit: Callable[[str], None]) -> None:
    ids = agency.seed()
    agency.run(c.SetContractTargets(contract_id=ids["contract"], target_placements=2,
                                    target_permanent_percent=Decimal("50")))
    agency.run(c.HoldTeamSession(employer_id=ids["employer"], kind="workshop",
                                 held_on=TODAY - timedelta(days=2), managers=8))
    agency.project()
    login(audited_page, agency.user("agency").email)
    audited_page.goto(f"/employers/{ids['employer']}")
    expect(audited_page.get_by_role("heading", name="Toegankelijkheid en teamenquête")).to_be_visible()
    audit("the employer page with its accessibility and team survey section")
    audited_page.goto(f"/contracts/{ids['contract']}")
    expect(audited_page.get_by_role("heading", name="Doelen per kwartaal")).to_be_visible()
    audit("the contract page with its targets per quarter")
    audited_page.goto(f"/contracts/{ids['contract']}/impact?year={TODAY.year}")
    expect(audited_page.get_by_role("heading", name=f"Impactrapportage {TODAY.year}")).to_be_visible()
    audit("the contract's impact report")
