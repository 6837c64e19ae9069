"""Placements: start one, follow its timeline, give feedback inline, change
hours, end it."""
from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.placement import Placement
from domain.vacancy import Vacancy
from domain.values import END_REASONS
from projections import directory
from service import commands as c
from service.errors import Conflict, InvalidInput, InvalidReference
from service.handlers.placements import FEEDBACK_AS
from web.pages.common import (
    execute,
    field_errors,
    fragment_or_page,
    fresh,
    get as get_aggregate,
    get_with_history,
    may,
    new_idempotency_key,
    parse_id,
    pool,
    record_special_category_read,
    redirect_after,
)
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import Viewer, roles

READERS = ("agency", "auditor", "employer", "employee")
SCORES = (1, 2, 3, 4, 5)
HISTORY_SHOWN = 20  # events read per page of the history (the newest on the placement's page)


def _scope(viewer: Viewer) -> dict[str, Any]:
    if viewer.role == "employer":
        return {"employer_id": viewer.actor.employer_id}
    if viewer.role == "employee":
        return {"candidate_id": viewer.actor.candidate_id}
    return {}


@get("/placements", name="placements", guards=[roles(*READERS)])
async def placements(request: Request, viewer: NamedDependency[Viewer]) -> Response:
    await fresh(request, viewer)
    rows = await directory.placements(pool(request), viewer.tenant.id, **_scope(viewer))
    return page(request, "placements.html", {"placements": rows, "today": date.today()})


# -- starting ---------------------------------------------------------------------

async def _start_form(request: Request, viewer: Viewer, values: dict[str, str], errors: dict | None = None,
                      status: int = 200) -> Response:
    vacancy_id = values.get("vacancy_id") or ""
    vacancy = None
    if vacancy_id:
        vacancy = await get_aggregate(request, viewer, Vacancy, parse_id("vacancy", vacancy_id))
        values = {"employer_id": str(vacancy.employer_id), "hours_per_week": str(vacancy.hours_per_week), **values}
    employer_id = values.get("employer_id") or ""
    contracts = []
    if employer_id:
        try:
            contracts = await directory.contracts(pool(request), viewer.tenant.id, employer_id=UUID(employer_id),
                                                  open_only=True)
        except ValueError:
            contracts = []
    candidates = (await directory.candidates_by_id(pool(request), viewer.tenant.id,
                                                   list(vacancy.matched_candidate_ids))
                  if vacancy is not None else await directory.candidates(pool(request), viewer.tenant.id))
    employers = await directory.employers(pool(request), viewer.tenant.id)
    return page(request, "placement_new.html", {
        "vacancy": vacancy, "candidates": candidates, "employers": employers, "contracts": contracts,
        "values": {"starts_on": date.today().isoformat(), **values}, "errors": errors or {},
        "idempotency": new_idempotency_key(),
    }, status=status)


@get("/placements/new", guards=[roles("agency")])
async def new_placement(request: Request, viewer: NamedDependency[Viewer]) -> Response:
    await fresh(request, viewer)
    values = {k: request.query_params.get(q, "") for k, q in
              (("vacancy_id", "vacancy"), ("candidate_id", "candidate"), ("employer_id", "employer"))}
    return await _start_form(request, viewer, {k: v for k, v in values.items() if v})


@post("/placements", guards=[roles("agency")])
async def start_placement(request: Request, viewer: NamedDependency[Viewer]) -> Response:
    form = await Form.read(request)
    fields = dict(
        candidate_id=form.ident("candidate_id"), employer_id=form.ident("employer_id"),
        contract_id=form.ident("contract_id", required=False), vacancy_id=form.ident("vacancy_id", required=False),
        starts_on=form.day("starts_on"), hours_per_week=form.decimal("hours_per_week"),
        permanent_contract=form.flag("permanent_contract"),
        planned_end_on=form.day("planned_end_on", required=False))
    if not form.ok:
        return await _start_form(request, viewer, form.values(), form.errors, 422)
    try:
        result = await execute(request, viewer, c.StartPlacement(**fields), form)  # type: ignore[arg-type]
    except (InvalidInput, InvalidReference, Conflict) as e:
        return await _start_form(request, viewer, form.values(), field_errors(e, form), 422)
    return redirect_after(result, f"/placements/{result.body['id']}")


