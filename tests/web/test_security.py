"""The pages' defences: CSRF on every form and htmx request, sessions that
renew at login and end at logout, a login limit, escaping, security headers,
and 404 for what belongs to another tenant."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest

from litestar.testing import TestClient

from infra.bootstrap import System
from domain.placement import Placement
from tests.web.conftest import PASSWORD, Agency, Browser
from tests.web.world import (AUTHORITY, POST_ROLES, World, build_world, events_stored, form_for, new_tenant,
                             page_routes, params_of)
from web.app import create_app
from web.pages.sessions import LOGIN_ATTEMPTS, SESSION_COOKIE


def session_cookie(browser: Browser) -> str | None:
    return browser.client.cookies.get(SESSION_COOKIE)


def test_a_form_posted_without_its_csrf_token_is_refused(agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages(agency.user("agency"))
    refused = me.post("/employers", {"name": "Bouwbedrijf Zonder Token"}, csrf=False)
    assert refused.status_code == 403
    assert "Het formulier is verlopen" in refused.text
    agency.project()
    assert "Bouwbedrijf Zonder Token" not in me.get("/employers").text


def test_an_htmx_request_carries_the_token_in_its_header(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    me = pages(agency.user("agency"))
    path = f"/placements/{ids['placement']}/feedback"
    form = {"score": "4", "from_role": "coach", "comment": "Goed gesprek gehad."}
    assert me.client.post(path, data=form, headers={"HX-Request": "true"}).status_code == 403
    ok = me.client.post(path, data=form, headers={"HX-Request": "true", "X-CSRFToken": me.csrf()})
    assert ok.status_code == 200
    assert "<html" not in ok.text and 'id="feedback"' in ok.text  # the fragment only


def test_a_token_from_another_browser_does_not_count(agency: Agency, pages: Callable[..., Browser]) -> None:
    me, other = pages(agency.user("agency")), pages()
    foreign = other.csrf()
    r = me.client.post("/employers", data={"name": "Bouwbedrijf Vreemd Token", "_csrf_token": foreign})
    assert r.status_code == 403


def test_login_starts_a_new_session_and_logout_ends_it(agency: Agency, pages: Callable[..., Browser]) -> None:
    user = agency.user("agency")
    me = pages()
    # A session id planted before login (session fixation) is never adopted.
    me.client.cookies.set(SESSION_COOKIE, "f" * 64, domain="testserver.local")
    assert me.login(user.email).status_code == 303
    first = session_cookie(me)
    assert first and first != "f" * 64
    assert me.get("/").status_code == 200

    # Logging in again (say, after a laptop was shared) renews the id; the old one is dead.
    assert me.login(user.email).status_code == 303
    second = session_cookie(me)
    assert second and second != first
    stale = pages()
    stale.client.cookies.set(SESSION_COOKIE, first)
    assert stale.get("/").status_code == 303

    assert me.post("/logout").status_code == 303
    again = pages()
    again.client.cookies.set(SESSION_COOKIE, second)
    r = again.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_the_session_cookie_is_httponly_and_lax_and_secure_in_production(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    user = agency.user("agency")
    r = pages().login(user.email)
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie

    production = dataclasses.replace(system, settings=dataclasses.replace(system.settings, environment="production"))
    with TestClient(create_app(production), base_url="https://testserver.local") as client:
        client.follow_redirects = False
        token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        r = client.post("/login", data={"email": user.email, "password": PASSWORD, "_csrf_token": token})
        cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE + "="))
        assert "Secure" in cookie and "HttpOnly" in cookie
        assert "max-age=31536000" in r.headers["strict-transport-security"]


def test_nothing_is_stored_for_visitors_who_are_not_logged_in(pages: Callable[..., Browser]) -> None:
    r = pages().get("/login")
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")


def test_a_wrong_password_is_refused_and_too_many_attempts_are_stopped(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    user = agency.user("agency")
    me = pages()
    r = me.login(user.email, "wrong password")
    assert r.status_code == 401 and "klopt niet" in r.text
    for _ in range(LOGIN_ATTEMPTS - 1):
        me.login(user.email, "wrong password")
    # Over the limit even the right password waits: guessing gains nothing.
    blocked = me.login(user.email, PASSWORD)
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "300"
    # Other people are not locked out by it.
    assert pages().login(agency.user("agency").email).status_code == 303


def test_after_login_only_a_path_on_this_site_is_followed(agency: Agency, pages: Callable[..., Browser]) -> None:
    user = agency.user("agency")
    for target, expected in [("/vacancies", "/vacancies"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")]:
        me = pages()
        r = me.client.post("/login", data={"email": user.email, "password": PASSWORD, "_csrf_token": me.csrf(),
                                           "next": target})
        assert r.headers["location"] == expected, target


def test_pages_ask_for_a_login_first(pages: Callable[..., Browser]) -> None:
    r = pages().get("/vacancies?x=1")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fvacancies%3Fx%3D1"
    htmx = pages().get("/candidates?q=a", headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"].startswith("/login")


def test_text_typed_by_users_is_shown_escaped(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed(employer_name="<script>alert('werkgever')</script>",
                      candidate_name='<img src=x onerror="alert(1)">')
    me = pages(agency.user("agency"))
    r = me.post(f"/placements/{ids['placement']}/feedback",
                {"score": "3", "from_role": "coach", "comment": "<script>alert('feedback')</script>"},
                follow_redirects=True)
    assert r.status_code == 200
    agency.project()
    for path in (f"/placements/{ids['placement']}", "/employers", "/candidates", "/placements",
                 f"/candidates/{ids['candidate']}", f"/contracts/{ids['contract']}"):
        html = me.get(path).text
        assert "<script>alert" not in html and '<img src=x onerror' not in html, path
    html = me.get(f"/placements/{ids['placement']}").text
    assert "&lt;script&gt;alert(&#39;feedback&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_pages_send_security_headers_and_no_inline_script(agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages(agency.user("agency"))
    r = me.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script[^>]*>", r.text)
    assert scripts and all('src="/static/' in s for s in scripts)
    assert " on" not in " ".join(re.findall(r"<[^>]+ on[a-z]+=", r.text))  # no inline handlers
    static = me.get("/static/htmx.min.js")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"


def test_every_answer_carries_the_policy_and_only_static_files_may_be_kept(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    from web.pages.security import CSP, REFERENCE_CSP

    ids = agency.seed()
    me, employer, visitor = pages(agency.user("agency")), pages(agency.user("employer", employer_id=ids["employer"])), pages()
    token = system.registry.issue_token(agency.user("agency"))
    api = {"Authorization": f"Bearer {token}"}
    answers = {
        "page": (me.get(f"/placements/{ids['placement']}"), 200),
        "page of an unknown record": (me.get(f"/placements/{uuid4()}"), 404),
        "page the role may not open": (employer.get("/candidates"), 403),
        "login": (visitor.get("/login"), 200),
        "a path that is no route": (visitor.get("/no-such-page"), 404),
        "a method the route does not take": (visitor.client.delete("/login"), 405),
        "API record": (visitor.get(f"/api/v1/placements/{ids['placement']}", headers=api), 200),
        "API unknown record": (visitor.get(f"/api/v1/placements/{uuid4()}", headers=api), 404),
        "API without a token": (visitor.get("/api/v1/compliance"), 401),
        "health": (visitor.get("/health"), 200),
        # The reference's own policy: the pages' plus two style hashes and a
        # worker for Redoc (tests/web/test_api_reference.py).
        "API reference": (visitor.get("/schema"), 200),
        "API reference, unknown page": (visitor.get("/schema/swagger"), 404),
    }
    for name, (r, status) in answers.items():
        assert r.status_code == status, (name, r.status_code)
        policy = REFERENCE_CSP if name.startswith("API reference") else CSP
        assert r.headers.get("content-security-policy") == policy, name
        assert r.headers.get("x-content-type-options") == "nosniff", name
        assert r.headers.get("cache-control") == "no-store", name
    static = visitor.get("/static/htmx.min.js")
    assert static.headers["content-security-policy"] == CSP
    assert set(static.headers["cache-control"].split(", ")) == {"public", "max-age=3600"}


def test_the_api_keeps_its_tokens_and_needs_no_csrf(system: System, agency: Agency) -> None:
    token = system.registry.issue_token(agency.user("agency"))
    with TestClient(create_app(system)) as client:
        r = client.post("/api/v1/employers", json={"name": "Bouwbedrijf API"},
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201
        assert "set-cookie" not in r.headers


def test_another_tenants_ids_answer_404(new_agency: Callable[..., Agency], pages: Callable[..., Browser]) -> None:
    ours, theirs = new_agency("Ons Bureau B.V."), new_agency("Hun Bureau B.V.")
    their_ids = theirs.seed()
    me = pages(ours.user("agency"))
    for path in (f"/placements/{their_ids['placement']}", f"/candidates/{their_ids['candidate']}",
                 f"/vacancies/{their_ids['vacancy']}", f"/contracts/{their_ids['contract']}",
                 f"/placements/{uuid4()}", "/placements/not-an-id"):
        r = me.get(path)
        assert r.status_code == 404, path
        assert "Niet gevonden" in r.text
    r = me.post(f"/placements/{their_ids['placement']}/feedback", {"score": "5", "from_role": "coach"})
    assert r.status_code == 404
    placement = theirs.system.ledger.get(theirs.tenant, theirs.actor, Placement, their_ids["placement"])
    assert placement.feedback_count == 0


def test_a_suspended_tenant_can_no_longer_sign_in_to_change_things(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    agency.seed()
    me = pages(agency.user("agency"))
    system.registry.set_status(agency.tenant.slug, "suspended")
    try:
        me.forget_cached_viewers()
        r = me.post("/employers", {"name": "Bouwbedrijf Geschorst"})
        assert r.status_code == 403 and "opgeschort" in r.text
    finally:
        system.registry.set_status(agency.tenant.slug, "active")


# -- every form route, every detail route: swept from the app's route table -----------------------

POST_ROUTES = page_routes("POST")
# Pages of the platform's public data, the same for every tenant and role: no
# one's record (tested below: the same answer for everyone, 404 for a made-up one).
PUBLIC_ROUTES = {"/rule-sets/{name:str}/{version:str}": "a rule set: the public counting rules of an authority"}
ID_ROUTES = [(m, r) for m in ("GET", "POST") for r in page_routes(m) if params_of(r) and r not in PUBLIC_ROUTES]


@pytest.fixture(scope="module")
def their_world(system: System) -> World:
    """Another tenant with the same kind of records."""
    return build_world(new_tenant(system))


@pytest.fixture(scope="module")
def neighbour(world: World) -> World:
    """Another employer (with its contract, vacancies, placement) in the same tenant."""
    return build_world(world.agency)


def _post(me: Browser, world: World, route: str, *, csrf: bool = True) -> Any:
    return me.post(world.fill(route), form_for(world, route), csrf=csrf)


@pytest.mark.parametrize("route", POST_ROUTES)
def test_every_form_route_refuses_a_post_without_its_csrf_token(
        route: str, world: World, signed_in: Callable[..., Browser]) -> None:
    roles = POST_ROLES[route][0]
    # A form no tenant role may post (an organisation's user's): the token is
    # checked before the role, so the agency's user stands in.
    role = "agency" if "agency" in roles or not roles else sorted(roles)[0]
    me = signed_in(role)
    before = events_stored(world.agency)
    refused = _post(me, world, route, csrf=False)
    assert refused.status_code == 403 and "Het formulier is verlopen" in refused.text, route
    assert events_stored(world.agency) == before, route
    # With its token the same post reaches the page (whatever it then answers).
    assert "Het formulier is verlopen" not in _post(me, world, route).text, route


def _answer(me: Browser, method: str, path: str, **kwargs: Any) -> int:
    return (me.get(path, **kwargs) if method == "GET" else me.post(path, {}, **kwargs)).status_code


@pytest.mark.parametrize(("method", "route"), ID_ROUTES)
def test_another_tenants_record_answers_404_on_every_route(
        method: str, route: str, world: World, their_world: World, signed_in: Callable[..., Browser]) -> None:
    """As a page and as an htmx fragment alike; a form as a role that may post it
    (the agency, or the person for their own check-in)."""
    allowed = POST_ROLES[route][0] if method == "POST" and route in POST_ROLES else {"agency"}
    me = signed_in("agency" if "agency" in allowed or not allowed else sorted(allowed)[0])
    before = events_stored(their_world.agency)
    for path in (their_world.fill(route), world.fill(route, **{p: str(uuid4()) for p in params_of(route)})):
        for headers in ({}, {"HX-Request": "true"}):
            status = _answer(me, method, path, headers=headers)
            assert status == 404, (method, path, headers, status)
    assert events_stored(their_world.agency) == before


@pytest.mark.parametrize("role", ["employer", "authority", "employee"])
@pytest.mark.parametrize(("method", "route"), ID_ROUTES)
def test_another_employers_or_persons_record_answers_404_on_every_route(
        method: str, route: str, role: str, world: World, neighbour: World,
        signed_in: Callable[..., Browser]) -> None:
    """What a role may open for its own records answers 404 for another's in the
    same tenant (another employer's, another person's, another authority's
    contract); what the role may never open answers 403 for both alike."""
    me = signed_in(role)
    own = _answer(me, method, world.fill(route))
    if role == "authority":  # another municipality's official looking at ours
        other = _answer(signed_in(role, organisation="Gemeente Harlingen"), method, world.fill(route))
    else:
        other = _answer(me, method, neighbour.fill(route))
    assert other == (403 if own == 403 else 404), (method, route, role, own, other)


@pytest.mark.parametrize("route", sorted(PUBLIC_ROUTES))
def test_a_public_page_answers_the_same_to_every_tenant_and_404_for_a_made_up_one(
        route: str, world: World, their_world: World, signed_in: Callable[..., Browser]) -> None:
    me = signed_in("agency")
    ours, theirs = me.get(world.fill(route)), me.get(their_world.fill(route))
    assert ours.status_code == theirs.status_code == 200, (route, ours.status_code, theirs.status_code)
    made_up = me.get(world.fill(route, **{p: f"x{uuid4().hex[:8]}" for p in params_of(route)}))
    assert made_up.status_code == 404, (route, made_up.status_code)
    for role in ("employer", "authority", "employee"):
        assert signed_in(role).get(world.fill(route)).status_code == 200, (route, role)


SCRIPT = """<script>alert('{0}')</script>"><img src=x onerror=alert('{0}')>"""
SHORT = """"><img src=x onerror=alert('{0}')>"""  # for fields of at most 50 characters


