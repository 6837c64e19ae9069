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
    Schemes,
    duties_for,
    duty_id,
    employed_before,
    job_coach,
    judge_schemes,
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
        "reintegration_report": date(2027, 11, 28),   # week 91: + 636 days, the RIV to the employee
        "wia_application_check": date(2027, 12, 12),  # week 93: + 650 days, the employee applies for WIA
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
    assert due == {"target_group_declaration": last_day}  # no advance no-risk application
    assert placement_deadlines(start, None, lkv=False) == []


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
    assert len({d.id for d in first}) == len(first) == 2 + 25
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


# -- the support schemes: who is covered, and what it asks of the agency ---------------

@pytest.mark.parametrize("group, born, lkv, no_risk", [
    ("doelgroepregister", date(1990, 6, 15), "banenafspraak", "structural"),
    ("wajong", date(1990, 6, 15), "banenafspraak", "structural"),
    ("wia_wao", date(1990, 6, 15), "occupationally_disabled", "five_years"),
    ("participatiewet", date(1970, 2, 1), "older_on_benefit", None),  # 56 on 1 February 2026
    ("participatiewet", date(1970, 2, 2), None, None),                # 55 on 1 February 2026
    ("ww", date(1960, 1, 1), "older_on_benefit", None),
    ("ww", date(1990, 1, 1), None, None),
    ("no_benefit", date(1960, 1, 1), None, None),                    # 56+, but no benefit
    ("bbl", date(2005, 1, 1), None, None),
    ("bol", date(2005, 1, 1), None, None),
    ("vso_pro_mbo1", date(2007, 1, 1), None, None),
    (None, None, None, None),                                         # erased: nothing judged
])
def test_lkv_and_no_risk_by_target_group(group, born, lkv, no_risk):
    schemes = judge_schemes(group, born, STARTS)
    assert (schemes.lkv, schemes.no_risk) == (lkv, no_risk)


def test_the_declaration_is_only_for_the_lkv_groups_within_three_months_of_the_start():
    start = date(2026, 2, 1)
    kinds = lambda schemes: [(d.kind, d.due_on) for d in duties_for(PLACEMENT, start, None, [], schemes)]  # noqa: E731
    assert kinds(judge_schemes("doelgroepregister", date(1990, 1, 1), start)) == [
        ("target_group_declaration", date(2026, 4, 30))]
    assert kinds(judge_schemes("bol", date(2005, 1, 1), start)) == []
    # A placement from before the schemes were judged keeps its declaration.
    assert kinds(None) == [("target_group_declaration", date(2026, 4, 30))]


def test_not_for_someone_the_agency_employed_in_the_six_months_before():
    start = date(2026, 9, 1)  # six months before: 1 March 2026
    assert employed_before(start, [(date(2025, 1, 1), date(2026, 3, 1))])          # ended on 1 March
    assert not employed_before(start, [(date(2025, 1, 1), date(2026, 2, 28))])     # ended the day before
    assert employed_before(start, [(date(2026, 5, 1), None)])                      # still employed
    assert not employed_before(start, [(date(2026, 9, 1), None)])                  # not earlier
    assert not employed_before(start, [])


def test_a_covered_worker_s_sickness_is_reported_to_uwv_within_six_weeks():
    """First sick day Monday 2 March 2026: the no-risk report by 12 April 2026
    (the last day of week 6), as the other week deadlines are counted."""
    covered = judge_schemes("wajong", date(1990, 1, 1), STARTS)
    due = {d.kind: d.due_on for d in duties_for(PLACEMENT, STARTS, None, [MONDAY], covered)}
    assert due["no_risk_report"] == date(2026, 4, 12)
    assert due["reintegration_report"] == date(2027, 11, 28)   # week 91
    assert due["wia_application_check"] == date(2027, 12, 12)  # week 93
    # Not covered (no group, or before the judgement): no no-risk report.
    for schemes in (judge_schemes("ww", date(1990, 1, 1), STARTS), None):
        assert "no_risk_report" not in {d.kind for d in duties_for(PLACEMENT, STARTS, None, [MONDAY], schemes)}


