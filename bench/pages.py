"""Web page latency on a realistic tenant of 10,000 placements.

Set-up: a tenant built with bench.projections.build_history (employers,
contracts, 10,000 candidates and placements with contributions, decisions,
hours changes, weekly feedback; stored in bulk with the tenant's recorder),
plus a few "heavy" placements given many more feedback events through
Ledger.execute; every projection in projections.registry.PROJECTIONS caught
up (ProjectionRunner.catch_up(wait=True)); read-model and events tables
vacuumed and ANALYZEd. An agency user with a password.

The real server runs as a subprocess (`python -m infra.cli serve`, uvicorn
with uvloop/httptools). The bench logs in through the login form (GET /login
for the CSRF cookie and token, POST the credentials, keep the session
cookie) and measures, one request at a time over one keep-alive connection:

(a) the dashboard `/` (full page)
(b) a placement page `/placements/{id}` (full page): the placements with the
    most events in the generated history, and the heavy ones
(c) htmx fragments (`HX-Request: true`): candidate search-as-you-type
    (`GET /candidates?q=...` answers the `results` block, 50 a page; broad
    prefixes matching thousands, and exact names), earlier events of a
    placement (`GET /placements/{id}/timeline?page=N`), and the inline feedback
    block (`POST /placements/{id}/feedback` answers the `feedback` block; it
    stores a FeedbackGiven event each time)

Each series gives the server time from the responses' Server-Timing header
(the bench's server runs with SERVER_TIMING=1; `app`: from the request reaching the app to its response headers; `db`:
statements on the read pool; `render`: Jinja2), which the targets apply to,
and beside it the client-side latency on localhost (request written -> last
body byte read, with the minimal client of bench.http_client, so it includes
the server's HTTP parsing, sending the body and the loopback) and the server
process's CPU time per request (from /proc).

(d) for each series that misses its target (full page p95 < 50 ms, fragment
    p95 < 20 ms; or all with --profile always): the same requests in process
    (create_app on the same database, driven as ASGI calls, no sockets), each
    split into: every SQL statement on the read pool (asyncpg, timed per
    statement, named after the module constant that holds it), the
    ledger/registry calls run in threads, template rendering, and the rest
    (framework, middleware, handler Python); EXPLAIN (ANALYZE, BUFFERS) of
    each statement that takes >= 5 ms and >= 10% of a request; then a
    cProfile of the same requests with asyncio.to_thread run inline (so the
    thread work is in the profile too).

Also printed: how many of the dashboard's early warnings show no candidate
name (the handler labels them from a list of placements it loads), and the
load average around the measurements (client, server and PostgreSQL share
the machine; other load shows up in the latencies).

Usage: python bench/pages.py [--placements 10000] [--feedback 12] [--heavy 5]
       [--heavy-feedback 150] [--n 200] [--profile auto|always|never]
       [--reuse [--rebuild retention,directory]]
--reuse measures the tenant a previous run left in the benchmark database
(sroi_bench_pages) instead of building one (the feedback POSTs of earlier runs
stay in it, so the heavy placements grow by ~45 events per run).
Prints figures; asserts nothing (targets in brackets).
"""
from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import io
import os
import pstats
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psycopg import sql  # noqa: E402

from bench.common import bench_system, note, percentile, say  # noqa: E402
from bench.http_client import RawHttpConnection  # noqa: E402
from bench.projections import build_history, events_per_placement  # noqa: E402
from infra import processes  # noqa: E402
from infra.eventstore import SCHEMA as EVENTS_SCHEMA  # noqa: E402
from projections.base import RM  # noqa: E402
from projections.writer import ProjectionRunner  # noqa: E402
from projections.registry import PROJECTIONS  # noqa: E402
from service import commands as c  # noqa: E402
from service.actor import Actor  # noqa: E402

EMAIL = "agency@bench-pages.example.org"
PASSWORD = "bench-pages-password-1"
PAGE_TARGET_MS = 50.0
FRAGMENT_TARGET_MS = 20.0
FEEDBACK_COMMENTS = ["Goed bezig", "Loopt goed mee in het team.", "",
                     "Heeft meer begeleiding nodig bij nieuwe taken."]


