"""The legal employer's deadlines, each checked by hand, and the sickness invariants."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from domain.duties import (
    DutyAlreadyDone,
    NoOpenSickness,
    PlacementDuties,
    RecoveryBeforeSickness,
    Reminder,
    SicknessAlreadyOpen,
    UnknownDuty,
    by_week,
    duties_for,
    job_coach,
    placement_deadlines,
    poortwachter_deadlines,
    within_months,
)
from domain.errors import InvalidValue

MONDAY = date(2026, 3, 2)  # a first sick day
TODAY = date(2026, 11, 28)


def test_by_week_n_is_the_last_day_of_week_n_counting_the_first_day_as_day_1():
    assert by_week(MONDAY, 1) == date(2026, 3, 8)  # Sunday: days 1-7
    assert by_week(MONDAY, 2) == date(2026, 3, 15)


def test_poortwachter_deadlines_by_hand():
    due = {d.kind: d.due_on for d in poortwachter_deadlines(MONDAY) if d.kind != "plan_review"}
    assert due == {
        "sick_report": date(2026, 3, 2),              # day 1
        "company_doctor_informed": date(2026, 3, 8),  # week 1: + 6 days
        "problem_analysis": date(2026, 4, 12),        # week 6: + 41 days
        "plan_of_action": date(2026, 4, 26),          # week 8: + 55 days
        "uwv_report": date(2026, 12, 20),             # week 42: + 293 days
        "first_year_evaluation": date(2027, 2, 28),   # week 52: + 363 days
        "wia_application": date(2027, 11, 28),        # week 91: + 636 days
        "wage_payment_ends": date(2028, 2, 27),       # week 104: + 727 days (29 Feb 2028 on the way)
        "second_track": date(2027, 4, 11),            # week 58: 6 weeks after the first-year evaluation
    }


def test_the_plan_of_action_is_reviewed_every_six_weeks_until_week_104():
    reviews = [d.due_on for d in poortwachter_deadlines(MONDAY) if d.kind == "plan_review"]
    assert reviews[:3] == [date(2026, 6, 7), date(2026, 7, 19), date(2026, 8, 30)]  # weeks 14, 20, 26
    assert len(reviews) == 15 and reviews[-1] == date(2028, 1, 16)  # week 98
    assert reviews == [by_week(MONDAY, w) for w in range(14, 99, 6)]


def test_deadlines_are_sorted_by_date():
    dates = [d.due_on for d in poortwachter_deadlines(MONDAY)]
    assert dates == sorted(dates)


@pytest.mark.parametrize("start, last_day", [
    (date(2026, 2, 1), date(2026, 4, 30)),    # three months: 1 Feb - 30 Apr
    (date(2026, 3, 15), date(2026, 6, 14)),
    (date(2025, 11, 30), date(2026, 2, 27)),  # 30 Nov + 3 months = 28 Feb (clamped), less a day
    (date(2026, 10, 1), date(2026, 12, 31)),
    (date(2026, 11, 1), date(2027, 1, 31)),   # over the year end
])
def test_requests_within_three_months_of_the_start(start, last_day):
    assert within_months(start, 3) == last_day
    due = {d.kind: d.due_on for d in placement_deadlines(start, None)}
    assert due == {"target_group_declaration": last_day, "no_risk_policy": last_day}


def test_the_planned_end_is_a_duty_on_its_date():
    due = {d.kind: d.due_on for d in placement_deadlines(date(2026, 2, 1), date(2026, 12, 31))}
    assert due["planned_end"] == date(2026, 12, 31)


@pytest.mark.parametrize("hours, end, eligible", [
    ("12", date(2026, 7, 31), True),     # exactly 12 h and exactly 6 months (1 Feb - 31 Jul)
    ("11.5", None, False),               # too few hours
    ("24", date(2026, 7, 30), False),    # a day short of 6 months
    ("24", None, True),                  # open-ended
])
def test_job_coach_conditions(hours, end, eligible):
    flag = job_coach(Decimal(hours), date(2026, 2, 1), end)
    assert flag["eligible"] is eligible
    assert flag["reasons"][0].startswith(f"{Decimal(hours).normalize():f} h a week")


# -- the aggregate ---------------------------------------------------------------------
PLACEMENT = uuid.UUID(int=42)
STARTS = date(2026, 2, 1)


def a_record() -> PlacementDuties:
    return PlacementDuties.open(PLACEMENT)


def test_its_id_follows_from_the_placement():
    assert a_record().id == PlacementDuties.id_for(PLACEMENT) == PlacementDuties.open(PLACEMENT).id


def test_sickness_then_recovery():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    assert record.open_spell == {"first_sick_day": MONDAY, "recovered_on": None, "counted_from": MONDAY}
    record.recover(date(2026, 3, 20), today=TODAY)
    assert record.open_spell is None
    assert [type(e).__name__ for e in record.collect_events()] == [
        "PlacementDutiesOpened", "SicknessReported", "Recovered"]


def test_recovery_before_the_first_sick_day_names_the_field():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    with pytest.raises(RecoveryBeforeSickness) as raised:
        record.recover(date(2026, 3, 1), today=TODAY)
    assert raised.value.field == "recovered_on" and not raised.value.is_state_conflict


def test_a_second_report_while_one_is_open_is_a_state_conflict():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    with pytest.raises(SicknessAlreadyOpen) as raised:
        record.report_sickness(date(2026, 4, 1), STARTS, None, today=TODAY)
    assert raised.value.is_state_conflict


def test_recovery_without_sickness_is_a_state_conflict():
    with pytest.raises(NoOpenSickness) as raised:
        a_record().recover(MONDAY, today=TODAY)
    assert raised.value.is_state_conflict


@pytest.mark.parametrize("first, ended, message", [
    (date(2026, 1, 31), None, "before the placement starts"),
    (date(2026, 12, 1), None, "in the future"),
    (date(2026, 6, 1), date(2026, 5, 31), "after the placement ended"),
])
def test_impossible_first_sick_days_name_the_field(first, ended, message):
    with pytest.raises(InvalidValue) as raised:
        a_record().report_sickness(first, STARTS, ended, today=TODAY)
    assert raised.value.field == "first_sick_day" and message in raised.value.message


def test_a_new_sickness_starts_after_the_last_recovery():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    record.recover(date(2026, 3, 20), today=TODAY)
    with pytest.raises(InvalidValue) as raised:
        record.report_sickness(date(2026, 3, 19), STARTS, None, today=TODAY)
    assert raised.value.field == "first_sick_day"
    record.report_sickness(date(2026, 5, 4), STARTS, None, today=TODAY)
    assert record.sickness_starts == [MONDAY, date(2026, 5, 4)]


def test_a_duty_is_done_once():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    known = duties_for(PLACEMENT, STARTS, None, record.sickness_starts)
    analysis = next(d for d in known if d.kind == "problem_analysis")
    record.complete(analysis, date(2026, 4, 10), today=TODAY)
    assert record.done == {analysis.id: date(2026, 4, 10)}
    with pytest.raises(DutyAlreadyDone):
        record.complete(analysis, date(2026, 4, 11), today=TODAY)
    with pytest.raises(UnknownDuty):
        record.complete(None, date(2026, 4, 11), today=TODAY)
    with pytest.raises(InvalidValue) as raised:
        record.complete(known[0], date(2027, 1, 1), today=TODAY)
    assert raised.value.field == "done_on"


def test_duty_ids_are_stable_and_distinct():
    first = duties_for(PLACEMENT, STARTS, date(2026, 12, 31), [MONDAY])
    again = duties_for(PLACEMENT, STARTS, date(2026, 12, 31), [MONDAY])
    assert [d.id for d in first] == [d.id for d in again]
    assert len({d.id for d in first}) == len(first) == 3 + 24
    other = duties_for(uuid.UUID(int=43), STARTS, date(2026, 12, 31), [MONDAY])
    assert not {d.id for d in first} & {d.id for d in other}


def test_a_reminder_has_one_id_per_duty_and_due_date():
    duty = uuid.uuid4()
    a = Reminder.record(duty, MONDAY, PLACEMENT, "sick_report", TODAY)
    b = Reminder.record(duty, MONDAY, PLACEMENT, "sick_report", TODAY)
    c = Reminder.record(duty, date(2026, 3, 3), PLACEMENT, "sick_report", TODAY)
    assert a.id == b.id != c.id


# -- spells less than 4 weeks apart count as one (art. 7:629 lid 10 BW) ---------------

def test_a_sickness_less_than_four_weeks_after_recovery_continues_the_timeline():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)     # 2 March: day 1
    record.recover(date(2026, 3, 16), today=TODAY)                # sick days 2-15 March: 14
    record.report_sickness(date(2026, 3, 30), STARTS, None, today=TODAY)  # 14 days later
    # Day 1 of the new report is sick day 15: the weeks count from 16 March
    # (2 March moved on by the 14 days in between).
    assert record.timelines == [(MONDAY, MONDAY), (date(2026, 3, 30), date(2026, 3, 16))]
    due = {}
    for d in poortwachter_deadlines(date(2026, 3, 30), date(2026, 3, 16)):
        due.setdefault(d.kind, d.due_on)
    assert due["sick_report"] == date(2026, 3, 30)                # every report is reported
    assert due["company_doctor_informed"] == date(2026, 4, 5)     # within its own first week
    assert due["problem_analysis"] == date(2026, 4, 26)           # week 6 of the timeline: 16 March + 41
    assert due["wage_payment_ends"] == date(2028, 3, 12)          # 27 Feb 2028 + 14 days not sick
    assert due["second_track"] == date(2027, 4, 25)
    # Only the timeline's duties still ahead belong to the new report.
    assert min(d.due_on for d in poortwachter_deadlines(date(2026, 3, 30), date(2026, 3, 16))) == date(2026, 3, 30)
    known = duties_for(PLACEMENT, STARTS, None, record.timelines)
    ends = sorted(d.due_on for d in known if d.kind == "wage_payment_ends")
    assert ends == [date(2028, 2, 27), date(2028, 3, 12)]


def test_a_third_spell_within_four_weeks_continues_the_same_timeline():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    record.recover(date(2026, 3, 16), today=TODAY)
    record.report_sickness(date(2026, 3, 30), STARTS, None, today=TODAY)  # counts from 16 March
    record.recover(date(2026, 4, 6), today=TODAY)
    record.report_sickness(date(2026, 4, 16), STARTS, None, today=TODAY)  # 10 more days apart
    assert record.timelines[-1] == (date(2026, 4, 16), date(2026, 3, 26))
    # 14 + 7 sick days before: 16 April is sick day 22.
    assert (date(2026, 4, 16) - date(2026, 3, 26)).days + 1 == 22


def test_four_weeks_apart_or_more_starts_a_new_timeline():
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    record.recover(date(2026, 3, 16), today=TODAY)
    record.report_sickness(date(2026, 4, 13), STARTS, None, today=TODAY)  # 28 days apart
    assert record.timelines[-1] == (date(2026, 4, 13), date(2026, 4, 13))
    due = {d.kind: d.due_on for d in poortwachter_deadlines(date(2026, 4, 13)) if d.kind != "plan_review"}
    assert due["wage_payment_ends"] == date(2028, 4, 9)
