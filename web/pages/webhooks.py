"""Webhooks pages: an agency's users (or an organisation's) manage their
subscriptions and read the delivery log (infra/webhooks.py, docs/webhooks.md).

`/webhooks`: the subscriptions, and a form to add one (the secret is shown
once, in the answer); `/webhooks/{id}`: one subscription with its recent
deliveries and their attempts, and forms to pause, resume, rotate the secret,
replay a delivery or every failed one since a moment, and delete it. Plain
forms, answered with a redirect (303) or the page with the error at its
field (422): they work without JavaScript. Another owner's subscription is a
404, as an unknown id."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from infra import webhooks as hooks
from infra.webhooks import Owner, Webhooks
from service.errors import Conflict, NotFound, PermissionDenied, TenantSuspended
from web.ids import parse_id
from web.pages.common import PageServices
from web.pages.forms import Form
from web.pages.render import page
from web.pages.viewer import ORGANISATION_PAGES, Viewer, roles

WHO = {"guards": [roles("agency", "authority", "employer")], "opt": {ORGANISATION_PAGES: True}}
LOG_LIMIT = 50


def owner_of(viewer: Viewer) -> Owner:
    if viewer.actor.org_id is not None:
        return Owner(org_id=viewer.actor.org_id)
    if viewer.role != "agency" or viewer.tenant is None:
        raise PermissionDenied("webhooks are managed by the agency's users, or an organisation's users")
    return Owner(tenant_id=viewer.tenant.id)


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except hooks.NotFoundError as e:
        raise NotFound(str(e), "") from None
    except hooks.ConflictError as e:
        raise Conflict(str(e)) from None


async def _list_page(services: PageServices, request: Request, viewer: Viewer, webhooks: Webhooks, *,
                     created: dict[str, Any] | None = None, secret: str | None = None,
                     values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None,
                     status: int = 200) -> Response:
    owner = owner_of(viewer)
    items = await _call(webhooks.list, owner)
    return page(services.templates, request, "webhooks.html", {
        "items": items, "created": created, "secret": secret, "values": values or {}, "errors": errors or {},
        "event_types": sorted(owner.event_types), "chosen": set((values or {}).get("event_types", [])),
        "deleted": request.query_params.get("deleted") == "1", "suspended": not viewer.active,
        "tolerance": hooks.TOLERANCE_SECONDS}, status=status)


@get("/webhooks", name="webhooks", **WHO)
async def webhooks_page(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        webhooks: NamedDependency[Webhooks]) -> Response:
    return await _list_page(services, request, viewer, webhooks)


def _types(form: Form) -> list[str]:
    getall = getattr(form.data, "getall", None)
    chosen = getall("event_types", []) if getall else [form.raw("event_types")]
    return [t.strip() for t in chosen if isinstance(t, str) and t.strip()]


@post("/webhooks", **WHO)
async def create_webhook(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         webhooks: NamedDependency[Webhooks]) -> Response:
    if not viewer.active:
        raise TenantSuspended()
    owner = owner_of(viewer)
    form = await Form.read(request)
    types = ["*"] if form.flag("all_events") else _types(form)
    values = {**form.values(), "event_types": types}
    try:
        view, secret = await asyncio.to_thread(webhooks.create, owner, viewer.actor.user_id, form.raw("url"),
                                               types, form.raw("description"))
    except hooks.WebhookError as e:
        return await _list_page(services, request, viewer, webhooks, values=values,
                                errors={e.field: e.message}, status=422)
    # The secret goes into this answer only (pages are sent with Cache-Control: no-store).
    return await _list_page(services, request, viewer, webhooks, created=view, secret=secret, status=201)


async def _detail_page(services: PageServices, request: Request, viewer: Viewer, webhooks: Webhooks,
                       subscription_id: str, *, secret: str | None = None, errors: dict[str, Any] | None = None,
                       values: dict[str, Any] | None = None, status: int = 200) -> Response:
    owner = owner_of(viewer)
    ident = parse_id("subscription", subscription_id)
    sub = await _call(webhooks.get, owner, ident)
    deliveries = await _call(webhooks.deliveries, owner, ident, limit=LOG_LIMIT)
    details = [await _call(webhooks.delivery, owner, ident, parse_id("delivery", d["id"])) for d in deliveries[:10]]
    return page(services.templates, request, "webhook.html", {
        "sub": sub, "deliveries": deliveries, "details": {d["id"]: d for d in details}, "secret": secret,
        "errors": errors or {}, "values": values or {}, "done": request.query_params.get("done", ""),
        "suspended": not viewer.active}, status=status)


@get("/webhooks/{subscription_id:str}", name="webhook", **WHO)
async def webhook_page(request: Request, subscription_id: FromPath[str], services: NamedDependency[PageServices],
                       viewer: NamedDependency[Viewer], webhooks: NamedDependency[Webhooks]) -> Response:
    return await _detail_page(services, request, viewer, webhooks, subscription_id)


def _back(subscription_id: str, done: str) -> Response:
    return Response(b"", status_code=303, headers={"Location": f"/webhooks/{subscription_id}?done={done}"})


@post("/webhooks/{subscription_id:str}/pause", **WHO)
async def pause_webhook(subscription_id: FromPath[str], viewer: NamedDependency[Viewer],
                        webhooks: NamedDependency[Webhooks]) -> Response:
    await _call(webhooks.set_status, owner_of(viewer), parse_id("subscription", subscription_id), "paused")
    return _back(subscription_id, "paused")


@post("/webhooks/{subscription_id:str}/resume", **WHO)
async def resume_webhook(subscription_id: FromPath[str], viewer: NamedDependency[Viewer],
                         webhooks: NamedDependency[Webhooks]) -> Response:
    await _call(webhooks.set_status, owner_of(viewer), parse_id("subscription", subscription_id), "active")
    return _back(subscription_id, "resumed")


@post("/webhooks/{subscription_id:str}/rotate-secret", **WHO)
async def rotate_webhook_secret(request: Request, subscription_id: FromPath[str],
                                services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                                webhooks: NamedDependency[Webhooks]) -> Response:
    if not viewer.active:
        raise TenantSuspended()
    _, secret = await _call(webhooks.rotate, owner_of(viewer), parse_id("subscription", subscription_id))
    return await _detail_page(services, request, viewer, webhooks, subscription_id, secret=secret)


@post("/webhooks/{subscription_id:str}/delete", **WHO)
async def delete_webhook(request: Request, subscription_id: FromPath[str], services: NamedDependency[PageServices],
                         viewer: NamedDependency[Viewer], webhooks: NamedDependency[Webhooks]) -> Response:
    form = await Form.read(request)
    if not form.flag("confirm"):
        return await _detail_page(services, request, viewer, webhooks, subscription_id,
                                  errors={"confirm": "confirm"}, status=422)
    await _call(webhooks.delete, owner_of(viewer), parse_id("subscription", subscription_id))
    return Response(b"", status_code=303, headers={"Location": "/webhooks?deleted=1"})


@post("/webhooks/{subscription_id:str}/deliveries/{delivery_id:str}/replay", **WHO)
async def replay_delivery(subscription_id: FromPath[str], delivery_id: FromPath[str],
                          viewer: NamedDependency[Viewer], webhooks: NamedDependency[Webhooks]) -> Response:
    await _call(webhooks.replay, owner_of(viewer), parse_id("subscription", subscription_id),
                delivery_id=parse_id("delivery", delivery_id))
    return _back(subscription_id, "replayed")


@post("/webhooks/{subscription_id:str}/replay", **WHO)
async def replay_failed(request: Request, subscription_id: FromPath[str], services: NamedDependency[PageServices],
                        viewer: NamedDependency[Viewer], webhooks: NamedDependency[Webhooks]) -> Response:
    form = await Form.read(request)
    day = form.day("since")
    if not form.ok or day is None:
        return await _detail_page(services, request, viewer, webhooks, subscription_id, errors=dict(form.errors),
                                  values=form.values(), status=422)
    since = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    await _call(webhooks.replay, owner_of(viewer), parse_id("subscription", subscription_id), since=since)
    return _back(subscription_id, "replayed")


HANDLERS = [webhooks_page, create_webhook, webhook_page, pause_webhook, resume_webhook, rotate_webhook_secret,
            delete_webhook, replay_delivery, replay_failed]
