"""With SERVER_TIMING=1 (developers, `sroi run`, the benchmarks) every
response says how long the app took (Server-Timing), with the part spent in
read-model queries and in rendering. Without it (the default, production)
no response tells an outsider how much work it caused."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from infra.settings import Settings, SettingsError
from tests.web.conftest import Agency, Browser
from web.app import create_app

TIMING_RE = re.compile(r'^app;dur=(?P<app>[\d.]+), db;dur=(?P<db>[\d.]+);desc="(?P<n>\d+) queries",'
                       r' render;dur=(?P<render>[\d.]+)$')


def test_pages_and_fragments_carry_server_timing_with_database_and_rendering_time(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    for path, headers in (("/", {}), ("/placements", {}),
                          ("/candidates?q=sanne", {"HX-Request": "true"})):
        r = me.get(path, headers=headers)
        assert r.status_code == 200
        m = TIMING_RE.match(r.headers["server-timing"])
        assert m is not None, r.headers["server-timing"]
        app, db, render = float(m["app"]), float(m["db"]), float(m["render"])
        assert int(m["n"]) >= 1 and db > 0 and render > 0
        assert app >= db + render  # both are parts of the app's time
    # The dashboard reads several figures: each statement is counted.
    dashboard = TIMING_RE.match(me.get("/").headers["server-timing"])
    assert dashboard is not None and int(dashboard["n"]) >= 5


def test_the_api_and_redirects_carry_it_too(agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages()
    assert me.get("/health").headers["server-timing"].startswith("app;dur=")
    r = me.get("/")
    assert r.status_code == 303 and r.headers["server-timing"].startswith("app;dur=")


@pytest.fixture
def system(system: System) -> System:
    """The test system with SERVER_TIMING=1 (the session's has it off, as in production)."""
    return dataclasses.replace(system, settings=dataclasses.replace(system.settings, server_timing=True))


def test_server_timing_is_off_unless_asked_for() -> None:
    base = {"SECRET_KEY": "x"}
    assert Settings.from_env(base).server_timing is False
    assert Settings.from_env({**base, "SROI_ENV": "production"}).server_timing is False
    assert Settings.from_env({**base, "SERVER_TIMING": "1"}).server_timing is True
    assert Settings.from_env({**base, "SERVER_TIMING": "off"}).server_timing is False
    with pytest.raises(SettingsError, match="SERVER_TIMING"):
        Settings.from_env({**base, "SERVER_TIMING": "sometimes"})


def test_without_the_setting_no_response_carries_timings(system: System, agency: Agency) -> None:
    default = dataclasses.replace(system, settings=dataclasses.replace(system.settings, server_timing=False))
    agency.seed()
    token = system.registry.issue_token(agency.user("agency"))
    with TestClient(create_app(default)) as client:
        client.follow_redirects = False
        for r in (client.get("/health"), client.get("/"), client.get("/login"),
                  client.get("/api/v1/compliance", headers={"Authorization": f"Bearer {token}"})):
            assert r.status_code in (200, 303), r.text
            assert "server-timing" not in r.headers
