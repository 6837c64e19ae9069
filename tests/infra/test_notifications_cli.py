"""`sroi notifications run`: what the worker does every minute, once, for an
operator (after an outage, say): inbox rows and digests through a real SMTP
server (aiosmtpd on localhost), with how many it handled printed; a second
run tells nothing twice; a failed send says so (exit 1) and stays for the
next run. Against the real database; `--tenant` keeps the counts to the
test's own agency (the database holds other tests' tenants too)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from click.testing import CliRunner

from infra import processes
from infra.bootstrap import System
from infra.cli import main
from tests.conftest import random_slug
from tests.api.conftest import client  # noqa: F401  (fixture)
from tests.duties.conftest import smtp  # noqa: F401  (fixture)
from tests.notifications.test_notifications import agency, authority, listed, mails, submitted_statement


@pytest.fixture
def sroi(database_url: str):
    runner = CliRunner()

    def invoke(*args: str, **env: str):
        return runner.invoke(main, list(args), catch_exceptions=False, env={
            "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-not-for-production", "BROKER_URL": "",
            "SMTP_URL": "", "MAIL_FROM": "SROI Ledger <noreply@sroi.example>",
            "PUBLIC_URL": "https://sroi.example.org", **env})
    return invoke


def test_a_run_tells_and_mails_once_and_prints_how_many(sroi: Any, system: System, client: Any,  # noqa: F811
                                                         smtp: Any) -> None:  # noqa: F811
    inbox, port = smtp
    utrecht = authority(system, "Gemeente Utrecht")
    kansrijk, _ = agency(system, client, "Kansrijk")
    _, statement = submitted_statement(kansrijk, "cli", authority_org_id=str(utrecht.org_id))
    smtp_url = f"smtp://127.0.0.1:{port}"

    first = sroi("notifications", "run", "--tenant", kansrijk.tenant.slug, SMTP_URL=smtp_url)
    assert first.exit_code == 0, first.output
    # The authority's user and the contract's two owners: one notice, three recipients, three digests.
    assert first.output.splitlines() == ["notices told: 1 (3 recipients)", "mails sent: 3"]
    (mail,) = mails(inbox, utrecht.email)
    assert f"https://sroi.example.org/statements/{statement}" in mail.get_content()
    assert [n["statement_id"] for n in listed(client, utrecht.token)["notifications"]] == [statement]

    again = sroi("notifications", "run", "--tenant", kansrijk.tenant.slug, SMTP_URL=smtp_url)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == ["notices told: 0 (0 recipients)", "mails sent: 0"]
    assert len(inbox.messages) == 3


def test_a_failed_send_is_reported_and_left_for_the_next_run(sroi: Any, system: System, client: Any,  # noqa: F811
                                                              smtp: Any) -> None:  # noqa: F811
    inbox, port = smtp
    utrecht = authority(system, "Gemeente Utrecht")
    kansrijk, _ = agency(system, client, "Kansrijk")
    submitted_statement(kansrijk, "outage", authority_org_id=str(utrecht.org_id))
    nobody_listens = f"smtp://127.0.0.1:{processes.free_port()}"

    down = sroi("notifications", "run", "--tenant", kansrijk.tenant.slug, SMTP_URL=nobody_listens)
    assert down.exit_code == 1, down.output
    assert "notices told: 1 (3 recipients)" in down.output and "mails sent: 0" in down.output
    assert "3 digest(s) not sent" in down.output and "next run" in down.output
    assert listed(client, utrecht.token)["unread"] == 1  # told in the app all the same

    up = sroi("notifications", "run", "--tenant", kansrijk.tenant.slug, SMTP_URL=f"smtp://127.0.0.1:{port}")
    assert up.exit_code == 0, up.output
    assert up.output.splitlines() == ["notices told: 0 (0 recipients)", "mails sent: 3"]
    assert len(mails(inbox, utrecht.email)) == 1


def test_without_smtp_it_says_no_mail_is_sent_and_an_unknown_tenant_is_refused(
        sroi: Any, system: System, client: Any) -> None:  # noqa: F811
    utrecht = authority(system, "Gemeente Utrecht")
    kansrijk, _ = agency(system, client, "Kansrijk")
    submitted_statement(kansrijk, "nomail", authority_org_id=str(utrecht.org_id))
    r = sroi("notifications", "run", "--tenant", kansrijk.tenant.slug)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["notices told: 1 (3 recipients)", "mails sent: 0 (SMTP_URL is not set)"]
    unknown = sroi("notifications", "run", "--tenant", "no-such-agency")
    assert unknown.exit_code == 1 and "no-such-agency" in unknown.output


def test_a_user_is_created_with_the_language_of_their_mail(sroi: Any, system: System) -> None:
    tenant = system.registry.create_tenant(random_slug("lang"), "Kansrijk")
    dutch, english = f"{uuid.uuid4().hex[:10]}@kansrijk.example", f"{uuid.uuid4().hex[:10]}@kansrijk.example"
    assert sroi("user", "create", "--tenant", tenant.slug, "--email", dutch, "--role", "agency").exit_code == 0
    made = sroi("user", "create", "--tenant", tenant.slug, "--email", english, "--role", "agency", "--lang", "en")
    assert made.exit_code == 0, made.output
    assert system.registry.user_by_email(dutch).lang == "nl"  # the product is Dutch
    assert system.registry.user_by_email(english).lang == "en"
    refused = sroi("user", "create", "--tenant", tenant.slug, "--email", f"x{dutch}", "--role", "agency",
                   "--lang", "de")
    assert refused.exit_code == 2 and "--lang" in refused.output
    assert system.registry.user_by_email(f"x{dutch}") is None
    changed = sroi("user", "set-lang", "--email", english, "--lang", "nl")
    assert changed.exit_code == 0, changed.output
    assert system.registry.user_by_email(english).lang == "nl"
    unknown = sroi("user", "set-lang", "--email", f"nobody-{dutch}", "--lang", "en")
    assert unknown.exit_code == 1 and "no user" in unknown.output
