"""Valuing placements with the building-blocks method.

Every expected figure is worked out by hand from the tables in the rule set
files (Utrecht and Harlingen, basis 36 hours a week) with the product rule

    (block + bonuses) x min(hours, 36)/36 x counted_days/365.

Contracts here run 2025-01-01..2027-12-31 and were awarded on 2024-11-15
(eligibility, age and months on benefit are judged on that date).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidValue, UnknownRuleSet, UnknownTargetGroup
from domain.valuation import (
    VALUE_DECIMALS,
    BlockValue,
    PinnedRuleSet,
    RuleSetDataError,
    block_value,
    cached_rules,
    canonical_json,
    parse_rule_set,
    pinned_rules,
    rule_set_sha256,
    placement_value,
    value_segments,
)
from domain import SocialReturnContract
from domain.values import TARGET_GROUPS
from tests.domain.builders import contract_terms, shipped, shipped_rules

AWARDED = date(2024, 11, 15)
TERM = (date(2025, 1, 1), date(2027, 12, 31))
YEAR_2025 = (date(2025, 1, 1), date(2025, 12, 31))  # 365 days
UTRECHT = shipped_rules("utrecht-2024")
HARLINGEN = shipped_rules("harlingen-2024")
AGED_40 = date(1984, 6, 1)


def block(
    rule_set=UTRECHT,
    target_group="participatiewet",
    benefit_since=None,
    date_of_birth=AGED_40,
    status_holder=False,
    permanent_contract=False,
    judged_on=AWARDED,
) -> BlockValue:
    return block_value(
        rule_set,
        target_group,
        benefit_since,
        date_of_birth,
        status_holder,
        permanent_contract,
        judged_on,
    )


def hours(*changes):
    """hours(("2025-01-01", 36), ("2025-04-11", 18)) -> a Placement.hours_history"""
    return [
        {"effective_on": date.fromisoformat(day), "hours_per_week": Decimal(h)}
        for day, h in changes
    ]


def value(
    rule_set,
    block_value,
    history,
    ended_on=None,
    period=YEAR_2025,
    term=TERM,
):
    return placement_value(
        rule_set,
        block_value,
        history,
        history[0]["effective_on"],
        ended_on,
        term[0],
        term[1],
        period[0],
        period[1],
    )


# Rule sets are data


def test_a_contract_pins_a_rule_set_not_a_name():
    """No list of names: a contract registers on a rule set version the
    platform's table gives (the service looks it up), carried whole."""
    with pytest.raises(UnknownRuleSet) as refused:
        SocialReturnContract.register(**contract_terms(rule_set="twente-2025"))
    assert refused.value.field == "rule_set"
    twente = {**shipped("utrecht-2024").body, "name": "twente-2025"}
    pinned = PinnedRuleSet(name="twente-2025", version=1, sha256=rule_set_sha256(twente), body=twente)
    contract = SocialReturnContract.register(**contract_terms(rule_set=pinned))
    assert (contract.rule_set, contract.rules.name) == ("twente-2025", "twente-2025")


def test_a_pinned_rule_set_is_parsed_once_per_sha256():
    pinned = shipped("utrecht-2024")
    assert pinned_rules(pinned.sha256, pinned.body) is pinned_rules(pinned.sha256, dict(pinned.body))
    assert cached_rules(pinned.sha256) is UTRECHT


def test_the_canonical_json_of_a_body_does_not_depend_on_key_order_or_spacing():
    body = shipped("harlingen-2024").body
    reordered = json.loads(json.dumps(dict(reversed(list(body.items()))), indent=4))
    assert rule_set_sha256(reordered) == rule_set_sha256(body)
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_version_2_seeds_add_rules_to_version_1():
    # The new rules join version 2 (docs/rule-sets.md); version 1 stays as shipped, and the
    # block values of version 2 are version 1's.
    for name in ("utrecht-2024", "harlingen-2024"):
        v1, v2 = shipped(name, 1).body, shipped(name, 2).body
        assert (v1["version"], v2["version"]) == (1, 2)
        assert v2["blocks"] == v1["blocks"] and v2["source"] == v1["source"]


