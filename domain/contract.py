from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate

from domain.errors import (
    ContractAlreadyClosed,
    DomainError,
    InvalidContractValue,
    InvalidObligationPercentage,
    InvalidValue,
    TermEndsBeforeStart,
    UnknownRuleSet,
)
from domain.employer import _require_email as require_email
from domain.statement import check_period, misaligned
from domain.obligation import (
    OBLIGATION_BASES,
    PSO_STEPS,
    Obligation,
    ObligationTerms,
    TurnoverPeriod,
    current_turnover,
    obligation,
)
from domain.rulesets import frozen_v1_body
from domain.valuation import (
    REPORTING_PERIODS,
    PinnedRuleSet,
    RuleSet,
    RuleSetDataError,
    pinned_rules,
    rule_set_sha256,
)
from domain.values import (
    optional_text,
    require_choice,
    require_date,
    require_decimal,
    require_id,
    require_text,
)

AMENDABLE_TERMS = (
    "title",
    "contracting_authority",
    "contract_value_eur",
    "obligation_percent",
    "starts_on",
    "ends_on",
    # The contract's own choice of reporting period ("year" or "quarter");
    # None: the rule set's (`reports_per`). Amended only to a choice, not back to None.
    "reporting_period",
    # The obligation beyond "% of the contract value" (issue 13, domain/obligation.py).
    "obligation_basis",
    "wage_bill_eur",
    "obligation_fixed_eur",
    "bid_percent",
    "obligation_cap_eur",
    "pso_step",
    "pso_valid_until",
)
#: The obligation terms, with what a contract registered before they existed has.
OBLIGATION_DEFAULTS: dict[str, Any] = {
    "obligation_basis": "contract_value", "wage_bill_eur": None, "obligation_fixed_eur": None,
    "bid_percent": None, "obligation_cap_eur": None, "pso_step": None, "pso_valid_until": None}
# Fixed at award: placements' contributions were valued by these (eligibility,
# age and time on benefit are judged on the award date, under the rule set).
# The rule set is pinned whole (name, version, sha256 and body): see `rules`.
FIXED_TERMS = ("awarded_on", "rule_set", "rule_set_version")


class NotTurnoverBased(DomainError):
    """Turnover reported for a contract whose obligation is not a share of it."""

    is_state_conflict = True
    default_field = "obligation_basis"


def _amount(value: Any, name: str, *, allow_zero: bool = False) -> Decimal | None:
    if value is None:
        return None
    number = require_decimal(value, name)
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidValue("{name} must be more than 0", name, name=name)
    if number != number.quantize(Decimal("0.01")):
        raise InvalidValue("{name} must be in whole cents", name, name=name)
    return number


def _obligation_terms(terms: dict[str, Any], percent: Decimal, ends_on: date) -> dict[str, Any]:
    """The obligation terms (issue 13), checked as a whole."""
    basis = require_choice(terms.get("obligation_basis") or "contract_value", OBLIGATION_BASES,
                           InvalidValue, "obligation_basis")
    wage_bill = _amount(terms.get("wage_bill_eur"), "wage_bill_eur")
    fixed = _amount(terms.get("obligation_fixed_eur"), "obligation_fixed_eur")
    if basis == "wage_bill" and wage_bill is None:
        raise InvalidValue("wage_bill_eur is required when the obligation is a share of the wage bill",
                           "wage_bill_eur")
    if basis == "fixed" and fixed is None:
        raise InvalidValue("obligation_fixed_eur is required when the obligation is a fixed amount",
                           "obligation_fixed_eur")
    bid = terms.get("bid_percent")
    if bid is not None:
        bid = require_decimal(bid, "bid_percent")
        if not percent <= bid <= 100:
            # The bid replaces the minimum; a bid under the minimum is not a valid bid.
            raise InvalidValue("bid_percent must be from obligation_percent ({minimum}) to 100",
                               "bid_percent", minimum=percent)
    step = terms.get("pso_step")
    if step is not None:
        step = require_choice(step, PSO_STEPS, InvalidValue, "pso_step")
    valid_until = None if terms.get("pso_valid_until") is None else require_date(
        terms["pso_valid_until"], "pso_valid_until")
    if step is not None and valid_until is None:
        raise InvalidValue("pso_valid_until is required with a PSO step: the discount needs the "
                           "certificate to stay valid through the term", "pso_valid_until")
    return {"obligation_basis": basis, "wage_bill_eur": wage_bill, "obligation_fixed_eur": fixed,
            "bid_percent": bid, "obligation_cap_eur": _amount(terms.get("obligation_cap_eur"), "obligation_cap_eur"),
            "pso_step": step, "pso_valid_until": valid_until}


