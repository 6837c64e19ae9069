"""Bearer-token authentication: the tenant follows from the token alone."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar import Request, Router
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException

from infra.eventstore import Tenant
from infra.registry import hash_token, principal_for_token_async
from service.actor import Actor
from web.api.body import strict_json_body

# Tokens resolve through one indexed query; a short cache keeps that off the
# hot path while a suspended tenant or revoked token takes effect within seconds.
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Principal:
    tenant: Tenant
    actor: Actor


class TokenCache:
    def __init__(self) -> None:
        self._entries: dict[bytes, tuple[float, Principal]] = {}

    def get(self, key: bytes) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: bytes, principal: Principal) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + CACHE_SECONDS, principal)


async def provide_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("missing bearer token: send 'Authorization: Bearer <token>'")
    token = token.strip()
    cache: TokenCache = request.app.state.token_cache
    key = hash_token(token)
    principal = cache.get(key)
    if principal is None:
        found = await principal_for_token_async(request.app.state.read_pool, token)
        if found is None:
            raise NotAuthorizedException("invalid or revoked token")
        tenant, user = found
        principal = Principal(tenant=tenant, actor=Actor(
            user_id=user.id, role=user.role, organisation=user.organisation,
            employer_id=user.employer_id, candidate_id=user.candidate_id))
        cache.put(key, principal)
    return principal


def v1_router(ledger: Any, handlers: list[Any], tag: str) -> Router:
    """Handlers under /api/v1, each request authenticated by its bearer token
    (`principal`) and given the ledger."""
    return Router(
        path="/api/v1",
        route_handlers=handlers,
        dependencies={
            "principal": Provide(provide_principal),
            "ledger": Provide(lambda: ledger, use_cache=True, sync_to_thread=False),
        },
        security=[{"BearerToken": []}],
        tags=[tag],
        before_request=strict_json_body,
    )
