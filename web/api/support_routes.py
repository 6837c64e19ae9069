"""Support that follows the person, support for employers, contract owners
and targets (/api/v1).

Reading a placement's support shows each role its share (web/api/support_views.py);
showing the person's needs, adjustments or notes is logged as a special-category read.
"""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

import msgspec
from asyncpg import Pool
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from domain.contract import SocialReturnContract
from domain.employer import Employer
from projections import compliance
from projections import support as support_rm
from service import commands as c
from service.errors import NotFound
from service.ledger import Ledger
from service.handlers.support import read_support
from web.api import answers as a
from web.api.contract import AsOf, MinPosition, error_spec
from web.api.auth import Principal, v1_router
from web.api.read_routes import _as_of, _fresh
from web.api.routes import correlation_id, run
from web.ids import parse_id
from web.api.schemas import Amount, Body
from web.api.support_views import special_category_fields, support_view

sync = {"sync_to_thread": True}
Short = Annotated[str, msgspec.Meta(max_length=60)]
Label = Annotated[str, msgspec.Meta(max_length=500)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Name = Annotated[str, msgspec.Meta(max_length=200)]


class ChecklistItemIn(Body):
    label: Label
    responsible: Short = "agency"


class DoneIn(Body):
    done_on: date | None = None


class AdjustmentIn(Body):
    kind: Short
    description: Label
    funder: Short | None = None
    requested_on: date | None = None


class FunderIn(Body):
    funder: Short


class DeliveredIn(Body):
    delivered_on: date | None = None


class RefusedIn(Body):
    reason: Short
    refused_on: date | None = None


class CheckInIn(Body):
    held_on: date
    with_whom: Short
    note: Note = ""


class CoachingIn(Body):
    held_on: date
    hours: Amount
    with_whom: Short = "employee"
    note: Note = ""


class ActivityIn(Body):
    kind: Short
    topic: Short
    held_on: date
    participants: int
    given_by: Short
    title: Name | None = None


class OwnerIn(Body):
    side: Short
    name: Name
    email: Name


class TargetsIn(Body):
    target_placements: int | None = None
    target_retention_12m_percent: Amount | None = None
    target_permanent_percent: Amount | None = None
    target_adjustments_30d_percent: Amount | None = None
    target_satisfaction_min: Amount | None = None


def _placement(raw: str) -> Any:
    return parse_id("placement", raw)


# -- placement support -----------------------------------------------------------------
@get("/placements/{placement_id:str}/support", **sync)
def get_support(placement_id: FromPath[str], principal: NamedDependency[Principal], request: Request,
                ledger: NamedDependency[Ledger]) -> Response[a.Support]:
    placement, support, history = read_support(ledger, principal.tenant, principal.actor, _placement(placement_id))
    view = support_view(placement, support, history, principal.actor.role)
    fields = special_category_fields(view)
    if fields:
        ledger.record_special_category_read(principal.tenant, principal.actor, placement.candidate_id, fields,
                                            "GET /api/v1/placements/{id}/support", correlation_id(request))
    return Response(view)


@post("/placements/{placement_id:str}/support/items", **sync)
def add_item(placement_id: FromPath[str], data: JSONBody[ChecklistItemIn], principal: NamedDependency[Principal],
             request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.AddChecklistItem(
        placement_id=_placement(placement_id), label=data.label, responsible=data.responsible))


@post("/placements/{placement_id:str}/support/items/{item_id:str}/done", status_code=200, **sync)
def tick_item(placement_id: FromPath[str], item_id: FromPath[str], data: JSONBody[DoneIn],
              principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.TickChecklistItem(
        placement_id=_placement(placement_id), item_id=item_id, done_on=data.done_on))


@post("/placements/{placement_id:str}/support/adjustments", **sync)
def request_adjustment(placement_id: FromPath[str], data: JSONBody[AdjustmentIn],
                       principal: NamedDependency[Principal], request: Request,
                       ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.RequestAdjustment(
        placement_id=_placement(placement_id), kind=data.kind, description=data.description, funder=data.funder,
        requested_on=data.requested_on))


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/funder", status_code=200, **sync)
def set_funder(placement_id: FromPath[str], adjustment_id: FromPath[str], data: JSONBody[FunderIn],
               principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.SetAdjustmentFunder(
        placement_id=_placement(placement_id), adjustment_id=adjustment_id, funder=data.funder))


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/delivered", status_code=200,
      **sync)
def deliver(placement_id: FromPath[str], adjustment_id: FromPath[str], data: JSONBody[DeliveredIn],
            principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.DeliverAdjustment(
        placement_id=_placement(placement_id), adjustment_id=adjustment_id, delivered_on=data.delivered_on))


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/refused", status_code=200,
      **sync)
