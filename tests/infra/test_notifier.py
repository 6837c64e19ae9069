"""The projection notifier: the first change after a quiet spell goes out at
once, a stream of changes costs one message per tenant per interval, and
every change is followed by a message (closing sends what is still marked).
On dramatiq's in-memory broker, which keeps the messages to count."""
from __future__ import annotations

import time
import uuid

import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker

from infra.notifier import ProjectionNotifier

pytestmark = pytest.mark.timeout(60)

QUEUE = "projections-notifier-test"
INTERVAL = 3.0  # long, so "at once" and "not before the pause" are far apart even on a busy machine


def queued(broker: StubBroker) -> list[str]:
    queue = broker.queues.get(QUEUE)
    return [] if queue is None else [Message.decode(m).args[0] for m in list(queue.queue)]


def wait_for(predicate, timeout: float) -> float:
    """Seconds until the predicate held (fails after `timeout`)."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "condition not reached"
        time.sleep(0.01)
    return time.monotonic() - start


def test_a_stream_of_changes_costs_one_message_per_interval_and_the_first_goes_at_once() -> None:
    broker = StubBroker()
    notifier = ProjectionNotifier(broker, QUEUE, "project_tenant", interval=INTERVAL)
    tenant, other = uuid.uuid4(), uuid.uuid4()
    try:
        notifier.tenant_changed(tenant)
        took = wait_for(lambda: queued(broker), INTERVAL)
        assert took < INTERVAL / 2  # not held back by the pause
        for _ in range(200):  # a burst while the notifier pauses
            notifier.tenant_changed(tenant)
        notifier.tenant_changed(other)
        assert queued(broker) == [str(tenant)]
        # After the pause the burst goes out as one message per tenant.
        wait_for(lambda: len(queued(broker)) == 3, 4 * INTERVAL)
        assert sorted(queued(broker)[1:]) == sorted([str(tenant), str(other)])
    finally:
        notifier.close()
    assert len(queued(broker)) == 3


def test_closing_sends_what_is_still_marked() -> None:
    broker = StubBroker()
    notifier = ProjectionNotifier(broker, QUEUE, "project_tenant", interval=INTERVAL)
    tenant = uuid.uuid4()
    notifier.tenant_changed(tenant)
    wait_for(lambda: queued(broker), INTERVAL)
    notifier.tenant_changed(tenant)  # marked during the pause
    notifier.close()
    assert queued(broker) == [str(tenant), str(tenant)]
