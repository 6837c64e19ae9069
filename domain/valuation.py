"""What a contribution is worth: the building-blocks method as versioned data.

The figures (block values, bonuses, basis and minimum hours, the cap) live in
a rule set: versioned JSON data owned by an authority or the platform
(docs/rule-sets.md; the shipped ones are in ``domain/rulesets/``), pinned by a
contract at registration; nothing here hard-codes a euro amount or a number
of hours.

The product rule for a placement (a product decision, see each file's notes):

    value = (block + bonuses) x min(hours_per_week, basis) / basis
            x counted_days / days_per_year

A placement whose arrangement is not employment (a work-experience place,
internship, trial or BBL place) takes the rule set's ``arrangements`` block
for it as ``block``, with no bonuses (``block_value``; docs/valuation.md).

days_per_year is the rule set's (365) under ``day_count`` "actual/365", and the
length of each day's own calendar year (365 or 366) under "actual/actual", so
that a full leap year is exactly one block.

counted_days: days the placement is active (both ends inclusive; an hours
change applies from its effective date) inside the period and the contract
term, within the cap; a day below the minimum hours counts 0. The cap:

- a rule set with ``caps`` (issue 13): per candidate, in hours worked across
  all their placements (every contract), the cap of the placement's group:
  a day counts while the hours used before it are below the cap, the crossing
  day whole (``candidate_segments``);
- a legacy rule set (``cap_days``, ``uncapped_target_groups``): the first
  ``cap_days`` calendar days of the placement, unless the person's target
  group is uncapped (``value_segments``).

Exactness. Money is Decimal, never float. The rule divides by 36 and by 365,
so most values have no finite decimal expansion; rather than round each
figure, every segment (a stretch of constant hours) accrues its exact rational
value day by day, and the value of days 1..n of a segment is that exact amount
truncated to ``VALUE_DECIMALS`` decimals. The value of a period is the
difference of two such cumulative amounts, so:

- values of adjacent periods add up exactly to the value of the whole;
- a value that is exact in 12 decimals (a full-time year: the block value;
  18 hours: half of it) comes out exactly;
- any other value is within 1e-12 EUR per segment of the exact rational.

Rounding to cents is for display only.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from domain.errors import InvalidValue, UnknownArrangement, UnknownTargetGroup
from domain.values import (
    ARRANGEMENTS,
    DEFAULT_ARRANGEMENT,
    SOCIAL_ENTERPRISE_REGISTERS,
    TARGET_GROUPS,
    optional_date,
    require_bool,
    require_choice,
    require_date,
)

# A representation choice, not a valuation rule: see the module docstring.
VALUE_DECIMALS = 12
_SCALE = 10**VALUE_DECIMALS



# Rule sets


@dataclass(frozen=True)
class BenefitTier:
    """One step of a block by time on benefit at the judging date: at least
    ``months`` (or, if ``exclusive``, more than ``months``) calendar months."""

    value_eur: Decimal
    months: int = 0
    exclusive: bool = False

    def applies(self, benefit_since: date, judged_on: date) -> bool:
        boundary = add_months(benefit_since, self.months)
        return boundary < judged_on if self.exclusive else boundary <= judged_on

    def describe(self) -> str:
        return f"{'more than' if self.exclusive else 'at least'} {self.months} months"


@dataclass(frozen=True)
class AgeBonus:
    min_age: int
    bonus_eur: Decimal


@dataclass(frozen=True)
class ShortfallRule:
    """What follows a contract short of its obligation after its term (issue 13)."""

    #: "best_efforts" (inspanningsverplichting: the consequence applies unless the
    #: supplier shows best efforts) or "result" (resultaatverplichting: it applies)
    obligation: str
    #: calendar months after the term's end in which the supplier may still make up the shortfall
    repair_months: int
    #: "withhold" (withheld pro rata from the last payment) or "buy_off" (paid as a buy-off sum)
    consequence: str


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: int
    source: str
    notes: str
    basis_hours: Decimal
    days_per_year: int
    #: 0 = no minimum
    minimum_hours_per_week: Decimal
    #: None = no cap on counted time
    cap_days: int | None
    uncapped_target_groups: frozenset[str]
    #: target group -> tiers ascending; a flat block is one tier of 0 months.
    #: A group absent here is not eligible.
    blocks: Mapping[str, tuple[BenefitTier, ...]]
    age_bonuses: tuple[AgeBonus, ...]
    #: None = no such bonus in this rule set
    status_holder_bonus_eur: Decimal | None
    permanent_contract_bonus_eur: Decimal | None
    #: register code -> share of the invoice amount excl. VAT that counts
    social_enterprise_shares: Mapping[str, Decimal]
    other_activity_hourly_eur: Decimal
    #: how often the supplier reports: "year" or "quarter" (periods bounded by the term)
    reporting_period: str = "year"
    #: what follows a shortfall after the term, in words (shown with status not_met)
    shortfall_consequence: str = ""
    #: how a day is valued: "actual/365" (a day is 1/days_per_year of a year's
    #: block, so a full leap year is 366/365 of it) or "actual/actual" (a day is
    #: 1/366 of a block in a leap year, 1/365 otherwise: every full calendar
    #: year is exactly one block)
    day_count: str = "actual/365"
    #: the obligation's default basis for contracts under this rule set (issue 13):
    #: one of domain.obligation.OBLIGATION_BASES
    obligation_basis: str = "contract_value"
    #: the most a contract's obligation may be (None: no cap), e.g. EUR 300,000
    obligation_cap_eur: Decimal | None = None
    #: PSO step -> discount on the obligation in percent (absent step: no discount)
    pso_discounts: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    #: None: a shortfall is not_met right after the term (the words in shortfall_consequence)
    shortfall: ShortfallRule | None = None
    #: arrangement (not employment) -> the yearly value of a full-time year of
    #: it, or None: that arrangement does not count. An arrangement absent from
    #: the map does not count either; the whole map is None when the rule set
    #: has no ``arrangements`` key (version 1 of the shipped ones).
    arrangements: Mapping[str, Decimal | None] | None = None
    #: target group -> the most hours of work a candidate counts for, across all
    #: their placements (None: no cap for that group); None: the legacy cap
    #: (cap_days from each placement's start, uncapped_target_groups). Issue 13.
    caps: Mapping[str, Decimal | None] | None = None


_RULE_SET_KEYS = {
    "name",
    "version",
    "source",
    "notes",
    "basis_hours",
    "days_per_year",
    "minimum_hours_per_week",
    "cap_days",
    "uncapped_target_groups",
    "blocks",
    "age_bonuses",
    "status_holder_bonus_eur",
    "permanent_contract_bonus_eur",
    "social_enterprise_shares",
    "other_activity_hourly_eur",
    "reporting_period",
    "shortfall_consequence",
}
#: Keys a rule set file may leave out (absent: the default beside it).
_OPTIONAL_KEYS = {"day_count", "obligation", "pso_discounts", "shortfall", "arrangements", "caps"}
#: The legacy cap's keys: required without `caps`, absent with it.
_LEGACY_CAP_KEYS = {"cap_days", "uncapped_target_groups"}
REPORTING_PERIODS = ("year", "quarter")
DAY_COUNTS = ("actual/365", "actual/actual")


class RuleSetDataError(ValueError):
    """A rule set body is malformed. ``field`` is the path of what is wrong
    (``blocks.ww.tiers[0].value_eur``): given, or read from the message,
    which starts with it by convention ("<path> must be ..."); None when the
    body as a whole is wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        if field is None:
            first = message.split(" ", 1)[0]
            top = re.split(r"[.\[]", first, maxsplit=1)[0]
            if _PATH_RE.match(first) and top in _RULE_SET_KEYS | _OPTIONAL_KEYS:
                field = first
        self.field = field


