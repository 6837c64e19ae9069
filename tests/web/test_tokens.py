"""API tokens: each expires, is listed by an id that is not the secret, and is
revoked by its owner on the tokens page or by an operator with `sroi token`;
a revoked token is refused at once, by every web process."""
from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from infra.bootstrap import System
from infra.registry import TOKEN_PREFIX, User
from tests.web.conftest import PROJECT_ROOT, Server, _subprocess_env, login, web_process
from tests.web.world import PASSWORD, Agency, Browser
from web.app import create_app

SECRET_RE = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{40,}")
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
PROBE = "/api/v1/compliance"  # any request that needs a token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(client: Any, token: str) -> httpx.Response:
    return client.get(PROBE, headers=bearer(token))


def sroi(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """The `sroi` command line, as an operator runs it, on the test database."""
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=PROJECT_ROOT,
                          env=_subprocess_env(database_url), capture_output=True, text=True, timeout=120)


# -- the page ------------------------------------------------------------------------------------

def test_a_user_creates_a_token_on_the_page_and_sees_the_secret_only_once(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    user = agency.user("employee", candidate_id=ids["candidate"])
    me = pages(user)
    assert '<a class="account-link" href="/tokens">API-tokens</a>' in me.get("/placements").text  # in the header

    created = me.post("/tokens", {"label": "Mijn agenda-koppeling", "days": "30"})
    assert created.status_code == 201
    assert "Kopieer het nu" in created.text and created.headers["cache-control"] == "no-store"
    secret = SECRET_RE.search(created.text).group(0)
    [token] = system.registry.tokens_of(user.id)
    assert token.label == "Mijn agenda-koppeling" and not token.expired
    assert timedelta(days=29, hours=23) < token.expires_at - datetime.now(timezone.utc) <= timedelta(days=30)

    listing = me.get("/tokens").text
    assert str(token.id) in listing and "Mijn agenda-koppeling" in listing
    assert secret not in listing and SECRET_RE.search(listing) is None  # never shown again
    # The token works, and its use is noted (once a minute at most).
    assert me.client.get(f"/api/v1/placements/{ids['placement']}", headers=bearer(secret)).status_code == 200
    assert system.registry.tokens_of(user.id)[0].last_used_at is not None


def test_a_token_form_with_a_bad_lifetime_or_label_names_the_field(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    user = agency.user("agency")
    me = pages(user)
    for form, field in (({"days": "400"}, "days"), ({"days": "dertig"}, "days"), ({}, "days"),
                        ({"days": "30", "label": "x" * 101}, "label")):
        r = me.post("/tokens", form)
        assert r.status_code == 422, form
        assert f'id="token-{field}-error"' in r.text and SECRET_RE.search(r.text) is None, form
    assert system.registry.tokens_of(user.id) == []


def test_the_list_shows_only_ones_own_tokens_and_others_answer_404(
        system: System, new_agency: Callable[..., Agency], pages: Callable[..., Browser]) -> None:
    ours, theirs = new_agency("Ons Bureau B.V."), new_agency("Hun Bureau B.V.")
    me, colleague, stranger = ours.user("agency"), ours.user("agency"), theirs.user("agency")
    mine, my_secret = system.registry.create_token(me.id, label="Mijn script")
    colleagues, colleague_secret = system.registry.create_token(colleague.id, label="Script van een collega")
    strangers, stranger_secret = system.registry.create_token(stranger.id, label="Script van een ander bureau")

    browser = pages(me)
    listing = browser.get("/tokens").text
    assert str(mine.id) in listing
    assert str(colleagues.id) not in listing and "collega" not in listing
    assert str(strangers.id) not in listing and "ander bureau" not in listing

    # Another user's token, in this tenant or another, is not found, and keeps working.
    for other, secret in ((colleagues, colleague_secret), (strangers, stranger_secret)):
        r = browser.post(f"/tokens/{other.id}/revoke")
        assert r.status_code == 404 and "Niet gevonden" in r.text
        assert api(browser.client, secret).status_code == 200
    assert browser.post("/tokens/not-a-token/revoke").status_code == 404

    # One's own: revoked, gone from the list, refused by the API.
    assert api(browser.client, my_secret).status_code == 200
    r = browser.post(f"/tokens/{mine.id}/revoke")
    assert r.status_code == 303 and r.headers["location"] == "/tokens?revoked=1"
    assert "ingetrokken" in browser.get("/tokens?revoked=1").text
    assert str(mine.id) not in browser.get("/tokens").text
    refused = api(browser.client, my_secret)
    assert refused.status_code == 401 and refused.json()["detail"] == "invalid or revoked token"
    assert [t.id for t in system.registry.tokens_of(colleague.id)] == [colleagues.id]


def test_a_suspended_organisation_creates_no_tokens_but_may_revoke_them(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    user = agency.user("agency")
    token, _ = system.registry.create_token(user.id)
    me = pages(user)
    system.registry.set_status(agency.tenant.slug, "suspended")
    try:
        me.forget_cached_viewers()
        assert "opgeschort" in me.get("/tokens").text
        refused = me.post("/tokens", {"days": "30"})
        assert refused.status_code == 403 and "opgeschort" in refused.text
        assert me.post(f"/tokens/{token.id}/revoke").status_code == 303
        assert system.registry.tokens_of(user.id) == []
    finally:
        system.registry.set_status(agency.tenant.slug, "active")


def test_the_tokens_page_passes_axe_in_a_browser_with_the_keyboard(
        system: System, agency: Agency, chromium: Any, server: Server,
        axe_violations: Callable[[Any], list]) -> None:
    """Created, listed, refused and revoked, with Tab and Enter alone; checked
    with axe-core at each step (as tests/web/test_page_sweep.py checks pages)."""
    user = agency.user("authority", organisation="Gemeente Utrecht")
    context = chromium.new_context(base_url=server.url, locale="nl-NL", bypass_csp=True)
    page = context.new_page()
    problems: dict[str, Any] = {}

    def axe(step: str) -> None:
        violations = axe_violations(page)
        if violations:
            problems[step] = violations

    def tab_to(selector: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    try:
        login(page, user.email)
        page.get_by_role("link", name="API-tokens").click()
        page.wait_for_url("**/tokens")
        axe("no tokens yet")
        tab_to("#token-label")
        page.keyboard.type("x" * 101)  # maxlength stops the 101st character
        assert page.input_value("#token-label") == "x" * 100
        page.fill("#token-label", "Rapportage-export")
        tab_to("#token-days")
        tab_to("form[action='/tokens'] button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.get_by_text("Kopieer het nu").is_visible()
        secret = page.input_value("#new-token")
        assert SECRET_RE.fullmatch(secret)
        axe("the new token, shown once")

        page.goto("/tokens")
        assert secret not in page.content()
        [token] = system.registry.tokens_of(user.id)
        tab_to(f"form[action='/tokens/{token.id}/revoke'] button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.get_by_role("status").inner_text().startswith("Het token is ingetrokken")
        axe("revoked")
    finally:
        context.close()
    assert system.registry.tokens_of(user.id) == []
    assert problems == {}, problems


# -- the API -------------------------------------------------------------------------------------

def test_an_expired_token_is_refused_with_the_day_it_expired(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    user = agency.user("agency")
    issued = datetime.now(timezone.utc) - timedelta(days=31)
    token, secret = system.registry.create_token(user.id, days=30, now=issued)
    assert token.expired
    with TestClient(create_app(system)) as client:
        r = api(client, secret)
    assert r.status_code == 401
    expected_day = (issued + timedelta(days=30)).strftime("%Y-%m-%d")
    assert r.json()["detail"].startswith(f"token expired on {expected_day}")
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert system.registry.tokens_of(user.id)[0].last_used_at is None  # a refused token was not "used"
    # Its owner sees it as expired, and may remove it.
    assert "verlopen" in pages(user).get("/tokens").text


def test_a_token_lasts_the_default_days_and_never_longer_than_a_year(system: System, agency: Agency) -> None:
    from infra.registry import RegistryError

    user = agency.user("agency")
    default, _ = system.registry.create_token(user.id)
    lasts = default.expires_at - default.created_at
    assert lasts == timedelta(days=system.registry.token_days) == timedelta(days=90)
    for days in (0, 367, -1):
        try:
            system.registry.create_token(user.id, days=days)
        except RegistryError as e:
            assert e.field == "days"
        else:
            raise AssertionError(f"a token of {days} days was issued")


def test_the_tokens_of_an_erased_person_stop_working_at_once(system: System, agency: Agency) -> None:
    """Erasure closes the person's accounts (infra/registry.py `close_accounts_of`)."""
    from service import commands as c

    ids = agency.seed()
    user = agency.user("employee", candidate_id=ids["candidate"])
    secrets = [system.registry.issue_token(user) for _ in range(2)]
    own = f"/api/v1/placements/{ids['placement']}"
    with TestClient(create_app(system)) as client:
        assert [client.get(own, headers=bearer(s)).status_code for s in secrets] == [200, 200]
        agency.run(c.EraseCandidate(candidate_id=ids["candidate"]))
        assert [client.get(own, headers=bearer(s)).status_code for s in secrets] == [401, 401]
    assert system.registry.tokens_of(user.id) == []


OLD_TOKENS_DDL = """
CREATE SCHEMA platform;
CREATE TABLE platform.api_tokens (token_hash bytea PRIMARY KEY, user_id uuid NOT NULL,
                                  created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO platform.api_tokens (token_hash, user_id) VALUES ('\\x01', gen_random_uuid()),
                                                             ('\\x02', gen_random_uuid());
"""


def test_tokens_from_before_the_upgrade_get_an_id_and_the_default_lifetime(database_url: str) -> None:
    """`sroi migrate` on a registry whose tokens had neither: nobody is locked out at once."""
    import uuid

    import psycopg

    from infra.database import drop_database, ensure_database_exists, with_database
    from infra.eventstore import EventStoreDatabase
    from infra.registry import TenantRegistry

    url = with_database(database_url, f"sroi_upgrade_{uuid.uuid4().hex[:8]}")
    ensure_database_exists(url)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OLD_TOKENS_DDL)
        db = EventStoreDatabase(url, 2)
        try:
            TenantRegistry(db, stores=None, token_days=30).migrate()  # type: ignore[arg-type]
            TenantRegistry(db, stores=None, token_days=30).migrate()  # type: ignore[arg-type]  (idempotent)
        finally:
            db.close()
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT id, expires_at - now() AS left FROM platform.api_tokens").fetchall()
    finally:
        drop_database(url)
    assert len(rows) == 2 and len({r[0] for r in rows}) == 2 and None not in {r[0] for r in rows}
    assert all(timedelta(days=29, hours=23) < r[1] <= timedelta(days=30) for r in rows)


# -- the command line, and every web process -----------------------------------------------------

def _login(client: httpx.Client, user: User) -> None:
    token = CSRF_RE.search(client.get("/login").text).group(1)
    r = client.post("/login", data={"email": user.email, "password": PASSWORD, "_csrf_token": token})
    assert r.status_code == 303, r.text


def _revoke_on_the_page(client: httpx.Client, token_id: Any) -> httpx.Response:
    page = client.get("/tokens").text
    form = re.search(r'action="/tokens/' + str(token_id) + r'/revoke">\s*<input type="hidden" '
                     r'name="_csrf_token" value="([^"]+)"', page)
    assert form is not None, "the token has no revoke button"
    return client.post(f"/tokens/{token_id}/revoke", data={"_csrf_token": form.group(1)})


def test_a_token_revoked_by_cli_or_page_is_refused_at_once_by_another_web_process(
        database_url: str, system: System, agency: Agency, tmp_path: Path) -> None:
    user = agency.user("agency")
    created = sroi(database_url, "token", "create", "--email", user.email, "--days", "7", "--label", "nachtjob")
    assert created.returncode == 0, created.stderr
    by_cli, on_page = created.stdout.strip().splitlines()[-1], system.registry.issue_token(user)
    [cli_token] = [t for t in system.registry.tokens_of(user.id) if t.label == "nachtjob"]
    assert f"token {cli_token.id} expires" in created.stdout

    listed = sroi(database_url, "token", "list", "--email", user.email)
    assert listed.returncode == 0 and str(cli_token.id) in listed.stdout and "nachtjob" in listed.stdout
    assert SECRET_RE.search(listed.stdout) is None  # listed by id, never by secret

    with web_process(database_url, tmp_path / "one.log") as one, \
            web_process(database_url, tmp_path / "two.log") as two, \
            httpx.Client(base_url=one.url) as first, httpx.Client(base_url=two.url) as second:
        for client in (first, second, first, second):  # each process has seen both tokens
            assert api(client, by_cli).status_code == 200 and api(client, on_page).status_code == 200

        revoked = sroi(database_url, "token", "revoke", str(cli_token.id))
        assert revoked.returncode == 0 and f"revoked token {cli_token.id}" in revoked.stdout
        assert api(second, by_cli).status_code == 401 and api(first, by_cli).status_code == 401
        assert api(second, on_page).status_code == 200

        _login(first, user)
        [page_token] = system.registry.tokens_of(user.id)
        assert _revoke_on_the_page(first, page_token.id).status_code == 303
        refused = api(second, on_page)
        assert refused.status_code == 401 and refused.json()["detail"] == "invalid or revoked token"

    again = sroi(database_url, "token", "revoke", str(cli_token.id))
    assert again.returncode != 0 and "no token with id" in again.stderr
    nobody = sroi(database_url, "token", "create", "--email", "nobody@example.org")
    assert nobody.returncode != 0 and "--email" in nobody.stderr
    too_long = sroi(database_url, "token", "create", "--email", user.email, "--days", "400")
    assert too_long.returncode != 0 and "--days" in too_long.stderr
