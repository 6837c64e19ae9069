"""Reminders: recorded once per duty and due date however often the job runs,
listed over the API, and mailed through a real SMTP server (aiosmtpd on
localhost) when SMTP_URL is set; nothing is mailed when it is not."""
from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from infra.bootstrap import System
from infra.mail import SmtpMailer, mailer_from_settings
from infra.settings import Settings, SettingsError
from projections import duties
from projections.actors import declare_actors
from service import commands as c
from tests.conftest import random_slug
from tests.projections.conftest import API, Books, bearer, catch_up, runner, token_for


class Inbox:
    """An aiosmtpd handler keeping what arrives (the server itself is real)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


TODAY = date(2025, 4, 25)


def sick_tenant(system: System) -> tuple[Books, uuid.UUID]:
    """A placement from 1 February 2025; sick from 14 April 2025."""
    books = Books(system, system.registry.create_tenant(random_slug("remind"), "Werkbedrijf Utrecht B.V."))
    placement = books.placement(books.candidate(), books.employer(), None, planned_end_on=date(2025, 12, 31))
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 4, 14)))
    return books, placement


def test_running_the_job_twice_records_one_reminder_per_duty_and_due_date(system: System):
    books, placement = sick_tenant(system)
    first = duties.remind(system, None, today=TODAY, tenants=[books.tenant])
    # Due by 2 May or overdue on 25 April: sick report (14 Apr), company doctor (20 Apr),
    # target-group declaration and no-risk policy (30 Apr). Not the analysis (25 May).
    assert (first.recorded, first.already, first.mailed) == (4, 0, 0)
    again = duties.remind(system, None, today=TODAY, tenants=[books.tenant])
    assert (again.recorded, again.already) == (0, 0)
    head = books.head()
    # A reminder recorded meanwhile by another run is refused, not doubled.
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    listed = {r["kind"]: r for r in _reminders(system, books)}
    assert set(listed) == {"sick_report", "company_doctor_informed", "target_group_declaration", "no_risk_policy"}
    r = listed["sick_report"]
    from service.errors import Conflict
    with pytest.raises(Conflict):
        books.run(c.RecordReminder(duty_id=uuid.UUID(r["duty_id"]), due_on=date.fromisoformat(r["due_on"]),
                                   placement_id=placement, kind="sick_report", reminded_on=TODAY))
    assert books.head() == head
    # A week later the analysis is not due yet either; done duties are not reminded.
    later = duties.remind(system, None, today=TODAY + timedelta(days=7), tenants=[books.tenant])
    assert later.recorded == 0
    assert duties.remind(system, None, today=date(2025, 5, 19), tenants=[books.tenant]).recorded == 1  # analysis


def _reminders(system: System, books: Books) -> list[dict]:
    import asyncio

    import asyncpg

    async def go() -> list[dict]:
        conn = await asyncpg.connect(system.database_url)
        try:
            return await duties.reminders(conn, books.tenant.id)
        finally:
            await conn.close()
    return asyncio.run(go())


def test_reminders_are_mailed_once_without_names(system: System, smtp):
    inbox, port = smtp
    books, _ = sick_tenant(system)
    for who in ("coach@werkbedrijf.example", "planner@werkbedrijf.example"):
        system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:6]}-{who}", "agency")
    system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:6]}@auditor.example", "auditor")
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{port}", "SROI Ledger <noreply@sroi.example>")
    run = duties.remind(system, mailer, today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed, run.mail_errors) == (4, 4, [])
    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    assert sorted(r.split("-", 1)[1] for r in recipients) == ["coach@werkbedrijf.example",
                                                               "planner@werkbedrijf.example"]
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"].strip() == "SROI Ledger: 4 duties coming due or overdue (Werkbedrijf Utrecht B.V.)"
    text = message.get_content()
    assert "- 2025-04-14 (overdue): sick report (day 1)" in text
    assert "- 2025-04-30 (due): request the no-risk policy" in text
    assert "Sanne" not in text and "Jansen" not in text  # no one is named
    # Mailed reminders are not mailed again.
    assert duties.remind(system, mailer, today=TODAY, tenants=[books.tenant]).mailed == 0
    assert len(inbox.messages) == 1
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    assert all(r["mailed_on"] == TODAY.isoformat() for r in _reminders(system, books))


def test_an_unreachable_server_keeps_reminders_unmailed_for_the_next_run(system: System, smtp):
    inbox, port = smtp
    books, _ = sick_tenant(system)
    system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:8]}@werkbedrijf.example", "agency")
    down = SmtpMailer.from_url(f"smtp://127.0.0.1:{free_port()}", "noreply@sroi.example")
    run = duties.remind(system, down, today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed, len(run.mail_errors)) == (4, 0, 1)
    up = SmtpMailer.from_url(f"smtp://127.0.0.1:{port}", "noreply@sroi.example")
    run = duties.remind(system, up, today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed) == (0, 4)
    assert len(inbox.messages) == 1


def test_without_smtp_url_no_mailer_and_with_it_one_from_the_url():
    base = {"SECRET_KEY": "x"}
    assert mailer_from_settings(Settings.from_env(base)) is None
    mailer = mailer_from_settings(Settings.from_env({**base, "SMTP_URL": "smtp+starttls://me%40x.nl:p%2Fw@mail.x.nl",
                                                     "MAIL_FROM": "Kansrijk <noreply@x.nl>"}))
    assert (mailer.host, mailer.port, mailer.username, mailer.password, mailer.sender) == (
        "mail.x.nl", 587, "me@x.nl", "p/w", "Kansrijk <noreply@x.nl>")
    with pytest.raises(SettingsError):
        mailer_from_settings(Settings.from_env({**base, "SMTP_URL": "http://mail.x.nl"}))


def test_the_worker_declares_the_reminder_job(system: System):
    from dramatiq.brokers.stub import StubBroker

    actors = declare_actors(StubBroker(), system)
    assert actors["remind_duties"].actor_name == "remind_duties"


def test_reminders_over_the_api(system: System, client):
    books, _ = sick_tenant(system)
    duties.remind(system, None, today=TODAY, tenants=[books.tenant])
    catch_up(system, books.tenant)
    agency = bearer(token_for(system, books.tenant, "agency"))
    r = client.get(f"{API}/reminders", headers=agency)
    assert r.status_code == 200, r.text
    items = r.json()["reminders"]
    assert sorted((i["kind"], i["due_on"], i["overdue_when_reminded"]) for i in items) == [
        ("company_doctor_informed", "2025-04-20", True), ("no_risk_policy", "2025-04-30", False),
        ("sick_report", "2025-04-14", True), ("target_group_declaration", "2025-04-30", False)]
    assert all(i["reminded_on"] == "2025-04-25" and i["mailed_on"] is None for i in items)
    employee = bearer(token_for(system, books.tenant, "auditor"))
    assert client.get(f"{API}/reminders", headers=employee).status_code == 403


def test_two_runs_at_once_still_record_one_reminder_each(system: System):
    from concurrent.futures import ThreadPoolExecutor

    books, _ = sick_tenant(system)
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda _: duties.remind(system, None, today=TODAY, tenants=[books.tenant]), range(3)))
    assert sum(r.recorded for r in runs) == 4
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    assert len(_reminders(system, books)) == 4
