"""Outcomes beyond euros on the pages (issue 16; docs/outcomes.md).

On the placement page (web/templates/_placement_outcomes.html):
- "Progression": the timeline (projections/progression.py), and for the
  agency the forms for a new role or pay scale, a training completed and
  fixed-term to permanent;
- "My check-in" for the person: the open check-ins with one form each (a
  fieldset per statement with five labelled radio buttons, an optional
  remark), and their sharing choice; for the agency (their coach) every
  answer with its remark; for the employer the scores only if the person
  chose to share them; for the auditor when each was answered.

On the employer and contract pages (_outcome_figures.html): progression and
employee satisfaction, each withheld below 5 people (domain/small_groups.py).

Every form works without JavaScript (303 back to the page, errors next to
the field on the page).
"""
from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.placement import Placement
from domain.small_groups import MIN_GROUP
from domain.voice import MOMENTS, QUESTIONS, SCORE_MAX, SCORE_MIN, SHARING
from projections import progression, voice
from service import commands as c
from service.handlers.voice import VOICE_READERS, read_voice
from web.api.voice_views import progression_view, voice_view
from web.ids import parse_id
from web.pages.answer import FormState, PageRenderer, answer
from web.pages.common import PageServices, fresh, get as get_aggregate, may, new_idempotency_key
from web.pages.common import record_special_category_read
from web.pages.forms import Form
from web.pages.viewer import Viewer, may_issue

TIMELINE_READERS = frozenset({"agency", "auditor", "employer", "employee"})
FIGURE_READERS = frozenset({"agency", "auditor", "employer", "authority"})
SCORES = tuple(str(n) for n in range(SCORE_MIN, SCORE_MAX + 1))
READ_MODELS = (progression.NAME, voice.NAME)


# -- the placement page ---------------------------------------------------------------

async def placement_section(services: PageServices, request: Request, viewer: Viewer, placement: Placement,
                            state: FormState | None = None) -> dict[str, Any]:
    """`outcomes_section` for placement.html (None for the contracting
    authority), with the state of one of its forms (`state.name`)."""
    if viewer.role not in TIMELINE_READERS:
        return {"outcomes_section": None}
    state = state or FormState()
    await fresh(services, request, viewer, READ_MODELS)
    found = await progression.placement_progression(services.pool, viewer.tenant.id, placement.id)
    timeline = progression_view(placement.id, found, viewer.role)
    check_ins = None
    if viewer.role in VOICE_READERS:
        placement, record, history = await asyncio.to_thread(
            read_voice, services.ledger, viewer.tenant, viewer.actor, placement.id)
        check_ins = voice_view(placement, record, history, viewer.role, services.ledger.clock.today())
        if viewer.role == "agency" and any(ci.get("remark") for ci in check_ins["check_ins"]):
            await record_special_category_read(services, request, viewer, placement.candidate_id, ["remark"])
    active = placement.is_active
    return {"outcomes_section": {
        "placement_id": str(placement.id), "role": viewer.role, "progression": timeline, "voice": check_ins,
        "questions": QUESTIONS, "scores": SCORES, "sharing_choices": SHARING, "today": services.ledger.clock.today(),
        "can_record": may(viewer, c.ChangeRole) and active,
        "can_make_permanent": (may(viewer, c.MakePlacementPermanent) and active and placement.employment_id is None
                               and not placement.permanent_contract and placement.made_permanent_on is None),
        "can_answer": may(viewer, c.AnswerCheckIn), "can_share": may(viewer, c.ChooseCheckInSharing),
        "form": state.name, "errors": dict(state.errors), "form_values": dict(state.values),
        "idempotency": new_idempotency_key(),
    }}


async def _run(services: PageServices, request: Request, viewer: Viewer, placement_id: str, form: Form, name: str,
               make: Any, field: str, anchor: str, placement_page: PageRenderer) -> Response:
    placement = await get_aggregate(services, viewer, Placement, parse_id("placement", placement_id))

    async def show(state: FormState, status: int) -> Response:
        return await placement_page(services, request, viewer, placement.id, forms={"outcomes": state},
                                    status=status)

    return await answer(services, request, viewer, form, lambda: make(placement.id),
                        to=f"/placements/{placement.id}#{anchor}", show=show, field=field, name=name)


