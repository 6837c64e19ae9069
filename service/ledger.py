"""The use-case layer: every entry point (API, CLI, pages, demo) goes through
`Ledger.execute` for changes and the `Ledger.get_*` methods for aggregates.

A command arrives with (tenant, actor, command). The actor's role must be
allowed to issue it; the aggregates it names must be visible to the actor
(otherwise: NotFound, the same answer as for an id that does not exist);
then the aggregates are changed and saved in one transaction together with
the idempotency record. A concurrent change of the same aggregate makes the
save fail on the (aggregate id, version) key: that is a Conflict, and nothing
of the losing command is stored.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from copy import deepcopy
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate
from eventsourcing.persistence import IntegrityError

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.duties import PlacementDuties, Reminder, ReminderAlreadyRecorded, duties_for
from domain.employer import Employer
from domain.matching import DECLINED, MatchPipeline
from domain.errors import DomainError, InvalidValue
from domain.placement import Placement
from domain.support import PlacementSupport
from domain.valuation import block_value, load_rule_set
from domain.vacancy import Vacancy
from infra.eventstore import (
    IdempotencyRecord,
    Tenant,
    TenantApplication,
    TenantStores,
    event_metadata,
)
from service import commands as c
from service.actor import Actor
from infra import personal_data
from infra.registry import close_accounts_of
from service.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidReference,
    NotFound,
    PermissionDenied,
    PersonErased,
    TenantSuspended,
)

A = TypeVar("A")

KIND = {
    Employer: "employer",
    SocialReturnContract: "contract",
    Candidate: "candidate",
    Vacancy: "vacancy",
    Placement: "placement",
    Contribution: "contribution",
    PlacementDuties: "placement duties",
    Reminder: "reminder",
    MatchPipeline: "match",
    PlacementSupport: "placement support",
}

# Which roles may issue which command. Ownership (an employer acting on its
# own placements only, an employee on their own) is checked by visibility.
COMMAND_ROLES: dict[type, frozenset[str]] = {
    c.RegisterEmployer: frozenset({"agency"}),
    c.AddContactPerson: frozenset({"agency", "employer"}),
    c.RegisterContract: frozenset({"agency"}),
    c.AmendContract: frozenset({"agency"}),
    c.CloseContract: frozenset({"agency"}),
    c.RegisterCandidate: frozenset({"agency"}),
    c.StateSupportNeeds: frozenset({"agency", "employee"}),
    c.OpenVacancy: frozenset({"agency", "employer"}),
    c.EditVacancy: frozenset({"agency", "employer"}),
    c.MatchCandidate: frozenset({"agency"}),
    c.CloseVacancy: frozenset({"agency", "employer"}),
    c.StartPlacement: frozenset({"agency"}),
    c.GiveFeedback: frozenset({"agency", "employer", "employee"}),
    c.ChangeHours: frozenset({"agency"}),
    c.ExtendPlacement: frozenset({"agency"}),
    c.EndPlacement: frozenset({"agency"}),
    c.ReportSocialEnterprisePurchase: frozenset({"agency", "employer"}),
    c.ReportOtherActivity: frozenset({"agency", "employer"}),
    # Further narrowed per contract by its `accepted_by` setting.
    c.EraseCandidate: frozenset({"agency"}),
    c.AcceptContribution: frozenset({"agency", "authority"}),
    c.RejectContribution: frozenset({"agency", "authority"}),
    c.StateAvailability: frozenset({"agency", "employee"}),
    # The legal employer's duties: the agency (sickness is health data).
    c.ReportSickness: frozenset({"agency"}),
    c.ReportRecovery: frozenset({"agency"}),
    c.CompleteDuty: frozenset({"agency"}),
    c.RecordReminder: frozenset({"agency"}),
    c.RecordReminderMailed: frozenset({"agency"}),
    # The employer records the meet and greet, the trial and its own "no" on its
    # own vacancies (narrowed in record_match_step); proposing and placing stay the agency's.
    c.RecordMatchStep: frozenset({"agency", "employer"}),
}

# The feedback roles an actor may give feedback as.
FEEDBACK_AS: dict[str, frozenset[str]] = {
    "agency": frozenset({"agency", "coach"}),
    "employer": frozenset({"employer"}),
    "employee": frozenset({"employee"}),
}


@dataclass(frozen=True)
class CommandResult:
    status: int
    body: dict[str, Any]
    # The tenant's notification position after the command (0 for replays
    # of an idempotent request): readers can wait until projections reach it.
    position: int = 0
    replayed: bool = False


@dataclass
class Outcome:
    saved: list[Any]
    status: int
    body: dict[str, Any]
    # Run once the events are stored (e.g. destroying an erased person's key).
    after_commit: list[Callable[[TenantApplication], Any]] = field(default_factory=list)


@dataclass
class Unit:
    """One command's view of one tenant, as one actor."""

    app: TenantApplication
    actor: Actor
    loaded: dict[UUID, Any] = field(default_factory=dict)
    # Queries bring cached aggregates up to date with the database (another
    # process may have written); commands rely on the version check at save.
    fresh: bool = False
    # The databases (the platform's users are in "default"), for handlers that check a user.
    stores: TenantStores | None = None
    # People this command records something about: the save is refused if one
    # of them has been erased (see refuse_if_erased).
    unerased: set[UUID] = field(default_factory=set)

    def get(self, kind_cls: type[A], ident: UUID) -> A:
        """An aggregate of this type visible to the actor, else NotFound."""
        agg = self.loaded.get(ident)
        if agg is None:
            try:
                agg = self._load(ident)
            except AggregateNotFoundError:
                raise NotFound(KIND[kind_cls], ident) from None
            self.loaded[ident] = agg
        if not isinstance(agg, kind_cls) or not self.visible(agg):
            raise NotFound(KIND[kind_cls], ident)
        return agg

    def _load(self, ident: UUID) -> Any:
        agg = self.app.repository.get(ident)
        if self.fresh:
            newer = self.app.events.get(originator_id=ident, gt=agg.version)
            agg = project_aggregate(agg, newer)
        return agg

    def reference(self, kind_cls: type[A], ident: UUID | None, field_name: str) -> A:
        """Like get, for an id given in a request body: names the field.

        Always read fresh: a referenced aggregate that is not saved with the
        command has no version check to catch a stale cached copy (a contract
        closed by another process must refuse new placements here too)."""
        fresh, self.fresh = self.fresh, True
        try:
            return self.get(kind_cls, ident)  # type: ignore[arg-type]
        except NotFound:
            raise InvalidReference(field_name, f"no {KIND[kind_cls]} with id {ident}") from None
        finally:
            self.fresh = fresh

    def visible(self, agg: Any) -> bool:
        role, actor = self.actor.role, self.actor
        if role in ("agency", "auditor"):
            return True
        if isinstance(agg, Contribution):
            # A contribution is visible to whoever sees its contract.
            try:
                contract = self.loaded.get(agg.contract_id) or self._load(agg.contract_id)
            except AggregateNotFoundError:
                return False
            return self.visible(contract)
        if isinstance(agg, MatchPipeline):
            # A match is seen by whoever sees its vacancy (the employer: its own).
            try:
                vacancy = self.loaded.get(agg.vacancy_id) or self._load(agg.vacancy_id)
            except AggregateNotFoundError:
                return False
            return role == "employer" and self.visible(vacancy)
        if isinstance(agg, PlacementSupport):
            # Support is the agency's, the person's and their employer's; not the authority's.
            return ((role == "employer" and agg.employer_id == actor.employer_id)
                    or (role == "employee" and agg.candidate_id == actor.candidate_id))
        if role == "employer":
            if isinstance(agg, Employer):
                return agg.id == actor.employer_id
            if isinstance(agg, (SocialReturnContract, Vacancy, Placement)):
                return agg.employer_id == actor.employer_id
            return False
        if role == "employee":
            if isinstance(agg, Candidate):
                return agg.id == actor.candidate_id
            if isinstance(agg, Placement):
                return agg.candidate_id == actor.candidate_id
            return False
        if role == "authority":
            if isinstance(agg, SocialReturnContract):
                return agg.contracting_authority == actor.organisation
            if isinstance(agg, Placement) and agg.contract_id is not None:
                try:
                    contract = self.loaded.get(agg.contract_id) or self._load(agg.contract_id)
                except AggregateNotFoundError:
                    return False
                return (isinstance(contract, SocialReturnContract)
                        and contract.contracting_authority == actor.organisation)
            return False
        return False


