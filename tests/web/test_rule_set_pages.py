"""The rule set pages (/rule-sets): every signed-in user reads the rule sets;
an authority organisation's user publishes one with a live preview that
values a sample placement (a Participatiewet person for the year 2025 at 36
and at 18 hours a week) as the body is typed."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any

from domain.valuation import rule_set_sha256
from infra.bootstrap import System
from tests.web.conftest import Server, login
from tests.web.world import PASSWORD, Agency, Browser

HTMX = {"HX-Request": "true"}


def utrecht(name: str, **changes: Any) -> dict[str, Any]:
    body = json.loads(resources.files("domain.rulesets").joinpath("utrecht-2024.json").read_text("utf-8"))
    return {**body, "name": name, **changes}


def officer(system: System, town: str = "Gemeente Zwolle") -> Any:
    """A user of a new authority organisation of the platform, with a password."""
    org = system.registry.create_organisation("authority", town, oin=f"{uuid.uuid4().int % 10**20:020d}")
    return system.registry.create_org_user(org.id, f"{uuid.uuid4().hex}@example.org", "authority",
                                           password=PASSWORD)


def test_every_user_reads_the_rule_sets_and_only_an_authority_organisation_publishes(
        system: System, agency: Agency, pages: Callable[..., Browser]) -> None:
    me = pages(agency.user("agency"))
    listing = me.get("/rule-sets?lang=en")
    assert listing.status_code == 200
    assert 'href="/rule-sets/utrecht-2024/1"' in listing.text and 'href="/rule-sets/harlingen-2024/2"' in listing.text
    assert 'action="/rule-sets"' not in listing.text  # an agency publishes none
    detail = me.get("/rule-sets/utrecht-2024/1?lang=en")
    assert detail.status_code == 200
    assert rule_set_sha256(utrecht("utrecht-2024")) in detail.text
    # Utrecht v1, Participatiewet: 40,000 x 36/36 x 365/365 = 40,000 at 36 h; x 18/36 = 20,000 at 18 h.
    assert "€40,000.00" in detail.text and "€20,000.00" in detail.text
    assert me.get("/rule-sets/utrecht-2024/9").status_code == 404
    r = me.post("/rule-sets", {"body": json.dumps(utrecht(f"agency-{uuid.uuid4().hex[:8]}"))})
    assert r.status_code == 403


def test_an_authority_publishes_through_the_form_and_a_bad_body_names_its_fields(
        system: System, pages: Callable[..., Browser]) -> None:
    user = officer(system)
    me = pages()
    assert me.login(user.email).status_code == 303
    form = me.get("/rule-sets")
    assert form.status_code == 200 and 'action="/rule-sets"' in form.text
    # The preview of a bad body, as htmx asks for it: the fields at fault.
    name = f"zwolle-{uuid.uuid4().hex[:8]}"
    bad = utrecht(name, blocks={**utrecht(name)["blocks"], "ww": {"value_eur": 20000}})
    fragment = me.post("/rule-sets/preview", {"body": json.dumps(bad)}, headers=HTMX)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<section id="rule-set-preview"')
    assert "<code>blocks.ww.value_eur</code>" in fragment.text
    assert "<code>body</code>" in me.post("/rule-sets/preview", {"body": "{not json"}, headers=HTMX).text
    # Publishing a bad body answers the form with the errors, and stores nothing.
    r = me.post("/rule-sets", {"body": json.dumps(bad)})
    assert r.status_code == 422 and "<code>blocks.ww.value_eur</code>" in r.text
    assert system.registry.rule_sets.get(name) is None
    r = me.post("/rule-sets", {"body": json.dumps(utrecht(name))})
    assert r.status_code == 303 and r.headers["location"] == f"/rule-sets/{name}/1"
    stored = system.registry.rule_sets.get(name)
    assert stored is not None and stored.owner_name == "Gemeente Zwolle" and stored.created_by == user.id
    # The form now starts from the next version of the organisation's rule set.
    again = me.get("/rule-sets").text
    assert f"&#34;name&#34;: &#34;{name}&#34;" in again and "&#34;version&#34;: 2" in again


def test_the_live_preview_values_the_sample_placement_as_the_body_is_typed(
        system: System, page: Any, server: Server) -> None:
    user = officer(system, "Gemeente Kampen")
    login(page, user.email)
    page.goto("/rule-sets")
    body = page.locator("#rule-set-body")
    preview = page.locator("#rule-set-preview")
    name = f"kampen-{uuid.uuid4().hex[:8]}"

    body.fill(json.dumps(utrecht(name), indent=2))
    # Participatiewet 40,000 a year at 36 of 36 hours: 40,000; at 18 hours: 20,000.
    preview.get_by_text(f"Geldig: {name} versie 1.").wait_for(timeout=10_000)
    assert "40.000,00" in preview.locator('[data-hours="36"]').inner_text()
    assert "20.000,00" in preview.locator('[data-hours="18"]').inner_text()

    wrong = utrecht(name)
    wrong["blocks"]["participatiewet"] = {"value_eur": 60000}  # a number, not a decimal string
    body.fill(json.dumps(wrong, indent=2))
    preview.get_by_text("blocks.participatiewet.value_eur").wait_for(timeout=10_000)

    # A higher block: 60,000 at 36 hours, 60,000 x 18/36 = 30,000 at 18.
    body.fill(json.dumps(utrecht(name, blocks={**utrecht(name)["blocks"],
                                               "participatiewet": {"value_eur": "60000"}}), indent=2))
    preview.locator('[data-hours="36"]', has_text="60.000,00").wait_for(timeout=10_000)
    assert "30.000,00" in preview.locator('[data-hours="18"]').inner_text()

    page.get_by_role("button", name="Publiceren", exact=True).click()
    page.wait_for_url(re.compile(rf"/rule-sets/{name}/1$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith(name)
    assert page.console_errors == []  # type: ignore[attr-defined]
