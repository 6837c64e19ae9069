"""Placements: start one, follow its timeline, give feedback inline, change
hours, end it. The placement page with its sections is assembled in
web/pages/assembly.py."""
from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.vacancy import Vacancy
from domain.values import ARRANGEMENTS, DEFAULT_ARRANGEMENT, END_REASONS
from projections import directory, voice
from service import commands as c
from service.handlers.placements import FEEDBACK_AS
from web.ids import parse_id
from web.pages.answer import FormState, PageRenderer, answer
from web.pages.common import PageServices, fresh, get as get_aggregate, new_idempotency_key
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import ORGANISATION_PAGES, Viewer, may_issue, roles

READERS = ("agency", "auditor", "employer", "employee")
SCORES = (1, 2, 3, 4, 5)
HISTORY_SHOWN = 20  # events read per page of the history (the newest on the placement's page)
# The placement page and the forms a partner role posts there also open for a platform organisation's
# user (an employer's), on a placement an agency shares with it (web/pages/viewer.py: provide_viewer).
SHARED = {ORGANISATION_PAGES: True}


def _scope(viewer: Viewer) -> dict[str, Any]:
    if viewer.role == "employer":
        return {"employer_id": viewer.actor.employer_id}
    if viewer.role == "employee":
        return {"candidate_id": viewer.actor.candidate_id}
    return {}


