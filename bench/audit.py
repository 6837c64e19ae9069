"""Audit benchmarks, each against a baseline measured in the same run.

(a) Chain verification (infra/audit.verify_tenant: read, recompute every
    sha256, compare) in events/s, and its ratio to a raw sequential read of
    the same events (the same SELECT in the same batches, no hashing).
    Target: ratio >= 0.5.
(b) Command throughput with the hash chain on against off: `give feedback`
    through the service layer, sequential, alternating rounds on two tenants
    whose insert functions do and do not chain. Target: ratio >= 0.8.
(c) As-of replay of a tenant with N events (default 1,000,000): both
    projections rebuilt as known at the last position, events/s.

Usage: python bench/audit.py [--events 1000000] [--only a,b,c]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psycopg import sql  # noqa: E402

from bench.common import AGENCY, bench_system, seed_placement  # noqa: E402
from infra import audit  # noqa: E402
from infra.eventstore import SCHEMA  # noqa: E402
from projections.writer import ProjectionRunner  # noqa: E402
from projections.registry import BY_NAME  # noqa: E402
from service import commands as c  # noqa: E402


def raw_read(database, tenant, batch: int = 5000) -> tuple[int, float]:
    select = sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state, chain_hash,"
                     " recorded_at FROM {}.{} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                     ).format(sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))
    n, last = 0, 0
    t0 = time.perf_counter()
    while True:
        with database.connection() as conn:
            rows = conn.execute(select, (last, batch)).fetchall()
        if not rows:
            break
        for r in rows:  # touch what verification touches
            bytes(r["state"]), bytes(r["chain_hash"])
        n += len(rows)
        last = rows[-1]["notification_id"]
    return n, time.perf_counter() - t0


def bench_a_c(events: int, parts: set[str]) -> None:
    from bench.projections import build_history, events_per_placement

    system = bench_system("sroi_bench_audit")
    try:
        feedback = 40
        placements = max(int(events / events_per_placement(feedback)), 10)
        t0 = time.perf_counter()
        hist = build_history(system, "bench-audit", placements=placements, feedback=feedback,
                             big=min(placements // 2, 10_000), small=min(100, placements // 10))
        tenant = hist.tenant
        db = system.stores.database(tenant.database)
        total = audit.count_events(db, tenant)
        print(f"history: {total:,} events built and stored in {time.perf_counter() - t0:.0f} s")
        if "a" in parts:
            raw_rates, verify_rates = [], []
            for _ in range(3):
                n, raw_s = raw_read(db, tenant)
                t = time.perf_counter()
                report = audit.verify_tenant(system.stores.database("default"), db, tenant)
                verify_s = time.perf_counter() - t
                assert report.ok, report.message
                raw_rates.append(n / raw_s)
                verify_rates.append(report.events / verify_s)
            ratios = sorted(v / r for v, r in zip(verify_rates, raw_rates))
            print(f"(a) chain verification: {statistics.median(verify_rates):,.0f} events/s; raw sequential read "
                  f"of the same events: {statistics.median(raw_rates):,.0f} events/s; ratio median "
                  f"{statistics.median(ratios):.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f}; target >= 0.5)")
        if "c" in parts:
            position = total
            for name in ("compliance", "retention"):
                runner = ProjectionRunner(db, BY_NAME[name], batch_size=5000)
                t = time.perf_counter()
                runner.as_of(tenant, position)
                s = time.perf_counter() - t
                print(f"(c) as-of replay of {name} over {position:,} events: {position / s:,.0f} events/s "
                      f"({s:.1f} s)")
    finally:
        system.close()


def bench_b(n: int, rounds: int = 5) -> None:
    system = bench_system("sroi_bench_chain")
    try:
        db = system.stores.database("default")
        chained = system.registry.create_tenant("bench-chain-on", "Chain on")
        db.hash_chain = False  # the next tenant's insert functions do not chain
        unchained = system.registry.create_tenant("bench-chain-off", "Chain off")
        db.hash_chain = True
        cmds = {}
        for tenant in (chained, unchained):
            placement = seed_placement(system, tenant)
            cmds[tenant.slug] = c.GiveFeedback(placement_id=placement, score=4, from_role="agency",
                                               comment="Goed bezig")
            for _ in range(100):
                system.ledger.execute(tenant, AGENCY, cmds[tenant.slug])
        per = max(n // rounds, 1)
        on, off = [], []
        for _ in range(rounds):
            for tenant, out in ((chained, on), (unchained, off)):
                t = time.perf_counter()
                for _ in range(per):
                    system.ledger.execute(tenant, AGENCY, cmds[tenant.slug])
                out.append(per / (time.perf_counter() - t))
        ratios = sorted(a / b for a, b in zip(on, off))
        assert audit.verify_tenant(db, db, chained).ok
        print(f"(b) give_feedback with the hash chain: {statistics.median(on):,.0f} commands/s; without: "
              f"{statistics.median(off):,.0f} commands/s; ratio median {statistics.median(ratios):.2f} "
              f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}; target >= 0.8)")
    finally:
        system.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=5000, help="commands for (b)")
    ap.add_argument("--only", default="a,b,c")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    if "b" in parts:
        bench_b(args.n)
    if parts & {"a", "c"}:
        bench_a_c(args.events, parts)


if __name__ == "__main__":
    main()
