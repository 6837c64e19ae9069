"""Notifications on the pages: the bell in the header counts the unread ones,
the list links each statement and marks read; in a real browser (checked
with axe-core), and without JavaScript for an organisation's user and a
user who was told nothing."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from infra.bootstrap import System
from service import commands as c
from tests.web.conftest import PASSWORD, Agency, Browser, login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]


def submitted(agency: Agency) -> uuid.UUID:
    ids = agency.seed()  # contract from a year ago (Gemeente Utrecht, free text), placement from 60 days ago
    start, end = agency.period_around(ids["contract"], date.today() - timedelta(days=1))
    statement = agency.run(c.PrepareStatement(contract_id=ids["contract"], period_start=start, period_end=end))
    agency.run(c.SubmitStatement(statement_id=statement))
    agency.project()
    return statement


def test_the_authority_sees_the_bell_opens_the_statement_and_marks_it_read(
        agency: Agency, system: System, audited_page: Any, audit: Callable[[str], None]) -> None:
    authority = agency.user("authority", organisation="Gemeente Utrecht")
    statement = submitted(agency)
    assert system.notify(None, tenants=[agency.tenant]).told >= 1
    page = audited_page
    login(page, authority.email)
    bell = page.get_by_role("link", name="Meldingen")
    expect(bell).to_contain_text("1")
    bell.click()
    page.wait_for_url("**/notifications")
    expect(page.get_by_role("heading", name="Meldingen")).to_be_visible()
    item = page.locator("ul.notifications li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Onderhoud openbare ruimte")
    expect(item).to_contain_text("wacht op een besluit")
    expect(item.get_by_role("link")).to_have_attribute("href", f"/statements/{statement}")
    audit("the notifications page")
    item.get_by_role("button", name="Als gelezen markeren").click()
    expect(page.locator("ul.notifications li.unread")).to_have_count(0)
    expect(page.locator("#notification-count")).to_have_text("")
    item.get_by_role("link").click()
    page.wait_for_url(f"**/statements/{statement}")


def test_an_organisation_user_sees_only_its_own_and_the_agency_nothing_yet(
        agency: Agency, system: System, pages: Callable[..., Browser]) -> None:
    org = system.registry.create_organisation("authority", "Gemeente Utrecht",
                                              oin="00000001" + str(uuid.uuid4().int)[:12])
    officer = system.registry.create_org_user(org.id, f"{uuid.uuid4().hex}@example.org", "authority",
                                              password=PASSWORD)
    bystander = system.registry.create_org_user(
        system.registry.create_organisation("authority", "Gemeente Zeist", oin="00000001" + str(uuid.uuid4().int)[:12]).id,
        f"{uuid.uuid4().hex}@example.org", "authority", password=PASSWORD)
    ids = agency.seed()
    agency.run(c.AmendContract(contract_id=ids["contract"], authority_org_id=org.id))
    start, end = agency.period_around(ids["contract"], date.today() - timedelta(days=1))
    statement = agency.run(c.PrepareStatement(contract_id=ids["contract"], period_start=start, period_end=end))
    agency.run(c.SubmitStatement(statement_id=statement))
    agency.project()
    system.notify(None, tenants=[agency.tenant])
    me = pages()
    assert me.login(officer.email).status_code == 303
    html = me.get("/notifications").text
    assert f'href="/statements/{statement}"' in html and "wacht op een besluit" in html
    assert '<span class="badge badge-count">1</span>' in me.get("/notifications/count").text
    assert me.post("/notifications/read", {}).status_code == 303
    assert "badge-count" not in me.get("/notifications/count").text
    other = pages()
    assert other.login(bystander.email).status_code == 303
    assert "Geen meldingen voor u." in other.get("/notifications").text
    planner = pages(agency.user("agency"))
    assert "Geen meldingen voor u." in planner.get("/notifications").text
