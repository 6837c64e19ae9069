"""The social return obligation in euros, and what follows a shortfall (issue 13).

The obligation is worked out in three steps, in this order (docs/valuation.md,
"Obligation"):

1. base x percent, by the contract's basis:
   - ``contract_value``: the contract value (today's rule, and every contract
     registered before the basis existed);
   - ``wage_bill``: the wage bill (loonsom) given on the contract;
   - ``invoiced_turnover``: the turnover reported per reporting period
     (TurnoverReported; a new report for the same period replaces the old one),
     counting the periods that have started on or before the day asked;
   - ``fixed``: a fixed amount (no percent).
   The percent is the supplier's bid percentage when one is given (a bid below
   the tender's minimum is refused), else ``obligation_percent`` (the minimum).
2. the cap: at most ``cap_eur`` (the contract's, else its rule set's; None: no cap);
3. the PSO discount: the rule set's percentage for the contract's PSO step,
   only when the certificate is valid through the term's last day; otherwise
   no discount and a warning.

Amounts are exact Decimals; rounding to cents is for display (``as_dict``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.valuation import OBLIGATION_BASES, PSO_STEPS, ShortfallRule, add_months

__all__ = ["OBLIGATION_BASES", "OBLIGATION_FIELDS", "PSO_STEPS", "ObligationTerms", "Obligation",
           "TurnoverPeriod", "obligation", "shortfall", "current_turnover", "terms_record", "record_turnover"]

CENT = Decimal("0.01")


def _cents(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class TurnoverPeriod:
    period_start: date
    period_end: date
    amount_eur: Decimal


def current_turnover(reports: Iterable[TurnoverPeriod]) -> tuple[TurnoverPeriod, ...]:
    """The reports in force: the last one for each period (a correction replaces
    the report before it), in the order of their periods."""
    latest: dict[tuple[date, date], TurnoverPeriod] = {}
    for r in reports:
        latest[(r.period_start, r.period_end)] = r
    return tuple(latest[k] for k in sorted(latest))


@dataclass(frozen=True)
class ObligationTerms:
    """A contract's terms that make its obligation (as on the contract)."""

    contract_value_eur: Decimal
    percent: Decimal
    basis: str = "contract_value"
    bid_percent: Decimal | None = None
    wage_bill_eur: Decimal | None = None
    fixed_eur: Decimal | None = None
    #: the contract's cap; None: no cap
    cap_eur: Decimal | None = None
    pso_step: str | None = None
    pso_valid_until: date | None = None
    #: the turnover reports in force (current_turnover)
    turnover: tuple[TurnoverPeriod, ...] = ()

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ObligationTerms:
        """From a read model's record (terms_record): the contract's field names, as text."""
        dec = lambda v: None if v is None else Decimal(str(v))  # noqa: E731
        day = lambda v: None if v is None else (v if isinstance(v, date) else date.fromisoformat(v))  # noqa: E731
        return cls(basis=record.get("obligation_basis") or "contract_value",
                   contract_value_eur=Decimal(str(record["contract_value_eur"])),
                   percent=Decimal(str(record["obligation_percent"])), bid_percent=dec(record.get("bid_percent")),
                   wage_bill_eur=dec(record.get("wage_bill_eur")),
                   fixed_eur=dec(record.get("obligation_fixed_eur")), cap_eur=dec(record.get("obligation_cap_eur")),
                   pso_step=record.get("pso_step"), pso_valid_until=day(record.get("pso_valid_until")),
                   turnover=tuple(TurnoverPeriod(day(s), day(e), Decimal(str(a)))  # type: ignore[arg-type]
                                  for s, e, a in record.get("turnover") or ()))


#: The contract's fields (as in ContractRegistered and ContractAmended) that make its obligation.
OBLIGATION_FIELDS = ("contract_value_eur", "obligation_percent", "obligation_basis", "wage_bill_eur",
                     "obligation_fixed_eur", "bid_percent", "obligation_cap_eur", "pso_step", "pso_valid_until")


