"""Read-side fixtures and helpers: commands through the real ledger, projections
caught up with the real ProjectionRunner, figures read with the real asyncpg
queries, workers as real `sroi worker` subprocesses.

Every test makes its own tenants (random slugs) in the shared test database.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import TestClient

from infra import processes
from infra.bootstrap import System
from infra.eventstore import Tenant
from tests.api.openapi_check import OpenAPICheck
from projections.base import RM
from projections.writer import ProjectionRunner
from projections.registry import PROJECTIONS
from service import commands as c
from service.actor import Actor
from tests.conftest import random_slug
from tests.service.conftest import (  # valid Dutch example commands
    open_vacancy,
    register_candidate,
    register_contract,
    start_placement,
)
from web.app import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"

__all__ = ["open_vacancy", "register_candidate", "register_contract", "start_placement"]


# -- asyncpg ---------------------------------------------------------------------
@pytest.fixture(scope="session")
async def pool(database_url: str, system: System) -> AsyncIterator[asyncpg.Pool]:
    # `system` first: it creates the read-model schema.
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    yield p
    await p.close()


# -- the HTTP API ------------------------------------------------------------------
@pytest.fixture(scope="session")
def client(system: System, openapi_check: OpenAPICheck) -> Iterator[TestClient]:
    """Every /api/v1 answer is checked against the OpenAPI (tests/api/openapi_check.py)."""
    with TestClient(create_app(system)) as c_:
        c_.event_hooks["response"].append(openapi_check.hook)
        yield c_


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(system: System, tenant: Tenant, role: str, **kwargs: Any) -> str:
    user = system.registry.create_user(tenant, f"{uuid.uuid4().hex}@example.org", role, **kwargs)
    return system.registry.issue_token(user)


# -- commands ------------------------------------------------------------------------
def actor(role: str = "agency", **kwargs: Any) -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role,
                 organisation=kwargs.pop("organisation", f"test-{role}"), **kwargs)


_COUNT_LOCK = threading.Lock()


@dataclass
class Books:
    """One tenant driven through the service layer (the ledger)."""

    system: System
    tenant: Tenant
    who: Actor = field(default_factory=actor)
    last_position: int = 0
    commands: int = 0

    def run(self, command: Any, as_: Actor | None = None) -> Any:
        result = self.system.ledger.execute(self.tenant, as_ or self.who, command)
        assert result.position > 0, result
        with _COUNT_LOCK:
            self.last_position = max(self.last_position, result.position)
            self.commands += 1
        return result

    def new(self, command: Any, as_: Actor | None = None) -> UUID:
        return UUID(self.run(command, as_).body["id"])

    # Shorthands with the defaults of tests/service/conftest.py.
    def employer(self, name: str = "Bouwbedrijf De Vries") -> UUID:
        return self.new(c.RegisterEmployer(name=name))

    def contract(self, employer: UUID, **overrides: Any) -> UUID:
        overrides.setdefault("accepted_by", "agency")
        return self.new(register_contract(employer, **overrides))

    def candidate(self, **overrides: Any) -> UUID:
        return self.new(register_candidate(**overrides))

    def placement(self, candidate: UUID, employer: UUID, contract: UUID | None, *,
                  vacancy: UUID | None = None, **overrides: Any) -> UUID:
        overrides.setdefault("planned_end_on", None)
        return self.new(start_placement(candidate, employer, contract, vacancy, **overrides))

    def vacancy(self, employer: UUID, **overrides: Any) -> UUID:
        return self.new(open_vacancy(employer, **overrides))

    def matched_placement(self, employer: UUID, contract: UUID | None, *, opened_on: date | None = None,
                          candidate: dict[str, Any] | None = None, **overrides: Any) -> UUID:
        """A candidate matched to a vacancy (opened on `opened_on`), then placed."""
        cand = self.candidate(**(candidate or {}))
        vac = self.vacancy(employer, opened_on=opened_on)
        self.run(c.MatchCandidate(vacancy_id=vac, candidate_id=cand))
        return self.placement(cand, employer, contract, vacancy=vac, **overrides)

    def head(self) -> int:
        app = self.system.stores.for_tenant(self.tenant)
        return app.recorder.max_notification_id() or 0


@pytest.fixture
def books(system: System, tenant: Tenant) -> Books:
    return Books(system, tenant)


@pytest.fixture
def new_books(system: System) -> Callable[..., Books]:
    def make(name: str = "Werkbedrijf Utrecht B.V.") -> Books:
        return Books(system, system.registry.create_tenant(random_slug(), name))
    return make


# -- projections ------------------------------------------------------------------------
def runner(system: System, tenant: Tenant, name: str, **kwargs: Any) -> ProjectionRunner:
    projection = next(p for p in PROJECTIONS if p.name == name)
    return ProjectionRunner(system.stores.database(tenant.database), projection, **kwargs)


def catch_up(system: System, tenant: Tenant) -> dict[str, int]:
    """Every projection of the tenant up to its latest event; positions by name."""
    return {p.name: runner(system, tenant, p.name).catch_up(tenant, wait=True).position
            for p in PROJECTIONS}


def table_projection() -> dict[str, str]:
    """Every read-model table of every registered projection -> the projection's name."""
    return {t.name: p.name for p in PROJECTIONS for t in p.tables}


