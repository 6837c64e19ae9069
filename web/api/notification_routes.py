"""The signed-in user's notifications (/api/v1): period statements awaiting
them or decided, as the notifications process manager told them
(service/notifications.py, infra/inbox.py). Every role may ask; each user
sees their own rows only, of their own tenant or organisation, and an
organisation's user only those about contracts still shared with it."""
from __future__ import annotations

from typing import Annotated, Literal

from asyncpg import Pool
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from msgspec import Struct

from service.errors import InvalidInput
from web.api import answers as a
from web.api.auth import Principal, v1_router
from web.notifications import mark_read, notifications_of

MAX_IDS = 500


class ReadIn(Struct, forbid_unknown_fields=True):
    """Which notifications to mark read: their ids, or none given: all of them."""

    ids: list[int] | None = None


@get("/notifications")
async def list_notifications(request: Request, principal: NamedDependency[Principal],
                             pool: NamedDependency[Pool],
        unread: Annotated[Literal["true", "false"] | None, Parameter(description="true: the unread only.")] = None) -> Response[a.Notifications]:
    """Your notifications, newest first (`?unread=true`: the unread only), and how many are unread."""
    unread = request.query_params.get("unread", "false")
    if unread not in ("true", "false"):
        raise InvalidInput("unread", "must be true or false")
    actor = principal.actor
    items = await notifications_of(pool, actor, None if actor.org_id else principal.tenant.id, unread == "true")
    return Response({"notifications": items, "unread": sum(1 for i in items if i["read_at"] is None)})


@post("/notifications/read", status_code=200)
async def read_notifications(data: JSONBody[ReadIn], principal: NamedDependency[Principal],
                             pool: NamedDependency[Pool]) -> Response[a.NotificationsRead]:
    """Mark your notifications read: `{"ids": [...]}`, or `{}` for all of them."""
    if data.ids is not None and not 1 <= len(data.ids) <= MAX_IDS:
        raise InvalidInput("ids", f"give 1 to {MAX_IDS} ids, or leave ids out to mark all read")
    if data.ids is not None and any(not 1 <= i < 2**63 for i in data.ids):
        raise InvalidInput("ids", "each id must be a notification's id (a positive whole number)")
    actor = principal.actor
    changed = await mark_read(pool, actor, None if actor.org_id else principal.tenant.id, data.ids)
    return Response({"marked_read": changed})


def notification_router() -> Router:
    return v1_router([list_notifications, read_notifications], "notifications")
