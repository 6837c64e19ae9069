"""The API reference at /schema works on a machine without internet and tells
no third party who reads it: Redoc comes from the product's own static files,
under a Content-Security-Policy without inline script."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.web.conftest import Server
from web.pages.security import REFERENCE_CSP


def test_the_reference_renders_from_this_server_alone(chromium: Any, server: Server) -> None:
    context = chromium.new_context(base_url=server.url)
    left: list[str] = []  # requests that would have left this machine

    def only_here(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    try:
        page.goto("/schema")
        page.get_by_role("heading", name="SROI Ledger API").wait_for(timeout=20_000)
        assert page.get_by_role("heading", name="Health").count() == 1  # an operation
        # Each API operation lists its typed answers and its errors (web/api/contract.py).
        assert page.get_by_role("heading", name="RegisterEmployer").count() == 1
        assert page.get_by_text("No valid bearer token", exact=False).count() > 50
        assert page.get_by_text("Invalid input: errors names each field", exact=False).count() > 50
        # Search runs in a worker (blob:), which the reference's policy allows.
        page.get_by_placeholder("Search...").press_sequentially("health")
        results = page.locator("[data-role='search:results']")
        results.wait_for(timeout=10_000)
        assert "Health" in results.inner_text()
        assert [w.url.split(":")[0] for w in page.workers] == ["blob"]
    finally:
        context.close()
    assert left == []
    # The only thing the policy stopped is Redoc's "powered by" logo on its CDN
    # (Redoc hides it); no style or script of the reference was refused.
    refused = [m for m in console if "Content Security Policy" in m]
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in m for m in refused), refused
    assert [m for m in console if "Content Security Policy" not in m] == []


def test_the_reference_page_has_no_inline_script_and_names_only_this_server(server: Server) -> None:
    r = httpx.get(server.url + "/schema")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == REFERENCE_CSP
    assert "unsafe-inline" not in REFERENCE_CSP and "script-src 'self';" in REFERENCE_CSP
    assert "<script>" not in r.text and "<style" not in r.text and "http" not in r.text
    for asset in ("/static/redoc.standalone.js", "/static/reference.js", "/static/reference.css"):
        assert f'"{asset}"' in r.text
        assert httpx.get(server.url + asset).status_code == 200
