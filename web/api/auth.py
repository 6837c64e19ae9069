"""Bearer-token authentication: the tenant follows from the token alone.

Every request looks its token up in the database (one indexed query, see
infra/registry.py), with no cache in the process: a token revoked, or the
account it belongs to closed, is refused by every web process from the next
request on. An expired token is refused with the day it expired.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncpg import Pool
from litestar import Request, Router
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException

from infra.eventstore import Tenant
from infra.registry import principal_for_token_async
from service.actor import Actor
from web.api.body import strict_json_body

CHALLENGE = 'Bearer realm="sroi"'


@dataclass(frozen=True)
class Principal:
    tenant: Tenant
    actor: Actor


def _refuse(detail: str, error: str | None = None) -> NotAuthorizedException:
    challenge = CHALLENGE + (f', error="{error}"' if error else "")
    return NotAuthorizedException(detail, headers={"WWW-Authenticate": challenge})


async def provide_principal(request: Request, pool: NamedDependency[Pool]) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("missing bearer token: send 'Authorization: Bearer <token>'")
    found = await principal_for_token_async(pool, token.strip())
    if found is None:
        raise _refuse("invalid or revoked token", "invalid_token")
    if found.expired:
        raise _refuse(f"token expired on {found.expires_at:%Y-%m-%d %H:%M} UTC: create a new one "
                      "(the API tokens page, or sroi token create)", "invalid_token")
    user = found.user
    return Principal(tenant=found.tenant, actor=Actor(
        user_id=user.id, role=user.role, organisation=user.organisation,
        employer_id=user.employer_id, candidate_id=user.candidate_id))


def v1_router(handlers: list[Any], tag: str) -> Router:
    """Handlers under /api/v1, each request authenticated by its bearer token
    (`principal`); the services (`ledger`, `pool`, ...) are the app's
    dependencies (web/app.py)."""
    return Router(
        path="/api/v1",
        route_handlers=handlers,
        dependencies={
            "principal": Provide(provide_principal),
        },
        security=[{"BearerToken": []}],
        tags=[tag],
        before_request=strict_json_body,
    )
