from __future__ import annotations

from collections.abc import Iterable
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
from domain.valuation import REPORTING_PERIODS, load_rule_set
from domain.values import (
    KNOWN_RULE_SETS,
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
)
# Fixed at award: placements' contributions were valued by these (eligibility,
# age and time on benefit are judged on the award date, under the rule set).
FIXED_TERMS = ("awarded_on", "rule_set")


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
        "rule_set": require_choice(
            terms["rule_set"], KNOWN_RULE_SETS, UnknownRuleSet, "rule_set"
        ),
        "reporting_period": None if terms.get("reporting_period") is None else require_choice(
            terms["reporting_period"], REPORTING_PERIODS, InvalidValue, "reporting_period"),
    }


class AuthorityDecisionPending(DomainError):
    """Unlinking (or moving) the authority while a statement awaits its decision."""

    is_state_conflict = True
    default_field = "authority_org_id"


# Who decides on reported contributions: the contracting authority (the
# usual case: WIZZR-style acceptance) or, where the authority delegates, the agency.
ACCEPTED_BY = ("authority", "agency")
# Who is named responsible for the social return: one person at each side.
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
        rule_set: str,
        accepted_by: str = "authority",
        reporting_period: str | None = None,
    ) -> SocialReturnContract:
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
                "rule_set": rule_set,
                "reporting_period": reporting_period,
            }
        )
        return cls(employer_id=require_id(employer_id, "employer_id"), accepted_by=accepted_by, **terms)

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
    ) -> None:
        self.employer_id = employer_id
        self.reporting_period = reporting_period
        self.accepted_by = accepted_by
        self.title = title
        self.contracting_authority = contracting_authority
        self.contract_value_eur = contract_value_eur
        self.obligation_percent = obligation_percent
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.awarded_on = awarded_on
        self.rule_set = rule_set
        self.closed_on: date | None = None
        self.close_reason: str | None = None

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None

    @property
    def reports_per(self) -> str:
        """"year" or "quarter": the contract's own choice, else its rule set's."""
        return self.reporting_period or load_rule_set(self.rule_set).reporting_period

    @property
    def obligation_eur(self) -> Decimal:
        """Exact amount owed; rounding is for whoever presents it."""
        return self.contract_value_eur * self.obligation_percent / 100

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
            every = amended["reporting_period"] or load_rule_set(self.rule_set).reporting_period
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
        return getattr(self, "_targets", {"placements": None, "retention_12m_percent": None})

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

    def set_targets(self, placements: int | None, retention_12m_percent: Decimal | None) -> None:
        """Targets beside the euro obligation; None means no target."""
        if self.is_closed:
            raise ContractAlreadyClosed("a closed contract cannot be changed")
        if placements is not None:
            is_whole = isinstance(placements, int) and not isinstance(placements, bool)
            if not is_whole or not 1 <= placements <= MAX_TARGET_PLACEMENTS:
                raise InvalidValue("target_placements must be a whole number from 1 to 100000",
                                   "target_placements")
        if retention_12m_percent is not None:
            retention_12m_percent = require_decimal(retention_12m_percent, "target_retention_12m_percent")
            if not 0 < retention_12m_percent <= 100:
                raise InvalidValue("target_retention_12m_percent must be more than 0 and at most 100",
                                   "target_retention_12m_percent")
        targets = {"placements": placements, "retention_12m_percent": retention_12m_percent}
        if targets != self.targets:
            self._targets_set(placements=placements, retention_12m_percent=retention_12m_percent)

    @event("ContractTargetsSet")
    def _targets_set(self, placements: int | None, retention_12m_percent: Decimal | None) -> None:
        self._targets = {"placements": placements, "retention_12m_percent": retention_12m_percent}

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
