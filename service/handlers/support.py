"""Handlers for support that follows the person (onboarding checklist,
adjustments, check-ins, job coaching), support activities for employers, and
contract owners and targets. Composed into the ledger's table by
service/handlers/__init__.py.

Who may do what (roles; ownership through visibility):
- the agency does everything;
- the employer ticks the checklist items it acts on, adds its own items and
  marks adjustments delivered (they are delivered at its workplace);
- the person asks for adjustments themselves (Ask The Person);
- auditors read, never change.
"""
from __future__ import annotations

from typing import Any

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.placement import Placement
from domain.support import PlacementSupport
from service import commands as c
from service.errors import NotFound, PermissionDenied
from service.handlers.erasure import refuse_if_erased
from service.unit import Handlers, Outcome, Unit

handles = Handlers()


def open_support(placement: Placement, candidate: Any) -> PlacementSupport:
    """The checklist seeded from what the person stated (Ask The Person)."""
    needs = "" if candidate is None or candidate.is_erased else candidate.support_needs
    return PlacementSupport.open(placement.id, placement.candidate_id, placement.employer_id, needs,
                                 placement.starts_on)


def placement_support(u: Unit, placement_id: Any) -> tuple[Placement, PlacementSupport]:
    """The visible placement and its support record. Placements started before
    support existed get theirs on first use, seeded from the person's needs as
    they stand now (read for the seeding only, whoever asks)."""
    placement = u.get(Placement, placement_id)
    # Support follows the person: once they are erased, nothing more is recorded.
    refuse_if_erased(u, placement.candidate_id)
    try:
        return placement, u.get(PlacementSupport, PlacementSupport.id_for(placement.id))
    except NotFound:
        candidate = u.load(placement.candidate_id)
        return placement, open_support(placement, candidate if isinstance(candidate, Candidate) else None)


def _done(support: PlacementSupport, created: bool = False, **body: Any) -> Outcome:
    return Outcome(saved=[support], created=created, body={
        "placement_id": str(support.placement_id), "version": support.version, **body})


@handles(c.AddChecklistItem, roles={"agency", "employer"})
def add_checklist_item(u: Unit, cmd: c.AddChecklistItem) -> Outcome:
    placement, support = placement_support(u, cmd.placement_id)
    # An employer adds what it will do itself.
    responsible = "employer" if u.actor.role == "employer" else cmd.responsible
    item_id = support.add_item(cmd.label, responsible, placement.ended_on)
    return _done(support, True, item_id=item_id)


@handles(c.TickChecklistItem, roles={"agency", "employer"})
def tick_checklist_item(u: Unit, cmd: c.TickChecklistItem) -> Outcome:
    placement, support = placement_support(u, cmd.placement_id)
    item = support.item(cmd.item_id)
    if u.actor.role == "employer" and item["responsible"] != "employer":
        raise PermissionDenied("this checklist item is the agency's to do")
    today = u.today()
    support.tick(cmd.item_id, cmd.done_on or today, u.actor.role, placement.ended_on, today=today)
    return _done(support, item_id=cmd.item_id)


@handles(c.RequestAdjustment, roles={"agency", "employee"})
def request_adjustment(u: Unit, cmd: c.RequestAdjustment) -> Outcome:
    placement, support = placement_support(u, cmd.placement_id)
    # The person asks; deciding who pays is for the agency.
    funder = None if u.actor.role == "employee" else cmd.funder
    today = u.today()
    adjustment_id = support.request_adjustment(cmd.kind, cmd.description, cmd.requested_on or today,
                                               funder, placement.ended_on, today=today)
    return _done(support, True, adjustment_id=adjustment_id)


@handles(c.SetAdjustmentFunder, roles={"agency"})
def set_adjustment_funder(u: Unit, cmd: c.SetAdjustmentFunder) -> Outcome:
    _, support = placement_support(u, cmd.placement_id)
    support.set_funder(cmd.adjustment_id, cmd.funder)
    return _done(support, adjustment_id=cmd.adjustment_id)


@handles(c.DeliverAdjustment, roles={"agency", "employer"})
def deliver_adjustment(u: Unit, cmd: c.DeliverAdjustment) -> Outcome:
    _, support = placement_support(u, cmd.placement_id)
    today = u.today()
    support.deliver(cmd.adjustment_id, cmd.delivered_on or today, today=today)
    return _done(support, adjustment_id=cmd.adjustment_id)


