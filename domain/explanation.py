"""Why a contribution is worth what it is: the valuation explained, line by line.

An explanation is computed from what the valuation itself used (the recorded
ContributionValued figures, the placement's hours, the contract's term and
the rule set) and from nothing else, so it always agrees with the value and
any stored event replays into one. It is plain data (``as_dict``: JSON-ready,
stable keys) so that read models, the API, the pages and frozen statement
lines can keep it as it is.

A placement (see domain.valuation for the rule):

    value = sum over segments of  year_value x counted_hours / basis_hours
                                  x days / days_per_year
    year_value = block + bonuses

and its days in the period are divided into: counted; outside the contract
term; after the cap window; below the minimum hours. A value of EUR 0 names
the one rule that made it zero, as a stable code (``ZERO_CODES``).

What an explanation never holds: the person's target group, age or status
(the block and the bonuses are given by amount; a bonus about the person is
"personal", without saying which). Those are the person's data, sealed under
their key in the event; an authority decides on the amounts, the rule set and
the evidence.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from domain.valuation import (
    VALUE_DECIMALS,
    BlockValue,
    HoursCap,
    RuleSet,
    Segment,
    arrangement_value,
    clip_segments,
    value_segments,
)

_SCALE = 10**VALUE_DECIMALS

#: Why a line is worth EUR 0: stable codes (stored by other parts; never rename one).
NOT_VALUED = "not_valued"  # no valuation recorded for the placement (yet)
NOT_ELIGIBLE = "not_eligible"  # the person was not eligible on the award date
NO_BLOCK_VALUE = "no_block_value"  # eligible, but block and bonuses add up to 0
NOT_ACTIVE_IN_PERIOD = "not_active_in_period"  # no day of the placement in the period
OUTSIDE_TERM = "outside_term"  # its days in the period all fall outside the contract term
CAP_EXHAUSTED = "cap_exhausted"  # its days in the term all fall after the cap window
BELOW_MINIMUM_HOURS = "below_minimum_hours"  # its remaining days are all below the minimum hours
ZERO_SHARE = "zero_share"  # a purchase whose register counts for 0% under the rule set
# The placement's arrangement (a trial placement, say) does not count under the rule set.
ARRANGEMENT_NOT_COUNTED = "arrangement_not_counted"
ZERO_CODES = (NOT_VALUED, NOT_ELIGIBLE, NO_BLOCK_VALUE, NOT_ACTIVE_IN_PERIOD, OUTSIDE_TERM,
              CAP_EXHAUSTED, BELOW_MINIMUM_HOURS, ZERO_SHARE, ARRANGEMENT_NOT_COUNTED)

#: Bonus codes. "personal": an age or status-holder bonus (which one is the person's data).
BONUS_PERMANENT_CONTRACT = "permanent_contract"
BONUS_PERSONAL = "personal"


def _s(value: Decimal | None) -> str | None:
    """A decimal as plain digits, never in exponent form (5E+4 is "50000")."""
    return None if value is None else format(Decimal(value), "f")


def _hours2(hours: Fraction) -> str:
    """Hours (exact) shown to 2 decimals, half up."""
    return format((Decimal(hours.numerator) / Decimal(hours.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass(frozen=True)
class Explanation:
    """One line's explanation; ``as_dict()`` is its stable JSON form."""

    kind: str
    value_eur: Decimal
    zero_code: str | None
    facts: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value_eur": _s(self.value_eur), "zero_code": self.zero_code,
                **self.facts}


def _days(first: date, last: date) -> int:
    return max((last - first).days + 1, 0)


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> tuple[date, date] | None:
    first, last = max(a[0], b[0]), min(a[1], b[1])
    return (first, last) if first <= last else None


def _days_per_year(rule_set: RuleSet, day: date) -> int:
    """What a day is divided by: the rule set's days_per_year, or under
    actual/actual the length of its calendar year."""
    if rule_set.day_count == "actual/actual":
        return 366 if calendar.isleap(day.year) else 365
    return rule_set.days_per_year


def _value_between(s: Segment, first: date, last: date) -> Decimal:
    """Segment.value_between in integers (the same truncated figure, digit for
    digit, without Fractions: a contract page explains every line it lists)."""
    p, q = s.numerator.as_integer_ratio()
    r, t = s.denominator.as_integer_ratio()
    num, den = p * t * _SCALE, q * r

    def accrued(day: date) -> int:
        return num * s.days_through(day) // den

    return Decimal(accrued(last) - accrued(first - timedelta(days=1))).scaleb(-VALUE_DECIMALS)


