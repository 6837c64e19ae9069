from datetime import date
from decimal import Decimal

import pytest

from domain import (
    ExtensionNotLater,
    HoursChangeOutsidePlacement,
    InvalidFeedbackScore,
    InvalidHoursPerWeek,
    InvalidValue,
    PlacementAlreadyEnded,
    PlacementEndsBeforeStart,
    UnknownEndReason,
    UnknownFeedbackRole,
)
from tests.domain.builders import a_placement, event_names


def test_a_placement_starts_with_its_hours_as_the_first_history_entry():
    placement = a_placement(starts_on=date(2025, 2, 1), hours_per_week=24)
    assert placement.is_active
    assert placement.hours_per_week == Decimal("24")
    assert placement.hours_history == [
        {"effective_on": date(2025, 2, 1), "hours_per_week": Decimal("24")}
    ]
    assert event_names(placement) == ["PlacementStarted"]


@pytest.mark.parametrize("hours", [Decimal("0.5"), 61])
def test_a_placement_is_for_1_to_60_hours_a_week(hours):
    with pytest.raises(InvalidHoursPerWeek) as err:
        a_placement(hours_per_week=hours)
    assert err.value.field == "hours_per_week"


@pytest.mark.parametrize("planned_end_on", [date(2025, 2, 1), date(2025, 1, 31)])
def test_a_planned_end_lies_after_the_start(planned_end_on):
    with pytest.raises(InvalidValue) as err:
        a_placement(starts_on=date(2025, 2, 1), planned_end_on=planned_end_on)
    assert err.value.field == "planned_end_on"


def test_a_placement_without_contract_vacancy_or_planned_end_is_fine():
    placement = a_placement(contract_id=None, vacancy_id=None, planned_end_on=None)
    assert placement.contract_id is None
    assert placement.planned_end_on is None


# Feedback


def test_feedback_is_recorded_with_role_score_and_date():
    placement = a_placement()
    placement.give_feedback(
        4, "employee", " Fijne collega's ", given_on=date(2025, 3, 1)
    )
    assert placement.feedback_count == 1
    assert placement.last_feedback == {
        "score": 4,
        "from_role": "employee",
        "comment": "Fijne collega's",
        "given_on": date(2025, 3, 1),
    }
    assert event_names(placement)[-1] == "FeedbackGiven"


@pytest.mark.parametrize("score", [0, 6, True, 4.0, "4", None])
def test_feedback_score_must_be_between_1_and_5(score):
    placement = a_placement()
    with pytest.raises(InvalidFeedbackScore) as err:
        placement.give_feedback(score, "coach", "")
    assert err.value.field == "score"
    assert placement.feedback_count == 0


def test_feedback_comes_from_a_known_role():
    with pytest.raises(UnknownFeedbackRole) as err:
        a_placement().give_feedback(3, "neighbour", "")
    assert err.value.field == "from_role"


def test_a_feedback_comment_is_at_most_4000_characters():
    with pytest.raises(InvalidValue) as err:
        a_placement().give_feedback(3, "coach", "x" * 4001)
    assert err.value.field == "comment"


def test_feedback_cannot_predate_the_placement():
    with pytest.raises(InvalidValue) as err:
        a_placement(starts_on=date(2025, 2, 1)).give_feedback(
            3, "coach", "", given_on=date(2025, 1, 31)
        )
    assert err.value.field == "given_on"


def test_feedback_is_dated_today_by_default():
    placement = a_placement(starts_on=date(2025, 2, 1))
    placement.give_feedback(5, "agency", "")
    assert placement.last_feedback["given_on"] == date.today()


def test_feedback_can_still_be_given_after_the_placement_ended():
    placement = a_placement(starts_on=date(2025, 2, 1))
    placement.end(date(2025, 6, 30), "resigned")
    placement.give_feedback(2, "employer", "Jammer", given_on=date(2025, 7, 15))
    assert placement.feedback_count == 1


# Hours


def test_hours_change_applies_from_its_effective_date():
    placement = a_placement(starts_on=date(2025, 2, 1), hours_per_week=24)
    placement.change_hours(Decimal("32"), effective_on=date(2025, 5, 1))
    assert placement.hours_on(date(2025, 4, 30)) == Decimal("24")
    assert placement.hours_on(date(2025, 5, 1)) == Decimal("32")
    assert placement.hours_per_week == Decimal("32")
    assert event_names(placement)[-1] == "HoursChanged"