# -- one placement --------------------------------------------------------------------

def _feedback(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e["data"], "recorded_at": e["metadata"].get("recorded_at") or e["occurred_at"]}
            for e in events if e["type"] == "FeedbackGiven"][::-1]


from web.pages.duties import placement_section as duties_section  # noqa: E402  (it imports this module lazily)
from web.pages.support import placement_section as support_section  # noqa: E402  (likewise)
from web.pages.responsible import placement_section as responsible_section  # noqa: E402  (likewise)


def _history_page(request: Request) -> int:
    raw = request.query_params.get("page") or "1"
    return min(int(raw), 100_000) if raw.isascii() and raw.isdigit() and len(raw) <= 9 and int(raw) > 0 else 1


async def _context(request: Request, viewer: Viewer, ident: UUID, history_page: int = 1,
                   sections: bool = True) -> dict[str, Any]:
    """What the page shows; of the history, one page of HISTORY_SHOWN events
    (1: the newest), read with one visibility check. `sections=False` for an
    answer that renders the feedback or timeline block only: the other
    sections (duties, support) are not read."""
    placement: Placement
    placement, events = await get_with_history(request, viewer, Placement, ident, HISTORY_SHOWN,
                                               (history_page - 1) * HISTORY_SHOWN)
    names = await directory.names(pool(request), viewer.tenant.id,
                                  [placement.candidate_id, placement.employer_id, placement.contract_id])
    feedback_as = sorted(FEEDBACK_AS.get(viewer.role, ()))
    if any(e["type"] == "FeedbackGiven" and e["data"].get("comment") for e in events):
        # Feedback comments can hold health notes about the person.
        await record_special_category_read(request, viewer, placement.candidate_id, ["feedback comments"])
    return {
        "placement": placement, "events": events, "feedback": _feedback(events),
        "events_total": placement.version, "feedback_total": placement.feedback_count,
        "history_page": history_page, "history_first": events[0]["version"] if events else 0,
        "history_last": events[-1]["version"] if events else 0,
        "candidate_name": names.get(placement.candidate_id, ""),
        "employer_name": names.get(placement.employer_id, ""),
        "contract_title": names.get(placement.contract_id, "") if placement.contract_id else "",
        # Links to pages the viewer may open.
        "links_candidate": viewer.role in ("agency", "auditor", "employee"),
        "links_contract": viewer.role in ("agency", "auditor", "employer"),
        "can_feedback": may(viewer, c.GiveFeedback), "feedback_as": feedback_as, "scores": SCORES,
        "can_change": may(viewer, c.ChangeHours) and placement.is_active,
        "can_end": may(viewer, c.EndPlacement) and placement.is_active,
        "can_extend": may(viewer, c.ExtendPlacement) and placement.is_active,
        "end_reasons": END_REASONS, "today": date.today(), "errors": {}, "values": {},
        "idempotency": new_idempotency_key(), "saved": False,
        # Sickness and the legal employer's duties (web/pages/duties.py; the agency only).
        **(await duties_section(request, viewer, placement) if sections else {}),
        # Support that follows the person (web/pages/support.py; not the authority's).
        **(await support_section(request, viewer, placement) if sections else {}),
        # Who at the agency looks after it (web/pages/responsible.py; the agency only).
        **(await responsible_section(request, viewer, placement) if sections else {}),
    }


