"""Real `sroi worker` processes project what the ledger writes.

- the embedded default broker (PostgreSQL, BROKER_URL unset): one worker;
- RabbitMQ: two workers sharing the fixed "projections" queue, ~200 commands
  across three tenants written concurrently;
- read-your-writes through the API (?min_position=X-Event-Position).

The stale read runs first, before any worker of this module exists (workers'
sweeps would project every tenant of the shared database, this one too).
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import dramatiq
import pytest
from litestar.testing import TestClient

from domain.contribution import Contribution
from infra.bootstrap import System, bootstrap
from infra.settings import Settings
from projections.compliance import compliance_for_contract
from projections.registry import PROJECTIONS, QUEUE
from service import commands as c
from tests.projections.conftest import (
    API,
    Books,
    Spawned,
    bearer,
    catch_up,
    live_positions,
    subprocess_env,
    token_for,
    wait_until,
    worker_command,
)

pytestmark = pytest.mark.timeout(120)

CONTRIBUTION = {"kind": "other_activity", "description": "Gastlessen ROC Midden-Nederland",
                "activity_date": "2026-05-12", "hours": "16"}


def caught_up(books: Books) -> bool:
    head = books.head()
    return head > 0 and all(p == head for p in live_positions(books.system, books.tenant).values())


def wait_caught_up(books_list: list[Books], timeout: float, workers: list[Spawned]) -> None:
    def done() -> bool:
        for w in workers:
            assert w.proc.poll() is None, f"a worker died:\n{w.output()[-3000:]}"
        return all(caught_up(b) for b in books_list)
    try:
        wait_until(done, timeout, poll=0.1, message="the workers to reach every tenant's head")
    except AssertionError:
        logs = "\n".join(w.output()[-2000:] for w in workers)
        behind = {b.tenant.slug: (b.head(), live_positions(b.system, b.tenant)) for b in books_list}
        raise AssertionError(f"not caught up: {behind}\nworker output:\n{logs}") from None


def seed_contract(books: Books) -> dict[str, UUID]:
    employer = books.employer()
    contract = books.contract(employer, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                              awarded_on=date(2025, 11, 15))  # figures do not grow after 2026
    placement = books.placement(books.candidate(target_group="participatiewet"), employer, contract,
                                starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    return {"employer": employer, "contract": contract, "placement": placement}


# -- without a worker: a stale read says so, quickly ---------------------------------------------------
def test_without_a_worker_a_read_waiting_for_a_position_answers_stale_after_the_bounded_wait(
        client, system, books):
    ids = seed_contract(books)
    catch_up(system, books.tenant)  # the contract is known to the read model; then no worker runs
    token = bearer(token_for(system, books.tenant, "agency"))
    as_of = str(max(date(2026, 12, 31), date.today()))

    r = client.post(f"{API}/contracts/{ids['contract']}/contributions", json=CONTRIBUTION, headers=token)
    assert r.status_code == 201, r.text
    position = int(r.headers["X-Event-Position"])
    started = time.monotonic()
    stale = client.get(f"{API}/contracts/{ids['contract']}/compliance", headers=token,
                       params={"min_position": position, "as_of": as_of})
    waited = time.monotonic() - started
    plain = client.get(f"{API}/contracts/{ids['contract']}/compliance", headers=token, params={"as_of": as_of})
    reached = client.get(f"{API}/contracts/{ids['contract']}/compliance", headers=token,
                         params={"min_position": position - 1, "as_of": as_of})

    assert position == books.head()
    assert stale.status_code == 200, stale.text
    assert stale.headers.get("X-Projection-Stale") == "true"
    assert stale.json()["pending_eur"] == "40000.00"  # without the 1,600 just reported
    assert 1.5 <= waited < 6, waited  # bounded (two seconds)
    assert "X-Projection-Stale" not in plain.headers
    assert "X-Projection-Stale" not in reached.headers  # the position before it was projected


def test_a_contract_not_yet_projected_is_reported_stale_not_just_missing(client, system, books):
    employer = books.employer()
    catch_up(system, books.tenant)
    token = bearer(token_for(system, books.tenant, "agency"))
    r = client.post(f"{API}/contracts", json={
        "employer_id": str(employer), "title": "Onderhoud openbare ruimte",
        "contracting_authority": "Gemeente Utrecht", "contract_value_eur": "1000000.00",
        "obligation_percent": "5", "starts_on": "2025-01-01", "ends_on": "2027-12-31",
        "awarded_on": "2024-11-15", "rule_set": "utrecht-2024"}, headers=token)
    assert r.status_code == 201, r.text

    read = client.get(f"{API}/contracts/{r.json()['id']}/compliance", headers=token,
                      params={"min_position": r.headers["X-Event-Position"]})

    assert read.headers.get("X-Projection-Stale") == "true", (read.status_code, dict(read.headers))


# -- the embedded default broker (PostgreSQL) ---------------------------------------------------------------
@pytest.fixture
def pg_worker(database_url: str, spawn) -> Spawned:
    """One `sroi worker` on the PostgreSQL broker in the test database (BROKER_URL unset);
    stopped after the test, so no worker of another broker's test is helped by it."""
    return spawn(worker_command(), subprocess_env(database_url), name="pg-worker")