def refuse(placement_id: FromPath[str], adjustment_id: FromPath[str], data: JSONBody[RefusedIn],
           principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.RefuseAdjustment(
        placement_id=_placement(placement_id), adjustment_id=adjustment_id, reason=data.reason,
        refused_on=data.refused_on))


@post("/placements/{placement_id:str}/support/check-ins", **sync)
def log_check_in(placement_id: FromPath[str], data: JSONBody[CheckInIn], principal: NamedDependency[Principal],
                 request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.LogCheckIn(
        placement_id=_placement(placement_id), held_on=data.held_on, with_whom=data.with_whom, note=data.note))


@post("/placements/{placement_id:str}/support/coaching", **sync)
def log_coaching(placement_id: FromPath[str], data: JSONBody[CoachingIn], principal: NamedDependency[Principal],
                 request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportChanged]:
    return run(ledger, principal, request, c.LogCoachingSession(
        placement_id=_placement(placement_id), held_on=data.held_on, hours=data.hours, with_whom=data.with_whom,
        note=data.note))


@get("/support/open", responses={404: error_spec(404, "A role that has no such list (the agency, auditors and employers do).")})
async def open_onboarding(request: Request, principal: NamedDependency[Principal],
                          pool: NamedDependency[Pool],
        as_of: AsOf = None, min_position: MinPosition = None) -> Response[a.OpenOnboarding]:
    """Active placements whose onboarding (checklist or adjustments) is not finished:
    the agency's and auditor's list, an employer's own."""
    actor = principal.actor
    if actor.role not in ("agency", "auditor", "employer"):
        raise NotFound("support list", "open")
    headers = await _fresh(request, pool, principal, (support_rm.NAME,))
    rows = await support_rm.open_onboarding(
        pool, principal.tenant.id, _as_of(request.query_params.get("as_of")),
        employer_id=actor.employer_id if actor.role == "employer" else None)
    return Response({"placements": rows}, headers=headers)


# -- the employer's side -------------------------------------------------------------------
@post("/employers/{employer_id:str}/support-activities", **sync)
def log_activity(employer_id: FromPath[str], data: JSONBody[ActivityIn], principal: NamedDependency[Principal],
                 request: Request, ledger: NamedDependency[Ledger]) -> Response[a.SupportActivityLogged]:
    return run(ledger, principal, request, c.LogEmployerSupportActivity(
        employer_id=parse_id("employer", employer_id), kind=data.kind, topic=data.topic, held_on=data.held_on,
        participants=data.participants, given_by=data.given_by, title=data.title))


@get("/employers/{employer_id:str}/support-activities")
async def list_activities(employer_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                          ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.SupportActivities]:
    ident = parse_id("employer", employer_id)
    # Visible employer (its own for an employer; 404 otherwise), from the ledger.
    await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, Employer, ident)
    headers = await _fresh(request, pool, principal, (support_rm.NAME,))
    found = await support_rm.employer_activities(pool, principal.tenant.id, ident)
    return Response({"employer_id": ident, **found}, headers=headers)


# -- contract owners and targets ---------------------------------------------------------------
@post("/contracts/{contract_id:str}/owners", status_code=200, **sync)
def name_owner(contract_id: FromPath[str], data: JSONBody[OwnerIn], principal: NamedDependency[Principal],
               request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.NameContractOwner(
        contract_id=parse_id("contract", contract_id), side=data.side, name=data.name, email=data.email))


@post("/contracts/{contract_id:str}/targets", status_code=200, **sync)
def set_targets(contract_id: FromPath[str], data: JSONBody[TargetsIn], principal: NamedDependency[Principal],
                request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.SetContractTargets(
        contract_id=parse_id("contract", contract_id), target_placements=data.target_placements,
        target_retention_12m_percent=data.target_retention_12m_percent,
        target_permanent_percent=data.target_permanent_percent,
        target_adjustments_30d_percent=data.target_adjustments_30d_percent,
        target_satisfaction_min=data.target_satisfaction_min))


@get("/contracts/{contract_id:str}/targets")
async def get_targets(contract_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                      ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        as_of: AsOf = None, min_position: MinPosition = None) -> Response[a.ContractTargets]:
    """Targets beyond euros beside what was achieved (`?as_of=`, default today)."""
    ident = parse_id("contract", contract_id)
    await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, SocialReturnContract, ident)
    headers = await _fresh(request, pool, principal, (support_rm.NAME, compliance.NAME))
    found = await support_rm.contract_targets(pool, principal.tenant.id, [ident],
                                              _as_of(request.query_params.get("as_of")))
    return Response(found[ident], headers=headers)


ROUTES = [get_support, add_item, tick_item, request_adjustment, set_funder, deliver, refuse, log_check_in,
          log_coaching, open_onboarding, log_activity, list_activities, name_owner, set_targets, get_targets]


def support_router() -> Router:
    return v1_router(ROUTES, "support")
