"""bench/pages.py (d), statement-level timings in process: the same requests
straight into create_app as ASGI calls, each split into every SQL statement on
the read pool (timed per statement, named after the module constant holding
it), the ledger/registry calls in threads, template rendering and the rest;
EXPLAIN of the statements that dominate; then a cProfile."""
from __future__ import annotations

import asyncio
import contextvars
import cProfile
import io
import pstats
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from bench.common import percentile, say
from bench.pages_series import Reply, Series, log_in, make_series, split_content_type
from bench.pages_world import Setup

ROOT = Path(__file__).resolve().parent.parent


_rec: contextvars.ContextVar[list | None] = contextvars.ContextVar("bench_pages_rec", default=None)
NESTED = "  of which: "
_last_sql: dict[str, tuple[str, tuple]] = {}  # label -> (query, args) of its last run, for EXPLAIN


def _record(label: str, seconds: float) -> None:
    rec = _rec.get()
    if rec is not None:
        rec.append((label, seconds))


def sql_names() -> dict[str, str]:
    """SQL text -> 'module.CONSTANT', for the modules the pages query through."""
    import importlib
    out = {}
    for mod_name in ("projections.compliance", "projections.retention", "projections.directory",
                     "projections.reader", "web.pages.sessions", "projections.matching"):
        try:
            mod = importlib.import_module(mod_name)
        except Exception:  # noqa: BLE001 - a module being edited elsewhere
            continue
        for k, v in vars(mod).items():
            if k.isupper() and isinstance(v, str) and ("SELECT" in v or "INSERT" in v):
                out[v] = f"{mod_name.rsplit('.', 1)[-1]}.{k}"
    return out


class _TimedTransaction:
    def __init__(self, tx: Any):
        self.tx = tx

    async def __aenter__(self) -> Any:
        t = time.perf_counter()
        r = await self.tx.__aenter__()
        _record("sql BEGIN", time.perf_counter() - t)
        return r

    async def __aexit__(self, *exc: Any) -> Any:
        t = time.perf_counter()
        r = await self.tx.__aexit__(*exc)
        _record("sql COMMIT", time.perf_counter() - t)
        return r


class TimedConn:
    def __init__(self, conn: Any, names: dict[str, str]):
        self._conn, self._names = conn, names

    def _label(self, query: str) -> str:
        name = self._names.get(query)
        if name is None:
            name = " ".join(query.split())[:70]
        return "sql " + name

    def _wrap(self, method: str) -> Callable[..., Awaitable[Any]]:
        fn = getattr(self._conn, method)

        async def call(query: str, *args: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return await fn(query, *args, **kw)
            finally:
                label = self._label(query)
                _record(label, time.perf_counter() - t)
                if _rec.get() is not None:
                    _last_sql[label] = (query, args)
        return call

    def __getattr__(self, name: str) -> Any:
        if name in ("fetch", "fetchrow", "fetchval", "execute"):
            return self._wrap(name)
        return getattr(self._conn, name)

    def transaction(self, *a: Any, **kw: Any) -> _TimedTransaction:
        return _TimedTransaction(self._conn.transaction(*a, **kw))


class _TimedAcquire:
    def __init__(self, pool: "TimedPool"):
        self.pool = pool
        self.cm: Any = None

    async def __aenter__(self) -> TimedConn:
        t = time.perf_counter()
        self.cm = self.pool._pool.acquire()
        conn = await self.cm.__aenter__()
        _record("pool acquire", time.perf_counter() - t)
        return TimedConn(conn, self.pool._names)

    async def __aexit__(self, *exc: Any) -> Any:
        t = time.perf_counter()
        r = await self.cm.__aexit__(*exc)
        _record("pool release", time.perf_counter() - t)
        return r


class TimedPool(TimedConn):
    """The read pool, every statement timed (pool.fetch* acquire a connection
    of their own: that wait is inside the statement's time)."""

    def __init__(self, pool: Any, names: dict[str, str]):
        super().__init__(pool, names)
        self._pool = pool

    def acquire(self) -> _TimedAcquire:
        return _TimedAcquire(self)


_depth = threading.local()  # shared by every timed method: calls nested in another are marked as such


def timed_method(obj: Any, name: str, label: str) -> None:
    """Time obj.name (a sync method, run in a thread); a call made inside
    another timed call is recorded as nested (inside its caller's time)."""
    fn = getattr(obj, name)

    def wrapper(*a: Any, **kw: Any) -> Any:
        outer = getattr(_depth, "label", None)
        _depth.label = label
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            _depth.label = outer
            seconds = time.perf_counter() - t
            if outer is None:
                _record(label, seconds)
            else:
                _record(f"{NESTED}{label.removeprefix('thread ')}, inside {outer.removeprefix('thread ')}", seconds)
    setattr(obj, name, wrapper)


class AsgiDriver:
    """Requests straight into the ASGI app, with a cookie jar."""

    def __init__(self, app: Any):
        self.app = app
        self.cookies: dict[str, str] = {}

    async def send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                   content_type: str | None = None) -> Reply:
        raw_path, _, query = path.partition("?")
        hdrs = [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())]
        if content_type:
            hdrs.append((b"content-type", content_type.encode()))
        if self.cookies:
            hdrs.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(), "root_path": "",
                 "query_string": query.encode(), "headers": hdrs, "client": ("127.0.0.1", 50000),
                 "server": ("127.0.0.1", 8000), "state": {}}
        sent = False
        status = 0
        out_headers: dict[str, list[str]] = {}
        chunks: list[bytes] = []

        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message.get("headers", []):
                    out_headers.setdefault(k.decode().lower(), []).append(v.decode("latin-1"))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        t0 = time.perf_counter()
        await self.app(scope, receive, send)
        seconds = time.perf_counter() - t0
        for cookie in out_headers.get("set-cookie", []):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if value in ("", "null"):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return Reply(status, out_headers, b"".join(chunks), seconds)