Handler = Callable[[Unit, Any], Outcome]


def refuse_if_erased(u: Unit, candidate_id: UUID | None) -> None:
    """Erasure is final: a command that would record something about an erased
    person is refused (409), whoever asks. Read from the key store's erasures
    (one indexed row, written before CandidateErased, never cached), so an
    erasure by another process counts at once; the key store refuses to seal
    as well (a data key is never made again for an erased person).

    With a key store the row is read by the statement that stores the events
    (no round trip of its own; see TenantRecorder), and again here only if
    the command is refused for another reason, so that the erasure answers
    first, as if read up front (refuse_erased_now)."""
    if candidate_id is None:
        return
    if u.app.person_keys is not None:
        u.unerased.add(candidate_id)
        return
    # No key store (sealing off): the person's own record says it.
    fresh, u.fresh = u.fresh, True
    try:
        erased = getattr(u._load(candidate_id), "is_erased", False)
    except AggregateNotFoundError:
        erased = False
    finally:
        u.fresh = fresh
    if erased:
        raise PersonErased()


def refuse_erased_now(u: Unit) -> None:
    """The erasure check that refuse_if_erased left to the save, read now."""
    keys = u.app.person_keys
    for candidate_id in u.unerased:
        if keys.is_erased(u.app.tenant.id, candidate_id):
            raise PersonErased()


