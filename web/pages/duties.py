"""The legal employer's duties on the pages: sickness and duties on a
placement, the tenant's duties list, and the reminders.

Sickness is health data: as in the API, only the agency (the legal
employer) sees it or the duties it starts. Employers, auditors and the
person see none of it on these pages; every page view that shows a
person's sicknesses is written to the access log. A reminder is addressed
to the agency user responsible for its placement (web/pages/responsible.py),
or to the whole agency when nobody is: a user's own reminders are those
addressed to them and those addressed to nobody in particular; `/reminders`
shows these by default and everyone's on request.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.duties import DUTY_LABELS
from domain.placement import Placement
from infra.registry import agency_users_async
from projections import directory, duties
from projections.reader import platform_pool
from service import commands as c
from service.errors import NotFound
from web.ids import parse_id
from web.pages.answer import FORM_ERRORS, FormState, PageRenderer, answer
from web.pages.common import (
    PageServices,
    fresh,
    get as get_aggregate,
    may,
    new_idempotency_key,
    record_special_category_read,
)
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import Viewer, may_issue, roles

STATUS_ORDER = {"overdue": 0, "due": 1, "done": 2, "closed": 3}
KINDS = tuple(DUTY_LABELS)
DASHBOARD_REMINDERS = 3
DASHBOARD_DAYS = 14
READERS = ("agency",)  # sickness and duties: the legal employer only


def _ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue first, then due, done and closed; each by due date."""
    return sorted(items, key=lambda d: (STATUS_ORDER.get(d["status"], 9), d["due_on"], d["kind"]))


# -- on a placement ------------------------------------------------------------------

async def placement_section(services: PageServices, request: Request, viewer: Viewer, placement: Placement,
                            state: FormState | None = None) -> dict[str, Any]:
    """`duties_section` for placement.html (None for roles that may not see
    sickness), with the state of its form after a change."""
    if not may(viewer, c.ReportSickness):
        return {"duties_section": None}
    await fresh(services, request, viewer, (duties.NAME,))
    today = date.today()
    found = await duties.placement_duties(services.pool, viewer.tenant.id, placement.id, today)
    if found is None:  # not projected yet
        found = {"sickness": [], "duties": [], "job_coach": None}
    if found["sickness"]:
        await record_special_category_read(services, request, viewer, placement.candidate_id, ["sickness"])
    items = _ordered(found["duties"])
    spells = found["sickness"]
    open_spell = spells[-1] if spells and spells[-1]["recovered_on"] is None else None
    errors = dict(state.errors) if state else {}
    hidden = "first_sick_day" if open_spell else "recovered_on"  # its form is not shown now
    if hidden in errors:
        errors["_form"] = errors.pop(hidden)
    return {"duties_section": {
        "placement_id": str(placement.id), "spells": spells, "open_spell": open_spell,
        "employment_id": found.get("employment_id"), "candidate_id": str(placement.candidate_id),
        "current": [d for d in items if d["status"] != "closed"],
        "closed": [d for d in items if d["status"] == "closed"],
        "job_coach": found["job_coach"], "today": today,
        "idempotency": new_idempotency_key(),
        "errors": errors, "form_values": dict(state.values) if state else {},
    }}


async def _run(services: PageServices, request: Request, viewer: Viewer, placement: Placement, form: Form,
               command: Any, field: str,
               placement_page: PageRenderer) -> Response:
    """A form of the duties section: 303 back (or the section, for htmx, once
    the duties read model holds the change); after an error the page (or the
    section) with the message next to the field."""
    async def show(state: FormState, status: int) -> Response:
        if wants_fragment(request):
            return page(services.templates, request, "_placement_duties.html",
                        await placement_section(services, request, viewer, placement, state), status=status)
        return await placement_page(services, request, viewer, placement.id, forms={"duties": state}, status=status)

    # NotFound: the placement is visible (loaded first), so it is the duty.
    return await answer(services, request, viewer, form, command, to=f"/placements/{placement.id}#duties", show=show,
                        field=field, swaps=True, read_models=(duties.NAME,), shown_errors=(*FORM_ERRORS, NotFound))


