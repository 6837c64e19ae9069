from datetime import date

import pytest

from domain import Candidate, InvalidValue, UnknownTargetGroup
from domain.values import PERSONAL_DATA, SPECIAL_CATEGORY
from tests.domain.builders import TODAY, a_candidate, candidate_details, event_names


def test_a_candidate_is_registered_with_competences_and_own_support_needs():
    candidate = a_candidate(competences=[" Excel", "excel", "Plannen"])
    assert candidate.full_name == "Sanne Jansen"
    assert candidate.competences == ["Excel", "Plannen"]
    assert candidate.support_needs == "Schriftelijke instructies, een vaste werkplek."
    assert candidate.status_holder is False
    assert event_names(candidate) == ["CandidateRegistered"]


def test_a_candidate_may_state_no_support_needs():
    assert a_candidate(support_needs="").support_needs == ""


def test_support_needs_are_at_most_4000_characters():
    with pytest.raises(InvalidValue) as err:
        a_candidate(support_needs="x" * 4001)
    assert err.value.field == "support_needs"


def test_a_candidate_belongs_to_a_known_target_group():
    with pytest.raises(UnknownTargetGroup) as err:
        a_candidate(target_group="arbeidsongeschikt")
    assert err.value.field == "target_group"


@pytest.mark.parametrize(
    "born, ok",
    [
        (date(2010, 3, 1), True),  # 15 today
        (date(2010, 3, 2), False),  # 15 tomorrow
        (date(1944, 3, 2), True),  # 80, turns 81 tomorrow
        (date(1944, 3, 1), False),  # 81 today
    ],
)
def test_a_candidate_is_between_15_and_80_years_old(born, ok):
    if ok:
        assert a_candidate(date_of_birth=born, benefit_since=None).date_of_birth == born
    else:
        with pytest.raises(InvalidValue) as err:
            a_candidate(date_of_birth=born, benefit_since=None)
        assert err.value.field == "date_of_birth"


@pytest.mark.parametrize("since", [date(1990, 6, 14), date(2025, 3, 2)])
def test_a_benefit_starts_between_birth_and_today(since):
    with pytest.raises(InvalidValue) as err:
        a_candidate(date_of_birth=date(1990, 6, 15), benefit_since=since)
    assert err.value.field == "benefit_since"


def test_a_benefit_may_start_today():
    assert a_candidate(benefit_since=TODAY).benefit_since == TODAY


def test_the_age_check_uses_the_real_date_by_default():
    details = candidate_details(date_of_birth=date(1900, 1, 1), benefit_since=None)
    del details["today"]
    with pytest.raises(InvalidValue):
        Candidate.register(**details)


def test_status_holder_is_a_yes_or_no():
    with pytest.raises(InvalidValue) as err:
        a_candidate(status_holder="yes")
    assert err.value.field == "status_holder"


def test_competences_can_be_updated():
    candidate = a_candidate()
    candidate.update_competences(["Heftruck", " Lassen "])
    assert candidate.competences == ["Heftruck", "Lassen"]
    assert event_names(candidate)[-1] == "CompetencesUpdated"


def test_a_candidate_states_support_needs_in_their_own_words():
    candidate = a_candidate()
    candidate.state_support_needs("Gebarentolk bij overleg")
    assert candidate.support_needs == "Gebarentolk bij overleg"
    assert event_names(candidate)[-1] == "SupportNeedsStated"


def test_support_needs_are_special_category_data_and_identity_is_personal():
    classification = Candidate.DATA_CLASSIFICATION
    assert classification["support_needs"] == SPECIAL_CATEGORY
    personal = ("full_name", "date_of_birth", "benefit_since", "qualifies_via")
    for field in (*personal, "target_group"):
        assert classification[field] == PERSONAL_DATA
