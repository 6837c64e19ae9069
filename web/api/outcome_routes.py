"""Outcomes beyond euros (/api/v1, issue 16): progression and the employee's voice.

Progression (the agency records; projections/progression.py reads):
`POST /placements/{id}/role`, `/trainings`, `/permanent`,
`POST /employments/{id}/permanent`; `GET /placements/{id}/progression` (a
placement's timeline), `GET /employers/{id}/progression`,
`GET /contracts/{id}/progression` (figures per cohort and in total, withheld
below 5 people).

The employee's voice (the employee answers; projections/voice.py reads the
figures): `POST /placements/{id}/check-ins`, `POST /placements/{id}/check-ins/sharing`,
`GET /placements/{id}/check-ins` (each role its share: web/api/voice_views.py),
`GET /employers/{id}/satisfaction`, `GET /contracts/{id}/satisfaction`
(withheld below 5 people).
"""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

import msgspec
from asyncpg import Pool
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.placement import Placement
from domain.voice import QUESTIONS, REMARK_MAX_LEN
from projections import progression, voice
from service import commands as c
from service.errors import NotFound
from service.handlers.voice import read_voice
from service.ledger import Ledger
from web.api import answers as a
from web.api.contract import MinPosition
from web.api.auth import Principal, v1_router
from web.api.read_routes import _fresh
from web.api.routes import correlation_id, run
from web.api.schemas import Body
from web.api.voice_views import progression_view, voice_view
from web.ids import parse_id

sync = {"sync_to_thread": True}
Scale = Annotated[str, msgspec.Meta(max_length=40)]
Role = Annotated[str, msgspec.Meta(max_length=80)]
Training = Annotated[str, msgspec.Meta(max_length=100)]
Remark = Annotated[str, msgspec.Meta(max_length=REMARK_MAX_LEN)]
Short = Annotated[str, msgspec.Meta(max_length=20)]

# Who reads progression figures and a placement's timeline; the contracting
# authority reads figures of its contracts, never a person's timeline.
TIMELINE_READERS = frozenset({"agency", "auditor", "employer", "employee"})
FIGURE_READERS = frozenset({"agency", "auditor", "employer", "authority"})


class RoleIn(Body):
    scale: Scale
    effective_on: date
    role: Role | None = None


class TrainingIn(Body):
    training: Training
    completed_on: date


class PermanentIn(Body):
    on: date


class ScoresIn(Body):
    supported: int
    work_suits: int
    can_ask: int
    want_to_stay: int


class CheckInAnswerIn(Body):
    moment: int
    answers: ScoresIn
    remark: Remark = ""


class SharingIn(Body):
    sharing: Short


def _placement(raw: str) -> Any:
    return parse_id("placement", raw)