def explain_placement(
    rule_set: RuleSet,
    *,
    valued: bool,
    block: BlockValue,
    judged_on: date | None,
    permanent_contract: bool,
    hours_history: Sequence[Mapping[str, Any]],
    starts_on: date,
    ended_on: date | None,
    term_start: date,
    term_end: date,
    period_start: date | None,
    period_end: date,
    arrangement: str = "employment",
    hours_cap: HoursCap | None = None,
) -> Explanation:
    """A placement's value over [period_start, period_end] (both inclusive;
    period_start None: from its first day), explained.

    ``block``: the recorded valuation (ContributionValued); ``valued`` False
    if none was recorded. The value is the one domain.valuation.placement_value
    gives for the same period, and equals the sum of the segments' values.

    ``hours_cap``: under a rule set with caps, how the candidate's cap in hours
    applies to this placement (domain.valuation.candidate_segments: it needs
    all the candidate's placements); None: no day of it is cut by such a cap.
    """
    # From the start: the earlier of its first day and the term's (days before the term are shown as such).
    first = min(starts_on, term_start) if period_start is None else period_start
    segments = value_segments(rule_set, block, hours_history, starts_on, ended_on, term_start, term_end) \
        if valued else []
    by_hours = rule_set.caps is not None
    if hours_cap is not None:
        segments = clip_segments(segments, hours_cap.counted_through)
    lines, value = [], Decimal(0)
    for s in segments:
        window = _overlap((s.from_day, s.to_day), (first, period_end))
        if window is None:
            continue
        part = _value_between(s, *window)
        value += part
        counted_hours = min(s.hours_per_week, rule_set.basis_hours)
        lines.append({"from": _iso(window[0]), "to": _iso(window[1]), "days": _days(*window),
                      "hours_per_week": _s(s.hours_per_week), "counted_hours": _s(counted_hours),
                      "value_eur": _s(part), "days_per_year": _days_per_year(rule_set, window[0])})

    # How the placement's days in the period divide.
    active = _overlap((starts_on, ended_on or date.max), (first, period_end))
    active_days = _days(*active) if active else 0
    in_term = _overlap(active, (term_start, term_end)) if active else None
    if by_hours:  # the cap in hours: days after the last counted day
        cap_applies = block.capped and block.cap_hours is not None
        cap_end = hours_cap.counted_through if hours_cap is not None else None
    else:
        cap_applies = block.capped and rule_set.cap_days is not None
        cap_end = starts_on + timedelta(days=rule_set.cap_days - 1) if cap_applies else None
    in_cap = (_overlap(in_term, (date.min, cap_end)) if cap_end else in_term) if in_term else None
    counted = sum(line["days"] for line in lines)
    outside_term = active_days - (_days(*in_term) if in_term else 0)
    after_cap = (_days(*in_term) if in_term else 0) - (_days(*in_cap) if in_cap else 0)
    below_minimum = (_days(*in_cap) if in_cap else 0) - counted if valued and block.eligible \
        and block.total_eur > 0 else 0
    days = {"in_period": active_days, "counted": counted, "outside_term": outside_term,
            "after_cap": after_cap, "below_minimum_hours": below_minimum,
            # Not valued, not eligible, or no block value: worth nothing (the zero code says which).
            "without_value": active_days - counted - outside_term - after_cap - below_minimum}

    cap: dict[str, Any] = {"applies": cap_applies}
    if by_hours and cap_applies:
        # Per candidate, in hours worked across all their placements (issue 13).
        cap.update(counted_in="hours", cap_hours=_s(block.cap_hours))
        if hours_cap is not None:
            cap.update(hours_used_before=_hours2(hours_cap.used_before),
                       hours_remaining=_hours2(hours_cap.remaining_before),
                       reached_on=_iso(hours_cap.reached_on), counted_through=_iso(hours_cap.counted_through))
    elif cap_applies and cap_end is not None and rule_set.cap_days is not None:
        # As the rule set applies it today: calendar days from the placement's first day.
        through = min(period_end, ended_on or date.max, cap_end)
        used = _days(starts_on, through) if through >= starts_on else 0
        cap.update(cap_days=rule_set.cap_days, window_ends_on=_iso(cap_end), days_used=used,
                   days_remaining=rule_set.cap_days - used)

    bonuses = []
    if valued and block.eligible and block.bonus_eur > 0:
        permanent = rule_set.permanent_contract_bonus_eur
        rest = block.bonus_eur
        if permanent_contract and permanent is not None and permanent <= rest:
            bonuses.append({"code": BONUS_PERMANENT_CONTRACT, "eur": _s(permanent)})
            rest -= permanent
        if rest > 0:
            bonuses.append({"code": BONUS_PERSONAL, "eur": _s(rest)})

    if value > 0:
        zero = None
    elif not valued:
        zero = NOT_VALUED
    elif not block.eligible and arrangement != "employment" and arrangement_value(rule_set, arrangement) is None:
        zero = ARRANGEMENT_NOT_COUNTED
    elif not block.eligible:
        zero = NOT_ELIGIBLE
    elif block.total_eur <= 0:
        zero = NO_BLOCK_VALUE
    elif active_days == 0:
        zero = NOT_ACTIVE_IN_PERIOD
    elif in_term is None:
        zero = OUTSIDE_TERM
    elif in_cap is None:
        zero = CAP_EXHAUSTED
    else:
        zero = BELOW_MINIMUM_HOURS
    return Explanation(kind="placement", value_eur=value, zero_code=zero, facts={
        "rule_set": {"name": rule_set.name, "version": rule_set.version},
        "period": {"from": _iso(first), "to": _iso(period_end)},
        # What kind of placement (employment is valued by the person's block;
        # another arrangement by the rule set's block for it, without bonuses).
        "arrangement": arrangement,
        "eligibility": {"valued": valued, "eligible": bool(valued and block.eligible),
                        "judged_on": _iso(judged_on)},
        "block": {"eur_per_year": _s(block.block_eur if valued else Decimal(0))},
        "bonuses": bonuses,
        "year_value_eur": _s(block.total_eur if valued and block.eligible else Decimal(0)),
        "hours": {"basis_hours": _s(rule_set.basis_hours),
                  "minimum_hours_per_week": _s(rule_set.minimum_hours_per_week)},
        "days_per_year": rule_set.days_per_year,
        "day_count": rule_set.day_count,
        "segments": lines,
        "days": days,
        "cap": cap,
    })


