"""Webhook tests: the API fixtures (a real app, real PostgreSQL), a real HTTP
receiver on localhost (a threaded http.server that records each request and
answers with the statuses it is told), and subscriptions allowed to post to
it (WEBHOOK_ALLOW_PRIVATE, as a development machine sets it)."""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.bootstrap import System
from tests.api.conftest import client, new_org, org  # noqa: F401  (fixtures)
from tests.projections.conftest import spawn  # noqa: F401  (fixture)


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of `script` (then `default`)."""

    port: int = 0
    script: list[int] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else self.default


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.received.append(Received(time.monotonic(), self.path, dict(self.headers.items()), body))
            status = state.answer()
            reply = (b"ok" if status < 300 else b"receiver says no: " + b"x" * 3000)
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_hooks(system: System, monkeypatch: pytest.MonkeyPatch) -> System:
    """This process's webhooks may post to localhost (the setting WEBHOOK_ALLOW_PRIVATE), retry fast."""
    monkeypatch.setattr(system.webhooks, "settings", dataclasses.replace(
        system.webhooks.settings, allow_private=True, retry_seconds=0.2, pause_after=4, max_attempts=3,
        timeout_seconds=5.0))
    return system
