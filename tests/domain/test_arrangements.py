"""Arrangements: a work-experience place, an internship, a trial placement and
a BBL place (new or existing) are valued by the rule set's own block for them
(``arrangements.<kind>.value_eur``) instead of the person's target-group
block, pro rata by hours and days exactly like a block, without bonuses.

Figures by hand from the version 2 seed files (domain/rulesets/*.v2.json):
Harlingen work-experience place 7,500, BBL new 15,000, BBL existing 10,000,
internship 2,500, trial null; Utrecht BBL new and existing 35,000, internship
20,000, work-experience place and trial null. Basis 36 hours a week, 365
days a year. Contracts run 2025-01-01..2027-12-31, awarded 2024-11-15.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest
from eventsourcing.persistence import Mapper

from domain.errors import UnknownArrangement
from domain.explanation import ARRANGEMENT_NOT_COUNTED, NOT_ELIGIBLE, ZERO_CODES, explain_placement
from domain.valuation import RuleSetDataError, block_value, parse_rule_set, placement_value
from infra.eventstore import make_transcoder
from tests.domain.builders import a_placement
from tests.domain.test_replay import rebuild
from tests.domain.test_valuation import AGED_40, AWARDED, HARLINGEN, TERM, YEAR_2025, hours, value

AGED_55 = date(1969, 3, 1)  # 55 on the award date 2024-11-15


def v2_body(name: str) -> dict:
    return json.loads(resources.files("domain.rulesets").joinpath(f"{name}.v2.json").read_text("utf-8"))


HARLINGEN_V2 = parse_rule_set(v2_body("harlingen-2024"))
UTRECHT_V2 = parse_rule_set(v2_body("utrecht-2024"))


def person(rule_set, arrangement, target_group="participatiewet", *, benefit_since=None,
           date_of_birth=AGED_40, status_holder=False, permanent_contract=False):
    return block_value(rule_set, target_group, benefit_since, date_of_birth, status_holder,
                       permanent_contract, AWARDED, arrangement=arrangement)


# The seeds


def test_the_v2_seeds_carry_the_arrangement_blocks_and_v1_none():
    assert dict(HARLINGEN_V2.arrangements) == {
        "work_experience": Decimal("7500"), "internship": Decimal("2500"), "trial": None,
        "bbl_new": Decimal("15000"), "bbl_existing": Decimal("10000")}
    assert dict(UTRECHT_V2.arrangements) == {
        "work_experience": None, "internship": Decimal("20000"), "trial": None,
        "bbl_new": Decimal("35000"), "bbl_existing": Decimal("35000")}
    assert HARLINGEN_V2.version == UTRECHT_V2.version == 2
    # Version 1 (what every existing contract was valued by) has no arrangements.
    assert HARLINGEN.arrangements is None
    assert "arrangements" not in json.loads(
        resources.files("domain.rulesets").joinpath("harlingen-2024.json").read_text("utf-8"))


# Valuing an arrangement


def test_a_work_experience_place_at_24_hours_for_half_a_year_in_harlingen():
    # Work-experience place 7,500 a year (not participatiewet's 35,000), no bonuses.
    # 24 h of 36, 2025-01-01..2025-07-01 = 31+28+31+30+31+30+1 = 182 days:
    # 7,500 x 24/36 x 182/365 = 5,000 x 182/365 = 910,000/365 = 182,000/73
    # = 2,493.150684931506849315... -> 2,493.150684931506 (12 decimals, truncated).
    wep = person(HARLINGEN_V2, "work_experience")
    assert (wep.block_eur, wep.bonus_eur, wep.eligible) == (Decimal("7500"), Decimal(0), True)
    assert wep.reason == ("participatiewet in harlingen-2024, 0 months on benefit on 2024-11-15 "
                          "(benefit_since unknown or later: counted as 0) (at least 0 months); "
                          "work-experience place in harlingen-2024: 7500, no bonuses")
    worth = value(HARLINGEN_V2, wep, hours(("2025-01-01", 24)), ended_on=date(2025, 7, 1))
    assert worth == Decimal("2493.150684931506")
    assert f"{worth:.2f}" == "2493.15"


def test_bbl_new_and_existing_differ_in_harlingen_and_not_in_utrecht():
    # A full-time year (2025, 365 days) is one block: Harlingen new 15,000, existing 10,000;
    # Utrecht's one BBL block 35,000 for both.
    full_year = hours(("2025-01-01", 36))
    assert value(HARLINGEN_V2, person(HARLINGEN_V2, "bbl_new", "bbl"), full_year) == Decimal("15000")
    assert value(HARLINGEN_V2, person(HARLINGEN_V2, "bbl_existing", "bbl"), full_year) == Decimal("10000")
    assert value(UTRECHT_V2, person(UTRECHT_V2, "bbl_new", "bbl"), full_year) == Decimal("35000")
    assert value(UTRECHT_V2, person(UTRECHT_V2, "bbl_existing", "bbl"), full_year) == Decimal("35000")
    # 18 h of 36 over the year: half of each. Harlingen 7,500 and 5,000.
    half = hours(("2025-01-01", 18))
    assert value(HARLINGEN_V2, person(HARLINGEN_V2, "bbl_new", "bbl"), half) == Decimal("7500")
    assert value(HARLINGEN_V2, person(HARLINGEN_V2, "bbl_existing", "bbl"), half) == Decimal("5000")


def test_an_internship_counts_the_lower_bound_in_harlingen_and_the_bol_block_in_utrecht():
    # A full-time year: Harlingen 2,500 (of 2,500-5,000), Utrecht 20,000 (BOL trainee).
    full_year = hours(("2025-01-01", 36))
    assert value(HARLINGEN_V2, person(HARLINGEN_V2, "internship", "bol"), full_year) == Decimal("2500")
    assert value(UTRECHT_V2, person(UTRECHT_V2, "internship", "bol"), full_year) == Decimal("20000")


def test_no_bonuses_on_an_arrangement_though_employment_has_them():
    # Aged 55 on the award date, status holder, permanent contract; Utrecht participatiewet.
    # Employment: 40,000 + 10,000 (50+) + 10,000 + 10,000 = 70,000. An internship: 20,000, no bonuses.
    kw = dict(date_of_birth=AGED_55, status_holder=True, permanent_contract=True)
    employed = person(UTRECHT_V2, "employment", **kw)
    intern = person(UTRECHT_V2, "internship", **kw)
    assert employed.total_eur == Decimal("70000")
    assert (intern.block_eur, intern.bonus_eur, intern.total_eur) == (Decimal("20000"), 0, Decimal("20000"))
    # Harlingen, aged 55: a work-experience place is 7,500, not 7,500 + 7,500.
    assert person(HARLINGEN_V2, "work_experience", date_of_birth=AGED_55).total_eur == Decimal("7500")


def test_employment_is_the_default_and_unchanged():
    # Harlingen participatiewet under 2 years on benefit: 35,000, employment or unsaid.
    said = person(HARLINGEN_V2, "employment")
    unsaid = block_value(HARLINGEN_V2, "participatiewet", None, AGED_40, False, False, AWARDED)
    assert said == unsaid
    assert said.total_eur == Decimal("35000")
    assert said.reason.endswith(": 35000")


def test_harlingens_minimum_hours_apply_to_an_arrangement_too():
    # 10 h a week, below Harlingen's 12: counts 0; 12 h counts 7,500 x 12/36 = 2,500 a year.
    wep = person(HARLINGEN_V2, "work_experience")
    assert value(HARLINGEN_V2, wep, hours(("2025-01-01", 10))) == 0
    assert value(HARLINGEN_V2, wep, hours(("2025-01-01", 12))) == Decimal("2500")


# What does not count


def test_a_trial_placement_counts_0_with_the_reason():
    trial = person(HARLINGEN_V2, "trial")
    assert (trial.total_eur, trial.eligible) == (0, False)
    assert trial.reason == "trial placements do not count in harlingen-2024"
    assert value(HARLINGEN_V2, trial, hours(("2025-01-01", 36))) == 0
    # Utrecht's table has no work-experience place either (null in its v2).
    wep = person(UTRECHT_V2, "work_experience")
    assert (wep.total_eur, wep.reason) == (0, "work-experience places do not count in utrecht-2024")


def test_a_v1_contract_values_a_non_employment_arrangement_at_0_not_in_rule_set():
    # Version 1 has no arrangements key: only employment counts under it.
    wep = person(HARLINGEN, "work_experience")
    assert (wep.total_eur, wep.eligible) == (0, False)
    assert wep.reason == "work-experience places are not in rule set harlingen-2024 v1"
    assert value(HARLINGEN, wep, hours(("2025-01-01", 24)), ended_on=date(2025, 7, 1)) == 0
    # Employment under v1 is as it always was: participatiewet 35,000.
    assert person(HARLINGEN, "employment").total_eur == Decimal("35000")


def test_an_arrangement_absent_from_a_rule_sets_map_is_not_in_it():
    body = v2_body("harlingen-2024")
    del body["arrangements"]["internship"]
    intern = person(parse_rule_set(body), "internship", "bol")
    assert intern.reason == "internships are not in rule set harlingen-2024 v2"
    assert intern.total_eur == 0


def test_an_arrangement_still_needs_a_target_group_person():
    # Harlingen has no block for vso_pro_mbo1: a BBL place for such a pupil does not count there.
    pupil = person(HARLINGEN_V2, "bbl_new", "vso_pro_mbo1")
    assert (pupil.eligible, pupil.total_eur) == (False, 0)
    assert pupil.reason == "vso_pro_mbo1 is not a target group in harlingen-2024"
    # WW needs at least 3 months on benefit in Harlingen; 2 months (2024-09-10..2024-11-15) is too short.
    short = person(HARLINGEN_V2, "work_experience", "ww", benefit_since=date(2024, 9, 10))
    assert (short.eligible, short.total_eur) == (False, 0)
    assert short.reason.startswith("ww in harlingen-2024 needs at least 3 months on benefit; 2 months")
    # 4 months on WW (since 2024-07-01): eligible, the place's 7,500 (not WW's 15,000).
    assert person(HARLINGEN_V2, "work_experience", "ww", benefit_since=date(2024, 7, 1)).total_eur == 7500


def test_the_cap_follows_the_persons_target_group():
    # Harlingen caps participatiewet, not the doelgroepregister; a work-experience place keeps that.
    assert person(HARLINGEN_V2, "work_experience").capped is True
    assert person(HARLINGEN_V2, "work_experience", "doelgroepregister").capped is False


# Bad input


def test_an_unknown_arrangement_names_the_field():
    with pytest.raises(UnknownArrangement) as raised:
        person(HARLINGEN_V2, "volunteering")
    assert raised.value.field == "arrangement"
    with pytest.raises(UnknownArrangement) as raised:
        a_placement(arrangement="volunteering")
    assert raised.value.field == "arrangement"


@pytest.mark.parametrize("arrangements, words", [
    ({"employment": {"value_eur": "1"}}, "keyed by arrangements"),
    ({"volunteering": {"value_eur": "1"}}, "keyed by arrangements"),
    ({"internship": {"value_eur": 2500}}, "decimal string"),
    ({"internship": "2500"}, "{value_eur} or null"),
    ({"internship": {"value_eur": "-1"}}, "at least 0"),
    (["internship"], "keyed by arrangements"),
])
def test_a_malformed_arrangements_key_is_refused(arrangements, words):
    body = {**v2_body("harlingen-2024"), "arrangements": arrangements}
    with pytest.raises(RuleSetDataError, match="arrangements") as raised:
        parse_rule_set(body)
    assert words in str(raised.value)


# The placement


def test_a_placement_keeps_its_arrangement_and_defaults_to_employment():
    assert a_placement(arrangement="bbl_existing").arrangement == "bbl_existing"
    assert a_placement().arrangement == "employment"


def test_a_placement_started_before_arrangements_existed_reads_as_employment():
    # The stored PlacementStarted of old has no `arrangement`: it replays as employment.
    mapper = Mapper(transcoder=make_transcoder())
    placement = a_placement(arrangement="work_experience")
    (started,) = placement.collect_events()
    stored = mapper.to_stored_event(started)
    state = json.loads(stored.state)
    assert state["arrangement"] == "work_experience"
    del state["arrangement"]
    old = type(stored)(originator_id=stored.originator_id, originator_version=stored.originator_version,
                       topic=stored.topic, state=json.dumps(state).encode())
    assert rebuild([mapper.to_domain_event(old)]).arrangement == "employment"
    assert rebuild([mapper.to_domain_event(stored)]).arrangement == "work_experience"


# The explanation


def explain(rule_set, block, history, arrangement, ended_on=None):
    return explain_placement(
        rule_set, valued=True, block=block, judged_on=AWARDED, permanent_contract=False,
        hours_history=history, starts_on=history[0]["effective_on"], ended_on=ended_on,
        term_start=TERM[0], term_end=TERM[1], period_start=None, period_end=YEAR_2025[1],
        arrangement=arrangement).as_dict()


def test_the_explanation_names_the_arrangement_and_agrees_with_the_value():
    wep = person(HARLINGEN_V2, "work_experience")
    history = hours(("2025-01-01", 24))
    x = explain(HARLINGEN_V2, wep, history, "work_experience", ended_on=date(2025, 7, 1))
    assert x["arrangement"] == "work_experience"
    assert x["block"] == {"eur_per_year": "7500"} and x["bonuses"] == []
    # 7,500 x 24/36 x 182/365, as above.
    assert x["value_eur"] == "2493.150684931506"
    assert Decimal(x["value_eur"]) == placement_value(HARLINGEN_V2, wep, history, date(2025, 1, 1),
                                                      date(2025, 7, 1), *TERM, *YEAR_2025)
    assert x["zero_code"] is None


def test_a_trial_placement_explains_its_0_by_its_arrangement():
    assert ARRANGEMENT_NOT_COUNTED in ZERO_CODES
    x = explain(HARLINGEN_V2, person(HARLINGEN_V2, "trial"), hours(("2025-01-01", 36)), "trial")
    assert (x["value_eur"], x["zero_code"], x["arrangement"]) == ("0", ARRANGEMENT_NOT_COUNTED, "trial")
    # A counted arrangement for a person who is not eligible is not eligible, not "not counted".
    pupil = person(HARLINGEN_V2, "bbl_new", "vso_pro_mbo1")
    assert explain(HARLINGEN_V2, pupil, hours(("2025-01-01", 36)), "bbl_new")["zero_code"] == NOT_ELIGIBLE