def _validated_terms(terms: dict[str, Any]) -> dict[str, Any]:
    """Check the contract terms as a whole; shared by register and amend."""
    value = require_decimal(
        terms["contract_value_eur"], "contract_value_eur", InvalidContractValue
    )
    if value <= 0:
        raise InvalidContractValue("contract_value_eur must be more than 0")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidContractValue("contract_value_eur must be in whole cents")
    percent = require_decimal(
        terms["obligation_percent"], "obligation_percent", InvalidObligationPercentage
    )
    if not 0 <= percent <= 100:
        raise InvalidObligationPercentage(
            "obligation_percent must be between 0 and 100"
        )
    starts_on = require_date(terms["starts_on"], "starts_on")
    ends_on = require_date(terms["ends_on"], "ends_on")
    awarded_on = require_date(terms["awarded_on"], "awarded_on")
    if ends_on <= starts_on:
        raise TermEndsBeforeStart("ends_on must be after starts_on")
    if awarded_on > ends_on:
        raise InvalidValue("awarded_on must not be after ends_on", "awarded_on")
    return {
        "title": require_text(terms["title"], "title"),
        "contracting_authority": require_text(
            terms["contracting_authority"], "contracting_authority"
        ),
        "contract_value_eur": value,
        "obligation_percent": percent,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "awarded_on": awarded_on,
        "rule_set": require_text(terms["rule_set"], "rule_set"),
        "reporting_period": None if terms.get("reporting_period") is None else require_choice(
            terms["reporting_period"], REPORTING_PERIODS, InvalidValue, "reporting_period"),
        **_obligation_terms(terms, percent, ends_on),
    }


def upcast_rule_set(name: str) -> dict[str, Any]:
    """The pinned rule set fields of a contract registered before pinning (its
    event names the rule set only): version 1 of that shipped rule set, the one
    its figures were computed by. The read models upcast with it too."""
    body = frozen_v1_body(name)
    if body is None:
        raise RuleSetDataError(f"no shipped version 1 of rule set {name!r} to upcast a contract to")
    return {"rule_set_version": 1, "rule_set_sha256": rule_set_sha256(body), "rule_set_body": body}


def _checked_pin(rule_set: Any) -> PinnedRuleSet:
    """The rule set a contract pins, as the platform's table gave it (looked
    up by name and version in the service): its body must hash to its
    sha256, parse, and name the same rule set and version."""
    if not isinstance(rule_set, PinnedRuleSet):
        raise UnknownRuleSet("rule_set must be a published rule set (name and version)")
    if rule_set_sha256(rule_set.body) != rule_set.sha256:
        raise InvalidValue("the body of rule set {name} v{version} does not match its sha256", "rule_set",
                           name=rule_set.name, version=rule_set.version)
    try:
        rules = pinned_rules(rule_set.sha256, rule_set.body)
    except RuleSetDataError as e:
        raise InvalidValue("rule set {name} v{version} is not valid: {error}", "rule_set",
                           name=rule_set.name, version=rule_set.version, error=str(e)) from None
    if (rules.name, rules.version) != (rule_set.name, rule_set.version):
        raise InvalidValue("rule set {name} v{version} has the body of {other} v{other_version}", "rule_set",
                           name=rule_set.name, version=rule_set.version, other=rules.name,
                           other_version=rules.version)
    return rule_set


