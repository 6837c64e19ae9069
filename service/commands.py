"""Commands: plain data, one per thing a user can ask the ledger to do."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

# A decimal amount, or its text as the API and the pages receive it ("24.5"):
# the domain reads it exactly (never through a float), bounds it and names
# the field when it is not a decimal number (domain.values.require_decimal).
Number = Decimal | str


@dataclass(frozen=True)
class RegisterEmployer:
    name: str
    # The employer organisation of the platform to share the record with.
    org_id: UUID | None = None


@dataclass(frozen=True)
class LinkEmployerOrganisation:
    """Share an employer record with an employer organisation (or move the
    share); `org_id` None: share it with none any more (unlink)."""

    employer_id: UUID
    org_id: UUID | None


@dataclass(frozen=True)
class AddContactPerson:
    employer_id: UUID
    name: str
    email: str
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class RegisterContract:
    employer_id: UUID
    title: str
    contracting_authority: str
    contract_value_eur: Number
    obligation_percent: Number
    starts_on: date
    ends_on: date
    awarded_on: date
    rule_set: str
    accepted_by: str = "authority"
    # The version of the rule set to pin; None: its highest version now.
    rule_set_version: int | None = None
    # Optional at registration, changeable later (NameContractOwner, SetContractTargets).
    employer_owner_name: str | None = None
    employer_owner_email: str | None = None
    agency_owner_name: str | None = None
    agency_owner_email: str | None = None
    target_placements: int | None = None
    target_retention_12m_percent: Number | None = None
    # The contracting authority organisation of the platform to share it with.
    authority_org_id: UUID | None = None
    # "year" or "quarter"; None: as its rule set says.
    reporting_period: str | None = None
    # The obligation beyond "% of the contract value" (domain/obligation.py);
    # basis and cap left out: the rule set's.
    obligation_basis: str | None = None
    wage_bill_eur: Number | None = None
    obligation_fixed_eur: Number | None = None
    bid_percent: Number | None = None
    obligation_cap_eur: Number | None = None
    pso_step: str | None = None
    pso_valid_until: date | None = None


@dataclass(frozen=True)
class ReportTurnover:
    """The turnover invoiced in a period, for an obligation on invoiced turnover;
    reporting the same period again corrects it."""

    contract_id: UUID
    period_start: date
    period_end: date
    amount_eur: Number


@dataclass(frozen=True)
class AmendContract:
    contract_id: UUID
    changes: dict = field(default_factory=dict)
    # Share with (or move the share to) this authority organisation.
    authority_org_id: UUID | None = None
    # Share it with no authority organisation any more (authority_org_id None).
    unlink_authority: bool = False


@dataclass(frozen=True)
class CloseContract:
    contract_id: UUID
    closed_on: date
    reason: str | None = None


@dataclass(frozen=True)
class RegisterCandidate:
    full_name: str
    date_of_birth: date
    target_group: str
    competences: list[str]
    support_needs: str
    benefit_since: date | None = None
    status_holder: bool = False
    qualifies_via: str | None = None


@dataclass(frozen=True)
class StateSupportNeeds:
    candidate_id: UUID
    support_needs: str


@dataclass(frozen=True)
class OpenVacancy:
    employer_id: UUID
    title: str
    required_competences: list[str]
    optional_competences: list[str]
    hours_per_week: Number
    opened_on: date | None = None
    region: str | None = None


@dataclass(frozen=True)
class EditVacancy:
    """Change an open vacancy; None leaves a field as it is, a blank region clears it."""

    vacancy_id: UUID
    title: str | None = None
    required_competences: list[str] | None = None
    optional_competences: list[str] | None = None
    hours_per_week: Number | None = None
    region: str | None = None


@dataclass(frozen=True)
class MatchCandidate:
    vacancy_id: UUID
    candidate_id: UUID


@dataclass(frozen=True)
class CloseVacancy:
    vacancy_id: UUID
    reason: str | None = None


@dataclass(frozen=True)
class StartPlacement:
    candidate_id: UUID
    employer_id: UUID
    contract_id: UUID | None
    vacancy_id: UUID | None
    starts_on: date
    hours_per_week: Number
    permanent_contract: bool
    planned_end_on: date | None = None
    # The agency user who looks after it (None: the agency user who starts it).
    responsible_user_id: UUID | None = None
    # The employment with the agency it belongs to (None: the placement is its own).
    employment_id: UUID | None = None
    # What kind of placement (domain.values.ARRANGEMENTS): employment unless said.
    arrangement: str = "employment"


@dataclass(frozen=True)
class GiveFeedback:
    placement_id: UUID
    score: int
    from_role: str
    comment: str = ""


@dataclass(frozen=True)
class ChangeHours:
    placement_id: UUID
    hours_per_week: Number
    effective_on: date


@dataclass(frozen=True)
class ExtendPlacement:
    placement_id: UUID
    until: date


@dataclass(frozen=True)
class EndPlacement:
    placement_id: UUID
    ends_on: date
    reason: str





@dataclass(frozen=True)
class ReportSocialEnterprisePurchase:
    contract_id: UUID
    supplier: str
    invoice_amount_eur_excl_vat: Number
    register: str
    invoice_date: date
    description: str


@dataclass(frozen=True)
class ReportOtherActivity:
    contract_id: UUID
    description: str
    activity_date: date
    costs_eur: Number | None = None
    hours: Number | None = None


@dataclass(frozen=True)
class AcceptContribution:
    contribution_id: UUID
    reason: str = ""
    decided_on: date | None = None


@dataclass(frozen=True)
class AttachDocument:
    """Evidence for a contribution: the file's bytes as received; its type is
    sniffed from them."""
    record_kind: str
    record_id: UUID
    kind: str
    filename: str
    content: bytes = field(repr=False)
    line_id: str | None = None


@dataclass(frozen=True)
class AttachStatementLineDocument:
    """Evidence for one line of a submitted statement itself (the agency's,
    while the line is undecided), beside its contribution's documents."""
    statement_id: UUID
    line_id: str
    kind: str
    filename: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class RemoveDocument:
    document_id: UUID


