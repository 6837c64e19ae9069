"""Pure scoring: explainable points on competences, hours, region and availability."""
from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.candidate import Candidate
from domain.errors import CandidateAlreadyErased, InvalidHoursPerWeek, InvalidValue
from domain.matching import MatchProfile, VacancyNeeds, normalise, rank, score

START = date(2026, 3, 1)


def profile(competences=("Administratie", "Excel"), hours="24", available_from=date(2026, 2, 1),
            region="Utrecht", ident=None) -> MatchProfile:
    return MatchProfile(id=ident or uuid.uuid4(), competences=tuple(competences),
                        hours_per_week=None if hours is None else Decimal(hours),
                        available_from=available_from, region=region)


def needs(required=("Administratie",), optional=("Excel",), hours="24", region="Utrecht",
          starts_on=START) -> VacancyNeeds:
    return VacancyNeeds(required_competences=tuple(required), optional_competences=tuple(optional),
                        hours_per_week=Decimal(hours), region=region, starts_on=starts_on)


def test_match_profile_holds_no_special_category_or_protected_field():
    fields = {f.name for f in dataclasses.fields(MatchProfile)}
    assert fields == {"id", "competences", "hours_per_week", "available_from", "region"}
    forbidden = ("target", "group", "disab", "health", "support", "need", "benefit", "birth", "age",
                 "status", "qualif", "diagnos", "limitation")
    for name in fields:
        assert not any(word in name for word in forbidden), name


def test_a_perfect_fit_scores_100_and_says_why():
    s = score(needs(), profile())
    assert s.score == 100
    assert s.reasons == ["all 1 required competences", "1 of 1 optional competences: Excel",
                         "hours fit: 24 of 24", "same region: Utrecht", "available from 2026-02-01"]


def test_a_missing_required_competence_is_named_in_the_vacancy_spelling():
    vacancy = needs(required=("Excel", "Word", "Outlook", "Administratie", "SQL"), optional=())
    candidate = profile(competences=("excel", "WORD", "outlook", "administratie", "Boekhouden"))
    s = score(vacancy, candidate)
    assert s.reasons[0] == "4 of 5 required competences; missing: SQL"
    # 60 x 4/5 + 10 (no optional asked) + 15 + 10 + 5
    assert s.score == 88


def test_competences_and_regions_compare_case_and_spacing_insensitively():
    s = score(needs(required=("Data  Analyse",), optional=(), region="utrecht"),
              profile(competences=("data analyse",), region=" UTRECHT "))
    assert s.score == 100
    assert "same region:  UTRECHT " in s.reasons  # shown as the candidate gave it
    assert normalise("  Den   Haag ") == "den haag"


def test_part_of_the_hours_counts_pro_rata():
    s = score(needs(hours="24"), profile(hours="16"))
    assert "hours fit: 16 of 24" in s.reasons
    assert s.score == 95  # 60 + 10 + 15 x 16/24 + 10 + 5


def test_more_hours_than_asked_count_as_a_full_fit():
    s = score(needs(hours="24"), profile(hours="36"))
    assert "hours fit: 24 of 24" in s.reasons
    assert s.score == 100


def test_other_region_and_late_availability_cost_points_and_say_so():
    s = score(needs(), profile(region="Amsterdam", available_from=date(2026, 4, 1)))
    assert "other region: Amsterdam (asked: Utrecht)" in s.reasons
    assert "available from 2026-04-01, after the start on 2026-03-01" in s.reasons
    assert s.score == 85


def test_unstated_availability_scores_no_hours_region_or_date():
    s = score(needs(), profile(hours=None, region=None, available_from=None))
    assert {"hours: not stated", "region: not stated", "availability: not stated"} <= set(s.reasons)
    assert s.score == 70


def test_without_an_asked_region_everyone_gets_the_region_points():
    s = score(needs(region=None), profile(region="Groningen"))
    assert "region: not asked" in s.reasons
    assert s.score == 100


def test_rounding_is_half_up():
    # 60 x 1/8 = 7.5, + 10 optional (none asked) + 0 + 0 + 0 -> 17.5 -> 18
    vacancy = needs(required=[f"c{i}" for i in range(8)], optional=(), region="Utrecht")
    s = score(vacancy, profile(competences=("c0",), hours=None, region=None, available_from=None))
    assert s.score == 18


