"""Sickness, duties and reminders on the pages: the agency reports sickness
and recovery on a placement and marks duties done; bad input is shown next
to the field with nothing stored; employers and auditors see none of it; the
tenant's duties list puts overdue duties first; reminders on their page and
the dashboard."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

from domain.duties import PlacementDuties
from service import commands as c
from tests.web.conftest import Agency, Browser


def duties_version(agency: Agency, placement: UUID) -> int:
    from service.errors import NotFound

    try:
        return agency.system.ledger.get(agency.tenant, agency.actor, PlacementDuties,
                                        PlacementDuties.id_for(placement)).version
    except NotFound:
        return 0


def section(html: str) -> str:
    found = re.search(r'<section id="duties".*?</section>', html, re.S)
    assert found is not None, "no duties section"
    return found.group(0)


def test_the_agency_reports_sickness_and_recovery_and_marks_duties_done(agency: Agency,
                                                                        pages: Callable[..., Browser]) -> None:
    ids = agency.seed()  # placement started 60 days ago
    agency.project()
    me = pages(agency.user("agency"))
    path = f"/placements/{ids['placement']}"
    assert "Geen ziekte gemeld." in section(me.get(path).text)
    first = date.today() - timedelta(days=10)
    r = me.post(f"{path}/sickness", {"first_sick_day": first.isoformat()})
    assert r.status_code == 303 and r.headers["location"].startswith(path) and r.headers["location"].endswith("#duties")
    agency.project()
    shown = section(me.get(path).text)
    assert "nog ziek" in shown and "probleemanalyse door de bedrijfsarts" in shown
    assert "ziekmelding (dag 1)" in shown and "te laat" in shown  # day 1 was ten days ago
    # Week 91: the re-integration report to the employee; week 93: the employee's WIA application.
    assert "re-integratieverslag (RIV) aan de werknemer overhandigd" in shown
    assert "WIA-aanvraag van de werknemer: gecontroleerd en ondersteund" in shown
    assert "Herstel melden" in shown and "Ziekte melden" not in shown
    # A second report while one is open (a stale form): a conflict, shown; nothing stored.
    version = duties_version(agency, ids["placement"])
    r = me.post(f"{path}/sickness", {"first_sick_day": first.isoformat()})
    assert r.status_code == 409 and 'role="alert"' in section(r.text)
    assert duties_version(agency, ids["placement"]) == version
    # Recovery before the first sick day: next to the field; nothing stored.
    r = me.post(f"{path}/recovery", {"recovered_on": (first - timedelta(days=1)).isoformat()})
    assert r.status_code == 422
    assert 'aria-describedby="recovery-recovered_on-error"' in section(r.text)
    assert duties_version(agency, ids["placement"]) == version
    # Done: the sick report.
    sick_report = re.search(r'action="(/placements/[^"]+/duties/[^"]+/done)"', shown).group(1)
    r = me.post(sick_report, {})
    assert r.status_code == 303
    assert duties_version(agency, ids["placement"]) == version + 1
    again = me.post(sick_report, {})  # twice: a conflict, nothing stored
    assert again.status_code == 409 and "duty-done-error" in again.text
    r = me.post(f"{path}/recovery", {"recovered_on": date.today().isoformat()}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<section id="duties"')
    agency.project()
    shown = section(me.get(path).text)
    assert "gedaan" in shown and "niet meer nodig" in shown and "Ziekte melden" in shown
    # A future first sick day: named next to the field.
    r = me.post(f"{path}/sickness", {"first_sick_day": (date.today() + timedelta(days=3)).isoformat()})
    assert r.status_code == 422 and "sickness-first_sick_day-error" in r.text


def test_employers_and_auditors_see_no_sickness_and_cannot_report_it(agency: Agency,
                                                                     pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.run(c.ReportSickness(placement_id=ids["placement"], first_sick_day=date.today() - timedelta(days=3)))
    agency.project()
    path = f"/placements/{ids['placement']}"
    for role, extra in (("employer", {"employer_id": ids["employer"]}), ("auditor", {}),
                        ("employee", {"candidate_id": ids["candidate"]})):
        who = pages(agency.user(role, **extra))
        page = who.get(path)
        assert page.status_code == 200
        assert 'id="duties"' not in page.text and "ziek" not in page.text.lower(), role
        r = who.post(f"{path}/recovery", {"recovered_on": date.today().isoformat()})
        assert r.status_code == 403, role
        assert who.get("/duties").status_code == 403 and who.get("/reminders").status_code == 403
    assert duties_version(agency, ids["placement"]) == 2  # opened, reported: nothing more


def test_the_duties_list_puts_overdue_first_and_filters(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed(candidate_name="Sanne Jansen")
    agency.run(c.ReportSickness(placement_id=ids["placement"], first_sick_day=date.today() - timedelta(days=10)))
    agency.project()
    me = pages(agency.user("agency"))
    r = me.get("/duties")
    assert r.status_code == 200
    rows = re.findall(r"<tr>.*?</tr>", r.text.split("<tbody>")[1], re.S)
    statuses = [re.search(r'badge-duty-(\w+)', row).group(1) for row in rows]
    assert statuses == sorted(statuses, key=lambda s: 0 if s == "overdue" else 1) and statuses[0] == "overdue"
    assert "Sanne Jansen" in rows[0]
    only = me.get("/duties?kind=problem_analysis&status=due").text
    assert only.count("probleemanalyse door de bedrijfsarts") >= 2  # the option and the row
    assert "ziekmelding (dag 1)</td>" not in only
    bad = me.get("/duties?kind=nonsense&due_before=gisteren")
    assert bad.status_code == 422 and 'id="duties-kind-error"' in bad.text and 'id="duties-due_before-error"' in bad.text
    # Done from the list: back to the list with its filters.
    done = re.search(r'action="(/duties/[^"]+/done)"', r.text).group(1)
    r = me.post(done, {"status": ["overdue", "due"], "kind": ""})
    assert r.status_code == 303 and r.headers["location"].startswith("/duties?status=overdue&status=due")
    # Done twice: the service refuses, and the list says why, with its filters kept.
    again = me.post(done, {"status": ["overdue", "due"], "kind": ""})
    assert again.status_code == 409 and 'role="alert"' in again.text and 'value="overdue" checked' in again.text


def test_reminders_on_their_page_and_the_dashboard(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed(candidate_name="Sanne Jansen")
    agency.run(c.ReportSickness(placement_id=ids["placement"], first_sick_day=date.today() - timedelta(days=2)))
    agency.project()
    me = pages(agency.user("agency"))
    assert "Geen openstaande herinneringen voor u." in me.get("/").text
    run = agency.system.remind(None, tenants=[agency.tenant])
    assert run.recorded >= 2  # the sick report (overdue) and the company doctor (within a week)
    agency.project()
    listing = me.get("/reminders")
    assert listing.status_code == 200
    assert "ziekmelding (dag 1)" in listing.text and "Sanne Jansen" in listing.text
    assert f'href="/placements/{ids["placement"]}#duties"' in listing.text
    dashboard = me.get("/").text
    # Started by someone who is no user here: the whole agency's, so also mine.
    assert f"{run.recorded} van uw herinneringen van de afgelopen twee weken staan nog open" in dashboard
    assert 'href="/reminders"' in dashboard
    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    assert 'id="reminders-title"' not in employer.get("/").text
