"""The signed-in user's own API tokens: listed (by id, with when each was
created, expires and was last used), created (the secret shown once, on the
answer to the form, and never again) and revoked.

Every role may hold tokens: they speak for the user, with the user's role.
A token is found by its id *and* its owner, so another user's token id (in
this tenant or another) answers 404, as any id the viewer may not see.
Revoking deletes the token; the API looks tokens up on every request, so
every web process refuses it from then on (infra/registry.py).
"""
from __future__ import annotations

import asyncio

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from infra.registry import LABEL_MAX, ROLES, TenantRegistry
from infra.settings import MAX_TOKEN_DAYS
from service.errors import NotFound, TenantSuspended
from web.ids import parse_id
from web.pages.common import PageServices
from web.pages.forms import Form
from web.pages.i18n import ErrorMessage
from web.pages.render import page
from web.pages.viewer import ORGANISATION_PAGES, Viewer, roles

# The lifetimes offered (the default, API_TOKEN_DAYS, is added if it is not one of them).
DAY_CHOICES = (7, 30, 90, 180, 365)


def _day_choices(default: int) -> list[int]:
    return sorted({*DAY_CHOICES, default})


async def _tokens_page(services: PageServices, request: Request, viewer: Viewer, registry: TenantRegistry, *,
                       created: tuple | None = None,
                       values: dict | None = None, errors: dict | None = None, status: int = 200) -> Response:
    listed = await asyncio.to_thread(registry.tokens_of, viewer.actor.user_id)
    return page(services.templates, request, "tokens.html", {
        "tokens": listed, "created": created[0] if created else None, "secret": created[1] if created else None,
        "values": values or {"days": str(registry.token_days)}, "errors": errors or {},
        "day_choices": _day_choices(registry.token_days), "revoked": request.query_params.get("revoked") == "1",
        "suspended": not viewer.active,
    }, status=status)


@get("/tokens", name="tokens", guards=[roles(*ROLES)], opt={ORGANISATION_PAGES: True})
async def tokens(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                 registry: NamedDependency[TenantRegistry]) -> Response:
    return await _tokens_page(services, request, viewer, registry)


@post("/tokens", guards=[roles(*ROLES)], opt={ORGANISATION_PAGES: True})
async def create_token(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       registry: NamedDependency[TenantRegistry]) -> Response:
    if not viewer.active:
        raise TenantSuspended()
    form = await Form.read(request)
    days = form.integer("days")
    label = form.text("label", required=False)
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        form.error("days", "choice")
    if len(label) > LABEL_MAX:
        form.errors["label"] = ErrorMessage(f"label must be at most {LABEL_MAX} characters",
                                            "{name} must be at most {max_len} characters",
                                            {"name": "label", "max_len": LABEL_MAX})
    if not form.ok:
        return await _tokens_page(services, request, viewer, registry, values=form.values(), errors=form.errors,
                                  status=422)
    created = await asyncio.to_thread(registry.create_token, viewer.actor.user_id, days=days,
                                      label=label)
    # The secret goes into this answer only (pages are sent with Cache-Control: no-store).
    return await _tokens_page(services, request, viewer, registry, created=created, status=201)


@post("/tokens/{token_id:str}/revoke", guards=[roles(*ROLES)], opt={ORGANISATION_PAGES: True})
async def revoke_token(request: Request, viewer: NamedDependency[Viewer], token_id: FromPath[str],
                       registry: NamedDependency[TenantRegistry]) -> Response:
    ident = parse_id("token", token_id)
    revoked = await asyncio.to_thread(registry.revoke_token, ident, owner=viewer.actor.user_id)
    if revoked is None:
        raise NotFound("token", token_id)
    return Response(b"", status_code=303, headers={"Location": "/tokens?revoked=1"})


HANDLERS = [tokens, create_token, revoke_token]
