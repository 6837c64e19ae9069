"""Webhooks end to end with real `sroi worker` processes: commands through the
API, the worker follows the tenant's log (after each catch-up, and in its
sweep) and posts to a real HTTP receiver on localhost, retrying with backoff
after 500s; a worker stopped and another started later sends what happened
meanwhile, and nothing twice."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from infra import processes, webhooks
from infra.bootstrap import System
from tests.api.conftest import Org
from tests.projections.conftest import subprocess_env, wait_until, worker_command
from tests.webhooks.conftest import Receiver
from tests.webhooks.test_webhooks import subscribe

pytestmark = pytest.mark.timeout(240)


def start_worker(spawn: Any, database_url: str) -> Any:
    return spawn(worker_command()[:-1] + ["-v", "worker", "--threads", "2"],
                 subprocess_env(database_url, WEBHOOK_ALLOW_PRIVATE="1", WEBHOOK_RETRY_SECONDS="0.5",
                                WEBHOOK_MAX_ATTEMPTS="5"), name="worker")


def test_the_worker_delivers_retries_with_backoff_and_survives_a_restart(
        local_hooks: System, database_url: str, org: Org, receiver: Receiver, spawn: Any) -> None:
    created = subscribe(org, receiver.url(), ["EmployerRegistered"])
    secret = created["secret"]
    receiver.script = [500, 500]  # the first delivery fails twice, then the receiver is well
    worker = start_worker(spawn, database_url)
    first = org.create("/employers", {"name": "Eerste B.V."})

    def received(n: int) -> Any:
        assert worker.proc.poll() is None, worker.output()[-3000:]
        return len(receiver.on("/hook")) >= n

    def state() -> str:
        """What the worker had done, for a failure's message."""
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            deliveries = conn.execute(
                "SELECT status, attempts, tries, next_attempt_at - now(), enqueued_until - now()"
                " FROM platform.webhook_deliveries WHERE subscription_id = %s",
                (created["subscription"]["id"],)).fetchall()
            queues = conn.execute("SELECT queue_name, state, count(*) FROM dramatiq.queue GROUP BY 1, 2").fetchall()
            tracked = conn.execute("SELECT projection, position FROM rm.tracking WHERE tenant_id = %s",
                                   (org.tenant.id,)).fetchall()
        return (f"received {len(receiver.on('/hook'))}; deliveries {deliveries}; queues {queues};"
                f" tracking {tracked}\nworker output:\n{worker.output()[-3000:]}")

    try:
        wait_until(lambda: received(3), 90, message="three tries of the first delivery")
    except AssertionError as e:
        raise AssertionError(f"{e}: {state()}") from None
    tries = receiver.on("/hook")
    assert {json.loads(t.body)["record"]["id"] for t in tries} == {first}
    assert all(webhooks.verify(secret, t.headers["Sroi-Signature"], t.body) for t in tries)
    gaps = [b.at - a.at for a, b in zip(tries, tries[1:])]
    # Backoff: 0.5 s, then 2 s (x4): no try before its time. (A try may come later than its
    # time, after messages queued before it in the shared test database.)
    assert gaps[0] >= 0.45 and gaps[1] >= 1.9, gaps

    # The worker stops; events happen meanwhile; a new worker sends them, once each.
    processes.stop([worker.proc], timeout=10)
    later = [org.create("/employers", {"name": f"Later {i} B.V."}) for i in range(3)]
    worker = start_worker(spawn, database_url)
    wait_until(lambda: received(6), 90, message="the events of while no worker ran")
    import time
    time.sleep(3)  # a sweep or two more: nothing is sent again
    bodies = [json.loads(t.body) for t in receiver.on("/hook")]
    assert len(bodies) == 6
    counts = Counter(b["record"]["id"] for b in bodies)
    assert counts == Counter({first: 3, **{e: 1 for e in later}})
    assert len({b["id"] for b in bodies}) == 4  # one event id per event, the same on each try
