"""The reminders process manager: duties coming due become ReminderRecorded,
and, when mail is configured, digests to the agency's users.

A process manager issues commands because of what a read model shows, so it
lives with the commands (service/), not in the projection that feeds it. It
reads the duties read model only through the `DutiesToRemind` port and the
agency's users through `AgencyUsers`, both passed in by the composition root
(infra/bootstrap.py, `System.remind`): service/ imports no projection and no
infra adapter.

One run, per active tenant: the duties open and due within `REMIND_DAYS` (or
overdue) without a reminder for that due date each get one `RecordReminder`
(the reminder's id is derived from the duty and its due date, so running
twice, or two workers at once, records one), addressed to the placement's
responsible agency user at that moment (none: the whole agency). With a
mailer, each addressed user gets a digest of their own reminders and all the
agency's users one digest of the reminders addressed to nobody (or to someone
no longer an agency user), without names; each reminder in a digest that was
sent gets `RecordReminderMailed`. A failed send leaves them unmailed for the
next run; reminders older than `MAIL_RECENT_DAYS` are not mailed any more.

The employee's own check-ins (domain/voice.py, issue 16) come up in the same
run, read through the `CheckInsToRemind` port: each check-in that opens within
`REMIND_DAYS` (or is overdue by at most 30 days), neither answered nor reminded,
gets `RecordCheckInReminder` (once per moment: the second is a conflict). The
employee is told: their pages show the open check-in (until answered, overdue
or not), and with a mailer each of their accounts (`EmployeeAddresses`) gets a
short mail in Dutch and English with the link, naming no one and no employer.
A failed send is logged and not tried again: the pages still tell them.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol
from uuid import UUID

from domain.duties import KIND_LABELS
from service import commands as c
from service.actor import Actor
from service.errors import Conflict

log = logging.getLogger("sroi.duties")

REMIND_DAYS = 7
MAIL_RECENT_DAYS = 14  # unmailed reminders older than this are not mailed any more


class DutiesToRemind(Protocol):
    """What the process manager reads of the duties read model, brought up to
    the tenant's latest event first (so it sees the reminders it just recorded)."""

    def coming_due(self, tenant: Any, today: date, horizon: date) -> list[Mapping[str, Any]]:
        """Open duties due by `horizon` (or overdue) with no reminder for their
        due date: duty_id, placement_id, kind, due_on, responsible_user_id."""

    def unmailed(self, tenant: Any, since: date) -> list[Mapping[str, Any]]:
        """Reminders recorded on or after `since` and not mailed: reminder_id,
        kind, due_on, reminded_on, addressed_to."""


# The tenant's agency users: id -> e-mail.
AgencyUsers = Callable[[UUID], dict[UUID, str]]
# A person's own accounts in the tenant (tenant id, candidate id): their e-mails.
EmployeeAddresses = Callable[[UUID, UUID], list[str]]


class CheckInsToRemind(Protocol):
    """What the process manager reads of the voice read model (caught up first)."""

    def coming_due(self, tenant: Any, today: date, horizon: date) -> list[Mapping[str, Any]]:
        """Check-ins opening by `horizon` (or overdue), neither answered nor
        reminded: placement_id, candidate_id, moment, due_on."""


class Mailer(Protocol):
    def send(self, to: list[str], subject: str, text: str) -> None: ...


class Ledger(Protocol):
    def execute(self, tenant: Any, actor: Actor, command: Any) -> Any: ...


@dataclass
class ReminderRun:
    recorded: int = 0
    already: int = 0
    mailed: int = 0
    mail_errors: list[str] = field(default_factory=list)
    failed_tenants: int = 0
    check_ins: int = 0  # employees told that a check-in is open
    check_ins_mailed: int = 0


def remind(ledger: Ledger, tenants: Iterable[Any], duties: DutiesToRemind, agency_users: AgencyUsers,
           mailer: Mailer | None = None, today: date | None = None, days: int = REMIND_DAYS,
           check_ins: CheckInsToRemind | None = None,
           employee_addresses: EmployeeAddresses | None = None, public_url: str = "") -> ReminderRun:
    """One run over the active ones of `tenants` (see the module docstring)."""
    today = today or date.today()
    run = ReminderRun()
    actor = Actor.system("reminders")
    for tenant in tenants:
        if not tenant.is_active:
            continue
        try:
            _remind_tenant(ledger, tenant, duties, agency_users, mailer, today, days, run, actor)
            if check_ins is not None:
                _remind_check_ins(ledger, tenant, check_ins, employee_addresses, mailer, today, days, run, actor,
                                  public_url)
        except Exception as e:  # one tenant's trouble must not stop the others' reminders
            log.warning("reminders for tenant %s failed: %s", tenant.id, type(e).__name__)
            run.failed_tenants += 1
    return run


