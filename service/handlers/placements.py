"""Placements: starting one (with its support record, its contribution to a
contract and the vacancy it fills, in one transaction), feedback, hours,
extension and end."""
from __future__ import annotations

from typing import Any

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.duties import PlacementDuties, judge_schemes
from domain.employer import Employer
from domain.employment import Employment
from domain.placement import Placement
from domain.valuation import block_value
from domain.vacancy import Vacancy
from service import commands as c
from service.errors import InvalidInput, InvalidReference
from service.handlers.erasure import refuse_if_erased
from service.handlers.responsible import responsible_for_new_placement
from service.handlers.support import open_support
from service.unit import Handlers, Outcome, Unit, changed

handles = Handlers()

# The feedback roles an actor may give feedback as.
FEEDBACK_AS: dict[str, frozenset[str]] = {
    "agency": frozenset({"agency", "coach"}),
    "employer": frozenset({"employer"}),
    "employee": frozenset({"employee"}),
}


@handles(c.StartPlacement, roles={"agency"})
def start_placement(u: Unit, cmd: c.StartPlacement) -> Outcome:
    candidate = u.reference(Candidate, cmd.candidate_id, "candidate_id")
    if candidate.is_erased:
        raise InvalidReference("candidate_id", "the candidate was erased")
    u.reference(Employer, cmd.employer_id, "employer_id")
    saved: list[Any] = []
    contract = None
    if cmd.contract_id is not None:
        contract = u.reference(SocialReturnContract, cmd.contract_id, "contract_id")
        if contract.employer_id != cmd.employer_id:
            raise InvalidReference("contract_id", "the contract belongs to another employer")
        if contract.is_closed:
            raise InvalidReference("contract_id", "the contract is closed")
    vacancy = None
    if cmd.vacancy_id is not None:
        vacancy = u.reference(Vacancy, cmd.vacancy_id, "vacancy_id")
        if vacancy.employer_id != cmd.employer_id:
            raise InvalidReference("vacancy_id", "the vacancy belongs to another employer")
        if cmd.candidate_id not in vacancy.matched_candidate_ids:
            raise InvalidReference("candidate_id", "the candidate is not matched to this vacancy")
    employment = None
    if cmd.employment_id is not None:
        employment = u.reference(Employment, cmd.employment_id, "employment_id")
    placement = Placement.start(
        candidate_id=cmd.candidate_id, employer_id=cmd.employer_id,
        contract_id=cmd.contract_id, vacancy_id=cmd.vacancy_id, starts_on=cmd.starts_on,
        hours_per_week=cmd.hours_per_week, permanent_contract=cmd.permanent_contract,
        planned_end_on=cmd.planned_end_on, responsible_user_id=responsible_for_new_placement(u, cmd),
        employment_id=cmd.employment_id,
        arrangement=cmd.arrangement)
    saved.append(placement)
    # Ask The Person: the stated needs follow the person into onboarding.
    saved.append(open_support(placement, candidate))
    if employment is not None:
        # A secondment under the person's employment with the agency: the
        # duties (and the schemes, judged when the employment started) are the employment's.
        employment.add_secondment(placement.id, candidate.id, placement.starts_on, placement.planned_end_on)
        saved.append(employment)
    else:
        # The placement is its own employment: the legal employer's support
        # schemes (wage-cost benefit, no-risk policy) are judged on the
        # person's target group now, and recorded (sealed).
        saved.append(PlacementDuties.open(
            placement.id, candidate.id,
            judge_schemes(candidate.target_group, candidate.date_of_birth, cmd.starts_on), judged_on=u.today()))
    if contract is not None:
        # A placement that counts toward a contract is reported from its start;
        # its value accrues day by day and is decided on as a whole. What a
        # year of it is worth is judged now, on the award date, and recorded
        # (an arrangement other than employment by the rule set's own block).
        contribution = Contribution.for_placement(placement.id, contract.id, reported_on=cmd.starts_on)
        contribution.record_valuation(
            block_value(contract.rules, candidate.target_group,
                        benefit_since=candidate.benefit_since, date_of_birth=candidate.date_of_birth,
                        status_holder=candidate.status_holder, permanent_contract=cmd.permanent_contract,
                        judged_on=contract.awarded_on, arrangement=placement.arrangement),
            rule_set=contract.rule_set, judged_on=contract.awarded_on, candidate_id=candidate.id)
        saved.append(contribution)
    if vacancy is not None:
        # The vacancy is filled by this placement, atomically with its start.
        vacancy.fill(placement.id)
        saved.append(vacancy)
    return Outcome(saved=saved, created=True, body={"id": str(placement.id)})


@handles(c.GiveFeedback, roles={"agency", "employer", "employee"})
def give_feedback(u: Unit, cmd: c.GiveFeedback) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # feedback is about the person
    allowed = FEEDBACK_AS.get(u.actor.role, frozenset())
    if cmd.from_role in ("employee", "employer", "coach", "agency") and cmd.from_role not in allowed:
        raise InvalidInput("from_role", f"a user with role {u.actor.role!r} gives feedback as "
                           + " or ".join(repr(r) for r in sorted(allowed)))
    placement.give_feedback(cmd.score, cmd.from_role, cmd.comment, given_on=u.today())
    return changed(placement, created=True)


@handles(c.ChangeHours, roles={"agency"})
def change_hours(u: Unit, cmd: c.ChangeHours) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    placement.change_hours(cmd.hours_per_week, cmd.effective_on)
    return changed(placement)


@handles(c.ExtendPlacement, roles={"agency"})
def extend_placement(u: Unit, cmd: c.ExtendPlacement) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    placement.extend(cmd.until)
    return changed(placement)


@handles(c.EndPlacement, roles={"agency"})
def end_placement(u: Unit, cmd: c.EndPlacement) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    placement.end(cmd.ends_on, cmd.reason)
    return changed(placement)