def test_five_years_of_no_risk_cover_from_the_start_of_employment():
    wia = judge_schemes("wia_wao", date(1980, 1, 1), date(2026, 2, 1))
    assert wia.no_risk_until == date(2031, 1, 31)
    assert wia.no_risk_covers(date(2031, 1, 31)) and not wia.no_risk_covers(date(2031, 2, 1))
    late = {d.kind for d in duties_for(PLACEMENT, STARTS, None, [date(2031, 2, 3)], wia)}
    assert "no_risk_report" not in late and "sick_report" in late
    structural = judge_schemes("doelgroepregister", date(1980, 1, 1), date(2026, 2, 1))
    assert structural.no_risk_until is None and structural.no_risk_covers(date(2060, 1, 1))


def test_a_continued_spell_gets_its_own_no_risk_report_within_six_weeks_of_its_first_day():
    covered = Schemes(no_risk="structural")
    due = [d for d in duties_for(PLACEMENT, STARTS, None, [(date(2026, 3, 30), date(2026, 3, 16))], covered)
           if d.kind == "no_risk_report"]
    assert [d.due_on for d in due] == [date(2026, 5, 10)]  # 30 March + 41 days


def test_the_week_91_duty_keeps_the_id_it_had_as_the_wia_application():
    """Stored events name the week-91 duty by the id it had as
    "wia_application": the re-integration report keeps that id."""
    import uuid as _uuid

    from domain.duties import DUTY_NAMESPACE
    riv = next(d for d in duties_for(PLACEMENT, STARTS, None, [MONDAY]) if d.kind == "reintegration_report")
    old = _uuid.uuid5(DUTY_NAMESPACE, f"duty|{PLACEMENT}|wia_application|{MONDAY.isoformat()}|2027-11-28")
    assert riv.id == old
    week_93 = next(d for d in duties_for(PLACEMENT, STARTS, None, [MONDAY]) if d.kind == "wia_application_check")
    assert week_93.id != old and week_93.id == duty_id(PLACEMENT, week_93, MONDAY)


def test_schemes_are_recorded_when_the_duties_record_opens_and_replay():
    record = PlacementDuties.open(PLACEMENT, uuid.UUID(int=7), judge_schemes("wia_wao", date(1980, 1, 1), STARTS),
                                  judged_on=STARTS)
    assert record.schemes == Schemes("occupationally_disabled", "five_years", date(2031, 1, 31))
    assert PlacementDuties.open(PLACEMENT).schemes is None  # opened later, for a placement from before
    with pytest.raises(InvalidValue) as raised:
        PlacementDuties.open(PLACEMENT, uuid.UUID(int=7), Schemes(lkv="everyone"), judged_on=STARTS)
    assert raised.value.field == "lkv"


# -- sick out of service: the employment ends during sickness --------------------------

def test_sick_out_of_service_is_due_on_the_last_day_of_employment():
    """Sick from Monday 2 March 2026, the employment (the placement) ends on
    Tuesday 30 June 2026 while still sick: the ziek-uit-dienst-melding to UWV
    is due on 30 June 2026, part of that sickness."""
    record = a_record()
    record.report_sickness(MONDAY, STARTS, None, today=TODAY)
    last_day = date(2026, 6, 30)
    assert record.sick_on(last_day) == MONDAY
    found = [d for d in duties_for(PLACEMENT, STARTS, None, record.timelines, None, ended_on=last_day,
                                   sick_at_end=record.sick_on(last_day)) if d.kind == "sick_out_of_service"]
    assert [(d.due_on, d.sickness_starts_on) for d in found] == [(date(2026, 6, 30), MONDAY)]
    # At work again on the last day (the recovery day): not sick when it ended.
    record.recover(last_day, today=TODAY)
    assert record.sick_on(last_day) is None and record.sick_on(date(2026, 6, 29)) == MONDAY
    assert record.sick_on(None) is None
