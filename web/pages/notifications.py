"""The signed-in user's notifications page (every role, organisation users
too): period statements awaiting them or decided, newest first, each with a
link to the statement, marked read one by one or all at once; and the count
of unread ones that the header's bell loads (`/notifications/count`)."""
from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency

from infra.registry import ROLES
from web.notifications import mark_read, notifications_of
from web.pages.common import PageServices
from web.pages.forms import Form
from web.pages.render import page
from web.pages.viewer import ORGANISATION_PAGES, Viewer, roles


def _tenant_id(viewer: Viewer):  # type: ignore[no-untyped-def]
    return viewer.tenant.id if viewer.tenant is not None else None


async def _page(services: PageServices, request: Request, viewer: Viewer, errors: dict[str, str] | None = None,
                status: int = 200) -> Response:
    items = await notifications_of(services.pool, viewer.actor, _tenant_id(viewer))
    return page(services.templates, request, "notifications.html", {
        "items": items, "unread": sum(1 for i in items if i["read_at"] is None), "errors": errors or {}},
        status=status)


@get("/notifications", name="notifications", guards=[roles(*ROLES)], opt={ORGANISATION_PAGES: True})
async def notifications_page(request: Request, services: NamedDependency[PageServices],
                             viewer: NamedDependency[Viewer]) -> Response:
    return await _page(services, request, viewer)


@get("/notifications/count", name="notification_count", guards=[roles(*ROLES)], opt={ORGANISATION_PAGES: True})
async def notification_count(request: Request, services: NamedDependency[PageServices],
                             viewer: NamedDependency[Viewer]) -> Response:
    """The bell's count: a fragment the header loads."""
    items = await notifications_of(services.pool, viewer.actor, _tenant_id(viewer), unread_only=True)
    return page(services.templates, request, "_notification_count.html", {"unread": len(items)})


@post("/notifications/read", guards=[roles(*ROLES)], opt={ORGANISATION_PAGES: True})
async def read_notifications(request: Request, services: NamedDependency[PageServices],
                             viewer: NamedDependency[Viewer]) -> Response:
    """Mark one notification read (`id`), or all of them (no id). An id that
    is not a notification's (not a positive whole number) is refused: never
    read as "no id", which would mark all of them read."""
    form = await Form.read(request)
    ident = form.integer("id", required=False)
    if ident is not None and ident < 1:
        form.error("id", "number")
    if not form.ok:
        return await _page(services, request, viewer, dict(form.errors), 422)
    await mark_read(services.pool, viewer.actor, _tenant_id(viewer), [ident] if ident is not None else None)
    return Response(b"", status_code=303, headers={"Location": "/notifications"})


HANDLERS = [notifications_page, notification_count, read_notifications]
