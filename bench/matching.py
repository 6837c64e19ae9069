"""Matching benchmark: suggestions for a vacancy among 100,000 candidates.

The tenant's history is built fast but through the real code: each candidate
is registered and states availability through the service layer's own
handlers (bench/projections.py HistoryBuilder: aggregates in memory, events
mapped with the tenant's mapper, personal fields sealed per person, stored in
chunks of 5,000 with the tenant recorder); a fifth are placed (some full
time, some ended). Competences come from a vocabulary of 150 with Zipf-like
popularity, 3-8 per candidate; regions from the 12 provinces. Then the
matching projection catches up (events/s printed) and 100 vacancies, drawn
from the same popularity (so common competences are asked often), are
queried with `projections.matching.suggestions` over asyncpg: p50/p95/max;
as a baseline, one query scoring everyone who shares a competence (its SQL
and the Python scoring of its rows; each answer is checked to be the same),
and how many candidates that is. Last: a vacancy asking the five most
common competences in a region, and the worst case for the tiered search:
one common competence and nothing else to narrow on.

Usage: python bench/matching.py [--candidates 100000] [--queries 100] [--limit 20] [--reuse]
Prints figures; asserts nothing (target: p95 < 100 ms).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from bench.common import bench_system, percentile, say  # noqa: E402
from bench.projections import HistoryBuilder  # noqa: E402
from domain.matching import VacancyNeeds, normalise, rank  # noqa: E402
from projections import matching  # noqa: E402
from projections.base import RM  # noqa: E402
from projections.writer import ProjectionRunner  # noqa: E402
from service import commands as c  # noqa: E402
from service.actor import Actor  # noqa: E402

AGENCY = Actor(user_id=uuid.UUID(int=7), role="agency", organisation="bench")
PROVINCES = ["Groningen", "Friesland", "Drenthe", "Overijssel", "Flevoland", "Gelderland", "Utrecht",
             "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Limburg"]
VOCABULARY = [f"competentie-{i:03d}" for i in range(150)]
WEIGHTS = [1 / (i + 1) ** 0.8 for i in range(len(VOCABULARY))]  # Zipf-like popularity
START = date(2026, 3, 1)


def draw(rng: random.Random, n: int) -> list[str]:
    chosen: list[str] = []
    while len(chosen) < n:
        word = rng.choices(VOCABULARY, WEIGHTS)[0]
        if word not in chosen:
            chosen.append(word)
    return chosen


def build(system, n: int, rng: random.Random):
    tenant = system.registry.create_tenant(f"bench-match-{uuid.uuid4().hex[:6]}", "Bench matching")
    app = system.stores.for_tenant(tenant)
    b = HistoryBuilder(app, rng)
    t0 = time.perf_counter()
    employer = b.execute(0, AGENCY, c.RegisterEmployer(name="Werkgever B.V."))
    for i in range(n):
        day = 1 + i / n * 300
        cand = b.execute(day, AGENCY, c.RegisterCandidate(
            full_name=f"Kandidaat {i}", date_of_birth=date(rng.randint(1962, 2004), rng.randint(1, 12), 1),
            target_group=rng.choice(["participatiewet", "doelgroepregister", "wajong", "wia_wao", "ww"]),
            competences=draw(rng, rng.randint(3, 8)), support_needs=rng.choice(["", "Rustige werkplek."])))
        b.execute(day + 0.001, AGENCY, c.StateAvailability(
            candidate_id=cand, hours_per_week=Decimal(rng.choice([12, 16, 20, 24, 28, 32, 36, 40])),
            available_from=START + timedelta(days=rng.randint(-120, 90)), region=rng.choice(PROVINCES)))
        if rng.random() < 0.2:
            placement = b.execute(day + 0.002, AGENCY, c.StartPlacement(
                candidate_id=cand, employer_id=employer, contract_id=None, vacancy_id=None,
                starts_on=date(2025, 6, 1), hours_per_week=Decimal(rng.choice([12, 16, 24, 36])),
                permanent_contract=False))
            if rng.random() < 0.3:
                b.execute(day + 0.003, AGENCY, c.EndPlacement(placement_id=placement, ends_on=date(2025, 12, 31),
                                                             reason="contract_ended"))
    build_s = time.perf_counter() - t0
    store_s = b.store()
    return tenant, len(b.items), build_s, store_s


COUNT_SQL = f"""
SELECT count(*) FROM {RM}.m_candidates m
WHERE m.tenant_id = $1 AND m.gen = (SELECT gen FROM {RM}.live WHERE projection = 'matching' AND tenant_id = $1)
  AND m.placed_hours < 36 AND (cardinality($2::text[]) = 0 OR m.match_keys && $2::text[])
