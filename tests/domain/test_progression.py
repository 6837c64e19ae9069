"""Progression (issue 16): role and pay scale as a code never an amount,
trainings, fixed-term to permanent."""
from __future__ import annotations

import copy
from datetime import date
from uuid import uuid4

import pytest

from domain.employment import Employment
from domain.errors import ContractAlreadyPermanent, InvalidValue
from domain.values import require_scale
from tests.domain.builders import a_placement, event_names

TODAY = date(2025, 6, 1)


@pytest.mark.parametrize("given,code", [
    ("schaal 6", "schaal 6"), ("Schaal  6", "schaal 6"), ("band B", "band b"), ("trede 3a", "trede 3a"),
    ("functiegroep 12", "functiegroep 12"), ("Grade B2", "grade b2")])
def test_a_scale_is_a_short_code(given: str, code: str) -> None:
    assert require_scale(given) == code


@pytest.mark.parametrize("money", ["€ 2.500", "2500", "EUR 2500", "schaal 2500", "schaal 6 (€2.800)",
                                   "band 2.800,00", "2800 euro", "bruto 3000", "schaal", ""])
def test_anything_that_looks_like_money_is_refused_naming_the_field(money: str) -> None:
    with pytest.raises(InvalidValue) as e:
        require_scale(money)
    assert e.value.field == "scale"


def test_a_role_change_keeps_the_scale_and_seals_nothing_in_state() -> None:
    p = a_placement()
    p.change_role("schaal 6", "Medewerker groen", date(2025, 4, 1), today=TODAY)
    assert p.scale == "schaal 6"
    assert not hasattr(p, "role")
    event = p.pending_events[-1]
    assert event.role == "Medewerker groen" and event.candidate_id == p.candidate_id
    with pytest.raises(InvalidValue) as e:  # the same scale, no new title: nothing changed
        p.change_role("schaal 6", "", date(2025, 5, 1), today=TODAY)
    assert e.value.field == "scale"
    with pytest.raises(InvalidValue) as e:
        p.change_role("schaal 7", None, date(2025, 1, 1), today=TODAY)
    assert e.value.field == "effective_on"
    with pytest.raises(InvalidValue) as e:
        p.change_role("schaal 7", None, date(2025, 7, 1), today=TODAY)
    assert e.value.field == "effective_on"


def test_a_training_needs_a_name_and_a_day_within_the_placement() -> None:
    p = a_placement()
    p.complete_training("VCA basis", date(2025, 3, 10), today=TODAY)
    assert event_names(p)[-1] == "TrainingCompleted"
    with pytest.raises(InvalidValue) as e:
        p.complete_training("  ", date(2025, 3, 10), today=TODAY)
    assert e.value.field == "training"
    with pytest.raises(InvalidValue) as e:
        p.complete_training("x" * 101, date(2025, 3, 10), today=TODAY)
    assert e.value.field == "training"


def test_fixed_term_to_permanent_once_and_the_valued_bonus_stays() -> None:
    p = a_placement()
    p.make_permanent(date(2025, 5, 1), today=TODAY)
    assert p.made_permanent_on == date(2025, 5, 1) and p.permanent_contract is False
    with pytest.raises(ContractAlreadyPermanent):
        p.make_permanent(date(2025, 5, 2), today=TODAY)
    with pytest.raises(ContractAlreadyPermanent):
        a_placement(permanent_contract=True).make_permanent(date(2025, 5, 1), today=TODAY)
    with pytest.raises(InvalidValue) as e:  # a secondment: the employment is made permanent
        a_placement(employment_id=uuid4()).make_permanent(date(2025, 5, 1), today=TODAY)
    assert e.value.field == "employment_id"


def test_an_employment_made_permanent_has_no_planned_end() -> None:
    e = Employment.start(uuid4(), date(2025, 1, 1), "fixed_term", date(2025, 12, 31))
    e.make_permanent(date(2025, 6, 1), today=TODAY)
    assert (e.kind, e.planned_end_on, e.made_permanent_on) == ("permanent", None, date(2025, 6, 1))
    assert copy.deepcopy(e).made_permanent_on == date(2025, 6, 1)
    with pytest.raises(ContractAlreadyPermanent):
        e.make_permanent(date(2025, 6, 2), today=TODAY)
    with pytest.raises(InvalidValue) as err:
        Employment.start(uuid4(), date(2025, 1, 1), "fixed_term", date(2025, 12, 31)).make_permanent(
            date(2024, 12, 1), today=TODAY)
    assert err.value.field == "on"
