"""The authority's portfolio: GET /api/v1/authority/contracts (and the page
/portfolio) with 50 agencies and 2,000 contracts linked to one authority.

Seeded through the service layer (Ledger.execute, as the API does): per
agency 4 employers (one linked to an employer organisation), 40 contracts
linked to the authority at registration and 10 linked to another authority
(noise), 10 placements and 10 purchases on the authority's contracts, half
of them accepted; then every projection of every agency caught up.

Measured, one request at a time on a keep-alive connection to the real
server (`python -m infra.cli serve`, SERVER_TIMING=1): the API list
unfiltered (all 2,000 rows and the totals), filtered (one agency, a status;
a supplier's organisation), with one agency changed between requests (a
purchase reported in a random agency through Ledger.execute and its
projections caught up before each request; only the request is timed), with
a different as_of each request (every agency computed afresh), and the page
(first 50 rows, totals over all). Raw baseline in the same run: the same
SELECT (projections.portfolio.CONTRACTS_SQL) through asyncpg directly, for
every agency and for one.

Usage: python bench/portfolio.py [--agencies 50] [--contracts 40 (at least 30)] [--n 200] [--warmup 20]
       [--reuse]  (measure the database the last run seeded)
Database: sroi_bench_portfolio (dropped and created fresh unless --reuse). Prints figures;
asserts nothing (target: p95 < 50 ms).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import psycopg  # noqa: E402

from bench.common import AGENCY, bench_system, note, percentile, say  # noqa: E402
from bench.pages_http import PageConnection  # noqa: E402
from bench.pages_series import server_timing  # noqa: E402
from infra import processes  # noqa: E402
from infra.bootstrap import System, bootstrap  # noqa: E402
from infra.database import resolve_database_url, with_database  # noqa: E402
from infra.settings import Settings  # noqa: E402
from projections import portfolio  # noqa: E402
from projections.registry import PROJECTIONS  # noqa: E402
from projections.writer import ProjectionRunner  # noqa: E402
from service import commands as c  # noqa: E402
from service.actor import Actor  # noqa: E402

PASSWORD = "bench portfolio password"
CSRF_FIELD_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def seed(system: System, agencies: int, per_agency: int) -> dict:
    registry = system.registry
    n = uuid.uuid4().int
    authority = registry.create_organisation("authority", "Gemeente Bench", oin=f"{n % 10**20:020d}")
    noise = registry.create_organisation("authority", "Gemeente Ruis", oin=f"{(n // 7) % 10**20:020d}")
    employer_org = registry.create_organisation("employer", "Bench Bouw B.V.", kvk=f"{n % 10**8:08d}")
    officer = registry.create_org_user(authority.id, "officer@bench.example.org", "authority", password=PASSWORD)
    token = registry.issue_token(officer)
    today = date.today()
    tenants = []
    t0 = time.perf_counter()
    for a in range(agencies):
        tenant = registry.create_tenant(f"bench-pf-{a:03d}", f"Bureau {a:03d} B.V.")
        tenants.append(tenant)

        def run(cmd: object, actor: Actor = AGENCY) -> uuid.UUID:
            body = system.ledger.execute(tenant, actor, cmd).body
            return uuid.UUID(body["id"]) if body and "id" in body else uuid.UUID(int=0)

        employers = [run(c.RegisterEmployer(name=f"Leverancier {a:03d}-{e}",
                                            org_id=employer_org.id if e == 0 else None)) for e in range(4)]
        contracts = []
        for k in range(per_agency + 10):
            starts = today - timedelta(days=30 * (k % 24))
            contracts.append(run(c.RegisterContract(
                employer_id=employers[k % 4], title=f"Contract {a:03d}-{k:03d}", contracting_authority=None,
                contract_value_eur=Decimal(100000 + 1000 * k), obligation_percent=Decimal("5"),
                starts_on=starts, ends_on=starts + timedelta(days=730), awarded_on=starts - timedelta(days=30),
                rule_set="utrecht-2024", authority_org_id=authority.id if k < per_agency else noise.id)))
        for k in range(10):
            contract = contracts[k * 3]
            candidate = run(c.RegisterCandidate(
                full_name=f"Kandidaat {a}-{k}", date_of_birth=date(1990, 1, 1 + k), target_group="doelgroepregister",
                competences=["Plannen"], support_needs="", benefit_since=date(2015, 1, 1)))
            run(c.StartPlacement(candidate_id=candidate, employer_id=employers[(k * 3) % 4], contract_id=contract,
                                 vacancy_id=None, starts_on=today - timedelta(days=20 * k + 1),
                                 hours_per_week=Decimal("24"), permanent_contract=False))
            purchase = run(c.ReportSocialEnterprisePurchase(
                contract_id=contracts[k * 3 + 1], supplier="Sociale Werkplaats",
                invoice_amount_eur_excl_vat=Decimal("2500.00"), register="registered_social_enterprise",
                invoice_date=today - timedelta(days=10), description="catering"))
            if k % 2 == 0 and k * 3 + 1 < per_agency:  # the authority decides on its own contracts
                run(c.AcceptContribution(contribution_id=purchase, reason="gezien", decided_on=None),
                    Actor(user_id=officer.id, role="authority", organisation=authority.name, org_id=authority.id))
        if a % 10 == 9:
            note(f"  {a + 1} agencies seeded ({time.perf_counter() - t0:.0f} s)")
    t1 = time.perf_counter()
    for tenant in tenants:
        for projection in PROJECTIONS:
            ProjectionRunner(system.stores.database(tenant.database), projection).catch_up(tenant, wait=True)
    note(f"  projected in {time.perf_counter() - t1:.0f} s")
    return {"authority": authority, "token": token, "officer": officer, "tenants": tenants,
            "employer_org": employer_org.id, "seconds": t1 - t0}


def reuse(system: System) -> dict:
    registry = system.registry
    authority = next(o for o in registry.list_organisations("authority") if o.name == "Gemeente Bench")
    officer = registry.user_by_email("officer@bench.example.org")
    tenants = [t for t in registry.list_tenants() if t.slug.startswith("bench-pf-")]
    employer_org = next(o for o in registry.list_organisations("employer") if o.name == "Bench Bouw B.V.")
    return {"authority": authority, "token": registry.issue_token(officer), "officer": officer, "tenants": tenants,
            "employer_org": employer_org.id, "seconds": float("nan")}


def stats(label: str, values: list[float], extra: str = "") -> None:
    say(f"| {label} | {percentile(values, 50):.1f} / {percentile(values, 95):.1f} ms | {extra} |")


async def raw_baseline(url: str, org_id: uuid.UUID, tenants: list[uuid.UUID], n: int,
                       warmup: int) -> list[float]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    sql = portfolio.CONTRACTS_SQL.format(column="authority_org_id")
    times = []
    try:
        for i in range(warmup + n):
            t0 = time.perf_counter()
            async with pool.acquire() as conn:
                rows = await conn.fetch(sql, org_id, date.today(), tenants)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
        say(f"raw SELECT: {len(rows)} rows for {len(tenants)} agencies")
    finally:
        await pool.close()
    return times


class Changes:
    """A purchase reported in a random agency on one of its contracts with the
    authority, through the service layer, and that agency's projections caught
    up: between two requests of the "one agency changed" series."""

    def __init__(self, system: System, world: dict) -> None:
        self.system, self.random = system, random.Random(12)
        self.tenants = world["tenants"]
        self.contracts: dict[uuid.UUID, list[uuid.UUID]] = {}
        with psycopg.connect(system.database_url) as conn:
            for tenant_id, contract_id in conn.execute(
                    "SELECT tenant_id, contract_id FROM rm.portfolio_contracts WHERE authority_org_id = %s",
                    (world["authority"].id,)).fetchall():
                self.contracts.setdefault(tenant_id, []).append(contract_id)

    def __call__(self) -> None:
        tenant = self.random.choice(self.tenants)
        self.system.ledger.execute(tenant, AGENCY, c.ReportSocialEnterprisePurchase(
            contract_id=self.random.choice(self.contracts[tenant.id]), supplier="Sociale Werkplaats",
            invoice_amount_eur_excl_vat=Decimal("100.00"), register="registered_social_enterprise",
            invoice_date=date.today() - timedelta(days=1), description="bench"))
        for projection in PROJECTIONS:
            ProjectionRunner(self.system.stores.database(tenant.database), projection).catch_up(tenant, wait=True)


async def measure(port: int, world: dict, changes: Changes, n: int, warmup: int) -> None:
    conn = PageConnection("127.0.0.1", port)
    await conn.connect()
    try:
        api = {"Authorization": f"Bearer {world['token']}"}
        agency = world["tenants"][min(7, len(world["tenants"]) - 1)].id
        series = {
            "API, every contract (2,000 rows, totals)": ("/api/v1/authority/contracts", api),
            "API, one agency and a status": (
                "/api/v1/authority/contracts?" + urlencode({"agency": agency, "status": "at_risk"}), api),
            "API, a supplier and a period": (
                "/api/v1/authority/contracts?" + urlencode({"supplier": "-0", "from": date.today().isoformat()}),
                api),
            "API, a supplier's organisation (50 rows)": (
                "/api/v1/authority/contracts?" + urlencode({"employer_org": world["employer_org"]}), api),
        }
        first = await conn.send("GET", "/api/v1/authority/contracts", headers=api)
        say(f"API check: {first.status}, {first.text.count('contract_id')} contracts, "
            f"{len(first.body) // 1024} KiB")
        for label, (path, headers) in series.items():
            await run_series(conn, label, path, headers, n, warmup)
        # A command in one agency before each request: that agency's rows computed again, the others kept.
        await run_series(conn, "API, one agency changed between requests (every contract)",
                         "/api/v1/authority/contracts", api, n, warmup, before=changes)
        # A different day each request: every answer computed afresh (the list cache keys on the day).
        await run_series(conn, "API, figures not cached (a different as_of each request)",
                         lambda i: f"/api/v1/authority/contracts?as_of={date.today() - timedelta(days=i)}",
                         api, n, warmup)
        # The page: signed in through the login form.
        form = await conn.send("GET", "/login")
        token = CSRF_FIELD_RE.search(form.text).group(1)  # type: ignore[union-attr]
        body = urlencode({"_csrf_token": token, "email": world["officer"].email, "password": PASSWORD,
                          "next": "/"}).encode()
        login = await conn.send("POST", "/login", body, content_type="application/x-www-form-urlencoded")
        assert login.status == 303, login.status
        page = await conn.send("GET", "/portfolio")
        say(f"page check: {page.status}, {page.text.count('<tr>')} table rows shown")
        await run_series(conn, "page /portfolio (50 rows shown, totals over 2,000)", "/portfolio", {}, n, warmup)
    finally:
        await conn.close()


async def run_series(conn: PageConnection, label: str, path: Any, headers: dict, n: int, warmup: int,
                     before: Any = None) -> None:
    client, server, db = [], [], []
    for i in range(warmup + n):
        if before is not None:
            before()  # not timed
        reply = await conn.send("GET", path(i) if callable(path) else path, headers=headers)
        if reply.status != 200:
            raise RuntimeError(f"{path}: {reply.status} {reply.text[:300]}")
        if i >= warmup:
            client.append(reply.seconds * 1000)
            timing = server_timing(reply.header("server-timing"))
            server.append(timing.get("app", float("nan")))
            db.append(timing.get("db", float("nan")))
    stats(label, server, f"client {percentile(client, 50):.1f} / {percentile(client, 95):.1f} ms; "
                         f"db {percentile(db, 50):.1f} / {percentile(db, 95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--contracts", type=int, default=40, help="linked to the authority, per agency")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if args.reuse:
        settings = Settings.from_env({**os.environ, "SECRET_KEY": "bench"})
        server = resolve_database_url(settings.database.url, settings.data_dir, dbname="postgres")
        system = bootstrap(settings, database_url=with_database(server, "sroi_bench_portfolio"))
    else:
        system = bench_system("sroi_bench_portfolio")
    try:
        if args.reuse:
            world = reuse(system)
            args.agencies = len(world["tenants"])
        else:
            note(f"seeding {args.agencies} agencies x {args.contracts} linked contracts ...")
            world = seed(system, args.agencies, args.contracts)
        say(f"seeded {args.agencies} agencies, {args.agencies * args.contracts} contracts linked to the authority "
            f"(+{args.agencies * 10} to another) in {world['seconds']:.0f} s")
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = float("nan")
        say(f"load average at the start of the measurements: {load:.1f}")
        say("")
        say("| series | server p50 / p95 | |")
        say("|---|---|---|")
        stats("raw SELECT via asyncpg (the same statement, unfiltered)",
              asyncio.run(raw_baseline(system.database_url, world["authority"].id, [t.id for t in world["tenants"]],
                                       args.n, args.warmup)))
        stats("raw SELECT via asyncpg, one agency (40 rows: what a change costs)",
              asyncio.run(raw_baseline(system.database_url, world["authority"].id, [world["tenants"][0].id],
                                       args.n, args.warmup)))
        port = processes.free_port()
        env = {**os.environ, "DATABASE_URL": system.database_url, "SECRET_KEY": "bench", "SERVER_TIMING": "1"}
        log_path = "/tmp/bench-portfolio-serve.log"
        proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--port", str(port)], env=env,
                                cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
        try:
            processes.wait_until_serving(f"http://127.0.0.1:{port}", [proc], log=log_path)
            asyncio.run(measure(port, world, Changes(system, world), args.n, args.warmup))
        finally:
            processes.stop([proc])
    finally:
        system.close()


if __name__ == "__main__":
    main()
