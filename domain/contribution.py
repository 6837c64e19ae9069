from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import (
    ContributionAlreadyDecided,
    InvalidValue,
    UnknownSocialEnterpriseRegister,
)
from domain.ids import name_id, new_id
from domain.valuation import BlockValue, RuleSet
from domain.values import (
    OTHER_ACTIVITY_HOURLY_EUR,
    SOCIAL_ENTERPRISE_REGISTERS,
    SOCIAL_ENTERPRISE_SHARES,
    optional_text,
    require_choice,
    require_date,
    require_decimal,
    require_id,
    require_text,
)

# Fixed for good: ids of placement contributions are derived from it.
CONTRIBUTION_ID_NAMESPACE = UUID("6f0b8a52-3c1d-4e7a-9b55-2d4c8e1f7a90")

DESCRIPTION_MAX_LEN = 1000
REASON_MAX_LEN = 1000


def _positive_money(value: object, field: str) -> Decimal:
    amount = require_decimal(value, field)
    if amount <= 0:
        raise InvalidValue("{name} must be more than 0", field, name=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidValue("{name} must be in whole cents", field, name=field)
    return amount


def _counting_figures(rules: RuleSet | None) -> tuple[dict[str, Decimal], Decimal]:
    """Social enterprise shares and the other-activity hourly rate: the rule
    set's (the contract's pinned one), or the defaults in domain.values."""
    if rules is None:
        return dict(SOCIAL_ENTERPRISE_SHARES), OTHER_ACTIVITY_HOURLY_EUR
    return dict(rules.social_enterprise_shares), rules.other_activity_hourly_eur


class Contribution(LedgerAggregate):
    """Something a supplier reports towards a contract's social return
    obligation; it counts once the contracting authority accepts it.

    A placement's value accrues over time and is worked out by the read model
    (domain.valuation), so its amount_eur is None; the other kinds have a fixed
    amount, worked out here from the inputs, which the event keeps as well.
    A decision (accept or reject) is about the contribution as a whole and final.
    """

    @staticmethod
    def create_id(kind: str, placement_id: UUID | None) -> UUID:
        # One contribution per placement, whoever reports it twice.
        if kind == "placement" and placement_id is not None:
            return Contribution.id_for_placement(placement_id)
        return new_id()

    @staticmethod
    def id_for_placement(placement_id: UUID) -> UUID:
        return name_id(CONTRIBUTION_ID_NAMESPACE, str(placement_id))

    @classmethod
    def for_placement(
        cls, placement_id: UUID, contract_id: UUID, reported_on: date
    ) -> Contribution:
        return cls(
            kind="placement",
            contract_id=require_id(contract_id, "contract_id"),
            placement_id=require_id(placement_id, "placement_id"),
            reported_on=require_date(reported_on, "reported_on"),
            amount_eur=None,
            description=None,
        )

    @classmethod
    def purchase_from_social_enterprise(
        cls,
        contract_id: UUID,
        supplier: str,
        invoice_amount_eur_excl_vat: Decimal,
        register: str,
        invoice_date: date,
        description: str,
        reported_on: date | None = None,
        rules: RuleSet | None = None,
    ) -> Contribution:
        """Counts the invoice amount excl. VAT times the register's share
        (registered social enterprise 100%, Social Enterprise NL member 50%),
        from ``rules`` (the contract's pinned rule set) if given."""
        invoice_amount = _positive_money(
            invoice_amount_eur_excl_vat, "invoice_amount_eur_excl_vat"
        )
        register = require_choice(
            register, SOCIAL_ENTERPRISE_REGISTERS, UnknownSocialEnterpriseRegister, "register"
        )
        shares, _ = _counting_figures(rules)
        share = shares[register]
        return cls(
            kind="social_enterprise_purchase",
            contract_id=require_id(contract_id, "contract_id"),
            placement_id=None,
            reported_on=require_date(reported_on or date.today(), "reported_on"),
            amount_eur=invoice_amount * share,
            description=require_text(description, "description", DESCRIPTION_MAX_LEN),
            supplier=require_text(supplier, "supplier"),
            invoice_amount_eur_excl_vat=invoice_amount,
            register=register,
            counted_share=share,
            invoice_date=require_date(invoice_date, "invoice_date"),
            rule_set=None if rules is None else rules.name,
        )

    @classmethod
    def other_activity(
        cls,
        contract_id: UUID,
        description: str,
        costs_eur: Decimal | None = None,
        hours: Decimal | None = None,
        *,
        activity_date: date,
        reported_on: date | None = None,
        rules: RuleSet | None = None,
    ) -> Contribution:
        """Counts its costs, or its employee-hours at the hourly rate (EUR 100,
        from ``rules``, the contract's, if given); exactly one of costs_eur and hours."""
        if (costs_eur is None) == (hours is None):
            raise InvalidValue("give exactly one of costs_eur and hours", "costs_eur")
        _, rate = _counting_figures(rules)
        hourly_rate = None
        if costs_eur is not None:
            costs_eur = _positive_money(costs_eur, "costs_eur")
            amount = costs_eur
        else:
            hours = require_decimal(hours, "hours")
            if hours <= 0:
                raise InvalidValue("hours must be more than 0", "hours")
            hourly_rate = rate
            amount = hours * hourly_rate
        return cls(
            kind="other_activity",
            contract_id=require_id(contract_id, "contract_id"),
            placement_id=None,
            reported_on=require_date(reported_on or date.today(), "reported_on"),
            amount_eur=amount,
            description=require_text(description, "description", DESCRIPTION_MAX_LEN),
            costs_eur=costs_eur,
            hours=hours,
            hourly_rate_eur=hourly_rate,
            activity_date=require_date(activity_date, "activity_date"),
            rule_set=None if rules is None else rules.name,
        )

    @event("ContributionReported")
    def __init__(
        self,
        kind: str,
        contract_id: UUID,
        placement_id: UUID | None,
        reported_on: date,
        amount_eur: Decimal | None,
        description: str | None,
        supplier: str | None = None,
        invoice_amount_eur_excl_vat: Decimal | None = None,
        register: str | None = None,
        counted_share: Decimal | None = None,
        invoice_date: date | None = None,
        costs_eur: Decimal | None = None,
        hours: Decimal | None = None,
        hourly_rate_eur: Decimal | None = None,
        activity_date: date | None = None,
        rule_set: str | None = None,
    ) -> None:
        self.kind = kind
        self.contract_id = contract_id
        self.placement_id = placement_id
        self.reported_on = reported_on
        self.amount_eur = amount_eur
        self.description = description
        self.supplier = supplier
        self.invoice_amount_eur_excl_vat = invoice_amount_eur_excl_vat
        self.register = register
        self.counted_share = counted_share
        self.invoice_date = invoice_date
        self.costs_eur = costs_eur
        self.hours = hours
        self.hourly_rate_eur = hourly_rate_eur
        self.activity_date = activity_date
        self.rule_set = rule_set
        self.decision: str | None = None
        self.decided_on: date | None = None
        self.decision_reason: str | None = None

    @property
    def status(self) -> str:
        """"pending", "accepted" or "rejected"."""
        return self.decision or "pending"

    def _check_decision(self, decided_on: date) -> date:
        if self.decision is not None:
            raise ContributionAlreadyDecided(
                "the contribution was already {decision} on {day}", decision=self.decision, day=self.decided_on
            )
        # Not checked against reported_on: a placement is reported as of its
        # start, and the authority may accept it before the first day.
        return require_date(decided_on, "decided_on")

    def accept(self, decided_on: date, reason: str = "") -> None:
        decided_on = self._check_decision(decided_on)
        self._accepted(
            decided_on=decided_on,
            reason=optional_text(reason, "reason", REASON_MAX_LEN),
        )

    @event("ContributionAccepted")
    def _accepted(self, decided_on: date, reason: str | None) -> None:
        self.decision = "accepted"
        self.decided_on = decided_on
        self.decision_reason = reason

    def reject(self, decided_on: date, reason: str) -> None:
        decided_on = self._check_decision(decided_on)
        self._rejected(
            decided_on=decided_on,
            reason=require_text(reason, "reason", REASON_MAX_LEN),
        )

    @event("ContributionRejected")
    def _rejected(self, decided_on: date, reason: str) -> None:
        self.decision = "rejected"
        self.decided_on = decided_on
        self.decision_reason = reason

    def record_valuation(self, value: BlockValue, rule_set: str, judged_on: date, *, candidate_id: UUID) -> None:
        """What a placement's year is worth under the contract's rule set, judged
        on the award date: recorded once, so the figures never again need the
        person's date of birth or benefit history (which erasure destroys).
        The reason in words names the person's target group and age, so it is
        sealed under their key (`candidate_id`: whose placement it is)."""
        if self.kind != "placement":
            raise InvalidValue("only a placement's contribution is valued by building blocks", "kind")
        self._valued(block_eur=value.block_eur, bonus_eur=value.bonus_eur, eligible=value.eligible,
                     reason=value.reason, capped=value.capped, rule_set=rule_set,
                     judged_on=require_date(judged_on, "judged_on"),
                     candidate_id=require_id(candidate_id, "candidate_id"), cap_hours=value.cap_hours)

    @event("ContributionValued")
    def _valued(self, block_eur: Decimal, bonus_eur: Decimal, eligible: bool, reason: str,
                capped: bool, rule_set: str, judged_on: date,
                candidate_id: UUID | None = None,  # absent from events recorded before it was sealed
                # the cap in hours of the person's group (rule sets with caps, issue 13);
                # absent from older events, recorded under the legacy cap (None)
                cap_hours: Decimal | None = None) -> None:
        self.valuation = {"block_eur": block_eur, "bonus_eur": bonus_eur, "eligible": eligible,
                          "reason": reason, "capped": capped, "rule_set": rule_set, "judged_on": judged_on,
                          "cap_hours": cap_hours}