def test_utrecht_values_every_target_group_as_its_table_says():
    assert {group: tiers[0].value_eur for group, tiers in UTRECHT.blocks.items()} == {
        "participatiewet": Decimal("40000"),
        "doelgroepregister": Decimal("50000"),
        "wajong": Decimal("50000"),
        "vso_pro_mbo1": Decimal("35000"),
        "wia_wao": Decimal("40000"),
        "ww": Decimal("20000"),
        "bbl": Decimal("35000"),
        "bol": Decimal("20000"),
        "no_benefit": Decimal("10000"),
    }
    assert set(UTRECHT.blocks) == set(TARGET_GROUPS)
    assert (UTRECHT.basis_hours, UTRECHT.minimum_hours_per_week) == (36, 0)


def test_harlingen_has_a_minimum_of_12_hours_and_no_block_for_two_groups():
    assert HARLINGEN.minimum_hours_per_week == Decimal("12")
    assert set(TARGET_GROUPS) - set(HARLINGEN.blocks) == {"vso_pro_mbo1", "no_benefit"}
    assert HARLINGEN.cap_days == 730
    assert HARLINGEN.uncapped_target_groups == {"doelgroepregister", "wajong"}


def test_money_in_a_rule_set_file_must_be_a_string_not_a_float():
    import json
    from importlib import resources

    data = json.loads(
        resources.files("domain.rulesets").joinpath("utrecht-2024.json").read_text()
    )
    assert parse_rule_set(data) == UTRECHT
    data["blocks"]["ww"] = {"value_eur": 20000.0}
    with pytest.raises(RuleSetDataError, match="blocks.ww.value_eur"):
        parse_rule_set(data)


def test_a_rule_set_file_with_an_unknown_key_is_refused():
    import json
    from importlib import resources

    data = json.loads(
        resources.files("domain.rulesets").joinpath("harlingen-2024.json").read_text()
    )
    data["bonus_for_everyone"] = "1000000"
    with pytest.raises(RuleSetDataError, match="bonus_for_everyone"):
        parse_rule_set(data)


# A person's block


def test_a_target_group_outside_the_rule_set_is_worth_nothing_and_says_why():
    # Harlingen has no block for VSO / praktijkonderwijs / mbo-1.
    vso = block(HARLINGEN, "vso_pro_mbo1")
    assert (vso.eligible, vso.total_eur) == (False, 0)
    assert "vso_pro_mbo1 is not a target group in harlingen-2024" in vso.reason
    history = hours(("2025-01-01", 36))
    assert value(HARLINGEN, vso, history) == 0
    assert value_segments(HARLINGEN, vso, history, date(2025, 1, 1), None, *TERM) == []


def test_an_unknown_target_group_is_an_input_error():
    with pytest.raises(UnknownTargetGroup) as err:
        block(UTRECHT, "astronaut")
    assert err.value.field == "target_group"


@pytest.mark.parametrize(
    "benefit_since, months, expected",
    [
        # award 2024-11-15; since 2023-01-10 -> 22 whole months -> under 2 years
        (date(2023, 1, 10), 22, Decimal("35000")),
        # since 2022-11-16 -> one day short of 24 months -> under 2 years
        (date(2022, 11, 16), 23, Decimal("35000")),
        # since 2022-11-15 -> exactly 24 months on the award date -> 2 years or more
        (date(2022, 11, 15), 24, Decimal("40000")),
        # unknown start: counted as 0 months -> the lowest tier
        (None, 0, Decimal("35000")),
    ],
)
def test_harlingen_participatiewet_depends_on_months_on_benefit_at_the_award(
    benefit_since, months, expected
):
    person = block(HARLINGEN, "participatiewet", benefit_since=benefit_since)
    assert person.eligible
    assert person.block_eur == expected
    assert f"{months} months on benefit on 2024-11-15" in person.reason


@pytest.mark.parametrize(
    "benefit_since, expected",
    [
        (date(2024, 8, 15), Decimal("15000")),  # exactly 3 months: 3 months-1 year
        (date(2023, 11, 15), Decimal("15000")),  # exactly 12 months: still up to 1 year
        (date(2023, 11, 14), Decimal("20000")),  # 12 months and a day: over 1 year
        (date(2020, 1, 1), Decimal("20000")),  # years on WW
    ],
)
def test_harlingen_ww_depends_on_months_on_benefit_at_the_award(benefit_since, expected):
    assert block(HARLINGEN, "ww", benefit_since=benefit_since).block_eur == expected


