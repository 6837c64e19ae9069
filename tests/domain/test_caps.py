"""Caps per target group, counted per candidate in hours worked (issue 13).

Utrecht v2 (domain/rulesets/utrecht-2024.v2.json): participatiewet 40,000 a
year at 36 hours a week; its cap is 2 years of hours: 2 x 365/7 x 36 =
26280/7 = 3754.2857... written "3754.29". A counted day uses
min(hours, 36)/7 hours. A day counts while the hours used BEFORE it, across
all the candidate's placements, are below the cap; the crossing day counts
whole. The value rule is unchanged: 40,000 x min(hours, 36)/36 x days/365.
Candidates are born in 1990 (no age bonus), not status holders, no permanent
contract: no bonuses.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from domain.explanation import explain_placement
from domain.valuation import (
    BlockValue,
    CapPlacement,
    HoursCap,
    RuleSetDataError,
    block_value,
    candidate_segments,
    parse_rule_set,
    placement_value,
    value_segments,
)
from tests.domain.builders import shipped, shipped_rules

TERM = (date(2025, 1, 1), date(2027, 12, 31))  # 365 + 365 + 365 = 1095 days
AWARDED = date(2024, 11, 15)


def seed(name: str) -> dict:
    return dict(shipped(name, 2).body)


UTRECHT_V2 = shipped_rules("utrecht-2024", 2)
UTRECHT_V1 = shipped_rules("utrecht-2024")


def block(rule_set=UTRECHT_V2, group="participatiewet") -> BlockValue:
    return block_value(rule_set, group, benefit_since=date(2020, 1, 1), date_of_birth=date(1990, 6, 15),
                       status_holder=False, permanent_contract=False, judged_on=AWARDED)


def placement(key, hours, starts_on, ended_on=None, *, rule_set=UTRECHT_V2, term=TERM, group="participatiewet"):
    return CapPlacement(key=key, rule_set=rule_set, block=block(rule_set, group),
                        hours_history=[{"effective_on": starts_on, "hours_per_week": Decimal(hours)}],
                        starts_on=starts_on, ended_on=ended_on, term_start=term[0], term_end=term[1])


def total(segments, term=TERM) -> Decimal:
    return sum((s.value_between(*term) for s in segments), Decimal(0))


# -- the rule set key ----------------------------------------------------------------------
def test_the_v2_seeds_state_the_caps_in_hours():
    assert UTRECHT_V2.version == 2 and UTRECHT_V2.cap_days is None
    assert UTRECHT_V2.caps == {
        "participatiewet": Decimal("3754.29"),  # 2 x 365/7 x 36 = 3754.2857...
        "ww": Decimal("1877.14"),  # 1 x 365/7 x 36 = 1877.1428...
        "doelgroepregister": None, "wajong": None, "wia_wao": None,
        "vso_pro_mbo1": Decimal("3754.29"), "bbl": Decimal("3754.29"), "bol": Decimal("3754.29"),
        "no_benefit": Decimal("3754.29")}
    harlingen = parse_rule_set(seed("harlingen-2024"))
    assert harlingen.caps is not None and harlingen.caps["ww"] == Decimal("1877.14")
    assert harlingen.caps["wia_wao"] is None and harlingen.caps["bbl"] == Decimal("3754.29")
    assert UTRECHT_V1.caps is None and UTRECHT_V1.cap_days == 730  # version 1 keeps its legacy cap


def test_a_group_gets_its_cap_in_hours_in_its_block_value():
    assert block(group="ww").cap_hours == Decimal("1877.14") and block(group="ww").capped
    assert block(group="wia_wao").cap_hours is None and not block(group="wia_wao").capped
    assert block(UTRECHT_V1).cap_hours is None and block(UTRECHT_V1).capped  # legacy: calendar days


@pytest.mark.parametrize("change,message", [
    ({"cap_days": 730}, "caps replaces cap_days"),
    ({"caps": {"participatiewet": "3754.29"}}, "missing"),
    ({"caps_ww": "0"}, "unknown"),
    ({"caps": {**seed("utrecht-2024")["caps"], "ww": "0"}}, "more than 0"),
    ({"caps": {**seed("utrecht-2024")["caps"], "ww": 1877}}, "caps.ww must be a decimal string"),
    ({"caps": {**seed("utrecht-2024")["caps"], "martians": None}}, "target groups"),
])
def test_a_malformed_caps_key_is_refused_with_what_is_wrong(change, message):
    with pytest.raises(RuleSetDataError, match=message):
        parse_rule_set({**seed("utrecht-2024"), **change})


# -- (1) the example -----------------------------------------------------------------
def test_18_hours_for_3_years_is_worth_60000_the_cap_not_reached():
    # 40,000 x 18/36 x 1095/365 = 60,000 exactly. Hours used: 1095 x 18/7 =
    # 2815.71 < 3754.29, so no day is cut (the legacy cap would stop it after
    # 730 days: 40,000 x 18/36 x 730/365 = 40,000).
    segments, cap = candidate_segments([placement("a", "18", date(2025, 1, 1))])["a"]
    assert total(segments) == Decimal("60000")
    assert cap == HoursCap(cap_hours=Decimal("3754.29"), used_before=Fraction(0), reached_on=None,
                           counted_through=None)
    legacy = value_segments(UTRECHT_V1, block(UTRECHT_V1), [{"effective_on": date(2025, 1, 1),
                                                             "hours_per_week": Decimal(18)}],
                            date(2025, 1, 1), None, *TERM)
    assert total(legacy) == Decimal("40000")


# -- (2) full time for 3 years ----------------------------------------------------------------
def test_full_time_counts_until_the_day_that_crosses_the_cap_whole():
    # 36/7 hours a day. Day n counts while (n - 1) x 36/7 < 3754.29, i.e.
    # n - 1 < 3754.29 x 7/36 = 730.0008..., so n <= 731: day 731 (2027-01-01;
    # 2025 and 2026 have 365 days each) starts at 730 x 36/7 = 3754.2857 hours,
    # just under the cap, and counts whole. Value: 40,000 x 731/365 =
    # 80,109.589041095890... (the rounded cap gives one day more than 730).
    segments, cap = candidate_segments([placement("a", "36", date(2025, 1, 1))])["a"]
    assert [(s.from_day, s.to_day) for s in segments] == [(date(2025, 1, 1), date(2027, 1, 1))]
    assert total(segments) == Decimal("80109.589041095890")
    assert cap.reached_on == date(2027, 1, 1) and cap.counted_through == date(2027, 1, 1)


def test_placement_value_applies_the_cap_to_the_placement_alone():
    # The same full-time placement through placement_value (the rule set page's
    # preview): 731 days, 80,109.589041095890; the 2027 days after 2027-01-01 count 0.
    history = [{"effective_on": date(2025, 1, 1), "hours_per_week": Decimal(36)}]
    assert placement_value(UTRECHT_V2, block(), history, date(2025, 1, 1), None, *TERM, *TERM) \
        == Decimal("80109.589041095890")
    assert placement_value(UTRECHT_V2, block(), history, date(2025, 1, 1), None, *TERM,
                           date(2027, 1, 2), TERM[1]) == Decimal(0)


def test_over_basis_hours_use_the_cap_at_the_basis_only():
    # 40 hours a week count as 36 (min(hours, basis)) for the value and for the cap.
    segments, _ = candidate_segments([placement("a", "40", date(2025, 1, 1))])["a"]
    assert segments[-1].to_day == date(2027, 1, 1)


# -- (3) a new placement does not reset the cap -----------------------------------------------
def test_ending_a_placement_and_starting_another_under_another_contract_keeps_the_cap():
    # A: full time 2025-01-01..2025-12-31 (365 days x 36/7 = 13140/7 = 1877.142857 h).
    # B, another contract (2026-2028), full time from 2026-01-01: its day m counts
    # while 1877.142857 + (m - 1) x 36/7 < 3754.29, i.e. m - 1 < 365.0008, so
    # m <= 366: 2026-01-01..2027-01-01, worth 40,000 x 366/365 = 40,109.589041095890...
    # (alone, B would count 731 days: 80,109.59).
    other_term = (date(2026, 1, 1), date(2028, 12, 31))
    found = candidate_segments([
        placement("a", "36", date(2025, 1, 1), date(2025, 12, 31)),
        placement("b", "36", date(2026, 1, 1), term=other_term)])
    a, a_cap = found["a"]
    b, b_cap = found["b"]
    assert total(a) == Decimal("40000")  # 365 days: the whole block
    assert a_cap.counted_through is None  # not cut
    assert [(s.from_day, s.to_day) for s in b] == [(date(2026, 1, 1), date(2027, 1, 1))]
    assert total(b, other_term) == Decimal("40109.589041095890")
    assert b_cap.used_before == Fraction(13140, 7)
    # 3754.29 - 1877.142857... = 1877.147142...
    assert b_cap.remaining_before == Fraction(375429, 100) - Fraction(13140, 7)
    assert b_cap.reached_on == date(2027, 1, 1) == a_cap.reached_on


def test_a_legacy_placements_counted_hours_use_the_cap_too():
    # The same as above with A under Utrecht v1: its own figure keeps the
    # legacy cap (730 days from its start, not reached in 365), and its 365
    # counted days use 1877.142857 hours of B's cap all the same.
    found = candidate_segments([
        placement("a", "36", date(2025, 1, 1), date(2025, 12, 31), rule_set=UTRECHT_V1),
        placement("b", "36", date(2026, 1, 1))])
    assert found["a"][1] is None and total(found["a"][0]) == Decimal("40000")
    assert found["b"][0][-1].to_day == date(2027, 1, 1)


# -- (4) two placements at once ---------------------------------------------------------------
def test_two_placements_at_once_use_the_cap_together():
    # Two 18-hour placements from 2025-01-01 (two contracts, same term): 18/7 +
    # 18/7 = 36/7 hours a day together, so as for full time both count through
    # day 731 (2027-01-01): each 40,000 x 18/36 x 731/365 = 40,054.794520547945...
    # (alone, each would count the whole term: 60,000).
    found = candidate_segments([placement("a", "18", date(2025, 1, 1)), placement("b", "18", date(2025, 1, 1))])
    for key in ("a", "b"):
        segments, cap = found[key]
        assert segments[-1].to_day == date(2027, 1, 1)
        assert total(segments) == Decimal("40054.794520547945")
        assert cap.reached_on == date(2027, 1, 1)


def test_placements_with_different_caps_at_once_stop_each_at_its_own_cap():
    # Two placements from 2025-01-01 under rule sets that cap the group
    # differently: A at 1877.14 h (1 year, as ww), B at 3754.29 h, 18 hours each:
    # 36/7 a day together. A's day n counts while (n - 1) x 36/7 < 1877.14:
    # n - 1 < 364.9994, n <= 365 (2025-12-31): 40,000 x 18/36 x 365/365 = 20,000.
    # Then B alone at 18/7 a day from 1877.142857 h: day 365 + m counts while
    # 1877.142857 + (m - 1) x 18/7 < 3754.29: m - 1 < 730.0017, m <= 731, past
    # the term's 1095 days: B counts all 1095, 40,000 x 18/36 x 3 = 60,000.
    one_year = replace(UTRECHT_V2, caps={**UTRECHT_V2.caps, "participatiewet": Decimal("1877.14")})
    found = candidate_segments([placement("a", "18", date(2025, 1, 1), rule_set=one_year),
                                placement("b", "18", date(2025, 1, 1))])
    assert found["a"][0][-1].to_day == date(2025, 12, 31) and total(found["a"][0]) == Decimal("20000")
    assert total(found["b"][0]) == Decimal("60000") and found["b"][1].counted_through is None


def test_an_uncapped_group_counts_every_day_and_uses_no_cap():
    segments, cap = candidate_segments([placement("a", "36", date(2025, 1, 1), group="wia_wao")])["a"]
    assert cap is None and total(segments) == Decimal("120000")  # 40,000 x 3 years


def test_a_placement_after_the_cap_is_used_up_counts_nothing():
    # A counts through 2027-01-01 (731 days, test above); B starts 2027-06-01:
    # 3754.2857 + 36/7 = 3759.43 hours used before it, over the cap.
    found = candidate_segments([placement("a", "36", date(2025, 1, 1), date(2027, 3, 31)),
                                placement("b", "36", date(2027, 6, 1))])
    assert found["b"][0] == [] and found["b"][1].counted_through == date(2027, 5, 31)


# -- (5) v1 contracts keep their figures ------------------------------------------------------
def test_legacy_rule_sets_keep_the_calendar_day_cap_per_placement():
    # Utrecht v1: 730 calendar days from each placement's start, whatever came
    # before: full time 2025-01-01.. counts 2025-01-01..2026-12-31, 40,000 x 2 = 80,000;
    # a second placement from 2026-01-01 counts its own 730 days (to 2027-12-31): 80,000.
    history = [{"effective_on": date(2025, 1, 1), "hours_per_week": Decimal(36)}]
    alone = value_segments(UTRECHT_V1, block(UTRECHT_V1), history, date(2025, 1, 1), None, *TERM)
    found = candidate_segments([placement("a", "36", date(2025, 1, 1), rule_set=UTRECHT_V1),
                                placement("b", "36", date(2026, 1, 1), rule_set=UTRECHT_V1)])
    assert found["a"] == (alone, None) and total(alone) == Decimal("80000")
    assert alone[-1].to_day == date(2026, 12, 31)
    assert total(found["b"][0]) == Decimal("80000") and found["b"][1] is None


# -- the explanation --------------------------------------------------------------------------
def test_the_explanation_states_the_cap_in_hours_the_hours_used_remaining_and_the_day_reached():
    other_term = (date(2026, 1, 1), date(2028, 12, 31))
    found = candidate_segments([
        placement("a", "36", date(2025, 1, 1), date(2025, 12, 31)),
        placement("b", "36", date(2026, 1, 1), term=other_term)])
    b = placement("b", "36", date(2026, 1, 1), term=other_term)
    explained = explain_placement(
        UTRECHT_V2, valued=True, block=b.block, judged_on=AWARDED, permanent_contract=False,
        hours_history=b.hours_history, starts_on=b.starts_on, ended_on=None, term_start=other_term[0],
        term_end=other_term[1], period_start=None, period_end=other_term[1], hours_cap=found["b"][1]).as_dict()
    assert explained["value_eur"] == "40109.589041095890"  # 366 days, as above
    assert explained["cap"] == {
        "applies": True, "counted_in": "hours", "cap_hours": "3754.29",
        "hours_used_before": "1877.14",  # 13140/7 = 1877.142857...
        "hours_remaining": "1877.15",  # 3754.29 - 1877.142857 = 1877.147143 (half up)
        "reached_on": "2027-01-01", "counted_through": "2027-01-01"}
    # 2027-01-02..2028-12-31: 364 + 366 = 730 days after the cap.
    assert explained["days"]["counted"] == 366 and explained["days"]["after_cap"] == 730


def test_the_explanation_of_a_placement_after_the_cap_names_it():
    found = candidate_segments([placement("a", "36", date(2025, 1, 1), date(2027, 3, 31)),
                                placement("b", "36", date(2027, 6, 1))])
    b = placement("b", "36", date(2027, 6, 1))
    explained = explain_placement(
        UTRECHT_V2, valued=True, block=b.block, judged_on=AWARDED, permanent_contract=False,
        hours_history=b.hours_history, starts_on=b.starts_on, ended_on=None, term_start=TERM[0],
        term_end=TERM[1], period_start=None, period_end=TERM[1], hours_cap=found["b"][1]).as_dict()
    assert explained["value_eur"] == "0" and explained["zero_code"] == "cap_exhausted"
    assert explained["cap"]["hours_remaining"] == "0.00" and explained["cap"]["reached_on"] == "2027-01-01"
    assert explained["days"]["after_cap"] == (TERM[1] - date(2027, 6, 1)).days + 1 == 214


def test_an_arrangement_counts_under_the_persons_cap_in_hours():
    # A BBL-new place (Utrecht v2: 35,000 a year) for a participatiewet person
    # keeps the person's cap of 3754.29 hours: full time, day 731 crosses it.
    bbl = block_value(UTRECHT_V2, "participatiewet", benefit_since=date(2020, 1, 1),
                      date_of_birth=date(1990, 6, 15), status_holder=False, permanent_contract=False,
                      judged_on=AWARDED, arrangement="bbl_new")
    assert bbl.eligible and bbl.block_eur == Decimal("35000") and bbl.cap_hours == Decimal("3754.29")
    alone = CapPlacement("a", UTRECHT_V2, bbl, [{"effective_on": date(2025, 1, 1), "hours_per_week": Decimal(36)}],
                         date(2025, 1, 1), None, *TERM)
    segments, _ = candidate_segments([alone])["a"]
    assert segments[-1].to_day == date(2027, 1, 1)
    assert total(segments) == Decimal("70095.890410958904")  # 35,000 x 731/365 = 70,095.8904109589...