@dataclass(frozen=True)
class RejectContribution:
    contribution_id: UUID
    reason: str
    decided_on: date | None = None



@dataclass(frozen=True)
class EraseCandidate:
    """Forget a person: their personal data in every event becomes unreadable."""

    candidate_id: UUID


Command = (EraseCandidate | ReportSocialEnterprisePurchase | ReportOtherActivity | AcceptContribution
           | RejectContribution | RegisterEmployer | AddContactPerson | RegisterContract | AmendContract | CloseContract | ReportTurnover
           | RegisterCandidate | StateSupportNeeds | OpenVacancy | EditVacancy | MatchCandidate | CloseVacancy
           | StartPlacement | GiveFeedback | ChangeHours | ExtendPlacement | EndPlacement)


# -- matching, duties and reminders (domain/matching.py, domain/duties.py) ------------

@dataclass(frozen=True)
class StateAvailability:
    """What a candidate offers for matching: hours a week, from when, where."""

    candidate_id: UUID
    hours_per_week: Number
    available_from: date
    region: str


@dataclass(frozen=True)
class ReportSickness:
    """The person is sick from `first_sick_day` (dates only, never a reason)."""

    placement_id: UUID
    first_sick_day: date


@dataclass(frozen=True)
class ReportRecovery:
    placement_id: UUID
    recovered_on: date


@dataclass(frozen=True)
class CompleteDuty:
    placement_id: UUID
    duty_id: UUID
    done_on: date | None = None  # None: today


@dataclass(frozen=True)
class RecordReminder:
    """Once per duty and due date (the reminder's id is derived from both)."""

    duty_id: UUID
    due_on: date
    placement_id: UUID
    kind: str
    reminded_on: date
    addressed_to: UUID | None = None  # the placement's responsible agency user


@dataclass(frozen=True)
class RecordReminderMailed:
    reminder_id: UUID
    mailed_on: date
    recipients: int


@dataclass(frozen=True)
class StartEmployment:
    """The person's employment contract with the agency (domain/employment.py):
    `fixed_term` until `ends_on`, or `permanent` (no `ends_on`)."""

    candidate_id: UUID
    starts_on: date
    kind: str
    ends_on: date | None = None


@dataclass(frozen=True)
class EndEmployment:
    employment_id: UUID
    ends_on: date  # the last day of employment
    reason: str


Command = (Command | StartEmployment | EndEmployment | StateAvailability | ReportSickness | ReportRecovery | CompleteDuty  # type: ignore[misc]
           | RecordReminder | RecordReminderMailed)


@dataclass(frozen=True)
class RecordMatchStep:
    """A step of one candidate's match to a vacancy: proposed, introduced,
    trial, placed (with the placement) or declined (by whom, why)."""

    vacancy_id: UUID
    candidate_id: UUID
    step: str
    on: date | None = None  # None: today
    placement_id: UUID | None = None
    by: str | None = None
    reason: str | None = None


Command = Command | RecordMatchStep  # type: ignore[misc]


# -- support that follows the person; the employer's side; contract owners and targets --
# (domain/support.py, domain/employer.py, domain/contract.py; handlers in service/support.py)

@dataclass(frozen=True)
class AddChecklistItem:
    placement_id: UUID
    label: str
    responsible: str = "agency"  # who acts on it: employer or agency


@dataclass(frozen=True)
class TickChecklistItem:
    placement_id: UUID
    item_id: str
    done_on: date | None = None  # None: today


@dataclass(frozen=True)
class RequestAdjustment:
    placement_id: UUID
    kind: str
    description: str
    funder: str | None = None
    requested_on: date | None = None


@dataclass(frozen=True)
class SetAdjustmentFunder:
    placement_id: UUID
    adjustment_id: str
    funder: str