@pytest.mark.parametrize("benefit_since", [date(2024, 8, 16), None, date(2025, 1, 1)])
def test_harlingen_ww_under_3_months_at_the_award_is_not_eligible(benefit_since):
    # 2024-08-16 -> 2024-11-15 is 2 months and 30 days; an unknown start, or one
    # after the award, counts as 0 months.
    person = block(HARLINGEN, "ww", benefit_since=benefit_since)
    assert (person.eligible, person.total_eur) == (False, 0)
    assert "needs at least 3 months on benefit" in person.reason


def test_months_on_benefit_are_judged_on_the_award_date_not_later():
    # 2 months on WW at the award (2024-11-15), 8 months by mid-2025: still not eligible.
    since = date(2024, 9, 1)
    assert not block(HARLINGEN, "ww", benefit_since=since).eligible
    assert block(HARLINGEN, "ww", benefit_since=since, judged_on=date(2025, 5, 1)).eligible


def test_utrecht_aged_50_on_the_award_date_gets_the_age_bonus():
    # Born 1974-11-15: 50 on 2024-11-15 -> 40,000 + 10,000 = 50,000
    person = block(UTRECHT, "participatiewet", date_of_birth=date(1974, 11, 15))
    assert (person.block_eur, person.bonus_eur, person.total_eur) == (40000, 10000, 50000)
    assert "aged 50 on 2024-11-15 (50+): +10000" in person.reason


def test_turning_50_the_day_after_the_award_gives_no_age_bonus():
    # Born 1974-11-16: 49 on 2024-11-15 -> 40,000, no bonus
    person = block(UTRECHT, "participatiewet", date_of_birth=date(1974, 11, 16))
    assert (person.bonus_eur, person.total_eur) == (0, 40000)


@pytest.mark.parametrize(
    "born, bonus",
    [
        (date(1972, 1, 1), Decimal("5000")),  # 52 on the award date: 50+
        (date(1969, 11, 15), Decimal("7500")),  # 55 on the award date: 55+, not 5,000 + 7,500
        (date(1980, 1, 1), Decimal("0")),  # 44
    ],
)
def test_harlingen_gives_only_the_highest_age_bonus(born, bonus):
    # WIA/WAO 35,000 + the age bonus
    person = block(HARLINGEN, "wia_wao", date_of_birth=born)
    assert person.bonus_eur == bonus
    assert person.total_eur == Decimal("35000") + bonus


def test_utrecht_gives_a_bonus_for_a_status_holder_and_harlingen_does_not():
    # Utrecht: no benefit 10,000 + status holder 10,000 = 20,000
    assert block(UTRECHT, "no_benefit", status_holder=True).total_eur == 20000
    # Harlingen: WIA/WAO 35,000, no status holder bonus
    assert block(HARLINGEN, "wia_wao", status_holder=True).total_eur == 35000


def test_utrecht_gives_a_bonus_for_a_permanent_contract_and_harlingen_does_not():
    # Utrecht: WW 20,000 + permanent contract 10,000 = 30,000
    assert block(UTRECHT, "ww", permanent_contract=True).total_eur == 30000
    # Harlingen: WIA/WAO 35,000, no permanent contract bonus
    assert block(HARLINGEN, "wia_wao", permanent_contract=True).total_eur == 35000


def test_utrecht_bonuses_add_up_and_are_valued_like_the_block():
    # doelgroepregister 50,000 + 50+ 10,000 + status holder 10,000 + permanent 10,000
    # = 80,000; a full-time year: 80,000 x 36/36 x 365/365 = 80,000
    person = block(
        UTRECHT,
        "doelgroepregister",
        date_of_birth=date(1970, 1, 1),
        status_holder=True,
        permanent_contract=True,
    )
    assert (person.block_eur, person.bonus_eur) == (50000, 30000)
    assert value(UTRECHT, person, hours(("2025-01-01", 36))) == Decimal("80000")


def test_a_not_eligible_person_gets_no_bonuses_either():
    person = block(HARLINGEN, "no_benefit", date_of_birth=date(1960, 1, 1))
    assert (person.block_eur, person.bonus_eur) == (0, 0)


def test_only_people_outside_the_doelgroepregister_are_capped():
    assert block(UTRECHT, "participatiewet").capped
    assert not block(UTRECHT, "doelgroepregister").capped
    assert not block(HARLINGEN, "wajong").capped


