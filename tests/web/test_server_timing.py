"""Every response says how long the app took (Server-Timing), with the part
spent in read-model queries and in rendering."""
from __future__ import annotations

import re
from collections.abc import Callable

from tests.web.conftest import Agency, Browser

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