@dataclass(frozen=True)
class DeliverAdjustment:
    placement_id: UUID
    adjustment_id: str
    delivered_on: date | None = None


@dataclass(frozen=True)
class RefuseAdjustment:
    placement_id: UUID
    adjustment_id: str
    reason: str
    refused_on: date | None = None


@dataclass(frozen=True)
class LogCheckIn:
    placement_id: UUID
    held_on: date
    with_whom: str
    note: str = ""


@dataclass(frozen=True)
class LogCoachingSession:
    placement_id: UUID
    held_on: date
    hours: Number
    with_whom: str = "employee"
    note: str = ""


@dataclass(frozen=True)
class LogEmployerSupportActivity:
    employer_id: UUID
    kind: str
    topic: str
    held_on: date
    participants: int
    given_by: str
    title: str | None = None


@dataclass(frozen=True)
class NameContractOwner:
    contract_id: UUID
    side: str  # employer or agency
    name: str
    email: str


@dataclass(frozen=True)
class SetContractTargets:
    contract_id: UUID
    target_placements: int | None = None
    target_retention_12m_percent: Number | None = None
    # Issue 16: share of permanent contracts, adjustments delivered within 30
    # days (both %), and the employees' average satisfaction (1-5) at least.
    target_permanent_percent: Number | None = None
    target_adjustments_30d_percent: Number | None = None
    target_satisfaction_min: Number | None = None


Command = (Command | AddChecklistItem | TickChecklistItem | RequestAdjustment  # type: ignore[misc]
           | SetAdjustmentFunder | DeliverAdjustment | RefuseAdjustment | LogCheckIn | LogCoachingSession
           | LogEmployerSupportActivity | NameContractOwner | SetContractTargets)


# -- who looks after a placement (reminders are addressed to them) --------------------

@dataclass(frozen=True)
class AssignPlacementResponsible:
    placement_id: UUID
    responsible_user_id: UUID | None  # an agency user of the tenant; None: nobody in particular


Command = Command | AssignPlacementResponsible  # type: ignore[misc]


# -- period statements (domain/statement.py) ----------------------------------------------

@dataclass(frozen=True)
class PrepareStatement:
    contract_id: UUID
    period_start: date
    period_end: date


@dataclass(frozen=True)
class SubmitStatement:
    statement_id: UUID


class LineDecision(NamedTuple):
    """One line's decision in DecideStatementLines (part of a command, not one)."""

    line_id: str
    decision: str
    reason: str | None = None


@dataclass(frozen=True)
class DecideStatementLines:
    statement_id: UUID
    decisions: tuple[LineDecision, ...]
    decided_on: date | None = None


# -- progression (issue 16; service/handlers/progression.py) -----------------------------

@dataclass(frozen=True)
class ChangeRole:
    """A new role or pay scale at the employer: `scale` a code such as
    "schaal 6" or "band B" (never an amount); `role` an optional title."""

    placement_id: UUID
    scale: str
    effective_on: date
    role: str | None = None


@dataclass(frozen=True)
class CompleteTraining:
    placement_id: UUID
    training: str
    completed_on: date


@dataclass(frozen=True)
class MakePlacementPermanent:
    """Fixed-term to permanent, for a placement that is its own employment."""

    placement_id: UUID
    on: date


@dataclass(frozen=True)
class MakeEmploymentPermanent:
    """Fixed-term to permanent, for an employment with the agency."""

    employment_id: UUID
    on: date


# -- the employee's voice (issue 16; service/handlers/voice.py) --------------------------

@dataclass(frozen=True)
class AnswerCheckIn:
    """The employee's own check-in at `moment` months (1, 3, 6 or 12):
    `answers` maps each question of domain.voice.QUESTIONS to 1..5."""

    placement_id: UUID
    moment: int
    answers: dict[str, int]
    remark: str = ""


@dataclass(frozen=True)
class RecordCheckInReminder:
    """The reminders process manager told the employee a check-in is open."""

    placement_id: UUID
    moment: int
    reminded_on: date


@dataclass(frozen=True)
class ChooseCheckInSharing:
    """`aggregated` (the default) or `individual`: whether the employer may see
    this placement's check-in scores."""

    placement_id: UUID
    sharing: str


Command = (Command | ChangeRole | CompleteTraining | MakePlacementPermanent  # type: ignore[misc]
           | MakeEmploymentPermanent | AnswerCheckIn | ChooseCheckInSharing | RecordCheckInReminder)

# -- team sessions and the managers' survey (issue 16) ------------------------------------

@dataclass(frozen=True)
class HoldTeamSession:
    employer_id: UUID
    kind: str  # workshop | team_session
    held_on: date
    managers: int


@dataclass(frozen=True)
class AnswerTeamSurvey:
    """One manager's anonymous answers after a session."""

    employer_id: UUID
    session_id: str
    knowledge: int
    confidence: int
    would_hire_again: str  # yes | no | unsure


Command = Command | HoldTeamSession | AnswerTeamSurvey  # type: ignore[misc]
