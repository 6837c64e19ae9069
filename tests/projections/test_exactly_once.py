"""Each event counted exactly once: duplicated messages, a worker killed before
its commit, racing runners, rebuilds beside the live generation, the sweep.

Real PostgreSQL, real ProjectionRunner, real subprocesses where a process dies.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from domain.contribution import Contribution
from infra.actors import declare_actors
from projections.base import RM
from projections.compliance import compliance_for_contract
from projections.registry import (
    CATCH_UP_QUEUE,
    PROJECTIONS,
    QUEUE,
    behind_tenants,
    tenant_behind,
)
from projections.writer import Busy, ProjectionRunner
from service import commands as c
from tests.projections.conftest import (
    Books,
    catch_up,
    generations,
    live,
    live_positions,
    runner,
    snapshot,
    subprocess_env,
    table_projection,
    tracking,
    wait_until,
)

pytestmark = pytest.mark.timeout(90)

FEEDBACK_PER_PLACEMENT = 3


def scenario(books: Books) -> dict[str, Any]:
    """A contract with two placements (one accepted, one ended), feedback, a
    decision and another activity: the event kinds the projections handle."""
    employer = books.employer()
    contract = books.contract(employer)
    full = books.matched_placement(employer, contract, opened_on=date(2025, 12, 1),
                                   candidate={"target_group": "participatiewet"},
                                   starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    half = books.placement(books.candidate(full_name="Anouk Smit", target_group="participatiewet"),
                           employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("18"))
    for score in range(FEEDBACK_PER_PLACEMENT):
        books.run(c.GiveFeedback(placement_id=full, score=score + 3, from_role="agency", comment="Prima."))
    books.run(c.EndPlacement(placement_id=half, ends_on=date(2026, 6, 30), reason="resigned"))
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(full), reason="Akkoord",
                                   decided_on=date(2026, 10, 1)))
    books.run(c.ReportOtherActivity(contract_id=contract, description="Gastlessen ROC",
                                    activity_date=date(2026, 3, 3), hours=Decimal("16")))
    return {"contract": contract, "full": full, "half": half}


# as of 2026-12-31: 40,000 accepted; 181 days x 20,000/365 = 9,917.81 + 1,600 pending.
EXPECTED = {"reported_eur": "51517.81", "accepted_eur": "40000.00", "pending_eur": "11517.81"}
AS_OF = max(date(2026, 12, 31), date.today())


async def assert_expected_figures(pool: Any, books: Books, ids: dict[str, Any]) -> None:
    f = await compliance_for_contract(pool, books.tenant.id, ids["contract"], date(2026, 12, 31))
    assert f is not None
    if date.today() <= date(2026, 12, 31):  # the activity is reported today
        assert {k: f[k] for k in EXPECTED} == EXPECTED
        assert f["forecast_eur"] == "91517.81"  # 80,000 (to the cap) + 9,917.81 + 1,600
    else:
        assert (f["accepted_eur"], f["pending_eur"]) == ("40000.00", "9917.81")


def feedback_counts(books: Books) -> dict[UUID, int]:
    with books.system.stores.database("default").connection() as conn:
        rows = conn.execute(
            "SELECT placement_id, feedback_count FROM rm.r_placements p WHERE tenant_id = %s AND gen = "
            "(SELECT gen FROM rm.live WHERE projection = 'retention' AND tenant_id = p.tenant_id)",
            (books.tenant.id,)).fetchall()
    return {r["placement_id"]: r["feedback_count"] for r in rows}


# -- duplicated messages -----------------------------------------------------------------
async def test_catching_up_twice_changes_nothing(pool, books):
    ids = scenario(books)
    first = {p.name: runner(books.system, books.tenant, p.name).catch_up(books.tenant) for p in PROJECTIONS}
    rows, positions = snapshot(books.system, books.tenant), tracking(books.system, books.tenant)

    again = {p.name: runner(books.system, books.tenant, p.name).catch_up(books.tenant) for p in PROJECTIONS}

    assert {n: r.processed for n, r in first.items()} == {p.name: books.head() for p in PROJECTIONS}
    assert {n: r.processed for n, r in again.items()} == {p.name: 0 for p in PROJECTIONS}
    assert snapshot(books.system, books.tenant) == rows
    assert tracking(books.system, books.tenant) == positions
    assert live_positions(books.system, books.tenant) == {p.name: books.head() for p in PROJECTIONS}
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT
    await assert_expected_figures(pool, books, ids)


async def test_the_same_project_tenant_message_delivered_twice_counts_each_event_once(pool, books):
    actors = declare_actors(StubBroker(), books.system)
    project = actors["project_tenant"]
    ids = scenario(books)

    project.fn(str(books.tenant.id))
    rows, positions = snapshot(books.system, books.tenant), tracking(books.system, books.tenant)
    project.fn(str(books.tenant.id))

    assert rows["c_contracts"] and rows["r_placements"], "the first delivery projected nothing"
    assert snapshot(books.system, books.tenant) == rows
    assert tracking(books.system, books.tenant) == positions
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT
    await assert_expected_figures(pool, books, ids)

    # A later delivery after more events adds those events only.
    books.run(c.GiveFeedback(placement_id=ids["full"], score=5, from_role="agency", comment="Top."))
    project.fn(str(books.tenant.id))
    project.fn(str(books.tenant.id))
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT + 1
    assert live_positions(books.system, books.tenant) == {p.name: books.head() for p in PROJECTIONS}


def test_a_worker_finding_the_tenant_busy_projects_the_rest_and_asks_to_be_called_again(books):
    broker = StubBroker()
    project = declare_actors(broker, books.system)["project_tenant"]
    scenario(books)
    held = runner(books.system, books.tenant, "compliance")

    with books.system.stores.database("default").connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (held.live_lock_key(books.tenant),))
        try:
            project.fn(str(books.tenant.id))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (held.live_lock_key(books.tenant),))

    positions = live_positions(books.system, books.tenant)
    assert positions["compliance"] == 0
    assert all(v == books.head() for n, v in positions.items() if n != "compliance"), positions
    retries = [dramatiq.Message.decode(m) for m in list(broker.queues[dramatiq.common.dq_name(QUEUE)].queue)]
    assert [(m.actor_name, list(m.args)) for m in retries] == [("project_tenant", [str(books.tenant.id)])]
    assert retries[0].options.get("eta") is not None  # delayed, not at once

    project.fn(str(books.tenant.id))  # the retry
    assert live_positions(books.system, books.tenant) == {p.name: books.head() for p in PROJECTIONS}


def test_messages_for_unknown_tenants_are_dropped_without_error(system):
    project = declare_actors(StubBroker(), system)["project_tenant"]

    assert project.fn(str(uuid.uuid4())) is None
    assert project.fn("not-a-tenant-id") is None


# -- a worker killed before its commit ------------------------------------------------------------
RUNNER = """
import sys
from infra.bootstrap import bootstrap
from infra.settings import Settings
from projections.registry import BY_NAME
from projections.writer import ProjectionRunner

