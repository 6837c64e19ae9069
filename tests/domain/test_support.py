"""Support that follows the person: checklist, adjustments, check-ins,
coaching; the employer's support activities; contract owners and targets."""
from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.contract import NO_TARGETS, ContractAlreadyClosed, SocialReturnContract
from domain.employer import TeamSurveyComplete, UnknownTeamSession
from domain.errors import InvalidValue, PlacementAlreadyEnded
from domain.support import (
    AdjustmentAlreadyDecided,
    AdjustmentWithoutFunder,
    ChecklistItemAlreadyDone,
    PlacementSupport,
    UnknownChecklistItem,
    needs_as_items,
)
from tests.domain.builders import a_contract, an_employer, event_names

START = date(2025, 2, 1)
TODAY = date(2025, 6, 1)


def support(needs: str = "- Schriftelijke instructies\n- Een vaste, rustige werkplek\n") -> PlacementSupport:
    return PlacementSupport.open(uuid4(), uuid4(), uuid4(), needs, START)


def test_the_checklist_starts_with_the_standard_items_and_one_item_per_stated_need():
    s = support()
    assert [(i["id"], i["responsible"]) for i in s.items] == [
        ("tools_ready", "employer"), ("team_informed", "employer"), ("contact_person", "employer"),
        ("first_check_in", "agency"), ("need-1", "agency"), ("need-2", "agency")]
    assert all(i["done_on"] is None for i in s.items)
    event = s.pending_events[0]
    assert event_names(s) == ["SupportOpened"]
    assert event.labels == {"need-1": "Schriftelijke instructies", "need-2": "Een vaste, rustige werkplek"}
    # The texts are in the (sealed) event only, never in the state that is copied and cached.
    assert "Schriftelijke" not in repr(vars(s))


def test_the_support_id_follows_from_the_placement():
    placement_id = uuid4()
    s = PlacementSupport.open(placement_id, uuid4(), uuid4(), "", START)
    assert s.id == PlacementSupport.id_for(placement_id)
    assert len(s.items) == 4


def test_a_very_long_statement_stays_one_item():
    text = "\n".join(f"regel {n}" for n in range(30))
    assert needs_as_items(text) == [text[:500]]


def test_ticking_an_item_records_when_and_by_whom_once():
    s = support()
    s.tick("tools_ready", date(2025, 1, 30), "employer", None, today=TODAY)
    assert s.item("tools_ready")["done_on"] == date(2025, 1, 30)
    assert s.item("tools_ready")["done_by"] == "employer"
    with pytest.raises(ChecklistItemAlreadyDone) as err:
        s.tick("tools_ready", TODAY, "agency", None, today=TODAY)
    assert err.value.is_state_conflict


def test_ticking_is_refused_for_unknown_items_future_days_and_ended_placements():
    s = support()
    with pytest.raises(UnknownChecklistItem) as unknown:
        s.tick("nope", TODAY, "agency", None, today=TODAY)
    assert unknown.value.field == "item_id"
    with pytest.raises(InvalidValue) as future:
        s.tick("tools_ready", date(2025, 6, 2), "agency", None, today=TODAY)
    assert future.value.field == "done_on"
    with pytest.raises(PlacementAlreadyEnded):
        s.tick("tools_ready", TODAY, "agency", date(2025, 5, 1), today=TODAY)


def test_items_can_be_added_with_who_acts_on_them():
    s = support("")
    item_id = s.add_item("Toegangspas voor de zijingang", "employer", None)
    assert item_id == "item-5"
    assert s.item(item_id) == {"id": "item-5", "kind": "custom", "responsible": "employer", "done_on": None,
                               "done_by": None}
    with pytest.raises(InvalidValue) as err:
        s.add_item("  ", "employer", None)
    assert err.value.field == "label"
    with pytest.raises(InvalidValue) as err:
        s.add_item("Iets", "the cat", None)
    assert err.value.field == "responsible"


def test_an_adjustment_is_requested_funded_and_delivered_once():
    s = support()
    adj = s.request_adjustment("tool", "Brailleleesregel", date(2025, 2, 3), None, None, today=TODAY)
    with pytest.raises(AdjustmentWithoutFunder) as no_funder:
        s.deliver(adj, date(2025, 3, 1), today=TODAY)
    assert no_funder.value.is_state_conflict
    s.set_funder(adj, "uwv")
    with pytest.raises(InvalidValue) as early:
        s.deliver(adj, date(2025, 2, 2), today=TODAY)
    assert early.value.field == "delivered_on"
    s.deliver(adj, date(2025, 3, 1), today=TODAY)
    assert s.adjustment(adj) == {"kind": "tool", "requested_on": date(2025, 2, 3), "funder": "uwv",
                                 "status": "delivered", "decided_on": date(2025, 3, 1)}
    with pytest.raises(AdjustmentAlreadyDecided):
        s.deliver(adj, date(2025, 3, 2), today=TODAY)
    with pytest.raises(AdjustmentAlreadyDecided):
        s.refuse(adj, "not_needed", date(2025, 3, 2), today=TODAY)
    assert event_names(s)[-3:] == ["AdjustmentRequested", "AdjustmentFunderSet", "AdjustmentDelivered"]