# -- progression ------------------------------------------------------------------------
@post("/placements/{placement_id:str}/role", **sync)
def change_role(placement_id: FromPath[str], data: JSONBody[RoleIn], principal: NamedDependency[Principal],
                request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """A new role or pay scale: `scale` a code such as "schaal 6" or "band B"
    (an amount is refused), `role` an optional title (sealed: personal data)."""
    return run(ledger, principal, request, c.ChangeRole(
        placement_id=_placement(placement_id), scale=data.scale, effective_on=data.effective_on, role=data.role))


@post("/placements/{placement_id:str}/trainings", **sync)
def complete_training(placement_id: FromPath[str], data: JSONBody[TrainingIn], principal: NamedDependency[Principal],
                      request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """A training, course or certificate completed while placed."""
    return run(ledger, principal, request, c.CompleteTraining(
        placement_id=_placement(placement_id), training=data.training, completed_on=data.completed_on))


@post("/placements/{placement_id:str}/permanent", status_code=200, **sync)
def make_placement_permanent(placement_id: FromPath[str], data: JSONBody[PermanentIn],
                             principal: NamedDependency[Principal], request: Request,
                             ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """Fixed-term to permanent, for a placement that is its own employment
    (a secondment's employment: `POST /employments/{id}/permanent`)."""
    return run(ledger, principal, request, c.MakePlacementPermanent(placement_id=_placement(placement_id),
                                                                     on=data.on))


@post("/employments/{employment_id:str}/permanent", status_code=200, **sync)
def make_employment_permanent(employment_id: FromPath[str], data: JSONBody[PermanentIn],
                              principal: NamedDependency[Principal], request: Request,
                              ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """Fixed-term to permanent: from `on` the employment has no planned end."""
    return run(ledger, principal, request, c.MakeEmploymentPermanent(
        employment_id=parse_id("employment", employment_id), on=data.on))


@get("/placements/{placement_id:str}/progression")
async def placement_progression(placement_id: FromPath[str], request: Request,
                                principal: NamedDependency[Principal], ledger: NamedDependency[Ledger],
                                pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.PlacementProgression]:
    """The placement's timeline, oldest first: started, hours, role (scale),
    training, permanent, extended, ended. Role titles and training names only
    for the agency and the person themselves."""
    ident = _placement(placement_id)
    if principal.actor.role not in TIMELINE_READERS:
        raise NotFound("placement", ident)
    await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, Placement, ident)
    headers = await _fresh(request, pool, principal, (progression.NAME,))
    found = await progression.placement_progression(pool, principal.tenant.id, ident)
    return Response(progression_view(ident, found, principal.actor.role), headers=headers)


async def _figures_of(request: Request, principal: Principal, ledger: Ledger, pool: Pool, kind: str, raw: str,
                      names: tuple[str, ...]) -> tuple[Any, dict[str, str]]:
    ident = parse_id(kind, raw)
    if principal.actor.role not in FIGURE_READERS:
        raise NotFound(kind, ident)
    await asyncio.to_thread(ledger.get, principal.tenant, principal.actor,
                            Employer if kind == "employer" else SocialReturnContract, ident)
    return ident, await _fresh(request, pool, principal, names)


async def _progression(pool: Pool, tenant_id: Any, **scope: Any) -> dict[str, Any]:
    total = await progression.progression_figures(pool, tenant_id, by="all", **scope)
    cohorts = await progression.progression_figures(pool, tenant_id, by="cohort", **scope)
    empty = progression.group_figures({"grp": "all", "people": 0, "placements": 0, "hours_up": 0, "fixed_term": 0,
                                       "made_permanent": 0, "direct_employment": 0, "role_changed": 0,
                                       "trained": 0, "trainings": 0})
    return {"total": total[0] if total else empty, "by_cohort": cohorts}


@get("/employers/{employer_id:str}/progression")
async def employer_progression(employer_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                               ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.Progression]:
    """Progression of the employer's placements, in total and per cohort (the
    quarter they started); each group withheld below 5 people."""
    ident, headers = await _figures_of(request, principal, ledger, pool, "employer", employer_id,
                                       (progression.NAME,))
    return Response({"employer_id": ident, **await _progression(pool, principal.tenant.id, employer_id=ident)},
                    headers=headers)


@get("/contracts/{contract_id:str}/progression")
async def contract_progression(contract_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                               ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.Progression]:
    """Progression of the placements that count toward the contract, in total
    and per cohort; each group withheld below 5 people."""
    ident, headers = await _figures_of(request, principal, ledger, pool, "contract", contract_id,
                                       (progression.NAME,))
    return Response({"contract_id": ident, **await _progression(pool, principal.tenant.id, contract_id=ident)},
                    headers=headers)


# -- the employee's voice -------------------------------------------------------------------
@post("/placements/{placement_id:str}/check-ins", **sync)
def answer_check_in(placement_id: FromPath[str], data: JSONBody[CheckInAnswerIn],
                    principal: NamedDependency[Principal], request: Request,
                    ledger: NamedDependency[Ledger]) -> Response[a.VoiceChanged]:
    """The employee's own check-in at `moment` months (1, 3, 6 or 12): a score
    from 1 to 5 for each statement, and an optional remark. Only the employee
    of the placement answers."""
    return run(ledger, principal, request, c.AnswerCheckIn(
        placement_id=_placement(placement_id), moment=data.moment,
        answers={q: getattr(data.answers, q) for q in QUESTIONS}, remark=data.remark))


@post("/placements/{placement_id:str}/check-ins/sharing", status_code=200, **sync)
def choose_sharing(placement_id: FromPath[str], data: JSONBody[SharingIn], principal: NamedDependency[Principal],
                   request: Request, ledger: NamedDependency[Ledger]) -> Response[a.VoiceChanged]:
    """`aggregated` (the default: the employer sees figures from 5 or more
    people only) or `individual` (the employer may see these scores, never the remark)."""
    return run(ledger, principal, request, c.ChooseCheckInSharing(placement_id=_placement(placement_id),
                                                                   sharing=data.sharing))


@get("/placements/{placement_id:str}/check-ins", **sync)
def get_check_ins(placement_id: FromPath[str], principal: NamedDependency[Principal], request: Request,
                  ledger: NamedDependency[Ledger]) -> Response[a.CheckIns]:
    """The placement's check-ins as the asker may see them: the person and the
    agency everything (the agency's read of remarks is logged); the employer
    the scores only if the person chose `individual`; the auditor when each
    was answered."""
    placement, record, history = read_voice(ledger, principal.tenant, principal.actor, _placement(placement_id))
    view = voice_view(placement, record, history, principal.actor.role, ledger.clock.today())
    if principal.actor.role == "agency" and any(ci.get("remark") for ci in view["check_ins"]):
        ledger.record_special_category_read(principal.tenant, principal.actor, placement.candidate_id, ["remark"],
                                            "GET /api/v1/placements/{id}/check-ins", correlation_id(request))
    return Response(view)


@get("/employers/{employer_id:str}/satisfaction")
async def employer_satisfaction(employer_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                                ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.Satisfaction]:
    """Employee satisfaction at the employer (1..5, the mean over people of
    their latest check-in) and per question, in total and per quarter;
    withheld below 5 people."""
    ident, headers = await _figures_of(request, principal, ledger, pool, "employer", employer_id, (voice.NAME,))
    total = await voice.satisfaction(pool, principal.tenant.id, employer_id=ident)
    quarters = await voice.satisfaction_by_quarter(pool, principal.tenant.id, employer_id=ident)
    return Response({"employer_id": ident, **total, "by_quarter": quarters}, headers=headers)


@get("/contracts/{contract_id:str}/satisfaction")
async def contract_satisfaction(contract_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                                ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.Satisfaction]:
    """Employee satisfaction on the contract's placements, as for an employer."""
    ident, headers = await _figures_of(request, principal, ledger, pool, "contract", contract_id, (voice.NAME,))
    total = await voice.satisfaction(pool, principal.tenant.id, contract_id=ident)
    quarters = await voice.satisfaction_by_quarter(pool, principal.tenant.id, contract_id=ident)
    return Response({"contract_id": ident, **total, "by_quarter": quarters}, headers=headers)


ROUTES: list[Any] = [change_role, complete_training, make_placement_permanent, make_employment_permanent,
                     placement_progression, employer_progression, contract_progression, answer_check_in,
                     choose_sharing, get_check_ins, employer_satisfaction, contract_satisfaction]


def outcome_router() -> Router:
    return v1_router(ROUTES, "outcomes")
