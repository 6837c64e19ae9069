"""Server-Timing: how long the app took with a request, and the part spent
waiting for the read database and rendering templates, on every response
when SERVER_TIMING=1 (infra/settings.py; off by default, since the figures
tell an outsider how much work a request caused):

    Server-Timing: app;dur=12.4, db;dur=3.1;desc="4 queries", render;dur=5.0

`app` runs from the request reaching the app to the response headers being
sent (so it includes `db` and `render`, not the HTTP parsing or the network);
`db` is the time in statements on the read pool (asyncpg), `render` in Jinja2.
Browsers show the figures in their developer tools; bench/pages.py reads
them. Work the ledger does in a thread (reading events with psycopg) is part
of `app` only.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg


class Timings:
    __slots__ = ("db", "queries", "render", "_in_flight", "_since")

    def __init__(self) -> None:
        self.db = 0.0
        self.queries = 0
        self.render = 0.0
        self._in_flight = 0
        self._since = 0.0

    # Statements of one request may run side by side on several connections
    # (asyncio.gather): `db` is the time at least one of them was running,
    # not the sum, so it stays a part of `app`.
    def statement_started(self) -> None:
        if self._in_flight == 0:
            self._since = time.perf_counter()
        self._in_flight += 1
        self.queries += 1

    def statement_ended(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self.db += time.perf_counter() - self._since

    def header(self, app_seconds: float) -> str:
        parts = [f"app;dur={app_seconds * 1000:.1f}"]
        if self.queries:
            parts.append(f'db;dur={self.db * 1000:.1f};desc="{self.queries} queries"')
        if self.render:
            parts.append(f"render;dur={self.render * 1000:.1f}")
        return ", ".join(parts)


_current: ContextVar[Timings | None] = ContextVar("sroi_server_timing", default=None)


@contextmanager
def rendering() -> Iterator[None]:
    """Count the enclosed template rendering under `render`."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings = _current.get()
        if timings is not None:
            timings.render += time.perf_counter() - t0


def _timed(name: str) -> Any:
    method = getattr(asyncpg.Connection, name)

    async def timed(self: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
        timings = _current.get()
        if timings is None:
            return await method(self, *args, **kwargs)
        timings.statement_started()
        try:
            return await method(self, *args, **kwargs)
        finally:
            timings.statement_ended()
    timed.__name__ = name
    return timed


class TimedConnection(asyncpg.Connection):  # type: ignore[misc]
    """The read pool's connections (`connection_class`): statements count under `db`."""

    fetch = _timed("fetch")
    fetchrow = _timed("fetchrow")
    fetchval = _timed("fetchval")
    execute = _timed("execute")
    executemany = _timed("executemany")


class ServerTimingMiddleware:
    """ASGI middleware adding the Server-Timing header to every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timings = Timings()
        token = _current.set(timings)
        t0 = time.perf_counter()

        async def send_with_timing(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []),
                           (b"server-timing", timings.header(time.perf_counter() - t0).encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            _current.reset(token)
