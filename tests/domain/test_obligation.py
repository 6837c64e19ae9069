"""The obligation in euros by its basis, its cap and the PSO discount, and what
follows a shortfall (domain/obligation.py; docs/valuation.md, "Obligation").
Every figure is worked by hand in the comment beside it."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources
from types import MappingProxyType

import pytest

from domain.contract import NotTurnoverBased, OBLIGATION_DEFAULTS
from domain.errors import InvalidValue
from domain.obligation import ObligationTerms, TurnoverPeriod, obligation, shortfall
from domain.valuation import RuleSetDataError, ShortfallRule, parse_rule_set
from tests.domain.builders import a_contract, event_names

STEPS = MappingProxyType({"aspirant": Decimal("0"), "basic": Decimal("5"), "step_1": Decimal("10"),
                          "step_2": Decimal("15"), "step_3": Decimal("20")})
TERM_END = date(2027, 12, 31)


def terms(**overrides) -> ObligationTerms:
    return ObligationTerms(**{"contract_value_eur": Decimal("1000000.00"), "percent": Decimal("5"), **overrides})


# -- the bases -------------------------------------------------------------------------
def test_contract_value_basis_is_the_percentage_of_the_contract_value():
    # 5% of EUR 1,000,000 = 50,000
    o = obligation(terms(), STEPS, TERM_END)
    assert (o.basis, o.base_eur, o.obligation_eur, o.cap_applied) == ("contract_value", Decimal("1000000.00"),
                                                                      Decimal("50000"), False)


def test_wage_bill_basis_is_the_percentage_of_the_wage_bill():
    # Rijk: 5% of a wage bill of EUR 640,000 = 32,000 (the contract value plays no part)
    o = obligation(terms(basis="wage_bill", wage_bill_eur=Decimal("640000.00")), STEPS, TERM_END)
    assert o.base_eur == Decimal("640000.00") and o.obligation_eur == Decimal("32000")


def test_fixed_basis_is_the_fixed_amount_without_a_percentage():
    o = obligation(terms(basis="fixed", fixed_eur=Decimal("75000.00")), STEPS, TERM_END)
    assert o.obligation_eur == Decimal("75000.00") and o.percent is None
    assert o.as_dict()["percent"] is None and o.as_dict()["obligation_eur"] == "75000.00"


def test_turnover_basis_counts_the_periods_started_by_the_day_asked():
    reports = (TurnoverPeriod(date(2025, 1, 1), date(2025, 12, 31), Decimal("400000.00")),
               TurnoverPeriod(date(2026, 1, 1), date(2026, 12, 31), Decimal("250000.00")))
    t = terms(basis="invoiced_turnover", turnover=reports)
    # As of 2025-06-30: only 2025 has started: 5% of 400,000 = 20,000
    assert obligation(t, STEPS, TERM_END, date(2025, 6, 30)).obligation_eur == Decimal("20000")
    # As of 2026-03-01: 5% of (400,000 + 250,000 = 650,000) = 32,500
    assert obligation(t, STEPS, TERM_END, date(2026, 3, 1)).obligation_eur == Decimal("32500")
    assert len(obligation(t, STEPS, TERM_END, date(2026, 3, 1)).as_dict()["turnover_periods"]) == 2


def test_a_bid_percentage_replaces_the_minimum():
    # bid 7% of EUR 1,000,000 = 70,000 (not the 5% minimum: 50,000)
    o = obligation(terms(bid_percent=Decimal("7")), STEPS, TERM_END)
    assert (o.percent, o.percent_from, o.obligation_eur) == (Decimal("7"), "bid", Decimal("70000"))


# -- the cap -------------------------------------------------------------------------------
def test_the_cap_limits_the_obligation_sudwest_fryslan():
    # 2% of EUR 20,000,000 = 400,000, capped at 300,000
    o = obligation(terms(contract_value_eur=Decimal("20000000.00"), percent=Decimal("2"),
                         cap_eur=Decimal("300000")), STEPS, TERM_END)
    assert (o.before_cap_eur, o.cap_applied, o.obligation_eur) == (Decimal("400000"), True, Decimal("300000"))


def test_an_obligation_under_the_cap_is_not_capped():
    # 2% of EUR 10,000,000 = 200,000 < 300,000
    o = obligation(terms(contract_value_eur=Decimal("10000000.00"), percent=Decimal("2"),
                         cap_eur=Decimal("300000")), STEPS, TERM_END)
    assert not o.cap_applied and o.obligation_eur == Decimal("200000")


# -- PSO -----------------------------------------------------------------------------------
def test_a_pso_certificate_valid_through_the_term_gives_its_discount_after_the_cap():
    # 2% of 20,000,000 = 400,000, capped at 300,000; step 2: 15% of 300,000 = 45,000 off: 255,000
    o = obligation(terms(contract_value_eur=Decimal("20000000.00"), percent=Decimal("2"), cap_eur=Decimal("300000"),
                         pso_step="step_2", pso_valid_until=TERM_END), STEPS, TERM_END)
    assert (o.discount_percent, o.discount_eur, o.obligation_eur) == (Decimal("15"), Decimal("45000"),
                                                                      Decimal("255000"))
    assert o.warnings == ()


def test_a_pso_certificate_expiring_before_the_term_ends_gives_no_discount_and_a_warning():
    # valid until 2027-06-30, the term ends 2027-12-31: no discount, 5% of 1,000,000 = 50,000
    o = obligation(terms(pso_step="step_3", pso_valid_until=date(2027, 6, 30)), STEPS, TERM_END)
    assert o.discount_eur == 0 and o.obligation_eur == Decimal("50000")
    assert o.warnings == ("PSO certificate expires on 2027-06-30, before the term ends on 2027-12-31: "
                          "no PSO discount",)


def test_a_rule_set_without_pso_discounts_gives_none():
    o = obligation(terms(pso_step="step_1", pso_valid_until=TERM_END), MappingProxyType({}), TERM_END)
    assert o.obligation_eur == Decimal("50000") and o.warnings


# -- shortfall ------------------------------------------------------------------------------
RULE = ShortfallRule(obligation="best_efforts", repair_months=6, consequence="withhold")


def test_no_shortfall_while_the_term_runs_or_when_met():
    assert shortfall(Decimal("50000"), Decimal("10000"), TERM_END, TERM_END, RULE, "") is None
    assert shortfall(Decimal("50000"), Decimal("50000"), TERM_END, date(2029, 1, 1), RULE, "") is None


def test_a_shortfall_is_in_repair_up_to_the_repair_periods_last_day_then_not_met():
    # term ends 2027-12-31, 6 months' repair: until 2028-06-30. Short 50,000 - 38,000.50 = 11,999.50
    during = shortfall(Decimal("50000"), Decimal("38000.50"), TERM_END, date(2028, 6, 30), RULE, "words")
    assert during["status"] == "in_repair" and during["shortfall_eur"] == "11999.50"
    assert during["shortfall"]["repair_until"] == "2028-06-30"
    after = shortfall(Decimal("50000"), Decimal("38000.50"), TERM_END, date(2028, 7, 1), RULE, "words")
    assert after["status"] == "not_met" and after["shortfall_eur"] == "11999.50"
    assert after["shortfall"]["consequence"] == "withhold"
    assert after["shortfall"]["applies"] == ("the unrealised part (EUR 11999.50) is withheld pro rata from the "
                                             "last payment, unless the supplier shows best efforts "
                                             "(inspanningsverplichting)")
    assert after["shortfall_consequence"] == "words"


def test_a_result_obligation_has_its_consequence_without_the_best_efforts_escape():
    rule = ShortfallRule(obligation="result", repair_months=0, consequence="buy_off")
    out = shortfall(Decimal("50000"), Decimal("0"), TERM_END, date(2028, 1, 1), rule, "")
    assert out["status"] == "not_met"
    assert out["shortfall"]["applies"] == ("the supplier pays the unrealised part (EUR 50000.00) as a buy-off "
                                           "sum (afkoopsom)")


def test_without_a_shortfall_rule_not_met_comes_the_day_after_the_term_as_before():
    out = shortfall(Decimal("50000"), Decimal("0"), TERM_END, date(2028, 1, 1), None, "words")
    assert out == {"status": "not_met", "shortfall_eur": "50000.00", "shortfall_consequence": "words"}


# -- the contract's terms ---------------------------------------------------------------------
def test_a_contract_registered_before_issue_13_keeps_its_figures():
    contract = a_contract()  # 5% of 1,000,000 under utrecht-2024 v1
    assert {k: getattr(contract, k) for k in OBLIGATION_DEFAULTS} == OBLIGATION_DEFAULTS
    assert contract.obligation_eur == Decimal("50000")


def test_the_cap_defaults_to_the_contracts_own_and_can_be_given():
    contract = a_contract(contract_value_eur=Decimal("20000000.00"), obligation_percent=Decimal("2"),
                          obligation_cap_eur=Decimal("300000.00"))
    assert contract.obligation_eur == Decimal("300000.00")


def test_turnover_reported_in_two_periods_and_a_correction():
    contract = a_contract(obligation_basis="invoiced_turnover")
    contract.report_turnover(date(2025, 1, 1), date(2025, 12, 31), Decimal("400000.00"))
    contract.report_turnover(date(2026, 1, 1), date(2026, 12, 31), Decimal("250000.00"))
    # 5% of 650,000 = 32,500
    assert contract.obligation_eur == Decimal("32500")
    contract.report_turnover(date(2025, 1, 1), date(2025, 12, 31), Decimal("450000.00"))  # a correction
    # 5% of (450,000 + 250,000 = 700,000) = 35,000
    assert contract.obligation_eur == Decimal("35000")
    assert len(contract.turnover_reports) == 3  # the corrected report stays in the history
    assert event_names(contract).count("TurnoverReported") == 3
    version = contract.version
    contract.report_turnover(date(2025, 1, 1), date(2025, 12, 31), Decimal("450000.00"))  # same: nothing
    assert contract.version == version


@pytest.mark.parametrize("start,end,amount,field", [
    (date(2025, 6, 1), date(2026, 5, 31), "1.00", "period_start"),  # overlaps 2025
    (date(2024, 12, 1), date(2024, 12, 31), "1.00", "period_start"),  # before the term
    (date(2026, 2, 1), date(2026, 1, 1), "1.00", "period_end"),
    (date(2026, 1, 1), date(2026, 3, 31), "-1", "amount_eur"),
    (date(2026, 1, 1), date(2026, 3, 31), "1.001", "amount_eur"),
])
def test_bad_turnover_reports_name_the_field(start, end, amount, field):
    contract = a_contract(obligation_basis="invoiced_turnover")
    contract.report_turnover(date(2025, 1, 1), date(2025, 12, 31), Decimal("400000.00"))
    with pytest.raises(InvalidValue) as err:
        contract.report_turnover(start, end, amount)
    assert err.value.field == field


def test_turnover_for_a_contract_not_on_turnover_is_refused():
    with pytest.raises(NotTurnoverBased) as err:
        a_contract().report_turnover(date(2025, 1, 1), date(2025, 12, 31), Decimal("1.00"))
    assert err.value.field == "obligation_basis" and err.value.is_state_conflict


@pytest.mark.parametrize("overrides,field", [
    ({"obligation_basis": "wage_bill"}, "wage_bill_eur"),
    ({"obligation_basis": "fixed"}, "obligation_fixed_eur"),
    ({"obligation_basis": "revenue"}, "obligation_basis"),
    ({"bid_percent": Decimal("4")}, "bid_percent"),  # under the 5% minimum
    ({"obligation_cap_eur": Decimal("0")}, "obligation_cap_eur"),
    ({"pso_step": "step_9", "pso_valid_until": date(2028, 1, 1)}, "pso_step"),
    ({"pso_step": "step_1"}, "pso_valid_until"),
])
def test_bad_obligation_terms_name_the_field(overrides, field):
    with pytest.raises(InvalidValue) as err:
        a_contract(**overrides)
    assert err.value.field == field


def test_the_obligation_terms_can_be_amended():
    contract = a_contract()
    contract.amend(obligation_basis="wage_bill", wage_bill_eur=Decimal("640000.00"))
    assert contract.obligation_eur == Decimal("32000")  # 5% of 640,000


# -- the rule set keys ----------------------------------------------------------------------
def seed(name: str) -> dict:
    return json.loads(resources.files("domain.rulesets").joinpath(f"{name}.v2.json").read_text("utf-8"))


def test_the_v2_seeds_carry_the_obligation_keys():
    harlingen = parse_rule_set(seed("harlingen-2024"))
    assert harlingen.version == 2 and harlingen.obligation_basis == "contract_value"
    assert harlingen.obligation_cap_eur is None and harlingen.pso_discounts["step_2"] == Decimal("15")
    assert harlingen.shortfall == ShortfallRule("best_efforts", 6, "withhold")


@pytest.mark.parametrize("key,value", [
    ("obligation", {"basis": "revenue", "cap_eur": None}),
    ("obligation", {"basis": "fixed", "cap_eur": 300000}),
    ("pso_discounts", {"step_9": "5"}),
    ("pso_discounts", {"basic": "101"}),
    ("shortfall", {"obligation": "result", "repair_months": -1, "consequence": "withhold"}),
    ("shortfall", {"obligation": "result", "repair_months": 6, "consequence": "fine"}),
])
def test_bad_obligation_keys_in_a_rule_set_are_refused(key, value):
    with pytest.raises(RuleSetDataError):
        parse_rule_set({**seed("utrecht-2024"), key: value})
