"""The person's employment with the agency on their page: the agency starts
one, starts a secondment in it from there, sees the sickness duties follow
the employment on the placement page, and ends it; bad input is shown next
to the field with nothing stored; auditors and the person see no forms."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from tests.web.conftest import Agency, Browser
from tests.web.world import events_stored


def employments(html: str) -> str:
    found = re.search(r'<section id="employments".*?</section>', html, re.S)
    assert found is not None, "no employments section"
    return found.group(0)


def test_the_agency_starts_an_employment_a_secondment_in_it_and_ends_it(agency: Agency,
                                                                        pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    person = f"/candidates/{ids['candidate']}"
    assert "Geen dienstverband vastgelegd" in employments(me.get(person).text)
    start = date.today() - timedelta(days=20)
    # A fixed term without its end: named next to the field, nothing stored.
    before = events_stored(agency)
    r = me.post(f"{person}/employments", {"starts_on": start.isoformat(), "kind": "fixed_term"})
    assert r.status_code == 422 and 'id="employment-ends_on-error"' in employments(r.text)
    assert events_stored(agency) == before
    r = me.post(f"{person}/employments", {"starts_on": start.isoformat(), "kind": "permanent"})
    # Back to the person's page, once the duties read model holds the change (?min_position=).
    assert r.status_code == 303 and r.headers["location"].startswith(person)
    assert r.headers["location"].endswith("#employments")
    agency.project()
    shown = employments(me.get(person).text)
    assert "Onbepaalde tijd" in shown and "0 detacheringen" in shown
    link = re.search(r'href="(/placements/new\?candidate=[^"]+)"', shown).group(1).replace("&amp;", "&")
    form = me.get(link).text
    employment = re.search(r'name="employment_id" value="([^"]+)"', form).group(1)
    r = me.post("/placements", {"candidate_id": str(ids["candidate"]), "employer_id": str(ids["employer"]),
                                "starts_on": start.isoformat(), "hours_per_week": "24",
                                "employment_id": employment})
    assert r.status_code == 303, r.text
    secondment = r.headers["location"].split("?")[0]
    r = me.post(f"{secondment}/sickness", {"first_sick_day": (start + timedelta(days=2)).isoformat()})
    assert r.status_code == 303
    agency.project()
    duties = me.get(secondment).text
    assert "detachering binnen het dienstverband" in duties and "probleemanalyse door de bedrijfsarts" in duties
    # Ending the employment while its secondment runs: refused next to the field.
    end = f"/employments/{employment}/end"
    before = events_stored(agency)
    r = me.post(end, {"ends_on": date.today().isoformat(), "reason": "resigned"})
    assert r.status_code == 422 and f'id="end-{employment}-ends_on-error"' in employments(r.text)
    assert events_stored(agency) == before
    r = me.post(f"{secondment}/end", {"ends_on": date.today().isoformat(), "reason": "contract_ended"})
    assert r.status_code == 303
    r = me.post(end, {"ends_on": date.today().isoformat(), "reason": "resigned"})
    assert r.status_code == 303 and r.headers["location"].startswith(person)
    agency.project()
    shown = employments(me.get(person).text)
    assert "beëindigd" in shown and "1 detacheringen" in shown and f'action="{end}"' not in shown
    # Ended while sick: sick out of service is listed among the tenant's duties, linked to the person.
    listed = me.get("/duties").text
    assert "ziek-uit-dienstmelding bij UWV" in listed and f'href="{person}#employments"' in listed


def test_auditors_and_the_person_see_no_employment_forms(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    person = f"/candidates/{ids['candidate']}"
    for user in (agency.user("auditor"), agency.user("employee", candidate_id=ids["candidate"])):
        page = pages(user).get(person)
        assert page.status_code == 200 and 'id="employments"' not in page.text
