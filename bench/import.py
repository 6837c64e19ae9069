"""Spreadsheet import throughput, against a raw baseline in the same run.

10,000 candidates and their 10,000 placements (hours per week, a contract)
are imported from two CSV files (service/importing.py: read, mapped,
validated by the handlers, stored in batches with the import's correlation
id), after one employer and one contract. Then the very same stored events
(ids, versions, topics, state bytes, chain hashes and times, as the import
stored them) are written again with a raw asyncpg `executemany` into a table
of the same shape (the same columns and indexes as a tenant's events table); the
ratio is events/s of the import over rows/s of the raw write (target >= 0.25).
Three rounds (--rounds), each into a new tenant with its own raw write right
after it: the machine's speed moves between runs, a ratio measured close
together less; the median round is reported, and every round's ratio.

Also: a preview of the 10,000 placement rows (reading the file included;
target < 5 s), from CSV and from XLSX (openpyxl), and importing the same
files again (nothing new is stored).

Usage: python bench/import.py [--n 10000] [--rounds 3]
Prints figures; asserts nothing (targets are in docs/performance.md).
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AGENCY, bench_system, note, say  # noqa: E402
from infra import spreadsheet  # noqa: E402
from infra.eventstore import events_table_for  # noqa: E402
from service import commands as c  # noqa: E402
from service import importing  # noqa: E402


def files(n: int, contract: uuid.UUID, employer: uuid.UUID) -> tuple[bytes, bytes]:
    candidates = io.StringIO()
    candidates.write("Kandidaatnummer;Naam;Geboortedatum;Doelgroep;Competenties\n")
    placements = io.StringIO()
    placements.write("Kandidaat;Werkgever;Contract;Startdatum;Uren per week;Vast contract\n")
    for i in range(n):
        born = date(1970 + i % 35, 1 + i % 12, 1 + i % 28)
        candidates.write(f"K{i:06d};Kandidaat {i};{born:%d-%m-%Y};doelgroepregister;schoonmaak, logistiek\n")
        placements.write(f"K{i:06d};{employer};{contract};{1 + i % 28:02d}-02-2026;{20 + i % 17},5;"
                         f"{'ja' if i % 3 == 0 else 'nee'}\n")
    return candidates.getvalue().encode(), placements.getvalue().encode()


def xlsx_of(csv_bytes: bytes) -> bytes:
    import openpyxl
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Plaatsingen")
    for line in csv_bytes.decode().splitlines():
        ws.append(line.split(";"))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def raw_rate(url: str, rows: list[tuple]) -> float:
    # Imported here: the import's child processes run this main module again
    # at their start (multiprocessing's spawn preparation), and asyncpg is
    # the benchmark's own (18 ms a child), not the worker's.
    import asyncpg

    async def run() -> float:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "DROP TABLE IF EXISTS bench_raw_import;"
                "CREATE TABLE bench_raw_import (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
                " topic text, state bytea, notification_id bigserial, chain_hash bytea, recorded_at timestamptz,"
                " PRIMARY KEY (originator_id, originator_version));"
                "CREATE UNIQUE INDEX ON bench_raw_import (notification_id)")
            await conn.execute("CHECKPOINT")  # as before the import (checkpoint())
            t0 = time.perf_counter()
            async with conn.transaction():
                await conn.executemany("INSERT INTO bench_raw_import (originator_id, originator_version, topic, state,"
                                       " chain_hash, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)", rows)
            elapsed = time.perf_counter() - t0
            await conn.execute("DROP TABLE bench_raw_import")
            return len(rows) / elapsed
        finally:
            await conn.close()
    return asyncio.run(run())


def checkpoint(url: str) -> None:
    """A checkpoint now, so that neither the import nor the raw write meets
    one started by the other's writes (both start from the same state)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def register_contract(system, tenant) -> tuple[uuid.UUID, uuid.UUID]:
    """One employer and one contract: what the placements refer to."""
    ledger = system.ledger
    employer = uuid.UUID(ledger.execute(tenant, AGENCY, c.RegisterEmployer(name="Schoonmaakbedrijf Noord")).body["id"])
    contract = uuid.UUID(ledger.execute(tenant, AGENCY, c.RegisterContract(
        employer_id=employer, title="Schoonmaak gemeentehuizen", contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("50000000"), obligation_percent=Decimal("5"), starts_on=date(2026, 1, 1),
        ends_on=date(2029, 12, 31), awarded_on=date(2025, 11, 1), rule_set="utrecht-2024")).body["id"])
    return employer, contract


