"""The worked figures of docs/valuation.md, "A placement's value", recomputed
from the shipped rule sets: the docs and the code cannot drift apart."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from domain.valuation import RuleSet, block_value, parse_rule_set, placement_value

AWARDED = date(2023, 11, 1)
TERM = (date(2024, 1, 1), date(2027, 12, 31))


def _rules(name: str) -> RuleSet:
    text = resources.files("domain.rulesets").joinpath(f"{name}.json").read_text("utf-8")
    return parse_rule_set(json.loads(text))


UTRECHT, HARLINGEN = _rules("utrecht-2024"), _rules("harlingen-2024")
UTRECHT_ACTUAL = dataclasses.replace(UTRECHT, day_count="actual/actual")


def _value(rules: RuleSet, group: str, hours: list[tuple[date, str]], ends_on: date | None, *,
           since: date | None = None, born: date = date(1990, 5, 1), status_holder: bool = False,
           permanent: bool = False, period: tuple[date, date] = TERM) -> Decimal:
    block = block_value(rules, group, since, born, status_holder, permanent, AWARDED)
    history = [{"effective_on": day, "hours_per_week": Decimal(h)} for day, h in hours]
    value = placement_value(rules, block, history, hours[0][0], ends_on, *TERM, *period)
    return value.quantize(Decimal("0.01"))


Y2025 = date(2025, 1, 1)
CASES = [
    # (40,000 x 36/36 x 365/365)
    ("full-time year", UTRECHT, "participatiewet", [(Y2025, "36")], date(2025, 12, 31), {}, "40000.00"),
    # hours up to the basis: 20,000 x 36/36
    ("40 h counts 36", UTRECHT, "ww", [(Y2025, "40")], date(2025, 12, 31), {}, "20000.00"),
    # 40,000 x 24/36 x 181/365
    ("24 h half year", UTRECHT, "participatiewet", [(Y2025, "24")], date(2025, 6, 30), {}, "13223.74"),
    # 40,000 x 181/365 + 40,000 x 18/36 x 184/365
    ("hours change", UTRECHT, "participatiewet", [(Y2025, "36"), (date(2025, 7, 1), "18")], date(2025, 12, 31),
     {}, "29917.81"),
    # 40,000 x 90/365
    ("first quarter", UTRECHT, "participatiewet", [(Y2025, "36")], None,
     {"period": (Y2025, date(2025, 3, 31))}, "9863.01"),
    # 40,000 / 365
    ("one day", UTRECHT, "participatiewet", [(Y2025, "36")], Y2025, {}, "109.59"),
    # 40,000 x 366/365
    ("leap year actual/365", UTRECHT, "participatiewet", [(date(2024, 1, 1), "36")], date(2024, 12, 31), {},
     "40109.59"),
    # 40,000 x 366/366
    ("leap year actual/actual", UTRECHT_ACTUAL, "participatiewet", [(date(2024, 1, 1), "36")], date(2024, 12, 31),
     {}, "40000.00"),
    # (40,000 + 10,000 age 50+ + 10,000 status holder + 10,000 permanent) x 1
    ("bonuses", UTRECHT, "participatiewet", [(Y2025, "36")], date(2025, 12, 31),
     {"born": date(1970, 3, 1), "status_holder": True, "permanent": True}, "70000.00"),
    # 22 whole months on benefit on the award date: the "at least 0 months" tier
    ("tier under 24 months", HARLINGEN, "participatiewet", [(Y2025, "36")], date(2025, 12, 31),
     {"since": date(2021, 12, 2)}, "35000.00"),
    ("tier at 24 months", HARLINGEN, "participatiewet", [(Y2025, "36")], date(2025, 12, 31),
     {"since": date(2021, 11, 1)}, "40000.00"),
    # 2 months on WW: needs 3
    ("ww too short", HARLINGEN, "ww", [(Y2025, "36")], date(2025, 12, 31), {"since": date(2023, 9, 1)}, "0.00"),
    # below the minimum of 12 h a week
    ("below the minimum", HARLINGEN, "participatiewet", [(Y2025, "10")], date(2025, 12, 31),
     {"since": date(2021, 1, 1)}, "0.00"),
    # (40,000 + 7,500 for 55+, not also 5,000 for 50+) x 12/36
    ("12 h aged 56", HARLINGEN, "participatiewet", [(Y2025, "12")], date(2025, 12, 31),
     {"since": date(2021, 1, 1), "born": date(1967, 6, 1)}, "15833.33"),
]


@pytest.mark.parametrize(("case", "rules", "group", "hours", "ends_on", "person", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_the_worked_figure_of_the_docs(case: str, rules: RuleSet, group: str, hours: list[tuple[date, str]],
                                       ends_on: date | None, person: dict, expected: str) -> None:
    assert _value(rules, group, hours, ends_on, **person) == Decimal(expected)


def test_every_figure_of_the_table_is_in_the_docs() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "valuation.md").read_text("utf-8")
    for case in CASES:
        figure = f"{Decimal(case[-1]):,.2f}"
        if figure != "0.00":
            assert figure in docs, (case[0], figure)