def _created(agg: Any) -> Outcome:
    return Outcome(saved=[agg], status=201, body={"id": str(agg.id)})


def _changed(agg: Any, status: int = 200) -> Outcome:
    return Outcome(saved=[agg], status=status, body={"id": str(agg.id), "version": agg.version})


def register_employer(u: Unit, cmd: c.RegisterEmployer) -> Outcome:
    return _created(Employer.register(cmd.name))


def add_contact_person(u: Unit, cmd: c.AddContactPerson) -> Outcome:
    employer = u.get(Employer, cmd.employer_id)
    employer.add_contact_person(cmd.name, cmd.email, phone=cmd.phone, role=cmd.role)
    return _changed(employer, 201)


def register_contract(u: Unit, cmd: c.RegisterContract) -> Outcome:
    u.reference(Employer, cmd.employer_id, "employer_id")
    outcome = _created(SocialReturnContract.register(
        employer_id=cmd.employer_id, title=cmd.title,
        contracting_authority=cmd.contracting_authority,
        contract_value_eur=cmd.contract_value_eur, obligation_percent=cmd.obligation_percent,
        starts_on=cmd.starts_on, ends_on=cmd.ends_on, awarded_on=cmd.awarded_on,
        rule_set=cmd.rule_set, accepted_by=cmd.accepted_by))
    contract = outcome.saved[0]
    for side, name, email in (("employer", cmd.employer_owner_name, cmd.employer_owner_email),
                              ("agency", cmd.agency_owner_name, cmd.agency_owner_email)):
        if name or email:
            try:
                contract.name_owner(side, name or "", email or "")
            except DomainError as e:  # name the registration's own field (employer_owner_email, ...)
                field_name = f"{side}_owner_{e.field}"
                raise InvalidValue(e.template, field_name,
                                   **{**e.params, **({"name": field_name} if "name" in e.params else {})}) from e
    if cmd.target_placements is not None or cmd.target_retention_12m_percent is not None:
        contract.set_targets(cmd.target_placements, cmd.target_retention_12m_percent)
    return outcome


def amend_contract(u: Unit, cmd: c.AmendContract) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    contract.amend(**cmd.changes)
    return _changed(contract)


def close_contract(u: Unit, cmd: c.CloseContract) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    contract.close(cmd.closed_on, cmd.reason)
    return _changed(contract)


def register_candidate(u: Unit, cmd: c.RegisterCandidate) -> Outcome:
    return _created(Candidate.register(
        full_name=cmd.full_name, date_of_birth=cmd.date_of_birth, target_group=cmd.target_group,
        competences=list(cmd.competences), support_needs=cmd.support_needs,
        benefit_since=cmd.benefit_since, status_holder=cmd.status_holder,
        qualifies_via=cmd.qualifies_via))


def state_support_needs(u: Unit, cmd: c.StateSupportNeeds) -> Outcome:
    candidate = u.get(Candidate, cmd.candidate_id)
    refuse_if_erased(u, candidate.id)
    candidate.state_support_needs(cmd.support_needs)
    return _changed(candidate)


def open_vacancy(u: Unit, cmd: c.OpenVacancy) -> Outcome:
    u.reference(Employer, cmd.employer_id, "employer_id")
    return _created(Vacancy.open(
        employer_id=cmd.employer_id, title=cmd.title,
        required_competences=list(cmd.required_competences),
        optional_competences=list(cmd.optional_competences),
        hours_per_week=cmd.hours_per_week, opened_on=cmd.opened_on, region=cmd.region))


def edit_vacancy(u: Unit, cmd: c.EditVacancy) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    vacancy.edit(title=cmd.title,
                 required_competences=None if cmd.required_competences is None else list(cmd.required_competences),
                 optional_competences=None if cmd.optional_competences is None else list(cmd.optional_competences),
                 hours_per_week=cmd.hours_per_week, region=cmd.region)
    return _changed(vacancy)