@post("/placements/{placement_id:str}/sickness", guards=[may_issue(c.ReportSickness)])
async def report_sickness(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          placement_id: FromPath[str],
                          placement_page: NamedDependency[PageRenderer]) -> Response:
    placement = await get_aggregate(services, viewer, Placement, parse_id("placement", placement_id))
    form = await Form.read(request)
    first = form.day("first_sick_day")
    return await _run(services, request, viewer, placement, form,
                      c.ReportSickness(placement_id=placement.id, first_sick_day=first),  # type: ignore[arg-type]
                      "first_sick_day", placement_page)


@post("/placements/{placement_id:str}/recovery", guards=[may_issue(c.ReportRecovery)])
async def report_recovery(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          placement_id: FromPath[str],
                          placement_page: NamedDependency[PageRenderer]) -> Response:
    placement = await get_aggregate(services, viewer, Placement, parse_id("placement", placement_id))
    form = await Form.read(request)
    on = form.day("recovered_on")
    return await _run(services, request, viewer, placement, form,
                      c.ReportRecovery(placement_id=placement.id, recovered_on=on),  # type: ignore[arg-type]
                      "recovered_on", placement_page)


@post("/placements/{placement_id:str}/duties/{duty_id:str}/done", guards=[may_issue(c.CompleteDuty)])
async def placement_duty_done(request: Request, services: NamedDependency[PageServices],
                              viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                              duty_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    placement = await get_aggregate(services, viewer, Placement, parse_id("placement", placement_id))
    form = await Form.read(request)
    done_on = form.day("done_on", required=False)
    return await _run(services, request, viewer, placement, form, c.CompleteDuty(
        placement_id=placement.id, duty_id=parse_id("duty", duty_id), done_on=done_on), "done_on", placement_page)


# -- the tenant's duties ----------------------------------------------------------------

def _duty_filters(query: Any) -> tuple[dict[str, Any], dict[str, str]]:
    statuses = [s for s in query.getall("status", []) if s] if hasattr(query, "getall") else []
    values: dict[str, Any] = {"status": statuses or ["overdue", "due"], "kind": (query.get("kind") or "").strip(),
                              "due_before": (query.get("due_before") or "").strip()}
    errors: dict[str, str] = {}
    if any(s not in STATUS_ORDER for s in values["status"]):
        errors["status"] = "choice"
    if values["kind"] and values["kind"] not in KINDS:
        errors["kind"] = "choice"
    dates = Form(values)
    dates.day("due_before", required=False)
    errors.update(dates.errors)
    return values, errors


@get("/duties", name="duties", guards=[roles(*READERS)])
async def duties_page(request: Request, services: NamedDependency[PageServices],
                      viewer: NamedDependency[Viewer]) -> Response:
    values, errors = _duty_filters(request.query_params)
    return await _duties_list(services, request, viewer, values, errors, FormState(), 422 if errors else 200)


async def _duties_list(services: PageServices, request: Request, viewer: Viewer, values: dict[str, Any],
                       errors: dict[str, str],
                       done: FormState, status: int) -> Response:
    """The tenant's duties under the filters; `done`: the state of a "done"
    form sent from this list (a refused one shows its error above the list)."""
    await fresh(services, request, viewer, (duties.NAME, directory.NAME))
    today = date.today()
    items: list[dict[str, Any]] = []
    placements: dict[str, dict] = {}
    if not errors:
        due_by = date.fromisoformat(values["due_before"]) - timedelta(days=1) if values["due_before"] else None
        items = await duties.duties(services.pool, viewer.tenant.id, today, statuses=tuple(values["status"]),
                                    due_by=due_by, kind=values["kind"] or None)
        items = _ordered(items)
        ids = list({UUID(d["placement_id"]) for d in items})
        placements = {str(p["placement_id"]): p for p in
                      await directory.placements_by_id(services.pool, viewer.tenant.id, ids)}
    return page(services.templates, request, "duties.html", {
        "items": items, "placements": placements, "names": await _employment_names(services, viewer, items), "values": values, "errors": errors, "kinds": KINDS,
        "statuses": tuple(STATUS_ORDER), "today": today, "idempotency": new_idempotency_key(), "done": done,
        "query": urlencode([(k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs]) if v],
                           doseq=True),
    }, status=status)