@post("/placements/{placement_id:str}/role", guards=[may_issue(c.ChangeRole)])
async def change_role(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                      placement_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    scale, role = form.text("scale"), form.text("role", required=False)
    effective_on = form.day("effective_on")
    return await _run(services, request, viewer, placement_id, form, "role", lambda pid: c.ChangeRole(
        placement_id=pid, scale=scale, role=role or None, effective_on=effective_on),  # type: ignore[arg-type]
        "scale", "progression", placement_page)


@post("/placements/{placement_id:str}/trainings", guards=[may_issue(c.CompleteTraining)])
async def complete_training(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                            placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    training, completed_on = form.text("training"), form.day("completed_on")
    return await _run(services, request, viewer, placement_id, form, "training", lambda pid: c.CompleteTraining(
        placement_id=pid, training=training, completed_on=completed_on),  # type: ignore[arg-type]
        "training", "progression", placement_page)


@post("/placements/{placement_id:str}/permanent", guards=[may_issue(c.MakePlacementPermanent)])
async def make_permanent(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         placement_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    on = form.day("on")
    return await _run(services, request, viewer, placement_id, form, "permanent",
                      lambda pid: c.MakePlacementPermanent(placement_id=pid, on=on),  # type: ignore[arg-type]
                      "on", "progression", placement_page)


@post("/placements/{placement_id:str}/check-ins", guards=[may_issue(c.AnswerCheckIn)])
async def answer_check_in(request: Request, services: NamedDependency[PageServices],
                          viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                          placement_page: NamedDependency[PageRenderer]) -> Response:
    """The person's own check-in: a score per statement, an optional remark."""
    form = await Form.read(request)
    moment = form.choice("moment", tuple(str(m) for m in MOMENTS))
    scores = {q: form.choice(q, SCORES) for q in QUESTIONS}
    remark = form.text("remark", required=False)
    return await _run(services, request, viewer, placement_id, form, f"check-in-{moment}",
                      lambda pid: c.AnswerCheckIn(placement_id=pid, moment=int(moment),  # type: ignore[arg-type]
                                                  answers={q: int(v) for q, v in scores.items()},  # type: ignore[arg-type]
                                                  remark=remark),
                      "moment", "check-ins", placement_page)


@post("/placements/{placement_id:str}/check-ins/sharing", guards=[may_issue(c.ChooseCheckInSharing)])
async def choose_sharing(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         placement_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    sharing = form.choice("sharing", SHARING)
    return await _run(services, request, viewer, placement_id, form, "sharing",
                      lambda pid: c.ChooseCheckInSharing(placement_id=pid, sharing=sharing),  # type: ignore[arg-type]
                      "sharing", "check-ins", placement_page)


# -- the employer and contract pages ------------------------------------------------------

async def figures_section(services: PageServices, viewer: Viewer, *, employer_id: UUID | None = None,
                          contract_id: UUID | None = None) -> dict[str, Any]:
    """`outcome_figures` for employer.html and contract.html (the caller has
    checked the viewer sees the employer or contract): progression in total
    and per cohort, employee satisfaction in total and per quarter."""
    if viewer.role not in FIGURE_READERS:
        return {"outcome_figures": None}
    tenant = viewer.tenant.id
    scope = {"employer_id": employer_id, "contract_id": contract_id}
    total = await progression.progression_figures(services.pool, tenant, by="all", **scope)
    cohorts = await progression.progression_figures(services.pool, tenant, by="cohort", **scope)
    return {"outcome_figures": {
        "progression": total[0] if total else None, "cohorts": cohorts,
        "satisfaction": await voice.satisfaction(services.pool, tenant, **scope),
        "quarters": await voice.satisfaction_by_quarter(services.pool, tenant, **scope),
        "questions": QUESTIONS, "min_group": MIN_GROUP,
    }}


HANDLERS = [change_role, complete_training, make_permanent, answer_check_in, choose_sharing]