async def test_one_worker_on_the_embedded_postgresql_broker_projects_what_the_ledger_writes(
        pool, system, books, pg_worker):
    assert system.settings.broker_url is None  # the embedded default
    ids = seed_contract(books)
    books.run(c.ReportOtherActivity(contract_id=ids["contract"], description="Sollicitatietraining",
                                    activity_date=date(2026, 4, 1), hours=Decimal("16")))
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(ids["placement"]),
                                   decided_on=date(2026, 10, 1)))

    wait_caught_up([books], 20, [pg_worker])

    f = await compliance_for_contract(pool, books.tenant.id, ids["contract"], max(date(2026, 12, 31), date.today()))
    assert f is not None
    assert f["accepted_eur"] == "40000.00"
    assert f["pending_eur"] == "1600.00"
    assert f["obligation_eur"] == "50000.00"
    assert live_positions(system, books.tenant) == {p.name: books.head() for p in PROJECTIONS}


def test_read_your_writes_with_a_worker_running(client, system, books, pg_worker):
    ids = seed_contract(books)
    token = bearer(token_for(system, books.tenant, "agency"))
    wait_caught_up([books], 20, [pg_worker])  # the worker is up and has seen the tenant

    for n in (1, 2):
        r = client.post(f"{API}/contracts/{ids['contract']}/contributions", json=CONTRIBUTION, headers=token)
        assert r.status_code == 201, r.text
        position = int(r.headers["X-Event-Position"])
        fresh = client.get(f"{API}/contracts/{ids['contract']}/compliance", headers=token,
                           params={"min_position": position, "as_of": str(max(date(2026, 12, 31), date.today()))})
        assert fresh.status_code == 200, fresh.text
        assert "X-Projection-Stale" not in fresh.headers
        assert fresh.json()["pending_eur"] == f"{40000 + 1600 * n}.00"

    contributions = client.get(f"{API}/contracts/{ids['contract']}/contributions", headers=token,
                               params={"min_position": books.head()})
    assert "X-Projection-Stale" not in contributions.headers
    assert len(contributions.json()["contributions"]) == 3


# -- RabbitMQ, two workers ----------------------------------------------------------------------------------
@pytest.fixture
def rabbit_system(rabbitmq_url: str, database_url: str) -> Iterator[System]:
    """A System whose notifier enqueues on RabbitMQ, on the test database."""
    env = {"SECRET_KEY": "test-secret-key-not-for-production", "BROKER_URL": rabbitmq_url,
           "DATABASE_URL": database_url}
    sys_ = bootstrap(Settings.from_env(env), database_url=database_url)
    yield sys_
    sys_.close()


