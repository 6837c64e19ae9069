"""Shared set-up for the benchmarks: a real PostgreSQL (DATABASE_URL, or the
embedded one), a fresh benchmark database, and a tenant with one placement."""
from __future__ import annotations

import os
import statistics
import sys
import uuid
from datetime import date
from decimal import Decimal

from infra.bootstrap import System, bootstrap
from infra.database import drop_database, ensure_database_exists, resolve_database_url, with_database
from infra.eventstore import Tenant
from infra.settings import Settings
from service import commands as c
from service.actor import Actor

def say(line: str = "") -> None:
    """A figure or result line (stdout)."""
    print(line, flush=True)


def note(line: str) -> None:
    """Progress (stderr), kept apart from the figures."""
    print(line, file=sys.stderr, flush=True)


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far, from /proc (NaN where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            parts = fh.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


AGENCY = Actor(user_id=uuid.UUID(int=7), role="agency", organisation="bench")


def bench_database_url(settings: Settings, name: str = "sroi_bench") -> str:
    server = resolve_database_url(settings.database.url, settings.data_dir, dbname="postgres")
    url = with_database(server, name)
    drop_database(url)
    ensure_database_exists(url)
    return url


def bench_system(name: str = "sroi_bench", **env: str) -> System:
    settings = Settings.from_env({**os.environ, "SECRET_KEY": "bench", **env})
    return bootstrap(settings, database_url=bench_database_url(settings, name))


def seed_placement(system: System, tenant: Tenant) -> uuid.UUID:
    ledger = system.ledger

    def new(cmd: object) -> uuid.UUID:
        return uuid.UUID(ledger.execute(tenant, AGENCY, cmd).body["id"])

    employer = new(c.RegisterEmployer(name="Bouwbedrijf De Vries B.V."))
    contract = new(c.RegisterContract(
        employer_id=employer, title="Onderhoud openbare ruimte", contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("1000000"), obligation_percent=Decimal("5"),
        starts_on=date(2026, 1, 1), ends_on=date(2027, 12, 31), awarded_on=date(2025, 11, 1),
        rule_set="utrecht-2024"))
    candidate = new(c.RegisterCandidate(
        full_name="Sanne Bakker", date_of_birth=date(1994, 4, 12), target_group="doelgroepregister",
        competences=["data-analyse"], support_needs=""))
    return new(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=contract, vacancy_id=None,
        starts_on=date(2026, 2, 1), hours_per_week=Decimal("32"), permanent_contract=False))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (f"p50 {percentile(ms, 50):.2f} ms, p95 {percentile(ms, 95):.2f} ms, "
            f"p99 {percentile(ms, 99):.2f} ms, mean {statistics.fmean(ms):.2f} ms")
