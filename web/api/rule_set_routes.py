"""Rule sets (/api/v1/rule-sets): the counting rules a contract pins, as
versioned data of the platform (infra/rule_sets.py, docs/rule-sets.md).

Rule sets are public rules: any signed-in user may read them. A user of an
authority organisation publishes rule sets owned by that organisation, and
new versions of them; the platform's own (the shipped ones) are imported by
its operators (`sroi rule-set import`). A version, once published, never
changes: a contract registered on it keeps its figures.
"""
from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from asyncpg import Pool
from litestar.params import FromPath, JSONBody

from infra.registry import TenantRegistry
from infra.rule_sets import RuleSetForbidden, RuleSetInvalid, rule_set_async, rule_sets_async, schema
from projections.reader import platform_pool
from service.errors import InvalidInput, NotFound, PermissionDenied
from web.api import answers as a
from web.api.contract import error_spec
from web.api.auth import Principal, v1_router
from web.errors import error_body

sync = {"sync_to_thread": True}


def invalid(e: RuleSetInvalid) -> Response:
    """422 naming every field path that is wrong (`blocks.ww.tiers[0].value_eur`)."""
    return Response(error_body(e.detail, e.errors), status_code=422)


def parse_version(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 7) or int(raw) < 1:
        raise InvalidInput("version", "must be a version number: 1, 2, ...")
    return int(raw)


@get("/rule-sets")
async def list_rule_sets(principal: NamedDependency[Principal], pool: NamedDependency[Pool]) -> Response[a.RuleSets]:
    """Every rule set version (name, version, owner, sha256, source), by name
    and version. Any signed-in user: rule sets are public rules."""
    return Response({"rule_sets": [r.summary() for r in await rule_sets_async(platform_pool(pool))]})


@get("/rule-sets/schema")
async def rule_set_schema(principal: NamedDependency[Principal]) -> Response[a.JsonSchema]:
    """The JSON Schema (draft 2020-12) a rule set body is validated against
    (also docs/rule-set.schema.json); the server then checks what a schema
    cannot say (tiers in ascending order, ...)."""
    return Response(schema())


@get("/rule-sets/{name:str}/{version:str}", responses={422: error_spec(422, "The version is not a whole number.")})
async def get_rule_set(name: FromPath[str], version: FromPath[str], principal: NamedDependency[Principal],
                       pool: NamedDependency[Pool]) -> Response[a.RuleSet]:
    """One version of a rule set, with its body (the canonical JSON's sha256
    is what contracts pinned on it carry)."""
    found = await rule_set_async(platform_pool(pool), name, parse_version(version)) if len(name) <= 60 else None
    if found is None:
        raise NotFound("rule set", f"{name}/{version}")
    return Response(found.as_dict())


@post("/rule-sets", **sync)
def publish_rule_set(data: JSONBody[dict[str, Any]], principal: NamedDependency[Principal],
                     registry: NamedDependency[TenantRegistry], request: Request) -> Response[a.RuleSet]:
    """Publish a rule set, or a new version of one your organisation owns: the
    body is the rule set itself (the format: GET /api/v1/rule-sets/schema),
    its `name` and `version` say which. Users of an authority organisation
    only; a name another owner has is refused (403), a version that exists is
    a 422 naming `version`, a body that is not valid a 422 naming each field."""
    actor = principal.actor
    if actor.org_id is None or actor.role != "authority":
        raise PermissionDenied("rule sets are published by the users of an authority organisation "
                               "(the platform's by `sroi rule-set import`)")
    try:
        stored = registry.rule_sets.publish(data, owner_org_id=actor.org_id, created_by=actor.user_id)
    except RuleSetInvalid as e:
        return invalid(e)
    except RuleSetForbidden as e:
        raise PermissionDenied(str(e)) from None
    return Response(stored.as_dict(), status_code=201,
                    headers={"Location": f"/api/v1/rule-sets/{stored.name}/{stored.version}"})


def rule_set_router() -> Router:
    return v1_router([list_rule_sets, rule_set_schema, get_rule_set, publish_rule_set], "rule sets")
