"""Command throughput, measured against a raw baseline in the same run.

(a) `give feedback` through the service layer, sequential, one event per
    transaction, vs a raw asyncpg single-row autocommit INSERT into a table of
    the same shape (the floor any event store on this database pays).
(b) the same command through the HTTP API (uvicorn, real sockets) with 16
    concurrent clients: requests/s, p50/p99 latency.
(c) 1,000 tenants created and each written to once in one process: peak
    PostgreSQL connections held by the process, and its peak RSS.

Usage: python bench/commands.py [--n 2000] [--rounds 5] [--tenants 1000] [--only a,b,c]
(more, shorter rounds on a busy machine: the median of many alternations)
Prints figures; asserts nothing (targets are in docs/performance.md).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from bench.common import AGENCY, bench_system, seed_placement, summary_ms  # noqa: E402
from bench.http_client import RawHttpConnection  # noqa: E402
from infra import processes  # noqa: E402
from service import commands as c  # noqa: E402


class RawBaseline:
    """asyncpg, one connection, a prepared single-row INSERT in autocommit into
    a table shaped like a tenant's events table, with an event-sized row."""

    def __init__(self, url: str):
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(asyncpg.connect(url))
        self.loop.run_until_complete(self.conn.execute(
            "DROP TABLE IF EXISTS bench_raw_events;"
            "CREATE TABLE bench_raw_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
            " topic text, state bytea, notification_id bigserial,"
            " PRIMARY KEY (originator_id, originator_version));"
            "CREATE UNIQUE INDEX ON bench_raw_events (notification_id)"))
        self.stmt = self.loop.run_until_complete(self.conn.prepare(
            "INSERT INTO bench_raw_events (originator_id, originator_version, topic, state)"
            " VALUES ($1, $2, $3, $4)"))
        self.oid, self.version = uuid.uuid4(), 0

    def rate(self, n: int, state: bytes) -> float:
        async def run() -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                self.version += 1
                await self.stmt.fetch(self.oid, self.version,
                                      "domain.placement:Placement.FeedbackGiven", state)
            return n / (time.perf_counter() - t0)
        return self.loop.run_until_complete(run())

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.execute("DROP TABLE IF EXISTS bench_raw_events"))
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


