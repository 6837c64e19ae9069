"""Explaining a value: the numbers of an explanation add up to the value, and a
EUR 0 line names the rule that made it zero.

Figures by hand from the rule set files (basis 36 hours, 365 days a year);
contracts run 2025-01-01..2027-12-31, awarded 2024-11-15.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain.explanation import (
    BELOW_MINIMUM_HOURS,
    CAP_EXHAUSTED,
    NO_BLOCK_VALUE,
    NOT_ACTIVE_IN_PERIOD,
    NOT_ELIGIBLE,
    NOT_VALUED,
    OUTSIDE_TERM,
    ZERO_CODES,
    ZERO_SHARE,
    explain_other_activity,
    explain_placement,
    explain_purchase,
)
from domain.valuation import BlockValue, placement_value
from tests.domain.test_valuation import AWARDED, HARLINGEN, TERM, UTRECHT, block, hours

AGED_55 = date(1965, 3, 1)


def explain(rule_set, person, history, *, ended_on=None, period=(None, date(2025, 12, 31)), term=TERM,
            valued=True, permanent=False):
    return explain_placement(
        rule_set, valued=valued, block=person, judged_on=AWARDED, permanent_contract=permanent,
        hours_history=history, starts_on=history[0]["effective_on"], ended_on=ended_on,
        term_start=term[0], term_end=term[1], period_start=period[0], period_end=period[1]).as_dict()


def test_a_normal_value_adds_up_block_times_factor_times_days_plus_bonuses():
    # Utrecht participatiewet 40,000 + permanent contract 10,000 + aged 55 (50+) 10,000 = 60,000 a year.
    # 36 h from 2025-01-01, 18 h from 2025-07-01; period 2025: 181 days x 36/36 + 184 days x 18/36.
    person = block(UTRECHT, "participatiewet", date_of_birth=AGED_55, permanent_contract=True)
    history = hours(("2025-01-01", 36), ("2025-07-01", 18))
    x = explain(UTRECHT, person, history, permanent=True, period=(date(2025, 1, 1), date(2025, 12, 31)))
    assert x["zero_code"] is None
    assert x["block"] == {"eur_per_year": "40000"}
    assert x["bonuses"] == [{"code": "permanent_contract", "eur": "10000"}, {"code": "personal", "eur": "10000"}]
    year = Decimal(x["block"]["eur_per_year"]) + sum(Decimal(b["eur"]) for b in x["bonuses"])
    assert year == Decimal(x["year_value_eur"]) == 60000
    assert x["eligibility"] == {"valued": True, "eligible": True, "judged_on": "2024-11-15"}
    assert [(s["days"], s["counted_hours"]) for s in x["segments"]] == [(181, "36"), (184, "18")]
    basis, per_year = Decimal(x["hours"]["basis_hours"]), x["days_per_year"]
    by_hand = sum(Fraction(year) * Fraction(Decimal(s["counted_hours"]) / basis) * Fraction(s["days"], per_year)
                  for s in x["segments"])
    # 60,000 x 181/365 + 30,000 x 184/365 = 16,380,000 / 365 = 44,876.712328767...
    assert abs(Fraction(Decimal(x["value_eur"])) - by_hand) < Fraction(1, 10**11)
    assert Decimal(x["value_eur"]) == sum(Decimal(s["value_eur"]) for s in x["segments"])
    assert Decimal(x["value_eur"]) == placement_value(UTRECHT, person, history, date(2025, 1, 1), None, *TERM,
                                                      date(2025, 1, 1), date(2025, 12, 31))
    assert x["days"] == {"in_period": 365, "counted": 365, "outside_term": 0, "after_cap": 0,
                         "below_minimum_hours": 0, "without_value": 0}
    assert x["cap"] == {"applies": True, "cap_days": 730, "window_ends_on": "2026-12-31", "days_used": 365,
                        "days_remaining": 365}
    assert x["hours"]["minimum_hours_per_week"] == "0"


def test_the_days_divide_into_counted_outside_the_term_after_the_cap_and_below_the_minimum():
    # Harlingen participatiewet (under 2 years on benefit: 35,000), started 2024-07-01 at 36 h,
    # 10 h (below the 12 h minimum) from 2026-01-01; period from the start to 2026-12-31.
    person = block(HARLINGEN, "participatiewet", benefit_since=date(2024, 1, 1))
    history = hours(("2024-07-01", 36), ("2026-01-01", 10))
    x = explain(HARLINGEN, person, history, period=(None, date(2026, 12, 31)))
    # Cap window 2024-07-01..2026-06-30 (730 days). Before the term: 2024-07-01..12-31 = 184 days.
    # In the term and window: 2025-01-01..2026-06-30 = 546 days, of which 2026's 181 are at 10 h.
    # After the window: 2026-07-01..12-31 = 184 days.
    assert x["days"] == {"in_period": 184 + 546 + 184, "counted": 365, "outside_term": 184, "after_cap": 184,
                         "below_minimum_hours": 181, "without_value": 0}
    assert x["cap"]["days_used"] == 730 and x["cap"]["days_remaining"] == 0
    assert Decimal(x["value_eur"]) == 35000 and x["zero_code"] is None
    assert x["period"] == {"from": "2024-07-01", "to": "2026-12-31"}


def test_zero_not_valued():
    x = explain(UTRECHT, block(), hours(("2025-01-01", 36)), valued=False)
    assert (x["value_eur"], x["zero_code"]) == ("0", NOT_VALUED)
    assert x["eligibility"]["valued"] is False


def test_zero_not_eligible_at_the_award():
    # Harlingen has no block for vso_pro_mbo1: not eligible, whatever the hours.
    person = block(HARLINGEN, "vso_pro_mbo1")
    x = explain(HARLINGEN, person, hours(("2025-01-01", 36)))
    assert (Decimal(x["value_eur"]), x["zero_code"]) == (0, NOT_ELIGIBLE)
    assert x["eligibility"] == {"valued": True, "eligible": False, "judged_on": "2024-11-15"}
    assert x["days"]["without_value"] == 365 and x["bonuses"] == []


def test_zero_no_block_value():
    person = BlockValue(block_eur=Decimal(0), bonus_eur=Decimal(0), eligible=True, reason="", capped=False)
    x = explain(UTRECHT, person, hours(("2025-01-01", 36)))
    assert x["zero_code"] == NO_BLOCK_VALUE


def test_zero_not_active_in_the_period():
    # Starts after the period asked about.
    x = explain(UTRECHT, block(), hours(("2025-06-01", 36)), period=(date(2025, 1, 1), date(2025, 3, 31)))
    assert (Decimal(x["value_eur"]), x["zero_code"]) == (0, NOT_ACTIVE_IN_PERIOD)
    assert x["days"]["in_period"] == 0


def test_zero_outside_the_term():
    # Ended before the contract began.
    x = explain(UTRECHT, block(), hours(("2024-03-01", 36)), ended_on=date(2024, 9, 30))
    assert (Decimal(x["value_eur"]), x["zero_code"]) == (0, OUTSIDE_TERM)
    assert x["days"]["outside_term"] == x["days"]["in_period"] == 214


def test_zero_cap_exhausted():
    # Harlingen, 2 years from 2025-01-01: 2027 is after the cap window.
    person = block(HARLINGEN, "participatiewet", benefit_since=date(2022, 5, 1))
    x = explain(HARLINGEN, person, hours(("2025-01-01", 36)), period=(date(2027, 1, 1), date(2027, 12, 31)))
    assert (Decimal(x["value_eur"]), x["zero_code"]) == (0, CAP_EXHAUSTED)
    assert x["days"]["after_cap"] == 365
    assert x["cap"]["days_used"] == 730 and x["cap"]["days_remaining"] == 0


def test_zero_below_the_minimum_hours():
    person = block(HARLINGEN, "wia_wao")
    x = explain(HARLINGEN, person, hours(("2025-01-01", 10)))
    assert (Decimal(x["value_eur"]), x["zero_code"]) == (0, BELOW_MINIMUM_HOURS)
    assert x["days"]["below_minimum_hours"] == 365
    assert x["hours"]["minimum_hours_per_week"] == "12"


def test_the_uncapped_say_so():
    x = explain(HARLINGEN, block(HARLINGEN, "doelgroepregister"), hours(("2025-01-01", 36)))
    assert x["cap"] == {"applies": False}


def test_purchases_and_other_activities_explain_their_amount():
    p = explain_purchase(invoice_amount_eur_excl_vat=Decimal("1000.00"), register="social_enterprise_nl_member",
                         counted_share=Decimal("0.5"), rule_set="utrecht-2024", amount_eur=Decimal("500.000"))
    assert p.as_dict()["zero_code"] is None and p.as_dict()["counted_share"] == "0.5"
    zero = explain_purchase(invoice_amount_eur_excl_vat=Decimal("1000.00"), register="x",
                            counted_share=Decimal(0), rule_set=None, amount_eur=Decimal(0))
    assert zero.zero_code == ZERO_SHARE
    o = explain_other_activity(costs_eur=None, hours=Decimal("3"), hourly_rate_eur=Decimal("100"),
                               rule_set="utrecht-2024", amount_eur=Decimal("300"))
    assert o.as_dict() == {"kind": "other_activity", "value_eur": "300", "zero_code": None,
                           "rule_set": {"name": "utrecht-2024"}, "costs_eur": None, "hours": "3",
                           "hourly_rate_eur": "100"}


def test_an_explanation_never_names_the_persons_group_or_age():
    person = block(UTRECHT, "doelgroepregister", date_of_birth=AGED_55, status_holder=True)
    text = repr(explain(UTRECHT, person, hours(("2025-01-01", 36))))
    assert "doelgroepregister" not in text and "aged" not in text and "status" not in text
    assert "55" not in text


def test_zero_codes_are_stable():
    # Other parts store these: a rename breaks what they stored (a new one is added at the end).
    assert ZERO_CODES == ("not_valued", "not_eligible", "no_block_value", "not_active_in_period",
                          "outside_term", "cap_exhausted", "below_minimum_hours", "zero_share",
                          "arrangement_not_counted")