_PATH_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+|\[[0-9]+\])*$")


def _money(value: Any, where: str) -> Decimal:
    # Strings only: a JSON number would pass through float on the way in.
    if not isinstance(value, str):
        raise RuleSetDataError(f"{where} must be a decimal string, not {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RuleSetDataError(f"{where} must be a decimal string, not {value!r}") from None
    if not number.is_finite() or number < 0:
        raise RuleSetDataError(f"{where} must be a finite amount of at least 0")
    return number


def _optional_money(value: Any, where: str) -> Decimal | None:
    return None if value is None else _money(value, where)


def _whole(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RuleSetDataError(f"{where} must be a whole number of at least {minimum}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleSetDataError(f"{where} must be non-empty text")
    return value


def _tier(data: Any, where: str) -> BenefitTier:
    if not isinstance(data, dict):
        raise RuleSetDataError(f"{where} must be an object")
    bounds = {"at_least_months_on_benefit", "more_than_months_on_benefit"} & data.keys()
    if len(bounds) != 1 or data.keys() - bounds != {"value_eur"}:
        raise RuleSetDataError(
            f"{where} needs value_eur and exactly one of at_least_months_on_benefit, "
            "more_than_months_on_benefit"
        )
    (bound,) = bounds
    return BenefitTier(
        value_eur=_money(data["value_eur"], f"{where}.value_eur"),
        months=_whole(data[bound], f"{where}.{bound}"),
        exclusive=bound == "more_than_months_on_benefit",
    )


def _block(data: Any, where: str) -> tuple[BenefitTier, ...]:
    if isinstance(data, dict) and data.keys() == {"value_eur"}:
        return (BenefitTier(value_eur=_money(data["value_eur"], f"{where}.value_eur")),)
    if isinstance(data, dict) and data.keys() == {"tiers"} and data["tiers"]:
        tiers = tuple(_tier(t, f"{where}.tiers[{i}]") for i, t in enumerate(data["tiers"]))
        # Ascending, so the last tier that applies is the right one.
        order = [(t.months, t.exclusive) for t in tiers]
        if order != sorted(set(order)):
            raise RuleSetDataError(f"{where}.tiers must be in ascending order of months")
        return tiers
    raise RuleSetDataError(f"{where} must be {{value_eur}} or {{tiers: [...]}}")


def parse_rule_set(data: Mapping[str, Any]) -> RuleSet:
    """A RuleSet from its JSON form; RuleSetDataError names what is wrong."""
    keys = set(data) if isinstance(data, Mapping) else set()
    required = _RULE_SET_KEYS - _LEGACY_CAP_KEYS if "caps" in keys else _RULE_SET_KEYS
    if "caps" in keys and keys & _LEGACY_CAP_KEYS:
        raise RuleSetDataError("caps replaces cap_days and uncapped_target_groups: give one or the other")
    if not isinstance(data, Mapping) or not (
        required <= keys <= _RULE_SET_KEYS | _OPTIONAL_KEYS
    ):
        raise RuleSetDataError(
            f"a rule set has exactly the keys {sorted(required)} "
            f"(and optionally {sorted(_OPTIONAL_KEYS)}); missing {sorted(required - keys)}, "
            f"unknown {sorted(keys - _RULE_SET_KEYS - _OPTIONAL_KEYS)}"
        )
    name = _text(data["name"], "name")
    blocks = data["blocks"]
    if not isinstance(blocks, dict) or not set(blocks) <= set(TARGET_GROUPS):
        raise RuleSetDataError(f"blocks must be keyed by target groups {TARGET_GROUPS}")
    uncapped = data.get("uncapped_target_groups", [])
    if not isinstance(uncapped, list) or not set(uncapped) <= set(TARGET_GROUPS):
        raise RuleSetDataError("uncapped_target_groups must list target groups")
    age_bonuses = data["age_bonuses"]
    if not isinstance(age_bonuses, list) or not all(
        isinstance(b, dict) and b.keys() == {"min_age", "bonus_eur"} for b in age_bonuses
    ):
        raise RuleSetDataError("age_bonuses must be a list of {min_age, bonus_eur}")
    shares = data["social_enterprise_shares"]
    if not isinstance(shares, dict) or set(shares) != set(SOCIAL_ENTERPRISE_REGISTERS):
        raise RuleSetDataError(
            f"social_enterprise_shares must give a share for each of {SOCIAL_ENTERPRISE_REGISTERS}"
        )
    basis = _money(data["basis_hours"], "basis_hours")
    if basis <= 0:
        raise RuleSetDataError("basis_hours must be more than 0")
    cap_days = data.get("cap_days")
    if data["reporting_period"] not in REPORTING_PERIODS:
        raise RuleSetDataError(f"reporting_period must be one of {REPORTING_PERIODS}")
    day_count = data.get("day_count", "actual/365")
    if day_count not in DAY_COUNTS:
        raise RuleSetDataError(f"day_count must be one of {DAY_COUNTS}")
    days_per_year = _whole(data["days_per_year"], "days_per_year", minimum=1)
    if day_count == "actual/actual" and days_per_year != 365:
        # actual/actual takes the year's own length; 365 is what a common year has.
        raise RuleSetDataError("days_per_year must be 365 with day_count actual/actual")
    return RuleSet(
        name=name,
        version=_whole(data["version"], "version", minimum=1),
        source=_text(data["source"], "source"),
        notes=_text(data["notes"], "notes"),
        basis_hours=basis,
        days_per_year=days_per_year,
        minimum_hours_per_week=_money(data["minimum_hours_per_week"], "minimum_hours_per_week"),
        cap_days=None if cap_days is None else _whole(cap_days, "cap_days", minimum=1),
        uncapped_target_groups=frozenset(uncapped),
        blocks=MappingProxyType(
            {group: _block(spec, f"blocks.{group}") for group, spec in blocks.items()}
        ),
        age_bonuses=tuple(
            sorted(
                (
                    AgeBonus(
                        min_age=_whole(b["min_age"], f"age_bonuses[{i}].min_age"),
                        bonus_eur=_money(b["bonus_eur"], f"age_bonuses[{i}].bonus_eur"),
                    )
                    for i, b in enumerate(age_bonuses)
                ),
                key=lambda b: b.min_age,
            )
        ),
        status_holder_bonus_eur=_optional_money(
            data["status_holder_bonus_eur"], "status_holder_bonus_eur"
        ),
        permanent_contract_bonus_eur=_optional_money(
            data["permanent_contract_bonus_eur"], "permanent_contract_bonus_eur"
        ),
        social_enterprise_shares=MappingProxyType(
            {
                register: _money(share, f"social_enterprise_shares.{register}")
                for register, share in shares.items()
            }
        ),
        other_activity_hourly_eur=_money(
            data["other_activity_hourly_eur"], "other_activity_hourly_eur"
        ),
        reporting_period=data["reporting_period"],
        shortfall_consequence=_text(data["shortfall_consequence"], "shortfall_consequence"),
        day_count=day_count,
        **_parse_obligation(data),
        arrangements=_parse_arrangements(data),
        **_parse_caps(data),
    )


OBLIGATION_BASES = ("contract_value", "wage_bill", "invoiced_turnover", "fixed")
PSO_STEPS = ("aspirant", "basic", "step_1", "step_2", "step_3")
SHORTFALL_OBLIGATIONS = ("best_efforts", "result")
SHORTFALL_CONSEQUENCES = ("withhold", "buy_off")


def _parse_obligation(data: Mapping[str, Any]) -> dict[str, Any]:
    """The optional keys `obligation`, `pso_discounts` and `shortfall` (issue 13);
    absent: today's behaviour (contract value basis, no cap, no discount, not_met
    right after the term)."""
    out: dict[str, Any] = {}
    if "obligation" in data:
        spec = data["obligation"]
        if not isinstance(spec, dict) or spec.keys() != {"basis", "cap_eur"}:
            raise RuleSetDataError("obligation must be {basis, cap_eur}")
        if spec["basis"] not in OBLIGATION_BASES:
            raise RuleSetDataError(f"obligation.basis must be one of {OBLIGATION_BASES}")
        cap = _optional_money(spec["cap_eur"], "obligation.cap_eur")
        if cap is not None and cap <= 0:
            raise RuleSetDataError("obligation.cap_eur must be more than 0 (null: no cap)")
        out.update(obligation_basis=spec["basis"], obligation_cap_eur=cap)
    if "pso_discounts" in data:
        spec = data["pso_discounts"]
        if not isinstance(spec, dict) or not set(spec) <= set(PSO_STEPS):
            raise RuleSetDataError(f"pso_discounts must be keyed by PSO steps {PSO_STEPS}")
        discounts = {step: _money(v, f"pso_discounts.{step}") for step, v in spec.items()}
        if any(v > 100 for v in discounts.values()):
            raise RuleSetDataError("pso_discounts must be percentages from 0 to 100")
        out["pso_discounts"] = MappingProxyType(discounts)
    if "shortfall" in data:
        spec = data["shortfall"]
        if not isinstance(spec, dict) or spec.keys() != {"obligation", "repair_months", "consequence"}:
            raise RuleSetDataError("shortfall must be {obligation, repair_months, consequence}")
        if spec["obligation"] not in SHORTFALL_OBLIGATIONS:
            raise RuleSetDataError(f"shortfall.obligation must be one of {SHORTFALL_OBLIGATIONS}")
        if spec["consequence"] not in SHORTFALL_CONSEQUENCES:
            raise RuleSetDataError(f"shortfall.consequence must be one of {SHORTFALL_CONSEQUENCES}")
        out["shortfall"] = ShortfallRule(obligation=spec["obligation"], consequence=spec["consequence"],
                                         repair_months=_whole(spec["repair_months"], "shortfall.repair_months"))
    return out


#: The arrangements a rule set may value (employment always uses ``blocks``).
VALUED_ARRANGEMENTS = tuple(a for a in ARRANGEMENTS if a != DEFAULT_ARRANGEMENT)


def _parse_arrangements(data: Mapping[str, Any]) -> Mapping[str, Decimal | None] | None:
    """``"arrangements": {"<arrangement>": {"value_eur": "<amount>"} | null}``:
    None if the key is absent (no arrangement counts)."""
    if "arrangements" not in data:
        return None
    found = data["arrangements"]
    if not isinstance(found, dict) or not set(found) <= set(VALUED_ARRANGEMENTS):
        raise RuleSetDataError(f"arrangements must be keyed by arrangements {VALUED_ARRANGEMENTS}")
    parsed: dict[str, Decimal | None] = {}
    for kind, spec in found.items():
        if spec is not None and not (isinstance(spec, dict) and spec.keys() == {"value_eur"}):
            raise RuleSetDataError(f"arrangements.{kind} must be {{value_eur}} or null")
        parsed[kind] = None if spec is None else _money(spec["value_eur"], f"arrangements.{kind}.value_eur")
    return MappingProxyType(parsed)


def _parse_caps(data: Mapping[str, Any]) -> dict[str, Any]:
    """The optional key `caps` (issue 13): {target group: hours | null}, every
    group with a block listed; absent: the legacy cap (cap_days, per placement)."""
    if "caps" not in data:
        return {}
    spec = data["caps"]
    blocks = data["blocks"]
    if not isinstance(spec, dict) or not set(spec) <= set(TARGET_GROUPS):
        raise RuleSetDataError(f"caps must be keyed by target groups {TARGET_GROUPS}")
    missing = sorted(set(blocks) - set(spec))
    if missing:
        raise RuleSetDataError(f"caps must give a cap (hours, or null for none) for every block: missing {missing}")
    caps = {group: _optional_money(hours, f"caps.{group}") for group, hours in spec.items()}
    if any(hours is not None and hours <= 0 for hours in caps.values()):
        raise RuleSetDataError("caps must be more than 0 hours (null: no cap)")
    return {"caps": MappingProxyType(caps)}


# Pinned rule sets: a contract carries its rule set's body (see
# domain/rulesets/__init__.py and docs/rule-sets.md); nothing looks one up by name.


def canonical_json(body: Mapping[str, Any]) -> str:
    """The canonical text of a rule set body: keys sorted, no spaces, UTF-8
    as is. Its SHA-256 identifies the body (the same rules, the same hash)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def rule_set_sha256(body: Mapping[str, Any]) -> str:
    """The hex SHA-256 of the body's canonical text."""
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PinnedRuleSet:
    """A rule set version as a contract pins it: what its events carry."""

    name: str
    version: int
    sha256: str
    body: Mapping[str, Any]


# sha256 -> parsed rule set: a body is parsed once per process, however many
# contracts pin it (a few dozen versions exist; they are never evicted).
_PARSED: dict[str, RuleSet] = {}


def cached_rules(sha256: str) -> RuleSet | None:
    """The parsed rule set of that sha256 if this process has parsed it."""
    return _PARSED.get(sha256)


def pinned_rules(sha256: str, body: Mapping[str, Any]) -> RuleSet:
    """The parsed rule set of a pinned body, cached by its sha256 (the caller
    passes the sha256 that came with the body: a contract's, a read model's)."""
    found = _PARSED.get(sha256)
    if found is None:
        found = _PARSED[sha256] = parse_rule_set(body)
    return found


# Dates


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, or that month's last day."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def whole_months_between(start: date, end: date) -> int:
    """Completed calendar months from ``start`` to ``end`` (0 if end < start)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and add_months(start, months) > end:
        months -= 1
    return max(months, 0)


def age_on(day: date, born: date) -> int:
    """Age in whole years on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# The value of one person's block


@dataclass(frozen=True)
class BlockValue:
    """A year's value of a full-time placement of one person under a rule set."""

    block_eur: Decimal
    bonus_eur: Decimal
    eligible: bool
    #: why this value, in words (for the person checking the figures)
    reason: str
    #: True when the rule set's cap on counted time applies to this person
    capped: bool
    #: under a rule set with `caps`: the hours of work the person counts for
    #: across their placements (None: no cap); None under the legacy cap
    cap_hours: Decimal | None = None
    total_eur: Decimal = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_eur", self.block_eur + self.bonus_eur)


#: How an arrangement reads in a reason: (one, several).
ARRANGEMENT_WORDS = {
    "work_experience": ("work-experience place", "work-experience places"),
    "internship": ("internship", "internships"),
    "trial": ("trial placement", "trial placements"),
    "bbl_new": ("new BBL place", "new BBL places"),
    "bbl_existing": ("existing BBL place", "existing BBL places"),
}


def arrangement_value(rule_set: RuleSet, arrangement: str) -> Decimal | None:
    """What a full-time year of a (non-employment) arrangement is worth under
    the rule set; None if the rule set does not count it (null, absent, or no
    ``arrangements`` at all)."""
    return None if rule_set.arrangements is None else rule_set.arrangements.get(arrangement)


def block_value(
    rule_set: RuleSet,
    target_group: str,
    benefit_since: date | None,
    date_of_birth: date,
    status_holder: bool,
    permanent_contract: bool,
    judged_on: date,
    arrangement: str = DEFAULT_ARRANGEMENT,
) -> BlockValue:
    """Block and bonuses for a person, judged on ``judged_on`` (the contract's
    award date): target group, months on benefit and age as on that day.

    A group the rule set has no block for, or too short a time on benefit for
    its first tier, is not eligible: value 0 (bonuses too), with the reason.
    An unknown benefit_since, or one after the judging date, counts as 0 months.

    ``arrangement`` other than employment (product decisions, docs/valuation.md
    "Arrangements"): the rule set's ``arrangements.<kind>.value_eur`` replaces
    the block, with no bonuses; the person must still be eligible as above (a
    work-experience place is for a target-group person). An arrangement the
    rule set does not value (null, absent, or a rule set without
    ``arrangements``) counts 0, with the reason.
    """
    group = require_choice(target_group, TARGET_GROUPS, UnknownTargetGroup, "target_group")
    arrangement = require_choice(arrangement, ARRANGEMENTS, UnknownArrangement, "arrangement")
    benefit_since = optional_date(benefit_since, "benefit_since")
    date_of_birth = require_date(date_of_birth, "date_of_birth")
    judged_on = require_date(judged_on, "judged_on")
    status_holder = require_bool(status_holder, "status_holder")
    permanent_contract = require_bool(permanent_contract, "permanent_contract")
    if rule_set.caps is not None:
        cap_hours = rule_set.caps.get(group)
        capped = cap_hours is not None
    else:
        cap_hours = None
        capped = rule_set.cap_days is not None and group not in rule_set.uncapped_target_groups
    on = judged_on.isoformat()
    employment = arrangement == DEFAULT_ARRANGEMENT
    arranged = None if employment else arrangement_value(rule_set, arrangement)
    if not employment and arranged is None:
        one, several = ARRANGEMENT_WORDS[arrangement]
        listed = rule_set.arrangements is not None and arrangement in rule_set.arrangements
        return BlockValue(
            block_eur=Decimal(0),
            bonus_eur=Decimal(0),
            eligible=False,
            reason=f"{several} do not count in {rule_set.name}" if listed
            else f"{several} are not in rule set {rule_set.name} v{rule_set.version}",
            capped=capped,
        )
    tiers = rule_set.blocks.get(group)
    if tiers is None:
        return BlockValue(
            block_eur=Decimal(0),
            bonus_eur=Decimal(0),
            eligible=False,
            reason=f"{group} is not a target group in {rule_set.name}",
            capped=capped,
            cap_hours=cap_hours,
        )

    reasons = []
    if len(tiers) == 1 and tiers[0].months == 0 and not tiers[0].exclusive:
        tier = tiers[0]
        reasons.append(f"{group} in {rule_set.name}" + (f": {tier.value_eur}" if employment else ""))
    else:
        known = benefit_since is not None and benefit_since <= judged_on
        since = benefit_since if known else judged_on
        months = whole_months_between(since, judged_on)
        on_benefit = f"{months} months on benefit on {on}" + (
            "" if known else " (benefit_since unknown or later: counted as 0)"
        )
        applying = [t for t in tiers if t.applies(since, judged_on)]
        if not applying:
            return BlockValue(
                block_eur=Decimal(0),
                bonus_eur=Decimal(0),
                eligible=False,
                reason=f"{group} in {rule_set.name} needs {tiers[0].describe()} on "
                f"benefit; {on_benefit}",
                capped=capped,
                cap_hours=cap_hours,
            )
        tier = applying[-1]
        reasons.append(
            f"{group} in {rule_set.name}, {on_benefit} ({tier.describe()})"
            + (f": {tier.value_eur}" if employment else "")
        )

    if arranged is not None:
        # Not employment: the arrangement's own block, no age, status or
        # permanent-contract bonus (those belong to a year of employment).
        reasons.append(f"{ARRANGEMENT_WORDS[arrangement][0]} in {rule_set.name}: {arranged}, no bonuses")
        return BlockValue(
            block_eur=arranged,
            bonus_eur=Decimal(0),
            eligible=True,
            reason="; ".join(reasons),
            capped=capped,
            cap_hours=cap_hours,  # the person's cap counts their hours in any arrangement
        )

    bonus = Decimal(0)
    age = age_on(judged_on, date_of_birth)
    age_bonuses = [b for b in rule_set.age_bonuses if age >= b.min_age]
    if age_bonuses:
        # Only the highest age bonus applies.
        best = max(age_bonuses, key=lambda b: b.bonus_eur)
        bonus += best.bonus_eur
        reasons.append(f"aged {age} on {on} ({best.min_age}+): +{best.bonus_eur}")
    if status_holder and rule_set.status_holder_bonus_eur is not None:
        bonus += rule_set.status_holder_bonus_eur
        reasons.append(f"status holder: +{rule_set.status_holder_bonus_eur}")
    if permanent_contract and rule_set.permanent_contract_bonus_eur is not None:
        bonus += rule_set.permanent_contract_bonus_eur
        reasons.append(f"permanent contract: +{rule_set.permanent_contract_bonus_eur}")
    return BlockValue(
        block_eur=tier.value_eur,
        bonus_eur=bonus,
        eligible=True,
        reason="; ".join(reasons),
        capped=capped,
        cap_hours=cap_hours,
    )


# The value of a placement over time


def _truncated(amount: Fraction) -> Decimal:
    # Built from a string so that no Decimal context rounds it.
    return Decimal(f"{math.floor(amount * _SCALE)}E-{VALUE_DECIMALS}")


@dataclass(frozen=True)
class Segment:
    """Days ``from_day``..``to_day`` (inclusive; never open-ended: segments are
    clipped to the contract term and the cap) of constant daily value
    ``numerator / denominator`` EUR, exactly.

    numerator = (block + bonuses) x min(hours_per_week, basis_hours);
    denominator = basis_hours x days_per_year (day count actual/365). Under
    actual/actual a segment lies inside one calendar year, denominator =
    basis_hours x 365 x 366, and the numerator has the factor 365 in a leap
    year, 366 otherwise (a day is 1/366 or 1/365 of a year).
    Use ``value_between`` for money: it is additive over adjacent periods. In
    SQL the same figure is
    ``(div(numerator * n(b) * 1e12, denominator) - div(numerator * n(a-1) * 1e12,
    denominator)) / 1e12``, where n(d) = days of the segment up to and including d.
    """

    from_day: date
    to_day: date
    hours_per_week: Decimal
    numerator: Decimal
    denominator: Decimal

    @property
    def days(self) -> int:
        return (self.to_day - self.from_day).days + 1

    @property
    def daily_rate(self) -> Fraction:
        """The exact value of one day."""
        return Fraction(self.numerator) / Fraction(self.denominator)

    @property
    def daily_eur(self) -> Decimal:
        """One day's value truncated to VALUE_DECIMALS: for display, not for sums."""
        return _truncated(self.daily_rate)

    def days_through(self, day: date) -> int:
        """Days of this segment up to and including ``day``."""
        return min(max((day - self.from_day).days + 1, 0), self.days)

    def accrued_through(self, day: date) -> Decimal:
        """Value of this segment's days up to and including ``day``."""
        return _truncated(self.daily_rate * self.days_through(day))

    def value_between(self, first: date, last: date) -> Decimal:
        """Value of this segment's days in [first, last] (both inclusive)."""
        if last < first:
            return Decimal(0)
        return self.accrued_through(last) - self.accrued_through(first - timedelta(days=1))


def _checked_history(
    hours_history: Sequence[Mapping[str, Any]], starts_on: date
) -> list[tuple[date, Decimal]]:
    history = [(h["effective_on"], h["hours_per_week"]) for h in hours_history]
    if not history or history[0][0] != starts_on:
        raise InvalidValue("hours_history must begin on starts_on", "hours_history")
    if any(later[0] <= earlier[0] for earlier, later in zip(history, history[1:])):
        raise InvalidValue("hours_history must be in ascending date order", "hours_history")
    return history


def value_segments(
    rule_set: RuleSet,
    block: BlockValue,
    hours_history: Sequence[Mapping[str, Any]],
    starts_on: date,
    ended_on: date | None,
    term_start: date,
    term_end: date,
) -> list[Segment]:
    """The placement's counted days as segments of constant daily value, in
    date order, clipped to the contract term and the cap window (the first
    cap_days days from ``starts_on``, if the block is capped). Days worth
    nothing (not eligible, below the minimum hours) have no segment.

    hours_history: [{"effective_on": date, "hours_per_week": Decimal}, ...],
    ascending, the first on ``starts_on`` (Placement.hours_history).
    """
    history = _checked_history(hours_history, starts_on)
    if not block.eligible or block.total_eur <= 0:
        return []
    first = max(starts_on, term_start)
    last = term_end if ended_on is None else min(ended_on, term_end)
    if block.capped and rule_set.cap_days is not None:
        last = min(last, starts_on + timedelta(days=rule_set.cap_days - 1))
    actual = rule_set.day_count == "actual/actual"
    # actual/actual: one denominator for every year (basis x 365 x 366), so that
    # sums over a contract still divide once; a leap-year day's numerator has
    # the factor 365 (1/366 of a year), another day's 366 (1/365 of a year).
    denominator = rule_set.basis_hours * (365 * 366 if actual else rule_set.days_per_year)
    segments = []
    for i, (effective_on, hours) in enumerate(history):
        seg_from = max(effective_on, first)
        seg_to = last if i + 1 == len(history) else min(history[i + 1][0] - timedelta(1), last)
        if seg_to < seg_from or hours < rule_set.minimum_hours_per_week:
            continue
        counted_hours = min(hours, rule_set.basis_hours)
        if counted_hours <= 0:
            continue
        yearly = block.total_eur * counted_hours
        pieces = _calendar_years(seg_from, seg_to) if actual else [(seg_from, seg_to)]
        for piece_from, piece_to in pieces:
            factor = (365 if calendar.isleap(piece_from.year) else 366) if actual else 1
            segments.append(
                Segment(
                    from_day=piece_from,
                    to_day=piece_to,
                    hours_per_week=hours,
                    numerator=yearly * factor,
                    denominator=denominator,
                )
            )
    return segments


def _calendar_years(first: date, last: date) -> list[tuple[date, date]]:
    """[first, last] cut at each 1 January (each piece inside one calendar year)."""
    pieces = []
    while first.year < last.year:
        pieces.append((first, date(first.year, 12, 31)))
        first = date(first.year + 1, 1, 1)
    pieces.append((first, last))
    return pieces


def placement_value(
    rule_set: RuleSet,
    block: BlockValue,
    hours_history: Sequence[Mapping[str, Any]],
    starts_on: date,
    ended_on: date | None,
    term_start: date,
    term_end: date,
    period_start: date,
    period_end: date,
) -> Decimal:
    """The placement's value over [period_start, period_end] (both inclusive):
    the sum of its segments' values over that period (see the module docstring).
    Under a rule set with ``caps``: as if it were the candidate's only placement
    (``candidate_segments`` values a candidate's placements together)."""
    if rule_set.caps is not None:
        alone = CapPlacement(None, rule_set, block, hours_history, starts_on, ended_on, term_start, term_end)
        segments = candidate_segments([alone])[None][0]
    else:
        segments = value_segments(
            rule_set, block, hours_history, starts_on, ended_on, term_start, term_end
        )
    return sum(
        (s.value_between(period_start, period_end) for s in segments), Decimal(0)
    )



# The cap per candidate, in hours worked (rule sets with `caps`, issue 13)

#: Days a week: hours per week / 7 is what a counted day uses of a cap.
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class CapPlacement:
    """One placement of a candidate, with what values it (its contract's rule
    set and term, its recorded block): the input of ``candidate_segments``."""

    key: Any
    rule_set: RuleSet
    block: BlockValue
    hours_history: Sequence[Mapping[str, Any]]
    starts_on: date
    ended_on: date | None
    term_start: date
    term_end: date


@dataclass(frozen=True)
class HoursCap:
    """How the candidate's cap in hours applies to one placement."""

    #: the cap of the placement's group in its rule set
    cap_hours: Decimal
    #: hours the candidate used (counted days, all their placements) before the placement's first day
    used_before: Fraction
    #: the day the candidate's hours used reach the cap (the crossing day, counted whole), or None
    reached_on: date | None
    #: the placement's last counted day under the cap (None: the cap cuts none of its days)
    counted_through: date | None

    @property
    def remaining_before(self) -> Fraction:
        """The cap less the hours used before the placement (0 at least)."""
        return max(Fraction(self.cap_hours) - self.used_before, Fraction(0))

    def as_record(self) -> dict[str, Any]:
        """JSON-ready; used_before exact, as numerator/denominator."""
        return {"cap_hours": str(self.cap_hours),
                "used_before": f"{self.used_before.numerator}/{self.used_before.denominator}",
                "reached_on": None if self.reached_on is None else self.reached_on.isoformat(),
                "counted_through": None if self.counted_through is None else self.counted_through.isoformat()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> HoursCap | None:
        if not record:
            return None
        def day(value: str | None) -> date | None:
            return None if value is None else date.fromisoformat(value)

        return cls(cap_hours=Decimal(record["cap_hours"]), used_before=Fraction(record["used_before"]),
                   reached_on=day(record["reached_on"]), counted_through=day(record["counted_through"]))


def clip_segments(segments: Sequence[Segment], through: date | None) -> list[Segment]:
    """Segments cut after ``through`` (None: as they are)."""
    if through is None:
        return list(segments)
    return [Segment(from_day=s.from_day, to_day=min(s.to_day, through), hours_per_week=s.hours_per_week,
                    numerator=s.numerator, denominator=s.denominator)
            for s in segments if s.from_day <= through]


def _hours_per_day(rule_set: RuleSet, segment: Segment) -> Fraction:
    return Fraction(min(segment.hours_per_week, rule_set.basis_hours)) / DAYS_PER_WEEK


def _used_before(pieces: Sequence[tuple[date, int, Fraction, Fraction]], day: date) -> Fraction:
    """Hours used before ``day``, from the pieces (first day, days, used before it, hours a day)."""
    used = Fraction(0)
    for first, days, before, rate in pieces:
        if first >= day:
            break
        used = before + rate * min((day - first).days, days)
    return used


def _day_reaching(pieces: Sequence[tuple[date, int, Fraction, Fraction]], cap: Fraction) -> date | None:
    """The day whose hours take the used hours to the cap or over (None: never)."""
    for first, days, before, rate in pieces:
        if rate > 0 and before + rate * days >= cap:
            # the k-th day (1-based) of the piece is the first with before + k x rate >= cap
            return first + timedelta(days=max(math.ceil((cap - before) / rate), 1) - 1)
    return None


def candidate_segments(
    placements: Sequence[CapPlacement],
) -> dict[Any, tuple[list[Segment], HoursCap | None]]:
    """Each of a candidate's placements' segments with the cap in hours applied,
    and how the cap applies to it (None: no cap in hours for it), by key.

    The rule (rule sets with ``caps``): a day of a placement counts while the
    hours the candidate used BEFORE that day, across all their placements,
    are below the cap of the placement's group; the day that crosses the cap
    counts whole. A counted day uses min(hours_per_week, basis_hours) / 7
    hours of that placement's rule set. Only days that count for social return
    use hours (eligible, at or above the minimum hours, inside the term: the
    days of ``value_segments``), whatever the rule set: a legacy placement's
    counted days use hours too, while its own days keep the legacy cap
    (cap_days from its start). Placements on the same day each use their
    hours, all judged on the hours used before that day.
    """
    plain: list[list[Segment]] = []
    caps: list[Fraction | None] = []
    for p in placements:
        plain.append(value_segments(p.rule_set, p.block, p.hours_history, p.starts_on, p.ended_on,
                                    p.term_start, p.term_end))
        by_hours = p.rule_set.caps is not None and p.block.capped and p.block.cap_hours is not None
        caps.append(Fraction(p.block.cap_hours) if by_hours else None)  # type: ignore[arg-type]
    # (first day, last day, placement index, hours a day) of every segment
    spans = [(s.from_day, s.to_day, i, _hours_per_day(placements[i].rule_set, s))
             for i, segments in enumerate(plain) for s in segments]
    through: dict[int, date] = {}  # placement index -> its last counted day (cap reached)
    pieces: list[tuple[date, int, Fraction, Fraction]] = []
    used = Fraction(0)
    edges = sorted({s[0] for s in spans} | {s[1] + timedelta(days=1) for s in spans})
    for day, next_edge in zip(edges, edges[1:]):
        while day < next_edge:
            active = [s for s in spans if s[0] <= day <= s[1] and s[2] not in through]
            for _, _, i, _ in active:
                cap = caps[i]
                if cap is not None and used >= cap:  # reached before this stretch
                    through[i] = day - timedelta(days=1)
            active = [s for s in active if s[2] not in through]
            rate = sum((s[3] for s in active), Fraction(0))
            days = (next_edge - day).days
            capped = [caps[s[2]] for s in active if caps[s[2]] is not None]
            if rate > 0 and capped:
                # days until the first cap is crossed (the crossing day included)
                days = min(days, min(math.ceil((cap - used) / rate) for cap in capped))  # type: ignore[operator]
            if rate > 0:
                pieces.append((day, days, used, rate))
            used += rate * days
            day += timedelta(days=days)
    out: dict[Any, tuple[list[Segment], HoursCap | None]] = {}
    for i, p in enumerate(placements):
        cap = caps[i]
        if cap is None:
            out[p.key] = (plain[i], None)
            continue
        last = through.get(i)
        out[p.key] = (clip_segments(plain[i], last), HoursCap(
            cap_hours=p.block.cap_hours,  # type: ignore[arg-type]
            used_before=_used_before(pieces, p.starts_on), reached_on=_day_reaching(pieces, cap),
            counted_through=last))
    return out
