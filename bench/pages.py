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

This file composes four modules, one per tool: bench/pages_world.py (the
tenant built or reused), pages_series.py (the requests measured, their
targets and the figures reported), pages_http.py (the load driver against the
real server) and pages_timing.py ((d), in process).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import say  # noqa: E402
from bench.pages_http import measure_http  # noqa: E402
from bench.pages_timing import profile_inprocess  # noqa: E402
from bench.pages_world import build  # noqa: E402


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