def explain_purchase(*, invoice_amount_eur_excl_vat: Decimal | None, register: str | None,
                     counted_share: Decimal | None, rule_set: str | None, amount_eur: Decimal) -> Explanation:
    """A purchase from a social enterprise: invoice amount excl. VAT x the register's share."""
    return Explanation(kind="social_enterprise_purchase", value_eur=amount_eur,
                       zero_code=ZERO_SHARE if amount_eur <= 0 else None, facts={
                           "rule_set": {"name": rule_set} if rule_set else None,
                           "invoice_amount_eur_excl_vat": _s(invoice_amount_eur_excl_vat),
                           "register": register, "counted_share": _s(counted_share)})


def explain_other_activity(*, costs_eur: Decimal | None, hours: Decimal | None,
                           hourly_rate_eur: Decimal | None, rule_set: str | None,
                           amount_eur: Decimal) -> Explanation:
    """Another activity: its costs, or its employee-hours x the hourly rate."""
    return Explanation(kind="other_activity", value_eur=amount_eur, zero_code=None, facts={
        "rule_set": {"name": rule_set} if rule_set else None,
        "costs_eur": _s(costs_eur), "hours": _s(hours), "hourly_rate_eur": _s(hourly_rate_eur)})


def explain_contribution(contribution: Any, *, contract: Any, placement: Any = None,
                         period_start: date | None = None, period_end: date,
                         hours_cap: HoursCap | None = None) -> Explanation:
    """THE explanation of one contribution, from the aggregates themselves (for
    the service, e.g. to freeze it into a statement line): a placement's over
    [period_start, period_end] (None: from its first day) from its recorded
    valuation (Contribution.valuation), its hours and the contract's term and
    rule set; a purchase's or other activity's as reported. The read-model
    query projections.compliance.explanation_for_contribution gives the same.

    contribution: domain.contribution.Contribution; contract: SocialReturnContract;
    placement: the Placement of a placement's contribution (None otherwise).
    hours_cap: how the candidate's cap in hours applies to the placement (rule
    sets with caps; it needs all the candidate's placements: see
    domain.valuation.candidate_segments); None: no day of it is cut by one.
    """
    if contribution.kind == "social_enterprise_purchase":
        return explain_purchase(invoice_amount_eur_excl_vat=contribution.invoice_amount_eur_excl_vat,
                                register=contribution.register, counted_share=contribution.counted_share,
                                rule_set=contribution.rule_set, amount_eur=contribution.amount_eur)
    if contribution.kind == "other_activity":
        return explain_other_activity(costs_eur=contribution.costs_eur, hours=contribution.hours,
                                      hourly_rate_eur=contribution.hourly_rate_eur,
                                      rule_set=contribution.rule_set, amount_eur=contribution.amount_eur)
    if placement is None or placement.id != contribution.placement_id:
        raise ValueError("a placement's contribution is explained with its placement")
    valuation = getattr(contribution, "valuation", None)
    block = BlockValue(block_eur=Decimal(0), bonus_eur=Decimal(0), eligible=False, reason="", capped=True) \
        if valuation is None else BlockValue(
            block_eur=valuation["block_eur"], bonus_eur=valuation["bonus_eur"], eligible=valuation["eligible"],
            reason="", capped=valuation["capped"], cap_hours=valuation.get("cap_hours"))
    return explain_placement(
        contract.rules, valued=valuation is not None, block=block,
        judged_on=None if valuation is None else valuation["judged_on"],
        permanent_contract=placement.permanent_contract, hours_history=placement.hours_history,
        starts_on=placement.starts_on, ended_on=placement.ended_on, term_start=contract.starts_on,
        term_end=contract.ends_on, period_start=period_start, period_end=period_end,
        arrangement=getattr(placement, "arrangement", "employment"), hours_cap=hours_cap)
