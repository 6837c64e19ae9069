"""The pages' defences: CSRF on every form and htmx request, sessions that
renew at login and end at logout, a login limit, escaping, security headers,
and 404 for what belongs to another tenant."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from uuid import uuid4

from litestar.testing import TestClient

from infra.bootstrap import System
from domain.placement import Placement
from tests.web.conftest import PASSWORD, Agency, Browser
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
        me.client.app.state.page_viewers._entries.clear()  # the few seconds of cache, skipped
        r = me.post("/employers", {"name": "Bouwbedrijf Geschorst"})
        assert r.status_code == 403 and "opgeschort" in r.text
    finally:
        system.registry.set_status(agency.tenant.slug, "active")
