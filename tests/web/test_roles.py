"""Each role sees its own part, on every page and fragment: the agency
everything, an employer its own, an authority its awarded contracts, an
auditor everything but read-only, an employee their own placement."""
from __future__ import annotations

import re
from collections.abc import Callable
from uuid import UUID

import pytest

from domain.candidate import Candidate
from domain.placement import Placement
from domain.vacancy import Vacancy
from tests.web.world import (OWN_RECORD_ROUTES, POST_ROLES, ROLES, Agency, Browser, World, events_stored, form_for,
                             login_as, page_routes)

ROLE_PAGES = {
    # role: pages it may open (200); every other list page answers 403
    "agency": {"/", "/contracts", "/employers", "/candidates", "/vacancies", "/placements", "/retention",
               "/contracts/new", "/candidates/new", "/vacancies/new", "/placements/new", "/audit/events",
               "/duties", "/reminders", "/support",
               "/audit/compliance", "/audit/export", "/audit/access-log", "/tokens", "/rule-sets", "/imports"},
    "auditor": {"/", "/contracts", "/employers", "/candidates", "/vacancies", "/placements", "/retention",
                "/audit/events", "/audit/compliance", "/audit/export", "/audit/access-log", "/tokens", "/rule-sets"},
    "employer": {"/", "/contracts", "/vacancies", "/placements", "/retention", "/vacancies/new", "/support",
                 "/tokens", "/rule-sets"},
    "authority": {"/", "/contracts", "/tokens", "/rule-sets"},
    "employee": {"/placements", "/tokens", "/rule-sets"},
}
ALL_PAGES = set().union(*ROLE_PAGES.values())


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_each_role_opens_its_own_pages_only(role: str, agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    me = login_as(agency, pages, role, ids)
    for path in sorted(ALL_PAGES):
        r = me.get(path)
        expected = 200 if path in ROLE_PAGES[role] else (303 if path == "/" and role == "employee" else 403)
        assert r.status_code == expected, (role, path, r.status_code)
        if expected == 403:
            assert "Niet toegestaan" in r.text
    # The menu offers only what opens.
    nav = re.findall(r'<nav class="main-nav".*?</nav>', me.get("/placements").text, re.S)
    links = set(re.findall(r'href="([^"]+)"', nav[0] if nav else ""))
    assert links - {"/profile"} <= ROLE_PAGES[role] | {"/"}


def test_an_employer_sees_its_own_placements_and_gets_404_for_another_employers(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ours = agency.seed(employer_name="Bouwbedrijf De Vries B.V.", candidate_name="Sanne Jansen")
    theirs = agency.seed(employer_name="Schoonmaakbedrijf Hollandia", candidate_name="Youssef El Amrani")
    agency.project()
    me = login_as(agency, pages, "employer", ours)
    assert me.get(f"/placements/{ours['placement']}").status_code == 200
    for path in (f"/placements/{theirs['placement']}", f"/vacancies/{theirs['vacancy']}",
                 f"/contracts/{theirs['contract']}"):
        assert me.get(path).status_code == 404, path
    listing = me.get("/placements").text
    assert "Sanne Jansen" in listing and "Youssef El Amrani" not in listing
    assert "Hollandia" not in me.get("/contracts").text
    assert "Hollandia" not in me.get("/vacancies").text
    # Feedback on another employer's placement: 404, nothing stored.
    r = me.post(f"/placements/{theirs['placement']}/feedback", {"score": "1"})
    assert r.status_code == 404
    assert agency.system.ledger.get(agency.tenant, agency.actor, Placement, theirs["placement"]).feedback_count == 0
    # Its own: feedback as the employer.
    r = me.post(f"/placements/{ours['placement']}/feedback", {"score": "4", "comment": "Prima collega."})
    assert r.status_code == 303
    placement = agency.system.ledger.get(agency.tenant, agency.actor, Placement, ours["placement"])
    assert placement.last_feedback["from_role"] == "employer"


def test_an_employer_opens_vacancies_for_itself_only(agency: Agency, pages: Callable[..., Browser]) -> None:
    ours = agency.seed(employer_name="Bouwbedrijf De Vries B.V.")
    theirs = agency.seed(employer_name="Schoonmaakbedrijf Hollandia")
    agency.project()
    me = login_as(agency, pages, "employer", ours)
    r = me.post("/vacancies", {"employer_id": str(theirs["employer"]), "title": "Uitvoerder",
                               "required_competences": "VCA, AutoCAD", "hours_per_week": "32"})
    assert r.status_code == 303
    vacancy_id = UUID(r.headers["location"].split("/")[2].split("?")[0])
    vacancy = agency.system.ledger.get(agency.tenant, agency.actor, Vacancy, vacancy_id)
    assert vacancy.employer_id == ours["employer"]


def test_an_auditor_reads_everything_and_changes_nothing(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    me = login_as(agency, pages, "auditor", ids)
    for path in (f"/placements/{ids['placement']}", f"/contracts/{ids['contract']}",
                 f"/vacancies/{ids['vacancy']}", f"/candidates/{ids['candidate']}", "/employers"):
        html = me.get(path).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html)
        assert forms == ["/logout"], (path, forms)
    # Support needs are special-category data: not for auditors.
    assert "Schriftelijke instructies" not in me.get(f"/candidates/{ids['candidate']}").text
    for path, form in [(f"/placements/{ids['placement']}/feedback", {"score": "5", "from_role": "coach"}),
                       (f"/placements/{ids['placement']}/end", {"ends_on": "2026-01-01", "reason": "other"}),
                       (f"/placements/{ids['placement']}/hours",
                        {"hours_per_week": "12", "effective_on": "2026-01-01"}),
                       ("/employers", {"name": "Bouwbedrijf Auditor"}),
                       (f"/vacancies/{ids['vacancy']}/matches", {"candidate_id": str(ids["candidate"])}),
                       (f"/candidates/{ids['candidate']}/support-needs", {"support_needs": "x"})]:
        r = me.post(path, form)
        assert r.status_code == 403, path
    placement = agency.system.ledger.get(agency.tenant, agency.actor, Placement, ids["placement"])
    assert placement.feedback_count == 0 and placement.is_active


def test_an_authority_sees_and_decides_on_its_awarded_contracts_only(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    other = login_as(agency, pages, "authority", ids)
    me = pages(agency.user("authority", organisation="Gemeente Harlingen"))
    assert me.get(f"/contracts/{ids['contract']}").status_code == 404
    assert me.get(f"/placements/{ids['placement']}").status_code == 403
    html = other.get(f"/contracts/{ids['contract']}").text
    actions = re.findall(r'action="(/contracts/[^"]+/accept)"', html)
    assert len(actions) == 1
    r = me.post(actions[0], {})
    assert r.status_code == 404
    r = other.post(actions[0], {"reason": "Loonstroken gezien"})
    assert r.status_code == 303
    agency.project()
    assert "geaccepteerd" in other.get(r.headers["location"]).text


def test_an_employee_sees_their_own_placement_and_states_their_own_needs(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed(candidate_name="Lotte de Jong")
    someone_else = agency.seed(candidate_name="Pieter Visser")
    agency.project()
    me = login_as(agency, pages, "employee", ids)
    listing = me.get("/placements").text
    assert "Lotte de Jong" in listing and "Pieter Visser" not in listing
    assert me.get(f"/placements/{someone_else['placement']}").status_code == 404
    assert me.get(f"/candidates/{someone_else['candidate']}").status_code == 404
    profile = me.get("/profile")
    assert profile.status_code == 303 and profile.headers["location"] == f"/candidates/{ids['candidate']}"
    assert "Schriftelijke instructies" in me.get(f"/candidates/{ids['candidate']}").text
    r = me.post(f"/candidates/{ids['candidate']}/support-needs",
                {"support_needs": "Een vaste werkplek bij het raam."})
    assert r.status_code == 303
    assert agency.system.ledger.get(agency.tenant, agency.actor, Candidate,
                                    ids["candidate"]).support_needs == "Een vaste werkplek bij het raam."
    r = me.post(f"/placements/{ids['placement']}/feedback", {"score": "5", "comment": "Fijn team."})
    assert r.status_code == 303
    assert me.post(f"/placements/{ids['placement']}/end", {"ends_on": "2026-01-01", "reason": "resigned"}
                   ).status_code == 403


# -- every form's POST route: who may post it, and the others refused with nothing stored --------

REFUSALS = [(route, role) for route, (allowed, _) in sorted(POST_ROLES.items())
            for role in ROLES if role not in allowed]


def test_every_form_route_has_its_roles_declared() -> None:
    """A new POST page route is added to POST_ROLES (and so to the refusal tests below)."""
    assert set(page_routes("POST")) == set(POST_ROLES), "declare who may post the new route in POST_ROLES"


@pytest.mark.parametrize(("route", "role"), REFUSALS)
def test_a_role_that_may_not_post_a_form_is_refused_and_nothing_is_stored(
        route: str, role: str, world: World, signed_in: Callable[[str], Browser]) -> None:
    before = events_stored(world.agency)
    r = signed_in(role).post(world.fill(route), form_for(world, route))
    assert r.status_code in (403, 404), (route, role, r.status_code)
    assert ("Niet toegestaan" if r.status_code == 403 else "Niet gevonden") in r.text
    assert events_stored(world.agency) == before, (route, role)


@pytest.mark.parametrize("role", ROLES)
def test_the_roles_that_may_post_a_form_get_past_the_role_checks(
        role: str, world: World, signed_in: Callable[[str], Browser]) -> None:
    """An empty form from an allowed role reaches the handler's own checks (a 422
    or a change), so POST_ROLES is not stricter than the pages are."""
    me = signed_in(role)
    for route, (allowed, _) in sorted(POST_ROLES.items()):
        if role in allowed and route != "/placements/{placement_id:str}/end" and route not in OWN_RECORD_ROUTES:
            r = me.post(world.fill(route), {})
            assert r.status_code not in (403, 404), (route, role, r.status_code)
