"""The employee's own check-in (issue 16): when it opens, what it accepts,
answered once, the sharing choice."""
from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import InvalidValue
from domain.voice import CheckInAlreadyAnswered, CheckInNotOpen, EmployeeVoice, moment_states

START = date(2025, 1, 31)
GOOD = {"supported": 4, "work_suits": 5, "can_ask": 3, "want_to_stay": 4}


def voice() -> EmployeeVoice:
    return EmployeeVoice.open(uuid4(), uuid4(), uuid4(), START)


def test_check_ins_are_due_at_1_3_6_and_12_months_and_open_a_week_before() -> None:
    states = moment_states(START, None, date(2025, 2, 21), {})
    assert [(s["moment"], s["due_on"], s["state"]) for s in states] == [
        (1, date(2025, 2, 28), "open"), (3, date(2025, 4, 30), "later"), (6, date(2025, 7, 31), "later"),
        (12, date(2026, 1, 31), "later")]
    states = moment_states(START, date(2025, 5, 15), date(2025, 9, 1), {1: date(2025, 3, 1)})
    assert [s["state"] for s in states] == ["answered", "overdue", "closed", "closed"]


def test_the_employee_answers_each_moment_once_with_a_score_per_question() -> None:
    v = voice()
    with pytest.raises(CheckInNotOpen):
        v.answer(3, GOOD, "", None, date(2025, 3, 1))
    v.answer(1, GOOD, "  Fijne collega's  ", None, date(2025, 3, 20))  # overdue: still open
    event = v.pending_events[-1]
    assert (event.moment, event.due_on, event.answers, event.remark) == (1, date(2025, 2, 28), GOOD, "Fijne collega's")
    assert not hasattr(v, "remark") and v.answered == {1: date(2025, 3, 20)}
    with pytest.raises(CheckInAlreadyAnswered):
        v.answer(1, GOOD, "", None, date(2025, 3, 21))


@pytest.mark.parametrize("answers,field", [
    ({**GOOD, "supported": 6}, "supported"), ({**GOOD, "work_suits": 0}, "work_suits"),
    ({**GOOD, "can_ask": "3"}, "can_ask"), ({**GOOD, "want_to_stay": True}, "want_to_stay"),
    ({k: v for k, v in GOOD.items() if k != "can_ask"}, "can_ask"), ({**GOOD, "salary": 3}, "salary"),
    ([], "answers")])
def test_bad_answers_name_the_question(answers: object, field: str) -> None:
    with pytest.raises(InvalidValue) as e:
        voice().answer(1, answers, "", None, date(2025, 3, 1))
    assert e.value.field == field


def test_a_bad_moment_or_remark_names_its_field() -> None:
    for moment in (2, True, "1"):
        with pytest.raises(InvalidValue) as e:
            voice().answer(moment, GOOD, "", None, date(2025, 3, 1))
        assert e.value.field == "moment"
    with pytest.raises(InvalidValue) as e:
        voice().answer(1, GOOD, "x" * 1001, None, date(2025, 3, 1))
    assert e.value.field == "remark"


def test_sharing_is_aggregated_unless_the_employee_chooses_otherwise() -> None:
    v = voice()
    assert v.sharing == "aggregated" and not v.shared_individually
    v.choose_sharing("individual", date(2025, 3, 1))
    assert v.shared_individually
    with pytest.raises(InvalidValue) as e:
        v.choose_sharing("everyone", date(2025, 3, 1))
    assert e.value.field == "sharing"
