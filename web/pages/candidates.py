"""Candidates: the searchable list, registration and the profile, with the
person's employments with the agency (agency only): a form to start one and
one to end each.

Lists come from the directory read model (names and competences only). A
profile is read through the ledger, which decides who may see it; support
needs (special-category data) are shown only to the agency and to the
person themselves (web.api.views.SUPPORT_NEEDS_READERS).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.candidate import Candidate
from domain.employment import Employment
from domain.values import EMPLOYMENT_END_REASONS, EMPLOYMENT_KINDS, TARGET_GROUPS
from projections import directory, duties
from service import commands as c
from service.errors import PermissionDenied
from web.api.views import SUPPORT_NEEDS_READERS
from web.ids import parse_id
from web.pages.answer import FormState, answer
from web.pages.common import (
    PageServices,
    fragment_or_page,
    fresh,
    get as get_aggregate,
    may,
    new_idempotency_key,
    record_special_category_read,
)
from web.pages.forms import Form
from web.pages.render import page
from web.pages.viewer import Viewer, may_issue, roles

SEARCH_MAX = 100
PAGE_SIZE = 50  # rows per page of the list (search-as-you-type answers stay small)
LIST_READERS = ("agency", "auditor")
PROFILE_READERS = ("agency", "auditor", "employee")  # an employee: their own only
OWN_PROFILE_READERS = ("employee",)


@get("/candidates", name="candidates", guards=[roles(*LIST_READERS)])
async def candidates(request: Request, services: NamedDependency[PageServices],
                     viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    q = (request.query_params.get("q") or "")[:SEARCH_MAX]
    raw_page = request.query_params.get("page") or "1"
    page_no = min(int(raw_page),
                  10_000) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 9 and int(raw_page) > 0 else 1
    rows, total = await directory.search_candidates(services.pool, viewer.tenant.id, search=q, limit=PAGE_SIZE,
                                                    offset=(page_no - 1) * PAGE_SIZE)
    first = (page_no - 1) * PAGE_SIZE + 1
    capped = total > directory.COUNT_CAP  # counted up to the cap: "more than 1,000"
    return fragment_or_page(services.templates, request, "candidates.html", {
        "candidates": rows, "q": q, "can_register": may(viewer, c.RegisterCandidate), "total": total,
        "capped": capped, "cap": directory.COUNT_CAP, "page_no": page_no, "first": first,
        "last": first + len(rows) - 1, "page_size": PAGE_SIZE,
        "has_next": len(rows) == PAGE_SIZE if capped else first + len(rows) - 1 < total,
    }, block="results")


async def _candidate_form(services: PageServices, request: Request, values: dict | None = None,
                          errors: dict | None = None,
                          status: int = 200) -> Response:
    return page(services.templates, request, "candidate_new.html", {
        "target_groups": TARGET_GROUPS, "values": values or {}, "errors": errors or {},
        "idempotency": new_idempotency_key(),
    }, status=status)


@get("/candidates/new", guards=[may_issue(c.RegisterCandidate)])
async def new_candidate(request: Request, services: NamedDependency[PageServices],
                        viewer: NamedDependency[Viewer]) -> Response:
    return await _candidate_form(services, request)


@post("/candidates", guards=[may_issue(c.RegisterCandidate)])
async def register_candidate(request: Request, services: NamedDependency[PageServices],
                             viewer: NamedDependency[Viewer]) -> Response:
    form = await Form.read(request)
    fields = dict(
        full_name=form.text("full_name"), date_of_birth=form.day("date_of_birth"),
        target_group=form.choice("target_group", TARGET_GROUPS),
        competences=form.competences("competences", required=True),
        support_needs=form.text("support_needs", required=False),
        benefit_since=form.day("benefit_since", required=False),
        status_holder=form.flag("status_holder"))

    async def show(state: FormState, status: int) -> Response:
        return await _candidate_form(services, request, dict(state.values), dict(state.errors), status)

    return await answer(services, request, viewer, form, c.RegisterCandidate(**fields), show=show,  # type: ignore[arg-type]
                        to=lambda result: f"/candidates/{result.body['id']}")


async def profile(services: PageServices, request: Request, viewer: Viewer, candidate_id: str,
                  errors: dict | None = None, values: dict | None = None, status: int = 200,
                  employment_state: FormState | None = None) -> Response:
    """The profile; `errors`, `values`: of the support needs form after a
    refused change; `employment_state`: of an employment form (web/pages/employments.py)."""
    ident = parse_id("candidate", candidate_id)
    candidate: Candidate = await get_aggregate(services, viewer, Candidate, ident)
    placements = await directory.placements(services.pool, viewer.tenant.id, candidate_id=ident)
    shows_needs = viewer.role in SUPPORT_NEEDS_READERS
    if shows_needs:
        await record_special_category_read(services, request, viewer, candidate.id, ["support_needs"])
    return page(services.templates, request, "candidate.html", {
        "candidate": candidate,
        # Facts about the person that only the agency and auditors work with.
        "shows_facts": viewer.role in ("agency", "auditor"),
        "support_needs": candidate.support_needs if shows_needs else None,
        "can_state_needs": shows_needs and may(viewer, c.StateSupportNeeds),
        "placements": placements, "errors": errors or {}, "values": values or {},
        "idempotency": new_idempotency_key(), "today": date.today(),
        **await employments_section(services, request, viewer, candidate, employment_state),
    }, status=status)


@get("/candidates/{candidate_id:str}", name="candidate", guards=[roles(*PROFILE_READERS)])
async def candidate_profile(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                            candidate_id: FromPath[str]) -> Response:
    await fresh(services, request, viewer)
    return await profile(services, request, viewer, candidate_id)


@get("/profile", name="profile", guards=[roles(*OWN_PROFILE_READERS)])
async def own_profile(request: Request, viewer: NamedDependency[Viewer]) -> Response:
    if viewer.actor.candidate_id is None:
        raise PermissionDenied("no candidate is linked to this login")
    return Response(b"", status_code=303, headers={"Location": f"/candidates/{viewer.actor.candidate_id}"})


@post("/candidates/{candidate_id:str}/support-needs", guards=[may_issue(c.StateSupportNeeds)])
async def state_support_needs(request: Request, services: NamedDependency[PageServices],
                              viewer: NamedDependency[Viewer],
                              candidate_id: FromPath[str]) -> Response:
    ident = parse_id("candidate", candidate_id)
    await get_aggregate(services, viewer, Candidate, ident)  # visible, else 404
    form = await Form.read(request)
    needs = form.text("support_needs", required=False)

    async def show(state: FormState, status: int) -> Response:
        return await profile(services, request, viewer, candidate_id, dict(state.errors), dict(state.values), status)

    return await answer(services, request, viewer, form, c.StateSupportNeeds(candidate_id=ident, support_needs=needs),
                        to=f"/candidates/{candidate_id}", show=show, field="support_needs")


# -- the person's employments with the agency ----------------------------------------
# The legal employer's duties follow the employment (domain/employment.py): its
# secondments start from it (the placement form with the employment), and its
# duties show with its secondments' (the placement page) and in the duties list.

async def employments_section(services: PageServices, request: Request, viewer: Viewer, candidate: Candidate,
                  state: FormState | None = None) -> dict[str, Any]:
    """`employments_section` for candidate.html: None for whoever may not
    start one (everyone but the agency). `state`: a form after a refused
    change (`name` "start", or "end-<employment id>")."""
    if not may(viewer, c.StartEmployment):
        return {"employments_section": None}
    await fresh(services, request, viewer, (duties.NAME,))
    found = await duties.employments_of(services.pool, viewer.tenant.id, candidate.id)
    return {"employments_section": {
        "candidate_id": str(candidate.id), "employments": found, "kinds": EMPLOYMENT_KINDS,
        "end_reasons": EMPLOYMENT_END_REASONS, "today": date.today(), "idempotency": new_idempotency_key(),
        "form": state.name if state else "", "errors": dict(state.errors) if state else {},
        "form_values": dict(state.values) if state else {},
    }}


@post("/candidates/{candidate_id:str}/employments", guards=[may_issue(c.StartEmployment)])
async def start_employment(request: Request, services: NamedDependency[PageServices],
                           viewer: NamedDependency[Viewer], candidate_id: FromPath[str]) -> Response:
    ident = parse_id("candidate", candidate_id)
    await get_aggregate(services, viewer, Candidate, ident)  # visible, else 404
    form = await Form.read(request)
    fields = dict(candidate_id=ident, starts_on=form.day("starts_on"), kind=form.choice("kind", EMPLOYMENT_KINDS),
                  ends_on=form.day("ends_on", required=False))

    async def show(state: FormState, status: int) -> Response:
        return await profile(services, request, viewer, candidate_id, status=status,
                             employment_state=FormState(state.errors, state.values, "start"))

    return await answer(services, request, viewer, form, c.StartEmployment(**fields),  # type: ignore[arg-type]
                        to=f"/candidates/{candidate_id}#employments", show=show, field="starts_on",
                        read_models=(duties.NAME,))


@post("/employments/{employment_id:str}/permanent", guards=[may_issue(c.MakeEmploymentPermanent)])
async def make_employment_permanent(request: Request, services: NamedDependency[PageServices],
                                    viewer: NamedDependency[Viewer], employment_id: FromPath[str]) -> Response:
    """Fixed-term to permanent (progression, docs/outcomes.md)."""
    employment = await get_aggregate(services, viewer, Employment, parse_id("employment", employment_id))
    form = await Form.read(request)
    on = form.day("on")

    async def show(state: FormState, status: int) -> Response:
        return await profile(services, request, viewer, str(employment.candidate_id), status=status,
                             employment_state=FormState(state.errors, state.values, f"permanent-{employment.id}"))

    return await answer(services, request, viewer, form,
                        lambda: c.MakeEmploymentPermanent(employment_id=employment.id, on=on),  # type: ignore[arg-type]
                        to=f"/candidates/{employment.candidate_id}#employments", show=show, field="on",
                        read_models=(duties.NAME,))


@post("/employments/{employment_id:str}/end", guards=[may_issue(c.EndEmployment)])
async def end_employment(request: Request, services: NamedDependency[PageServices],
                         viewer: NamedDependency[Viewer], employment_id: FromPath[str]) -> Response:
    employment = await get_aggregate(services, viewer, Employment, parse_id("employment", employment_id))
    form = await Form.read(request)
    fields = dict(employment_id=employment.id, ends_on=form.day("ends_on"),
                  reason=form.choice("reason", EMPLOYMENT_END_REASONS))

    async def show(state: FormState, status: int) -> Response:
        return await profile(services, request, viewer, str(employment.candidate_id), status=status,
                             employment_state=FormState(state.errors, state.values, f"end-{employment.id}"))

    return await answer(services, request, viewer, form, c.EndEmployment(**fields),  # type: ignore[arg-type]
                        to=f"/candidates/{employment.candidate_id}#employments", show=show, field="ends_on",
                        read_models=(duties.NAME,))