system = bootstrap(Settings.from_env(), migrate=False)
tenant = system.registry.tenant_by_slug(sys.argv[1])
ProjectionRunner(system.stores.database(tenant.database), BY_NAME[sys.argv[2]]).catch_up(tenant)
print("committed", flush=True)
"""


@contextmanager
def table_held(books: Books, table: str) -> Iterator[int]:
    """The test's own transaction holds a read-model table in EXCLUSIVE mode:
    readers read on, but a batch that writes to it waits there, its earlier
    rows written and nothing committed. Yields the holding backend's pid."""
    with books.system.stores.database(books.tenant.database).connection() as conn, conn.transaction():
        conn.execute(f"LOCK TABLE {RM}.{table} IN EXCLUSIVE MODE")
        yield conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]


def waiting_on(books: Books, holder: int) -> list[int]:
    """Backends waiting for a lock `holder` holds."""
    with books.system.stores.database(books.tenant.database).connection() as conn:
        return [r["pid"] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (holder,)).fetchall()]


def kill_mid_batch(books: Books, proc: Any, table: str, holder: int, what: str) -> None:
    """Once the process's batch waits on the held table, SIGKILL the process."""
    wait_until(lambda: waiting_on(books, holder) or proc.proc.poll() is not None, 30,
               message=f"the {what} to wait on {table}")
    assert proc.proc.poll() is None, f"the {what} finished without writing to {table}:\n{proc.output()}"
    os.kill(proc.proc.pid, signal.SIGKILL)
    proc.proc.wait(timeout=10)