def _one_request(driver: AsgiDriver, series: Series, i: int) -> Awaitable[Reply]:
    method, path, body, headers = series.request(i)
    headers, ctype = split_content_type(headers)

    async def go() -> Reply:
        reply = await driver.send(method, path, body, headers, ctype)
        if reply.status != series.expect:
            raise RuntimeError(f"{series.key}: {method} {path} -> {reply.status} {reply.text[:200]}")
        return reply
    return go()


def _breakdown(series: Series, per_request: list[list[tuple[str, float]]], totals: list[float]) -> list[str]:
    """Prints the split; returns the SQL statements worth an EXPLAIN (>= 5 ms and >= 10% of a request;
    statements only, not BEGIN or COMMIT)."""
    tot_ms = [t * 1000 for t in totals]
    n = len(per_request)
    say(f"(d) {series.label}")
    say(f"    in process (ASGI calls into create_app, no sockets, uvloop), {n} requests: "
        f"p50 {percentile(tot_ms, 50):.1f} ms, p95 {percentile(tot_ms, 95):.1f} ms")
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for rec in per_request:
        for label, sec in rec:
            sums[label] = sums.get(label, 0.0) + sec * 1000
            counts[label] = counts.get(label, 0) + 1
    mean_total = statistics.fmean(tot_ms)
    say(f"    where a request's time goes (mean {mean_total:.2f} ms; ms per request, calls per request, share):")
    top = sorted((k for k in sums if not k.startswith(NESTED)), key=lambda k: -sums[k])
    nested = [k for k in sums if k.startswith(NESTED)]
    for label in top:
        lines = [label] + [k for k in nested if k.endswith(", inside " + label.removeprefix("thread "))]
        for k in lines:
            m = sums[k] / n
            say(f"      {m:7.2f} ms  x{counts[k] / n:4.1f}  {m / mean_total:6.1%}  {k}")
    rest = mean_total - sum(v for k, v in sums.items() if not k.startswith(NESTED)) / n
    say(f"      {rest:7.2f} ms         {rest / mean_total:6.1%}  the rest: routing, middleware (session, CSRF,"
        " language, security headers), guards, handler Python, response")
    return [label for label, total in sums.items()
            if label in _last_sql and total / n >= 5.0 and total / n >= 0.10 * mean_total]