def match_candidate(u: Unit, cmd: c.MatchCandidate) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    if u.reference(Candidate, cmd.candidate_id, "candidate_id").is_erased:
        raise InvalidReference("candidate_id", "the candidate was erased")
    vacancy.match_candidate(cmd.candidate_id)
    return Outcome(saved=[vacancy], status=201,
                   body={"vacancy_id": str(vacancy.id), "candidate_id": str(cmd.candidate_id)})


def close_vacancy(u: Unit, cmd: c.CloseVacancy) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    vacancy.close(cmd.reason)
    return _changed(vacancy)


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
    placement = Placement.start(
        candidate_id=cmd.candidate_id, employer_id=cmd.employer_id,
        contract_id=cmd.contract_id, vacancy_id=cmd.vacancy_id, starts_on=cmd.starts_on,
        hours_per_week=cmd.hours_per_week, permanent_contract=cmd.permanent_contract,
        planned_end_on=cmd.planned_end_on, responsible_user_id=responsible_for_new_placement(u, cmd))
    saved.append(placement)
    # Ask The Person: the stated needs follow the person into onboarding.
    from service.support import open_support
    saved.append(open_support(placement, candidate))
    if contract is not None:
        # A placement that counts toward a contract is reported from its start;
        # its value accrues day by day and is decided on as a whole. What a
        # year of it is worth is judged now, on the award date, and recorded.
        contribution = Contribution.for_placement(placement.id, contract.id, reported_on=cmd.starts_on)
        contribution.record_valuation(
            block_value(load_rule_set(contract.rule_set), candidate.target_group,
                        benefit_since=candidate.benefit_since, date_of_birth=candidate.date_of_birth,
                        status_holder=candidate.status_holder, permanent_contract=cmd.permanent_contract,
                        judged_on=contract.awarded_on),
            rule_set=contract.rule_set, judged_on=contract.awarded_on, candidate_id=candidate.id)
        saved.append(contribution)
    if vacancy is not None:
        # The vacancy is filled by this placement, atomically with its start.
        vacancy.fill(placement.id)
        saved.append(vacancy)
    return Outcome(saved=saved, status=201, body={"id": str(placement.id)})


def give_feedback(u: Unit, cmd: c.GiveFeedback) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # feedback is about the person
    allowed = FEEDBACK_AS.get(u.actor.role, frozenset())
    if cmd.from_role in ("employee", "employer", "coach", "agency") and cmd.from_role not in allowed:
        raise InvalidInput("from_role", f"a user with role {u.actor.role!r} gives feedback as "
                           + " or ".join(repr(r) for r in sorted(allowed)))
    placement.give_feedback(cmd.score, cmd.from_role, cmd.comment)
    return _changed(placement, 201)


def change_hours(u: Unit, cmd: c.ChangeHours) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    placement.change_hours(cmd.hours_per_week, cmd.effective_on)
    return _changed(placement)


def extend_placement(u: Unit, cmd: c.ExtendPlacement) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    placement.extend(cmd.until)
    return _changed(placement)


def end_placement(u: Unit, cmd: c.EndPlacement) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    placement.end(cmd.ends_on, cmd.reason)
    return _changed(placement)


def report_purchase(u: Unit, cmd: c.ReportSocialEnterprisePurchase) -> Outcome:
    contract = _open_contract(u, cmd.contract_id)
    return _created(Contribution.purchase_from_social_enterprise(
        contract_id=cmd.contract_id, supplier=cmd.supplier,
        invoice_amount_eur_excl_vat=cmd.invoice_amount_eur_excl_vat, register=cmd.register,
        invoice_date=cmd.invoice_date, description=cmd.description, rule_set=contract.rule_set))


def report_other_activity(u: Unit, cmd: c.ReportOtherActivity) -> Outcome:
    contract = _open_contract(u, cmd.contract_id)
    return _created(Contribution.other_activity(
        contract_id=cmd.contract_id, description=cmd.description, costs_eur=cmd.costs_eur,
        hours=cmd.hours, activity_date=cmd.activity_date, rule_set=contract.rule_set))


def _open_contract(u: Unit, contract_id: UUID) -> SocialReturnContract:
    contract = u.get(SocialReturnContract, contract_id)
    if contract.is_closed:
        raise InvalidInput("contract_id", "the contract is closed")
    return contract


