"""The notifications job end to end: a real `sroi worker` process consumes the
`notify_statements` message from the embedded PostgreSQL broker (what its
scheduler sends every minute) and mails the digest to a real SMTP server
(aiosmtpd on localhost, SMTP_URL set for the worker); a second message
mails nothing more."""
from __future__ import annotations

from typing import Any

import dramatiq
import pytest

from infra.bootstrap import System
from infra.broker import make_broker
from projections.registry import QUEUE
from tests.notifications.test_notifications import agency, authority, listed, mails, submitted_statement
from tests.projections.conftest import subprocess_env, wait_until, worker_command

pytestmark = pytest.mark.timeout(180)


def send_notify(database_url: str) -> None:
    broker = make_broker(None, database_url)
    broker.declare_queue(QUEUE)
    broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="notify_statements", args=(), kwargs={},
                                    options={}))


def test_the_worker_tells_a_submitted_statement_once(system: System, database_url: str, client: Any,
                                                      smtp: Any, spawn: Any) -> None:
    inbox, port = smtp
    utrecht = authority(system, "Gemeente Utrecht")
    kansrijk, _ = agency(system, client, "Kansrijk")
    _, statement = submitted_statement(kansrijk, "worker", authority_org_id=str(utrecht.org_id))
    worker = spawn(worker_command()[:-1] + ["-v", "worker", "--threads", "2"],
                   subprocess_env(database_url, SMTP_URL=f"smtp://127.0.0.1:{port}",
                                  MAIL_FROM="SROI Ledger <noreply@sroi.example>",
                                  PUBLIC_URL="https://sroi.example.org/"), name="worker")
    send_notify(database_url)

    def told() -> list:
        assert worker.proc.poll() is None, worker.output()[-3000:]
        return mails(inbox, utrecht.email)

    wait_until(told, 90, message="the digest")
    send_notify(database_url)
    wait_until(lambda: worker.output().count("notifications:") >= 2, 60, message="the second run")
    (mail,) = mails(inbox, utrecht.email)
    assert f"https://sroi.example.org/statements/{statement}" in mail.get_content()
    assert [n["statement_id"] for n in listed(client, utrecht.token)["notifications"]] == [statement]