def import_round(system, tenant, n: int) -> tuple[dict[str, tuple[float, float]], list[tuple], bytes]:
    """Preview, then import, the candidates file and then the placements file
    into `tenant` (a new one: nothing of it imported before); their times,
    the events the import stored (as stored), and the placements file."""
    ledger = system.ledger
    employer, contract = register_contract(system, tenant)
    candidates_csv, placements_csv = files(n, contract, employer)
    table = events_table_for(tenant.id)
    with system.stores.database(tenant.database).connection() as conn:
        before = conn.execute(f"SELECT coalesce(max(notification_id), 0) AS m FROM events.{table}").fetchone()["m"]
    timings = {}
    for label, data, kind in (("candidates", candidates_csv, "candidates"),
                              ("placements", placements_csv, "placements")):
        t0 = time.perf_counter()
        the_plan = importing.plan(spreadsheet.read(data), kind, {})
        summary = importing.preview(ledger, tenant, AGENCY, the_plan)
        preview_s = time.perf_counter() - t0
        assert summary["ok"] == n, summary
        checkpoint(system.database_url)
        t0 = time.perf_counter()
        the_plan = importing.plan(spreadsheet.read(data), kind, {})
        result = importing.confirm(ledger, tenant, AGENCY, the_plan, uuid.uuid4())
        timings[label] = (preview_s, time.perf_counter() - t0)
        assert result["new"] == n, result
        note(f"{label}: preview {preview_s:.2f} s, import {timings[label][1]:.2f} s")
    with system.stores.database(tenant.database).connection() as conn:
        rows = conn.execute(f"SELECT originator_id, originator_version, topic, state, chain_hash, recorded_at"
                            f" FROM events.{table} WHERE notification_id > %s ORDER BY notification_id",
                            (before,)).fetchall()
    events = [(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]), bytes(r["chain_hash"]),
               r["recorded_at"]) for r in rows]
    return timings, events, placements_csv


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n = args.n
    say(f"PostgreSQL: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded (pgserver)'}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    system = bench_system("sroi_bench_import")
    try:
        ledger = system.ledger
        if system.ledger.batch_processes is not None:
            # As the worker does at its start (infra/worker.py): the fork
            # server the import's processes come from, started once.
            system.ledger.batch_processes.warm()
        say(f"import processes: {system.settings.import_processes} (IMPORT_PROCESSES)")
        # Rounds: each imports both files into a tenant of its own, then
        # writes the same events raw, its ratio of the two measured close
        # together (this machine's speed moves by a fifth from one minute to
        # the next); the median round is reported.
        rounds = []
        for r in range(args.rounds):
            tenant = system.registry.create_tenant(f"bench-import-{r}", f"Bench import {r}")
            timings, events, placements_csv = import_round(system, tenant, n)
            import_s = timings["candidates"][1] + timings["placements"][1]
            import_rate = len(events) / import_s
            # The raw write moves by a third from one run to the next (a
            # 60,000-row transaction meets checkpoints, autovacuum): its median of three.
            raws = sorted(raw_rate(system.database_url, events) for _ in range(3))
            rounds.append((import_rate / raws[1], import_s, import_rate, raws, len(events), timings))
            say(f"round {r + 1}: import {import_s:.2f} s ({import_rate:,.0f} events/s), raw {raws[1]:,.0f} rows/s"
                f" (median of {', '.join(f'{x:,.0f}' for x in raws)}): ratio {import_rate / raws[1]:.3f}")
        ratio, import_s, import_rate, raws, count, timings = sorted(rounds, key=lambda x: x[0])[len(rounds) // 2]
        say(f"import of {n:,} candidates + {n:,} placements (two CSV files), the median round: {import_s:.1f} s, "
            f"{count:,} events, {import_rate:,.0f} events/s ({2 * n / import_s:,.0f} rows/s)")
        say(f"  raw asyncpg executemany of the same {count:,} events (one transaction): {raws[1]:,.0f} rows/s")
        say(f"  ratio import/raw: {ratio:.3f} (target >= 0.25; rounds: "
            f"{', '.join(f'{x[0]:.3f}' for x in rounds)})")
        say(f"preview of {n:,} placement rows (CSV, read + map + validate): {timings['placements'][0]:.2f} s "
            f"(target < 5 s); of {n:,} candidate rows: {timings['candidates'][0]:.2f} s")

        xlsx = xlsx_of(placements_csv)
        t0 = time.perf_counter()
        the_plan = importing.plan(spreadsheet.read(xlsx), "placements", {})
        read_s = time.perf_counter() - t0
        summary = importing.preview(ledger, tenant, AGENCY, the_plan)
        xlsx_s = time.perf_counter() - t0
        say(f"preview of the same {n:,} rows as XLSX ({len(xlsx) // 1024} KB): {xlsx_s:.2f} s "
            f"(reading the workbook {read_s:.2f} s); all already imported: {summary['already'] == n}")

        t0 = time.perf_counter()
        result = importing.confirm(ledger, tenant, AGENCY, importing.plan(spreadsheet.read(placements_csv),
                                                                          "placements", {}), uuid.uuid4())
        say(f"the placements file again: {time.perf_counter() - t0:.2f} s, {result['new']} new, "
            f"{result['already']:,} already imported")
    finally:
        system.close()


if __name__ == "__main__":
    main()
