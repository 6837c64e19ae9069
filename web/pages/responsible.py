"""Who at the agency looks after a placement, on the placement page: shown to
the agency, changed with a form (an agency user of the tenant, or nobody in
particular). Reminders of the placement's duties are addressed to them."""
from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.placement import Placement
from infra.registry import agency_users_async
from projections.reader import platform_pool
from service import commands as c
from web.ids import parse_id
from web.pages.answer import FormState, PageRenderer, answer
from web.pages.common import PageServices, get as get_aggregate, may
from web.pages.forms import Form
from web.pages.viewer import Viewer, may_issue


async def placement_section(services: PageServices, viewer: Viewer, placement: Placement,
                            state: FormState | None = None) -> dict[str, Any]:
    """`responsible_section` for placement.html (None for roles other than the
    agency), with the state of its form after a refused change."""
    if viewer.role != "agency":
        return {"responsible_section": None}
    users = await agency_users_async(platform_pool(services.pool), viewer.tenant.id)
    current = getattr(placement, "responsible_user_id", None)
    return {"responsible_section": {
        "placement_id": str(placement.id),
        "current": current, "current_email": users.get(current) if current else None,
        "is_me": current == viewer.actor.user_id,
        "users": [(str(i), email) for i, email in sorted(users.items(), key=lambda kv: kv[1])],
        "can_assign": may(viewer, c.AssignPlacementResponsible) and placement.is_active,
        "errors": dict(state.errors) if state else {},
        "form_values": dict(state.values) if state else {"responsible_user_id": str(current or "")},
    }}


@post("/placements/{placement_id:str}/responsible", guards=[may_issue(c.AssignPlacementResponsible)])
async def assign_responsible(request: Request, services: NamedDependency[PageServices],
                             viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                             placement_page: NamedDependency[PageRenderer]) -> Response:
    placement = await get_aggregate(services, viewer, Placement, parse_id("placement", placement_id))
    form = await Form.read(request)
    user_id = form.ident("responsible_user_id", required=False)

    async def show(state: FormState, status: int) -> Response:
        return await placement_page(services, request, viewer, placement.id, forms={"responsible": state},
                                    status=status)

    return await answer(services, request, viewer, form, c.AssignPlacementResponsible(
        placement_id=placement.id, responsible_user_id=user_id), to=f"/placements/{placement.id}#responsible",
        show=show, field="responsible_user_id")
