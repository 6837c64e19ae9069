"""Vacancies: open one with its competence requirements, match candidates.

Matching suggests candidates by competences only (what someone can
contribute, never their limitations): the more required competences a
candidate has, the higher they are listed; optional ones break ties.
"""
from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.vacancy import Vacancy
from projections import directory
from service import commands as c
from service.errors import Conflict
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
from web.pages.render import page
from web.pages.viewer import Viewer, may_issue, roles

SUGGESTIONS = 10
READERS = ("agency", "auditor", "employer")


def _employer_scope(viewer: Viewer) -> dict[str, Any]:
    return {"employer_id": viewer.actor.employer_id} if viewer.role == "employer" else {}


@get("/vacancies", name="vacancies", guards=[roles(*READERS)])
async def vacancies(request: Request, services: NamedDependency[PageServices],
                    viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    rows = await directory.vacancies(services.pool, viewer.tenant.id, **_employer_scope(viewer))
    return page(services.templates, request, "vacancies.html",
                {"vacancies": rows, "can_open": may(viewer, c.OpenVacancy)})


async def _vacancy_form(services: PageServices, request: Request, viewer: Viewer, values: dict | None = None,
                        errors: dict | None = None, status: int = 200) -> Response:
    employers = await directory.employers(services.pool, viewer.tenant.id, **_employer_scope(viewer))
    return page(services.templates, request, "vacancy_new.html", {
        "employers": employers, "employer_fixed": viewer.role == "employer",
        "values": {"hours_per_week": "24", **(values or {})},
        "errors": errors or {}, "idempotency": new_idempotency_key(),
    }, status=status)


@get("/vacancies/new", guards=[may_issue(c.OpenVacancy)])
async def new_vacancy(request: Request, services: NamedDependency[PageServices],
                      viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    return await _vacancy_form(services, request, viewer, {"employer_id": request.query_params.get("employer", "")})


@post("/vacancies", guards=[may_issue(c.OpenVacancy)])
async def open_vacancy(request: Request, services: NamedDependency[PageServices],
                       viewer: NamedDependency[Viewer]) -> Response:
    form = await Form.read(request)
    # An employer opens vacancies for itself only, whatever the form says.
    employer_id = viewer.actor.employer_id if viewer.role == "employer" else form.ident("employer_id")
    fields = dict(
        employer_id=employer_id, title=form.text("title"),
        required_competences=form.competences("required_competences", required=True),
        optional_competences=form.competences("optional_competences"),
        hours_per_week=form.decimal("hours_per_week"), region=form.text("region", required=False) or None)

    async def show(state: FormState, status: int) -> Response:
        return await _vacancy_form(services, request, viewer, dict(state.values), dict(state.errors), status)

    return await answer(services, request, viewer, form, c.OpenVacancy(**fields), show=show,  # type: ignore[arg-type]
                        to=lambda result: f"/vacancies/{result.body['id']}")


def rank_candidates(vacancy: Vacancy, candidates: list[dict]) -> list[dict]:
    """Candidates with at least one wanted competence, best first."""
    required = {x.casefold() for x in vacancy.required_competences}
    optional = {x.casefold() for x in vacancy.optional_competences}
    ranked = []
    for row in candidates:
        has = {x.casefold() for x in row["competences"]}
        score = (len(required & has), len(optional & has))
        if score != (0, 0):
            ranked.append({**row, "required_met": score[0], "optional_met": score[1],
                           "required_total": len(required)})
    ranked.sort(key=lambda r: (-r["required_met"], -r["optional_met"], r["full_name"]))
    return ranked


async def _vacancy_page(services: PageServices, request: Request, viewer: Viewer, vacancy_id: str,
                        errors: dict | None = None,
                        status: int = 200, values: dict | None = None) -> Response:
    ident = parse_id("vacancy", vacancy_id)
    vacancy: Vacancy = await get_aggregate(services, viewer, Vacancy, ident)
    names = await directory.names(services.pool, viewer.tenant.id, [vacancy.employer_id])
    matched: list[dict] = []
    suggestions: list[dict] = []
    sees_matches = viewer.role in ("agency", "auditor")  # as web.api.views.vacancy_view
    if sees_matches:
        matched = await directory.candidates_by_id(services.pool, viewer.tenant.id,
                                                   list(vacancy.matched_candidate_ids))
    can_match = may(viewer, c.MatchCandidate) and vacancy.is_open
    if can_match:
        already = set(vacancy.matched_candidate_ids)
        everyone = await directory.candidates(services.pool, viewer.tenant.id)
        suggestions = [r for r in rank_candidates(vacancy, everyone) if r["candidate_id"] not in already]
        suggestions = suggestions[:SUGGESTIONS]
    return page(services.templates, request, "vacancy.html", {
        "vacancy": vacancy, "employer_name": names.get(vacancy.employer_id, ""),
        "sees_matches": sees_matches, "matched": matched, "suggestions": suggestions,
        "can_match": can_match, "can_start": may(viewer, c.StartPlacement) and vacancy.is_open,
        "can_edit": may(viewer, c.EditVacancy) and vacancy.is_open,
        "can_close": may(viewer, c.CloseVacancy) and vacancy.is_open,
        "errors": errors or {}, "values": values or {}, "idempotency": new_idempotency_key(),
    }, status=status)


@get("/vacancies/{vacancy_id:str}", name="vacancy", guards=[roles(*READERS)])
async def vacancy_detail(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         vacancy_id: FromPath[str]) -> Response:
    await fresh(services, request, viewer)
    return await _vacancy_page(services, request, viewer, vacancy_id)


@post("/vacancies/{vacancy_id:str}/matches", guards=[may_issue(c.MatchCandidate)])
async def match_candidate(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          vacancy_id: FromPath[str]) -> Response:
    ident = parse_id("vacancy", vacancy_id)
    await get_aggregate(services, viewer, Vacancy, ident)  # visible, else 404
    form = await Form.read(request)
    candidate_id = form.ident("candidate_id")

    async def show(state: FormState, status: int) -> Response:
        return await _vacancy_page(services, request, viewer, vacancy_id, dict(state.errors), status)

    command = c.MatchCandidate(vacancy_id=ident, candidate_id=candidate_id)  # type: ignore[arg-type]
    return await answer(services, request, viewer, form, command,
                        to=f"/vacancies/{vacancy_id}", show=show, field="candidate_id")


# -- changing and closing ----------------------------------------------------------

def _edit_values(vacancy: Vacancy) -> dict[str, str]:
    return {"title": vacancy.title, "required_competences": ", ".join(vacancy.required_competences),
            "optional_competences": ", ".join(vacancy.optional_competences),
            "hours_per_week": str(vacancy.hours_per_week), "region": vacancy.region or ""}


async def _edit_form(services: PageServices, request: Request, viewer: Viewer, vacancy: Vacancy, values: dict[str, str],
                     errors: dict | None = None, status: int = 200) -> Response:
    names = await directory.names(services.pool, viewer.tenant.id, [vacancy.employer_id])
    return page(services.templates, request, "vacancy_edit.html", {
        "vacancy": vacancy, "employer_name": names.get(vacancy.employer_id, ""), "values": values,
        "errors": errors or {}, "idempotency": new_idempotency_key(),
    }, status=status)


@get("/vacancies/{vacancy_id:str}/edit", guards=[may_issue(c.EditVacancy)])
async def edit_vacancy_form(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer], vacancy_id: FromPath[str]) -> Response:
    vacancy: Vacancy = await get_aggregate(services, viewer, Vacancy, parse_id("vacancy", vacancy_id))
    if not vacancy.is_open:
        raise Conflict("the vacancy is not open any more")
    return await _edit_form(services, request, viewer, vacancy, _edit_values(vacancy))


@post("/vacancies/{vacancy_id:str}/edit", guards=[may_issue(c.EditVacancy)])
async def edit_vacancy(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       vacancy_id: FromPath[str]) -> Response:
    ident = parse_id("vacancy", vacancy_id)
    vacancy: Vacancy = await get_aggregate(services, viewer, Vacancy, ident)  # visible, else 404
    form = await Form.read(request)
    fields = dict(
        title=form.text("title"), required_competences=form.competences("required_competences", required=True),
        optional_competences=form.competences("optional_competences"),
        hours_per_week=form.decimal("hours_per_week"), region=form.text("region", required=False))

    async def show(state: FormState, status: int) -> Response:
        return await _edit_form(services, request, viewer, vacancy, dict(state.values), dict(state.errors), status)

    return await answer(services, request, viewer, form, c.EditVacancy(vacancy_id=ident, **fields),  # type: ignore[arg-type]
                        to=f"/vacancies/{vacancy_id}", show=show)


@post("/vacancies/{vacancy_id:str}/close", guards=[may_issue(c.CloseVacancy)])
async def close_vacancy(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        vacancy_id: FromPath[str]) -> Response:
    """Closing asks for a tick in "yes, close it" (the confirmation works
    without JavaScript); the reason is optional."""
    ident = parse_id("vacancy", vacancy_id)
    await get_aggregate(services, viewer, Vacancy, ident)  # visible, else 404
    form = await Form.read(request)
    reason = form.text("close_reason", required=False) or None
    if not form.flag("confirm"):
        form.error("confirm", "confirm")

    async def show(state: FormState, status: int) -> Response:
        errors = dict(state.errors)
        if "reason" in errors:  # the service's name for the form's close_reason
            errors["close_reason"] = errors.pop("reason")
        return await _vacancy_page(services, request, viewer, vacancy_id, errors, status, dict(state.values))

    return await answer(services, request, viewer, form, c.CloseVacancy(vacancy_id=ident, reason=reason),
                        to=f"/vacancies/{vacancy_id}", show=show, field="close_reason")