# A placement's value over a period


def test_a_full_time_year_is_worth_exactly_the_block_value():
    # participatiewet 40,000 x 36/36 x 365/365 = 40,000
    assert value(UTRECHT, block(), hours(("2025-01-01", 36))) == Decimal("40000")


def test_a_full_year_not_aligned_with_the_start_is_still_exactly_the_block_value():
    # Started 2025-03-01, year 2026 (365 days): 40,000 x 365/365 = 40,000
    history = hours(("2025-03-01", 36))
    assert value(UTRECHT, block(), history, period=(date(2026, 1, 1), date(2026, 12, 31))) == 40000


def test_half_time_is_worth_half():
    # 40,000 x 18/36 x 365/365 = 20,000
    assert value(UTRECHT, block(), hours(("2025-01-01", 18))) == Decimal("20000")


def test_hours_above_the_basis_count_as_the_basis():
    # 40 hours: 40,000 x min(40, 36)/36 x 365/365 = 40,000
    assert value(UTRECHT, block(), hours(("2025-01-01", 40))) == Decimal("40000")


def test_only_days_up_to_the_contract_end_count():
    # WW 20,000, started 2027-10-20, still running; the term ends 2027-12-31.
    # Counted 2027-10-20..2027-12-31 = 12 + 30 + 31 = 73 days, none in 2028:
    # 20,000 x 36/36 x 73/365 = 4,000
    ww = block(UTRECHT, "ww")
    history = hours(("2027-10-20", 36))
    assert value(UTRECHT, ww, history, period=(date(2027, 1, 1), date(2028, 12, 31))) == 4000
    assert value(UTRECHT, ww, history, period=(date(2028, 1, 1), date(2028, 12, 31))) == 0


def test_days_before_the_contract_start_do_not_count():
    # Started 2024-07-01, before the term: 2025 alone counts, 365 days -> 40,000;
    # the second half of 2024 counts 0.
    history = hours(("2024-07-01", 36))
    assert value(UTRECHT, block(), history) == 40000
    assert value(UTRECHT, block(), history, period=(date(2024, 7, 1), date(2024, 12, 31))) == 0


def test_only_days_up_to_the_end_of_the_placement_count():
    # Ended 2025-03-14: 2025-01-01..2025-03-14 = 31 + 28 + 14 = 73 days
    # 40,000 x 73/365 = 8,000
    assert value(UTRECHT, block(), hours(("2025-01-01", 36)), ended_on=date(2025, 3, 14)) == 8000


def test_in_harlingen_a_placement_below_12_hours_counts_nothing():
    # WW 15,000 (6 months on WW at the award); 11 hours < 12: 0
    ww = block(HARLINGEN, "ww", benefit_since=date(2024, 5, 15))
    assert ww.block_eur == 15000
    assert value(HARLINGEN, ww, hours(("2025-01-01", 11))) == 0


def test_in_harlingen_12_hours_count_12_of_36():
    # WW 15,000 x 12/36 x 365/365 = 5,000
    ww = block(HARLINGEN, "ww", benefit_since=date(2024, 5, 15))
    assert value(HARLINGEN, ww, hours(("2025-01-01", 12))) == Decimal("5000")


def test_in_harlingen_only_the_days_at_12_hours_or_more_count():
    # 12 hours 2025-01-01..2025-03-14 (73 days), then 11 hours:
    # 15,000 x 12/36 x 73/365 = 5,000 x 1/5 = 1,000
    ww = block(HARLINGEN, "ww", benefit_since=date(2024, 5, 15))
    history = hours(("2025-01-01", 12), ("2025-03-15", 11))
    assert value(HARLINGEN, ww, history) == Decimal("1000")


def test_utrecht_has_no_minimum_hours():
    # 4 hours: 40,000 x 4/36 x 365/365 = 4,444.444... (truncated at 12 decimals)
    assert value(UTRECHT, block(), hours(("2025-01-01", 4))) == Decimal("4444.444444444444")