@post("/duties/{duty_id:str}/done", guards=[may_issue(c.CompleteDuty)])
async def duty_done(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                    duty_id: FromPath[str]) -> Response:
    """Done, from the duties list: back to the list with its filters."""
    ident = parse_id("duty", duty_id)
    form = await Form.read(request)
    await fresh(services, request, viewer, (duties.NAME,))
    placement_id = await duties.placement_of_duty(services.pool, viewer.tenant.id, ident)
    if placement_id is None:
        raise NotFound("duty", duty_id)
    values, errors = _duty_filters(_Query(form))
    query = urlencode([(k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs]) if v])

    async def show(state: FormState, status: int) -> Response:
        return await _duties_list(services, request, viewer, values, errors, state, status)

    return await answer(services, request, viewer, form, c.CompleteDuty(placement_id=placement_id, duty_id=ident),
                        to=f"/duties?{query}", show=show)


class _Query:
    """A form's filter fields read like query parameters."""

    def __init__(self, form: Form) -> None:
        self.form = form

    def get(self, name: str) -> str:
        return self.form.raw(name)

    def getall(self, name: str, default: list[str]) -> list[str]:
        data = self.form.data
        return list(data.getall(name)) if hasattr(data, "getall") and name in data else default


# -- reminders ---------------------------------------------------------------------------

async def _reminders(services: PageServices, viewer: Viewer, since: date | None,
                     everyone: bool = False) -> tuple[list[dict], dict[str, dict], dict[UUID, str]]:
    users = await agency_users_async(platform_pool(services.pool), viewer.tenant.id)
    items = await duties.reminders(services.pool, viewer.tenant.id, since,
                                   None if everyone else viewer.actor.user_id, users)
    ids = list({UUID(r["placement_id"]) for r in items})
    placements = {str(p["placement_id"]): p for p in
                  await directory.placements_by_id(services.pool, viewer.tenant.id, ids)}
    return items, placements, users


async def _employment_names(services: PageServices, viewer: Viewer, items: list[dict[str, Any]]) -> dict[str, str]:
    """The names of the people whose employments (not a placement) own some of
    `items` (duties, or reminders of them): those link to the person's page."""
    people = {d.get("employment_candidate_id") or (d["candidate_id"] if d.get("owner") == "employment" else None)
              for d in items} - {None}
    if not people:
        return {}
    found = await directory.names(services.pool, viewer.tenant.id, [UUID(p) for p in people])
    return {str(k): v for k, v in found.items() if v}


@get("/reminders", name="reminders", guards=[roles(*READERS)])
async def reminders_page(request: Request, services: NamedDependency[PageServices],
                         viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer, (duties.NAME,))
    shown = request.query_params.get("show") or "mine"
    if shown not in ("mine", "everyone"):
        shown = "mine"
    items, placements, users = await _reminders(services, viewer, None, everyone=shown == "everyone")
    return page(services.templates, request, "reminders.html", {
        "items": items, "placements": placements, "today": date.today(),
        "names": await _employment_names(services, viewer, items),
        "shown": shown, "users": {str(k): v for k, v in users.items()}, "me": str(viewer.actor.user_id)})


async def dashboard_reminders(services: PageServices, viewer: Viewer) -> dict[str, Any] | None:
    """For the dashboard: the viewer's own reminders (and the whole agency's) of
    the last two weeks whose duty is still open."""
    if viewer.role != "agency":
        return None
    today = date.today()
    users = await agency_users_async(platform_pool(services.pool), viewer.tenant.id)
    items = await duties.reminders(services.pool, viewer.tenant.id, today - timedelta(days=DASHBOARD_DAYS),
                                   viewer.actor.user_id, users)
    open_ = [r for r in items if r["duty_done_on"] is None]
    return {"count": len(open_), "newest": open_[:DASHBOARD_REMINDERS], "today": today}
