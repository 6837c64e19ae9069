"""Request bodies of the public JSON API (the contract partners integrate
against: keep these field names). Types are checked here, strictly, as the
OpenAPI states them (web/api/body.py): no JSON value is coerced into another
type. Ranges and business rules (dates within 1900-2100 included) are checked
once, in the domain, and come back as 422 naming the field."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=4000)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
# Exact decimals (euros, hours, percentages) are JSON strings: "24.5",
# "1000000.00". A JSON number is refused (422 naming the field): most clients
# hold one as a binary float, which is why the domain refuses floats too. The
# domain reads the text (domain.values.require_decimal) and names the field if
# it is not a finite decimal.
Amount = Annotated[str, msgspec.Meta(max_length=40, examples=["24.5"],
                                     description="a decimal number written as a JSON string")]
Competences = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=50)]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class EmployerIn(Body):
    name: Name
    # Share the record with this employer organisation of the platform (`sroi org list`).
    org_id: UUID | None = None


class EmployerLinkIn(Body):
    """PATCH /employers/{id}: share the record with an employer organisation
    (or move the share); `"org_id": null` shares it with none (unlinks)."""

    org_id: UUID | None


class ContactPersonIn(Body):
    name: Name
    email: Name
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    role: Name | None = None


class ContractIn(Body):
    employer_id: UUID
    title: Name
    contract_value_eur: Amount
    obligation_percent: Amount
    starts_on: date
    ends_on: date
    awarded_on: date
    # The rule set to pin (GET /api/v1/rule-sets): its name and version; the
    # version left out: the highest version of that name now.
    rule_set: Annotated[str, msgspec.Meta(max_length=60)]
    rule_set_version: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    accepted_by: Annotated[str, msgspec.Meta(max_length=20)] = "authority"
    # Free text as before; may be left out when authority_org_id names the authority.
    contracting_authority: Name | None = None
    # Optional: who answers for its social return, and targets beyond euros.
    employer_owner_name: Name | None = None
    employer_owner_email: Name | None = None
    agency_owner_name: Name | None = None
    agency_owner_email: Name | None = None
    target_placements: int | None = None
    target_retention_12m_percent: Amount | None = None
    # Share the contract with this contracting authority organisation (`sroi org list`).
    authority_org_id: UUID | None = None
    # "year" or "quarter": the periods its statements cover; left out: as its rule set says.
    reporting_period: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    # The obligation (docs/valuation.md, "Obligation"): its basis (contract_value,
    # wage_bill, invoiced_turnover, fixed; left out: the rule set's), the wage bill or
    # fixed amount it needs, the supplier's bid percentage (replaces obligation_percent,
    # the minimum; not below it), a cap (left out: the rule set's), the PSO step and
    # the day its certificate is valid until.
    obligation_basis: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    wage_bill_eur: Amount | None = None
    obligation_fixed_eur: Amount | None = None
    bid_percent: Amount | None = None
    obligation_cap_eur: Amount | None = None
    pso_step: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    pso_valid_until: date | None = None


class TurnoverIn(Body):
    """The turnover invoiced in a period (obligation basis invoiced_turnover);
    the same period again: a correction replacing the earlier report."""

    period_start: date
    period_end: date
    amount_eur: Amount


class CandidateIn(Body):
    full_name: Name
    date_of_birth: date
    target_group: Annotated[str, msgspec.Meta(max_length=60)]
    competences: Competences
    support_needs: Text = ""
    benefit_since: date | None = None
    status_holder: bool = False
    qualifies_via: Name | None = None


class SupportNeedsIn(Body):
    support_needs: Text


class VacancyIn(Body):
    employer_id: UUID
    title: Name
    required_competences: Competences
    hours_per_week: Amount
    optional_competences: Competences = []
    opened_on: date | None = None
    region: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class VacancyEditIn(Body):
    """PATCH: only the fields given change; `"region": null` clears the region."""

    title: Name | None = None
    required_competences: Competences | None = None
    optional_competences: Competences | None = None
    hours_per_week: Amount | None = None
    region: Annotated[str, msgspec.Meta(max_length=100)] | None | msgspec.UnsetType = msgspec.UNSET


class CloseVacancyIn(Body):
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class ContractAmendIn(Body):
    """PATCH: only the terms given change. The award date and rule set are fixed at award."""

    title: Name | None = None
    contracting_authority: Name | None = None
    contract_value_eur: Amount | None = None
    obligation_percent: Amount | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    # "year" or "quarter" (refused once a statement's period would not be one).
    reporting_period: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    obligation_basis: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    wage_bill_eur: Amount | None = None
    obligation_fixed_eur: Amount | None = None
    bid_percent: Amount | None = None
    obligation_cap_eur: Amount | None = None
    pso_step: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    pso_valid_until: date | None = None
    # Share with (or move the share to) this contracting authority organisation;
    # null: share it with none (unlink); left out: unchanged.
    authority_org_id: UUID | None | msgspec.UnsetType = msgspec.UNSET


class MatchIn(Body):
    candidate_id: UUID


class PlacementIn(Body):
    candidate_id: UUID
    employer_id: UUID
    starts_on: date
    hours_per_week: Amount
    contract_id: UUID | None = None
    vacancy_id: UUID | None = None
    permanent_contract: bool = False
    planned_end_on: date | None = None
    responsible_user_id: UUID | None = None  # an agency user; default: whoever starts it
    employment_id: UUID | None = None  # the person's employment with the agency; default: the placement is its own
    # employment, work_experience, internship, trial, bbl_new or bbl_existing
    # (checked by the domain: an unknown one is a 422 naming `arrangement`)
    arrangement: Annotated[str, msgspec.Meta(max_length=40)] = "employment"


class FeedbackIn(Body):
    score: int
    from_role: Annotated[str, msgspec.Meta(max_length=40)]
    comment: Text = ""


class HoursIn(Body):
    hours_per_week: Amount
    effective_on: date


class ExtendIn(Body):
    until: date


class EndIn(Body):
    ends_on: date
    reason: Annotated[str, msgspec.Meta(max_length=40)]


class EmploymentIn(Body):
    candidate_id: UUID
    starts_on: date
    kind: Annotated[str, msgspec.Meta(max_length=20)]
    ends_on: date | None = None  # the planned end of a fixed-term employment


class CloseContractIn(Body):
    closed_on: date
    reason: Name | None = None


class PurchaseIn(Body, tag="social_enterprise_purchase", tag_field="kind"):
    """Purchase from a social enterprise: counts 100% (registered) or 50% (Social Enterprise NL member)."""

    supplier: Name
    invoice_amount_eur_excl_vat: Amount
    register: Annotated[str, msgspec.Meta(max_length=60)]
    invoice_date: date
    description: Text


class OtherActivityIn(Body, tag="other_activity", tag_field="kind"):
    """Other activities: their costs, or EUR 100 an hour."""

    description: Text
    activity_date: date
    costs_eur: Amount | None = None
    hours: Amount | None = None


class DecisionIn(Body):
    reason: Text | None = None
    decided_on: date | None = None


class StatementIn(Body):
    """A period statement to prepare: the period, inside the contract term."""

    period_start: date
    period_end: date


class LineDecisionIn(Body):
    """One line's decision; `reason` is required for a rejection."""

    line_id: Annotated[str, msgspec.Meta(max_length=20)]
    decision: Annotated[str, msgspec.Meta(max_length=20, examples=["accepted", "rejected"])]
    reason: Text | None = None


LineDecisions = Annotated[list[LineDecisionIn], msgspec.Meta(min_length=1, max_length=1000)]
