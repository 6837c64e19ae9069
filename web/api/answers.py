"""What the public JSON API answers (the 2xx bodies), as the OpenAPI documents
them: each handler's return annotation names one of these (`Response[X]`), so
a client generated from /schema/openapi.json reads typed fields. The handlers
build the bodies (web/api/views.py, the read models); these types describe them
and the API tests check every real answer against the OpenAPI
(tests/api/openapi_check.py). Nested parts whose shape belongs to the domain
(an explanation, an obligation's terms, a rule set's body) are objects, their
fields documented where they are made (docs/valuation.md, docs/rule-sets.md).

Decimal amounts are JSON strings ("1000000.00"), dates ISO strings."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

Obj = dict[str, Any]


class Answer(msgspec.Struct, kw_only=True):
    pass


# -- commands --------------------------------------------------------------------------------

class CommandResult(Answer, kw_only=True):
    """What a command answers (201 when it created something, 200 when it changed
    something), in its header X-Event-Position the position to pass as
    `?min_position=` to read your own write. Each command's answer names the
    record it created or changed (`id`, `version`), or the record and the part of
    it (`placement_id` and `adjustment_id`, ...)."""


class Created(CommandResult, kw_only=True):
    """A new record: its id."""

    id: UUID


class Changed(CommandResult, kw_only=True):
    """A changed record: its id and new version (pass it as If-Match to the next change)."""

    id: UUID
    version: int


# -- records ---------------------------------------------------------------------------------

class Record(Answer, kw_only=True):
    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime


class EmployerRecord(Record, kw_only=True):
    name: str
    contact_persons: list[Obj]
    org_id: UUID | None
    org_name: str | None


class ContractRecord(Record, kw_only=True):
    employer_id: UUID
    title: str
    contracting_authority: str | None
    authority_org_id: UUID | None
    authority_name: str | None
    contract_value_eur: str
    obligation_percent: str
    obligation_eur: str
    starts_on: date
    ends_on: date
    awarded_on: date
    rule_set: str
    rule_set_version: int | None
    rule_set_sha256: str | None
    accepted_by: str
    reporting_period: str | None
    reports_per: str
    closed: bool
    closed_on: date | None
    owners: Obj
    targets: Obj
    obligation_basis: str | None
    wage_bill_eur: str | None
    obligation_fixed_eur: str | None
    bid_percent: str | None
    obligation_cap_eur: str | None
    pso_step: str | None
    pso_valid_until: date | None
    obligation: Obj
    turnover_reports: list[Obj]


class CandidateRecord(Record, kw_only=True):
    full_name: str | None
    date_of_birth: date | None
    target_group: str | None
    qualifies_via: str | None
    benefit_since: date | None
    status_holder: bool
    competences: list[str]
    # The agency and the person themselves only (special-category data; each read is logged).
    support_needs: str | None = None


class VacancyRecord(Record, kw_only=True):
    employer_id: UUID
    title: str
    required_competences: list[str]
    optional_competences: list[str]
    hours_per_week: str
    status: str
    opened_on: date | None
    region: str | None
    placement_id: UUID | None
    # The agency and auditors only.
    matched_candidate_ids: list[UUID] | None = None


class PlacementRecord(Record, kw_only=True):
    candidate_id: UUID
    employer_id: UUID
    contract_id: UUID | None
    vacancy_id: UUID | None
    starts_on: date
    hours_per_week: str
    hours_history: list[Obj]
    permanent_contract: bool
    planned_end_on: date | None
    arrangement: str
    ended_on: date | None
    end_reason: str | None
    active: bool
    feedback_count: int
    feedback: list[Obj]
    # The agency only.
    responsible_user_id: UUID | None = None
    employment_id: UUID | None = None


class EmploymentRecord(Record, kw_only=True):
    candidate_id: UUID
    kind: str
    starts_on: date
    planned_end_on: date | None
    ended_on: date | None
    end_reason: str | None
    active: bool
    secondments: list[UUID]


class PlacementEvents(Answer, kw_only=True):
    placement_id: UUID
    events: list[Obj]


# -- lists -----------------------------------------------------------------------------------

class Page(Answer, kw_only=True):
    """One page of a list (web/api/list_routes.py): where to go on from
    (`?cursor=`; kept from the last page, the records changed since)."""

    next_cursor: str | None
    has_more: bool


class EmployerPage(Page, kw_only=True):
    items: list[EmployerRecord]


class ContractPage(Page, kw_only=True):
    items: list[ContractRecord]


class CandidatePage(Page, kw_only=True):
    items: list[CandidateRecord]


class VacancyPage(Page, kw_only=True):
    items: list[VacancyRecord]


class PlacementPage(Page, kw_only=True):
    items: list[PlacementRecord]


# -- figures ---------------------------------------------------------------------------------

class KnownAt(Answer, kw_only=True):
    # With ?known_at=: the moment asked and the event position known then.
    known_at: datetime | None = None
    known_position: int | None = None


class ContractCompliance(KnownAt, kw_only=True):
    contract_id: UUID
    as_of: date
    obligation_eur: str
    obligation: Obj
    reported_eur: str
    accepted_eur: str
    rejected_eur: str
    pending_eur: str
    forecast_eur: str
    forecast_accepted_eur: str
    forecast_pending_eur: str
    percent_accepted: str
    surplus_eur: str
    status: str
    reports_by: str
    quarters: list[Obj]


class ComplianceOverview(KnownAt, kw_only=True):
    """Every contract you may see, rolled up per employer and in total."""

    as_of: date
    contracts: list[Obj]
    employers: list[Obj]
    total: Obj


class Contributions(Answer, kw_only=True):
    contract_id: UUID
    contributions: list[Obj]


class ContributionExplanation(Answer, kw_only=True):
    contribution_id: UUID
    explanation: Obj


class Retention(KnownAt, kw_only=True):
    as_of: date
    placements: int
    active: int
    retention: Obj
    end_reasons: Obj
    feedback_trend: Obj
    median_days_vacancy_to_start: float | None
    warning_counts: Obj
    warnings: list[Obj]
    # An employer's figures: its placements one by one.
    placement_list: list[Obj] = []


class EmployerRetention(Retention, kw_only=True):
    employer_id: UUID


class AccessLog(Answer, kw_only=True):
    entries: list[Obj]


class ContractTargets(Answer, kw_only=True):
    contract_id: UUID
    placements: int
    target_placements: int | None
    retention_12m_percent: str | None
    # True when 1 to 4 people started at least 12 months ago: the share and
    # `retention_12m_retained` are then withheld (null).
    retention_12m_withheld: bool
    retention_12m_started: int
    retention_12m_retained: int | None
    target_retention_12m_percent: str | None
    placements_met: bool | None
    retention_met: bool | None


# -- documents -------------------------------------------------------------------------------

class DocumentAttached(CommandResult, kw_only=True):
    id: UUID
    media_type: str
    size_bytes: int
    sha256: str
    line_id: str | None = None
    statement_id: UUID | None = None


class ContributionDocuments(Answer, kw_only=True):
    contribution_id: UUID
    documents: list[Obj]


class LineDocuments(Answer, kw_only=True):
    statement_id: UUID
    line_id: str
    documents: list[Obj]


# -- statements ------------------------------------------------------------------------------

class StatementPrepared(CommandResult, kw_only=True):
    id: UUID
    contract_id: UUID
    period_start: date
    period_end: date
    final: bool
    status: str


class StatementChanged(CommandResult, kw_only=True):
    id: UUID
    version: int
    status: str
    lines: int
    decided: int | None = None


class ContractStatements(Answer, kw_only=True):
    contract_id: UUID
    reporting_period: str
    reporting_period_chosen: str | None
    reports_by_statements: bool
    statements: list[Obj]
    open_periods: list[Obj]


class Statement(Answer, kw_only=True):
    id: UUID
    version: int
    contract_id: UUID
    period_start: date
    period_end: date
    final: bool
    status: str
    locked: bool
    prepared_on: date | None
    submitted_on: date | None
    decided_by: str | None
    lines: list[Obj]
    totals: Obj


# -- matching, duties, support -----------------------------------------------------------------

class Suggestions(Answer, kw_only=True):
    vacancy_id: UUID
    vacancy_status: str
    needs: Obj
    suggestions: list[Obj]


class Pipeline(Answer, kw_only=True):
    vacancy_id: UUID
    pipeline: list[Obj]


class MatchStepRecorded(CommandResult, kw_only=True):
    vacancy_id: UUID
    candidate_id: UUID
    step: str
    version: int


class Matched(CommandResult, kw_only=True):
    vacancy_id: UUID
    candidate_id: UUID


class SicknessReported(CommandResult, kw_only=True):
    placement_id: UUID
    first_sick_day: date | None = None
    recovered_on: date | None = None
    duties: list[Obj] | None = None


class DutyDone(CommandResult, kw_only=True):
    done_on: date


class Duties(Answer, kw_only=True):
    as_of: date
    statuses: list[str]
    duties: list[Obj]


class RecordDuties(Answer, kw_only=True):
    """A placement's or an employment's duties and sicknesses."""

    as_of: date
    duties: list[Obj]
    sickness: list[Obj]
    placement_id: UUID | None = None
    employment_id: UUID | None = None
    starts_on: date | None = None
    planned_end_on: date | None = None
    ended_on: date | None = None
    job_coach: Obj | None = None


class Reminders(Answer, kw_only=True):
    reminders: list[Obj]


class SupportChanged(CommandResult, kw_only=True):
    placement_id: UUID
    version: int
    item_id: str | None = None
    adjustment_id: str | None = None
    check_in_id: str | None = None
    session_id: str | None = None


class Support(Answer, kw_only=True):
    placement_id: UUID
    version: int
    opened: bool
    checklist: list[Obj]
    checklist_done: int
    adjustments: list[Obj]
    check_ins: list[Obj]
    coaching_sessions: list[Obj]
    coaching_hours_recent: str
    coaching_weeks: int
    job_coach: Obj


class OpenOnboarding(Answer, kw_only=True):
    placements: list[Obj]


class SupportActivityLogged(CommandResult, kw_only=True):
    employer_id: UUID
    activity_id: str
    version: int


class SupportActivities(Answer, kw_only=True):
    employer_id: UUID
    activities: list[Obj]
    by_topic: list[Obj]


class ResponsibleAssigned(Changed, kw_only=True):
    responsible_user_id: UUID | None


# -- portfolio, notifications, rule sets -------------------------------------------------------

class ContractPortfolio(Answer, kw_only=True):
    """With ?format=csv the same rows as text/csv."""

    as_of: date
    contracts: list[Obj]
    totals: Obj
    agencies: list[Obj]


class PlacementPortfolio(Answer, kw_only=True):
    """With ?format=csv the same rows as text/csv."""

    as_of: date
    placements: list[Obj]
    totals: Obj


class StatementPortfolio(Answer, kw_only=True):
    status: str | None
    statements: list[Obj]


class Notifications(Answer, kw_only=True):
    notifications: list[Obj]
    unread: int


class NotificationsRead(Answer, kw_only=True):
    marked_read: int


class RuleSets(Answer, kw_only=True):
    rule_sets: list[Obj]


class RuleSet(Answer, kw_only=True):
    name: str
    version: int
    owner: Obj
    sha256: str
    source: str
    created_at: datetime
    body: Obj
    created_by: str | None


class JsonSchema(Answer, kw_only=True):
    """The JSON Schema of a rule set's body (docs/rule-set.schema.json)."""

    title: str
    type: str
    properties: Obj