class AuthorityDecisionPending(DomainError):
    """Unlinking (or moving) the authority while a statement awaits its decision."""

    is_state_conflict = True
    default_field = "authority_org_id"


# Who decides on reported contributions: the contracting authority (the
# usual case: WIZZR-style acceptance) or, where the authority delegates, the agency.
ACCEPTED_BY = ("authority", "agency")
# Who is named responsible for the social return: one person at each side.
#: A contract's targets beyond euros (issue 6; the last three issue 16); None: no target.
NO_TARGETS: dict[str, Any] = {"placements": None, "retention_12m_percent": None, "permanent_percent": None,
                              "adjustments_30d_percent": None, "satisfaction_min": None}
OWNER_SIDES = ("employer", "agency")
MAX_TARGET_PLACEMENTS = 100_000


class SocialReturnContract(LedgerAggregate):
    """A public contract with a social return clause, held by an employer."""

    @classmethod
    def register(
        cls,
        employer_id: UUID,
        title: str,
        contracting_authority: str,
        contract_value_eur: Decimal,
        obligation_percent: Decimal,
        starts_on: date,
        ends_on: date,
        awarded_on: date,
        rule_set: PinnedRuleSet,
        accepted_by: str = "authority",
        reporting_period: str | None = None,
        obligation_basis: str | None = None,
        wage_bill_eur: Decimal | None = None,
        obligation_fixed_eur: Decimal | None = None,
        bid_percent: Decimal | None = None,
        obligation_cap_eur: Decimal | None = None,
        pso_step: str | None = None,
        pso_valid_until: date | None = None,
    ) -> SocialReturnContract:
        """rule_set: the rule set version the contract pins (the service looks it
        up by name and version in the platform's table); its figures never change."""
        pinned = _checked_pin(rule_set)
        rules = pinned_rules(pinned.sha256, pinned.body)
        if accepted_by not in ACCEPTED_BY:
            raise InvalidValue(
                "accepted_by must be 'authority' (the contracting authority decides on "
                "contributions) or 'agency'", "accepted_by")
        terms = _validated_terms(
            {
                "title": title,
                "contracting_authority": contracting_authority,
                "contract_value_eur": contract_value_eur,
                "obligation_percent": obligation_percent,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "awarded_on": awarded_on,
                "rule_set": pinned.name,
                "reporting_period": reporting_period,
                # Left out: the rule set's basis and cap (fixed on the contract at award).
                "obligation_basis": obligation_basis or rules.obligation_basis,
                "wage_bill_eur": wage_bill_eur,
                "obligation_fixed_eur": obligation_fixed_eur,
                "bid_percent": bid_percent,
                "obligation_cap_eur": obligation_cap_eur if obligation_cap_eur is not None
                else rules.obligation_cap_eur,
                "pso_step": pso_step,
                "pso_valid_until": pso_valid_until,
            }
        )
        return cls(employer_id=require_id(employer_id, "employer_id"), accepted_by=accepted_by, **terms,
                   rule_set_version=pinned.version, rule_set_sha256=pinned.sha256,
                   rule_set_body=dict(pinned.body))

    class ContractRegistered(LedgerAggregate.Created):
        """Version 2 pins the rule set whole: its version, the sha256 of its
        canonical JSON and the body. Version 1 events name the rule set only;
        they were valued by version 1 of a shipped rule set, so the upcast
        gives them that (domain/rulesets/<name>.json, frozen data)."""

        class_version = 2

        employer_id: UUID
        title: str
        contracting_authority: str
        contract_value_eur: Decimal
        obligation_percent: Decimal
        starts_on: date
        ends_on: date
        awarded_on: date
        rule_set: str
        accepted_by: str = "authority"
        reporting_period: str | None = None
        obligation_basis: str = "contract_value"
        wage_bill_eur: Decimal | None = None
        obligation_fixed_eur: Decimal | None = None
        bid_percent: Decimal | None = None
        obligation_cap_eur: Decimal | None = None
        pso_step: str | None = None
        pso_valid_until: date | None = None
        rule_set_version: int = 1
        rule_set_sha256: str = ""
        rule_set_body: Mapping[str, Any] | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(upcast_rule_set(state["rule_set"]))

    @event("ContractRegistered")
    def __init__(
        self,
        employer_id: UUID,
        title: str,
        contracting_authority: str,
        contract_value_eur: Decimal,
        obligation_percent: Decimal,
        starts_on: date,
        ends_on: date,
        awarded_on: date,
        rule_set: str,
        accepted_by: str = "authority",  # default: events from before the setting existed
        # Events from before the contract could choose carry none: the rule set's.
        reporting_period: str | None = None,
        # Events from before issue 13 carry none of these: contract value basis,
        # no cap, no PSO (their figures stay as they were).
        obligation_basis: str = "contract_value",
        wage_bill_eur: Decimal | None = None,
        obligation_fixed_eur: Decimal | None = None,
        bid_percent: Decimal | None = None,
        obligation_cap_eur: Decimal | None = None,
        pso_step: str | None = None,
        pso_valid_until: date | None = None,
        # The pinned rule set (events from before pinning: see ContractRegistered).
        rule_set_version: int = 1,
        rule_set_sha256: str = "",
        rule_set_body: Mapping[str, Any] | None = None,
    ) -> None:
        self.employer_id = employer_id
        self.reporting_period = reporting_period
        self.obligation_basis = obligation_basis
        self.wage_bill_eur = wage_bill_eur
        self.obligation_fixed_eur = obligation_fixed_eur
        self.bid_percent = bid_percent
        self.obligation_cap_eur = obligation_cap_eur
        self.pso_step = pso_step
        self.pso_valid_until = pso_valid_until
        self.accepted_by = accepted_by
        self.title = title
        self.contracting_authority = contracting_authority
        self.contract_value_eur = contract_value_eur
        self.obligation_percent = obligation_percent
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.awarded_on = awarded_on
        self.rule_set = rule_set
        self.rule_set_version = rule_set_version
        self.rule_set_sha256 = rule_set_sha256
        self.rule_set_body = rule_set_body
        self.closed_on: date | None = None
        self.close_reason: str | None = None

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None

    @property
    def rules(self) -> RuleSet:
        """The pinned rule set, parsed (once per sha256 in a process)."""
        return pinned_rules(self.rule_set_sha256, self.rule_set_body or {})

    @property
    def pinned_rule_set(self) -> PinnedRuleSet:
        return PinnedRuleSet(name=self.rule_set, version=self.rule_set_version, sha256=self.rule_set_sha256,
                             body=self.rule_set_body or {})

    @property
    def reports_per(self) -> str:
        """"year" or "quarter": the contract's own choice, else its rule set's."""
        return self.reporting_period or self.rules.reporting_period

    @property
    def obligation_terms(self) -> ObligationTerms:
        return ObligationTerms(
            contract_value_eur=self.contract_value_eur, percent=self.obligation_percent,
            basis=self.obligation_basis, bid_percent=self.bid_percent, wage_bill_eur=self.wage_bill_eur,
            fixed_eur=self.obligation_fixed_eur, cap_eur=self.obligation_cap_eur, pso_step=self.pso_step,
            pso_valid_until=self.pso_valid_until, turnover=current_turnover(self.turnover_reports))

    def obligation(self, as_of: date | None = None) -> Obligation:
        """The obligation and how it is reached (domain/obligation.py); as of a
        day for the turnover basis (None: every period reported)."""
        return obligation(self.obligation_terms, self.rules.pso_discounts, self.ends_on, as_of)

    @property
    def obligation_eur(self) -> Decimal:
        """Exact amount owed; rounding is for whoever presents it."""
        return self.obligation().obligation_eur

    # -- invoiced turnover (the turnover basis) ------------------------------------
    @property
    def turnover_reports(self) -> list[TurnoverPeriod]:
        """Every report in the order made; a later one for a period replaces it."""
        return getattr(self, "_turnover_reports", [])

    def turnover_history(self) -> list[dict[str, Any]]:
        """Each report in the order made, with `corrects_eur` (the amount of the
        report for the same period it replaced, None: the first) and `replaced`
        (a later report for the same period corrects it)."""
        reports, out = self.turnover_reports, []
        for i, r in enumerate(reports):
            same = [e for e in reports if (e.period_start, e.period_end) == (r.period_start, r.period_end)]
            at = next(n for n, e in enumerate(same) if e is r)
            out.append({"period_start": r.period_start, "period_end": r.period_end, "amount_eur": r.amount_eur,
                        "corrects_eur": same[at - 1].amount_eur if at else None, "replaced": at < len(same) - 1})
        return out

    def report_turnover(self, period_start: Any, period_end: Any, amount_eur: Any) -> None:
        """The turnover invoiced in a period; reporting a period again corrects
        it (the new report replaces the old one, both stay in the history).
        Emits nothing if the period already has that amount."""
        if self.obligation_basis != "invoiced_turnover":
            raise NotTurnoverBased("the obligation of this contract is not a share of invoiced turnover "
                                   "(obligation_basis is {basis})", basis=self.obligation_basis)
        start = require_date(period_start, "period_start")
        end = require_date(period_end, "period_end")
        if end < start:
            raise InvalidValue("period_end must not be before period_start", "period_end")
        if start < self.starts_on or end > self.ends_on:
            raise InvalidValue("the period must lie within the contract term ({start} to {end})",
                               "period_start", start=self.starts_on, end=self.ends_on)
        amount = _amount(amount_eur, "amount_eur", allow_zero=True)
        current = {(t.period_start, t.period_end): t for t in current_turnover(self.turnover_reports)}
        for (s, e) in current:
            if (s, e) != (start, end) and s <= end and start <= e:
                raise InvalidValue("turnover was reported for {start} to {end}, which overlaps this period: "
                                   "report exactly that period to correct it", "period_start", start=s, end=e)
        before = current.get((start, end))
        if before is None or before.amount_eur != amount:
            self._turnover_reported(period_start=start, period_end=end, amount_eur=amount,
                                    corrects_eur=None if before is None else before.amount_eur)

    @event("TurnoverReported")
    def _turnover_reported(self, period_start: date, period_end: date, amount_eur: Decimal,
                           corrects_eur: Decimal | None = None) -> None:
        self._turnover_reports = [*self.turnover_reports, TurnoverPeriod(period_start, period_end, amount_eur)]

    def amend(self, **changes: Any) -> None:
        """Change any of AMENDABLE_TERMS. None means 'unchanged' (no term is
        optional), so a form can pass every field. Emits nothing if nothing changes.
        """
        if self.is_closed:
            raise ContractAlreadyClosed("a closed contract cannot be amended")
        for name, value in changes.items():
            if name in FIXED_TERMS:
                if value is not None and value != getattr(self, name):
                    raise InvalidValue(
                        "{name} is fixed at award: contributions were valued by it; "
                        "register a new contract instead", name, name=name)
            elif name not in AMENDABLE_TERMS:
                raise InvalidValue("{name} cannot be amended", name, name=name)
        current = {name: getattr(self, name) for name in (*AMENDABLE_TERMS, *FIXED_TERMS)}
        given = {k: v for k, v in changes.items() if v is not None and k not in FIXED_TERMS}
        amended = _validated_terms({**current, **given})
        changed = {k: v for k, v in amended.items() if v != current[k]}
        if "reporting_period" in changed:
            every = amended["reporting_period"] or self.rules.reporting_period
            wrong = misaligned(self.statements.values(), amended["starts_on"], amended["ends_on"], every)
            if wrong:
                # Statements are never taken back: their periods stay as prepared.
                start, end = wrong[0]
                if every == "quarter":
                    raise InvalidValue("a statement was prepared for {start} to {end}, which is not one of the "
                                       "contract's quarters: it cannot report per quarter", "reporting_period",
                                       start=start, end=end)
                raise InvalidValue("a statement was prepared for {start} to {end}, which is not one of the "
                                   "contract's years: it cannot report per year", "reporting_period",
                                   start=start, end=end)
        if changed:
            self._amended(changes=changed)

    @event("ContractAmended")
    def _amended(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def close(self, on: date, reason: str | None = None) -> None:
        if self.is_closed:
            raise ContractAlreadyClosed(
                "the contract was already closed on {day}", day=self.closed_on
            )
        self._closed(
            on=require_date(on, "closed_on"),
            reason=optional_text(reason, "reason", max_len=500),
        )

    @event("ContractClosed")
    def _closed(self, on: date, reason: str | None) -> None:
        self.closed_on = on
        self.close_reason = reason

    # -- the contracting authority as a platform organisation (issue 12) --------------
    # Kept apart from the terms: linking shares the contract with the authority
    # organisation's users, and is itself part of the history (who could see
    # what, since when). The free-text `contracting_authority` stays as it was.
    @property
    def authority_org_id(self) -> UUID | None:
        return getattr(self, "_authority_org_id", None)

    @property
    def authority_name(self) -> str | None:
        """The authority organisation's name when it was linked."""
        return getattr(self, "_authority_name", None)

    def link_authority(self, org_id: UUID, name: str,
                       awaiting: Iterable[tuple[date, date]] = ()) -> None:
        """Share the contract with a contracting authority organisation (by its
        platform id); linking to another one moves the share. Emits nothing if
        it is linked to that organisation already. `awaiting`: the periods of
        statements submitted to the linked authority and not yet decided by it:
        while there is one the share does not move (AuthorityDecisionPending)."""
        org_id = require_id(org_id, "authority_org_id")
        if org_id != self.authority_org_id:
            for start, end in awaiting:
                raise AuthorityDecisionPending(
                    "the statement for {start} to {end} awaits the decision of the linked authority: "
                    "the contract moves to another authority once it is decided", start=start, end=end)
            self._authority_linked(authority_org_id=org_id, authority_name=require_text(name, "name"))

    def unlink_authority(self, awaiting: Iterable[tuple[date, date]] = ()) -> None:
        """Share the contract with no authority organisation any more (linked to
        the wrong one, say): its users lose it at once. Emits nothing if it is
        not linked; refused while a statement awaits the linked authority."""
        if self.authority_org_id is not None:
            for start, end in awaiting:
                raise AuthorityDecisionPending(
                    "the statement for {start} to {end} awaits the decision of the linked authority: "
                    "the contract can be unlinked once it is decided", start=start, end=end)
            self._authority_unlinked(unlinked_org_id=self.authority_org_id)

    @event("ContractAuthorityLinked")
    def _authority_linked(self, authority_org_id: UUID, authority_name: str) -> None:
        self._authority_org_id, self._authority_name = authority_org_id, authority_name

    @event("ContractAuthorityUnlinked")
    def _authority_unlinked(self, unlinked_org_id: UUID) -> None:
        self._authority_org_id = self._authority_name = None

    # -- who is responsible, and targets beyond euros (issue 6) --------------------------
    # Kept apart from the terms: naming an owner or a target changes no figure.
    @property
    def owners(self) -> dict[str, dict[str, str]]:
        return getattr(self, "_owners", {})

    @property
    def targets(self) -> dict[str, Any]:
        return {**NO_TARGETS, **getattr(self, "_targets", {})}

    def name_owner(self, side: str, name: str, email: str) -> None:
        """The person responsible for the contract's social return at the
        employer or at the agency (personal data: sealed like contact persons)."""
        if self.is_closed:
            raise ContractAlreadyClosed("a closed contract cannot be changed")
        side = require_choice(side, OWNER_SIDES, InvalidValue, "side")
        owner = {"name": require_text(name, "name"), "email": require_email(email)}
        if self.owners.get(side) != owner:
            self._owner_named(side=side, **owner)

    @event("ContractOwnerNamed")
    def _owner_named(self, side: str, name: str, email: str) -> None:
        self._owners = {**self.owners, side: {"name": name, "email": email}}

    def set_targets(self, placements: int | None, retention_12m_percent: Decimal | None, *,
                    permanent_percent: Decimal | None = None, adjustments_30d_percent: Decimal | None = None,
                    satisfaction_min: Decimal | None = None) -> None:
        """Targets beside the euro obligation; None means no target. All of
        them are set at once: one left out is no target any more."""
        if self.is_closed:
            raise ContractAlreadyClosed("a closed contract cannot be changed")
        if placements is not None:
            is_whole = isinstance(placements, int) and not isinstance(placements, bool)
            if not is_whole or not 1 <= placements <= MAX_TARGET_PLACEMENTS:
                raise InvalidValue("target_placements must be a whole number from 1 to 100000",
                                   "target_placements")
        percents = {}
        for name, value in (("retention_12m_percent", retention_12m_percent),
                            ("permanent_percent", permanent_percent),
                            ("adjustments_30d_percent", adjustments_30d_percent)):
            field = "target_" + name
            if value is not None:
                value = require_decimal(value, field)
                if not 0 < value <= 100:
                    raise InvalidValue("{name} must be more than 0 and at most 100", field, name=field)
            percents[name] = value
        if satisfaction_min is not None:
            satisfaction_min = require_decimal(satisfaction_min, "target_satisfaction_min")
            if not 1 <= satisfaction_min <= 5:
                raise InvalidValue("target_satisfaction_min must be from 1 to 5", "target_satisfaction_min")
        targets = {"placements": placements, **percents, "satisfaction_min": satisfaction_min}
        if targets != self.targets:
            self._targets_set(**targets)

    class ContractTargetsSet(LedgerAggregate.Event):
        """Version 2 (issue 16) adds the share of permanent contracts, of
        adjustments delivered within 30 days and the satisfaction target;
        version 1 events had none of them (the upcast says so)."""

        class_version = 2

        placements: int | None
        retention_12m_percent: Decimal | None
        permanent_percent: Decimal | None
        adjustments_30d_percent: Decimal | None
        satisfaction_min: Decimal | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(permanent_percent=None, adjustments_30d_percent=None, satisfaction_min=None)

    @event(ContractTargetsSet)
    def _targets_set(self, placements: int | None, retention_12m_percent: Decimal | None,
                     permanent_percent: Decimal | None, adjustments_30d_percent: Decimal | None,
                     satisfaction_min: Decimal | None) -> None:
        self._targets = {"placements": placements, "retention_12m_percent": retention_12m_percent,
                         "permanent_percent": permanent_percent, "adjustments_30d_percent": adjustments_30d_percent,
                         "satisfaction_min": satisfaction_min}

    # -- period statements (domain/statement.py) -------------------------------------
    # The contract claims each statement's period, so that two statements of
    # one contract never overlap, even when prepared at the same time.
    @property
    def statements(self) -> dict[UUID, tuple[date, date]]:
        """Statement id -> its period, in the order prepared."""
        return getattr(self, "_statements", {})

    def check_statement_period(self, period_start: Any, period_end: Any) -> tuple[date, date]:
        return check_period(period_start, period_end, self.starts_on, self.ends_on, self.statements.values(),
                            self.reports_per)

    def claim_statement_period(self, statement_id: UUID, period: tuple[date, date]) -> None:
        period = self.check_statement_period(*period)
        self._statement_period_claimed(statement_id=require_id(statement_id, "statement_id"),
                                       period_start=period[0], period_end=period[1])

    @event("StatementPeriodClaimed")
    def _statement_period_claimed(self, statement_id: UUID, period_start: date, period_end: date) -> None:
        self._statements = {**self.statements, statement_id: (period_start, period_end)}
