"""Support on the pages: the placement's onboarding checklist, adjustments,
check-ins and coaching (web/templates/_placement_support.html); support
activities on the employer's page (_employer_support.html); owners and
targets on the contract page (_contract_support.html).

Each role sees its share (web/api/support_views.py); showing the person's
needs, adjustments or notes is written to the access log. Every form works
without JavaScript (303 back to the page); with htmx the section swaps itself.
"""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.contract import OWNER_SIDES, SocialReturnContract
from domain.employer import SUPPORT_ACTIVITY_KINDS, SUPPORT_GIVERS, SUPPORT_TOPICS, Employer
from domain.placement import Placement
from domain.support import ADJUSTMENT_KINDS, CHECK_IN_WITH, FUNDERS, REFUSAL_REASONS, RESPONSIBLE
from projections import compliance
from projections import support as support_rm
from service import commands as c
from service.errors import PermissionDenied
from service.handlers.support import SUPPORT_READERS, read_support
from web.api.support_views import special_category_fields, support_view
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
from web.pages.viewer import ORGANISATION_PAGES, Viewer, may_issue

# The support forms an employer posts on the placement page also open for an employer organisation's
# user, on a placement an agency shares with it (web/pages/viewer.py: provide_viewer).
SHARED = {ORGANISATION_PAGES: True}
CHOICES = {"responsible": RESPONSIBLE, "adjustment_kinds": ADJUSTMENT_KINDS, "funders": FUNDERS,
           "refusal_reasons": REFUSAL_REASONS, "with_whom": CHECK_IN_WITH}


# -- on a placement ------------------------------------------------------------------

async def placement_section(services: PageServices, request: Request, viewer: Viewer, placement: Placement,
                            state: FormState | None = None) -> dict[str, Any]:
    """`support_section` for placement.html (None for roles that do not see
    support), with the state of one of its forms (`state.name`: which)."""
    state = state or FormState()
    if viewer.role not in SUPPORT_READERS:
        return {"support_section": None}
    placement, support, history = await asyncio.to_thread(
        read_support, services.ledger, viewer.tenant, viewer.actor, placement.id)
    view = support_view(placement, support, history, viewer.role)
    fields = special_category_fields(view)
    if fields:
        await record_special_category_read(services, request, viewer, placement.candidate_id, fields)
    active = placement.is_active
    return {"support_section": {
        **view, **CHOICES, "today": date.today(), "active": active, "role": viewer.role,
        "can_add_item": may(viewer, c.AddChecklistItem) and active,
        "can_tick": may(viewer, c.TickChecklistItem) and active,
        "can_request": may(viewer, c.RequestAdjustment) and active,
        "can_fund": may(viewer, c.SetAdjustmentFunder), "can_deliver": may(viewer, c.DeliverAdjustment),
        "can_refuse": may(viewer, c.RefuseAdjustment), "can_log": may(viewer, c.LogCheckIn),
        "sees_notes": viewer.role in ("agency", "employee"),
        # `form_values`, not `values`: in a template `s.values` would be the dict's method.
        "form": state.name, "errors": dict(state.errors), "form_values": dict(state.values),
        "idempotency": new_idempotency_key(),
    }}


async def _run(services: PageServices, request: Request, viewer: Viewer, placement_id: str, form: Form, form_name: str,
               make: Any, default_field: str, placement_page: PageRenderer) -> Response:
    """A form of the support section: 303 back (or the section, for htmx, once
    the support read model holds the change); after an error the page (or the
    section) with the message next to the field."""
    placement = await get_aggregate(services, viewer, Placement, parse_id("placement", placement_id))

    async def show(state: FormState, status: int) -> Response:
        if wants_fragment(request):
            return page(services.templates, request, "_placement_support.html",
                        await placement_section(services, request, viewer, placement, state), status=status)
        return await placement_page(services, request, viewer, placement.id, forms={"support": state}, status=status)

    return await answer(services, request, viewer, form, lambda: make(placement.id),
                        to=f"/placements/{placement.id}#support",
                        show=show, field=default_field, name=form_name, swaps=True, read_models=(support_rm.NAME,),
                        shown_errors=(*FORM_ERRORS, PermissionDenied))