def test_two_workers_on_rabbitmq_count_every_event_of_three_busy_tenants_exactly_once(
        rabbit_system, rabbitmq_url, database_url, spawn):
    system = rabbit_system
    tenants = [Books(system, system.registry.create_tenant(f"rmq-{uuid.uuid4().hex[:12]}", f"Werkbedrijf {i}"))
               for i in range(3)]
    # Stale or foreign messages on the shared queue must not stop the workers.
    system.notifier.send(uuid.uuid4())  # a tenant this database does not have
    for actor_name, args in (("project_tenant", ("not-a-tenant-id",)), ("no_such_actor", ())):
        system.broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name=actor_name, args=args,
                                               kwargs={}, options={}))
    workers = [spawn(worker_command(), subprocess_env(database_url, BROKER_URL=rabbitmq_url), name=f"rmq-{i}")
               for i in range(2)]

    feedback_each, activities_each = 28, 5
    seeded: dict[str, dict[str, Any]] = {}
    for b in tenants:
        employer = b.employer()
        contract = b.contract(employer)
        placements = [b.placement(b.candidate(full_name=name, target_group="participatiewet"), employer, contract,
                                  starts_on=date(2026, 1, 1), hours_per_week=Decimal("18"))
                      for name in ("Kees Bakker", "Anouk Smit")]
        seeded[b.tenant.slug] = {"contract": contract, "placements": placements}
    failures: list[BaseException] = []

    def feedback(b: Books, placement: UUID) -> None:
        try:
            for i in range(feedback_each):
                b.run(c.GiveFeedback(placement_id=placement, score=1 + i % 5, from_role="agency",
                                     comment=f"Week {i}"))
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    def activities(b: Books, contract: UUID) -> None:
        try:
            for i in range(activities_each):
                b.run(c.ReportOtherActivity(contract_id=contract, description=f"Workshop {i}",
                                            activity_date=date(2026, 3, 1), hours=Decimal("1")))
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    threads = [threading.Thread(target=feedback, args=(b, p))
               for b in tenants for p in seeded[b.tenant.slug]["placements"]]
    threads += [threading.Thread(target=activities, args=(b, seeded[b.tenant.slug]["contract"])) for b in tenants]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    assert sum(b.commands for b in tenants) >= 200

    wait_caught_up(tenants, 45, workers)

    for b in tenants:
        ids = seeded[b.tenant.slug]
        with system.stores.database("default").connection() as conn:
            counts = {r["placement_id"]: r["feedback_count"] for r in conn.execute(
                "SELECT placement_id, feedback_count FROM rm.r_placements p WHERE tenant_id = %s AND gen ="
                " (SELECT gen FROM rm.live WHERE projection = 'retention' AND tenant_id = p.tenant_id)",
                (b.tenant.id,)).fetchall()}
            feedback_rows = conn.execute(
                "SELECT count(*) AS n FROM rm.r_feedback f WHERE tenant_id = %s AND gen ="
                " (SELECT gen FROM rm.live WHERE projection = 'retention' AND tenant_id = f.tenant_id)",
                (b.tenant.id,)).fetchone()["n"]
            contributions = conn.execute(
                "SELECT kind, count(*) AS n, sum(amount_eur) AS amount FROM rm.c_contributions k"
                " WHERE tenant_id = %s AND gen = (SELECT gen FROM rm.live WHERE projection = 'compliance'"
                " AND tenant_id = k.tenant_id) GROUP BY kind ORDER BY kind", (b.tenant.id,)).fetchall()
        assert counts == {p: feedback_each for p in ids["placements"]}, b.tenant.slug
        assert feedback_rows == 2 * feedback_each
        assert [(r["kind"], r["n"]) for r in contributions] == [("other_activity", activities_each),
                                                                ("placement", 2)]
        assert contributions[0]["amount"] == Decimal(100 * activities_each)
    for w in workers:
        assert w.proc.poll() is None, w.output()
