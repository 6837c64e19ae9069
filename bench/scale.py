"""Scale-out: tenants on one vs two PostgreSQL servers, one vs two web
processes behind HAProxy, measured in one run.

Set-up: the platform database on the main server (DATABASE_URL, or the
embedded one), a second PostgreSQL cluster started here (pgserver, in a
temporary folder) as TENANT_DATABASES `b`; two tenant sets of --tenants
agencies each, one all on the main server, one half on each; two `sroi serve`
processes; two HAProxy instances with the committed infra/deploy/haproxy.cfg,
one with both server lines on web 1 (one web process), one on web 1 and 2.

Each configuration runs the same load through its balancer: --clients
concurrent keep-alive clients, each with a placement of its own (the clients
spread over the set's tenants), writing `give feedback` (POST, one event each),
then reading the placement's contract (GET, from the tenant's event store;
not the placement, whose history grows with every write of the run). Configurations
alternate in --rounds rounds so drift on the machine hits all of them; a
direct connection to web 1 (no balancer) is measured too, as the balancer's
cost. The baseline of the ratios is "1 db, 1 web" through HAProxy.

Per configuration: requests/s, p50/p99 latency, errors, the CPU the web
processes used per request (the sizing figure a busy machine still gives);
per process and server, the most connections it held (pg_stat_activity by
application_name: PGAPPNAME for the write pool, the URL's application_name
for the read pool and the PostgreSQL broker's).

No worker runs (projections are measured by bench/projections.py); the
projection notifier's messages go to the broker (--broker-url, default the
PostgreSQL broker on the platform's database) and wait there.

Usage: python bench/scale.py [--quick] [--n 4000] [--rounds 5] [--clients 16] [--tenants 8]
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench.common import AGENCY, note, percentile, proc_cpu_s, say, seed_placement  # noqa: E402
from domain.placement import Placement  # noqa: E402
from bench.http_client import RawHttpConnection  # noqa: E402
from infra import processes  # noqa: E402
from infra.bootstrap import System, bootstrap  # noqa: E402
from infra.database import drop_database, ensure_database_exists, resolve_database_url, with_database  # noqa: E402
from infra.settings import Settings  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CFG = PROJECT_ROOT / "infra" / "deploy" / "haproxy.cfg"
APP = "sroi-bench-scale"  # application_name prefix of the processes' connections
FEEDBACK = b'{"score": 4, "from_role": "agency", "comment": "Goed bezig"}'


def with_app_name(url: str, name: str) -> str:
    """The URL with `application_name` set (asyncpg passes it to the server)."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("application_name="))
    query = "&".join(filter(None, [query, urlencode({"application_name": name})]))
    return urlunsplit(parts._replace(query=query))


@dataclass
class Client:
    tenant_db: str
    token: str
    placement: uuid.UUID
    contract: uuid.UUID


@dataclass
class Config:
    name: str
    clients: list[Client]
    port: int  # where the load goes: a balancer, or web 1 directly
    webs: list[int]  # indexes of the web processes behind it
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    elapsed: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rates: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0
    web_cpu_s: float = 0.0


async def run_load(config: Config, kind: str, per_client: int) -> None:
    """Every client sends `per_client` requests of `kind` on its own keep-alive connection."""
    latencies: list[float] = []

    async def client(c: Client) -> None:
        conn = RawHttpConnection("127.0.0.1", config.port)
        await conn.connect()
        headers = {"Authorization": f"Bearer {c.token}"}
        try:
            for _ in range(per_client):
                t = time.perf_counter()
                if kind == "write":
                    status, payload = await conn.request("POST", f"/api/v1/placements/{c.placement}/feedback",
                                                         FEEDBACK, headers)
                else:
                    status, payload = await conn.request("GET", f"/api/v1/contracts/{c.contract}",
                                                         b"", headers)
                latencies.append(time.perf_counter() - t)
                if status not in (200, 201):
                    config.errors += 1
                    if config.errors <= 3:
                        note(f"    {config.name} {kind} error: {status} {payload[:200]!r}")
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(c) for c in config.clients))
    elapsed = time.perf_counter() - t0
    config.latencies[kind] += latencies
    config.elapsed[kind] += elapsed
    config.rates[kind].append(len(latencies) / elapsed)


