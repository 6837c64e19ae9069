"""An unexpected failure is logged by its type, where it was raised, the route
and the request id: never the exception's message, which can hold what the
request or a record held (a name, a health note)."""
from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar.testing import TestClient

from infra import logsafe
from infra.bootstrap import System
from projections import compliance
from tests.web.conftest import Agency, Browser
from web.app import create_app
from web.pages.security import CSP

MARKER = "Sanne Jansen, burn-out sinds maart"


def broken_read_model(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(f"row for {MARKER} is unreadable")


def test_a_failing_request_is_logged_without_the_exceptions_message(
        system: System, agency: Agency, pages: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    token = system.registry.issue_token(agency.user("agency"))
    me: Browser = pages(agency.user("agency"))
    monkeypatch.setattr(compliance, "compliance_summary", broken_read_model)
    # Litestar's logging set-up replaces the root logger's handlers (pytest's
    # among them) when an app starts: listen on the project's loggers.
    ours = logging.getLogger("sroi")
    with TestClient(create_app(system)) as client:
        ours.addHandler(caplog.handler)
        try:
            api = client.get("/api/v1/compliance?as_of=2026-01-01",
                             headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-api-500"})
            page = me.get("/", headers={"X-Request-ID": "req-page-500"})
        finally:
            ours.removeHandler(caplog.handler)

    for r, request_id in ((api, "req-api-500"), (page, "req-page-500")):
        assert r.status_code == 500
        assert MARKER not in r.text
        assert r.headers["x-request-id"] == request_id  # for the caller to quote
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["cache-control"] == "no-store"
    logged = caplog.text
    assert MARKER not in logged and "Traceback" not in logged
    api_line = next(m for m in caplog.messages if "req-api-500" in m)
    page_line = next(m for m in caplog.messages if "req-page-500" in m)
    for line, route in ((api_line, "/api/v1/compliance"), (page_line, "on page GET /")):
        assert "RuntimeError at " in line and route in line
        assert "tests/web/test_error_logs.py:" in line and " broken_read_model" in line  # where: file, line, function
        assert "as_of" not in line  # no query string


def test_no_logger_of_the_processes_writes_exception_messages_or_queries(
        caplog: pytest.LogCaptureFixture) -> None:
    """What dramatiq, uvicorn or a library logs with a traceback, and the web
    server's access log (infra/logsafe.install, which the CLI runs for `sroi
    serve`, `worker` and `run`)."""
    before = logging.getLogRecordFactory()
    logsafe.install()
    try:
        try:
            try:
                {}[MARKER]
            except KeyError as e:
                raise ValueError(f"could not place {MARKER}") from e
        except ValueError:
            logging.getLogger("dramatiq.worker.WorkerThread").error(
                "Failed to process message %s with unhandled exception.", "project_tenant(...)", exc_info=True)
        # A search typed into the candidates page, in the web server's access log.
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                                                  "/candidates?q=Sanne+Jansen", "1.1", 200)
    finally:
        logging.setLogRecordFactory(before)
    assert "Sanne" not in caplog.text and "Traceback" not in caplog.text
    worker_line, access_line = caplog.messages
    assert worker_line.startswith(
        "Failed to process message project_tenant(...) with unhandled exception. [ValueError at ")
    assert "; from KeyError at tests/web/test_error_logs.py:" in worker_line
    assert access_line == '127.0.0.1:5000 - "GET /candidates HTTP/1.1" 200'