def bench_a(n: int, rounds: int = 5) -> float:
    """Service layer and raw baseline measured in alternating rounds, so drift
    on the machine (other load, autovacuum) hits both; the median round counts."""
    system = bench_system()
    try:
        tenant = system.registry.create_tenant("bench-a", "Bench A")
        placement = seed_placement(system, tenant)
        cmd = c.GiveFeedback(placement_id=placement, score=4, from_role="agency", comment="Goed bezig")
        app = system.stores.for_tenant(tenant)
        raw = RawBaseline(system.database_url)
        for _ in range(100):  # warm-up: caches, prepared statements
            system.ledger.execute(tenant, AGENCY, cmd)
        # The raw rows carry the same bytes as a stored FeedbackGiven event.
        state = app.recorder.select_events(placement, desc=True, limit=1)[0].state
        raw.rate(100, state)
        per_round = max(n // rounds, 1)
        service_rates, raw_rates = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(per_round):
                system.ledger.execute(tenant, AGENCY, cmd)
            service_rates.append(per_round / (time.perf_counter() - t0))
            raw_rates.append(raw.rate(per_round, state))
        raw.close()
        ratios = sorted(s / r for s, r in zip(service_rates, raw_rates))
        service_rate = statistics.median(service_rates)
        print(f"(a) service layer give_feedback: {service_rate:,.0f} commands/s sequential "
              f"(median of {rounds} rounds of {per_round}; one event per transaction)")
        print(f"    raw asyncpg single-row autocommit INSERT: {statistics.median(raw_rates):,.0f} rows/s "
              f"({len(state)}-byte rows, same table shape)")
        print(f"    ratio service/raw: median {statistics.median(ratios):.2f}, "
              f"range {ratios[0]:.2f}-{ratios[-1]:.2f} (target >= 0.5)")
        return service_rate
    finally:
        system.close()


def bench_b(n: int, service_rate: float | None, clients: int = 16) -> None:
    system = bench_system("sroi_bench_http")
    port = processes.free_port()
    proc = None
    try:
        tenant = system.registry.create_tenant("bench-b", "Bench B")
        user = system.registry.create_user(tenant, "bench-b@example.org", "agency")
        token = system.registry.issue_token(user)
        # One placement per client: concurrent clients do not conflict on one aggregate.
        placements = [seed_placement(system, tenant) for _ in range(clients)]
        env = {**os.environ, "DATABASE_URL": system.database_url, "SECRET_KEY": "bench"}
        proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=open("/tmp/bench-serve.log", "w"))
        base = f"http://127.0.0.1:{port}"
        processes.wait_until_serving(base, [proc], timeout=30, log="/tmp/bench-serve.log")
        headers = {"Authorization": f"Bearer {token}"}
        body = b'{"score": 4, "from_role": "agency", "comment": "Goed bezig"}'
        latencies: list[float] = []
        errors = 0

        async def client(placement: uuid.UUID, count: int) -> None:
            nonlocal errors
            conn = RawHttpConnection("127.0.0.1", port)
            await conn.connect()
            path = f"/api/v1/placements/{placement}/feedback"
            try:
                for _ in range(count):
                    t = time.perf_counter()
                    status, payload = await conn.request("POST", path, body, headers)
                    latencies.append(time.perf_counter() - t)
                    if status != 201:
                        errors += 1
                        if errors <= 3:
                            print("    error:", status, payload[:300])
            finally:
                await conn.close()

        async def main() -> float:
            await asyncio.gather(*(client(p, 10) for p in placements))  # warm-up
            latencies.clear()
            t0 = time.perf_counter()
            await asyncio.gather(*(client(p, n // clients) for p in placements))
            return time.perf_counter() - t0

        elapsed = asyncio.run(main())
        rate = len(latencies) / elapsed
        print(f"(b) HTTP API give_feedback, {clients} concurrent clients: {rate:,.0f} requests/s, "
              f"{summary_ms(latencies)}, errors {errors}")
        if service_rate:
            print(f"    ratio HTTP/service-layer: {rate / service_rate:.2f} (target >= 0.5, p99 < 50 ms)")
    finally:
        if proc:
            processes.stop([proc])
        system.close()


def bench_c(tenants: int) -> None:
    os.environ["PGAPPNAME"] = app_name = f"sroi-bench-c-{os.getpid()}"
    system = bench_system("sroi_bench_tenants")
    pool_max = system.stores.database("default").datastore.pool.max_size
    peak_conns = 0
    stop = threading.Event()
    monitor_url = system.database_url

    def monitor() -> None:
        nonlocal peak_conns
        import psycopg
        with psycopg.connect(monitor_url, autocommit=True, application_name="bench-monitor") as conn:
            while not stop.is_set():
                n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                 (app_name,)).fetchone()[0]
                peak_conns = max(peak_conns, n)
                time.sleep(0.05)

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    try:
        t0 = time.perf_counter()
        for i in range(tenants):
            tenant = system.registry.create_tenant(f"bench-c-{i:05d}", f"Tenant {i}")
            system.ledger.execute(tenant, AGENCY, c.RegisterEmployer(name=f"Werkgever {i}"))
        elapsed = time.perf_counter() - t0
        time.sleep(0.2)
    finally:
        stop.set()
        watcher.join()
        system.close()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(c) {tenants} tenants created and written once in {elapsed:.1f} s: peak PostgreSQL "
          f"connections held by the process {peak_conns} (pool max {pool_max}, target <= 20); "
          f"peak RSS {peak_rss_mb:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds of (a), n/rounds commands each")
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--only", default="a,b,c")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    print(f"PostgreSQL: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded (pgserver)'}")
    rate = bench_a(args.n, args.rounds) if "a" in parts else None
    if "b" in parts:
        bench_b(args.n, rate)
    if "c" in parts:
        bench_c(args.tenants)


if __name__ == "__main__":
    main()
