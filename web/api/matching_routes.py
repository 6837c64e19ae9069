"""Matching, the match pipeline, the legal employer's duties and reminders (/api/v1).

Suggestions, pipelines, duties and reminders are for the agency: suggestions
name and compare candidates, and duties reveal that a person is sick (health
data). Reading a placement's sicknesses is logged as a special-category read.
Candidates state their own availability (or the agency does for them).
"""
from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from asyncpg import Pool
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter

from domain.matching import VacancyNeeds
from domain.placement import Placement
from domain.vacancy import Vacancy
from infra.registry import agency_users_async
from projections import directory, duties, matching
from projections.reader import platform_pool
from service import commands as c
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.ledger import Ledger
from web.api import answers as a
from web.api.contract import AsOf, MinPosition, day, whole
from web.api.auth import Principal, v1_router
from web.api.read_routes import _fresh, query_date, query_whole
from web.api.routes import correlation_id, run
from web.ids import parse_id
from web.api.schemas import Amount, Body

sync = {"sync_to_thread": True}


class SicknessIn(Body):
    first_sick_day: date


class RecoveryIn(Body):
    recovered_on: date


class DutyDoneIn(Body):
    done_on: date | None = None


class MatchStepIn(Body):
    candidate_id: UUID
    step: Annotated[str, msgspec.Meta(max_length=20)]
    on: date | None = None
    placement_id: UUID | None = None
    by: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class ResponsibleIn(Body):
    responsible_user_id: UUID | None  # null: nobody in particular


class AvailabilityIn(Body):
    hours_per_week: Amount
    available_from: date
    region: Annotated[str, msgspec.Meta(max_length=100)]


def _agency_only(principal: Principal, what: str) -> None:
    if principal.actor.role != "agency":
        raise PermissionDenied(f"{what} are for the agency")


def _date_param(request: Request, name: str, default: date | None) -> date | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return query_date(raw, name)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return query_whole(raw, name, low, high)


# -- matching -------------------------------------------------------------------
@post("/candidates/{candidate_id:str}/availability", status_code=200, **sync)
def state_availability(candidate_id: FromPath[str], data: JSONBody[AvailabilityIn],
                       principal: NamedDependency[Principal], request: Request,
                       ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """Hours a week the person can work (in total), from when, and the region."""
    return run(ledger, principal, request, c.StateAvailability(
        candidate_id=parse_id("candidate", candidate_id), hours_per_week=data.hours_per_week,
        available_from=data.available_from, region=data.region))


@get("/vacancies/{vacancy_id:str}/suggestions")
async def vacancy_suggestions(vacancy_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                              ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        limit: whole("How many suggestions at most", 1, 200) = None,
        region: Annotated[str | None, Parameter(max_length=100, description="The region of the work; default the vacancy's.")] = None,
        starts_on: day("The day the work would start; default today") = None, min_position: MinPosition = None) -> Response[a.Suggestions]:
    """The tenant's best candidates for a vacancy, ranked, each with its score
    (0-100) and the reasons. `?limit=` (1-200, default 20), `?region=` (the
    region of the work; default: the vacancy's region), `?starts_on=` (default
    today), `?min_position=` (wait for your own writes)."""
    _agency_only(principal, "suggestions")
    ident = parse_id("vacancy", vacancy_id)
    limit = _int_param(request, "limit", 20, 1, matching.MAX_LIMIT)
    region = (request.query_params.get("region") or "").strip() or None
    if region is not None and len(region) > 100:
        raise InvalidInput("region", "must be at most 100 characters")
    starts_on = _date_param(request, "starts_on", date.today())
    headers = await _fresh(request, pool, principal, (matching.NAME,))
    vacancy = await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, Vacancy, ident)
    if region is None:
        region = vacancy.region  # the vacancy's own region, unless the request names another
    needs = VacancyNeeds(required_competences=tuple(vacancy.required_competences),
                         optional_competences=tuple(vacancy.optional_competences),
                         hours_per_week=vacancy.hours_per_week, region=region, starts_on=starts_on)
    found = await matching.suggestions(pool, principal.tenant.id, needs, limit)
    names = await directory.names(pool, principal.tenant.id, [s.candidate_id for s in found])
    matched = set(vacancy.matched_candidate_ids)
    return Response({
        "vacancy_id": vacancy_id,
        "vacancy_status": vacancy.status,
        "needs": {"required_competences": list(needs.required_competences),
                  "optional_competences": list(needs.optional_competences),
                  "hours_per_week": str(needs.hours_per_week), "region": region,
                  "starts_on": starts_on.isoformat() if starts_on else None},
        "suggestions": [{"candidate_id": str(s.candidate_id), "full_name": names.get(s.candidate_id),
                         "score": s.score, "reasons": s.reasons,
                         "already_matched": s.candidate_id in matched} for s in found],
    }, headers=headers)


