"""The day count, a rule-set setting: how a counted day divides a year's block.

actual/365 (the default, and the shipped rule sets'): every day is 1/365 of the
block, so a full leap year is worth 366/365 of it. actual/actual: a day in a
leap year is 1/366 of the block, any other day 1/365, so every full calendar
year is exactly one block. Utrecht participatiewet: 40,000 a year, basis 36
hours; the contract below runs 2027-01-01..2029-12-31 (2028 is a leap year).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from domain.explanation import explain_placement
from tests.domain.builders import shipped_rules
from domain.valuation import (
    BlockValue,
    RuleSetDataError,
    parse_rule_set,
    placement_value,
    value_segments,
)

UTRECHT = shipped_rules("utrecht-2024")
ACTUAL = replace(UTRECHT, day_count="actual/actual")
TERM = (date(2027, 1, 1), date(2029, 12, 31))
BLOCK = BlockValue(block_eur=Decimal("40000"), bonus_eur=Decimal(0), eligible=True, reason="", capped=False)


def value(rule_set, starts_on, period, hours=Decimal(36)):
    history = [{"effective_on": starts_on, "hours_per_week": hours}]
    return placement_value(rule_set, BLOCK, history, starts_on, None, *TERM, *period)


def _file(name: str) -> dict:
    return json.loads(resources.files("domain.rulesets").joinpath(f"{name}.json").read_text())


def test_the_shipped_rule_sets_count_actual_365():
    assert UTRECHT.day_count == "actual/365"
    assert shipped_rules("harlingen-2024").day_count == "actual/365"
    assert _file("utrecht-2024")["day_count"] == "actual/365"


def test_a_full_leap_year_under_actual_actual_is_exactly_one_block():
    # 366 days x 40,000 / 366 = 40,000
    assert value(ACTUAL, date(2028, 1, 1), (date(2028, 1, 1), date(2028, 12, 31))) == Decimal("40000")


def test_a_full_leap_year_under_actual_365_is_366_365ths_of_a_block():
    # 366 x 40,000 / 365 = 40,109.589041095890... (truncated to 12 decimals)
    got = value(UTRECHT, date(2028, 1, 1), (date(2028, 1, 1), date(2028, 12, 31)))
    assert got == Decimal("40109.589041095890")
    assert got.quantize(Decimal("0.01")) == Decimal("40109.59")


def test_a_common_year_is_one_block_under_either_day_count():
    period = (date(2027, 1, 1), date(2027, 12, 31))
    assert value(ACTUAL, date(2027, 1, 1), period) == value(UTRECHT, date(2027, 1, 1), period) == 40000


def test_a_year_across_new_year_values_each_day_by_its_own_year():
    # 2027-07-01..2028-06-30: 184 days of 2027 at 40,000/365 + 182 days of 2028 at 40,000/366
    # = 20,164.383561643835... + 19,890.710382513661... = 40,055.093944157497...
    got = value(ACTUAL, date(2027, 7, 1), (date(2027, 7, 1), date(2028, 6, 30)))
    assert got.quantize(Decimal("0.01")) == Decimal("40055.09")
    assert value(ACTUAL, date(2027, 7, 1), (date(2027, 7, 1), date(2027, 12, 31))) \
        + value(ACTUAL, date(2027, 7, 1), (date(2028, 1, 1), date(2028, 6, 30))) == got


def test_actual_actual_segments_lie_inside_one_calendar_year_with_one_denominator():
    history = [{"effective_on": date(2027, 7, 1), "hours_per_week": Decimal(18)}]
    segments = value_segments(ACTUAL, BLOCK, history, date(2027, 7, 1), None, *TERM)
    assert [(s.from_day, s.to_day) for s in segments] == [
        (date(2027, 7, 1), date(2027, 12, 31)), (date(2028, 1, 1), date(2028, 12, 31)),
        (date(2029, 1, 1), date(2029, 12, 31))]
    # One denominator per contract (36 x 365 x 366), the year's length in the numerator.
    assert {s.denominator for s in segments} == {Decimal(36 * 365 * 366)}
    assert [s.numerator for s in segments] == [40000 * 18 * 366, 40000 * 18 * 365, 40000 * 18 * 366]


def test_the_explanation_divides_each_segment_by_its_year_length():
    history = [{"effective_on": date(2028, 1, 1), "hours_per_week": Decimal(36)}]
    x = explain_placement(ACTUAL, valued=True, block=BLOCK, judged_on=date(2026, 11, 1),
                          permanent_contract=False, hours_history=history, starts_on=date(2028, 1, 1),
                          ended_on=None, term_start=TERM[0], term_end=TERM[1], period_start=None,
                          period_end=date(2028, 12, 31)).as_dict()
    assert Decimal(x["value_eur"]) == 40000
    assert x["day_count"] == "actual/actual"
    assert [(s["days"], s["days_per_year"]) for s in x["segments"]] == [(366, 366)]


def test_a_rule_set_file_without_day_count_counts_actual_365():
    data = _file("utrecht-2024")
    del data["day_count"]
    assert parse_rule_set(data).day_count == "actual/365"


def test_an_unknown_day_count_is_refused():
    data = _file("utrecht-2024")
    data["day_count"] = "30/360"
    with pytest.raises(RuleSetDataError, match="day_count"):
        parse_rule_set(data)


def test_actual_actual_takes_a_common_year_of_365_days():
    data = _file("utrecht-2024") | {"day_count": "actual/actual", "days_per_year": 360}
    with pytest.raises(RuleSetDataError, match="days_per_year"):
        parse_rule_set(data)
    assert parse_rule_set(data | {"days_per_year": 365}).day_count == "actual/actual"