# ---------------------------------------------------------------------------
# HTTP: a keep-alive connection with cookies and response headers


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes
    seconds: float

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class PageConnection(RawHttpConnection):
    """bench.http_client's connection, plus what pages need: a cookie jar,
    response headers (Set-Cookie, Location), form bodies, chunked bodies."""

    def __init__(self, host: str, port: int):
        super().__init__(host, port)
        self.cookies: dict[str, str] = {}

    async def send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                   content_type: str | None = None) -> Reply:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        t0 = time.perf_counter()
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        parsed: dict[str, list[str]] = {}
        for line in head[:-4].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            parsed.setdefault(name.strip().lower().decode(), []).append(value.strip().decode("latin-1"))
        if "chunked" in (parsed.get("transfer-encoding") or [""])[0].lower():
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            payload = b"".join(chunks)
        else:
            length = int((parsed.get("content-length") or ["0"])[0])
            payload = await self.reader.readexactly(length) if length else b""
        seconds = time.perf_counter() - t0
        for cookie in parsed.get("set-cookie", []):
            pair = cookie.split(";", 1)[0]
            name, _, value = pair.partition("=")
            attrs = cookie.lower()
            if value in ("", "null") or "max-age=0" in attrs.replace(" ", ""):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return Reply(status, parsed, payload, seconds)


CSRF_FIELD_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def log_in(conn: PageConnection) -> str:
    """The login form, as a browser does it; returns the CSRF token."""
    form = await conn.send("GET", "/login")
    m = CSRF_FIELD_RE.search(form.text)
    if form.status != 200 or not m:
        raise RuntimeError(f"GET /login: {form.status} {form.text[:300]}")
    token = m.group(1)
    body = urlencode({"_csrf_token": token, "email": EMAIL, "password": PASSWORD, "next": "/"}).encode()
    reply = await conn.send("POST", "/login", body, content_type="application/x-www-form-urlencoded")
    if reply.status != 303 or "sroi_session" not in conn.cookies:
        raise RuntimeError(f"POST /login: {reply.status} {reply.headers} {reply.text[:300]}")
    return token


WARNING_LINK_RE = re.compile(r'<li>\s*<a href="/placements/[^"]+">(.*?)</a>', re.S)


def dashboard_warnings(html: str) -> tuple[int, int]:
    """(early warnings listed, of which without a candidate name) on the dashboard."""
    start = html.find('class="warnings"')
    if start < 0:
        return 0, 0
    section = html[start:html.find("</ul>", start)]
    links = WARNING_LINK_RE.findall(section)
    return len(links), sum(1 for text in links if "·" not in text)


def proc_cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            parts = fh.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


# ---------------------------------------------------------------------------
# set-up


@dataclass
class Setup:
    system: Any
    tenant: Any
    events: int
    placements: int
    busy: list[tuple[uuid.UUID, int]]        # (placement, events), most events in the history
    heavy: list[tuple[uuid.UUID, int]]       # (placement, events), given many feedback events
    feedback_targets: list[uuid.UUID]        # active placements for the feedback POSTs
    search_broad: list[str]
    search_narrow: list[str]


def placement_event_counts(database: Any, tenant: Any, ids: list[uuid.UUID] | None = None,
                           limit: int = 20) -> list[tuple[uuid.UUID, int]]:
    q = sql.SQL(
        "SELECT e.originator_id AS id, count(*) AS n FROM {}.{} e"
        " JOIN {}.d_placements p ON p.placement_id = e.originator_id AND p.tenant_id = %s"
        "  AND p.gen = (SELECT gen FROM {}.live WHERE projection = 'directory' AND tenant_id = %s)"
        " WHERE {} GROUP BY e.originator_id ORDER BY count(*) DESC, e.originator_id LIMIT %s"
    ).format(sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table), sql.Identifier(RM),
             sql.Identifier(RM), sql.SQL("e.originator_id = ANY(%s)" if ids is not None else "true"))
    params: tuple = (tenant.id, tenant.id, ids, limit) if ids is not None else (tenant.id, tenant.id, limit)
    with database.connection() as conn:
        return [(r["id"], r["n"]) for r in conn.execute(q, params).fetchall()]