def test_an_adjustment_can_be_refused_with_a_reason_from_the_list_only():
    s = support()
    adj = s.request_adjustment("workplace", "Zit-sta bureau", date(2025, 2, 3), "employer", None, today=TODAY)
    with pytest.raises(InvalidValue) as err:
        s.refuse(adj, "because of the back problem", date(2025, 3, 1), today=TODAY)
    assert err.value.field == "reason"
    s.refuse(adj, "not_funded", date(2025, 3, 1), today=TODAY)
    assert s.adjustment(adj)["status"] == "refused"


@pytest.mark.parametrize("field,kwargs", [
    ("kind", {"kind": "spaceship"}),
    ("description", {"description": ""}),
    ("funder", {"funder": "gemeente"}),
    ("requested_on", {"requested_on": date(2025, 7, 1)}),
])
def test_an_adjustment_request_names_the_bad_field(field, kwargs):
    args = {"kind": "tool", "description": "Koptelefoon", "requested_on": date(2025, 2, 3), "funder": None,
            **kwargs}
    with pytest.raises(InvalidValue) as err:
        support().request_adjustment(placement_ended_on=None, today=TODAY, **args)
    assert err.value.field == field


def test_check_ins_and_coaching_are_logged_within_the_placement_also_after_its_end():
    s = support()
    s.log_check_in(date(2025, 2, 14), "employee_and_employer", "Gaat goed", START, None, today=TODAY)
    s.log_check_in(date(2025, 2, 7), "employee", "", START, None, today=TODAY)
    assert (s.check_ins, s.last_check_in_on) == (2, date(2025, 2, 14))
    s.log_coaching(date(2025, 4, 30), Decimal("1.5"), "employee", "Planning geoefend", START, date(2025, 5, 1),
                   today=TODAY)
    assert s.coaching_sessions == 1
    with pytest.raises(InvalidValue) as after_end:
        s.log_check_in(date(2025, 5, 2), "employee", "", START, date(2025, 5, 1), today=TODAY)
    assert after_end.value.field == "held_on"
    with pytest.raises(InvalidValue) as before_start:
        s.log_coaching(date(2025, 1, 31), Decimal("1"), "employee", "", START, None, today=TODAY)
    assert before_start.value.field == "held_on"
    with pytest.raises(InvalidValue) as hours:
        s.log_coaching(date(2025, 3, 1), Decimal("13"), "employee", "", START, None, today=TODAY)
    assert hours.value.field == "hours"


def test_the_cheap_copy_of_a_busy_support_record_equals_a_deep_copy():
    s = support()
    s.tick("tools_ready", date(2025, 2, 1), "employer", None, today=TODAY)
    adj = s.request_adjustment("tool", "Koptelefoon", date(2025, 2, 3), None, None, today=TODAY)
    s.set_funder(adj, "agency")
    s.log_check_in(date(2025, 2, 14), "employee", "", START, None, today=TODAY)
    clone = PlacementSupport.__deepcopy__(s, {})
    assert vars(clone) == vars(copy.deepcopy(s))
    clone.deliver(adj, date(2025, 3, 1), today=TODAY)
    clone.tick("team_informed", date(2025, 3, 1), "agency", None, today=TODAY)
    assert s.adjustment(adj)["status"] == "requested"
    assert s.item("team_informed")["done_on"] is None


# -- the employer's side -----------------------------------------------------------------

def test_an_employer_logs_support_activities_without_personal_data():
    e = an_employer()
    first = e.log_support_activity("workshop", "inclusive_leadership", date(2025, 3, 4), 12, "agency",
                                   "Samenwerken met een dove collega", today=TODAY)
    second = e.log_support_activity("advice", "workplace_adjustments", date(2025, 3, 5), 1, "job_coach",
                                    today=TODAY)
    assert (first, second) == ("activity-1", "activity-2")
    assert e.support_activities == 2
    assert event_names(e)[-1] == "SupportActivityLogged"


@pytest.mark.parametrize("field,kwargs", [
    ("kind", {"kind": "party"}), ("topic", {"topic": "golf"}), ("participants", {"participants": 0}),
    ("participants", {"participants": True}), ("given_by", {"given_by": "Jan"}),
    ("held_on", {"held_on": date(2025, 6, 2)}),
])
def test_a_support_activity_names_the_bad_field(field, kwargs):
    args = {"kind": "training", "topic": "accessibility", "held_on": date(2025, 3, 4), "participants": 5,
            "given_by": "external", **kwargs}
    with pytest.raises(InvalidValue) as err:
        an_employer().log_support_activity(today=TODAY, **args)
    assert err.value.field == field


