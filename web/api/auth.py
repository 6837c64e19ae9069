"""Bearer-token authentication: the tenant follows from the token alone.

Every request looks its token up in the database (one indexed query, see
infra/registry.py), with no cache in the process: a token revoked, or the
account it belongs to closed, is refused by every web process from the next
request on. An expired token is refused with the day it expired.

A user of a platform organisation (a contracting authority, an employer) has
no tenant of its own: a request of theirs acts in the tenant that owns the
record its path names (`contract_id`, `employer_id`, `placement_id`,
`vacancy_id`, `contribution_id`, `statement_id`; a `document_id` by the record
it is attached to), found in the share index
(projections/shared.py) for that organisation. A record not shared with it is
a 404 with the same body as an unknown id; a route that names no record has
no tenant to act in (403).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asyncpg import Pool
from litestar import Request, Router
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException

from infra import documents
from infra.eventstore import Tenant
from infra.registry import principal_for_token_async, tenant_by_id_async
from projections import shared
from projections.reader import each_database, platform_pool
from service.actor import Actor
from service.errors import NotFound, PermissionDenied
from web.api.body import strict_json_body
from web.ids import parse_id

CHALLENGE = 'Bearer realm="sroi"'


# The path parameters that name a record, and the record's kind in the share index.
RECORD_PARAMS = {"contract_id": "contract", "employer_id": "employer", "placement_id": "placement",
                 "vacancy_id": "vacancy", "contribution_id": "contribution", "statement_id": "statement"}
# A document is found through the record it is attached to (infra/documents.py).
DOCUMENT_PARAM = "document_id"


@dataclass(frozen=True)
class Principal:
    """The actor, and the tenant the request acts in (`home`: None for an
    organisation's user whose request names no shared record)."""

    home: Tenant | None
    actor: Actor

    @property
    def tenant(self) -> Tenant:
        if self.home is None:
            raise PermissionDenied("an organisation's user works on the records agencies share with it:"
                                   " this route names none")
        return self.home


def _refuse(detail: str, error: str | None = None) -> NotAuthorizedException:
    challenge = CHALLENGE + (f', error="{error}"' if error else "")
    return NotAuthorizedException(detail, headers={"WWW-Authenticate": challenge})


async def provide_principal(request: Request, pool: NamedDependency[Pool]) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("missing bearer token: send 'Authorization: Bearer <token>'")
    found = await principal_for_token_async(platform_pool(pool), token.strip())
    if found is None:
        raise _refuse("invalid or revoked token", "invalid_token")
    if found.expired:
        raise _refuse(f"token expired on {found.expires_at:%Y-%m-%d %H:%M} UTC: create a new one "
                      "(the API tokens page, or sroi token create)", "invalid_token")
    user = found.user
    if user.org_id is not None:
        actor = Actor(user_id=user.id, role=user.role, organisation=user.organisation, org_id=user.org_id)
        owning = await in_owning_tenant(pool, actor, request.path_params)
        principal = Principal(home=owning[0], actor=owning[1]) if owning else Principal(home=None, actor=actor)
    else:
        principal = Principal(home=found.tenant, actor=Actor(
        user_id=user.id, role=user.role, organisation=user.organisation,
        employer_id=user.employer_id, candidate_id=user.candidate_id))
    # The request reads the read models of the tenant it acts in, on that
    # tenant's database (web/pools.py).
    use_database(pool, principal.home)
    return principal


def use_database(pool: Any, tenant: Tenant | None) -> None:
    """Route the request's pool to the tenant's database (a plain pool, in a
    test, is one database already)."""
    if hasattr(pool, "use"):
        pool.use(tenant)


async def in_owning_tenant(pool: Pool, actor: Actor, path_params: Mapping[str, Any]) -> tuple[Tenant, Actor] | None:
    """An organisation user's request (`actor.org_id`), in the tenant that
    shares the record its path names with the organisation: that tenant and
    the actor there. None when the path names no record; a record not shared
    is NotFound, as an unknown id. The API's principal and the pages' viewer
    (web/pages/viewer.py) both come through here."""
    named = [(kind, path_params.get(param)) for param, kind in RECORD_PARAMS.items()]
    document = path_params.get(DOCUMENT_PARAM)
    if document is not None:
        # A document acts in the tenant of the record it is attached to; not
        # shared is answered as a document that does not exist.
        # Documents live on their tenant's database: ask each.
        document_id = parse_id("document", document)
        attached = None
        for _, database in each_database(pool):
            attached = await documents.record_of_document_async(database, document_id)
            if attached is not None:
                break
        if attached is None:
            raise NotFound("document", document)
        named = [(attached[0], str(attached[1]))]
    for kind, raw in named:
        if raw is None:
            continue
        record_id = parse_id(kind, raw)
        found = await shared.shared_record(pool, actor.org_id, kind, record_id)
        tenant = await tenant_by_id_async(platform_pool(pool), found.tenant_id) if found else None
        if found is None or tenant is None:
            raise NotFound("document", document) if document is not None else NotFound(kind, raw)
        # An employer organisation acts as the employer record it is shared
        # through, so the read models' employer filters apply as for a user in the tenant.
        employer_id = found.via if actor.role == "employer" else None
        return tenant, dataclasses.replace(actor, employer_id=employer_id)
    return None


def v1_router(handlers: list[Any], tag: str) -> Router:
    """Handlers under /api/v1, each request authenticated by its bearer token
    (`principal`); the services (`ledger`, `pool`, ...) are the app's
    dependencies (web/app.py). Each handler's error responses are documented
    in the OpenAPI from what it takes (web/api/contract.py)."""
    from web.api.contract import document_errors

    return Router(
        path="/api/v1",
        route_handlers=document_errors(handlers),
        dependencies={
            "principal": Provide(provide_principal),
        },
        security=[{"BearerToken": []}],
        tags=[tag],
        before_request=strict_json_body,
    )
