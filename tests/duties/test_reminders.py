"""Reminders: recorded once per duty and due date however often the job runs,
listed over the API, and mailed through a real SMTP server (aiosmtpd on
localhost) when SMTP_URL is set; nothing is mailed when it is not."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest

from infra import processes
from infra.actors import declare_actors
from infra.bootstrap import System
from infra.mail import SmtpMailer, mailer_from_settings
from infra.settings import Settings, SettingsError
from projections import duties
from service import commands as c
from tests.conftest import random_slug
from tests.duties.listing import reminders_listed
from tests.projections.conftest import API, Books, bearer, catch_up, runner, token_for


TODAY = date(2025, 4, 25)


def sick_tenant(system: System) -> tuple[Books, uuid.UUID]:
    """A placement from 1 February 2025; sick from 14 April 2025."""
    books = Books(system, system.registry.create_tenant(random_slug("remind"), "Werkbedrijf Utrecht B.V."))
    placement = books.placement(books.candidate(), books.employer(), None, planned_end_on=date(2025, 12, 31))
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 4, 14)))
    return books, placement


def test_running_the_job_twice_records_one_reminder_per_duty_and_due_date(system: System):
    books, placement = sick_tenant(system)
    first = system.remind(None, today=TODAY, tenants=[books.tenant])
    # Due by 2 May or overdue on 25 April: sick report (14 Apr), company doctor (20 Apr),
    # target-group declaration (30 Apr). Not the analysis, nor the no-risk report (both 25 May).
    assert (first.recorded, first.already, first.mailed) == (3, 0, 0)
    again = system.remind(None, today=TODAY, tenants=[books.tenant])
    assert (again.recorded, again.already) == (0, 0)
    head = books.head()
    # A reminder recorded meanwhile by another run is refused, not doubled.
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    listed = {r["kind"]: r for r in reminders_listed(system, books)}
    assert set(listed) == {"sick_report", "company_doctor_informed", "target_group_declaration"}
    r = listed["sick_report"]
    from service.errors import Conflict
    with pytest.raises(Conflict):
        books.run(c.RecordReminder(duty_id=uuid.UUID(r["duty_id"]), due_on=date.fromisoformat(r["due_on"]),
                                   placement_id=placement, kind="sick_report", reminded_on=TODAY))
    assert books.head() == head
    # A week later the analysis is not due yet either; done duties are not reminded.
    later = system.remind(None, today=TODAY + timedelta(days=7), tenants=[books.tenant])
    assert later.recorded == 0
    assert system.remind(None, today=date(2025, 5, 19), tenants=[books.tenant]).recorded == 2  # analysis, no-risk


def test_reminders_are_mailed_once_without_names(system: System, smtp):
    inbox, port = smtp
    books, _ = sick_tenant(system)
    for who in ("coach@werkbedrijf.example", "planner@werkbedrijf.example"):
        system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:6]}-{who}", "agency")
    system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:6]}@auditor.example", "auditor")
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{port}", "SROI Ledger <noreply@sroi.example>")
    run = system.remind(mailer, today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed, run.mail_errors) == (3, 3, [])
    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    assert sorted(r.split("-", 1)[1] for r in recipients) == ["coach@werkbedrijf.example",
                                                               "planner@werkbedrijf.example"]
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"].strip() == "SROI Ledger: 3 duties coming due or overdue (Werkbedrijf Utrecht B.V.)"
    text = message.get_content()
    assert "- 2025-04-14 (overdue): sick report (day 1)" in text
    assert "- 2025-04-30 (due): request the target-group declaration (wage-cost benefit)" in text
    assert "Sanne" not in text and "Jansen" not in text  # no one is named
    # Mailed reminders are not mailed again.
    assert system.remind(mailer, today=TODAY, tenants=[books.tenant]).mailed == 0
    assert len(inbox.messages) == 1
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    assert all(r["mailed_on"] == TODAY.isoformat() for r in reminders_listed(system, books))


def test_an_unreachable_server_keeps_reminders_unmailed_for_the_next_run(system: System, smtp):
    inbox, port = smtp
    books, _ = sick_tenant(system)
    system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:8]}@werkbedrijf.example", "agency")
    down = SmtpMailer.from_url(f"smtp://127.0.0.1:{processes.free_port()}", "noreply@sroi.example")
    run = system.remind(down, today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed, len(run.mail_errors)) == (3, 0, 1)
    up = SmtpMailer.from_url(f"smtp://127.0.0.1:{port}", "noreply@sroi.example")
    run = system.remind(up, today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed) == (0, 3)
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
    system.remind(None, today=TODAY, tenants=[books.tenant])
    catch_up(system, books.tenant)
    agency = bearer(token_for(system, books.tenant, "agency"))
    r = client.get(f"{API}/reminders", headers=agency)
    assert r.status_code == 200, r.text
    items = r.json()["reminders"]
    assert sorted((i["kind"], i["due_on"], i["overdue_when_reminded"]) for i in items) == [
        ("company_doctor_informed", "2025-04-20", True), ("sick_report", "2025-04-14", True),
        ("target_group_declaration", "2025-04-30", False)]
    assert all(i["reminded_on"] == "2025-04-25" and i["mailed_on"] is None for i in items)
    employee = bearer(token_for(system, books.tenant, "auditor"))
    assert client.get(f"{API}/reminders", headers=employee).status_code == 403


def test_two_runs_at_once_still_record_one_reminder_each(system: System):
    from concurrent.futures import ThreadPoolExecutor

    books, _ = sick_tenant(system)
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda _: system.remind(None, today=TODAY, tenants=[books.tenant]), range(3)))
    assert sum(r.recorded for r in runs) == 3
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    assert len(reminders_listed(system, books)) == 3


# -- addressed reminders: the placement's responsible agency user -------------------------------

def _agency_user(system: System, books: Books, who: str):
    from service.actor import Actor

    user = system.registry.create_user(books.tenant, f"{who}-{uuid.uuid4().hex[:6]}@werkbedrijf.example", "agency")
    return user, Actor(user_id=user.id, role="agency", organisation=books.tenant.slug)


def _sick_placement(books: Books, as_=None, **overrides) -> uuid.UUID:
    placement = books.new(_start(books, **overrides), as_)
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 4, 14)))
    return placement


def _start(books: Books, candidate: uuid.UUID | None = None, employer: uuid.UUID | None = None, **overrides):
    from tests.service.conftest import start_placement

    overrides.setdefault("planned_end_on", date(2025, 12, 31))
    return start_placement(candidate or books.candidate(), employer or books.employer(), None, None, **overrides)


def test_a_reminder_is_addressed_to_whoever_looks_after_the_placement(system: System, smtp):
    from service.actor import Actor

    inbox, port = smtp
    books = Books(system, system.registry.create_tenant(random_slug("addressed"), "Werkbedrijf Utrecht B.V."))
    coach, as_coach = _agency_user(system, books, "coach")
    planner, as_planner = _agency_user(system, books, "planner")
    system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:6]}@auditor.example", "auditor")
    # Started by the coach: theirs. Started by the platform (no user): nobody's.
    coached = _sick_placement(books, as_coach)
    nobodys = _sick_placement(books, Actor.system())
    # Named at the start: the planner's, whoever starts it.
    planned = _sick_placement(books, as_coach, responsible_user_id=planner.id)
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{port}", "SROI Ledger <noreply@sroi.example>")
    run = system.remind(mailer, today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed, run.mail_errors) == (9, 9, [])
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    addressed = {(r["placement_id"], r["addressed_to"]) for r in reminders_listed(system, books)}
    assert addressed == {(str(coached), str(coach.id)), (str(planned), str(planner.id)), (str(nobodys), None)}
    # One digest each for their own, one to every agency user (never the auditor) for nobody's.
    by_recipients = {tuple(sorted(rcpt)): message_from_bytes(raw, policy=policy.default)
                     for rcpt, raw in inbox.messages}
    assert set(by_recipients) == {(coach.email,), (planner.email,), tuple(sorted([coach.email, planner.email]))}
    own = by_recipients[(coach.email,)].get_content()
    assert "3 of the legal employer's duties" in own and "placements you look after" in own
    shared = by_recipients[tuple(sorted([coach.email, planner.email]))].get_content()
    assert "Nobody in particular looks after these placements" in shared
    # Handed over: the next reminders of that placement go to the new one; recorded once still.
    books.run(c.AssignPlacementResponsible(placement_id=coached, responsible_user_id=planner.id), as_planner)
    later = system.remind(mailer, today=date(2025, 5, 19), tenants=[books.tenant])
    assert later.recorded == 6  # each placement's problem analysis and no-risk report
    assert system.remind(mailer, today=date(2025, 5, 19), tenants=[books.tenant]).recorded == 0
    runner(system, books.tenant, duties.NAME).catch_up(books.tenant, wait=True)
    analysis = {r["placement_id"]: r["addressed_to"] for r in reminders_listed(system, books)
                if r["kind"] == "problem_analysis"}
    assert analysis == {str(coached): str(planner.id), str(planned): str(planner.id), str(nobodys): None}
    recipients = [sorted(rcpt) for rcpt, _ in inbox.messages[3:]]
    assert sorted(recipients) == sorted([[planner.email], sorted([coach.email, planner.email])])


def test_reminders_of_a_former_user_go_to_the_whole_agency(system: System, smtp):
    inbox, port = smtp
    books = Books(system, system.registry.create_tenant(random_slug("former"), "Werkbedrijf Utrecht B.V."))
    planner, _ = _agency_user(system, books, "planner")
    _sick_placement(books)  # started by an actor who is no user of the tenant (any more)
    run = system.remind(SmtpMailer.from_url(f"smtp://127.0.0.1:{port}", "noreply@sroi.example"),
                        today=TODAY, tenants=[books.tenant])
    assert (run.recorded, run.mailed) == (3, 3)
    assert [rcpt for rcpt, _ in inbox.messages] == [[planner.email]]


def test_only_an_agency_user_of_the_tenant_looks_after_a_placement(system: System):
    from service.errors import Conflict, InvalidReference, PermissionDenied
    from tests.projections.conftest import actor

    books = Books(system, system.registry.create_tenant(random_slug("resp"), "Werkbedrijf Utrecht B.V."))
    other = Books(system, system.registry.create_tenant(random_slug("resp-other"), "Ander Bureau B.V."))
    stranger, _ = _agency_user(system, other, "stranger")
    employer = books.employer()
    boss = system.registry.create_user(books.tenant, f"{uuid.uuid4().hex[:6]}@bouw.example", "employer",
                                       employer_id=employer)
    placement = books.new(_start(books, employer=employer))
    candidate = books.candidate()
    head = books.head()
    for who in (stranger.id, boss.id, uuid.uuid4()):
        with pytest.raises(InvalidReference) as e:
            books.run(c.AssignPlacementResponsible(placement_id=placement, responsible_user_id=who))
        assert e.value.field == "responsible_user_id"
        with pytest.raises(InvalidReference):
            books.run(_start(books, candidate, employer, responsible_user_id=who))
    with pytest.raises(PermissionDenied):
        books.run(c.AssignPlacementResponsible(placement_id=placement, responsible_user_id=None),
                  actor("employer", employer_id=employer))
    books.run(c.EndPlacement(placement_id=placement, ends_on=date(2025, 6, 1), reason="other"))
    with pytest.raises(Conflict):
        books.run(c.AssignPlacementResponsible(placement_id=placement, responsible_user_id=None))
    assert books.head() == head + 1  # the ending only: nothing of the refused commands was stored


def test_mine_and_everyones_reminders_over_the_api(system: System, client):
    books = Books(system, system.registry.create_tenant(random_slug("mine"), "Werkbedrijf Utrecht B.V."))
    coach, as_coach = _agency_user(system, books, "coach")
    planner, _ = _agency_user(system, books, "planner")
    coached = _sick_placement(books, as_coach)
    planned = _sick_placement(books, as_coach, responsible_user_id=planner.id)
    system.remind(None, today=TODAY, tenants=[books.tenant])
    catch_up(system, books.tenant)
    as_planner = bearer(system.registry.issue_token(planner))
    mine = client.get(f"{API}/reminders?mine=true", headers=as_planner).json()["reminders"]
    assert {r["placement_id"] for r in mine} == {str(planned)} and len(mine) == 3
    everyone = client.get(f"{API}/reminders", headers=as_planner).json()["reminders"]
    assert {r["placement_id"] for r in everyone} == {str(planned), str(coached)}
    assert client.get(f"{API}/reminders?mine=maybe", headers=as_planner).status_code == 422
    # Handing over through the API; the placement shows who looks after it.
    r = client.post(f"{API}/placements/{coached}/responsible", json={"responsible_user_id": str(planner.id)},
                    headers=as_planner)
    assert r.status_code == 200, r.text
    assert client.get(f"{API}/placements/{coached}", headers=as_planner).json()["responsible_user_id"] == str(planner.id)
    r = client.post(f"{API}/placements/{coached}/responsible", json={"responsible_user_id": str(uuid.uuid4())},
                    headers=as_planner)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "responsible_user_id"