async def explain(pool: Any, label: str, max_lines: int = 45) -> None:
    query, args = _last_sql[label]
    async with pool.acquire() as conn:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + query, *args)
    shown = [r[0] for r in rows]
    say(f"    EXPLAIN (ANALYZE, BUFFERS) {label[4:]} (its last parameters):")
    for line in shown[:max_lines]:
        say("        " + line)
    if len(shown) > max_lines:
        say(f"        ... {len(shown) - max_lines} more lines")
        for line in shown[max_lines:]:
            if line.startswith(("Planning Time", "Execution Time")):
                say("        " + line)


def profile_inprocess(s: Setup, keys: list[str], n: int, warmup: int, prof_n: int) -> None:
    """(d) for the given series: per-request split, then a cProfile."""
    from web.app import create_app
    from web.pages.render import Templates

    app = create_app(s.system)
    names = sql_names()
    for m in ("get", "history", "record_special_category_read", "execute"):
        timed_method(s.system.ledger, m, f"thread ledger.{m}")
    for m in ("user_by_email", "tenant_by_id", "authenticate"):
        timed_method(s.system.registry, m, f"thread registry.{m}")
    timed_method(Templates, "render", "render template (Jinja2)")  # on the class: the app makes its own

    async def breakdown() -> None:
        async with app.lifespan():
            pools = app.state.read_pools.pools  # one per database (web/pools.py); the bench's on `default`
            real_pool = pools["default"]
            pools["default"] = TimedPool(real_pool, names)
            try:
                driver = AsgiDriver(app)
                csrf = {"token": await log_in(driver)}
                by_key = {x.key: x for x in make_series(s, csrf)}
                for key in keys:
                    series = by_key[key]
                    per_request: list[list[tuple[str, float]]] = []
                    totals: list[float] = []
                    for i in range(warmup + n):
                        rec: list[tuple[str, float]] = []
                        token = _rec.set(rec)
                        try:
                            reply = await _one_request(driver, series, 20_000 + i)
                        finally:
                            _rec.reset(token)
                        if i >= warmup:
                            per_request.append(rec)
                            totals.append(reply.seconds)
                    for label in _breakdown(series, per_request, totals):
                        await explain(real_pool, label)
            finally:
                pools["default"] = real_pool

    async def profile() -> None:
        """Plain asyncio here: time waiting for PostgreSQL on the read pool
        shows as select.epoll.poll; asyncio.to_thread runs inline so the
        ledger's work (psycopg, decoding) is in the profile under its callers."""
        real_to_thread = asyncio.to_thread

        async def inline(func: Callable[..., Any], /, *a: Any, **kw: Any) -> Any:
            return func(*a, **kw)

        async with app.lifespan():
            driver = AsgiDriver(app)
            csrf = {"token": await log_in(driver)}
            by_key = {x.key: x for x in make_series(s, csrf)}
            for key in keys:
                series = by_key[key]
                for i in range(warmup):
                    await _one_request(driver, series, 30_000 + i)
                asyncio.to_thread = inline  # type: ignore[assignment]
                prof = cProfile.Profile()
                t0 = time.perf_counter()
                try:
                    prof.enable()
                    for i in range(prof_n):
                        await _one_request(driver, series, 30_000 + warmup + i)
                    prof.disable()
                finally:
                    asyncio.to_thread = real_to_thread  # type: ignore[assignment]
                wall = time.perf_counter() - t0
                out = io.StringIO()
                stats = pstats.Stats(prof, stream=out)
                stats.sort_stats("tottime").print_stats(25)
                stats.sort_stats("cumulative").print_stats(
                    r"(web/|projections/|service/|infra/|domain/|templates/|jinja2/environment|babel/numbers"
                    r"|babel/dates|psycopg/cursor|eventsourcing/)", 40)
                say(f"(d) {series.label}: cProfile of {prof_n} requests ({wall * 1000 / prof_n:.1f} ms each under the "
                    "profiler; asyncio, to_thread inline; select.epoll.poll = waiting for PostgreSQL on the read "
                    "pool)")
                for line in out.getvalue().splitlines():
                    if line.strip() and not line.lstrip().startswith(("Ordered by", "List reduced", "Random")):
                        say("      " + line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "")
                            .replace("lib/python3.11/site-packages/", ""))

    try:
        import uvloop
        uvloop.run(breakdown())
    except ImportError:
        asyncio.run(breakdown())
    asyncio.run(profile())