def kill_paused_runner(spawn, database_url: str, books: Books, projection: str, table: str) -> None:
    with table_held(books, table) as holder:
        proc = spawn([sys.executable, "-c", RUNNER, books.tenant.slug, projection], subprocess_env(database_url),
                     name="runner")
        wait_until(lambda: waiting_on(books, holder) or proc.proc.poll() is not None, 30,
                   message=f"the runner to wait on {table}")
        # It holds the tenant's lock for this projection, its batch partly written, not committed.
        with pytest.raises(Busy):
            runner(books.system, books.tenant, projection).catch_up(books.tenant)
        kill_mid_batch(books, proc, table, holder, "runner")
    assert "committed" not in proc.output()


def catch_up_when_free(books: Books, projection: str, timeout: float = 15) -> Any:
    """Catch up as soon as the dead session's lock is gone (the server notices the kill)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return runner(books.system, books.tenant, projection).catch_up(books.tenant)
        except Busy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def test_a_worker_killed_before_its_commit_leaves_no_rows_and_the_next_run_counts_everything(
        pool, books, spawn, database_url):
    ids = scenario(books)

    kill_paused_runner(spawn, database_url, books, "compliance", "c_contracts")

    rows = snapshot(books.system, books.tenant, gen="all")
    assert all(rows[t] == [] for t, p in table_projection().items() if p == "compliance"), \
        "rows of an uncommitted batch are visible"
    assert tracking(books.system, books.tenant).get(("compliance", 1), 0) == 0
    result = catch_up_when_free(books, "compliance")
    assert result.processed == books.head()
    assert result.position == books.head()
    await assert_expected_figures(pool, books, ids)


async def test_a_worker_killed_before_its_commit_keeps_the_previous_position_and_rows(
        pool, books, spawn, database_url):
    ids = scenario(books)
    catch_up(books.system, books.tenant)
    before_rows, before_tracking = snapshot(books.system, books.tenant), tracking(books.system, books.tenant)
    previous = books.head()
    for score in (1, 2):
        books.run(c.GiveFeedback(placement_id=ids["full"], score=score, from_role="agency", comment="Zorgen."))
    books.run(c.EndPlacement(placement_id=ids["full"], ends_on=date(2026, 9, 30), reason="dismissed"))

    kill_paused_runner(spawn, database_url, books, "retention", "r_feedback")

    assert tracking(books.system, books.tenant) == before_tracking
    assert snapshot(books.system, books.tenant) == before_rows
    assert live_positions(books.system, books.tenant)["retention"] == previous
    result = catch_up_when_free(books, "retention")
    assert result.processed == books.head() - previous == 3
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT + 2
    with books.system.stores.database("default").connection() as conn:
        n = conn.execute("SELECT count(*) AS n FROM rm.r_feedback WHERE tenant_id = %s",
                         (books.tenant.id,)).fetchone()["n"]
    assert n == FEEDBACK_PER_PLACEMENT + 2


# -- racing runners ----------------------------------------------------------------------------------
def race(books: Books, projection: str, *, wait: bool, batch_size: int) -> list[Any]:
    """Two runners (threads, own connections) start together on one tenant."""
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def go(i: int) -> None:
        r = runner(books.system, books.tenant, projection, batch_size=batch_size)
        barrier.wait()
        try:
            outcomes[i] = r.catch_up(books.tenant, wait=wait)
        except Busy as e:
            outcomes[i] = e
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            outcomes[i] = e

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("wait", [False, True], ids=["second-gets-busy", "second-waits"])
def test_two_runners_racing_on_one_tenant_count_each_event_once(books, wait):
    ids = scenario(books)
    for projection in (p.name for p in PROJECTIONS):
        outcomes = race(books, projection, wait=wait, batch_size=3)
        errors = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, Busy)]
        assert not errors, errors
        done = [o for o in outcomes if not isinstance(o, Exception)]
        assert done, "neither runner finished"
        if wait:
            assert len(done) == 2
        # Between them, every event was processed exactly once.
        assert sum(o.processed for o in done) == books.head(), (projection, outcomes)
        assert all(o.position == books.head() for o in done)
    raced = snapshot(books.system, books.tenant)
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT

    # The reference: the same events projected by one run from scratch.
    for p in PROJECTIONS:
        runner(books.system, books.tenant, p.name).rebuild(books.tenant)
    assert snapshot(books.system, books.tenant) == raced


def test_runners_racing_while_commands_are_written_miss_nothing_and_count_nothing_twice(books):
    ids = scenario(books)
    writing = threading.Event()
    writing.set()
    failures: list[BaseException] = []
    feedback_given = 40

    def write() -> None:
        try:
            for i in range(feedback_given):
                books.run(c.GiveFeedback(placement_id=ids["full"], score=1 + i % 5, from_role="coach",
                                         comment=f"Week {i}"))
        except BaseException as e:  # noqa: BLE001
            failures.append(e)
        finally:
            writing.clear()

    def project() -> None:
        rs = [runner(books.system, books.tenant, p.name, batch_size=4) for p in PROJECTIONS]
        try:
            while writing.is_set():
                for r in rs:
                    try:
                        r.catch_up(books.tenant)
                    except Busy:
                        pass
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=project) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    catch_up(books.system, books.tenant)

    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT + feedback_given
    assert live_positions(books.system, books.tenant) == {p.name: books.head() for p in PROJECTIONS}
    raced = snapshot(books.system, books.tenant)
    assert len(raced["r_feedback"]) == FEEDBACK_PER_PLACEMENT + feedback_given
    for p in PROJECTIONS:
        runner(books.system, books.tenant, p.name).rebuild(books.tenant)
    assert snapshot(books.system, books.tenant) == raced


# -- rebuilds ----------------------------------------------------------------------------------------
async def test_a_rebuild_gives_the_live_rows_in_a_new_generation_and_drops_the_old_one(pool, books):
    ids = scenario(books)
    catch_up(books.system, books.tenant)
    live_rows, old = snapshot(books.system, books.tenant), live(books.system, books.tenant)
    seen_during: list[tuple[str, dict, dict]] = []

    for p in PROJECTIONS:
        def during(_n: int, name: str = p.name) -> None:
            # Called after each committed batch of the new generation, before the switch.
            seen_during.append((name, live(books.system, books.tenant), snapshot(books.system, books.tenant)))

        result = runner(books.system, books.tenant, p.name, batch_size=4).rebuild(books.tenant, progress=during)
        assert result.position == books.head()
        assert result.processed == books.head()

    new = live(books.system, books.tenant)
    assert all(new[n] != old[n] for n in old), (old, new)
    assert snapshot(books.system, books.tenant) == live_rows
    for table, projection in table_projection().items():
        assert generations(books.system, books.tenant, table) <= {new[projection]}, table
    assert set(tracking(books.system, books.tenant)) == {(n, g) for n, g in new.items()}
    assert live_positions(books.system, books.tenant) == {p.name: books.head() for p in PROJECTIONS}
    # Readers saw the old generation, whole, while the new one was being built.
    assert {name for name, _, _ in seen_during} == {p.name for p in PROJECTIONS}
    assert len(seen_during) >= 2 * (books.head() // 4)
    assert all(gens[name] == old[name] for name, gens, _ in seen_during)
    assert all(rows == live_rows for _, _, rows in seen_during)
    await assert_expected_figures(pool, books, ids)

    # Work continues on the new generation.
    books.run(c.GiveFeedback(placement_id=ids["full"], score=2, from_role="agency", comment="Na de rebuild."))
    catch_up(books.system, books.tenant)
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT + 1
    assert live(books.system, books.tenant) == new


async def test_the_cli_rebuilds_one_tenants_compliance_and_readers_see_the_same_figures(
        pool, books, new_books, database_url):
    import subprocess

    ids = scenario(books)
    bystander = new_books("Andere Detachering B.V.")
    scenario(bystander)
    catch_up(books.system, books.tenant)
    catch_up(bystander.system, bystander.tenant)
    rows, old = snapshot(books.system, books.tenant), live(books.system, books.tenant)
    bystander_live = live(bystander.system, bystander.tenant)
    before = await compliance_for_contract(pool, books.tenant.id, ids["contract"], AS_OF)

    done = subprocess.run([sys.executable, "-m", "infra.cli", "projections", "rebuild", "compliance",
                           "--tenant", books.tenant.slug], env=subprocess_env(database_url),
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert f"{books.tenant.slug}: compliance rebuilt from {books.head()} events, live at {books.head()}" \
        in done.stdout
    now = live(books.system, books.tenant)
    assert now["compliance"] != old["compliance"]
    assert {n: g for n, g in now.items() if n != "compliance"} == \
        {n: g for n, g in old.items() if n != "compliance"}
    assert live(bystander.system, bystander.tenant) == bystander_live  # other tenants untouched
    assert snapshot(books.system, books.tenant) == rows
    for table in (t for t, p in table_projection().items() if p == "compliance"):
        # Only the new generation (a table this scenario leaves empty, such as
        # the statements', has none; the snapshot above compares the rows).
        assert generations(books.system, books.tenant, table) <= {now["compliance"]}, table
    assert await compliance_for_contract(pool, books.tenant.id, ids["contract"], AS_OF) == before

    status = subprocess.run([sys.executable, "-m", "infra.cli", "projections", "status", "--tenant",
                             books.tenant.slug], env=subprocess_env(database_url),
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert status.stdout.split() == [books.tenant.slug, "events", str(books.head())] + [
        word for p in PROJECTIONS for word in (p.name, str(books.head()))]


def test_a_second_rebuild_at_the_same_time_is_refused_and_leaves_no_generation_behind(books):
    scenario(books)
    catch_up(books.system, books.tenant)
    rows = snapshot(books.system, books.tenant)
    started, release = threading.Event(), threading.Event()
    outcome: list[Any] = []

    def slow_progress(_n: int) -> None:
        started.set()
        release.wait(10)

    def first() -> None:
        try:
            outcome.append(runner(books.system, books.tenant, "retention", batch_size=2)
                           .rebuild(books.tenant, progress=slow_progress))
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    t = threading.Thread(target=first)
    t.start()
    try:
        assert started.wait(10)
        with pytest.raises(Busy):
            runner(books.system, books.tenant, "retention").rebuild(books.tenant)
    finally:
        release.set()
        t.join(timeout=30)

    assert outcome and not isinstance(outcome[0], BaseException), outcome
    gens = live(books.system, books.tenant)
    assert {g for (n, g) in tracking(books.system, books.tenant) if n == "retention"} == {gens["retention"]}
    assert generations(books.system, books.tenant, "r_placements") == {gens["retention"]}
    assert snapshot(books.system, books.tenant) == rows


def kill_paused_rebuild(books: Books, spawn, database_url: str) -> None:
    """`sroi projections rebuild retention`, killed while its first batch into
    the new generation waits on r_placements."""
    with table_held(books, "r_placements") as holder:
        proc = spawn([sys.executable, "-m", "infra.cli", "projections", "rebuild", "retention", "--tenant",
                      books.tenant.slug], subprocess_env(database_url), name="rebuild")
        kill_mid_batch(books, proc, "r_placements", holder, "rebuild")


def rebuild_when_free(books: Books, projection: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:  # the dead session's rebuild lock goes when the server notices
        try:
            runner(books.system, books.tenant, projection).rebuild(books.tenant)
            return
        except Busy:
            assert time.monotonic() < deadline, "the killed rebuild's lock was never released"
            time.sleep(0.05)


def test_a_rebuild_killed_midway_leaves_readers_on_the_live_generation_which_keeps_working(
        books, spawn, database_url):
    ids = scenario(books)
    catch_up(books.system, books.tenant)
    old = live(books.system, books.tenant)

    kill_paused_rebuild(books, spawn, database_url)
    rows = snapshot(books.system, books.tenant)
    books.run(c.GiveFeedback(placement_id=ids["full"], score=4, from_role="agency", comment="Daarna."))
    catch_up(books.system, books.tenant)

    assert live(books.system, books.tenant) == old
    assert rows["r_placements"] and rows["r_feedback"]
    assert len(snapshot(books.system, books.tenant)["r_feedback"]) == FEEDBACK_PER_PLACEMENT + 1
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT + 1
    rebuild_when_free(books, "retention")
    assert live(books.system, books.tenant)["retention"] != old["retention"]
    assert feedback_counts(books)[ids["full"]] == FEEDBACK_PER_PLACEMENT + 1
    assert live_positions(books.system, books.tenant)["retention"] == books.head()


def test_a_later_rebuild_clears_what_a_killed_rebuild_left_behind(books, spawn, database_url):
    scenario(books)
    catch_up(books.system, books.tenant)

    kill_paused_rebuild(books, spawn, database_url)
    rebuild_when_free(books, "retention")

    now = live(books.system, books.tenant)
    assert {g for (n, g) in tracking(books.system, books.tenant) if n == "retention"} == {now["retention"]}


# -- the sweep -----------------------------------------------------------------------------------------
def test_the_sweep_finds_a_tenant_with_unprojected_events_until_it_is_caught_up(books, new_books):
    quiet = new_books("Stille Detachering B.V.")  # no events at all
    broker = StubBroker()
    sweep = declare_actors(broker, books.system)["sweep"]

    scenario(books)
    behind_before = behind_tenants(books.system.registry.list_tenants(), books.system.stores)
    runner(books.system, books.tenant, "compliance").catch_up(books.tenant)
    behind_half = behind_tenants(books.system.registry.list_tenants(), books.system.stores)  # retention not yet
    sweep()
    queued = []
    while broker.queues[CATCH_UP_QUEUE].qsize():  # the sweep's own queue
        queued.append(dramatiq.Message.decode(broker.queues[CATCH_UP_QUEUE].get_nowait()).args[0])
    catch_up(books.system, books.tenant)
    behind_after = behind_tenants(books.system.registry.list_tenants(), books.system.stores)
    books.run(c.RegisterEmployer(name="Nieuw Bedrijf B.V."))
    behind_again = behind_tenants(books.system.registry.list_tenants(), books.system.stores)

    assert books.tenant.id in behind_before
    assert books.tenant.id in behind_half
    assert str(books.tenant.id) in queued
    assert books.tenant.id not in behind_after
    assert quiet.tenant.id not in behind_before and quiet.tenant.id not in behind_after
    assert books.tenant.id in behind_again
    # One tenant's question (a worker asks it before every catch-up) answers the same.
    assert tenant_behind(books.tenant, books.system.stores)
    assert not tenant_behind(quiet.tenant, books.system.stores)
    catch_up(books.system, books.tenant)
    assert not tenant_behind(books.tenant, books.system.stores)


def test_the_sweep_sends_one_catch_up_per_tenant_until_a_catch_up_of_it_ends(books):
    """Two workers' sweeps, every few seconds, while a tenant is behind: one
    message on its way, not one per sweep; once a catch-up of the tenant ends
    (whichever message asked), the next sweep may send again if there is
    news; a message that never arrives is sent again after the lease."""
    broker, other_broker = StubBroker(), StubBroker()
    actors = declare_actors(broker, books.system)
    other_worker = declare_actors(other_broker, books.system)
    project = actors["project_tenant"].fn

    def sent() -> int:
        n = 0
        for b in (broker, other_broker):
            while b.queues[CATCH_UP_QUEUE].qsize():
                n += dramatiq.Message.decode(b.queues[CATCH_UP_QUEUE].get_nowait()).args == (str(books.tenant.id),)
        return n

    scenario(books)
    for _ in range(3):
        actors["sweep"]()
        other_worker["sweep"]()
    assert sent() == 1
    project(str(books.tenant.id))  # the catch-up ran: nothing on its way, nothing behind
    actors["sweep"]()
    assert sent() == 0
    books.run(c.RegisterEmployer(name="Later Bedrijf B.V."))  # its own message lost, say
    actors["sweep"]()
    other_worker["sweep"]()
    assert sent() == 1
    with books.system.stores.database(books.tenant.database).connection() as conn:
        conn.execute("UPDATE rm.catch_ups SET until = now() - interval '1 second' WHERE tenant_id = %s",
                     (books.tenant.id,))
    other_worker["sweep"]()  # the lease ran out: the message is taken for lost
    assert sent() == 1
    # A catch-up that finds another worker holding the tenant leaves the
    # lease to that worker (and comes again itself): no message per sweep.
    key = runner(books.system, books.tenant, "duties").live_lock_key(books.tenant)
    with books.system.stores.database(books.tenant.database).connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            project(str(books.tenant.id))
            actors["sweep"]()
            assert sent() == 0
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    project(str(books.tenant.id))
    assert not tenant_behind(books.tenant, books.system.stores)


def test_a_message_for_a_caught_up_tenant_runs_no_projection(books, monkeypatch):
    """A backlog of messages (the workers were away) costs a query each once
    the tenant is caught up: no projection runs, nothing is written."""
    broker = StubBroker()
    project = declare_actors(broker, books.system)["project_tenant"].fn
    scenario(books)
    project(str(books.tenant.id))
    assert not tenant_behind(books.tenant, books.system.stores)
    ran: list[str] = []
    original = ProjectionRunner.catch_up

    def counted(self: ProjectionRunner, tenant: Any, **kwargs: Any) -> Any:
        ran.append(self.projection.name)
        return original(self, tenant, **kwargs)

    monkeypatch.setattr(ProjectionRunner, "catch_up", counted)
    for _ in range(3):
        project(str(books.tenant.id))
    assert ran == []
    books.run(c.RegisterEmployer(name="Nog Een Bedrijf B.V."))
    project(str(books.tenant.id))
    # News: every projection runs (the share index perhaps twice: the webhooks follower catches it up
    # first when some organisation subscribes).
    assert set(ran) == {p.name for p in PROJECTIONS}
    assert not tenant_behind(books.tenant, books.system.stores)