def _decider(u: Unit, contribution: Contribution) -> None:
    """Only the party the contract names decides on its contributions."""
    contract = u.get(SocialReturnContract, contribution.contract_id)
    if u.actor.role != contract.accepted_by:
        raise PermissionDenied(f"contributions to this contract are decided by the {contract.accepted_by}")


def accept_contribution(u: Unit, cmd: c.AcceptContribution) -> Outcome:
    contribution = u.get(Contribution, cmd.contribution_id)
    _decider(u, contribution)
    contribution.accept(cmd.decided_on or date.today(), cmd.reason)
    return _changed(contribution)


def reject_contribution(u: Unit, cmd: c.RejectContribution) -> Outcome:
    contribution = u.get(Contribution, cmd.contribution_id)
    _decider(u, contribution)
    contribution.reject(cmd.decided_on or date.today(), cmd.reason)
    return _changed(contribution)


def erase_candidate(u: Unit, cmd: c.EraseCandidate) -> Outcome:
    candidate = u.get(Candidate, cmd.candidate_id)
    candidate.erase(date.today())
    # Destroy the key and close the person's accounts before the erasure is
    # recorded: once CandidateErased is visible, nothing of theirs is readable
    # and they cannot sign in. Both are idempotent (a retry, or an erasure
    # whose event failed to store, repeats them harmlessly).
    if u.app.person_keys is not None:
        u.app.person_keys.erase(u.app.tenant.id, candidate.id, u.actor.user_id)
    if u.stores is not None:
        close_accounts_of(u.stores.database("default"), u.app.tenant.id, candidate.id)
    return _changed(candidate)


def state_availability(u: Unit, cmd: c.StateAvailability) -> Outcome:
    candidate = u.get(Candidate, cmd.candidate_id)
    refuse_if_erased(u, candidate.id)
    candidate.state_availability(cmd.hours_per_week, cmd.available_from, cmd.region)
    return _changed(candidate)


def _placement_duties(u: Unit, placement: Placement) -> PlacementDuties:
    """The placement's duties record, opened on first use (its id is derived
    from the placement's, so two first uses at once clash and one retries)."""
    try:
        return u.get(PlacementDuties, PlacementDuties.id_for(placement.id))
    except NotFound:
        return PlacementDuties.open(placement.id)


def _duty_view(d: Any) -> dict[str, Any]:
    return {"id": str(d.id), "kind": d.kind, "due_on": d.due_on.isoformat()}


def report_sickness(u: Unit, cmd: c.ReportSickness) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # health data
    duties = _placement_duties(u, placement)
    duties.report_sickness(cmd.first_sick_day, placement.starts_on, placement.ended_on)
    scheduled = [d for d in duties_for(placement.id, placement.starts_on, placement.planned_end_on,
                                       duties.timelines) if d.sickness_starts_on == cmd.first_sick_day]
    return Outcome(saved=[duties], status=201, body={
        "placement_id": str(placement.id), "first_sick_day": cmd.first_sick_day.isoformat(),
        "duties": [_duty_view(d) for d in scheduled]})


def report_recovery(u: Unit, cmd: c.ReportRecovery) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # health data
    duties = _placement_duties(u, placement)
    duties.recover(cmd.recovered_on)
    return Outcome(saved=[duties], status=200, body={
        "placement_id": str(placement.id), "recovered_on": cmd.recovered_on.isoformat()})


def complete_duty(u: Unit, cmd: c.CompleteDuty) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    duties = _placement_duties(u, placement)
    known = {d.id: d for d in duties_for(placement.id, placement.starts_on, placement.planned_end_on,
                                         duties.timelines)}
    if cmd.duty_id not in known:
        raise NotFound("duty", cmd.duty_id)
    duty = known[cmd.duty_id]
    duties.complete(duty, cmd.done_on or date.today())
    return Outcome(saved=[duties], status=200, body={**_duty_view(duty), "done_on": duties.done[duty.id].isoformat()})


def record_reminder(u: Unit, cmd: c.RecordReminder) -> Outcome:
    try:
        u.get(Reminder, Reminder.id_for(cmd.duty_id, cmd.due_on))
    except NotFound:
        return _created(Reminder.record(cmd.duty_id, cmd.due_on, cmd.placement_id, cmd.kind, cmd.reminded_on,
                                        cmd.addressed_to))
    raise ReminderAlreadyRecorded("a reminder of this duty and due date was already recorded")


def record_reminder_mailed(u: Unit, cmd: c.RecordReminderMailed) -> Outcome:
    reminder = u.get(Reminder, cmd.reminder_id)
    reminder.mailed(cmd.mailed_on, cmd.recipients)
    return _changed(reminder)


