"""The dashboard and the retention page: figures from the read models."""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.di import NamedDependency

from infra.registry import tenant_by_id_async
from projections import compliance, directory, retention, shared
from projections.reader import platform_pool
from web.pages import charts
from web.pages.common import PageServices, fresh
from web.pages.render import page
from web.pages.viewer import ORGANISATION_PAGES, Viewer, roles


def summary_scope(viewer: Viewer) -> dict:
    """The contracts a role's figures cover (the query narrows, the tenant is given)."""
    actor = viewer.actor
    return {"employer_id": actor.employer_id if actor.role == "employer" else None,
            "authority": actor.organisation if actor.role == "authority" else None}


def retention_scope(viewer: Viewer) -> dict:
    return {"employer_id": viewer.actor.employer_id if viewer.role == "employer" else None}


READERS = ("agency", "auditor", "employer", "authority", "employee")
RETENTION_READERS = ("agency", "auditor", "employer")
# The shared records whose pages an organisation's user opens, per role (the rows link to them).
OPENS = {"authority": ("contract", "statement"), "employer": ("contract", "placement")}
DASHBOARD_WARNINGS = 10  # of each kind; the retention page lists retention.WARNINGS_SHOWN of each


def first_of_each_kind(warnings: list[dict], n: int) -> list[dict]:
    seen: dict[str, int] = {}
    out = []
    for w in warnings:
        seen[w["kind"]] = seen.get(w["kind"], 0) + 1
        if seen[w["kind"]] <= n:
            out.append(w)
    return out


async def warned_placements(services: PageServices, viewer: Viewer, figures: dict) -> dict:
    """The listed warnings' placements, with the names to show, by id."""
    if not figures["warnings"]:
        return {}
    warned = [UUID(w["placement_id"]) for w in figures["warnings"]]
    return {str(p["placement_id"]): p for p in await directory.placements_by_id(
        services.pool, viewer.tenant.id, warned, **retention_scope(viewer))}


@get("/", name="dashboard", guards=[roles(*READERS)], opt={ORGANISATION_PAGES: True})
async def dashboard(request: Request, services: NamedDependency[PageServices],
                    viewer: NamedDependency[Viewer]) -> Response:
    if viewer.actor.org_id is not None:
        return await shared_with_organisation(services, request, viewer)
    if viewer.role == "employee":
        return Response(b"", status_code=303, headers={"Location": "/placements"})
    await fresh(services, request, viewer)
    today = date.today()
    from web.pages.duties import dashboard_reminders  # the agency's open reminders, one small query
    from web.pages.support import dashboard_targets
    from web.pages.impact import dashboard_targets as impact_targets

    # The read models are independent: their queries run side by side, each
    # on its own pool connection (the dashboard waits for the slowest, not the sum).
    retention_figures = (retention.retention(services.pool, viewer.tenant.id, today, **retention_scope(viewer))
                         if viewer.role in ("agency", "auditor", "employer") else _nothing())
    summary, figures, reminders = await asyncio.gather(
        compliance.compliance_summary(services.pool, viewer.tenant.id, today, **summary_scope(viewer)),
        retention_figures, dashboard_reminders(services, viewer))
    if figures is not None:
        figures["warnings"] = first_of_each_kind(figures["warnings"], DASHBOARD_WARNINGS)
    names, placements, targets, more_targets = await asyncio.gather(
        directory.names(services.pool, viewer.tenant.id, [UUID(c["employer_id"]) for c in summary["contracts"]]),
        warned_placements(services, viewer, figures) if figures is not None else _nothing({}),
        # Targets beyond euros beside each contract's figures (web/pages/support.py).
        dashboard_targets(services, viewer, summary["contracts"]),
        # The kinds of issue 16 (share permanent, adjustments within 30 days, satisfaction).
        impact_targets(services, viewer, [UUID(c["contract_id"]) for c in summary["contracts"]]))
    return page(services.templates, request, "dashboard.html", {
        "today": today, "summary": summary, "retention": figures, "placements": placements,
        "employer_names": {str(k): v for k, v in names.items()}, "bar": charts.progress,
        "warnings_shown": DASHBOARD_WARNINGS, "reminders": reminders, "targets": targets,
        "more_targets": more_targets,
    })


async def shared_with_organisation(services: PageServices, request: Request, viewer: Viewer) -> Response:
    """An organisation's user: what each agency shares with it (from the share
    index; the cross-agency figures are read per agency by the API)."""
    records = await shared.shared_records(services.pool, viewer.actor.org_id)
    agencies = {}
    for tenant_id in {r.tenant_id for r in records}:
        tenant = await tenant_by_id_async(platform_pool(services.pool), tenant_id)
        agencies[tenant_id] = tenant.name if tenant is not None else ""
    rows = sorted(records, key=lambda r: (agencies[r.tenant_id], shared.KINDS.index(r.kind), r.linked_at))
    return page(services.templates, request, "shared.html", {"records": rows, "agencies": agencies,
                                                             "opens": OPENS.get(viewer.role, ())})


async def _nothing(value: Any = None) -> Any:
    return value


@get("/retention", name="retention", guards=[roles(*RETENTION_READERS)])
async def retention_page(request: Request, services: NamedDependency[PageServices],
                         viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    today = date.today()
    scope = retention_scope(viewer)
    figures = await retention.retention(services.pool, viewer.tenant.id, today, **scope)
    placements = await warned_placements(services, viewer, figures)
    cohorts = await directory.retention_cohorts(services.pool, viewer.tenant.id, today, **scope)
    curve = await directory.retention_curve(services.pool, viewer.tenant.id, today, **scope)
    return page(services.templates, request, "retention.html", {
        "today": today, "retention": figures, "cohorts": cohorts, "windows": directory.COHORT_WINDOWS,
        "curve": curve, "chart": charts.retention_curve(curve),
        "placements": placements, "warnings_shown": retention.WARNINGS_SHOWN,
    })
