from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Mapper

from domain.contribution import Contribution
from domain.errors import (
    ContributionAlreadyDecided,
    InvalidValue,
    UnknownSocialEnterpriseRegister,
)
from tests.domain.builders import shipped_rules
from domain.values import OTHER_ACTIVITY_HOURLY_EUR, SOCIAL_ENTERPRISE_SHARES
from infra.eventstore import make_transcoder
from tests.domain.builders import event_names

CONTRACT = UUID("0d7e0a5e-8a5c-4c7e-9f4a-1b2c3d4e5f60")


def a_purchase(**overrides) -> Contribution:
    return Contribution.purchase_from_social_enterprise(
        **{
            "contract_id": CONTRACT,
            "supplier": "Kringloop De Schakel",
            "invoice_amount_eur_excl_vat": Decimal("12500.00"),
            "register": "registered_social_enterprise",
            "invoice_date": date(2025, 4, 1),
            "description": "Catering voor de bouwkeet",
            "reported_on": date(2025, 4, 15),
            **overrides,
        }
    )


def an_activity(**overrides) -> Contribution:
    return Contribution.other_activity(
        **{
            "contract_id": CONTRACT,
            "description": "Gastles op het praktijkonderwijs",
            "hours": Decimal("6"),
            "activity_date": date(2025, 5, 20),
            "reported_on": date(2025, 5, 21),
            **overrides,
        }
    )


def a_placement_contribution(placement_id: UUID | None = None) -> Contribution:
    return Contribution.for_placement(
        placement_id or uuid4(), CONTRACT, reported_on=date(2025, 2, 1)
    )


# Placements


def test_a_placement_is_reported_without_an_amount_because_its_value_accrues():
    placement_id = uuid4()
    contribution = a_placement_contribution(placement_id)
    assert (contribution.kind, contribution.placement_id) == ("placement", placement_id)
    assert contribution.contract_id == CONTRACT
    assert contribution.amount_eur is None
    assert contribution.status == "pending"
    assert event_names(contribution) == ["ContributionReported"]


def test_a_placement_has_one_contribution_id_however_often_it_is_reported():
    placement_id = uuid4()
    first = a_placement_contribution(placement_id)
    again = a_placement_contribution(placement_id)
    assert first.id == again.id == Contribution.id_for_placement(placement_id)
    assert a_placement_contribution().id != first.id


def test_a_placement_contribution_needs_real_ids():
    with pytest.raises(InvalidValue) as err:
        Contribution.for_placement("not-a-uuid", CONTRACT, date(2025, 2, 1))
    assert err.value.field == "placement_id"


# Purchases from social enterprises


def test_an_invoice_from_a_registered_social_enterprise_counts_in_full():
    purchase = a_purchase()
    assert purchase.kind == "social_enterprise_purchase"
    assert purchase.amount_eur == Decimal("12500.00")
    assert (purchase.supplier, purchase.counted_share) == ("Kringloop De Schakel", 1)
    assert purchase.placement_id is None


def test_an_invoice_from_a_social_enterprise_nl_member_counts_for_half():
    # 12,345.67 x 0.5 = 6,172.835 (exact; rounding is for display)
    purchase = a_purchase(
        register="social_enterprise_nl_member",
        invoice_amount_eur_excl_vat=Decimal("12345.67"),
    )
    assert purchase.amount_eur == Decimal("6172.835")
    assert purchase.invoice_amount_eur_excl_vat == Decimal("12345.67")


def test_a_purchase_from_an_unknown_register_is_refused():
    with pytest.raises(UnknownSocialEnterpriseRegister) as err:
        a_purchase(register="psoladder")
    assert err.value.field == "register"


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-10"), Decimal("10.001")])
def test_an_invoice_amount_is_positive_and_in_whole_cents(amount):
    with pytest.raises(InvalidValue) as err:
        a_purchase(invoice_amount_eur_excl_vat=amount)
    assert err.value.field == "invoice_amount_eur_excl_vat"


@pytest.mark.parametrize("field", ["description", "supplier"])
def test_a_purchase_says_what_was_bought_and_from_whom(field):
    with pytest.raises(InvalidValue) as err:
        a_purchase(**{field: "  "})
    assert err.value.field == field


# Other activities


def test_hours_of_an_activity_count_100_euros_an_hour():
    # 6 hours x EUR 100 = EUR 600
    activity = an_activity(hours=Decimal("6"))
    assert activity.amount_eur == Decimal("600")
    assert (activity.hours, activity.hourly_rate_eur, activity.costs_eur) == (6, 100, None)


def test_the_costs_of_an_activity_count_as_they_are():
    activity = an_activity(hours=None, costs_eur=Decimal("850.50"))
    assert activity.amount_eur == Decimal("850.50")
    assert (activity.hours, activity.hourly_rate_eur) == (None, None)


@pytest.mark.parametrize(
    "given", [{"hours": None}, {"costs_eur": Decimal("100")}]
)
def test_an_activity_counts_either_costs_or_hours_not_both_nor_neither(given):
    with pytest.raises(InvalidValue) as err:
        an_activity(**given)
    assert err.value.field == "costs_eur"