@post("/vacancies/{vacancy_id:str}/pipeline", responses={200: ResponseSpec(
    a.MatchStepRecorded, description="A later step of a proposed match (proposed itself: 201).")}, **sync)
def record_match_step(vacancy_id: FromPath[str], data: JSONBody[MatchStepIn], principal: NamedDependency[Principal],
                      request: Request, ledger: NamedDependency[Ledger]) -> Response[a.MatchStepRecorded]:
    """A step of a candidate's match: `proposed` (201), then `introduced`, `trial`,
    `placed` (with `placement_id`), or `declined` (`by`: candidate, employer or
    agency; `reason`: one of domain.matching.DECLINE_REASONS). Steps go forward
    only; `on` defaults to today. The employer records `introduced`, `trial` and
    `declined` (by itself) on its own vacancies; `proposed` and `placed` are the agency's (403)."""
    return run(ledger, principal, request, c.RecordMatchStep(
        vacancy_id=parse_id("vacancy", vacancy_id), candidate_id=data.candidate_id, step=data.step, on=data.on,
        placement_id=data.placement_id, by=data.by, reason=data.reason))


@get("/vacancies/{vacancy_id:str}/pipeline")
async def vacancy_pipeline(vacancy_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                           ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.Pipeline]:
    """Every candidate proposed for the vacancy and where they stand: the agency,
    and the employer for its own vacancies (names only; another's is a 404)."""
    if principal.actor.role not in ("agency", "employer"):
        raise PermissionDenied("match pipelines are for the agency and the vacancy's employer")
    ident = parse_id("vacancy", vacancy_id)
    await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, Vacancy, ident)
    headers = await _fresh(request, pool, principal, (matching.NAME,))
    items = await matching.pipeline(pool, principal.tenant.id, ident)
    names = await directory.names(pool, principal.tenant.id, [UUID(i["candidate_id"]) for i in items])
    for item in items:
        item["full_name"] = names.get(UUID(item["candidate_id"]))
    return Response({"vacancy_id": vacancy_id, "pipeline": items}, headers=headers)


# -- the legal employer's duties ----------------------------------------------------
@post("/placements/{placement_id:str}/responsible", status_code=200, **sync)
def assign_responsible(placement_id: FromPath[str], data: JSONBody[ResponsibleIn],
                       principal: NamedDependency[Principal], request: Request,
                       ledger: NamedDependency[Ledger]) -> Response[a.ResponsibleAssigned]:
    """Who at the agency looks after the placement (an agency user's id, or null):
    reminders of its duties are addressed to them."""
    return run(ledger, principal, request, c.AssignPlacementResponsible(
        placement_id=parse_id("placement", placement_id), responsible_user_id=data.responsible_user_id))


@post("/placements/{placement_id:str}/sickness", **sync)
def report_sickness(placement_id: FromPath[str], data: JSONBody[SicknessIn], principal: NamedDependency[Principal],
                    request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SicknessReported]:
    """The person is sick from `first_sick_day`; answers with the poortwachter duties it starts."""
    return run(ledger, principal, request, c.ReportSickness(
        placement_id=parse_id("placement", placement_id), first_sick_day=data.first_sick_day))


@post("/placements/{placement_id:str}/recovery", status_code=200, **sync)
def report_recovery(placement_id: FromPath[str], data: JSONBody[RecoveryIn], principal: NamedDependency[Principal],
                    request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SicknessReported]:
    """Recovered on `recovered_on`: the sickness's duties due after it are closed."""
    return run(ledger, principal, request, c.ReportRecovery(
        placement_id=parse_id("placement", placement_id), recovered_on=data.recovered_on))


@post("/duties/{duty_id:str}/done", status_code=200)
async def duty_done(duty_id: FromPath[str], data: JSONBody[DutyDoneIn], principal: NamedDependency[Principal],
                    request: Request, ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.DutyDone]:
    """Mark a duty done (`done_on`, default today). The duty is found in the read
    model (`?min_position=` waits for your own writes); the ledger decides."""
    _agency_only(principal, "duties")
    ident = parse_id("duty", duty_id)
    await _fresh(request, pool, principal, (duties.NAME,))
    placement_id = await duties.placement_of_duty(pool, principal.tenant.id, ident)
    if placement_id is None:
        raise NotFound("duty", duty_id)
    command = c.CompleteDuty(placement_id=placement_id, duty_id=ident, done_on=data.done_on)
    return await asyncio.to_thread(run, ledger, principal, request, command)


