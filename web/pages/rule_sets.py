"""Rule sets (/rule-sets): the counting rules contracts pin, as versioned data
of the platform (infra/rule_sets.py, docs/rule-sets.md).

Every signed-in user reads them: they are public rules. A user of an
authority organisation publishes a rule set of the organisation, or a new
version of one, as JSON in a form; as they type, the page (htmx) asks the
server to check the body against the JSON Schema and parse_rule_set, and to
value a sample placement under it (a Participatiewet person for the year 2025
at 36 and at 18 hours a week), and shows the figures or the field errors.
A version, once published, never changes: a contract pinned on it keeps its
figures.
"""
from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.valuation import parse_rule_set
from infra.registry import ROLES, TenantRegistry
from infra.rule_sets import (
    RuleSetForbidden,
    RuleSetInvalid,
    StoredRuleSet,
    body_errors,
    rule_set_async,
    rule_sets_async,
    sample_values,
)
from projections.reader import platform_pool
from service.errors import NotFound, PermissionDenied
from web.pages.common import PageServices
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import ORGANISATION_PAGES, Viewer, roles

EVERYONE = {"guards": [roles(*ROLES)], "opt": {ORGANISATION_PAGES: True}}
MAX_BODY_CHARS = 64 * 1024


def may_publish(viewer: Viewer) -> bool:
    """A user of an authority organisation (the platform's own: the CLI)."""
    return viewer.actor.org_id is not None and viewer.role == "authority"


def preview(text: str) -> dict[str, Any]:
    """What the live preview shows for a body as typed: its field errors, or
    what a sample placement is worth under it."""
    if len(text) > MAX_BODY_CHARS:
        return {"errors": [{"field": "body", "message": f"a rule set is at most {MAX_BODY_CHARS} characters"}]}
    try:
        body = json.loads(text)
    except json.JSONDecodeError as e:
        return {"errors": [{"field": "body", "message": f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})"}]}
    errors = body_errors(body)
    if errors:
        return {"errors": errors}
    return {"errors": [], "samples": sample_values(parse_rule_set(body)), "name": body["name"],
            "version": body["version"]}


def _starting_body(mine: list[StoredRuleSet], found: list[StoredRuleSet], organisation: str) -> str:
    """What the form starts from: the next version of the organisation's latest
    rule set, or else a copy of the newest platform rule set under a name of its own."""
    if mine:
        latest = max(mine, key=lambda r: (r.created_at, r.version))
        return json.dumps({**latest.body, "version": max(r.version for r in mine if r.name == latest.name) + 1},
                          indent=2, ensure_ascii=False)
    platform = [r for r in found if r.owner_org_id is None]
    base = max(platform, key=lambda r: (r.created_at, r.version)).body if platform else {}
    slug = re.sub(r"[^a-z0-9]+", "-", organisation.lower()).strip("-")[:50] or "rules"
    return json.dumps({**base, "name": f"{slug}-{date.today().year}", "version": 1}, indent=2, ensure_ascii=False)


async def _list_page(services: PageServices, request: Request, viewer: Viewer, *, text: str | None = None,
                     errors: list | None = None, status: int = 200) -> Response:
    found = await rule_sets_async(platform_pool(services.pool))
    can_publish = may_publish(viewer)
    mine = [r for r in found if r.owner_org_id is not None and r.owner_org_id == viewer.actor.org_id]
    if can_publish and text is None:
        text = _starting_body(mine, found, viewer.actor.organisation)
    shown = preview(text) if can_publish and text is not None else None
    if errors is not None and shown is not None:
        shown = {**shown, "errors": errors}
    return page(services.templates, request, "rule_sets.html", {
        "rule_sets": sorted(found, key=lambda r: (r.name, -r.version)), "can_publish": can_publish,
        "mine": {r.name for r in mine}, "body": text or "", "preview": shown,
    }, status=status)


@get("/rule-sets", name="rule_sets", **EVERYONE)
async def rule_sets(request: Request, services: NamedDependency[PageServices],
                    viewer: NamedDependency[Viewer]) -> Response:
    return await _list_page(services, request, viewer)


@post("/rule-sets/preview", **EVERYONE)
async def rule_set_preview(request: Request, services: NamedDependency[PageServices],
                           viewer: NamedDependency[Viewer]) -> Response:
    """The live preview: the figures of the sample placement, or the field
    errors (the fragment for htmx; without JavaScript the page with it)."""
    form = await Form.read(request)
    text = form.text("body", required=False)
    if wants_fragment(request):
        return page(services.templates, request, "rule_sets.html", {"preview": preview(text)}, block="preview")
    return await _list_page(services, request, viewer, text=text)


@post("/rule-sets", **EVERYONE)
async def publish_rule_set(request: Request, services: NamedDependency[PageServices],
                           viewer: NamedDependency[Viewer], registry: NamedDependency[TenantRegistry]) -> Response:
    if not may_publish(viewer):
        raise PermissionDenied("rule sets are published by the users of an authority organisation")
    form = await Form.read(request)
    text = form.text("body", required=False)
    shown = preview(text)
    if shown["errors"]:
        return await _list_page(services, request, viewer, text=text, status=422)
    try:
        stored = await asyncio.to_thread(registry.rule_sets.publish, json.loads(text),
                                         owner_org_id=viewer.actor.org_id, created_by=viewer.actor.user_id)
    except RuleSetInvalid as e:
        return await _list_page(services, request, viewer, text=text, errors=e.errors, status=422)
    except RuleSetForbidden as e:
        return await _list_page(services, request, viewer, text=text,
                                errors=[{"field": "name", "message": str(e)}], status=422)
    return Response(b"", status_code=303, headers={"Location": f"/rule-sets/{stored.name}/{stored.version}"})


@get("/rule-sets/{name:str}/{version:str}", name="rule_set", **EVERYONE)
async def rule_set_detail(request: Request, services: NamedDependency[PageServices],
                          viewer: NamedDependency[Viewer], name: FromPath[str], version: FromPath[str]) -> Response:
    number = int(version) if version.isascii() and version.isdigit() and len(version) <= 7 else None
    found = await rule_set_async(platform_pool(services.pool), name, number) if number and len(name) <= 60 else None
    if found is None:
        raise NotFound("rule set", f"{name}/{version}")
    return page(services.templates, request, "rule_set.html", {
        "r": found, "samples": sample_values(parse_rule_set(found.body)),
        "body": json.dumps(found.body, indent=2, ensure_ascii=False),
        "can_add_version": may_publish(viewer) and found.owner_org_id == viewer.actor.org_id,
    })


HANDLERS = [rule_sets, rule_set_preview, publish_rule_set, rule_set_detail]
