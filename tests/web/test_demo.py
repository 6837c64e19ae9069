"""The demo (`make run`): two agencies share contracts with Gemeente Utrecht and
employer records with Bouwbedrijf De Vries; the organisations' users see
both agencies, an agency's user never sees the other agency."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from infra.bootstrap import System
from infra.demo import CREDENTIALS_FILE, DEMO_NAME, DEMO_SLUG, PARTNER_NAME, PARTNER_SLUG, seed_demo
from projections.registry import PROJECTIONS
from projections.writer import ProjectionRunner
from tests.web.world import PASSWORD, Browser

# The id cell links to the record's page where the organisation may open it.
SHARED_ROW = re.compile(r"<td>([^<]*)</td>\s*<td>(\w+)</td>\s*<td>(?:<a href=\"[^\"]*\">)?<code>([0-9a-f-]{36})</code>")
UTRECHT_TITLES = {DEMO_NAME: {"Onderhoud openbare ruimte Utrecht-Oost 2025-2027", "Schoonmaak stadskantoor"},
                  PARTNER_NAME: {"Herinrichting Vredenburgplein fase 2", "Groenonderhoud parken Utrecht-West"}}


def shared_with(browser: Browser, kind: str) -> dict[str, set[str]]:
    """The /shared rows (the home page of an organisation's user) of one kind: ids by agency."""
    home = browser.get("/?lang=en")
    assert home.status_code == 200, home.text
    found: dict[str, set[str]] = {}
    for agency, row_kind, record_id in SHARED_ROW.findall(home.text):
        if row_kind == kind:
            found.setdefault(agency, set()).add(record_id)
    return found


def test_the_demo_shares_across_two_agencies_and_keeps_them_apart(
        system: System, pages: Callable[..., Browser], tmp_path: Path) -> None:
    demo_system = dataclasses.replace(system, settings=dataclasses.replace(system.settings, data_dir=tmp_path))
    logins = seed_demo(demo_system)
    if logins is not None:  # not seeded earlier in this run (`make screenshots`)
        labelled = {(l.where, l.role, l.email) for l in logins}
        assert {(DEMO_NAME, "agency", "agency@demo.sroi.test"),
                (PARTNER_NAME, "agency", "agency@werkpad.sroi.test"),
                ("across agencies: Gemeente Utrecht", "authority", "utrecht@demo.sroi.test"),
                ("across agencies: Bouwbedrijf De Vries B.V.", "employer", "devries@demo.sroi.test")} <= labelled
        written = (tmp_path / CREDENTIALS_FILE).read_text()
        assert all(f"{l.where}\t{l.role}\t{l.email}\t{l.password}\t{l.token}" in written for l in logins)
    # Idempotent: a second `make run` adds no tenant, organisation or user.
    before = (len(system.registry.list_tenants()), len(system.registry.list_organisations()))
    assert seed_demo(demo_system) is None
    assert (len(system.registry.list_tenants()), len(system.registry.list_organisations())) == before

    tenants = [system.registry.tenant_by_slug(DEMO_SLUG), system.registry.tenant_by_slug(PARTNER_SLUG)]
    for tenant in tenants:
        for projection in PROJECTIONS:
            ProjectionRunner(system.stores.database(tenant.database), projection).catch_up(tenant, wait=True)
    tokens = {}
    for email in ("utrecht@demo.sroi.test", "devries@demo.sroi.test", "agency@demo.sroi.test"):
        system.registry.set_password(email, PASSWORD)
        user = system.registry.user_by_email(email)
        assert user is not None
        tokens[email] = system.registry.issue_token(user)
    api = pages()

    def get(path: str, email: str):  # the API with that user's token
        return api.client.get(path, headers={"Authorization": f"Bearer {tokens[email]}"})

    # The municipality's officer signs in once and sees the Utrecht contracts of both agencies.
    officer = pages()
    assert officer.login("utrecht@demo.sroi.test").status_code == 303
    contracts = shared_with(officer, "contract")
    assert set(contracts) == {DEMO_NAME, PARTNER_NAME}
    for agency, ids in contracts.items():
        titles = set()
        for contract_id in ids:
            r = get(f"/api/v1/contracts/{contract_id}", "utrecht@demo.sroi.test")
            assert r.status_code == 200, r.text
            titles.add(r.json()["title"])
        assert titles == UTRECHT_TITLES[agency], agency

    # The employer's HR user sees its placements in both agencies, and no other employer's.
    hr = pages()
    assert hr.login("devries@demo.sroi.test").status_code == 303
    placements = shared_with(hr, "placement")
    assert {agency: len(ids) for agency, ids in placements.items()} == {DEMO_NAME: 3, PARTNER_NAME: 2}
    for ids in placements.values():
        for placement_id in ids:
            r = get(f"/api/v1/placements/{placement_id}", "devries@demo.sroi.test")
            assert r.status_code == 200, r.text
    assert set(shared_with(hr, "employer")) == {DEMO_NAME, PARTNER_NAME}

    # The first agency's user sees nothing of the second agency, by API or page.
    for contract_id in contracts[PARTNER_NAME]:
        assert get(f"/api/v1/contracts/{contract_id}", "agency@demo.sroi.test").status_code == 404
    for placement_id in placements[PARTNER_NAME]:
        assert get(f"/api/v1/placements/{placement_id}", "agency@demo.sroi.test").status_code == 404
    for contract_id in contracts[DEMO_NAME]:
        assert get(f"/api/v1/contracts/{contract_id}", "agency@demo.sroi.test").status_code == 200
    coach = pages()
    assert coach.login("agency@demo.sroi.test").status_code == 303
    listed = coach.get("/contracts?lang=en").text
    assert all(title in listed for title in UTRECHT_TITLES[DEMO_NAME])
    assert "Digitalisering archief haven Harlingen" in listed
    assert not any(title in listed for title in UTRECHT_TITLES[PARTNER_NAME] | {"Beplanting kaden Harlingen"})
    people = coach.get("/placements?lang=en").text
    assert "Sanne Bakker" in people and "Kevin Jansen" not in people