def catch_up_all(database: Any, tenant: Any) -> str:
    parts = []
    for projection in PROJECTIONS:
        t0 = time.perf_counter()
        result = ProjectionRunner(database, projection).catch_up(tenant, wait=True)
        parts.append(f"{projection.name} {getattr(result, 'processed', '?'):,} events "
                     f"{time.perf_counter() - t0:.1f} s")
    return ", ".join(parts)


def analyze(database: Any, tenant: Any) -> None:
    with database.connection() as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(
            sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table)))
        tables = [r["t"] for r in conn.execute(
            "SELECT tablename AS t FROM pg_tables WHERE schemaname = %s", (RM,)).fetchall()]
        for t in tables:  # as autovacuum would have: a rebuild leaves the old generation's rows dead
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(sql.Identifier(RM), sql.Identifier(t)))


BENCH_DATABASE = "sroi_bench_pages"
SLUG = "bench-pages"


def reuse_system() -> Any:
    """The benchmark database a previous run left (not dropped), migrated to this release."""
    from infra.bootstrap import bootstrap
    from infra.database import resolve_database_url, with_database
    from infra.settings import Settings

    settings = Settings.from_env({**os.environ, "SECRET_KEY": "bench", "SERVER_TIMING": "1"})
    url = with_database(resolve_database_url(settings.database.url, settings.data_dir, dbname="postgres"),
                        BENCH_DATABASE)
    return bootstrap(settings, database_url=url)