@get("/duties")
async def list_duties(request: Request, principal: NamedDependency[Principal], pool: NamedDependency[Pool],
        as_of: AsOf = None,
        status: Annotated[str | None, Parameter(max_length=100, description="Comma-separated, any of due, overdue, done, closed; default due,overdue.")] = None,
        within_days: whole("Only those due within this many days of as_of (overdue ones included)", 0, 3650) = None, min_position: MinPosition = None) -> Response[a.Duties]:
    """Open duties of every placement on `?as_of=` (default today): `?status=` any of
    due, overdue, done, closed (comma-separated; default due,overdue); `?within_days=N`
    only those due within N days of as_of (overdue ones included)."""
    _agency_only(principal, "duties")
    as_of = _date_param(request, "as_of", date.today())
    raw = request.query_params.get("status") or "due,overdue"
    statuses = tuple(s.strip() for s in raw.split(",") if s.strip())
    if not statuses or any(s not in duties.STATUSES for s in statuses):
        raise InvalidInput("status", "must be a comma-separated list of: " + ", ".join(duties.STATUSES))
    within = request.query_params.get("within_days")
    due_by = None
    if within:
        due_by = as_of + timedelta(days=_int_param(request, "within_days", 0, 0, 3650))
    headers = await _fresh(request, pool, principal, (duties.NAME,))
    items = await duties.duties(pool, principal.tenant.id, as_of, statuses=statuses, due_by=due_by)
    names = await directory.names(pool, principal.tenant.id,
                                  list({UUID(i["candidate_id"]) for i in items}))
    for item in items:
        item["candidate_name"] = names.get(UUID(item["candidate_id"]))
    return Response({"as_of": as_of.isoformat(), "statuses": list(statuses), "duties": items}, headers=headers)


@get("/placements/{placement_id:str}/duties")
async def placement_duties(placement_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                           ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        as_of: AsOf = None, min_position: MinPosition = None) -> Response[a.RecordDuties]:
    """Every duty of one placement with its status on `?as_of=`, its sicknesses
    and whether a job coach is possible. Agency only; logged as a read of health data."""
    return await duties_answer(request, principal, ledger, pool, "placement", placement_id, Placement,
                               duties.placement_duties, "GET /api/v1/placements/{id}/duties")


async def duties_answer(request: Request, principal: Principal, ledger: Ledger, pool: Pool, kind: str,
                        given_id: str, aggregate: type, read: Any, route: str) -> Response:
    """The duties of a placement or an employment (`read` from the duties read
    model) with their status on `?as_of=`. Agency only; a sickness among them
    is logged as a read of health data about the record's person."""
    _agency_only(principal, "duties")
    ident = parse_id(kind, given_id)
    as_of = _date_param(request, "as_of", date.today())
    record = await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, aggregate, ident)
    headers = await _fresh(request, pool, principal, (duties.NAME,))
    found = await read(pool, principal.tenant.id, ident, as_of)
    if found is None:
        raise NotFound(kind, given_id)
    if found["sickness"]:
        await asyncio.to_thread(ledger.record_special_category_read, principal.tenant, principal.actor,
                                record.candidate_id, ["sickness"], route, correlation_id(request))
    return Response(found, headers=headers)


@get("/reminders")
async def list_reminders(request: Request, principal: NamedDependency[Principal],
                         pool: NamedDependency[Pool],
        since: day("Only reminders from this day on") = None,
        mine: Annotated[Literal["true", "false"] | None, Parameter(description="true: those addressed to you and to nobody in particular.")] = None, min_position: MinPosition = None) -> Response[a.Reminders]:
    """Reminders recorded by the reminder job, newest first (`?since=` a day;
    `?mine=true`: those addressed to you and those addressed to nobody in particular)."""
    _agency_only(principal, "reminders")
    since = _date_param(request, "since", None)
    mine = request.query_params.get("mine", "false")
    if mine not in ("true", "false"):
        raise InvalidInput("mine", "must be true or false")
    headers = await _fresh(request, pool, principal, (duties.NAME,))
    users = await agency_users_async(platform_pool(pool), principal.tenant.id) if mine == "true" else {}
    items = await duties.reminders(pool, principal.tenant.id, since,
                                   principal.actor.user_id if mine == "true" else None, users)
    return Response({"reminders": items}, headers=headers)


ROUTES: list[Any] = [state_availability, vacancy_suggestions, record_match_step, vacancy_pipeline, assign_responsible,
                     report_sickness, report_recovery, duty_done,
                     list_duties, placement_duties, list_reminders]


def matching_router() -> Router:
    return v1_router(ROUTES, "matching and duties")
