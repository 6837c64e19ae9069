"""The open-support list: active placements whose onboarding is not finished,
oldest first, each with its open checklist items and the adjustments awaiting
delivery, linking to the placement's support section (where the texts are
shown to whoever may see them, and reading them is logged).

The agency sees every placement and all open items; the person's own stated
needs only as "stated need" (their text is special-category data, shown on
the placement). The employer sees its own placements, and of them only what it
acts on: its checklist items and the adjustments it is to deliver; never the
person's needs. The list holds no texts at all (the read model keeps none).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from projections import directory, support as support_rm
from web.pages.common import PageServices, fresh
from web.pages.render import page
from web.pages.viewer import Viewer, roles

READERS = ("agency", "employer")
ORDER = ("tools_ready", "team_informed", "contact_person", "first_check_in", "need", "custom")


@get("/support", name="open_support", guards=[roles(*READERS)])
async def open_support(request: Request, services: NamedDependency[PageServices],
                       viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer, (support_rm.NAME, directory.NAME))
    today = date.today()
    employer = viewer.role == "employer"
    rows = await support_rm.open_support_oldest_first(
        services.pool, viewer.tenant.id, today, employer_id=viewer.actor.employer_id if employer else None,
        employer_acts=employer)
    names = {str(p["placement_id"]): p for p in await directory.placements_by_id(
        services.pool, viewer.tenant.id, [r["placement_id"] for r in rows],
        employer_id=viewer.actor.employer_id if employer else None)}
    placements: list[dict[str, Any]] = []
    for r in rows:
        items = sorted(r["open_items"], key=lambda i: (ORDER.index(i["kind"]) if i["kind"] in ORDER else 9, i["id"]))
        placements.append({
            "placement_id": str(r["placement_id"]), "opened_on": r["opened_on"],
            "days_open": (today - r["opened_on"]).days, "adjustments_open": r["adjustments_open"],
            "open_items": [i for i in items if i["kind"] != "need"],  # not "items": dict.items in a template
            "needs_open": sum(1 for i in items if i["kind"] == "need"),
            "directory": names.get(str(r["placement_id"]), {}),
        })
    return page(services.templates, request, "open_support.html", {"placements": placements, "employer_view": employer,
                                               "today": today, "limit": support_rm.LIST_LIMIT})
