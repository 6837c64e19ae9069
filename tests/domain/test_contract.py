from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain import (
    ContractAlreadyClosed,
    InvalidContractValue,
    InvalidObligationPercentage,
    InvalidValue,
    SocialReturnContract,
    TermEndsBeforeStart,
    UnknownRuleSet,
)
from domain.contract import AuthorityDecisionPending
from tests.domain.builders import a_contract, contract_terms, event_names, shipped


def test_a_contract_is_registered_with_its_terms():
    contract = a_contract(title=" Groenonderhoud ")
    assert contract.title == "Groenonderhoud"
    assert contract.rule_set == "utrecht-2024"
    assert not contract.is_closed
    assert contract.closed_on is None
    assert event_names(contract) == ["ContractRegistered"]


def test_the_obligation_is_the_percentage_of_the_contract_value():
    contract = a_contract(
        contract_value_eur=Decimal("250000.00"), obligation_percent=Decimal("2.5")
    )
    assert contract.obligation_eur == Decimal("6250")


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("-1"), Decimal("10.001")])
def test_the_contract_value_must_be_positive_whole_cents(value):
    with pytest.raises(InvalidContractValue) as err:
        a_contract(contract_value_eur=value)
    assert err.value.field == "contract_value_eur"


@pytest.mark.parametrize("percent", [Decimal("-0.1"), Decimal("100.01")])
def test_the_obligation_percentage_is_between_0_and_100(percent):
    with pytest.raises(InvalidObligationPercentage) as err:
        a_contract(obligation_percent=percent)
    assert err.value.field == "obligation_percent"


def test_an_obligation_of_0_or_100_percent_is_allowed():
    assert a_contract(obligation_percent=Decimal("0")).obligation_eur == 0
    assert a_contract(obligation_percent=100).obligation_eur == Decimal("1000000")


@pytest.mark.parametrize("ends_on", [date(2025, 1, 1), date(2024, 12, 31)])
def test_a_contract_term_must_end_after_it_starts(ends_on):
    with pytest.raises(TermEndsBeforeStart) as err:
        a_contract(starts_on=date(2025, 1, 1), ends_on=ends_on)
    assert err.value.field == "ends_on"


def test_a_contract_cannot_be_awarded_after_its_term_ends():
    with pytest.raises(InvalidValue) as err:
        a_contract(ends_on=date(2026, 1, 1), awarded_on=date(2026, 1, 2))
    assert err.value.field == "awarded_on"


def test_a_contract_may_be_awarded_after_its_term_starts():
    contract = a_contract(starts_on=date(2025, 1, 1), awarded_on=date(2025, 2, 1))
    assert contract.awarded_on == date(2025, 2, 1)


def test_a_contract_pins_a_published_rule_set_not_a_name():
    with pytest.raises(UnknownRuleSet) as err:
        a_contract(rule_set="amsterdam-1999")
    assert err.value.field == "rule_set"


def test_a_contract_pins_its_rule_set_whole():
    contract = a_contract(rule_set=shipped("harlingen-2024"))
    assert (contract.rule_set, contract.rule_set_version) == ("harlingen-2024", 1)
    assert contract.rule_set_sha256 == shipped("harlingen-2024").sha256
    assert contract.rules.minimum_hours_per_week == Decimal("12")  # Harlingen's, from the pinned body


def test_a_pinned_body_must_match_its_sha256_and_name():
    pinned = shipped("utrecht-2024")
    tampered = replace(pinned, body={**pinned.body, "other_activity_hourly_eur": "1000"})
    with pytest.raises(InvalidValue, match="does not match its sha256") as err:
        a_contract(rule_set=tampered)
    assert err.value.field == "rule_set"
    with pytest.raises(InvalidValue, match="has the body of utrecht-2024 v1") as err:
        a_contract(rule_set=replace(pinned, name="harlingen-2024"))
    assert err.value.field == "rule_set"


def test_a_contract_registered_before_pinning_is_upcast_to_version_1_of_its_rule_set():
    # An event stored before pinning names the rule set only (class version 1).
    state = {"rule_set": "harlingen-2024", "title": "Groen"}
    SocialReturnContract.ContractRegistered.upcast_v1_v2(state)
    assert (state["rule_set_version"], state["rule_set_sha256"]) == (1, shipped("harlingen-2024").sha256)
    assert state["rule_set_body"] == shipped("harlingen-2024").body


def test_a_contract_belongs_to_an_employer_id():
    with pytest.raises(InvalidValue) as err:
        SocialReturnContract.register(**contract_terms(employer_id="not-a-uuid"))
    assert err.value.field == "employer_id"


