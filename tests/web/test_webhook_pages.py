"""The webhooks pages: an agency user adds a subscription (the secret shown
once), reads the delivery log, pauses, resumes, replays and deletes, with
plain forms (no JavaScript); errors at their field; another agency's
subscription is a 404; roles that do not manage webhooks are refused."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest

from infra.bootstrap import System
from infra.webhooks import Owner
from tests.web.world import Agency, Browser, new_tenant

SECRET_RE = re.compile(r"whsec_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def allow_public_ip(system: System, monkeypatch: pytest.MonkeyPatch) -> System:
    monkeypatch.setattr(system.webhooks, "settings", dataclasses.replace(system.webhooks.settings,
                                                                         allow_private=False))
    return system


def test_an_agency_user_manages_a_subscription_on_the_pages(
        allow_public_ip: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    system = allow_public_ip
    me = pages(agency.user("agency"))
    assert 'href="/webhooks"' in me.get("/").text  # in the header
    for empty in ({}, {"url": "", "description": ""}):  # no event type ticked
        r = me.post("/webhooks", empty)
        assert r.status_code == 422 and 'id="webhook-url-error"' in r.text, r.text[-500:]
    bad = me.post("/webhooks", {"url": "http://127.0.0.1/hook", "event_types": "EmployerRegistered"})
    assert bad.status_code == 422 and 'id="webhook-url"' in bad.text and "https" in bad.text
    assert system.webhooks.list(Owner(tenant_id=agency.tenant.id)) == []
    created = me.post("/webhooks", {"url": "https://93.184.216.34/hook", "event_types": "EmployerRegistered",
                                    "description": "Salarispakket"})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    secret = SECRET_RE.search(created.text).group(0)
    (sub,) = system.webhooks.list(Owner(tenant_id=agency.tenant.id))
    assert sub["event_types"] == ["EmployerRegistered"] and sub["description"] == "Salarispakket"
    listing = me.get("/webhooks").text
    assert sub["id"] in listing and secret not in listing
    # A delivery in the log (the receiver is not reachable here: it stays retrying).
    agency.seed()
    system.follow_webhooks(agency.tenant)
    page = me.get(f"/webhooks/{sub['id']}")
    assert page.status_code == 200 and "EmployerRegistered" in page.text and secret not in page.text
    for action, status in (("pause", "paused"), ("resume", "active")):
        r = me.post(f"/webhooks/{sub['id']}/{action}")
        assert r.status_code == 303, r.text
        assert system.webhooks.get(Owner(tenant_id=agency.tenant.id), __import__("uuid").UUID(sub["id"]))[
            "status"] == status
    rotated = me.post(f"/webhooks/{sub['id']}/rotate-secret")
    assert rotated.status_code == 200 and SECRET_RE.search(rotated.text).group(0) != secret
    r = me.post(f"/webhooks/{sub['id']}/replay", {"since": "gisteren"})
    assert r.status_code == 422 and 'id="replay-since"' in r.text
    assert me.post(f"/webhooks/{sub['id']}/replay", {"since": "2025-01-01"}).status_code == 303
    # Another agency's user: 404 on every page and form of it.
    other = new_tenant(system)
    them = pages(other.user("agency"))
    assert them.get(f"/webhooks/{sub['id']}").status_code == 404
    assert them.post(f"/webhooks/{sub['id']}/pause").status_code == 404
    assert them.post(f"/webhooks/{sub['id']}/delete", {"confirm": "yes"}).status_code == 404
    assert sub["id"] not in them.get("/webhooks").text
    # Roles that do not manage webhooks.
    assert pages(agency.user("auditor")).get("/webhooks").status_code == 403
    # Deleting asks to confirm.
    assert me.post(f"/webhooks/{sub['id']}/delete").status_code == 422
    r = me.post(f"/webhooks/{sub['id']}/delete", {"confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == "/webhooks?deleted=1"
    assert system.webhooks.list(Owner(tenant_id=agency.tenant.id)) == []


def test_an_organisations_user_manages_the_organisations_own_subscriptions(
        allow_public_ip: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    import uuid

    from tests.web.world import PASSWORD
    system = allow_public_ip
    org = system.registry.create_organisation("authority", "Gemeente Webhook", oin=f"{uuid.uuid4().int % 10**20:020d}")
    user = system.registry.create_org_user(org.id, f"{uuid.uuid4().hex}@example.org", "authority", password=PASSWORD)
    them = pages(user)
    page = them.get("/webhooks")
    assert page.status_code == 200 and "SicknessReported" not in page.text and "ContractRegistered" in page.text
    created = them.post("/webhooks", {"url": "https://93.184.216.34/gemeente", "event_types": "ContractRegistered"})
    assert created.status_code == 201, created.text[-500:]
    (sub,) = system.webhooks.list(Owner(org_id=org.id))
    assert sub["url"] == "https://93.184.216.34/gemeente"
    # The agency does not see it; the organisation does not see the agency's.
    me = pages(agency.user("agency"))
    assert me.get(f"/webhooks/{sub['id']}").status_code == 404 and sub["id"] not in me.get("/webhooks").text
    refused = them.post("/webhooks", {"url": "https://93.184.216.34/x", "event_types": "SicknessReported"})
    assert refused.status_code == 422