def test_ranking_puts_the_better_fit_first_and_is_stable_on_ties():
    a, b, c = (uuid.UUID(int=i) for i in (1, 2, 3))
    vacancy = needs(required=("Administratie", "Excel"), optional=())
    ranked = rank(vacancy, [
        profile(("Administratie",), ident=a),             # 1 of 2
        profile(("Administratie", "Excel"), ident=c),     # 2 of 2
        profile(("Administratie", "Excel"), ident=b),     # 2 of 2, smaller id
    ], limit=2)
    assert [s.candidate_id for s in ranked] == [b, c]


def test_ranking_uses_the_exact_points_not_the_rounded_score():
    hi, lo = uuid.UUID(int=9), uuid.UUID(int=1)
    vacancy = needs(required=(), optional=(), hours="36", region=None, starts_on=None)
    # 85 + 15 x 35/36 = 99.58 and 85 + 15 x 34.9/36 = 99.54: both round to 100
    ranked = rank(vacancy, [profile(hours="34.9", ident=lo), profile(hours="35", ident=hi)], limit=2)
    assert [s.score for s in ranked] == [100, 100]
    assert [s.candidate_id for s in ranked] == [hi, lo]


words = st.text(alphabet="abcdefghij", min_size=1, max_size=3)


@settings(max_examples=200)
@given(required=st.lists(words, max_size=6, unique=True), optional=st.lists(words, max_size=4, unique=True),
       has=st.lists(words, max_size=8), hours=st.integers(1, 60), free=st.none() | st.integers(0, 60),
       region=st.none() | st.sampled_from(["Utrecht", "Zwolle"]),
       cand_region=st.none() | st.sampled_from(["Utrecht", "Zwolle"]))
def test_scores_stay_between_0_and_100(required, optional, has, hours, free, region, cand_region):
    s = score(needs(required=required, optional=optional, hours=str(hours), region=region),
              profile(competences=has, hours=None if free is None else str(free), region=cand_region))
    assert 0 <= s.score <= 100
    assert 0 <= s.points <= 100


# -- the candidate states their availability -------------------------------------
def a_candidate() -> Candidate:
    return Candidate.register(full_name="Sanne Jansen", date_of_birth=date(1990, 6, 15),
                              target_group="doelgroepregister", competences=["Administratie"],
                              support_needs="")


def test_a_candidate_states_availability():
    candidate = a_candidate()
    candidate.state_availability(Decimal("24"), date(2026, 3, 1), "Utrecht")
    assert (candidate.hours_available, candidate.available_from, candidate.region) == (
        Decimal("24"), date(2026, 3, 1), "Utrecht")
    assert type(candidate.collect_events()[-1]).__name__ == "AvailabilityStated"


@pytest.mark.parametrize("hours, on, region, error, field", [
    (Decimal("0"), date(2026, 3, 1), "Utrecht", InvalidHoursPerWeek, "hours_per_week"),
    (Decimal("24"), "2026-03-01", "Utrecht", InvalidValue, "available_from"),
    (Decimal("24"), date(2026, 3, 1), "  ", InvalidValue, "region"),
])
def test_bad_availability_names_the_field(hours, on, region, error, field):
    with pytest.raises(error) as raised:
        a_candidate().state_availability(hours, on, region)
    assert raised.value.field == field


def test_an_erased_candidate_states_nothing():
    candidate = a_candidate()
    candidate.erase(date(2026, 1, 1))
    with pytest.raises(CandidateAlreadyErased):
        candidate.state_availability(Decimal("24"), date(2026, 3, 1), "Utrecht")


# -- the search tiers (projections/matching.py) -------------------------------------
def test_tiers_widen_by_what_a_candidate_lacks():
    from fractions import Fraction

    from projections.matching import region_key, tiers

    region = region_key("Utrecht")
    got = list(tiers(needs(required=("A", "B"), optional=(), region="Utrecht")))
    # Items: a and b (30 points each), the region (10).
    assert got[0] == ([["a", "b", region]], Fraction(90))
    assert got[1] == ([["a", "b"]], Fraction(70))
    assert sorted(got[2][0]) == sorted([["b", region], ["a", region], ["a", "b"]]) and got[2][1] == 60
    # Without a region or competences there is nothing to narrow on.
    assert list(tiers(needs(required=(), optional=(), region=None))) == []
