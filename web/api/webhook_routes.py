"""Webhook subscriptions (/api/v1/webhooks): an agency, or a platform
organisation for what agencies share with it, subscribes a URL to event
types; the worker posts each event to it, signed (infra/webhooks.py,
docs/webhooks.md).

Who: an agency user manages the agency's subscriptions; a user of an
authority or employer organisation those of the organisation. Other roles
(auditors, employees, in-tenant employer or authority users) are refused
(403). A subscription or delivery of another owner is a 404, as an id that
does not exist. The secret is in the answer to create and rotate only.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from msgspec import Struct

from infra import webhooks as hooks
from infra.webhooks import Owner, Webhooks
from service.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from web.api.contract import error_spec
from web.api.auth import Principal, v1_router
from web.api.routes import expected_version
from web.ids import parse_id


class WebhookIn(Struct, forbid_unknown_fields=True):
    """A new subscription: where to post, which event types (`["*"]`: all
    the owner may subscribe to), an optional description."""

    url: str
    event_types: list[str]
    description: str | None = None


class WebhookPatch(Struct, forbid_unknown_fields=True):
    """The fields given change; the others stay."""

    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None


class ReplayIn(Struct, forbid_unknown_fields=True):
    """Send again every failed delivery recorded since this moment (ISO 8601, with a zone)."""

    since: str


class Subscription(Struct):
    id: str
    url: str
    event_types: list[str]
    description: str
    status: str
    paused_at: str | None
    paused_reason: str | None
    consecutive_failures: int
    version: int
    created_at: str
    updated_at: str
    previous_secret_until: str | None


class SubscriptionWithSecret(Struct):
    subscription: Subscription
    secret: str  # shown this once


class SubscriptionList(Struct):
    items: list[Subscription]


class EventTypes(Struct):
    event_types: list[str]


class Attempt(Struct):
    attempt: int
    replay: bool
    started_at: str
    duration_ms: int
    status_code: int | None
    response_body: str | None
    error: str | None


class Delivery(Struct):
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    position: int
    status: str
    attempts: int
    last_status_code: int | None
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None


class DeliveryDetail(Delivery):
    payload: dict[str, Any]
    attempt_log: list[Attempt]


class DeliveryList(Struct):
    items: list[Delivery]


class Deleted(Struct):
    deleted: str


class Replayed(Struct):
    replayed: list[str]


def owner_of(principal: Principal) -> Owner:
    actor = principal.actor
    if actor.org_id is not None:
        return Owner(org_id=actor.org_id)
    if actor.role != "agency":
        raise PermissionDenied("webhooks are managed by the agency's users, or an organisation's users")
    return Owner(tenant_id=principal.tenant.id)


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except hooks.WebhookError as e:
        raise InvalidInput(e.field, e.message) from None
    except hooks.NotFoundError as e:
        raise NotFound(str(e), "") from None
    except hooks.ConflictError as e:
        raise Conflict(str(e)) from None


def _sub(view: dict[str, Any]) -> Subscription:
    return msgspec.convert(view, Subscription)


def _id(kind: str, raw: str) -> Any:
    return parse_id(kind, raw)


# The errors web/api/contract.py cannot tell from the signature: If-Match (the
# version read) is a 409 when the subscription changed meanwhile, a 422 when it is no version.
IF_MATCH_ERRORS = {409: error_spec(409, "The subscription changed since the version in If-Match."),
                   422: error_spec(422, "Invalid input, or an If-Match that is no version number.")}


@get("/webhooks/event-types")
async def webhook_event_types(principal: NamedDependency[Principal]) -> EventTypes:
    """The event types you may subscribe to (an organisation: those of the records shared with it)."""
    return EventTypes(event_types=sorted(owner_of(principal).event_types))


@post("/webhooks", status_code=201)
async def create_webhook(data: JSONBody[WebhookIn], principal: NamedDependency[Principal],
                         webhooks: NamedDependency[Webhooks]) -> SubscriptionWithSecret:
    """Subscribe a URL (https; a public address) to event types. The answer
    holds the signing secret: this once, keep it."""
    owner = owner_of(principal)
    view, secret = await _call(webhooks.create, owner, principal.actor.user_id, data.url, data.event_types,
                               data.description)
    return SubscriptionWithSecret(subscription=_sub(view), secret=secret)


@get("/webhooks")
async def list_webhooks(principal: NamedDependency[Principal], webhooks: NamedDependency[Webhooks]) -> SubscriptionList:
    """Your subscriptions (the agency's, or your organisation's)."""
    return SubscriptionList(items=[_sub(v) for v in await _call(webhooks.list, owner_of(principal))])


@get("/webhooks/{subscription_id:str}")
async def get_webhook(subscription_id: FromPath[str], principal: NamedDependency[Principal],
                      webhooks: NamedDependency[Webhooks]) -> Subscription:
    """One subscription (never its secret)."""
    owner = owner_of(principal)
    return _sub(await _call(webhooks.get, owner, _id("subscription", subscription_id)))


@patch("/webhooks/{subscription_id:str}", responses=IF_MATCH_ERRORS)
async def update_webhook(subscription_id: FromPath[str], data: JSONBody[WebhookPatch], request: Request,
                         principal: NamedDependency[Principal], webhooks: NamedDependency[Webhooks]) -> Subscription:
    """Change the URL, the event types or the description (If-Match: the version you read)."""
    owner = owner_of(principal)
    return _sub(await _call(webhooks.update, owner, _id("subscription", subscription_id), url=data.url,
                            event_types=data.event_types, description=data.description,
                            version=expected_version(request)))


@delete("/webhooks/{subscription_id:str}", status_code=200)
async def delete_webhook(subscription_id: FromPath[str], principal: NamedDependency[Principal],
                         webhooks: NamedDependency[Webhooks]) -> Deleted:
    """Remove the subscription and its delivery log."""
    owner = owner_of(principal)
    await _call(webhooks.delete, owner, _id("subscription", subscription_id))
    return Deleted(deleted=subscription_id)


@post("/webhooks/{subscription_id:str}/pause", status_code=200, responses=IF_MATCH_ERRORS)
async def pause_webhook(subscription_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                        webhooks: NamedDependency[Webhooks]) -> Subscription:
    """Stop sending; new events are still recorded and held until you resume."""
    owner = owner_of(principal)
    return _sub(await _call(webhooks.set_status, owner, _id("subscription", subscription_id), "paused",
                            expected_version(request)))


@post("/webhooks/{subscription_id:str}/resume", status_code=200, responses=IF_MATCH_ERRORS)
async def resume_webhook(subscription_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                         webhooks: NamedDependency[Webhooks]) -> Subscription:
    """Send again: the held and retrying deliveries go out now; failures are counted afresh."""
    owner = owner_of(principal)
    return _sub(await _call(webhooks.set_status, owner, _id("subscription", subscription_id), "active",
                            expected_version(request)))


@post("/webhooks/{subscription_id:str}/rotate-secret", status_code=200, responses=IF_MATCH_ERRORS)
async def rotate_webhook_secret(subscription_id: FromPath[str], request: Request,
                                principal: NamedDependency[Principal],
                                webhooks: NamedDependency[Webhooks]) -> SubscriptionWithSecret:
    """A new signing secret (this once); for 24 hours deliveries carry a
    signature by the old one as well (a second `v1=`)."""
    owner = owner_of(principal)
    view, secret = await _call(webhooks.rotate, owner, _id("subscription", subscription_id),
                               expected_version(request))
    return SubscriptionWithSecret(subscription=_sub(view), secret=secret)


DeliveryStatus = Literal["pending", "sending", "retrying", "succeeded", "failed"]


@get("/webhooks/{subscription_id:str}/deliveries")
async def list_deliveries(subscription_id: FromPath[str], principal: NamedDependency[Principal],
                          webhooks: NamedDependency[Webhooks],
                          status: Annotated[DeliveryStatus | None, Parameter(
                              description="Only the deliveries in this state.")] = None,
                          limit: Annotated[int, Parameter(ge=1, le=500, description="At most this many (1..500).")]
                          = 100) -> DeliveryList:
    """The delivery log, newest first (`?status=failed`, ...; `?limit=` 1..500, default 100)."""
    owner = owner_of(principal)
    items = await _call(webhooks.deliveries, owner, _id("subscription", subscription_id), status=status,
                        limit=limit)
    return DeliveryList(items=[msgspec.convert(v, Delivery) for v in items])


@get("/webhooks/{subscription_id:str}/deliveries/{delivery_id:str}")
async def get_delivery(subscription_id: FromPath[str], delivery_id: FromPath[str],
                       principal: NamedDependency[Principal], webhooks: NamedDependency[Webhooks]) -> DeliveryDetail:
    """One delivery: its payload (ids only) and every attempt (status code, the
    start of the answer, how long it took)."""
    owner = owner_of(principal)
    view = await _call(webhooks.delivery, owner, _id("subscription", subscription_id), _id("delivery", delivery_id))
    return msgspec.convert(view, DeliveryDetail)


@post("/webhooks/{subscription_id:str}/deliveries/{delivery_id:str}/replay", status_code=200,
      responses={409: error_spec(409, "The delivery is being sent now.")})
async def replay_delivery(subscription_id: FromPath[str], delivery_id: FromPath[str],
                          principal: NamedDependency[Principal], webhooks: NamedDependency[Webhooks]) -> Replayed:
    """Send this delivery again, signed afresh (within seconds; held while the subscription is paused)."""
    owner = owner_of(principal)
    ids = await _call(webhooks.replay, owner, _id("subscription", subscription_id),
                      delivery_id=_id("delivery", delivery_id))
    return Replayed(replayed=[str(i) for i in ids])


@post("/webhooks/{subscription_id:str}/replay", status_code=200)
async def replay_failed(subscription_id: FromPath[str], data: JSONBody[ReplayIn],
                        principal: NamedDependency[Principal], webhooks: NamedDependency[Webhooks]) -> Replayed:
    """Send again every failed delivery recorded since `since`."""
    owner = owner_of(principal)
    since = parse_since(data.since)
    ids = await _call(webhooks.replay, owner, _id("subscription", subscription_id), since=since)
    return Replayed(replayed=[str(i) for i in ids])


def parse_since(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if len(raw) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput("since", "must be a moment in ISO 8601 with a zone: 2026-03-01T00:00:00Z")
    return moment.astimezone(timezone.utc)


HANDLERS = [webhook_event_types, create_webhook, list_webhooks, get_webhook, update_webhook, delete_webhook,
            pause_webhook, resume_webhook, rotate_webhook_secret, list_deliveries, get_delivery, replay_delivery,
            replay_failed]


def webhook_router() -> Router:
    return v1_router(HANDLERS, "webhooks")

