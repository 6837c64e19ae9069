"""bench/pages.py, what is measured and how it is reported: the series of
requests (pages and htmx fragments, with their targets), the reply both
drivers return, logging in through the form, and one series' figures."""
from __future__ import annotations

import random
import re
import statistics
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, urlencode

from bench.common import percentile, say
from bench.pages_world import EMAIL, FEEDBACK_COMMENTS, PASSWORD, Setup

PAGE_TARGET_MS = 50.0
FRAGMENT_TARGET_MS = 20.0


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


CSRF_FIELD_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def log_in(conn: Any) -> str:
    """The login form, as a browser does it, over either driver (a
    PageConnection or an AsgiDriver: `send` and a cookie jar); returns the
    CSRF token."""
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