def terms_record(fields: Mapping[str, Any], record: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A read model's JSON record of the obligation terms, from a ContractRegistered
    event's data (record None) or updated by a ContractAmended event's changes.
    Fields an older event lacks keep what they were (first: contract value basis,
    no cap, no PSO). Amounts and dates as text: exact, no float on the way."""
    out: dict[str, Any] = dict(record) if record is not None else {"obligation_basis": "contract_value",
                                                                  "turnover": []}
    for name in OBLIGATION_FIELDS:
        if name in fields:
            value = fields[name]
            out[name] = None if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    return out


def record_turnover(record: Mapping[str, Any], period_start: date, period_end: date,
                    amount_eur: Any) -> dict[str, Any]:
    """The record with a TurnoverReported event applied (it replaces a report for the same period)."""
    key = [period_start.isoformat(), period_end.isoformat()]
    kept = [t for t in record.get("turnover") or () if t[:2] != key]
    return {**record, "turnover": sorted([*kept, [*key, str(amount_eur)]])}


@dataclass(frozen=True)
class Obligation:
    """The obligation and how it was reached, step by step."""

    basis: str
    #: the amount the percent is taken of (contract value, wage bill, turnover);
    #: the fixed amount for the fixed basis
    base_eur: Decimal
    #: None for the fixed basis
    percent: Decimal | None
    #: "bid" (the supplier's bid percentage) or "minimum" (obligation_percent); None: fixed
    percent_from: str | None
    before_cap_eur: Decimal
    cap_eur: Decimal | None
    cap_applied: bool
    pso_step: str | None
    pso_valid_until: date | None
    discount_percent: Decimal
    discount_eur: Decimal
    obligation_eur: Decimal
    #: turnover basis: the periods counted (start, end, amount)
    turnover_periods: tuple[TurnoverPeriod, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "basis": self.basis, "base_eur": _cents(self.base_eur),
            "percent": None if self.percent is None else str(self.percent.normalize()),
            "percent_from": self.percent_from, "before_cap_eur": _cents(self.before_cap_eur),
            "cap_eur": _cents(self.cap_eur), "cap_applied": self.cap_applied,
            "pso_step": self.pso_step,
            "pso_valid_until": self.pso_valid_until.isoformat() if self.pso_valid_until else None,
            "pso_discount_percent": str(self.discount_percent.normalize()),
            "pso_discount_eur": _cents(self.discount_eur), "obligation_eur": _cents(self.obligation_eur),
            "warnings": list(self.warnings),
        }
        if self.basis == "invoiced_turnover":
            out["turnover_periods"] = [{"period_start": t.period_start.isoformat(),
                                        "period_end": t.period_end.isoformat(),
                                        "amount_eur": _cents(t.amount_eur)} for t in self.turnover_periods]
        return out


def obligation(terms: ObligationTerms, pso_discounts: Mapping[str, Decimal], term_end: date,
               as_of: date | None = None) -> Obligation:
    """The obligation as of a day (None: every turnover period reported)."""
    counted: tuple[TurnoverPeriod, ...] = ()
    percent: Decimal | None = terms.bid_percent if terms.bid_percent is not None else terms.percent
    percent_from: str | None = "bid" if terms.bid_percent is not None else "minimum"
    if terms.basis == "fixed":
        base = terms.fixed_eur or Decimal(0)
        percent = percent_from = None
        before_cap = base
    else:
        if terms.basis == "wage_bill":
            base = terms.wage_bill_eur or Decimal(0)
        elif terms.basis == "invoiced_turnover":
            counted = tuple(t for t in terms.turnover if as_of is None or t.period_start <= as_of)
            base = sum((t.amount_eur for t in counted), Decimal(0))
        else:
            base = terms.contract_value_eur
        before_cap = base * percent / 100  # type: ignore[operator]
    capped = terms.cap_eur is not None and before_cap > terms.cap_eur
    after_cap = terms.cap_eur if capped else before_cap
    warnings: list[str] = []
    discount_percent = Decimal(0)
    if terms.pso_step is not None:
        step_discount = pso_discounts.get(terms.pso_step)
        if step_discount is None:
            warnings.append(f"the rule set gives no PSO discount for {terms.pso_step}")
        elif terms.pso_valid_until is None or terms.pso_valid_until < term_end:
            warnings.append(f"PSO certificate expires on {terms.pso_valid_until}, before the term ends on "
                            f"{term_end}: no PSO discount")
        else:
            discount_percent = step_discount
    discount = after_cap * discount_percent / 100 if discount_percent else Decimal(0)  # type: ignore[operator]
    return Obligation(
        basis=terms.basis, base_eur=base, percent=percent, percent_from=percent_from,
        before_cap_eur=before_cap, cap_eur=terms.cap_eur, cap_applied=capped, pso_step=terms.pso_step,
        pso_valid_until=terms.pso_valid_until, discount_percent=discount_percent, discount_eur=discount,
        obligation_eur=after_cap - discount, turnover_periods=counted,  # type: ignore[operator]
        warnings=tuple(warnings))


CONSEQUENCE_WORDS = {
    "withhold": "the unrealised part (EUR {amount}) is withheld pro rata from the last payment",
    "buy_off": "the supplier pays the unrealised part (EUR {amount}) as a buy-off sum (afkoopsom)",
}


def shortfall(obligation_eur: Decimal, accepted_eur: Decimal, term_end: date, as_of: date,
              rule: ShortfallRule | None, words: str) -> dict[str, Any] | None:
    """What a shortfall means as of a day, or None while the term runs or
    when there is none. Without a rule (rule sets before issue 13): not_met
    from the day after the term, with the rule set's words. With one: in_repair
    up to and including the last day of the repair period, then not_met with
    the consequence."""
    if accepted_eur >= obligation_eur or as_of <= term_end:
        return None
    amount = _cents(obligation_eur - accepted_eur)
    if rule is None:
        return {"status": "not_met", "shortfall_eur": amount, "shortfall_consequence": words}
    repair_until = add_months(term_end, rule.repair_months)
    out: dict[str, Any] = {"shortfall_eur": amount, "shortfall_consequence": words,
                           "shortfall": {"obligation": rule.obligation, "repair_months": rule.repair_months,
                                         "repair_until": repair_until.isoformat(),
                                         "consequence": rule.consequence}}
    if as_of <= repair_until:
        out["status"] = "in_repair"
        out["shortfall"]["applies"] = (f"the supplier may make up EUR {amount} until {repair_until}; "
                                       f"after that {CONSEQUENCE_WORDS[rule.consequence].format(amount=amount)}")
    else:
        out["status"] = "not_met"
        applies = CONSEQUENCE_WORDS[rule.consequence].format(amount=amount)
        if rule.obligation == "best_efforts":
            applies += ", unless the supplier shows best efforts (inspanningsverplichting)"
        out["shortfall"]["applies"] = applies
    return out