def build(args: argparse.Namespace) -> Setup:
    if args.reuse:
        system = reuse_system()
        database = system.stores.database("default")
        tenant = system.registry.tenant_by_slug(SLUG)
        with database.connection() as conn:
            events = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}.{}").format(
                sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table))).fetchone()["n"]
            placements = conn.execute(
                f"SELECT count(*) AS n FROM {RM}.d_placements WHERE tenant_id = %s"
                f" AND gen = (SELECT gen FROM {RM}.live WHERE projection = 'directory' AND tenant_id = %s)",
                (tenant.id, tenant.id)).fetchone()["n"]
        say(f"reusing the tenant of a previous run: {events:,} events, {placements:,} placements")
        for name in [n for n in (args.rebuild or "").split(",") if n]:
            projection = next(p for p in PROJECTIONS if p.name == name)
            t0 = time.perf_counter()
            result = ProjectionRunner(database, projection).rebuild(tenant)
            say(f"    rebuilt {name}: {result.processed:,} events in {time.perf_counter() - t0:.1f} s")
        for projection in PROJECTIONS:  # as the worker does after an upgrade
            t0 = time.perf_counter()
            result = ProjectionRunner(database, projection).rebuild_if_outdated(tenant)
            if result is not None:
                say(f"    rebuilt {projection.name} (now version {projection.version}): "
                    f"{result.processed:,} events in {time.perf_counter() - t0:.1f} s")
        say(f"    caught up: {catch_up_all(database, tenant)}")
        analyze(database, tenant)
        return _setup(system, database, tenant, events, placements, args, build=False)
    system = bench_system(BENCH_DATABASE)
    database = system.stores.database("default")
    big = min(2000, args.placements * 2 // 10)
    small = min(100, args.placements // 20)
    note(f"building a tenant of {args.placements:,} placements, {args.feedback} feedback events each "
         f"(~{args.placements * events_per_placement(args.feedback):,.0f} events) ...")
    hist = build_history(system, SLUG, placements=args.placements, feedback=args.feedback,
                         big=big, small=small, seed=11)
    tenant = hist.tenant
    say(f"tenant: {hist.events:,} events, {hist.placements:,} placements, {args.feedback} feedback events "
        f"per placement; generated in {hist.build_s:.1f} s, stored in {hist.store_s:.1f} s")
    note("catching up the projections ...")
    say(f"    caught up: {catch_up_all(database, tenant)}")
    return _setup(system, database, tenant, hist.events, hist.placements, args, build=True)


def _setup(system: Any, database: Any, tenant: Any, events: int, placements: int, args: argparse.Namespace, *,
           build: bool) -> Setup:
    # Heavy placements: active ones, given many more feedback events through
    # the service layer (a placement followed weekly for years).
    with database.connection() as conn:
        active = [r["placement_id"] for r in conn.execute(
            f"SELECT placement_id FROM {RM}.d_placements WHERE tenant_id = %s AND ended_on IS NULL"
            f" AND gen = (SELECT gen FROM {RM}.live WHERE projection = 'directory' AND tenant_id = %s)"
            " ORDER BY placement_id LIMIT 400", (tenant.id, tenant.id)).fetchall()]
        names = [r["full_name"] for r in conn.execute(
            f"SELECT full_name FROM {RM}.d_candidates WHERE tenant_id = %s"
            f" AND gen = (SELECT gen FROM {RM}.live WHERE projection = 'directory' AND tenant_id = %s)"
            " ORDER BY candidate_id LIMIT 40", (tenant.id, tenant.id)).fetchall()]
    rng = random.Random(5)
    heavy_ids = active[:args.heavy]
    feedback_targets = active[args.heavy:args.heavy + 50]
    actor = Actor(user_id=uuid.UUID(int=7), role="agency", organisation="Werkgeversservicepunt")
    if build and heavy_ids and args.heavy_feedback:
        note(f"giving {args.heavy_feedback} feedback events to each of {len(heavy_ids)} placements "
             "through Ledger.execute ...")
        t0 = time.perf_counter()
        for _ in range(args.heavy_feedback):
            for p in heavy_ids:
                system.ledger.execute(tenant, actor, c.GiveFeedback(
                    placement_id=p, score=rng.randint(2, 5), from_role=rng.choice(["coach", "agency"]),
                    comment=rng.choice(FEEDBACK_COMMENTS)))
        say(f"    {len(heavy_ids) * args.heavy_feedback:,} GiveFeedback commands for the heavy placements in "
            f"{time.perf_counter() - t0:.1f} s; caught up: {catch_up_all(database, tenant)}")
    if build:
        analyze(database, tenant)

    busy = placement_event_counts(database, tenant, limit=20)
    busy = [b for b in busy if b[0] not in heavy_ids][:10]
    heavy = placement_event_counts(database, tenant, ids=heavy_ids, limit=len(heavy_ids)) if heavy_ids else []
    if build:
        system.registry.create_user(tenant, EMAIL, "agency", password=PASSWORD)
    broad = ["ka", "kan", "kandidaat", "kandidaat 1", "logistiek", "heftr", "schoonm", "data"]
    narrow = names[:20] + [n[:14] for n in names[20:40]]
    return Setup(system=system, tenant=tenant,
                 events=events + (len(heavy_ids) * args.heavy_feedback if build else 0), placements=placements, busy=busy, heavy=heavy, feedback_targets=feedback_targets,
                 search_broad=broad, search_narrow=narrow)


# ---------------------------------------------------------------------------
# the series measured


@dataclass
class Series:
    key: str
    label: str
    target_ms: float
    # (method, path, body, headers) per request i
    request: Callable[[int], tuple[str, str, bytes, dict[str, str]]]
    expect: int = 200
    check: str | None = None  # text the body must contain
    latencies: list[float] = field(default_factory=list)
    server: dict[str, list[float]] = field(default_factory=dict)  # Server-Timing metric -> ms per request
    bytes: list[int] = field(default_factory=list)
    cpu_ms: float = float("nan")
    errors: int = 0

    def p95(self) -> float:
        """Of the server time (Server-Timing `app`) if the responses carry it, else client-side."""
        if self.server.get("app"):
            return percentile(self.server["app"], 95)
        return percentile([v * 1000 for v in self.latencies], 95)


def make_series(s: Setup, csrf: dict[str, str]) -> list[Series]:
    busy_ids = [p for p, _ in s.busy]
    heavy_ids = [p for p, _ in s.heavy]
    hx = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/candidates"}
    rng = random.Random(9)

    def feedback(ids: list[uuid.UUID]) -> Callable[[int], tuple[str, str, bytes, dict[str, str]]]:
        def req(i: int) -> tuple[str, str, bytes, dict[str, str]]:
            p = ids[i % len(ids)]
            body = urlencode({"score": str(1 + rng.randrange(5)), "from_role": "coach",
                              "comment": FEEDBACK_COMMENTS[i % len(FEEDBACK_COMMENTS)],
                              "_idempotency": uuid.uuid4().hex}).encode()
            return ("POST", f"/placements/{p}/feedback", body,
                    {"HX-Request": "true", "HX-Current-URL": f"http://127.0.0.1/placements/{p}",
                     "X-CSRFToken": csrf["token"], "Content-Type": "application/x-www-form-urlencoded"})
        return req

    busy_n = f"{min(n for _, n in s.busy)}-{max(n for _, n in s.busy)}" if s.busy else "?"
    heavy_n = f"{min(n for _, n in s.heavy)}-{max(n for _, n in s.heavy)}" if s.heavy else "?"
    out = [
        Series("dashboard", "(a) dashboard `/` (full page)", PAGE_TARGET_MS,
               lambda i: ("GET", "/", b"", {}), check='id="retention-title"'),
        Series("placement-busy", f"(b) placement page, the {len(busy_ids)} placements with the most events in the "
               f"history ({busy_n} events each)", PAGE_TARGET_MS,
               lambda i: ("GET", f"/placements/{busy_ids[i % len(busy_ids)]}", b"", {}), check='id="feedback"'),
    ]
    if heavy_ids:
        out.append(Series("placement-heavy", f"(b) placement page, {len(heavy_ids)} heavy placements "
                          f"({heavy_n} events each)", PAGE_TARGET_MS,
                          lambda i: ("GET", f"/placements/{heavy_ids[i % len(heavy_ids)]}", b"", {}),
                          check='id="feedback"'))
    out += [
        Series("search-broad", "(c) fragment: candidate search, broad prefixes (the first page of 50, with the "
               "number found)",
               FRAGMENT_TARGET_MS,
               lambda i: ("GET", "/candidates?q=" + quote(s.search_broad[i % len(s.search_broad)]), b"", hx),
               check="<table"),
        Series("search-narrow", "(c) fragment: candidate search, a name (1-10 rows)", FRAGMENT_TARGET_MS,
               lambda i: ("GET", "/candidates?q=" + quote(s.search_narrow[i % len(s.search_narrow)]), b"", hx),
               check="<table"),
        Series("feedback", f"(c) fragment: inline feedback POST -> feedback block, rotating over "
               f"{len(s.feedback_targets)} active placements (stores an event each)", FRAGMENT_TARGET_MS,
               feedback(s.feedback_targets), check='id="feedback"'),
    ]
    if heavy_ids:
        out.append(Series("timeline-heavy", f"(c) fragment: earlier events (timeline pages 2-6) on the "
                          f"{len(heavy_ids)} heavy placements", FRAGMENT_TARGET_MS,
                          lambda i: ("GET", f"/placements/{heavy_ids[i % len(heavy_ids)]}/timeline?page={2 + i % 5}",
                                     b"", {"HX-Request": "true"}), check='id="timeline"'))
        out.append(Series("feedback-heavy", f"(c) fragment: inline feedback POST on the {len(heavy_ids)} heavy "
                          "placements", FRAGMENT_TARGET_MS, feedback(heavy_ids), check='id="feedback"'))
    return out


def split_content_type(headers: dict[str, str]) -> tuple[dict[str, str], str | None]:
    h = dict(headers)
    return h, h.pop("Content-Type", None)


async def run_series(conn: PageConnection, series: Series, n: int, warmup: int, pid: int | None) -> None:
    async def one(i: int, record: bool) -> None:
        method, path, body, headers = series.request(i)
        headers, ctype = split_content_type(headers)
        reply = await conn.send(method, path, body, headers, ctype)
        ok = reply.status == series.expect and (series.check is None or series.check in reply.text)
        if not ok:
            series.errors += 1
            if series.errors <= 3:
                say(f"    error {series.key}: {method} {path} -> {reply.status} "
                    f"{reply.headers.get('location')} {reply.text[:300]!r}")
        if record:
            series.latencies.append(reply.seconds)
            for name, ms in server_timing(reply.header("server-timing")).items():
                series.server.setdefault(name, []).append(ms)
            series.bytes.append(len(reply.body))

    for i in range(warmup):
        await one(i, False)
    cpu0 = proc_cpu_s(pid) if pid else float("nan")
    for i in range(n):
        await one(warmup + i, True)
    if pid:
        series.cpu_ms = (proc_cpu_s(pid) - cpu0) * 1000 / n


def server_timing(header: str | None) -> dict[str, float]:
    """'app;dur=12.4, db;dur=3.1;desc="4 queries"' -> {"app": 12.4, "db": 3.1}."""
    out = {}
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        m = re.search(r"(?:^|;)\s*dur=([\d.]+)", params)
        if name and m:
            out[name.strip()] = float(m.group(1))
    return out


def report(series: Series) -> None:
    ms = [v * 1000 for v in series.latencies]
    verdict = "ok" if series.p95() < series.target_ms else "MISSED"
    say(f"{series.label}:")
    app = series.server.get("app")
    if app:
        parts = [f"{name} p50 {percentile(v, 50):.1f} / p95 {percentile(v, 95):.1f} ms"
                 for name, v in series.server.items() if name != "app"]
        say(f"    server (Server-Timing app): p50 {percentile(app, 50):.1f} ms, p95 {percentile(app, 95):.1f} ms, "
            f"p99 {percentile(app, 99):.1f} ms, max {max(app):.1f} ms (target p95 < {series.target_ms:.0f} ms: "
            f"{verdict}); of which " + ", ".join(parts))
    say(f"    client-side: p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
        f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms over {len(ms)} requests"
        + ("" if app else f" (no Server-Timing; target p95 < {series.target_ms:.0f} ms: {verdict})")
        + f"; server CPU {series.cpu_ms:.1f} ms/request; body {statistics.median(series.bytes) / 1024:.0f} KiB"
        + (f"; {series.errors} errors" if series.errors else ""))


def measure_http(s: Setup, n: int, warmup: int) -> list[Series]:
    port = processes.free_port()
    env = {**os.environ, "DATABASE_URL": s.system.database_url, "SECRET_KEY": "bench", "SERVER_TIMING": "1"}
    log_path = "/tmp/bench-pages-serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--port", str(port)], env=env,
                            cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    try:
        deadline = time.time() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the server did not start; see {log_path}")
                time.sleep(0.2)

        async def main() -> list[Series]:
            conn = PageConnection("127.0.0.1", port)
            await conn.connect()
            try:
                csrf = {"token": await log_in(conn)}
                dash = await conn.send("GET", "/")
                listed, unnamed = dashboard_warnings(dash.text)
                say(f"dashboard check: {listed} early warnings listed, {unnamed} of them without the candidate's "
                    "name (their placement is not among those the handler looked up)")
                all_series = make_series(s, csrf)
                for series in all_series:
                    note(f"  measuring {series.key} ...")
                    await run_series(conn, series, n, warmup, proc.pid)
                    report(series)
                return all_series
            finally:
                await conn.close()

        say(f"server: `python -m infra.cli serve` (uvicorn, uvloop/httptools), pid {proc.pid}; one keep-alive "
            "connection, one request at a time, logged in as the agency user through the login form")
        say("server time from each response's Server-Timing header, client-side latency on localhost beside it "
            f"(warm-up {warmup} requests per series)")
        return asyncio.run(main())
    finally:
        processes.stop([proc])


# ---------------------------------------------------------------------------
# (d) in-process breakdown and profile


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


async def _login_inprocess(driver: AsgiDriver) -> str:
    form = await driver.send("GET", "/login")
    token = CSRF_FIELD_RE.search(form.text).group(1)  # type: ignore[union-attr]
    body = urlencode({"_csrf_token": token, "email": EMAIL, "password": PASSWORD, "next": "/"}).encode()
    reply = await driver.send("POST", "/login", body, content_type="application/x-www-form-urlencoded")
    if reply.status != 303:
        raise RuntimeError(f"in-process login: {reply.status} {reply.text[:200]}")
    return token


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
    """Prints the split; returns the SQL statements worth an EXPLAIN (>= 5 ms and >= 10% of a request)."""
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
            if label.startswith("sql ") and total / n >= 5.0 and total / n >= 0.10 * mean_total]


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

    app = create_app(s.system)
    names = sql_names()
    for m in ("get", "history", "record_special_category_read", "execute"):
        timed_method(s.system.ledger, m, f"thread ledger.{m}")
    for m in ("user_by_email", "tenant_by_id", "authenticate"):
        timed_method(s.system.registry, m, f"thread registry.{m}")
    timed_method(app.state.page_templates, "render", "render template (Jinja2)")

    async def breakdown() -> None:
        async with app.lifespan():
            real_pool = app.state.read_pool
            app.state.read_pool = TimedPool(real_pool, names)
            try:
                driver = AsgiDriver(app)
                csrf = {"token": await _login_inprocess(driver)}
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
                app.state.read_pool = real_pool

    async def profile() -> None:
        """Plain asyncio here: time waiting for PostgreSQL on the read pool
        shows as select.epoll.poll; asyncio.to_thread runs inline so the
        ledger's work (psycopg, decoding) is in the profile under its callers."""
        real_to_thread = asyncio.to_thread

        async def inline(func: Callable[..., Any], /, *a: Any, **kw: Any) -> Any:
            return func(*a, **kw)

        async with app.lifespan():
            driver = AsgiDriver(app)
            csrf = {"token": await _login_inprocess(driver)}
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