def snapshot(system: System, tenant: Tenant, *, gen: str = "live") -> dict[str, list[tuple]]:
    """Every read-model row of the tenant, without the gen column, sorted.

    gen="live": the generation rm.live names for the table's projection;
    gen="all": rows of every generation (to see left-over generations)."""
    out: dict[str, list[tuple]] = {}
    with system.stores.database(tenant.database).connection() as conn:
        for table, projection in sorted(table_projection().items()):
            cols = [r["column_name"] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
                " AND table_name = %s AND column_name <> 'gen' ORDER BY ordinal_position",
                (RM, table)).fetchall()]
            where = "tenant_id = %s"
            params: list[Any] = [tenant.id]
            if gen == "live":
                where += f" AND gen = (SELECT gen FROM {RM}.live WHERE projection = %s AND tenant_id = %s)"
                params += [projection, tenant.id]
            quoted = ", ".join('"' + c_ + '"' for c_ in cols)
            rows = conn.execute(f'SELECT {quoted} FROM {RM}."{table}" WHERE {where}', params).fetchall()
            out[table] = sorted((tuple(repr(r[c_]) for c_ in cols) for r in rows))
    return out


def generations(system: System, tenant: Tenant, table: str) -> set[int]:
    """The live or rebuilt generations (gen > 0) with rows of the tenant in a table."""
    with system.stores.database(tenant.database).connection() as conn:
        rows = conn.execute(f'SELECT DISTINCT gen FROM {RM}."{table}" WHERE tenant_id = %s AND gen > 0',
                            (tenant.id,)).fetchall()
    return {r["gen"] for r in rows}


def tracking(system: System, tenant: Tenant) -> dict[tuple[str, int], int]:
    """(projection, gen) -> position, for every live or rebuilt generation with a
    tracking row (as-of replay generations, gen < 0, left out)."""
    with system.stores.database(tenant.database).connection() as conn:
        rows = conn.execute(f"SELECT projection, gen, position FROM {RM}.tracking WHERE tenant_id = %s"
                            " AND gen > 0", (tenant.id,)).fetchall()
    return {(r["projection"], r["gen"]): r["position"] for r in rows}


def live(system: System, tenant: Tenant) -> dict[str, int]:
    with system.stores.database(tenant.database).connection() as conn:
        rows = conn.execute(f"SELECT projection, gen FROM {RM}.live WHERE tenant_id = %s",
                            (tenant.id,)).fetchall()
    return {r["projection"]: r["gen"] for r in rows}


def live_positions(system: System, tenant: Tenant) -> dict[str, int]:
    gens, track = live(system, tenant), tracking(system, tenant)
    return {p.name: track.get((p.name, gens[p.name]), 0) if p.name in gens else 0 for p in PROJECTIONS}


def wait_until(predicate: Callable[[], Any], timeout: float, poll: float = 0.1,
               message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(poll)


# -- money ------------------------------------------------------------------------------
def eur(value: str | Decimal | int) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


# -- subprocesses -----------------------------------------------------------------------
def subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BROKER_URL"}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-not-for-production",
                "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


@dataclass
class Spawned:
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Spawned]]:
    """Start subprocesses (output to a log file); all are stopped in teardown."""
    started: list[Spawned] = []

    def start(args: list[str], env: dict[str, str], name: str = "proc") -> Spawned:
        log = tmp_path / f"{name}-{len(started)}.log"
        fh = open(log, "wb")
        proc = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
        fh.close()
        s = Spawned(proc, log)
        started.append(s)
        return s

    yield start
    processes.stop([s.proc for s in started], timeout=10)


def worker_command() -> list[str]:
    return [sys.executable, "-m", "infra.cli", "worker"]
