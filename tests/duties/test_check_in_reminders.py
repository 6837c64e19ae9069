"""The employee's own check-ins through the reminders (issue 16): the
reminders process manager tells the employee when a check-in opens (at 1,
3, 6 and 12 months, a week before its due day), once per moment, by mail to
their own accounts when mail is configured; an answered one is not reminded,
an overdue one stays open for them to answer."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from email import message_from_bytes, policy

from infra.bootstrap import System
from infra.mail import SmtpMailer
from service import commands as c
from service.actor import Actor
from tests.conftest import random_slug
from tests.projections.conftest import Books

START = date(2025, 1, 31)  # the 1-month check-in is due on 28 February, the 3-month one on 30 April
SCORES = {"supported": 4, "work_suits": 4, "can_ask": 4, "want_to_stay": 4}


def placed(system: System) -> tuple[Books, uuid.UUID, uuid.UUID]:
    books = Books(system, system.registry.create_tenant(random_slug("voice"), "Werkbedrijf Utrecht B.V."))
    candidate = books.candidate()
    placement = books.placement(candidate, books.employer(), None, starts_on=START)
    return books, candidate, placement


def test_the_employee_is_told_once_when_a_check_in_opens(system: System, smtp) -> None:
    inbox, port = smtp
    books, candidate, placement = placed(system)
    employee = system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:8]}@mens.example", "employee",
                                           candidate_id=candidate)
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{port}", "SROI Ledger <noreply@sroi.example>")
    early = system.remind(mailer, today=date(2025, 2, 20), tenants=[books.tenant])
    assert (early.check_ins, early.check_ins_mailed) == (0, 0)  # opens on 21 February
    run = system.remind(mailer, today=date(2025, 2, 21), tenants=[books.tenant])
    assert (run.check_ins, run.check_ins_mailed, run.mail_errors) == (1, 1, [])
    recipients, raw = inbox.messages[-1]
    assert recipients == [employee.email]
    text = message_from_bytes(raw, policy=policy.default).get_content()
    assert f"/placements/{placement}" in text and "1 maand" in text and "1 month" in text
    assert "Sanne" not in text and "Jansen" not in text  # no one is named
    again = system.remind(mailer, today=date(2025, 2, 22), tenants=[books.tenant])
    assert again.check_ins == 0 and len(inbox.messages) == 1
    # Answered late (overdue is still open); the next check-in is told in its own week.
    person = Actor(user_id=employee.id, role="employee", organisation="", candidate_id=candidate)
    clock, system.ledger.clock = system.ledger.clock, _Fixed(date(2025, 3, 20))
    try:
        books.run(c.AnswerCheckIn(placement_id=placement, moment=1, answers=SCORES), as_=person)
    finally:
        system.ledger.clock = clock
    assert system.remind(mailer, today=date(2025, 4, 22), tenants=[books.tenant]).check_ins == 0
    assert system.remind(mailer, today=date(2025, 4, 23), tenants=[books.tenant]).check_ins == 1


def test_a_check_in_overdue_over_a_month_is_left_alone(system: System) -> None:
    books, candidate, placement = placed(system)
    # Recorded long after: the 1-month check-in is overdue by more than 30 days; the 3-month one is not.
    run = system.remind(None, today=date(2025, 5, 2), tenants=[books.tenant])
    assert run.check_ins == 1
    later = system.remind(None, today=date(2025, 5, 3) + timedelta(days=90), tenants=[books.tenant])
    assert later.check_ins == 1  # the 6-month one (due 31 July), told on 1 August, overdue 1 day


class _Fixed:
    """A clock for one command of the person (their answer on a given day)."""

    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day

    def now(self):  # noqa: ANN201
        from datetime import datetime, timezone
        return datetime.now(timezone.utc)