# ---------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--placements", type=int, default=10_000)
    ap.add_argument("--feedback", type=int, default=12, help="feedback events per placement in the history")
    ap.add_argument("--heavy", type=int, default=5, help="placements given --heavy-feedback more events")
    ap.add_argument("--heavy-feedback", type=int, default=150)
    ap.add_argument("--n", type=int, default=200, help="requests per series")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                    help="in-process breakdown for the series that miss their target (auto), all, or none")
    ap.add_argument("--profile-n", type=int, default=50, help="requests under cProfile per series")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the tenant a previous run left in the benchmark database (no build; its "
                         "projections are caught up first)")
    ap.add_argument("--rebuild", default="",
                    help="with --reuse: projections to rebuild first (comma-separated names), e.g. after a "
                         "read-model change")
    args = ap.parse_args()
    say(f"PostgreSQL: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded (pgserver)'}; "
        f"{os.cpu_count()} CPUs (client, server and PostgreSQL share them)")
    s = build(args)
    try:
        say("load average before measuring: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
        say(f"placement pages: busy {', '.join(str(n) for _, n in s.busy)} events; heavy "
            f"{', '.join(str(n) for _, n in s.heavy)} events")
        series = measure_http(s, args.n, args.warmup)
        say("load average after measuring: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
        missed = [x.key for x in series if x.p95() >= x.target_ms]
        keys = [x.key for x in series] if args.profile == "always" else missed if args.profile == "auto" else []
        if missed:
            say(f"missed: {', '.join(missed)}")
        else:
            say("all targets met")
        if keys:
            profile_inprocess(s, keys, min(args.n, 100), args.warmup, args.profile_n)
    finally:
        s.system.close()


if __name__ == "__main__":
    main()
