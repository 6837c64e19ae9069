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
from projections.reader import wait_for_position
from service import commands as c
from service.errors import Conflict, InvalidInput, InvalidReference, PermissionDenied
from service.handlers.support import SUPPORT_READERS, read_support
from web.api.support_views import special_category_fields, support_view
from web.pages.common import (
    execute,
    field_errors,
    fresh,
    get as get_aggregate,
    ledger,
    may,
    new_idempotency_key,
    parse_id,
    pool,
    record_special_category_read,
    redirect_after,
)
from web.pages.employers import EMPLOYER_SECTIONS, EmployerSection
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import Viewer, roles

CHOICES = {"responsible": RESPONSIBLE, "adjustment_kinds": ADJUSTMENT_KINDS, "funders": FUNDERS,
           "refusal_reasons": REFUSAL_REASONS, "with_whom": CHECK_IN_WITH}


# -- on a placement ------------------------------------------------------------------

async def placement_section(request: Request, viewer: Viewer, placement: Placement, *, form: str = "",
                            errors: dict[str, Any] | None = None,
                            values: dict[str, str] | None = None) -> dict[str, Any]:
    """`support_section` for placement.html (None for roles that do not see support).
    `form`: the form the errors and values belong to."""
    if viewer.role not in SUPPORT_READERS:
        return {"support_section": None}
    placement, support, history = await asyncio.to_thread(
        read_support, ledger(request), viewer.tenant, viewer.actor, placement.id)
    view = support_view(placement, support, history, viewer.role)
    fields = special_category_fields(view)
    if fields:
        await record_special_category_read(request, viewer, placement.candidate_id, fields)
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
        "form": form, "errors": errors or {}, "form_values": values or {}, "idempotency": new_idempotency_key(),
    }}


async def _answer(request: Request, viewer: Viewer, placement: Placement, form_name: str, *, result: Any = None,
                  errors: dict[str, Any] | None = None, values: dict[str, str] | None = None,
                  status: int = 422) -> Response:
    """After a change: 303 back (or the section, for htmx); after an error: the
    page (or section) with the message next to the field."""
    if result is not None and not wants_fragment(request):
        return redirect_after(result, f"/placements/{placement.id}#support")
    if result is not None:
        await wait_for_position(pool(request), viewer.tenant.id, (support_rm.NAME,), result.position)
        status = 200
    section = await placement_section(request, viewer, placement, form=form_name, errors=errors, values=values)
    if wants_fragment(request):
        return page(request, "_placement_support.html", section, status=status)
    from web.pages.placements import _context  # the whole page, with its other sections

    context = await _context(request, viewer, placement.id)
    context.update(section)
    return page(request, "placement.html", context, status=status)


async def _run(request: Request, viewer: Viewer, placement_id: str, form: Form, form_name: str,
               make: Any, default_field: str) -> Response:
    placement = await get_aggregate(request, viewer, Placement, parse_id("placement", placement_id))
    if not form.ok:
        return await _answer(request, viewer, placement, form_name, errors=form.errors, values=form.values())
    try:
        result = await execute(request, viewer, make(placement.id), form)
    except (InvalidInput, InvalidReference, Conflict, PermissionDenied) as e:
        status = 409 if isinstance(e, Conflict) else 403 if isinstance(e, PermissionDenied) else 422
        return await _answer(request, viewer, placement, form_name, errors=field_errors(e, form, default_field),
                             values=form.values(), status=status)
    return await _answer(request, viewer, placement, form_name, result=result)


