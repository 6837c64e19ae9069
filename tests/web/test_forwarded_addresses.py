"""Who the client is, behind a proxy or not: a real `sroi serve` process.

The login limit counts per e-mail and client address. A client that could
name its own address (X-Forwarded-For) would never reach the limit, so the
header is believed only from the proxies named in TRUSTED_PROXIES."""
from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.web.conftest import web_process
from tests.web.world import PASSWORD, Agency
from web.pages.sessions import LOGIN_ATTEMPTS

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def wrong_password(client: httpx.Client, email: str, forwarded_for: str) -> int:
    token = CSRF_RE.search(client.get("/login").text).group(1)
    return client.post("/login", data={"email": email, "password": "not " + PASSWORD, "_csrf_token": token},
                       headers={"X-Forwarded-For": forwarded_for}).status_code


def test_a_client_cannot_escape_the_login_limit_by_naming_another_address(
        database_url: str, agency: Agency, tmp_path: Path) -> None:
    email = agency.user("agency").email
    with web_process(database_url, tmp_path / "web.log", TRUSTED_PROXIES="") as web, \
            httpx.Client(base_url=web.url) as client:
        answers = [wrong_password(client, email, f"203.0.113.{i}") for i in range(1, 31)]
    assert answers[:LOGIN_ATTEMPTS] == [401] * LOGIN_ATTEMPTS
    assert set(answers[LOGIN_ATTEMPTS:]) == {429}, answers


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(
        database_url: str, agency: Agency, tmp_path: Path) -> None:
    email = agency.user("agency").email
    with web_process(database_url, tmp_path / "web.log", TRUSTED_PROXIES="10.9.8.7, 127.0.0.1") as web, \
            httpx.Client(base_url=web.url) as client:
        guesser = [wrong_password(client, email, "203.0.113.7") for _ in range(LOGIN_ATTEMPTS + 1)]
        # The same e-mail from another client behind the proxy is not locked out by it.
        someone_else = wrong_password(client, email, "198.51.100.20")
        # A chain through a further proxy: the last address the trusted proxy saw counts.
        chained = wrong_password(client, email, "198.51.100.20, 203.0.113.7")
    assert guesser == [401] * LOGIN_ATTEMPTS + [429]
    assert someone_else == 401
    assert chained == 429


def test_trusted_proxies_are_addresses_or_networks() -> None:
    from infra.settings import Settings, SettingsError

    assert Settings.from_env({}).trusted_proxies == ()
    named = Settings.from_env({"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5"}).trusted_proxies
    assert named == ("10.0.0.0/8", "192.168.1.5/32")
    try:
        Settings.from_env({"TRUSTED_PROXIES": "10.0.0.1,proxy.internal"})
    except SettingsError as e:
        assert "TRUSTED_PROXIES" in str(e) and "'proxy.internal'" in str(e)
    else:
        raise AssertionError("a host name was taken for a proxy address")