EMPLOYER_STEPS = ("introduced", "trial", DECLINED)


def record_match_step(u: Unit, cmd: c.RecordMatchStep) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    on = cmd.on or date.today()
    if u.actor.role == "employer":
        # Its own vacancy (checked above: another's is NotFound) and a candidate
        # the agency proposed to it; the employer sees no candidate record itself.
        if cmd.step not in EMPLOYER_STEPS:
            raise PermissionDenied(f"the step {cmd.step!r} is recorded by the agency")
        if cmd.by not in (None, "employer"):
            raise InvalidInput("by", "an employer declines on its own behalf: by must be 'employer'")
        cmd = c.RecordMatchStep(**{**asdict(cmd), "by": "employer" if cmd.step == DECLINED else cmd.by})
        pipeline = u.get(MatchPipeline, MatchPipeline.id_for(vacancy.id, cmd.candidate_id))
        candidate = u._load(cmd.candidate_id)
        if getattr(candidate, "is_erased", False):
            raise NotFound("match", pipeline.id)
    elif u.reference(Candidate, cmd.candidate_id, "candidate_id").is_erased:
        raise InvalidReference("candidate_id", "the candidate was erased")
    else:
        try:
            pipeline = u.get(MatchPipeline, MatchPipeline.id_for(vacancy.id, cmd.candidate_id))
        except NotFound:
            pipeline = None
    saved: list[Any] = []
    if cmd.step == "proposed":
        if pipeline is not None:
            raise InvalidInput("step", f"this candidate was already proposed; the match is at {pipeline.step!r}")
        pipeline = MatchPipeline.propose(vacancy.id, cmd.candidate_id, on)
        if cmd.candidate_id not in vacancy.matched_candidate_ids:
            vacancy.match_candidate(cmd.candidate_id)  # so a placement can name the vacancy
            saved.append(vacancy)
    elif pipeline is None:
        raise InvalidInput("step", f"step {cmd.step!r} cannot come first: propose the candidate first")
    elif cmd.step == DECLINED:
        pipeline.decline(cmd.by, cmd.reason, on)
    else:
        if cmd.step == "placed":
            if cmd.placement_id is None:
                raise InvalidInput("placement_id", "the step 'placed' names the placement")
            placement = u.reference(Placement, cmd.placement_id, "placement_id")
            if placement.candidate_id != cmd.candidate_id or placement.employer_id != vacancy.employer_id:
                raise InvalidReference("placement_id", "the placement is not this candidate's at this employer")
        pipeline.advance(cmd.step, on, cmd.placement_id)
    return Outcome(saved=[pipeline, *saved], status=201 if cmd.step == "proposed" else 200, body={
        "vacancy_id": str(vacancy.id), "candidate_id": str(cmd.candidate_id), "step": pipeline.step,
        "version": pipeline.version})


HANDLERS: dict[type, Handler] = {
    c.EraseCandidate: erase_candidate,
    c.ReportSocialEnterprisePurchase: report_purchase,
    c.ReportOtherActivity: report_other_activity,
    c.AcceptContribution: accept_contribution,
    c.RejectContribution: reject_contribution,
    c.RegisterEmployer: register_employer,
    c.AddContactPerson: add_contact_person,
    c.RegisterContract: register_contract,
    c.AmendContract: amend_contract,
    c.CloseContract: close_contract,
    c.RegisterCandidate: register_candidate,
    c.StateSupportNeeds: state_support_needs,
    c.OpenVacancy: open_vacancy,
    c.EditVacancy: edit_vacancy,
    c.MatchCandidate: match_candidate,
    c.CloseVacancy: close_vacancy,
    c.StartPlacement: start_placement,
    c.GiveFeedback: give_feedback,
    c.ChangeHours: change_hours,
    c.ExtendPlacement: extend_placement,
    c.EndPlacement: end_placement,
    c.StateAvailability: state_availability,
    c.ReportSickness: report_sickness,
    c.ReportRecovery: report_recovery,
    c.CompleteDuty: complete_duty,
    c.RecordReminder: record_reminder,
    c.RecordReminderMailed: record_reminder_mailed,
    c.RecordMatchStep: record_match_step,
}


def _json_default(value: Any) -> Any:
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def fingerprint(actor: Actor, command: Any) -> str:
    payload = {"command": type(command).__name__, "user": str(actor.user_id), "data": asdict(command)}
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=_json_default).encode()).hexdigest()