# -- outcomes: progression and the employee's voice -------------------------------------------

class VoiceChanged(CommandResult, kw_only=True):
    """A check-in answered (`moment`) or the sharing chosen (`sharing`)."""

    placement_id: UUID
    version: int
    moment: int | None = None
    sharing: str | None = None


class PlacementProgression(Answer, kw_only=True):
    """The placement's timeline, oldest first."""

    placement_id: UUID
    timeline: list[Obj]
    made_permanent_on: date | None = None


class Progression(Answer, kw_only=True):
    """Progression in total and per cohort (each group withheld below 5 people)."""

    total: Obj
    by_cohort: list[Obj]
    employer_id: UUID | None = None
    contract_id: UUID | None = None


class CheckIns(Answer, kw_only=True):
    """A placement's check-ins as the asker may see them."""

    placement_id: UUID
    questions: list[str]
    check_ins: list[Obj] = []
    moments: list[Obj] | None = None
    sharing: str | None = None


class Satisfaction(Answer, kw_only=True):
    """Employee satisfaction (1..5) and per question, in total and per quarter (withheld below 5 people)."""

    by_quarter: list[Obj]
    employer_id: UUID | None = None
    contract_id: UUID | None = None


# -- impact: team sessions, the yearly report, targets with their trend ---------------------------

class TeamSessionChanged(CommandResult, kw_only=True):
    """A team session held, or a manager's survey answer to it."""

    employer_id: UUID
    session_id: str
    version: int


class ImpactReport(Answer, kw_only=True):
    """The figures of one year (each figure withheld below 5 people)."""

    year: int
    period: Obj
    euros: Obj
    placements: Obj
    progression: Obj
    employee_voice: Obj
    accessibility: Obj
    team_survey: Obj
    employer_id: UUID | None = None
    contract_id: UUID | None = None


class TargetTrend(Answer, kw_only=True):
    """Each kind of target: the target, what was achieved by now, and per quarter for the trend."""

    contract_id: UUID
    as_of: date
    targets: Obj