@get("/placements/{placement_id:str}", name="placement", guards=[roles(*READERS)])
async def placement_detail(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    await fresh(request, viewer)
    context = await _context(request, viewer, parse_id("placement", placement_id))
    return page(request, "placement.html", context)


@get("/placements/{placement_id:str}/timeline", guards=[roles(*READERS)])
async def placement_timeline(request: Request, viewer: NamedDependency[Viewer],
                             placement_id: FromPath[str]) -> Response:
    """Earlier events, a page at a time (?page=N): the timeline block for htmx,
    else the placement's page showing that part of its history."""
    context = await _context(request, viewer, parse_id("placement", placement_id), _history_page(request),
                             sections=not wants_fragment(request))
    return fragment_or_page(request, "placement.html", context, block="timeline")


@get("/placements/{placement_id:str}/feedback", guards=[roles(*READERS)])
async def placement_feedback(request: Request, viewer: NamedDependency[Viewer],
                             placement_id: FromPath[str]) -> Response:
    """Earlier feedback, from the same pages of the history: the feedback block
    for htmx, else the placement's page."""
    context = await _context(request, viewer, parse_id("placement", placement_id), _history_page(request),
                             sections=not wants_fragment(request))
    return fragment_or_page(request, "placement.html", context, block="feedback")


@post("/placements/{placement_id:str}/feedback", guards=[roles("agency", "employer", "employee")])
async def give_feedback(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    """Inline: an htmx request gets the feedback block back (the form owns its
    swap); without JavaScript the answer is a 303 to the placement page."""
    ident = parse_id("placement", placement_id)
    # No separate visibility check: the command, or _context on an invalid form,
    # answers 404 for a placement the viewer may not see.
    form = await Form.read(request)
    allowed = sorted(FEEDBACK_AS.get(viewer.role, ()))
    score = form.integer("score")
    if score is not None and score not in SCORES:
        form.error("score", "choice")
    from_role = form.choice("from_role", allowed) if len(allowed) > 1 else allowed[0]
    comment = form.text("comment", required=False)
    error: Exception | None = None
    result = None
    if form.ok:
        try:
            result = await execute(request, viewer, c.GiveFeedback(
                placement_id=ident, score=score, from_role=from_role, comment=comment), form)  # type: ignore[arg-type]
        except (InvalidInput, InvalidReference, Conflict) as e:
            error = e
    if result is not None and not wants_fragment(request):
        return redirect_after(result, f"/placements/{placement_id}#feedback")
    context = await _context(request, viewer, ident, sections=not wants_fragment(request))
    if result is None:
        context["errors"] = field_errors(error, form, "comment") if error else form.errors  # type: ignore[arg-type]
        context["values"] = form.values()
    else:
        context["saved"] = True
    status = 200 if result is not None else 422
    return page(request, "placement.html", context, block="feedback" if wants_fragment(request) else None,
                status=status)


async def _change(request: Request, viewer: Viewer, ident: UUID, form: Form, command: Any, field: str) -> Response:
    """Run a change to a placement from its page: back to the page when it is
    stored, else the page again with the errors (422). `command` is None when
    the form itself was invalid. The command answers 404 for a placement the
    viewer may not see, so the placement is not loaded first."""
    if form.ok:
        try:
            result = await execute(request, viewer, command, form)
            return redirect_after(result, f"/placements/{ident}")
        except (InvalidInput, InvalidReference, Conflict) as e:
            form.errors = field_errors(e, form, field)
    context = await _context(request, viewer, ident)
    context.update(errors=form.errors, values=form.values())
    return page(request, "placement.html", context, status=422)


@post("/placements/{placement_id:str}/hours", guards=[roles("agency")])
async def change_hours(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    ident = parse_id("placement", placement_id)
    form = await Form.read(request)
    hours, effective_on = form.decimal("hours_per_week"), form.day("effective_on")
    return await _change(request, viewer, ident, form, c.ChangeHours(
        placement_id=ident, hours_per_week=hours, effective_on=effective_on), "hours_per_week")  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/end", guards=[roles("agency")])
async def end_placement(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    ident = parse_id("placement", placement_id)
    form = await Form.read(request)
    ends_on, reason = form.day("ends_on"), form.choice("reason", END_REASONS)
    return await _change(request, viewer, ident, form, c.EndPlacement(
        placement_id=ident, ends_on=ends_on, reason=reason), "ends_on")  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/extend", guards=[roles("agency")])
async def extend_placement(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    """Move the planned end later (the form is web/templates/_placement_extend.html)."""
    ident = parse_id("placement", placement_id)
    form = await Form.read(request)
    until = form.day("until")
    return await _change(request, viewer, ident, form, c.ExtendPlacement(placement_id=ident, until=until),  # type: ignore[arg-type]
                         "until")
