"""The cheap copy of aggregates is a full copy: equal to deepcopy, and
independent of the original whatever the commands do afterwards."""
from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from tests.domain.builders import a_candidate, a_contract, a_placement, a_vacancy, an_employer


def _busy_placement():
    p = a_placement(starts_on=date(2025, 2, 1))
    p.give_feedback(4, "coach", "Goede start", given_on=date(2025, 3, 1))
    p.change_hours(Decimal("28"), date(2025, 4, 1))
    return p


def _busy_vacancy():
    v = a_vacancy()
    v.match_candidate(uuid4())
    return v


def _busy_employer():
    e = an_employer()
    e.add_contact_person("Marieke de Vries", "m.devries@example.nl")
    return e


@pytest.mark.parametrize("make", [_busy_placement, _busy_vacancy, _busy_employer, a_candidate, a_contract])
def test_the_cheap_copy_equals_a_deep_copy(make):
    original = make()
    assert vars(copy.deepcopy(original)) == vars(original.__class__.__deepcopy__(original, {}))
    assert vars(copy.deepcopy(original)) == vars(original)


def test_changing_a_copied_placement_leaves_the_original_untouched():
    original = _busy_placement()
    version, pending = original.version, len(original.pending_events)
    history_before = [dict(h) for h in original.hours_history]
    clone = copy.deepcopy(original)
    clone.change_hours(Decimal("12"), date(2025, 5, 1))
    clone.give_feedback(2, "employer", "Minder", given_on=date(2025, 5, 2))
    clone.hours_history[0]["hours_per_week"] = Decimal("1")  # even a careless in-place edit
    assert original.hours_history == history_before
    assert original.version == version
    assert len(original.pending_events) == pending
    assert original.last_feedback["score"] == 4


def test_matching_on_a_copied_vacancy_leaves_the_original_untouched():
    original = _busy_vacancy()
    clone = copy.deepcopy(original)
    clone.match_candidate(uuid4())
    assert len(original.matched_candidate_ids) == 1
    assert len(clone.matched_candidate_ids) == 2