def test_a_contract_names_its_owners_and_sets_targets_beyond_euros():
    k = a_contract()
    assert k.owners == {} and k.targets == NO_TARGETS
    k.name_owner("employer", "Marieke de Vries", "m.devries@example.nl")
    k.name_owner("agency", "Youssef El Amrani", "youssef@agency.example")
    k.name_owner("agency", "Youssef El Amrani", "youssef@agency.example")  # unchanged: no event
    k.set_targets(8, Decimal("70"))
    k.set_targets(8, Decimal("70"))
    assert k.owners["employer"] == {"name": "Marieke de Vries", "email": "m.devries@example.nl"}
    assert k.targets == {**NO_TARGETS, "placements": 8, "retention_12m_percent": Decimal("70")}
    names = event_names(k)
    assert names.count("ContractOwnerNamed") == 2
    assert names.count("ContractTargetsSet") == 1
    # Changing a target is an event too, and None clears it.
    k.set_targets(None, Decimal("75"))
    assert k.targets == {**NO_TARGETS, "retention_12m_percent": Decimal("75")}
    # Issue 16's kinds beside them; set together, one left out is cleared.
    k.set_targets(8, None, permanent_percent=Decimal("40"), adjustments_30d_percent="90",
                  satisfaction_min=Decimal("4"))
    assert k.targets == {"placements": 8, "retention_12m_percent": None, "permanent_percent": Decimal("40"),
                         "adjustments_30d_percent": Decimal("90"), "satisfaction_min": Decimal("4")}


def test_targets_set_before_issue_16_are_upcast_with_none_of_its_kinds():
    """A version 1 ContractTargetsSet (two fields) is read as version 2 with no new target."""
    state = {"placements": 8, "retention_12m_percent": Decimal("70")}
    SocialReturnContract.ContractTargetsSet.upcast_v1_v2(state)
    assert state == {"placements": 8, "retention_12m_percent": Decimal("70"), "permanent_percent": None,
                     "adjustments_30d_percent": None, "satisfaction_min": None}
    assert SocialReturnContract.ContractTargetsSet.class_version == 2


@pytest.mark.parametrize("field,call", [
    ("side", lambda k: k.name_owner("authority", "A", "a@b.nl")),
    ("email", lambda k: k.name_owner("employer", "A", "not-an-address")),
    ("name", lambda k: k.name_owner("employer", "", "a@b.nl")),
    ("target_placements", lambda k: k.set_targets(0, None)),
    ("target_retention_12m_percent", lambda k: k.set_targets(None, Decimal("101"))),
    ("target_permanent_percent", lambda k: k.set_targets(None, None, permanent_percent=Decimal("0"))),
    ("target_adjustments_30d_percent", lambda k: k.set_targets(None, None, adjustments_30d_percent="ninety")),
    ("target_satisfaction_min", lambda k: k.set_targets(None, None, satisfaction_min=Decimal("5.5"))),
    ("target_satisfaction_min", lambda k: k.set_targets(None, None, satisfaction_min=Decimal("0.9"))),
])
def test_owners_and_targets_name_the_bad_field(field, call):
    with pytest.raises(InvalidValue) as err:
        call(a_contract())
    assert err.value.field == field


def test_a_closed_contract_refuses_new_owners_and_targets():
    k = a_contract()
    k.close(date(2025, 5, 1))
    with pytest.raises(ContractAlreadyClosed):
        k.set_targets(5, None)
    with pytest.raises(ContractAlreadyClosed):
        k.name_owner("employer", "A", "a@b.nl")


# -- team sessions and the managers' survey (issue 16) ----------------------------------

def test_a_team_session_takes_one_anonymous_answer_per_manager():
    e = an_employer()
    session = e.hold_team_session("team_session", date(2025, 3, 4), 2, today=TODAY)
    assert session == "session-1"
    e.answer_team_survey(session, 4, 3, "yes")
    e.answer_team_survey(session, 2, 5, "unsure")
    with pytest.raises(TeamSurveyComplete):
        e.answer_team_survey(session, 3, 3, "no")
    assert e.team_sessions[session]["answers"] == 2
    assert event_names(e)[-3:] == ["TeamSessionHeld", "TeamSurveyAnswered", "TeamSurveyAnswered"]
    with pytest.raises(UnknownTeamSession):
        e.answer_team_survey("session-9", 3, 3, "no")


@pytest.mark.parametrize("field,call", [
    ("kind", lambda e: e.hold_team_session("party", date(2025, 3, 4), 3, today=TODAY)),
    ("held_on", lambda e: e.hold_team_session("workshop", date(2099, 3, 4), 3, today=TODAY)),
    ("managers", lambda e: e.hold_team_session("workshop", date(2025, 3, 4), 0, today=TODAY)),
    ("managers", lambda e: e.hold_team_session("workshop", date(2025, 3, 4), True, today=TODAY)),
    ("knowledge", lambda e: e.answer_team_survey(e.hold_team_session("workshop", date(2025, 3, 4), 3, today=TODAY),
                                                 6, 3, "yes")),
    ("confidence", lambda e: e.answer_team_survey(e.hold_team_session("workshop", date(2025, 3, 4), 3, today=TODAY),
                                                  3, 0, "yes")),
    ("would_hire_again", lambda e: e.answer_team_survey(
        e.hold_team_session("workshop", date(2025, 3, 4), 3, today=TODAY), 3, 3, "maybe")),
])
def test_team_sessions_and_answers_name_the_bad_field(field, call):
    with pytest.raises(InvalidValue) as err:
        call(an_employer())
    assert err.value.field == field