def _remind_tenant(ledger: Ledger, tenant: Any, duties: DutiesToRemind, agency_users: AgencyUsers,
                   mailer: Mailer | None, today: date, days: int, run: ReminderRun, actor: Actor) -> None:
    for row in duties.coming_due(tenant, today, today + timedelta(days=days)):
        try:
            ledger.execute(tenant, actor, c.RecordReminder(
                duty_id=row["duty_id"], due_on=row["due_on"], placement_id=row["placement_id"],
                kind=row["kind"], reminded_on=today, addressed_to=row["responsible_user_id"]))
            run.recorded += 1
        except Conflict:
            run.already += 1  # another run recorded it first
    if mailer is None:
        return
    unmailed = duties.unmailed(tenant, today - timedelta(days=MAIL_RECENT_DAYS))
    if not unmailed:
        return
    for to, items, own in digests(agency_users(tenant.id), [dict(r) for r in unmailed]):
        subject, text = digest(tenant.name, items, today, own)
        try:
            mailer.send(to, subject, text)
        except Exception as e:  # kept unmailed: the next run tries again
            log.warning("reminder mail for tenant %s failed: %s", tenant.id, type(e).__name__)
            run.mail_errors.append(type(e).__name__)
            continue
        for r in items:
            try:
                ledger.execute(tenant, actor, c.RecordReminderMailed(
                    reminder_id=r["reminder_id"], mailed_on=today, recipients=len(to)))
                run.mailed += 1
            except Conflict:
                pass


def digest(tenant_name: str, items: list[dict[str, Any]], today: date, own: bool = False) -> tuple[str, str]:
    """Subject and text of the reminder mail: kinds and dates only, no person or
    placement. `own`: to the user who looks after the placements."""
    overdue = sum(1 for i in items if i["due_on"] < today)
    subject = f"SROI Ledger: {len(items)} duties coming due or overdue ({tenant_name})"
    lines = [f"{tenant_name}: {len(items)} of the legal employer's duties are coming due or overdue"
             f" ({overdue} overdue) as of {today.isoformat()}.",
             "They are of placements you look after." if own else
             "Nobody in particular looks after these placements, so every agency user gets this message.", ""]
    for i in items:
        state = "overdue" if i["due_on"] < today else "due"
        lines.append(f"- {i['due_on'].isoformat()} ({state}): {KIND_LABELS.get(i['kind'], i['kind'])}")
    lines += ["", "Open the duties list in SROI Ledger for the placements concerned.",
              "This message names no one on purpose."]
    return subject, "\n".join(lines) + "\n"


def digests(users: dict[UUID, str],
            unmailed: list[dict[str, Any]]) -> list[tuple[list[str], list[dict[str, Any]], bool]]:
    """Who gets which reminders: each addressed agency user one digest of their
    own; the reminders addressed to nobody (or to someone who is no longer an
    agency user of the tenant) one digest to all the agency's users."""
    own: dict[UUID, list[dict[str, Any]]] = {}
    everyone: list[dict[str, Any]] = []
    for r in unmailed:
        if r.get("addressed_to") in users:
            own.setdefault(r["addressed_to"], []).append(r)
        else:
            everyone.append(r)
    out = [([users[user]], items, True) for user, items in sorted(own.items(), key=lambda kv: users[kv[0]])]
    if everyone and users:
        out.append((sorted(users.values()), everyone, False))
    return out


def _remind_check_ins(ledger: Ledger, tenant: Any, check_ins: CheckInsToRemind,
                      employee_addresses: EmployeeAddresses | None, mailer: Mailer | None, today: date, days: int,
                      run: ReminderRun, actor: Actor, public_url: str) -> None:
    for row in check_ins.coming_due(tenant, today, today + timedelta(days=days)):
        try:
            ledger.execute(tenant, actor, c.RecordCheckInReminder(
                placement_id=row["placement_id"], moment=row["moment"], reminded_on=today))
        except Conflict:
            continue  # another run told them first, or it was answered meanwhile
        run.check_ins += 1
        if mailer is None or employee_addresses is None:
            continue
        to = employee_addresses(tenant.id, row["candidate_id"])
        if not to:
            continue
        subject, text = check_in_mail(row["moment"], row["due_on"], f"{public_url}/placements/{row['placement_id']}")
        try:
            mailer.send(to, subject, text)
            run.check_ins_mailed += 1
        except Exception as e:  # the pages still show the open check-in
            log.warning("check-in mail for tenant %s failed: %s", tenant.id, type(e).__name__)
            run.mail_errors.append(type(e).__name__)


def check_in_mail(moment: int, due_on: date, link: str) -> tuple[str, str]:
    """Plain language, Dutch then English; names no one and no employer."""
    subject = "Hoe gaat het op je werk? / How is work going?"
    text = "\n".join([
        f"Je bent nu ongeveer {moment} maand{'en' if moment > 1 else ''} aan het werk. We willen graag weten hoe het gaat.",
        "Beantwoord 4 korte vragen. Het kost een paar minuten.",
        "Jij kiest of je werkgever je antwoorden mag zien.",
        f"Open je check-in: {link}",
        "",
        f"You have been at work for about {moment} month{'s' if moment > 1 else ''}. We would like to know how it is going.",
        "Answer 4 short questions. It takes a few minutes.",
        "You choose whether your employer may see your answers.",
        f"Open your check-in: {link}",
        "",
        f"({due_on.isoformat()})",
    ])
    return subject, text + "\n"