@handles(c.RefuseAdjustment, roles={"agency"})
def refuse_adjustment(u: Unit, cmd: c.RefuseAdjustment) -> Outcome:
    _, support = placement_support(u, cmd.placement_id)
    today = u.today()
    support.refuse(cmd.adjustment_id, cmd.reason, cmd.refused_on or today, today=today)
    return _done(support, adjustment_id=cmd.adjustment_id)


@handles(c.LogCheckIn, roles={"agency"})
def log_check_in(u: Unit, cmd: c.LogCheckIn) -> Outcome:
    placement, support = placement_support(u, cmd.placement_id)
    check_in_id = support.log_check_in(cmd.held_on, cmd.with_whom, cmd.note, placement.starts_on,
                                       placement.ended_on, today=u.today())
    return _done(support, True, check_in_id=check_in_id)


@handles(c.LogCoachingSession, roles={"agency"})
def log_coaching_session(u: Unit, cmd: c.LogCoachingSession) -> Outcome:
    placement, support = placement_support(u, cmd.placement_id)
    session_id = support.log_coaching(cmd.held_on, cmd.hours, cmd.with_whom, cmd.note, placement.starts_on,
                                      placement.ended_on, today=u.today())
    return _done(support, True, session_id=session_id)


@handles(c.LogEmployerSupportActivity, roles={"agency"})
def log_employer_support_activity(u: Unit, cmd: c.LogEmployerSupportActivity) -> Outcome:
    employer = u.get(Employer, cmd.employer_id)
    activity_id = employer.log_support_activity(cmd.kind, cmd.topic, cmd.held_on, cmd.participants, cmd.given_by,
                                                cmd.title, today=u.today())
    return Outcome(saved=[employer], created=True, body={
        "employer_id": str(employer.id), "activity_id": activity_id, "version": employer.version})


@handles(c.NameContractOwner, roles={"agency"})
def name_contract_owner(u: Unit, cmd: c.NameContractOwner) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    contract.name_owner(cmd.side, cmd.name, cmd.email)
    return Outcome(saved=[contract], created=False, body={"id": str(contract.id), "version": contract.version})


@handles(c.SetContractTargets, roles={"agency"})
def set_contract_targets(u: Unit, cmd: c.SetContractTargets) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    contract.set_targets(cmd.target_placements, cmd.target_retention_12m_percent,
                         permanent_percent=cmd.target_permanent_percent,
                         adjustments_30d_percent=cmd.target_adjustments_30d_percent,
                         satisfaction_min=cmd.target_satisfaction_min)
    return Outcome(saved=[contract], created=False, body={"id": str(contract.id), "version": contract.version})


# -- team sessions and the managers' survey (issue 16) ---------------------------------------
# The agency records a session; the agency or the employer's own users enter
# each manager's anonymous answers (a manager without an account hands them
# to either).

@handles(c.HoldTeamSession, roles={"agency", "employer"})
def hold_team_session(u: Unit, cmd: c.HoldTeamSession) -> Outcome:
    employer = u.get(Employer, cmd.employer_id)
    session_id = employer.hold_team_session(cmd.kind, cmd.held_on, cmd.managers, today=u.today())
    return Outcome(saved=[employer], created=True, body={
        "employer_id": str(employer.id), "session_id": session_id, "version": employer.version})


@handles(c.AnswerTeamSurvey, roles={"agency", "employer"})
def answer_team_survey(u: Unit, cmd: c.AnswerTeamSurvey) -> Outcome:
    employer = u.get(Employer, cmd.employer_id)
    employer.answer_team_survey(cmd.session_id, cmd.knowledge, cmd.confidence, cmd.would_hire_again)
    # No answer id in the answer: nothing reads one manager's answers back.
    return Outcome(saved=[employer], created=True, body={
        "employer_id": str(employer.id), "session_id": cmd.session_id, "version": employer.version})


# -- reading --------------------------------------------------------------------------
SUPPORT_READERS = frozenset({"agency", "auditor", "employer", "employee"})


def read_support(ledger: Any, tenant: Any, actor: Any, placement_id: Any
                 ) -> tuple[Placement, PlacementSupport | None, list[dict[str, Any]]]:
    """A visible placement, its support record (None if not opened yet) and the
    record's history. The contracting authority does not see support (404)."""
    if actor.role not in SUPPORT_READERS:
        raise NotFound("placement", placement_id)
    placement = ledger.get(tenant, actor, Placement, placement_id)
    try:
        support, history = ledger.get_with_history(tenant, actor, PlacementSupport,
                                                   PlacementSupport.id_for(placement.id))
    except NotFound:
        return placement, None, []
    return placement, support, history