def test_an_amendment_records_only_what_changed():
    contract = a_contract()
    contract.collect_events()
    contract.amend(
        obligation_percent=Decimal("7"),
        title=contract.title,  # unchanged: not recorded
        rule_set=None,  # None means unchanged
    )
    (amended,) = contract.collect_events()
    assert type(amended).__name__ == "ContractAmended"
    assert amended.changes == {"obligation_percent": Decimal("7")}
    assert contract.obligation_eur == Decimal("70000")


def test_an_amendment_that_changes_nothing_records_nothing():
    contract = a_contract()
    contract.collect_events()
    contract.amend(title=contract.title)
    assert contract.collect_events() == []


def test_an_amendment_is_checked_against_the_whole_contract():
    contract = a_contract(starts_on=date(2025, 1, 1), ends_on=date(2027, 12, 31))
    with pytest.raises(TermEndsBeforeStart):
        contract.amend(starts_on=date(2028, 1, 1))
    assert contract.starts_on == date(2025, 1, 1)


def test_only_contract_terms_can_be_amended():
    with pytest.raises(InvalidValue) as err:
        a_contract().amend(employer_id=None)
    assert err.value.field == "employer_id"


def test_a_contract_is_closed_once():
    contract = a_contract()
    contract.close(date(2027, 12, 31), reason=" term ended ")
    assert contract.is_closed
    assert contract.closed_on == date(2027, 12, 31)
    assert contract.close_reason == "term ended"
    with pytest.raises(ContractAlreadyClosed) as err:
        contract.close(date(2028, 1, 1))
    assert err.value.is_state_conflict
    assert contract.closed_on == date(2027, 12, 31)


def test_a_closed_contract_cannot_be_amended():
    contract = a_contract()
    contract.close(date(2026, 6, 30))
    with pytest.raises(ContractAlreadyClosed):
        contract.amend(title="Nieuw")
    assert contract.title == "Onderhoud openbare ruimte"


# -- the contract's own reporting period (issue 12) --------------------------------------

def test_a_contract_follows_its_rule_sets_period_unless_it_chooses():
    assert (a_contract().reporting_period, a_contract().reports_per) == (None, "year")
    quarterly = a_contract(reporting_period="quarter")
    assert (quarterly.reporting_period, quarterly.reports_per) == ("quarter", "quarter")
    with pytest.raises(InvalidValue) as err:
        a_contract(reporting_period="month")
    assert err.value.field == "reporting_period"


def test_a_statement_period_must_be_one_of_the_contracts_periods():
    quarterly = a_contract(reporting_period="quarter")
    assert quarterly.check_statement_period(date(2026, 1, 1), date(2026, 3, 31)) == (
        date(2026, 1, 1), date(2026, 3, 31))
    yearly = a_contract()
    with pytest.raises(InvalidValue) as err:
        yearly.check_statement_period(date(2026, 1, 1), date(2026, 3, 31))
    assert err.value.field == "period_end" and err.value.params == {
        "start": date(2026, 1, 1), "end": date(2026, 12, 31)}
    with pytest.raises(InvalidValue) as err:
        quarterly.check_statement_period(date(2026, 2, 1), date(2026, 3, 31))
    assert err.value.field == "period_start"


def test_the_period_changes_only_while_every_statement_still_fits_it():
    contract = a_contract()
    contract.claim_statement_period(uuid4(), (date(2025, 1, 1), date(2025, 12, 31)))
    with pytest.raises(InvalidValue) as err:
        contract.amend(reporting_period="quarter")
    assert err.value.field == "reporting_period"
    contract.amend(reporting_period="year")  # what it follows already: fits
    assert contract.reporting_period == "year"
    assert event_names(contract)[-1] == "ContractAmended"


# -- unlinking the authority organisation --------------------------------------------------

def test_unlinking_the_authority_is_an_event_and_waits_for_a_pending_decision():
    contract = a_contract()
    contract.unlink_authority()  # not linked: nothing
    assert "ContractAuthorityUnlinked" not in event_names(contract)
    first, second = uuid4(), uuid4()
    contract.link_authority(first, "Gemeente Harlingen")
    pending = [(date(2025, 1, 1), date(2025, 12, 31))]
    for change in (lambda: contract.unlink_authority(pending),
                   lambda: contract.link_authority(second, "Gemeente Utrecht", pending)):
        with pytest.raises(AuthorityDecisionPending) as err:
            change()
        assert err.value.is_state_conflict and err.value.params["start"] == date(2025, 1, 1)
    assert contract.authority_org_id == first
    contract.unlink_authority()
    assert (contract.authority_org_id, contract.authority_name) == (None, None)
    assert event_names(contract)[-2:] == ["ContractAuthorityLinked", "ContractAuthorityUnlinked"]
