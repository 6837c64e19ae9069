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
from service import commands as c
from service.errors import Conflict, InvalidInput, InvalidReference
from web.pages.common import execute, field_errors, get as get_aggregate, may, parse_id, pool, redirect_after
from web.pages.forms import Form
from web.pages.render import page
from web.pages.viewer import Viewer, roles


async def placement_section(request: Request, viewer: Viewer, placement: Placement,
                            errors: dict[str, Any] | None = None,
                            form_values: dict[str, str] | None = None) -> dict[str, Any]:
    """`responsible_section` for placement.html (None for roles other than the agency)."""
    if viewer.role != "agency":
        return {"responsible_section": None}
    users = await agency_users_async(pool(request), viewer.tenant.id)
    current = getattr(placement, "responsible_user_id", None)
    return {"responsible_section": {
        "placement_id": str(placement.id),
        "current": current, "current_email": users.get(current) if current else None,
        "is_me": current == viewer.actor.user_id,
        "users": [(str(i), email) for i, email in sorted(users.items(), key=lambda kv: kv[1])],
        "can_assign": may(viewer, c.AssignPlacementResponsible) and placement.is_active,
        "errors": errors or {}, "form_values": form_values or {"responsible_user_id": str(current or "")},
    }}


@post("/placements/{placement_id:str}/responsible", guards=[roles("agency")])
async def assign_responsible(request: Request, viewer: NamedDependency[Viewer],
                             placement_id: FromPath[str]) -> Response:
    placement = await get_aggregate(request, viewer, Placement, parse_id("placement", placement_id))
    form = await Form.read(request)
    user_id = form.ident("responsible_user_id", required=False)
    status = 422
    if form.ok:
        try:
            result = await execute(request, viewer, c.AssignPlacementResponsible(
                placement_id=placement.id, responsible_user_id=user_id), form)
            return redirect_after(result, f"/placements/{placement.id}#responsible")
        except (InvalidInput, InvalidReference, Conflict) as e:
            form.errors = field_errors(e, form, "responsible_user_id")
            status = 409 if isinstance(e, Conflict) else 422
    from web.pages.placements import _context  # the whole page, with its other sections

    context = await _context(request, viewer, placement.id)
    context.update(await placement_section(request, viewer, placement, form.errors, form.values()))
    return page(request, "placement.html", context, status=status)