"""


async def query_bench(database_url: str, tenant_id: uuid.UUID, queries: int, limit: int) -> None:
    rng = random.Random(7)  # its own: the same vacancies with or without --reuse
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    vacancies = []
    for _ in range(queries):
        asked = draw(rng, rng.randint(2, 6))
        split = rng.randint(1, min(4, len(asked)))
        vacancies.append(VacancyNeeds(tuple(asked[:split]), tuple(asked[split:]),
                                      Decimal(rng.choice([16, 24, 32, 36])), rng.choice([None, *PROVINCES]), START))
    for v in vacancies[:5]:  # warm up (plans, caches)
        await matching.suggestions(pool, tenant_id, v, limit)
    totals, sql_s, py_s, passed = [], [], [], []
    for v in vacancies:
        keys = [normalise(k) for k in (*v.required_competences, *v.optional_competences)]
        passed.append(await pool.fetchval(COUNT_SQL, tenant_id, keys))
        t0 = time.perf_counter()
        found = await matching.suggestions(pool, tenant_id, v, limit)
        totals.append(time.perf_counter() - t0)
        # Baseline: one pass over everyone sharing a competence (the query
        # without tiers), then scoring its rows in Python.
        req, opt = [normalise(k) for k in v.required_competences], [normalise(k) for k in v.optional_competences]
        t0 = time.perf_counter()
        rows = await pool.fetch(matching.CANDIDATES_SQL, tenant_id, req + opt, req, opt, v.hours_per_week,
                                normalise(v.region) if v.region else None, v.starts_on, limit + matching.MARGIN)
        t1 = time.perf_counter()
        expected = rank(v, [matching.profile_of(r) for r in rows], limit)
        t2 = time.perf_counter()
        sql_s.append(t1 - t0)
        py_s.append(t2 - t1)
        assert [s.candidate_id for s in found] == [s.candidate_id for s in expected]  # same answer

    def ms(values: list[float]) -> str:
        v = [x * 1000 for x in values]
        return f"p50 {percentile(v, 50):.1f} ms, p95 {percentile(v, 95):.1f} ms, max {max(v):.1f} ms"

    say(f"  suggestions (limit {limit}), {queries} vacancies: {ms(totals)}   [target p95 < 100 ms]")
    say(f"    baseline without tiers (same answer): SQL {ms(sql_s)}; "
        f"Python scoring of {limit + matching.MARGIN} rows: {ms(py_s)}")
    say(f"    candidates past the coarse filter: median {int(percentile(passed, 50)):,}, "
        f"p95 {int(percentile(passed, 95)):,}, max {max(passed):,}")
    worst = VacancyNeeds(tuple(VOCABULARY[:3]), tuple(VOCABULARY[3:5]), Decimal(24), "Utrecht", START)
    keys = [normalise(k) for k in VOCABULARY[:5]]
    n = await pool.fetchval(COUNT_SQL, tenant_id, keys)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        await matching.suggestions(pool, tenant_id, worst, limit)
        times.append(time.perf_counter() - t0)
    say(f"  the 5 most common competences asked, in a region ({n:,} candidates past the filter), "
        f"20 calls: {ms(times)}")
    # Worst case for the tiers: one common competence, nothing else to narrow on.
    bare = VacancyNeeds((VOCABULARY[0],), (), Decimal(24), None, START)
    n = await pool.fetchval(COUNT_SQL, tenant_id, [normalise(VOCABULARY[0])])
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        await matching.suggestions(pool, tenant_id, bare, limit)
        times.append(time.perf_counter() - t0)
    say(f"  worst case: only the most common competence, no region, no optional ({n:,} candidates), "
        f"20 calls: {ms(times)}")
    await pool.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--reuse", action="store_true",
                    help="query the candidates a previous run left in the benchmark database (no build)")
    args = ap.parse_args()
    rng = random.Random(42)
    if args.reuse:
        import os

        from infra.database import resolve_database_url, with_database
        from infra.settings import Settings

        settings = Settings.from_env({**os.environ, "SECRET_KEY": "bench"})
        url = with_database(resolve_database_url(settings.database.url, settings.data_dir, dbname="postgres"),
                            "sroi_bench_matching")

        async def reuse() -> None:
            conn = await asyncpg.connect(url)
            tenant_id = await conn.fetchval(f"SELECT tenant_id FROM {RM}.live WHERE projection = 'matching'"
                                            " ORDER BY switched_at DESC LIMIT 1")
            await conn.close()
            await query_bench(url, tenant_id, args.queries, args.limit)
        asyncio.run(reuse())
        return
    system = bench_system("sroi_bench_matching")
    try:
        say(f"building {args.candidates:,} candidates ...")
        tenant, events, build_s, store_s = build(system, args.candidates, rng)
        say(f"  {events:,} events: built in {build_s:.1f} s, stored in {store_s:.1f} s "
            f"({events / store_s:,.0f} events/s)")
        database = system.stores.database(tenant.database)
        t0 = time.perf_counter()
        result = ProjectionRunner(database, matching.MatchingProjection()).catch_up(tenant, wait=True)
        took = time.perf_counter() - t0
        say(f"  matching projection: {result.processed:,} events in {took:.1f} s "
            f"({result.processed / took:,.0f} events/s)")
        with database.connection() as conn:
            # What autovacuum does to a table written over time: hint bits,
            # visibility map, statistics (a bulk load would leave them to the
            # first queries).
            conn.execute(f"VACUUM ANALYZE {RM}.m_candidates")
            size = conn.execute("SELECT pg_total_relation_size('rm.m_candidates') AS s").fetchone()["s"]
        say(f"  rm.m_candidates with indexes: {size / 2**20:,.0f} MB")
        asyncio.run(query_bench(system.database_url, tenant.id, args.queries, args.limit))
    finally:
        system.close()


if __name__ == "__main__":
    main()
