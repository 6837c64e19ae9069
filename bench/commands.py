"""Command throughput, measured against a raw baseline in the same run.

(a) `give feedback` through the service layer, sequential, one event per
    transaction, vs a raw asyncpg single-row autocommit INSERT into a table of
    the same shape (the floor any event store on this database pays).
(b) the same command through the HTTP API (uvicorn, real sockets) with 16
    concurrent clients: requests/s, p50/p99 latency.
(c) 1,000 tenants created and each written to once in one process: peak
    PostgreSQL connections held by the process, and its peak RSS.

Usage: python bench/commands.py [--n 2000] [--tenants 1000] [--only a,b,c]
Prints figures; asserts nothing (targets are in docs/performance.md).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import AGENCY, bench_system, seed_placement, summary_ms  # noqa: E402
from bench.http_client import RawHttpConnection  # noqa: E402
from service import commands as c  # noqa: E402


async def raw_insert_rate(url: str, n: int) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS bench_raw_events")
        await conn.execute(
            "CREATE TABLE bench_raw_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
            " topic text, state bytea, notification_id bigserial,"
            " PRIMARY KEY (originator_id, originator_version))")
        await conn.execute("CREATE UNIQUE INDEX ON bench_raw_events (notification_id)")
        stmt = await conn.prepare(
            "INSERT INTO bench_raw_events (originator_id, originator_version, topic, state) VALUES ($1,$2,$3,$4)")
        oid = uuid.uuid4()
        state = b'{"score":4,"from_role":"employer","comment":"Goed bezig","given_on":"2026-03-01"}'
        for i in range(50):  # warm-up
            await stmt.fetch(oid, i, "domain.placement:Placement.FeedbackGiven", state)
        t0 = time.perf_counter()
        for i in range(50, 50 + n):
            await stmt.fetch(oid, i, "domain.placement:Placement.FeedbackGiven", state)
        return n / (time.perf_counter() - t0)
    finally:
        await conn.execute("DROP TABLE IF EXISTS bench_raw_events")
        await conn.close()


def bench_a(n: int) -> float:
    system = bench_system()
    try:
        tenant = system.registry.create_tenant("bench-a", "Bench A")
        placement = seed_placement(system, tenant)
        cmd = c.GiveFeedback(placement_id=placement, score=4, from_role="agency", comment="Goed bezig")
        for _ in range(50):  # warm-up: caches, prepared statements
            system.ledger.execute(tenant, AGENCY, cmd)
        t0 = time.perf_counter()
        for _ in range(n):
            system.ledger.execute(tenant, AGENCY, cmd)
        service_rate = n / (time.perf_counter() - t0)
        raw_rate = asyncio.run(raw_insert_rate(system.database_url, n))
        print(f"(a) service layer give_feedback: {service_rate:,.0f} commands/s sequential "
              f"({n} commands, one event per transaction)")
        print(f"    raw asyncpg single-row autocommit INSERT: {raw_rate:,.0f} rows/s")
        print(f"    ratio service/raw: {service_rate / raw_rate:.2f} (target >= 0.5)")
        return service_rate
    finally:
        system.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_b(n: int, service_rate: float | None, clients: int = 16) -> None:
    system = bench_system("sroi_bench_http")
    port = _free_port()
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
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
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
            proc.terminate()
            proc.wait(timeout=15)
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
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--only", default="a,b,c")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    print(f"PostgreSQL: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded (pgserver)'}")
    rate = bench_a(args.n) if "a" in parts else None
    if "b" in parts:
        bench_b(args.n, rate)
    if "c" in parts:
        bench_c(args.tenants)


if __name__ == "__main__":
    main()