def test_an_hours_change_applies_from_its_effective_date():
    # 36 hours 2025-01-01..2025-04-10 (100 days), 18 hours 2025-04-11..2025-12-31
    # (265 days):
    #   40,000 x 36/36 x 100/365 = 10,958.904109589041|0958... -> 10,958.904109589041
    #   40,000 x 18/36 x 265/365 = 14,520.547945205479|4520... -> 14,520.547945205479
    #   sum                                                   = 25,479.452054794520
    # (exactly 9,300,000/365 = 25,479.452054794520547945...; each segment is
    # truncated at 12 decimals, see domain.valuation)
    history = hours(("2025-01-01", 36), ("2025-04-11", 18))
    result = value(UTRECHT, block(), history)
    assert result == Decimal("25479.452054794520")
    assert abs(Fraction(result) - Fraction(9_300_000, 365)) < Fraction(2, 10**VALUE_DECIMALS)


def test_an_hours_change_with_whole_results_is_exact():
    # 36 hours for 146 days (2025-01-01..2025-05-26), 18 hours for 219 days:
    # 40,000 x 146/365 + 20,000 x 219/365 = 16,000 + 12,000 = 28,000
    history = hours(("2025-01-01", 36), ("2025-05-27", 18))
    assert value(UTRECHT, block(), history) == Decimal("28000")


def test_a_candidate_counts_for_at_most_two_years():
    # Harlingen participatiewet, 30 months on benefit at the award: 40,000.
    # A 3-year placement 2025-01-01..2027-12-31 counts its first 730 days
    # (2025-01-01..2026-12-31): 40,000 x 730/365 = 80,000; 2027 counts 0.
    person = block(HARLINGEN, "participatiewet", benefit_since=date(2022, 5, 1))
    assert person.capped and person.block_eur == 40000
    history = hours(("2025-01-01", 36))
    assert value(HARLINGEN, person, history, period=TERM) == 80000
    assert value(HARLINGEN, person, history, period=(date(2027, 1, 1), date(2027, 12, 31))) == 0


def test_the_two_years_run_from_the_placement_start_even_before_the_contract():
    # Started 2024-01-01: the cap window is 2024-01-01..2025-12-30 (366 + 364 =
    # 730 days, 2024 being a leap year). The term starts 2025-01-01, so 2025
    # counts 364 days: 40,000 x 364/365 = 39,890.410958904109|589... (truncated)
    history = hours(("2024-01-01", 36))
    assert value(UTRECHT, block(), history) == Decimal("39890.410958904109")


def test_a_person_in_the_doelgroepregister_counts_for_as_long_as_they_work():
    # Harlingen doelgroepregister 40,000, not capped: three years
    # 2025-01-01..2027-12-31 = 365 x 3 = 1,095 days: 40,000 x 1,095/365 = 120,000
    person = block(HARLINGEN, "doelgroepregister")
    assert not person.capped
    history = hours(("2025-01-01", 36))
    assert value(HARLINGEN, person, history, period=TERM) == 120000
    assert value(HARLINGEN, person, history, period=(date(2027, 1, 1), date(2027, 12, 31))) == 40000


def test_an_unending_placement_counts_up_to_the_period_end_only():
    # Running since 2025-01-01, period 2025-01-01..2025-03-14 (73 days):
    # 40,000 x 73/365 = 8,000
    history = hours(("2025-01-01", 36))
    assert value(UTRECHT, block(), history, period=(date(2025, 1, 1), date(2025, 3, 14))) == 8000


# Segments


def test_segments_are_clipped_to_the_term_and_the_cap():
    # Started 2024-07-01 at 36 h, 18 h from 2025-07-01; capped at 730 days:
    # the cap window ends 2024-07-01 + 729 days = 2026-06-30.
    history = hours(("2024-07-01", 36), ("2025-07-01", 18))
    segments = value_segments(UTRECHT, block(), history, date(2024, 7, 1), None, *TERM)
    assert [(s.from_day, s.to_day, s.hours_per_week) for s in segments] == [
        (date(2025, 1, 1), date(2025, 6, 30), 36),
        (date(2025, 7, 1), date(2026, 6, 30), 18),
    ]
    # daily value: 40,000 x 36 / (36 x 365) = 109.589041095890|41...
    assert segments[0].daily_rate == Fraction(40000, 365)
    assert segments[0].daily_eur == Decimal("109.589041095890")


def test_segments_skip_days_below_the_minimum_hours():
    ww = block(HARLINGEN, "ww", benefit_since=date(2024, 5, 15))
    history = hours(("2025-01-01", 11), ("2025-06-01", 24))
    segments = value_segments(HARLINGEN, ww, history, date(2025, 1, 1), None, *TERM)
    assert [(s.from_day, s.hours_per_week) for s in segments] == [(date(2025, 6, 1), 24)]