# A command that lost a race is decided again on the state as stored now.
# Each lost race means another command committed, so a burst of N concurrent
# changes to one record needs at most N-1 retries; the bound and the jittered
# pause (full jitter, growing per attempt) keep a hot record from turning into
# a thundering herd, and a record that keeps moving ends in a clear 409.
CONFLICT_ATTEMPTS = 12
CONFLICT_PAUSE_BASE = 0.002  # seconds; attempt n pauses uniform(0, base * 2**n), capped below
CONFLICT_PAUSE_MAX = 0.05


def conflict_pause(attempt: int) -> float:
    """The pause before retry `attempt` (1 = the first retry): full jitter."""
    return random.uniform(0, min(CONFLICT_PAUSE_MAX, CONFLICT_PAUSE_BASE * 2 ** attempt))


class Ledger:
    def __init__(self, stores: TenantStores,
                 on_committed: Callable[[Tenant, int], None] | None = None,
                 conflict_attempts: int = CONFLICT_ATTEMPTS):
        self.stores = stores
        # Called after each command that stored events (tells the projections).
        self.on_committed = on_committed
        self.conflict_attempts = conflict_attempts

    # -- commands ------------------------------------------------------------
    def execute(self, tenant: Tenant, actor: Actor, command: Any, *,
                idempotency_key: str | None = None,
                correlation_id: str | None = None,
                expected_version: int | None = None) -> CommandResult:
        if not tenant.is_active:
            raise TenantSuspended()
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise TypeError(f"unknown command {type(command).__name__}")
        if actor.role not in COMMAND_ROLES[type(command)]:
            raise PermissionDenied(f"role {actor.role!r} may not {_verb(command)}")
        app = self.stores.for_tenant(tenant)
        database = self.stores.database(tenant.database)
        record = None
        if idempotency_key is not None:
            if not (1 <= len(idempotency_key) <= 200):
                raise InvalidInput("Idempotency-Key", "must be 1-200 characters")
            fp = fingerprint(actor, command)
            earlier = self._replay(database, tenant, idempotency_key, fp)
            if earlier is not None:
                return earlier

        meta = {
            "user_id": str(actor.user_id),
            "role": actor.role,
            "organisation": actor.organisation,
            "correlation_id": correlation_id or str(uuid.uuid4()),
            "recorded_at": datetime.now(timezone.utc).isoformat(),
        }
        for attempt in range(1, self.conflict_attempts + 1):
            unit = Unit(app=app, actor=actor, fresh=expected_version is not None, stores=self.stores)
            try:
                outcome = handler(unit, command)
                if expected_version is not None:
                    self._check_expected_version(outcome, expected_version)
            except Exception as e:
                refuse_erased_now(unit)  # an erased person answers before any other refusal
                if not isinstance(e, DomainError):
                    raise
                error = Conflict(str(e)) if e.is_state_conflict else InvalidInput(e.field, str(e))
                error.template, error.params = e.template, e.params
                raise error from e
            if idempotency_key is not None:
                record = IdempotencyRecord(tenant_id=tenant.id, key=idempotency_key, fingerprint=fp,
                                           status_code=outcome.status, response=outcome.body)
            token = event_metadata.set(meta)
            try:
                recordings = app.save(*outcome.saved, idempotency=record, unerased=unit.unerased)
            except personal_data.PersonErased:
                # The key store refused to seal data of an erased person (an
                # erasure the checks above could not see yet): nothing was stored.
                raise PersonErased() from None
            except IntegrityError as e:
                constraint = getattr(getattr(e.__cause__, "diag", None), "constraint_name", None)
                if record is not None and constraint == "idempotency_keys_pkey":
                    # A concurrent retry of the same request committed first.
                    earlier = self._replay(database, tenant, idempotency_key or "", record.fingerprint)
                    if earlier is not None:
                        return earlier
                # Someone else changed one of these aggregates after we loaded
                # it (or our cache was stale). Nothing of ours was stored.
                # Decide again on the state as stored now: the command's
                # rules are checked again, so a change that no longer fits
                # (ending a placement twice) is refused as a conflict, while
                # one that still fits (a second feedback) is kept, not lost.
                self._refresh(app, unit)
                if attempt < self.conflict_attempts and expected_version is None:
                    time.sleep(conflict_pause(attempt))
                    continue
                raise Conflict(
                    "the record was changed by another request at the same time; "
                    "nothing was stored: reload and try again") from None
            finally:
                event_metadata.reset(token)
            position = max((r.notification.id for r in recordings), default=0)
            for action in outcome.after_commit:
                action(app)
            if self.on_committed is not None:
                self.on_committed(tenant, position)
            return CommandResult(status=outcome.status, body=outcome.body, position=position)
        raise AssertionError("unreachable")

    @staticmethod
    def _refresh(app: TenantApplication, unit: Unit) -> None:
        """Bring the cached copies of the aggregates this command loaded up to
        date with the database (only the newer events are read)."""
        cache = app.repository.cache
        if cache is None:
            return
        for ident in unit.loaded:
            try:
                cached = cache.get(ident)
            except KeyError:
                continue
            try:
                newer = app.events.get(originator_id=ident, gt=cached.version)
                cache.put(ident, project_aggregate(deepcopy(cached), newer))
            except Exception:
                cache.get(ident, evict=True)

    @staticmethod
    def _check_expected_version(outcome: Outcome, expected_version: int) -> None:
        """If-Match: the command's target must still be at the version the client saw."""
        target = outcome.saved[0]
        pending = len(getattr(target, "_pending_events", []) or [])
        before = target.version - pending
        if before != expected_version:
            raise Conflict(f"the record is at version {before}, not {expected_version}: "
                           "it was changed since you read it; reload and try again")

    def _replay(self, database: Any, tenant: Tenant, key: str, fp: str) -> CommandResult | None:
        found = database.find_idempotent_response(tenant.id, key)
        if found is None:
            return None
        stored_fp, status, body = found
        if stored_fp != fp:
            raise IdempotencyKeyReused()
        return CommandResult(status=status, body=body, replayed=True)

    # -- queries -------------------------------------------------------------
    def get(self, tenant: Tenant, actor: Actor, kind_cls: type[A], ident: UUID) -> A:
        return Unit(app=self.stores.for_tenant(tenant), actor=actor, fresh=True).get(kind_cls, ident)

    def record_special_category_read(self, tenant: Tenant, actor: Actor, subject_id: UUID, fields: list[str],
                                     via: str, correlation_id: str | None = None) -> None:
        """Every view of special-category data (support needs, health notes) is
        logged: who, when, whose, which fields, through what. Auditors read it."""
        keys = self.stores.database(tenant.database).person_keys
        if keys is not None:
            keys.log_read(tenant.id, actor.user_id, actor.role, actor.organisation, subject_id, fields, via,
                          correlation_id)

    def history(self, tenant: Tenant, actor: Actor, kind_cls: type, ident: UUID) -> list[dict[str, Any]]:
        """The stored events of one visible aggregate, with their metadata, oldest first."""
        return self.get_with_history(tenant, actor, kind_cls, ident)[1]

    def get_with_history(self, tenant: Tenant, actor: Actor, kind_cls: type[A], ident: UUID,
                         latest: int | None = None, skip: int = 0) -> tuple[A, list[dict[str, Any]]]:
        """A visible aggregate and its history (oldest first; with `latest`, only
        that many of the newest events after skipping the `skip` newest), with
        one visibility check and load."""
        app = self.stores.for_tenant(tenant)
        aggregate = self.get(tenant, actor, kind_cls, ident)
        out = []
        stored_events = (app.tenant_recorder.select_events(ident) if latest is None else reversed(
            app.tenant_recorder.select_events(ident, desc=True, limit=latest, lte=aggregate.version - skip)))
        for stored in stored_events:
            state = app.metadata_mapper.decode_state(stored.state, stored.topic.rsplit(".", 1)[-1])
            meta = state.pop("_meta", {})
            timestamp = state.pop("timestamp", None)
            state.pop("originator_topic", None)
            out.append({
                "version": stored.originator_version,
                "type": stored.topic.rsplit(".", 1)[-1],
                "occurred_at": timestamp,
                "data": state,
                "metadata": meta,
            })
        return aggregate, out

def _verb(command: Any) -> str:
    name = type(command).__name__
    words = "".join(" " + ch.lower() if ch.isupper() else ch for ch in name).strip()
    return words


# Support that follows the person, the employer's side, contract owners and targets.
from service.support import HANDLERS as _SUPPORT_HANDLERS, ROLES as _SUPPORT_ROLES  # noqa: E402

HANDLERS.update(_SUPPORT_HANDLERS)
COMMAND_ROLES.update(_SUPPORT_ROLES)

# Who looks after a placement.
from service.responsible import (  # noqa: E402
    HANDLERS as _RESPONSIBLE_HANDLERS,
    ROLES as _RESPONSIBLE_ROLES,
    responsible_for_new_placement,
)

HANDLERS.update(_RESPONSIBLE_HANDLERS)
COMMAND_ROLES.update(_RESPONSIBLE_ROLES)