@post("/placements/{placement_id:str}/support/items", guards=[roles("agency", "employer")])
async def add_item(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    label = form.text("label")
    responsible = form.choice("responsible", RESPONSIBLE) if viewer.role == "agency" else "employer"
    return await _run(request, viewer, placement_id, form, "item", lambda pid: c.AddChecklistItem(
        placement_id=pid, label=label, responsible=responsible or "agency"), "label")


@post("/placements/{placement_id:str}/support/items/{item_id:str}/done", guards=[roles("agency", "employer")])
async def tick_item(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                    item_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    done_on = form.day("done_on", required=False)
    return await _run(request, viewer, placement_id, form, "tick", lambda pid: c.TickChecklistItem(
        placement_id=pid, item_id=item_id, done_on=done_on), "_form")


@post("/placements/{placement_id:str}/support/adjustments", guards=[roles("agency", "employee")])
async def request_adjustment(request: Request, viewer: NamedDependency[Viewer],
                             placement_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    kind, description = form.choice("kind", ADJUSTMENT_KINDS), form.text("description")
    funder = form.choice("funder", FUNDERS, required=False) if viewer.role == "agency" else None
    requested_on = form.day("requested_on", required=False)
    return await _run(request, viewer, placement_id, form, "adjustment", lambda pid: c.RequestAdjustment(
        placement_id=pid, kind=kind, description=description, funder=funder,  # type: ignore[arg-type]
        requested_on=requested_on), "description")


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/funder", guards=[roles("agency")])
async def set_funder(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                     adjustment_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    funder = form.choice("funder", FUNDERS)
    return await _run(request, viewer, placement_id, form, "decide-" + adjustment_id, lambda pid: c.SetAdjustmentFunder(
        placement_id=pid, adjustment_id=adjustment_id, funder=funder), "funder")  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/delivered",
      guards=[roles("agency", "employer")])
async def deliver(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                  adjustment_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    delivered_on = form.day("delivered_on", required=False)
    return await _run(request, viewer, placement_id, form, "decide-" + adjustment_id, lambda pid: c.DeliverAdjustment(
        placement_id=pid, adjustment_id=adjustment_id, delivered_on=delivered_on), "delivered_on")


@post("/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/refused", guards=[roles("agency")])
async def refuse(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str],
                 adjustment_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    reason = form.choice("reason", REFUSAL_REASONS)
    return await _run(request, viewer, placement_id, form, "decide-" + adjustment_id, lambda pid: c.RefuseAdjustment(
        placement_id=pid, adjustment_id=adjustment_id, reason=reason), "reason")  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/support/check-ins", guards=[roles("agency")])
async def log_check_in(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    held_on, with_whom = form.day("held_on"), form.choice("with_whom", CHECK_IN_WITH)
    note = form.text("note", required=False)
    return await _run(request, viewer, placement_id, form, "check-in", lambda pid: c.LogCheckIn(
        placement_id=pid, held_on=held_on, with_whom=with_whom, note=note), "held_on")  # type: ignore[arg-type]


@post("/placements/{placement_id:str}/support/coaching", guards=[roles("agency")])
async def log_coaching(request: Request, viewer: NamedDependency[Viewer], placement_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    held_on, hours = form.day("held_on"), form.decimal("hours")
    with_whom = form.choice("with_whom", CHECK_IN_WITH)
    note = form.text("note", required=False)
    return await _run(request, viewer, placement_id, form, "coaching", lambda pid: c.LogCoachingSession(
        placement_id=pid, held_on=held_on, hours=hours, with_whom=with_whom, note=note),  # type: ignore[arg-type]
        "held_on")


# -- on the employer's page ----------------------------------------------------------------

async def _employer_section(request: Request, viewer: Viewer, employer: Employer) -> dict[str, Any] | None:
    if viewer.role not in ("agency", "auditor", "employer"):
        return None
    await fresh(request, viewer, (support_rm.NAME,))
    found = await support_rm.employer_activities(pool(request), viewer.tenant.id, employer.id)
    # A failed form's errors and values (set by log_activity before re-rendering).
    errors, values = request.scope.get("sroi.activity_form", ({}, {}))  # type: ignore[call-overload]
    return {**found, "employer_id": str(employer.id), "kinds": SUPPORT_ACTIVITY_KINDS, "topics": SUPPORT_TOPICS,
            "givers": SUPPORT_GIVERS, "can_log": may(viewer, c.LogEmployerSupportActivity),
            "today": date.today(), "errors": errors, "form_values": values, "idempotency": new_idempotency_key()}


EMPLOYER_SECTIONS.append(EmployerSection("_employer_support.html", _employer_section))


@post("/employers/{employer_id:str}/support-activities", guards=[roles("agency")])
async def log_activity(request: Request, viewer: NamedDependency[Viewer], employer_id: FromPath[str]) -> Response:
    employer: Employer = await get_aggregate(request, viewer, Employer, parse_id("employer", employer_id))
    form = await Form.read(request)
    fields = dict(kind=form.choice("kind", SUPPORT_ACTIVITY_KINDS), topic=form.choice("topic", SUPPORT_TOPICS),
                  held_on=form.day("held_on"), participants=form.integer("participants"),
                  given_by=form.choice("given_by", SUPPORT_GIVERS), title=form.text("title", required=False) or None)
    errors: dict[str, Any] = dict(form.errors)
    result = None
    if form.ok:
        try:
            result = await execute(request, viewer, c.LogEmployerSupportActivity(employer_id=employer.id, **fields),
                                   form)  # type: ignore[arg-type]
        except (InvalidInput, InvalidReference, Conflict) as e:
            errors = field_errors(e, form, "kind")
    if result is not None and not wants_fragment(request):
        return redirect_after(result, f"/employers/{employer.id}#support-activities")
    if result is not None:
        await wait_for_position(pool(request), viewer.tenant.id, (support_rm.NAME,), result.position)
    else:
        request.scope["sroi.activity_form"] = (errors, form.values())  # type: ignore[typeddict-unknown-key]
    status = 200 if result is not None else 422
    if wants_fragment(request):
        section = await _employer_section(request, viewer, employer)
        return page(request, "_employer_support.html", {"section": section}, status=status)
    from web.pages.employers import _employer_page  # the whole page, the message next to the field

    return await _employer_page(request, viewer, str(employer.id), status=422)


# -- on the contract page ---------------------------------------------------------------------

async def contract_section(request: Request, viewer: Viewer, contract: SocialReturnContract, *,
                           errors: dict[str, Any] | None = None, values: dict[str, str] | None = None,
                           form: str = "") -> dict[str, Any]:
    """`support_section` for contract.html: owners and targets beside the euros."""
    await fresh(request, viewer, (support_rm.NAME, compliance.NAME))
    found = await support_rm.contract_targets(pool(request), viewer.tenant.id, [contract.id], date.today())
    can_change = may(viewer, c.SetContractTargets) and not contract.is_closed
    return {"owners_section": {
        "contract_id": str(contract.id), "owners": contract.owners, "sides": OWNER_SIDES,
        "sees_owners": viewer.role in ("agency", "employer", "authority"),
        "targets": contract.targets, "achieved": found.get(contract.id), "can_change": can_change,
        "errors": errors or {}, "form_values": values or {}, "form": form, "idempotency": new_idempotency_key(),
    }}


async def _contract_run(request: Request, viewer: Viewer, contract_id: str, form: Form, form_name: str,
                        make: Any, default_field: str) -> Response:
    contract = await get_aggregate(request, viewer, SocialReturnContract, parse_id("contract", contract_id))
    errors: dict[str, Any] = dict(form.errors)
    if form.ok:
        try:
            result = await execute(request, viewer, make(contract.id), form)
            return redirect_after(result, f"/contracts/{contract.id}#owners-targets")
        except (InvalidInput, InvalidReference, Conflict) as e:
            errors = field_errors(e, form, default_field)
    from web.pages.contracts import _contract_page

    request.scope["sroi.owners_form"] = (form_name, errors, form.values())  # type: ignore[typeddict-unknown-key]
    return await _contract_page(request, viewer, str(contract.id), status=422)


@post("/contracts/{contract_id:str}/owners", guards=[roles("agency")])
async def name_owner(request: Request, viewer: NamedDependency[Viewer], contract_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    side, name, email = form.choice("side", OWNER_SIDES), form.text("name"), form.text("email")
    return await _contract_run(request, viewer, contract_id, form, "owner", lambda cid: c.NameContractOwner(
        contract_id=cid, side=side, name=name, email=email), "name")  # type: ignore[arg-type]


@post("/contracts/{contract_id:str}/targets", guards=[roles("agency")])
async def set_targets(request: Request, viewer: NamedDependency[Viewer], contract_id: FromPath[str]) -> Response:
    form = await Form.read(request)
    placements = form.integer("target_placements", required=False)
    retention = form.decimal("target_retention_12m_percent", required=False)
    return await _contract_run(request, viewer, contract_id, form, "targets", lambda cid: c.SetContractTargets(
        contract_id=cid, target_placements=placements, target_retention_12m_percent=retention),
        "target_placements")


async def contract_section_for_page(request: Request, viewer: Viewer, contract: SocialReturnContract
                                    ) -> dict[str, Any]:
    """What contracts._contract_page adds: with the errors of a failed owners/targets form, if any."""
    form_name, errors, values = request.scope.get("sroi.owners_form", ("", None, None))  # type: ignore[call-overload]
    return await contract_section(request, viewer, contract, errors=errors, values=values, form=form_name)


# -- on the dashboard --------------------------------------------------------------------------

async def dashboard_targets(request: Request, viewer: Viewer, contracts: list[dict]) -> dict[str, dict]:
    """Targets beside the euros for the dashboard's contracts that have one, by contract id."""
    ids = [UUID(str(row["contract_id"])) for row in contracts]
    found = await support_rm.contract_targets(pool(request), viewer.tenant.id, ids, date.today(),
                                              only_targeted=True)
    return {str(k): v for k, v in found.items()}


HANDLERS = [add_item, tick_item, request_adjustment, set_funder, deliver, refuse, log_check_in, log_coaching,
            log_activity, name_owner, set_targets]
