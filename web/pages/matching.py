"""Matching pages: ranked suggestions for a vacancy, and the match pipeline
boards per vacancy and per employer.

Who sees what (data minimality):
- Suggestions name and compare candidates who were never put forward to
  anyone: the agency only, as `GET /api/v1/vacancies/{id}/suggestions`.
- A board shows only candidates proposed for a vacancy. The agency and the
  auditor see every board; an employer the boards of its own vacancies (the
  people it is to meet: their names only, never their records). The employer
  records the meet and greet, the trial and its own "no" (by=employer, with a
  reason from the list) on its own vacancies; proposing and placing stay the
  agency's (service/ledger.py `record_match_step`).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.employer import Employer
from domain.matching import DECLINE_REASONS, DECLINED, DECLINED_BY, PIPELINE_STEPS, VacancyNeeds
from domain.vacancy import Vacancy
from projections import directory, matching
from service import commands as c
from service.handlers.matching import EMPLOYER_STEPS
from web.ids import parse_id
from web.pages.answer import FormState, answer
from web.pages.common import (
    PageServices,
    fresh,
    get as get_aggregate,
    may,
    new_idempotency_key,
)
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import Viewer, may_issue, roles

LIMITS = ("10", "20", "50")
COLUMNS = (*PIPELINE_STEPS, DECLINED)
BOARD_READERS = ("agency", "auditor", "employer")
# Proposing from the suggestions is the agency's step (of RecordMatchStep's roles).
SUGGESTION_READERS = ("agency",)


# -- suggestions --------------------------------------------------------------------

def _filters(query: Any, vacancy: Vacancy) -> tuple[dict[str, str], dict[str, str]]:
    """The suggestion filters as typed (defaults filled in), and their errors."""
    # A region is a few words (the input holds 100 characters at most).
    region = query.get("region") if query.get("region") is not None else vacancy.region or ""
    values = {"region": region.strip()[:100],
              "limit": (query.get("limit") or "20").strip(),
              "starts_on": (query.get("starts_on") or date.today().isoformat()).strip()}
    errors = {}
    if values["limit"] not in LIMITS:
        errors["limit"] = "choice"
    dates = Form(values)
    dates.day("starts_on")
    errors.update(dates.errors)
    return values, errors


async def _suggestions_page(services: PageServices, request: Request, viewer: Viewer, vacancy: Vacancy, query: Any,
                            errors: dict[str, str] | None = None, error_for: str = "",
                            status: int = 200) -> Response:
    values, filter_errors = _filters(query, vacancy)
    rows: list[dict[str, Any]] = []
    if not filter_errors:
        needs = VacancyNeeds(required_competences=tuple(vacancy.required_competences),
                             optional_competences=tuple(vacancy.optional_competences),
                             hours_per_week=vacancy.hours_per_week, region=values["region"] or None,
                             starts_on=date.fromisoformat(values["starts_on"]))
        found = await matching.suggestions(services.pool, viewer.tenant.id, needs, int(values["limit"]))
        names = await directory.names(services.pool, viewer.tenant.id, [s.candidate_id for s in found])
        steps = {p["candidate_id"]: p["step"] for p in await matching.pipeline(services.pool, viewer.tenant.id,
                                                                                vacancy.id)}
        rows = [{"candidate_id": str(s.candidate_id), "name": names.get(s.candidate_id, ""), "score": s.score,
                 "parts": s.parts, "step": steps.get(str(s.candidate_id))} for s in found]
    errors = {**filter_errors, **(errors or {})}
    if "candidate_id" in errors and error_for not in {r["candidate_id"] for r in rows}:
        errors["_form"] = errors.pop("candidate_id")  # not listed: say it above the list
    context = {
        "vacancy": vacancy, "values": values, "errors": errors, "limits": LIMITS,
        "rows": rows, "error_for": error_for, "can_propose": may(viewer, c.RecordMatchStep) and vacancy.is_open,
        "idempotency": new_idempotency_key(),
    }
    block = "suggestions" if wants_fragment(request) and request.method == "POST" else None
    return page(services.templates, request, "vacancy_suggestions.html", context, block=block, status=status)


@get("/vacancies/{vacancy_id:str}/suggestions", guards=[roles(*SUGGESTION_READERS)])
async def vacancy_suggestions(request: Request, services: NamedDependency[PageServices],
                              viewer: NamedDependency[Viewer], vacancy_id: FromPath[str]) -> Response:
    await fresh(services, request, viewer, (matching.NAME,))
    vacancy = await get_aggregate(services, viewer, Vacancy, parse_id("vacancy", vacancy_id))
    values, errors = _filters(request.query_params, vacancy)
    return await _suggestions_page(services, request, viewer, vacancy, request.query_params,
                                   status=422 if errors else 200)


@post("/vacancies/{vacancy_id:str}/suggestions", guards=[roles(*SUGGESTION_READERS)])
async def propose_candidate(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer], vacancy_id: FromPath[str]) -> Response:
    """Propose a suggested candidate: the pipeline step `proposed`."""
    vacancy = await get_aggregate(services, viewer, Vacancy, parse_id("vacancy", vacancy_id))
    form = await Form.read(request)
    candidate_id = form.ident("candidate_id")
    filters = {k: form.raw(k) for k in ("region", "limit", "starts_on")}

    async def show(state: FormState, status: int) -> Response:
        if state.saved:
            fresh_vacancy = await get_aggregate(services, viewer, Vacancy, vacancy.id)
            return await _suggestions_page(services, request, viewer, fresh_vacancy, filters)
        errors = dict(state.errors)
        if form.ok:  # Whatever field the service names (step, candidate_id), it is about this row.
            errors = {"candidate_id": next(iter(errors.values()))}
        return await _suggestions_page(services, request, viewer, vacancy, filters, errors=errors,
                                       error_for=form.raw("candidate_id"), status=status)

    return await answer(services, request, viewer, form, c.RecordMatchStep(
        vacancy_id=vacancy.id, candidate_id=candidate_id, step="proposed"),  # type: ignore[arg-type]
        to=f"/vacancies/{vacancy.id}/suggestions?{urlencode(filters)}", show=show, field="candidate_id", swaps=True,
        read_models=(matching.NAME, directory.NAME))


# -- boards ---------------------------------------------------------------------------

def next_steps(step: str) -> list[str]:
    """The forward steps a match at `step` may take (skipping allowed)."""
    if step not in PIPELINE_STEPS or step == "placed":
        return []
    return list(PIPELINE_STEPS[PIPELINE_STEPS.index(step) + 1:])


async def _board(services: PageServices, viewer: Viewer, vacancies: list[dict[str, Any]], items: list[dict[str, Any]],
                 employer_id: UUID, scope: str) -> dict[str, Any]:
    """Cards per column; `vacancies`: {vacancy_id, title, is_open} of the board."""
    by_id = {v["vacancy_id"]: v for v in vacancies}
    names = await directory.names(services.pool, viewer.tenant.id, list({UUID(i["candidate_id"]) for i in items}))
    can_record = may(viewer, c.RecordMatchStep)
    by_employer = viewer.role == "employer"
    placements: dict[str, list[dict]] = {}
    if can_record and items and not by_employer:
        for p in await directory.placements(services.pool, viewer.tenant.id, employer_id=employer_id):
            if p["ended_on"] is None:
                placements.setdefault(str(p["candidate_id"]), []).append(p)
    columns: dict[str, list[dict]] = {step: [] for step in COLUMNS}
    for item in items:
        vacancy = by_id.get(item["vacancy_id"])
        if vacancy is None:
            continue
        last = item["steps"][-1] if item["steps"] else {}
        open_ = can_record and vacancy["is_open"] and item["step"] not in ("placed", DECLINED)
        steps = next_steps(item["step"]) if open_ else []
        if by_employer:
            steps = [s for s in steps if s in EMPLOYER_STEPS]
        columns.setdefault(item["step"], []).append({
            **item, "name": names.get(UUID(item["candidate_id"]), ""), "vacancy": vacancy, "last": last,
            "next": steps, "can_decline": open_,
            "placements": placements.get(item["candidate_id"], []),
            "key": f"{item['vacancy_id']}-{item['candidate_id']}"})
    return {"columns": columns, "column_keys": COLUMNS, "scope": scope, "can_record": can_record,
            "links_candidate": viewer.role in ("agency", "auditor"),
            "decline_by": ("employer",) if by_employer else DECLINED_BY,
            "decline_reasons": DECLINE_REASONS, "today": date.today(), "idempotency": new_idempotency_key(),
            "errors": {}, "values": {}, "error_key": "", "error_form": "", "error_key_found": False,
            "employer_board_link": scope == "vacancy"}


def _vacancy_row(vacancy: Vacancy) -> dict[str, Any]:
    return {"vacancy_id": str(vacancy.id), "title": vacancy.title, "is_open": vacancy.is_open}


async def _vacancy_board(services: PageServices, viewer: Viewer, vacancy: Vacancy) -> dict[str, Any]:
    items = await matching.pipeline(services.pool, viewer.tenant.id, vacancy.id)
    for item in items:
        item["vacancy_id"] = str(vacancy.id)
    names = await directory.names(services.pool, viewer.tenant.id, [vacancy.employer_id])
    context = await _board(services, viewer, [_vacancy_row(vacancy)], items, vacancy.employer_id, "vacancy")
    context.update(vacancy=vacancy, employer_name=names.get(vacancy.employer_id, ""),
                   employer_id=str(vacancy.employer_id),
                   can_suggest=viewer.role == "agency" and vacancy.is_open)
    return context


async def _employer_board(services: PageServices, viewer: Viewer, employer: Employer) -> dict[str, Any]:
    rows = await directory.vacancies(services.pool, viewer.tenant.id, employer_id=employer.id)
    vacancies = [{"vacancy_id": str(v["vacancy_id"]), "title": v["title"], "is_open": v["status"] == "open"}
                 for v in rows]
    items = await matching.pipelines(services.pool, viewer.tenant.id, [v["vacancy_id"] for v in rows])
    context = await _board(services, viewer, vacancies, items, employer.id, "employer")
    context.update(vacancy=None, employer_name=employer.name, employer_id=str(employer.id), can_suggest=False)
    return context


def _board_page(services: PageServices, request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return page(services.templates, request, "pipeline_board.html", context,
                block="board" if wants_fragment(request) else None,
                status=status)


@get("/vacancies/{vacancy_id:str}/pipeline", guards=[roles(*BOARD_READERS)])
async def vacancy_board(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        vacancy_id: FromPath[str]) -> Response:
    await fresh(services, request, viewer, (matching.NAME, directory.NAME))
    vacancy = await get_aggregate(services, viewer, Vacancy, parse_id("vacancy", vacancy_id))
    return _board_page(services, request, await _vacancy_board(services, viewer, vacancy))


@get("/employers/{employer_id:str}/pipeline", guards=[roles(*BOARD_READERS)])
async def employer_board(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         employer_id: FromPath[str]) -> Response:
    await fresh(services, request, viewer, (matching.NAME, directory.NAME))
    employer = await get_aggregate(services, viewer, Employer, parse_id("employer", employer_id))
    return _board_page(services, request, await _employer_board(services, viewer, employer))


@post("/vacancies/{vacancy_id:str}/pipeline", guards=[may_issue(c.RecordMatchStep)])
async def record_step(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                      vacancy_id: FromPath[str]) -> Response:
    """A step of a card: introduced, trial, placed (with its placement) or
    declined (by whom and why, both required; an employer declines as itself).
    Back to the board it came from. An employer's step on another employer's
    vacancy is a 404, a step that is the agency's a 403 (the service decides)."""
    vacancy = await get_aggregate(services, viewer, Vacancy, parse_id("vacancy", vacancy_id))
    form = await Form.read(request)
    scope = "employer" if form.raw("board") == "employer" else "vacancy"
    candidate_id = form.ident("candidate_id")
    step = form.choice("step", (*PIPELINE_STEPS[1:], DECLINED))
    on = form.day("on")
    placement_id = by = reason = None
    if step == "placed" and viewer.role != "employer":  # the employer's is refused by the service (403)
        placement_id = form.ident("placement_id")
    if step == DECLINED:
        by = (form.choice("by", DECLINED_BY, required=False) or "employer" if viewer.role == "employer"
              else form.choice("by", DECLINED_BY))
        reason = form.choice("reason", DECLINE_REASONS)
    target = (f"/employers/{vacancy.employer_id}/pipeline" if scope == "employer"
              else f"/vacancies/{vacancy.id}/pipeline")

    async def show(state: FormState, status: int) -> Response:
        context = await _board_context(services, viewer, vacancy, scope)
        if state.saved:
            return _board_page(services, request, context)
        key, which = f"{vacancy.id}-{form.raw('candidate_id')}", form.raw("form")
        found = any(card["key"] == key and (card["next"] if which == "advance" else card["can_decline"])
                    for cards in context["columns"].values() for card in cards)
        errors = dict(state.errors) if found else {"_form": next(iter(state.errors.values()))}
        context.update(errors=errors, values=dict(state.values), error_key=key, error_form=which,
                       error_key_found=found)
        return _board_page(services, request, context, status=status)

    return await answer(services, request, viewer, form, c.RecordMatchStep(
        vacancy_id=vacancy.id, candidate_id=candidate_id, step=step, on=on,  # type: ignore[arg-type]
        placement_id=placement_id, by=by, reason=reason), to=target + "#board", show=show, field="step",
        swaps=True, read_models=(matching.NAME,))


async def _board_context(services: PageServices, viewer: Viewer, vacancy: Vacancy, scope: str) -> dict[str, Any]:
    if scope == "employer":
        employer = await get_aggregate(services, viewer, Employer, vacancy.employer_id)
        return await _employer_board(services, viewer, employer)
    return await _vacancy_board(services, viewer, vacancy)


# -- on the employer's page ------------------------------------------------------------

async def employer_section(services: PageServices, viewer: Viewer, employer: Employer) -> dict[str, Any] | None:
    """The pipeline section of employer.html (web/pages/assembly.py): how many
    of the employer's matches stand at each step, and the way to its board."""
    if viewer.role not in BOARD_READERS:
        return None
    rows = await directory.vacancies(services.pool, viewer.tenant.id, employer_id=employer.id)
    items = await matching.pipelines(services.pool, viewer.tenant.id, [v["vacancy_id"] for v in rows])
    counts = {step: 0 for step in COLUMNS}
    for item in items:
        counts[item["step"]] = counts.get(item["step"], 0) + 1
    return {"employer_id": str(employer.id), "counts": counts, "total": len(items)}