@post("/placements/{placement_id:str}/support/items", guards=[may_issue(c.AddChecklistItem)], opt=SHARED)
async def add_item(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                   placement_id: FromPath[str],
                   placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    label = form.text("label")
    responsible = form.choice("responsible", RESPONSIBLE) if viewer.role == "agency" else "employer"
    return await _run(services, request, viewer, placement_id, form, "item", lambda pid: c.AddChecklistItem(
        placement_id=pid, label=label, responsible=responsible or "agency"), "label", placement_page)


@post("/placements/{placement_id:str}/support/items/{item_id:str}/done", guards=[may_issue(c.TickChecklistItem)],
      opt=SHARED)
async def tick_item(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                    placement_id: FromPath[str],
                    item_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    done_on = form.day("done_on", required=False)
    return await _run(services, request, viewer, placement_id, form, "tick", lambda pid: c.TickChecklistItem(
        placement_id=pid, item_id=item_id, done_on=done_on), "_form", placement_page)


@post("/placements/{placement_id:str}/support/adjustments", guards=[may_issue(c.RequestAdjustment)])
async def request_adjustment(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                             placement_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    kind, description = form.choice("kind", ADJUSTMENT_KINDS), form.text("description")
    funder = form.choice("funder", FUNDERS, required=False) if viewer.role == "agency" else None
    requested_on = form.day("requested_on", required=False)
    return await _run(services, request, viewer, placement_id, form, "adjustment", lambda pid: c.RequestAdjustment(
        placement_id=pid, kind=kind, description=description, funder=funder,  # type: ignore[arg-type]
        requested_on=requested_on), "description", placement_page)


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/funder",
      guards=[may_issue(c.SetAdjustmentFunder)])
async def set_funder(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                     placement_id: FromPath[str],
                     adjustment_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    funder = form.choice("funder", FUNDERS)
    return await _run(services, request, viewer, placement_id, form, "decide-" + adjustment_id,
                      lambda pid: c.SetAdjustmentFunder(
        placement_id=pid, adjustment_id=adjustment_id, funder=funder), "funder", placement_page)  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/delivered",
      guards=[may_issue(c.DeliverAdjustment)], opt=SHARED)
async def deliver(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                  placement_id: FromPath[str],
                  adjustment_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    delivered_on = form.day("delivered_on", required=False)
    return await _run(services, request, viewer, placement_id, form, "decide-" + adjustment_id,
                      lambda pid: c.DeliverAdjustment(
        placement_id=pid, adjustment_id=adjustment_id, delivered_on=delivered_on), "delivered_on", placement_page)


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/refused",
      guards=[may_issue(c.RefuseAdjustment)])
async def refuse(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                 placement_id: FromPath[str],
                 adjustment_id: FromPath[str], placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    reason = form.choice("reason", REFUSAL_REASONS)
    return await _run(services, request, viewer, placement_id, form, "decide-" + adjustment_id,
                      lambda pid: c.RefuseAdjustment(
        placement_id=pid, adjustment_id=adjustment_id, reason=reason), "reason", placement_page)  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/support/check-ins", guards=[may_issue(c.LogCheckIn)])
async def log_check_in(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       placement_id: FromPath[str],
                       placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    held_on, with_whom = form.day("held_on"), form.choice("with_whom", CHECK_IN_WITH)
    note = form.text("note", required=False)
    return await _run(services, request, viewer, placement_id, form, "check-in", lambda pid: c.LogCheckIn(
        placement_id=pid, held_on=held_on, with_whom=with_whom, note=note), "held_on", placement_page)  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/support/coaching", guards=[may_issue(c.LogCoachingSession)])
async def log_coaching(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       placement_id: FromPath[str],
                       placement_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    held_on, hours = form.day("held_on"), form.decimal("hours")
    with_whom = form.choice("with_whom", CHECK_IN_WITH)
    note = form.text("note", required=False)
    return await _run(services, request, viewer, placement_id, form, "coaching", lambda pid: c.LogCoachingSession(
        placement_id=pid, held_on=held_on, hours=hours, with_whom=with_whom, note=note),  # type: ignore[arg-type]
        "held_on", placement_page)


# -- on the employer's page ----------------------------------------------------------------

async def employer_section(services: PageServices, request: Request, viewer: Viewer, employer: Employer,
                           state: FormState | None = None) -> dict[str, Any] | None:
    """The support activities section of employer.html (None for roles that
    do not see it), with the state of its form after a refused change."""
    if viewer.role not in ("agency", "auditor", "employer"):
        return None
    await fresh(services, request, viewer, (support_rm.NAME,))
    found = await support_rm.employer_activities(services.pool, viewer.tenant.id, employer.id)
    return {**found, "employer_id": str(employer.id), "kinds": SUPPORT_ACTIVITY_KINDS, "topics": SUPPORT_TOPICS,
            "givers": SUPPORT_GIVERS, "can_log": may(viewer, c.LogEmployerSupportActivity),
            "today": date.today(), "errors": dict(state.errors) if state else {},
            "form_values": dict(state.values) if state else {}, "idempotency": new_idempotency_key()}


@post("/employers/{employer_id:str}/support-activities", guards=[may_issue(c.LogEmployerSupportActivity)])
async def log_activity(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       employer_id: FromPath[str],
                       employer_page: NamedDependency[PageRenderer]) -> Response:
    employer: Employer = await get_aggregate(services, viewer, Employer, parse_id("employer", employer_id))
    form = await Form.read(request)
    fields = dict(kind=form.choice("kind", SUPPORT_ACTIVITY_KINDS), topic=form.choice("topic", SUPPORT_TOPICS),
                  held_on=form.day("held_on"), participants=form.integer("participants"),
                  given_by=form.choice("given_by", SUPPORT_GIVERS), title=form.text("title", required=False) or None)

    async def show(state: FormState, status: int) -> Response:
        if wants_fragment(request):
            section = await employer_section(services, request, viewer, employer, state)
            return page(services.templates, request, "_employer_support.html", {"section": section}, status=status)
        return await employer_page(services, request, viewer, str(employer.id), forms={"activities": state},
                                   status=status)

    command = c.LogEmployerSupportActivity(employer_id=employer.id, **fields)  # type: ignore[arg-type]
    return await answer(services, request, viewer, form, command,
                        to=f"/employers/{employer.id}#support-activities", show=show, field="kind", swaps=True,
                        read_models=(support_rm.NAME,))


# -- on the contract page ---------------------------------------------------------------------

async def contract_section(services: PageServices, request: Request, viewer: Viewer, contract: SocialReturnContract,
                           state: FormState | None = None) -> dict[str, Any]:
    """`owners_section` for contract.html: owners and targets beside the
    euros, with the state of one of its forms (`state.name`: which)."""
    state = state or FormState()
    await fresh(services, request, viewer, (support_rm.NAME, compliance.NAME))
    found = await support_rm.contract_targets(services.pool, viewer.tenant.id, [contract.id], date.today())
    can_change = may(viewer, c.SetContractTargets) and not contract.is_closed
    return {"owners_section": {
        "contract_id": str(contract.id), "owners": contract.owners, "sides": OWNER_SIDES,
        "sees_owners": viewer.role in ("agency", "employer", "authority"),
        "targets": contract.targets, "achieved": found.get(contract.id), "can_change": can_change,
        "errors": dict(state.errors), "form_values": dict(state.values), "form": state.name,
        "idempotency": new_idempotency_key(),
    }}


async def _contract_run(services: PageServices, request: Request, viewer: Viewer, contract_id: str, form: Form,
                        form_name: str,
                        make: Any, default_field: str, contract_page: PageRenderer) -> Response:
    """A form of the owners and targets section: 303 back, or the contract
    page again with the errors next to the form's fields."""
    contract = await get_aggregate(services, viewer, SocialReturnContract, parse_id("contract", contract_id))

    async def show(state: FormState, status: int) -> Response:
        return await contract_page(services, request, viewer, str(contract.id), forms={"owners": state}, status=status)

    return await answer(services, request, viewer, form, lambda: make(contract.id),
                        to=f"/contracts/{contract.id}#owners-targets",
                        show=show, field=default_field, name=form_name)


@post("/contracts/{contract_id:str}/owners", guards=[may_issue(c.NameContractOwner)])
async def name_owner(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                     contract_id: FromPath[str],
                     contract_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    side, name, email = form.choice("side", OWNER_SIDES), form.text("name"), form.text("email")
    return await _contract_run(services, request, viewer, contract_id, form, "owner", lambda cid: c.NameContractOwner(
        contract_id=cid, side=side, name=name, email=email), "name", contract_page)  # type: ignore[arg-type]


@post("/contracts/{contract_id:str}/targets", guards=[may_issue(c.SetContractTargets)])
async def set_targets(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                      contract_id: FromPath[str],
                      contract_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    placements = form.integer("target_placements", required=False)
    retention = form.decimal("target_retention_12m_percent", required=False)
    more = {name: form.decimal(name, required=False) for name in (
        "target_permanent_percent", "target_adjustments_30d_percent", "target_satisfaction_min")}
    return await _contract_run(services, request, viewer, contract_id, form, "targets",
                               lambda cid: c.SetContractTargets(
        contract_id=cid, target_placements=placements, target_retention_12m_percent=retention, **more),
        "target_placements", contract_page)


# -- on the dashboard --------------------------------------------------------------------------

async def dashboard_targets(services: PageServices, viewer: Viewer, contracts: list[dict]) -> dict[str, dict]:
    """Targets beside the euros for the dashboard's contracts that have one, by contract id."""
    ids = [UUID(str(row["contract_id"])) for row in contracts]
    found = await support_rm.contract_targets(services.pool, viewer.tenant.id, ids, date.today(),
                                              only_targeted=True)
    return {str(k): v for k, v in found.items()}


HANDLERS = [add_item, tick_item, request_adjustment, set_funder, deliver, refuse, log_check_in, log_coaching,
            log_activity, name_owner, set_targets]