def test_a_backdated_hours_change_keeps_the_history_in_date_order():
    placement = a_placement(starts_on=date(2025, 2, 1), hours_per_week=24)
    placement.change_hours(32, effective_on=date(2025, 6, 1))
    placement.change_hours(28, effective_on=date(2025, 4, 1))
    assert [h["hours_per_week"] for h in placement.hours_history] == [24, 28, 32]
    assert placement.hours_on(date(2025, 5, 1)) == 28


def test_a_second_hours_change_on_the_same_day_replaces_the_first():
    placement = a_placement(starts_on=date(2025, 2, 1), hours_per_week=24)
    placement.change_hours(30, effective_on=date(2025, 2, 1))
    assert placement.hours_history == [
        {"effective_on": date(2025, 2, 1), "hours_per_week": Decimal("30")}
    ]


def test_hours_cannot_change_before_the_placement_starts():
    placement = a_placement(starts_on=date(2025, 2, 1))
    with pytest.raises(HoursChangeOutsidePlacement) as err:
        placement.change_hours(32, effective_on=date(2025, 1, 31))
    assert err.value.field == "effective_on"
    assert len(placement.hours_history) == 1


def test_hours_of_an_ended_placement_cannot_change():
    placement = a_placement(starts_on=date(2025, 2, 1))
    placement.end(date(2025, 6, 30), "contract_ended")
    with pytest.raises(PlacementAlreadyEnded) as err:
        placement.change_hours(32, effective_on=date(2025, 3, 1))
    assert err.value.is_state_conflict


def test_changed_hours_must_be_1_to_60():
    with pytest.raises(InvalidHoursPerWeek):
        a_placement().change_hours(0, effective_on=date(2025, 3, 1))


def test_there_are_no_hours_outside_the_placement():
    placement = a_placement(starts_on=date(2025, 2, 1))
    placement.end(date(2025, 6, 30), "resigned")
    assert placement.hours_on(date(2025, 1, 31)) is None
    assert placement.hours_on(date(2025, 6, 30)) == Decimal("24")
    assert placement.hours_on(date(2025, 7, 1)) is None


# Extension


def test_a_placement_is_extended_to_a_later_planned_end():
    placement = a_placement(planned_end_on=date(2025, 12, 31))
    placement.extend(date(2026, 6, 30))
    assert placement.planned_end_on == date(2026, 6, 30)
    assert event_names(placement)[-1] == "PlacementExtended"


@pytest.mark.parametrize("until", [date(2025, 12, 31), date(2025, 10, 1)])
def test_an_extension_must_be_later_than_the_planned_end(until):
    placement = a_placement(planned_end_on=date(2025, 12, 31))
    with pytest.raises(ExtensionNotLater) as err:
        placement.extend(until)
    assert err.value.field == "until"
    assert placement.planned_end_on == date(2025, 12, 31)


def test_without_a_planned_end_an_extension_must_be_after_the_start():
    placement = a_placement(starts_on=date(2025, 2, 1), planned_end_on=None)
    with pytest.raises(ExtensionNotLater):
        placement.extend(date(2025, 2, 1))
    placement.extend(date(2025, 2, 2))
    assert placement.planned_end_on == date(2025, 2, 2)


def test_an_ended_placement_cannot_be_extended():
    placement = a_placement()
    placement.end(date(2025, 6, 30), "dismissed")
    with pytest.raises(PlacementAlreadyEnded):
        placement.extend(date(2026, 6, 30))


# Ending


def test_a_placement_ends_on_a_date_for_a_reason():
    placement = a_placement(starts_on=date(2025, 2, 1))
    placement.end(date(2025, 2, 1), "direct_employment")  # a one-day placement
    assert not placement.is_active
    assert (placement.ended_on, placement.end_reason) == (
        date(2025, 2, 1),
        "direct_employment",
    )
    assert event_names(placement)[-1] == "PlacementEnded"


def test_a_placement_cannot_end_before_it_starts():
    placement = a_placement(starts_on=date(2025, 2, 1))
    with pytest.raises(PlacementEndsBeforeStart) as err:
        placement.end(date(2025, 1, 31), "resigned")
    assert err.value.field == "ends_on"
    assert placement.is_active


def test_a_placement_ends_for_a_known_reason():
    with pytest.raises(UnknownEndReason) as err:
        a_placement().end(date(2025, 6, 30), "bored")
    assert err.value.field == "reason"


def test_a_placement_ends_only_once():
    placement = a_placement()
    placement.end(date(2025, 6, 30), "resigned")
    with pytest.raises(PlacementAlreadyEnded) as err:
        placement.end(date(2025, 7, 31), "other")
    assert err.value.is_state_conflict
    assert placement.ended_on == date(2025, 6, 30)
