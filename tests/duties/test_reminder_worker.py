"""The reminder job end to end: a real `sroi worker` process consumes the
`remind_duties` message from the embedded PostgreSQL broker (what its
scheduler sends hourly), records the reminders as events and mails one digest
to a real SMTP server (aiosmtpd on localhost, SMTP_URL set for the worker):
each agency user a digest of the placements they look after, and all of them
one of the placements nobody looks after. A second run records nothing more
and mails nothing more."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from email import message_from_bytes, policy

import dramatiq
import pytest

from infra.bootstrap import System
from infra.broker import make_broker
from projections import duties
from projections.registry import QUEUE
from service import commands as c
from tests.conftest import random_slug
from tests.duties.listing import reminders_listed
from tests.service.conftest import start_placement
from tests.projections.conftest import Books, runner, subprocess_env, wait_until, worker_command

# The job runs over every tenant of the test database, and its first run's
# commands queue a catch-up per tenant before the second run's message: in
# the full suite (hundreds of tenants with duties due) a run can take a minute.
pytestmark = pytest.mark.timeout(420)


def reminder_events(books: Books) -> list[str]:
    app = books.system.stores.for_tenant(books.tenant)
    stored = app.recorder.select_notifications(start=1, limit=10_000)
    return [n.topic.rsplit(".", 1)[-1] for n in stored if "Reminder" in n.topic]


def send_remind_duties(database_url: str) -> None:
    broker = make_broker(None, database_url)
    broker.declare_queue(QUEUE)
    broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="remind_duties", args=(), kwargs={}, options={}))


def test_the_worker_records_reminders_once_and_mails_one_digest(system: System, database_url: str, smtp, spawn):
    inbox, port = smtp
    books = Books(system, system.registry.create_tenant(random_slug("worker-remind"), "Werkbedrijf Utrecht B.V."))
    address = f"planner-{uuid.uuid4().hex[:8]}@werkbedrijf.example"
    system.registry.create_user(books.tenant, address, "agency")
    coach = system.registry.create_user(books.tenant, f"coach-{uuid.uuid4().hex[:8]}@werkbedrijf.example", "agency")
    today = date.today()
    # One placement the coach started (so looks after), one started by someone who is no user here (nobody's).
    from service.actor import Actor

    as_coach = Actor(user_id=coach.id, role="agency", organisation=books.tenant.slug)
    for who in (as_coach, None):
        placement = books.new(start_placement(books.candidate(), books.employer(), None, None,
                                              starts_on=today - timedelta(days=200),
                                              planned_end_on=today + timedelta(days=300)), who)
        books.run(c.ReportSickness(placement_id=placement, first_sick_day=today - timedelta(days=3)))
    # Due within a week or overdue today: the sick report (day 1, overdue) and the company
    # doctor (by week 1: in 3 days). The target-group declaration was due long ago: overdue too.
    expected = {"sick_report", "company_doctor_informed", "target_group_declaration"}

    # -v: the worker logs each run of the job ("reminders: N recorded, ...").
    worker = spawn(worker_command()[:-1] + ["-v", "worker", "--threads", "2"],
                   subprocess_env(database_url, SMTP_URL=f"smtp://127.0.0.1:{port}",
                                  MAIL_FROM="SROI Ledger <noreply@sroi.example>"), name="worker")
    send_remind_duties(database_url)

    def mine() -> list:
        assert worker.proc.poll() is None, worker.output()[-3000:]
        return [m for m in inbox.messages if address in m[0]]

    def coachs() -> list:
        return [m for m in inbox.messages if coach.email in m[0]]

    wait_until(lambda: mine() and len(coachs()) == 2, 180, message="the digest mails")
    wait_until(lambda: reminder_events(books).count("ReminderMailed") == 2 * len(expected), 30,
               message="the reminders marked mailed")
    events = reminder_events(books)
    assert events.count("ReminderRecorded") == 2 * len(expected)
    # Once more: nothing new is recorded or mailed.
    send_remind_duties(database_url)
    before = len(inbox.messages)
    wait_until(lambda: worker.output().count("reminders:") >= 2, 180, message="the second run")
    assert reminder_events(books) == events
    assert len(mine()) == 1 and len(coachs()) == 2 and len(inbox.messages) >= before
    recipients, raw = mine()[0]
    assert recipients == sorted([address, coach.email])  # nobody's placement: every agency user
    own = [m for m in coachs() if m[0] == [coach.email]]
    assert len(own) == 1  # the coach's own placement: the coach alone
    own_text = message_from_bytes(own[0][1], policy=policy.default).get_content()
    assert "placements you look after" in own_text and "sick report (day 1)" in own_text
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"].strip() == f"SROI Ledger: {len(expected)} duties coming due or overdue (Werkbedrijf Utrecht B.V.)"
    text = message.get_content()
    assert f"- {(today - timedelta(days=3)).isoformat()} (overdue): sick report (day 1)" in text
    assert "Sanne" not in text  # names no one
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    listed = reminders_listed(system, books)
    assert {r["kind"] for r in listed} == expected and all(r["mailed_on"] == today.isoformat() for r in listed)
    assert sorted(str(r["addressed_to"]) for r in listed) == sorted([str(coach.id)] * 3 + [str(books.who.user_id)] * 3)