def test_a_placement_value_is_the_sum_of_its_segments_over_the_period():
    history = hours(("2024-11-01", 36), ("2025-02-10", 20), ("2026-03-03", 32))
    person = block(UTRECHT, "wia_wao", date_of_birth=date(1970, 1, 1))
    segments = value_segments(UTRECHT, person, history, date(2024, 11, 1), None, *TERM)
    assert len(segments) == 3
    for period in [YEAR_2025, TERM, (date(2025, 2, 1), date(2026, 4, 30))]:
        by_segments = sum(s.value_between(*period) for s in segments)
        assert value(UTRECHT, person, history, period=period) == by_segments


def test_an_hours_history_that_does_not_begin_at_the_start_is_refused():
    with pytest.raises(InvalidValue) as err:
        value_segments(
            UTRECHT, block(), hours(("2025-02-01", 36)), date(2025, 1, 1), None, *TERM
        )
    assert err.value.field == "hours_history"


# Properties


def _exact_value(rule_set, person, history, starts_on, ended_on, term, period):
    """Day by day with exact fractions: an independent oracle for the rule."""
    total = Fraction(0)
    day = period[0]
    while day <= period[1]:
        active = starts_on <= day and (ended_on is None or day <= ended_on)
        in_term = term[0] <= day <= term[1]
        in_cap = not person.capped or (day - starts_on).days < rule_set.cap_days
        if person.eligible and active and in_term and in_cap:
            worked = [h for h in history if h["effective_on"] <= day][-1]["hours_per_week"]
            if worked >= rule_set.minimum_hours_per_week:
                counted = min(worked, rule_set.basis_hours)
                total += (
                    Fraction(person.total_eur)
                    * Fraction(counted)
                    / Fraction(rule_set.basis_hours)
                    / rule_set.days_per_year
                )
        day += timedelta(days=1)
    return total


_day = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def _placements(draw):
    rule_set = draw(st.sampled_from([UTRECHT, HARLINGEN]))
    person = block(
        rule_set,
        draw(st.sampled_from(["participatiewet", "doelgroepregister", "ww", "bol"])),
        benefit_since=draw(st.none() | st.dates(date(2015, 1, 1), date(2024, 11, 1))),
        date_of_birth=draw(st.dates(date(1950, 1, 1), date(2005, 1, 1))),
        status_holder=draw(st.booleans()),
        permanent_contract=draw(st.booleans()),
    )
    starts_on = draw(_day)
    offsets = sorted(set(draw(st.lists(st.integers(1, 900), max_size=3))))
    worked = st.sampled_from([Decimal(h) for h in ("8", "11", "12", "18", "25.5", "36", "40")])
    history = [{"effective_on": starts_on, "hours_per_week": draw(worked)}] + [
        {"effective_on": starts_on + timedelta(days=o), "hours_per_week": draw(worked)}
        for o in offsets
    ]
    ended_on = draw(st.none() | st.integers(0, 1200).map(lambda d: starts_on + timedelta(d)))
    term_start = draw(_day)
    term = (term_start, term_start + timedelta(days=draw(st.integers(1, 1500))))
    return rule_set, person, history, starts_on, ended_on, term


@settings(max_examples=150, deadline=None)
@given(placement=_placements(), a=_day, lengths=st.tuples(st.integers(0, 800), st.integers(0, 800)))
def test_values_of_adjacent_periods_add_up_exactly_to_the_whole(placement, a, lengths):
    rule_set, person, history, starts_on, ended_on, term = placement
    b = a + timedelta(days=lengths[0])
    c = b + timedelta(days=1 + lengths[1])

    def over(first, last):
        return placement_value(
            rule_set, person, history, starts_on, ended_on, *term, first, last
        )

    whole = over(a, c)
    assert over(a, b) + over(b + timedelta(days=1), c) == whole
    # ... and the whole is the exact rule, to within 1e-12 per segment.
    segments = value_segments(rule_set, person, history, starts_on, ended_on, *term)
    exact = _exact_value(rule_set, person, history, starts_on, ended_on, term, (a, c))
    assert abs(exact - Fraction(whole)) < Fraction(len(segments) + 1, 10**VALUE_DECIMALS)