def test_script_payloads_in_the_new_forms_text_fields_are_shown_escaped(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    """Every text field of the issue-4 and support forms, typed with a script and an
    attribute-breaking payload through the page forms, is shown as text on every
    page that shows it, for every role."""
    world = build_world(agency)
    e, k, p = world.ids["employer"], world.ids["contract"], world.ids["placement"]
    me, authority = pages(world.user("agency")), pages(world.user("authority"))
    boss = pages(world.user("employer"))
    today = date.today().isoformat()

    def x(name: str) -> str:
        return (SHORT if name == "phone" else SCRIPT).format(name)

    vacancy = me.post("/vacancies", {"employer_id": str(e), "title": x("vacancy_title"),
                                     "required_competences": x("required"), "hours_per_week": "20",
                                     "region": x("new_region")})
    assert vacancy.status_code == 303, vacancy.text
    closing = vacancy.headers["location"].split("?")[0].split("#")[0]
    posts = [
        (f"/vacancies/{world.ids['vacancy2']}/edit", {
            "title": x("edit_title"), "required_competences": x("edit_required"),
            "optional_competences": x("edit_optional"), "hours_per_week": "24", "region": x("edit_region")}),
        (f"{closing}/close", {"close_reason": x("close_reason"), "confirm": "yes"}),
        (f"/contracts/{k}/purchases", {"supplier": x("supplier"), "invoice_amount_eur_excl_vat": "100",
                                       "register": "registered_social_enterprise", "invoice_date": today,
                                       "description": x("purchase")}),
        (f"/contracts/{k}/other-activities", {"description": x("activity"), "activity_date": today, "hours": "2"}),
        (f"/contracts/{k}/owners", {"side": "agency", "name": x("owner"), "email": "owner@example.org"}),
        (f"/employers/{e}/contact-persons", {"name": x("contact"), "email": "contact@example.org",
                                             "phone": x("phone"), "role": x("contact_role")}),
        (f"/employers/{e}/support-activities", {"kind": "workshop", "topic": "inclusive_leadership",
                                                "held_on": today, "participants": "3", "given_by": "agency",
                                                "title": x("workshop")}),
        (f"/placements/{p}/support/items", {"label": x("item"), "responsible": "agency"}),
        (f"/placements/{p}/support/adjustments", {"kind": "tool", "description": x("adjustment")}),
        (f"/placements/{p}/support/check-ins", {"held_on": today, "with_whom": "employee", "note": x("check_in")}),
        (f"/placements/{p}/support/coaching", {"held_on": today, "hours": "1", "with_whom": "employee",
                                               "note": x("coaching")}),
    ]
    for path, form in posts:
        r = me.post(path, form)
        assert r.status_code == 303, (path, r.status_code, r.text[:2000])
    r = authority.post(f"/contracts/{k}/contributions/{world.ids['purchase']}/reject", {"reason": x("reject")})
    assert r.status_code == 303, r.text[:2000]
    amend = {"title": x("contract_title"), "contracting_authority": AUTHORITY, "contract_value_eur": "1000000",
             "obligation_percent": "5", "starts_on": (date.today() - timedelta(days=365)).isoformat(),
             "ends_on": (date.today() + timedelta(days=700)).isoformat()}
    assert me.post(f"/contracts/{k}/amend", amend).status_code == 303
    agency.project()

    shown: dict[str, set[str]] = {}
    for role, browser in (("agency", me), ("employer", boss), ("authority", authority),
                          ("auditor", pages(world.user("auditor"))), ("employee", pages(world.user("employee")))):
        for path in ["/", "/vacancies", "/employers", "/contracts", "/duties", "/reminders", "/audit/events",
                     "/placements", closing, f"/vacancies/{world.ids['vacancy2']}",
                     *(world.fill(r) for r in page_routes("GET") if params_of(r) and "job_id" not in params_of(r)
                       and not r.endswith(".csv"))]:
            r = browser.get(path)
            if r.status_code != 200:
                continue
            html = r.text
            assert "<script>alert" not in html and "<img src=x" not in html, (role, path)
            for name in re.findall(r"&#34;&gt;&lt;img src=x onerror=alert\(&#39;(\w+)&#39;\)&gt;", html):
                shown.setdefault(name, set()).add(role)
    # Stored but shown on no page (so not listed): the purchase's supplier (the
    # contract page shows its description) and the vacancy's close reason.
    expected = {"vacancy_title", "required", "new_region", "edit_title", "edit_required", "edit_optional",
                "edit_region", "purchase", "activity", "owner", "contact", "phone",
                "contact_role", "workshop", "item", "adjustment", "check_in", "coaching", "reject",
                "contract_title"}
    assert expected - set(shown) == set(), f"not shown anywhere: {expected - set(shown)}"