@pytest.mark.parametrize(
    "given, field",
    [
        ({"hours": Decimal("0")}, "hours"),
        ({"hours": Decimal("-2")}, "hours"),
        ({"hours": None, "costs_eur": Decimal("0")}, "costs_eur"),
        ({"description": ""}, "description"),
    ],
)
def test_an_activity_has_a_description_and_a_positive_amount(given, field):
    with pytest.raises(InvalidValue) as err:
        an_activity(**given)
    assert err.value.field == field


def test_an_activity_under_a_named_rule_set_uses_its_figures():
    activity = an_activity(hours=Decimal("2.5"), rules=shipped_rules("harlingen-2024"))
    # 2.5 hours x Harlingen's EUR 100 = EUR 250
    assert activity.amount_eur == Decimal("250")
    assert activity.rule_set == "harlingen-2024"


def test_the_default_counting_figures_are_those_of_every_rule_set():
    for name, version in (("utrecht-2024", 1), ("harlingen-2024", 1), ("utrecht-2024", 2), ("harlingen-2024", 2)):
        rules = shipped_rules(name, version)
        assert dict(rules.social_enterprise_shares) == dict(SOCIAL_ENTERPRISE_SHARES)
        assert rules.other_activity_hourly_eur == OTHER_ACTIVITY_HOURLY_EUR


# Decisions


def test_an_accepted_contribution_counts_from_the_decision():
    purchase = a_purchase()
    purchase.accept(date(2025, 5, 1), reason="Factuur en KvK-inschrijving gezien")
    assert purchase.status == "accepted"
    assert purchase.decided_on == date(2025, 5, 1)
    assert purchase.decision_reason == "Factuur en KvK-inschrijving gezien"
    assert event_names(purchase) == ["ContributionReported", "ContributionAccepted"]


def test_acceptance_needs_no_reason():
    activity = an_activity()
    activity.accept(date(2025, 6, 1))
    assert (activity.status, activity.decision_reason) == ("accepted", None)


def test_a_rejection_says_why():
    placement = a_placement_contribution()
    with pytest.raises(InvalidValue) as err:
        placement.reject(date(2025, 3, 1), reason=" ")
    assert err.value.field == "reason"
    assert placement.status == "pending"
    placement.reject(date(2025, 3, 1), reason="Kandidaat valt niet in de doelgroep")
    assert placement.status == "rejected"
    assert event_names(placement)[-1] == "ContributionRejected"


@pytest.mark.parametrize("first", ["accept", "reject"])
@pytest.mark.parametrize("second", ["accept", "reject"])
def test_a_decision_is_final(first, second):
    purchase = a_purchase()
    getattr(purchase, first)(date(2025, 5, 1), reason="besluit")
    with pytest.raises(ContributionAlreadyDecided) as err:
        getattr(purchase, second)(date(2025, 5, 2), reason="nog een besluit")
    assert err.value.is_state_conflict
    assert purchase.status == {"accept": "accepted", "reject": "rejected"}[first]
    assert purchase.decided_on == date(2025, 5, 1)


def test_a_decision_is_dated():
    purchase = a_purchase()
    with pytest.raises(InvalidValue) as err:
        purchase.accept("2025-05-01")
    assert err.value.field == "decided_on"
    assert purchase.status == "pending"


# Replay


def _stories():
    purchase = a_purchase(register="social_enterprise_nl_member")
    purchase.accept(date(2025, 5, 1), reason="akkoord")
    activity = an_activity(hours=None, costs_eur=Decimal("850.50"))
    activity.reject(date(2025, 6, 1), reason="Geen bewijs")
    placement = a_placement_contribution()
    placement.accept(date(2025, 2, 2))
    return [purchase, activity, placement]


def _state(aggregate):
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def _rebuild(events):
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


@pytest.mark.parametrize("index", range(3))
def test_a_contribution_rebuilt_from_its_events_has_the_same_state(index):
    original = _stories()[index]
    rebuilt = _rebuild(original.collect_events())
    assert _state(rebuilt) == _state(original)
    assert rebuilt.status == original.status != "pending"


@pytest.mark.parametrize("index", range(3))
def test_contribution_events_survive_the_stored_form_and_replay(index):
    mapper = Mapper(transcoder=make_transcoder())
    original = _stories()[index]
    stored = [mapper.to_stored_event(e) for e in original.collect_events()]
    rebuilt = _rebuild([mapper.to_domain_event(s) for s in stored])
    assert _state(rebuilt) == _state(original)
    assert rebuilt.id == original.id


def test_the_cheap_copy_of_a_contribution_equals_a_deep_copy():
    import copy

    purchase = a_purchase()
    purchase.accept(date(2025, 5, 1))
    cheap = purchase.__deepcopy__({})
    assert vars(cheap) == vars(copy.deepcopy(purchase)) == vars(purchase)