@get("/placements", name="placements", guards=[roles(*READERS)])
async def placements(request: Request, services: NamedDependency[PageServices],
                     viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    rows = await directory.placements(services.pool, viewer.tenant.id, **_scope(viewer))
    # The person is told here (their first page) which of their own check-ins are open.
    check_ins = (await voice.open_check_ins(services.pool, viewer.tenant.id, viewer.actor.candidate_id, date.today())
                 if viewer.role == "employee" and viewer.actor.candidate_id else [])
    return page(services.templates, request, "placements.html", {"placements": rows, "today": date.today(),
                                                                 "open_check_ins": check_ins})


# -- starting ---------------------------------------------------------------------

async def _start_form(services: PageServices, request: Request, viewer: Viewer, values: dict[str, str],
                      errors: dict | None = None,
                      status: int = 200) -> Response:
    vacancy_id = values.get("vacancy_id") or ""
    vacancy = None
    if vacancy_id:
        vacancy = await get_aggregate(services, viewer, Vacancy, parse_id("vacancy", vacancy_id))
        values = {"employer_id": str(vacancy.employer_id), "hours_per_week": str(vacancy.hours_per_week), **values}
    employer_id = values.get("employer_id") or ""
    contracts = []
    if employer_id:
        try:
            contracts = await directory.contracts(services.pool, viewer.tenant.id, employer_id=UUID(employer_id),
                                                  open_only=True)
        except ValueError:
            contracts = []
    candidates = (await directory.candidates_by_id(services.pool, viewer.tenant.id,
                                                   list(vacancy.matched_candidate_ids))
                  if vacancy is not None else await directory.candidates(services.pool, viewer.tenant.id))
    employers = await directory.employers(services.pool, viewer.tenant.id)
    return page(services.templates, request, "placement_new.html", {
        "vacancy": vacancy, "candidates": candidates, "employers": employers, "contracts": contracts,
        "arrangements": ARRANGEMENTS,
        "values": {"starts_on": date.today().isoformat(), "arrangement": DEFAULT_ARRANGEMENT, **values},
        "errors": errors or {},
        "idempotency": new_idempotency_key(),
    }, status=status)


@get("/placements/new", guards=[may_issue(c.StartPlacement)])
async def new_placement(request: Request, services: NamedDependency[PageServices],
                        viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    values = {k: request.query_params.get(q, "") for k, q in
              (("vacancy_id", "vacancy"), ("candidate_id", "candidate"), ("employer_id", "employer"),
               ("employment_id", "employment"))}
    return await _start_form(services, request, viewer, {k: v for k, v in values.items() if v})


@post("/placements", guards=[may_issue(c.StartPlacement)])
async def start_placement(request: Request, services: NamedDependency[PageServices],
                          viewer: NamedDependency[Viewer]) -> Response:
    form = await Form.read(request)
    fields = dict(
        candidate_id=form.ident("candidate_id"), employer_id=form.ident("employer_id"),
        contract_id=form.ident("contract_id", required=False), vacancy_id=form.ident("vacancy_id", required=False),
        starts_on=form.day("starts_on"), hours_per_week=form.decimal("hours_per_week"),
        permanent_contract=form.flag("permanent_contract"),
        planned_end_on=form.day("planned_end_on", required=False),
        # A secondment in the person's employment with the agency (from its link on their page).
        employment_id=form.ident("employment_id", required=False),
        arrangement=form.text("arrangement", required=False) or DEFAULT_ARRANGEMENT)

    async def show(state: FormState, status: int) -> Response:
        return await _start_form(services, request, viewer, dict(state.values), dict(state.errors), status)

    return await answer(services, request, viewer, form, c.StartPlacement(**fields), show=show,  # type: ignore[arg-type]
                        to=lambda result: f"/placements/{result.body['id']}")


# -- one placement --------------------------------------------------------------------
# The page itself is assembled with its sections in web/pages/assembly.py.

def _history_page(request: Request) -> int:
    raw = request.query_params.get("page") or "1"
    return min(int(raw), 100_000) if raw.isascii() and raw.isdigit() and len(raw) <= 9 and int(raw) > 0 else 1


@get("/placements/{placement_id:str}", name="placement", guards=[roles(*READERS)], opt=SHARED)
async def placement_detail(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                           placement_id: FromPath[str],
                           placement_page: NamedDependency[PageRenderer]) -> Response:
    await fresh(services, request, viewer)
    return await placement_page(services, request, viewer, parse_id("placement", placement_id))


@get("/placements/{placement_id:str}/timeline", guards=[roles(*READERS)], opt=SHARED)
async def placement_timeline(request: Request, services: NamedDependency[PageServices],
                             viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                             placement_page: NamedDependency[PageRenderer]) -> Response:
    """Earlier events, a page at a time (?page=N): the timeline block for htmx,
    else the placement's page showing that part of its history."""
    return await placement_page(services, request, viewer, parse_id("placement", placement_id),
                                history_page=_history_page(request),
                                block="timeline" if wants_fragment(request) else None)


@get("/placements/{placement_id:str}/feedback", guards=[roles(*READERS)], opt=SHARED)
async def placement_feedback(request: Request, services: NamedDependency[PageServices],
                             viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                             placement_page: NamedDependency[PageRenderer]) -> Response:
    """Earlier feedback, from the same pages of the history: the feedback block
    for htmx, else the placement's page."""
    return await placement_page(services, request, viewer, parse_id("placement", placement_id),
                                history_page=_history_page(request),
                                block="feedback" if wants_fragment(request) else None)


@post("/placements/{placement_id:str}/feedback", guards=[may_issue(c.GiveFeedback)], opt=SHARED)
async def give_feedback(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        placement_id: FromPath[str],
                        placement_page: NamedDependency[PageRenderer]) -> Response:
    """Inline: an htmx request gets the feedback block back (the form owns its
    swap); without JavaScript the answer is a 303 to the placement page."""
    ident = parse_id("placement", placement_id)
    # No separate visibility check: the command, or the page on an invalid
    # form, answers 404 for a placement the viewer may not see.
    form = await Form.read(request)
    allowed = sorted(FEEDBACK_AS.get(viewer.role, ()))
    score = form.integer("score")
    if score is not None and score not in SCORES:
        form.error("score", "choice")
    from_role = form.choice("from_role", allowed) if len(allowed) > 1 else allowed[0]
    comment = form.text("comment", required=False)
    block = "feedback" if wants_fragment(request) else None

    async def show(state: FormState, status: int) -> Response:
        return await placement_page(services, request, viewer, ident, forms={"placement": state}, status=status,
                                    block=block)

    return await answer(services, request, viewer, form, c.GiveFeedback(
        placement_id=ident, score=score, from_role=from_role, comment=comment),  # type: ignore[arg-type]
        to=f"/placements/{placement_id}#feedback", show=show, field="comment", swaps=True)


async def _change(services: PageServices, request: Request, viewer: Viewer, ident: UUID, form: Form, command: Any,
                  field: str,
                  placement_page: PageRenderer) -> Response:
    """A change to a placement from its page: back to the page when it is
    stored, else the page again with the errors. The command answers 404 for
    a placement the viewer may not see, so the placement is not loaded first."""
    async def show(state: FormState, status: int) -> Response:
        return await placement_page(services, request, viewer, ident, forms={"placement": state}, status=status)

    return await answer(services, request, viewer, form, command, to=f"/placements/{ident}", show=show, field=field)


@post("/placements/{placement_id:str}/hours", guards=[may_issue(c.ChangeHours)])
async def change_hours(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       placement_id: FromPath[str],
                       placement_page: NamedDependency[PageRenderer]) -> Response:
    ident = parse_id("placement", placement_id)
    form = await Form.read(request)
    hours, effective_on = form.decimal("hours_per_week"), form.day("effective_on")
    return await _change(services, request, viewer, ident, form, c.ChangeHours(
        placement_id=ident, hours_per_week=hours, effective_on=effective_on),  # type: ignore[arg-type]
        "hours_per_week", placement_page)


@post("/placements/{placement_id:str}/end", guards=[may_issue(c.EndPlacement)])
async def end_placement(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        placement_id: FromPath[str],
                        placement_page: NamedDependency[PageRenderer]) -> Response:
    ident = parse_id("placement", placement_id)
    form = await Form.read(request)
    ends_on, reason = form.day("ends_on"), form.choice("reason", END_REASONS)
    return await _change(services, request, viewer, ident, form, c.EndPlacement(
        placement_id=ident, ends_on=ends_on, reason=reason), "ends_on", placement_page)  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/extend", guards=[may_issue(c.ExtendPlacement)])
async def extend_placement(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                           placement_id: FromPath[str],
                           placement_page: NamedDependency[PageRenderer]) -> Response:
    """Move the planned end later (the form is web/templates/_placement_extend.html)."""
    ident = parse_id("placement", placement_id)
    form = await Form.read(request)
    until = form.day("until")
    return await _change(services, request, viewer, ident, form, c.ExtendPlacement(placement_id=ident, until=until),  # type: ignore[arg-type]
                         "until", placement_page)