class ConnectionWatch:
    """The most connections each process (application_name) held on each server."""

    def __init__(self, servers: dict[str, str]):
        self.servers = servers
        self.peak: dict[tuple[str, str], int] = defaultdict(int)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        conns = {k: psycopg.connect(url, autocommit=True, application_name="bench-watch")
                 for k, url in self.servers.items()}
        try:
            while not self.stop.is_set():
                for server, conn in conns.items():
                    for app, n in conn.execute(
                            "SELECT application_name, count(*) FROM pg_stat_activity"
                            " WHERE application_name LIKE %s GROUP BY 1", (APP + "%",)).fetchall():
                        key = (app.removeprefix(APP + "-"), server)
                        self.peak[key] = max(self.peak[key], n)
                time.sleep(0.2)
        finally:
            for conn in conns.values():
                conn.close()

    def __enter__(self) -> "ConnectionWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def start_haproxy(webs: list[int], log: Path) -> tuple[subprocess.Popen, int]:
    """HAProxy with the committed configuration; `webs` the two server lines' ports."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        raise SystemExit("haproxy is missing: `make haproxy` (apt-get install haproxy)")
    port = processes.free_port()
    env = {**os.environ, "SROI_LB_BIND": f"127.0.0.1:{port}",
           "SROI_WEB1": f"127.0.0.1:{webs[0]}", "SROI_WEB2": f"127.0.0.1:{webs[1]}"}
    proc = subprocess.Popen([binary, "-f", str(HAPROXY_CFG), "-db"], env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    processes.wait_until_serving(f"http://127.0.0.1:{port}", [proc], timeout=30, log=log)
    return proc, port


def tenant_set(system: System, label: str, tenants: int, clients: int, on_b: bool) -> list[Client]:
    """`tenants` agencies (every other one on `b` if `on_b`), `clients` placements spread over them."""
    made = []
    for i in range(tenants):
        database = "b" if on_b and i % 2 else "default"
        tenant = system.registry.create_tenant(f"scale-{label}-{i:03d}", f"Agency {label} {i}", database=database)
        user = system.registry.create_user(tenant, f"scale-{label}-{i}@example.org", "agency")
        made.append((tenant, system.registry.issue_token(user)))
    clients_made = []
    for j in range(clients):
        tenant, token = made[j % tenants]
        placement = seed_placement(system, tenant)
        contract = system.ledger.get(tenant, AGENCY, Placement, placement).contract_id
        clients_made.append(Client(tenant.database, token, placement, contract))
    return clients_made


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4000, help="requests of each kind per configuration")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds, n/rounds requests each")
    ap.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients")
    ap.add_argument("--tenants", type=int, default=8, help="agencies per tenant set")
    ap.add_argument("--pool", type=int, default=8, help="DB_POOL_SIZE of the web processes")
    ap.add_argument("--read-pool", type=int, default=4, help="DB_READ_POOL_SIZE of the web processes")
    ap.add_argument("--broker-url", default="", help="BROKER_URL of the web processes (default: PostgreSQL broker)")
    ap.add_argument("--quick", action="store_true", help="a short run (n=320, 2 rounds, 8 clients)")
    args = ap.parse_args()
    if args.quick:
        args.n, args.rounds, args.clients = 320, 2, 8
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    load_before = os.getloadavg()
    settings = Settings.from_env({**os.environ, "SECRET_KEY": "bench"})
    main_server = resolve_database_url(settings.database.url, settings.data_dir, dbname="postgres")
    platform_url = with_database(main_server, "sroi_bench_scale")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sroi-scale-")))
        note(f"starting the second PostgreSQL cluster under {tmp}")
        second = pgserver.get_server(tmp / "pg-b", cleanup_mode="delete")
        stack.callback(second.cleanup)
        b_url = with_database(second.get_uri(), "sroi_bench_scale_b")
        for url in (platform_url, b_url):
            drop_database(url)
            ensure_database_exists(url)
        stack.callback(drop_database, platform_url)
        env = {"DATABASE_URL": platform_url, "SECRET_KEY": "bench", "TENANT_DATABASES": json.dumps({"b": b_url}),
               "SROI_DATA_DIR": str(tmp / "data"), "DB_POOL_SIZE": str(args.pool),
               "DB_READ_POOL_SIZE": str(args.read_pool), "TRUSTED_PROXIES": "127.0.0.1"}
        if args.broker_url:
            env["BROKER_URL"] = args.broker_url
        system = bootstrap(Settings.from_env(env))
        stack.callback(system.close)
        note("seeding two tenant sets")
        one_db = tenant_set(system, "one", args.tenants, args.clients, on_b=False)
        two_db = tenant_set(system, "two", args.tenants, args.clients, on_b=True)

        ports = [processes.free_port(), processes.free_port()]
        webs = []
        for i, port in enumerate(ports, start=1):
            name = f"{APP}-web{i}"
            proc_env = {**{k: v for k, v in os.environ.items() if k != "BROKER_URL"}, **env,
                        "PGAPPNAME": name,  # the write pool (psycopg/libpq)
                        "DATABASE_URL": with_app_name(platform_url, name + "-url"),  # asyncpg, the broker
                        "TENANT_DATABASES": json.dumps({"b": with_app_name(b_url, name + "-url")})}
            webs.append(subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--host", "127.0.0.1",
                                          "--port", str(port)], cwd=PROJECT_ROOT, env=proc_env,
                                         stdout=open(tmp / f"web{i}.log", "ab"), stderr=subprocess.STDOUT))
        stack.callback(processes.stop, webs)
        for i, (port, web) in enumerate(zip(ports, webs), start=1):
            processes.wait_until_serving(f"http://127.0.0.1:{port}", [web], log=tmp / f"web{i}.log")
        lb_one, lb_one_port = start_haproxy([ports[0], ports[0]], tmp / "haproxy-one.log")
        lb_two, lb_two_port = start_haproxy(ports, tmp / "haproxy-two.log")
        stack.callback(processes.stop, [lb_one, lb_two])

        configs = [Config("1 db, 1 web, no balancer", one_db, ports[0], [0]),
                   Config("1 db, 1 web", one_db, lb_one_port, [0]),
                   Config("2 db, 1 web", two_db, lb_one_port, [0]),
                   Config("1 db, 2 web", one_db, lb_two_port, [0, 1]),
                   Config("2 db, 2 web", two_db, lb_two_port, [0, 1])]
        per_client = max(args.n // args.rounds // args.clients, 1)
        note(f"warm-up, then {args.rounds} rounds x {len(configs)} configurations x "
             f"{per_client * args.clients} requests of each kind")
        for config in configs:  # warm-up: caches, prepared statements, pools
            asyncio.run(run_load(config, "write", 5))
            asyncio.run(run_load(config, "read", 5))
            config.latencies.clear(), config.elapsed.clear(), config.rates.clear()
            config.errors = 0
        with ConnectionWatch({"main": platform_url, "b": b_url}) as watch:
            for r in range(args.rounds):
                for config in configs if r % 2 == 0 else reversed(configs):
                    cpu = [proc_cpu_s(webs[i].pid) for i in config.webs]
                    for kind in ("write", "read"):
                        asyncio.run(run_load(config, kind, per_client))
                    config.web_cpu_s += sum(proc_cpu_s(webs[i].pid) - c for i, c in zip(config.webs, cpu))
                note(f"  round {r + 1}/{args.rounds} done")
        load_after = os.getloadavg()

    base = configs[1]
    say(f"bench/scale.py: {args.clients} clients, {args.tenants} tenants per set, "
        f"{args.rounds} rounds of {per_client * args.clients} requests of each kind per configuration; "
        f"DB_POOL_SIZE {args.pool}, DB_READ_POOL_SIZE {args.read_pool}; broker "
        f"{'RabbitMQ' if args.broker_url.startswith('amqp') else 'PostgreSQL'}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; {os.cpu_count()} cores")
    say("| configuration | writes/s | write p50 / p99 ms | reads/s | read p50 / p99 ms | "
        "writes vs 1 db, 1 web | web CPU ms per request | errors |")
    say("|---|---|---|---|---|---|---|---|")
    for config in configs:
        w, rd = config.latencies["write"], config.latencies["read"]
        wrate, rrate = statistics.median(config.rates["write"]), statistics.median(config.rates["read"])
        ratio = wrate / statistics.median(base.rates["write"])
        cpu_ms = 1000 * config.web_cpu_s / max(len(w) + len(rd), 1)
        say(f"| {config.name} | {wrate:,.0f} | {percentile(w, 50) * 1000:.1f} / {percentile(w, 99) * 1000:.1f} | "
            f"{rrate:,.0f} | {percentile(rd, 50) * 1000:.1f} / {percentile(rd, 99) * 1000:.1f} | "
            f"{ratio:.2f} | {cpu_ms:.2f} | {config.errors} |")
    say("")
    say("Most connections held, per web process and server (`webN`: the write pool, psycopg, named by "
        "PGAPPNAME; `webN-url`: connections made from the URL, the asyncpg read pool and, on main, the "
        "PostgreSQL broker's pool of 4):")
    for (app, server), n in sorted(watch.peak.items()):
        say(f"  {app:10s} on {server:4s}: {n}")


if __name__ == "__main__":
    main()
