"""Statement notifications end to end: two agencies, two authority
organisations. A submitted statement is told to the users of the authority
its contract is linked to (or the in-tenant authority users its free text
names) and to the contract's owners; a decided one to the agency's users and
the owners. In the app (GET /api/v1/notifications, each user their own, never
another tenant's or organisation's) and by one digest per address per run
through a real SMTP server; told once, however often or concurrently the
process manager runs."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import message_from_bytes, policy
from typing import Any

from infra.bootstrap import System
from infra.mail import SmtpMailer
from service import commands as c
from service.actor import Actor
from tests.api.conftest import API, Org, bearer, candidate_body, contract_body, placement_body
from tests.conftest import random_slug
from tests.projections.conftest import catch_up


@dataclass
class Authority:
    org_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    token: str


def authority(system: System, name: str, lang: str | None = None) -> Authority:
    """An authority organisation with one user (whose mail is in `lang`; default Dutch)."""
    org = system.registry.create_organisation("authority", name, oin="00000001" + uuid.uuid4().int.__str__()[:12])
    email = f"{uuid.uuid4().hex[:10]}@{name.split()[-1].lower()}.example"
    user = system.registry.create_org_user(org.id, email, "authority", lang=lang)
    return Authority(org.id, user.id, email, system.registry.issue_token(user))


def agency(system: System, client: Any, name: str, lang: str | None = None) -> tuple[Org, str]:
    tenant = system.registry.create_tenant(random_slug("notify"), name)
    a = Org(system=system, client=client, tenant=tenant, agency_token="")
    email = f"planner-{uuid.uuid4().hex[:8]}@{tenant.slug}.example"
    a.agency_token = system.registry.issue_token(system.registry.create_user(tenant, email, "agency", lang=lang))
    return a, email


def submitted_statement(a: Org, tag: str, **contract: Any) -> tuple[str, str]:
    """A contract (with owners at both sides) with a placement and a purchase,
    and its 2025 statement submitted; (contract id, statement id)."""
    employer = a.create("/employers", {"name": "Bouwbedrijf De Vries"})
    contract_id = a.create("/contracts", contract_body(
        employer, title=f"Onderhoud {tag}", agency_owner_name="Youssef El Amrani",
        agency_owner_email=f"owner-{tag}@agency.example", employer_owner_name="Els de Vries",
        employer_owner_email=f"owner-{tag}@employer.example", **contract))
    candidate = a.create("/candidates", candidate_body())
    a.create("/placements", placement_body(candidate, employer, contract_id))
    a.create(f"/contracts/{contract_id}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Groen Doen B.V.",
        "invoice_amount_eur_excl_vat": "10000.00", "register": "registered_social_enterprise",
        "invoice_date": "2025-03-01", "description": "Groenonderhoud"})
    statement = a.create(f"/contracts/{contract_id}/statements",
                         {"period_start": "2025-01-01", "period_end": "2025-12-31"})
    r = a.post(f"/statements/{statement}/submit", None)
    assert r.status_code == 200, r.text
    catch_up(a.system, a.tenant)
    return contract_id, statement


def mails(inbox: Any, address: str) -> list[Any]:
    return [message_from_bytes(raw, policy=policy.default) for to, raw in inbox.messages if address in to]


def listed(client: Any, token: str, query: str = "") -> dict[str, Any]:
    r = client.get(f"{API}/notifications{query}", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_statements_are_told_once_to_whom_they_concern_and_to_nobody_else(system: System, client: Any,
                                                                             smtp: Any) -> None:
    inbox, port = smtp
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="SROI Ledger <noreply@sroi.example>")
    # Harlingen's user and Kansrijk's planner read their mail in English (the others in Dutch, the default).
    harlingen, utrecht = authority(system, "Gemeente Harlingen", "en"), authority(system, "Gemeente Utrecht")
    (kansrijk, k_planner), (noord, n_planner) = agency(system, client, "Kansrijk", "en"), agency(system, client, "Noord")
    k_contract, k_statement = submitted_statement(kansrijk, "kansrijk", contracting_authority=None,
                                                  authority_org_id=str(harlingen.org_id))
    n_contract, n_statement = submitted_statement(noord, "noord", authority_org_id=str(utrecht.org_id))
    # An older contract of Kansrijk linked to no organisation: its in-tenant authority user (by free text).
    legacy_email = f"legacy-{uuid.uuid4().hex[:8]}@utrecht.example"
    legacy = system.registry.create_user(kansrijk.tenant, legacy_email, "authority", organisation="Gemeente Utrecht")
    legacy_token = system.registry.issue_token(legacy)
    _, legacy_statement = submitted_statement(kansrijk, "legacy")
    tenants = [kansrijk.tenant, noord.tenant]

    # Two workers at once, then once more: each recipient one digest, each (notice, recipient) one row.
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: system.notify(mailer, tenants=tenants), range(2)))
    again = system.notify(mailer, tenants=tenants)
    assert sum(r.notices for r in runs) == 3 and again.notices == 0 and again.mailed == 0
    assert sum(r.mail_errors == [] for r in runs) == 2

    # The authorities: each its own agency's statement, in the app and by mail.
    h = listed(client, harlingen.token)
    assert [(n["statement_id"], n["kind"]) for n in h["notifications"]] == [(k_statement, "statement_submitted")]
    assert h["unread"] == 1 and h["notifications"][0]["contract_title"] == "Onderhoud kansrijk"
    assert h["notifications"][0]["lines"] == 2 and h["notifications"][0]["link"] == f"/statements/{k_statement}"
    u = listed(client, utrecht.token)
    assert [n["statement_id"] for n in u["notifications"]] == [n_statement]
    assert [n["statement_id"] for n in listed(client, legacy_token)["notifications"]] == [legacy_statement]
    # Agencies hear nothing of a submission.
    assert listed(client, kansrijk.agency_token)["notifications"] == []
    assert listed(client, noord.agency_token)["notifications"] == []

    (h_mail,) = mails(inbox, harlingen.email)
    text = h_mail.get_content()
    assert h_mail["Subject"] == "SROI Ledger: period statements, 1 awaiting a decision"
    assert f"/statements/{k_statement}" in text and "Onderhoud kansrijk" in text and n_statement not in text
    assert "Sanne" not in text and "Schriftelijke" not in text and "Youssef" not in text  # no person, no support
    (u_mail,) = mails(inbox, utrecht.email)
    assert f"/statements/{n_statement}" in u_mail.get_content() and k_statement not in u_mail.get_content()
    assert len(mails(inbox, legacy_email)) == 1
    # The owners of both sides: one digest each, of their own contract.
    for tag, statement in (("kansrijk", k_statement), ("noord", n_statement)):
        for side in ("agency", "employer"):
            (owner_mail,) = mails(inbox, f"owner-{tag}@{side}.example")
            assert f"/statements/{statement}" in owner_mail.get_content()
    assert mails(inbox, k_planner) == [] and mails(inbox, n_planner) == []

    # Harlingen decides every line of Kansrijk's statement: Kansrijk's users hear of it, Noord's do not.
    actor = Actor(user_id=harlingen.user_id, role="authority", organisation="Gemeente Harlingen",
                  org_id=harlingen.org_id)
    system.ledger.execute(kansrijk.tenant, actor, c.DecideStatementLines(
        statement_id=uuid.UUID(k_statement), decisions=(
            c.LineDecision(line_id="L1", decision="accepted", reason=None),
            c.LineDecision(line_id="L2", decision="rejected", reason="Geen factuur"))))
    catch_up(system, kansrijk.tenant)
    run = system.notify(mailer, tenants=tenants)
    assert run.notices == 1 and run.mailed == 3  # the planner, and the two owners
    k = listed(client, kansrijk.agency_token)["notifications"]
    assert [(n["statement_id"], n["kind"], n["accepted"], n["rejected"]) for n in k] == [
        (k_statement, "statement_decided", 1, 1)]
    assert listed(client, noord.agency_token)["notifications"] == []
    (decided,) = mails(inbox, k_planner)
    assert "1 lines accepted, 1 rejected" in decided.get_content() and "Geen factuur" not in decided.get_content()
    assert len(mails(inbox, "owner-kansrijk@agency.example")) == 2
    assert len(mails(inbox, harlingen.email)) == 1  # the authority is not told of its own decision

    # Reading: each user marks their own; another's id changes nothing.
    other_id = u["notifications"][0]["id"]
    r = client.post(f"{API}/notifications/read", json={"ids": [other_id]}, headers=bearer(harlingen.token))
    assert r.status_code == 200 and r.json() == {"marked_read": 0}
    assert listed(client, utrecht.token)["unread"] == 1
    r = client.post(f"{API}/notifications/read", json={}, headers=bearer(harlingen.token))
    assert r.json() == {"marked_read": 1}
    assert listed(client, harlingen.token)["unread"] == 0
    assert listed(client, harlingen.token, "?unread=true")["notifications"] == []
    r = client.post(f"{API}/notifications/read", json={"ids": []}, headers=bearer(harlingen.token))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ids", r.text
    r = client.get(f"{API}/notifications?unread=maybe", headers=bearer(harlingen.token))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unread", r.text

    # A contract moved to another authority: the old one no longer sees what it was told about it.
    r = client.patch(f"{API}/contracts/{k_contract}", json={"authority_org_id": str(utrecht.org_id)},
                     headers=bearer(kansrijk.agency_token))
    assert r.status_code == 200, r.text
    catch_up(system, kansrijk.tenant)
    assert listed(client, harlingen.token)["notifications"] == []


def test_each_recipient_gets_the_digest_in_their_own_language(system: System, client: Any, smtp: Any) -> None:
    """Two users of one authority, one reading Dutch and one English, and the
    contract's owners (no account: Dutch). Each digest is wholly in its
    recipient's language, from the pages' catalogue, and names no person."""
    inbox, port = smtp
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="SROI Ledger <noreply@sroi.example>")
    utrecht = authority(system, "Gemeente Utrecht", "nl")
    english = f"{uuid.uuid4().hex[:10]}@utrecht.example"
    system.registry.create_org_user(utrecht.org_id, english, "authority", lang="en")
    kansrijk, planner = agency(system, client, "Kansrijk")  # Dutch: the default
    _, statement = submitted_statement(kansrijk, "talen", authority_org_id=str(utrecht.org_id))
    run = system.notify(mailer, tenants=[kansrijk.tenant])
    assert run.notices == 1 and run.mailed == 4 and run.mail_errors == []

    (nl,) = mails(inbox, utrecht.email)
    (en,) = mails(inbox, english)
    assert nl["Subject"] == "SROI Ledger: verantwoordingen, 1 te beoordelen"
    assert en["Subject"] == "SROI Ledger: period statements, 1 awaiting a decision"
    assert nl.get_content().splitlines()[:3] == [
        "Nieuws over verantwoordingen per periode in SROI Ledger:", "",
        "- Onderhoud talen, 2025-01-01 t/m 2025-12-31: verantwoording ingediend, wacht op het besluit van de"
        " opdrachtgever (2 regels)"]
    assert en.get_content().splitlines()[:3] == [
        "News about period statements in SROI Ledger:", "",
        "- Onderhoud talen, 2025-01-01 to 2025-12-31: statement submitted, awaiting the contracting authority's"
        " decision (2 lines)"]
    assert "Uw meldingen in SROI Ledger tonen ze ook." in nl.get_content()
    assert "Your notifications in SROI Ledger list them too." in en.get_content()
    for mail in (nl, en):
        assert f"/statements/{statement}" in mail.get_content()
    # The owners have no account: Dutch, the product's language.
    (owner,) = mails(inbox, "owner-talen@employer.example")
    assert owner["Subject"] == "SROI Ledger: verantwoordingen, 1 te beoordelen"
    # No personal data: not the person placed, nor the owners' names, nor support needs.
    for _, raw in inbox.messages:
        mail = message_from_bytes(raw, policy=policy.default)
        text = str(mail["Subject"]) + mail.get_content()
        for personal in ("Sanne", "Jansen", "Schriftelijke", "Youssef", "Els de Vries", "1990-06-15"):
            assert personal not in text, personal

    # Decided: the agency's planner hears of it in Dutch.
    actor = Actor(user_id=utrecht.user_id, role="authority", organisation="Gemeente Utrecht", org_id=utrecht.org_id)
    system.ledger.execute(kansrijk.tenant, actor, c.DecideStatementLines(
        statement_id=uuid.UUID(statement), decisions=(
            c.LineDecision(line_id="L1", decision="accepted", reason=None),
            c.LineDecision(line_id="L2", decision="rejected", reason="Geen factuur"))))
    catch_up(system, kansrijk.tenant)
    assert system.notify(mailer, tenants=[kansrijk.tenant]).notices == 1
    (decided,) = mails(inbox, planner)
    assert decided["Subject"] == "SROI Ledger: verantwoordingen, 1 beoordeeld"
    assert "over de verantwoording is besloten (1 regels geaccepteerd, 1 afgewezen)" in decided.get_content()
    assert "Geen factuur" not in decided.get_content()


def test_every_digest_text_has_its_dutch_translation() -> None:
    from infra.translations import translations
    from service.notifications import MESSAGES

    dutch = translations("nl")
    assert [m for m in MESSAGES if dutch.gettext(m) == m] == []
