from decimal import Decimal
from uuid import uuid4

import pytest

from domain import (
    CandidateAlreadyMatched,
    InvalidHoursPerWeek,
    InvalidValue,
    VacancyNotOpen,
)
from tests.domain.builders import a_vacancy, event_names


def test_a_vacancy_opens_with_competences_not_limitations():
    vacancy = a_vacancy(required_competences=["Administratie ", "administratie"])
    assert vacancy.status == "open"
    assert vacancy.required_competences == ["Administratie"]
    assert vacancy.optional_competences == ["Excel"]
    assert vacancy.matched_candidate_ids == []
    assert event_names(vacancy) == ["VacancyOpened"]


def test_a_vacancy_offers_1_to_60_hours_a_week():
    with pytest.raises(InvalidHoursPerWeek) as err:
        a_vacancy(hours_per_week=Decimal("0"))
    assert err.value.field == "hours_per_week"


def test_a_competence_is_either_required_or_optional():
    with pytest.raises(InvalidValue) as err:
        a_vacancy(required_competences=["Excel"], optional_competences=["excel"])
    assert err.value.field == "optional_competences"


def test_a_vacancy_needs_a_title():
    with pytest.raises(InvalidValue) as err:
        a_vacancy(title="")
    assert err.value.field == "title"


def test_candidates_are_matched_to_an_open_vacancy_once_each():
    vacancy, first, second = a_vacancy(), uuid4(), uuid4()
    vacancy.match_candidate(first)
    vacancy.match_candidate(second)
    assert vacancy.matched_candidate_ids == [first, second]
    with pytest.raises(CandidateAlreadyMatched) as err:
        vacancy.match_candidate(first)
    assert err.value.is_state_conflict
    assert err.value.field == "candidate_id"
    assert vacancy.matched_candidate_ids == [first, second]


def test_a_filled_vacancy_takes_no_more_matches_or_edits():
    vacancy, placement_id = a_vacancy(), uuid4()
    vacancy.fill(placement_id)
    assert (vacancy.status, vacancy.placement_id) == ("filled", placement_id)
    with pytest.raises(VacancyNotOpen):
        vacancy.match_candidate(uuid4())
    with pytest.raises(VacancyNotOpen):
        vacancy.edit(title="Anders")
    with pytest.raises(VacancyNotOpen):
        vacancy.close("te laat")
    with pytest.raises(VacancyNotOpen):
        vacancy.fill(uuid4())


def test_a_closed_vacancy_cannot_be_filled():
    vacancy = a_vacancy()
    vacancy.close(reason="budget ingetrokken")
    assert (vacancy.status, vacancy.close_reason) == ("closed", "budget ingetrokken")
    with pytest.raises(VacancyNotOpen) as err:
        vacancy.fill(uuid4())
    assert err.value.is_state_conflict


def test_an_edit_records_only_what_changed():
    vacancy = a_vacancy()
    vacancy.collect_events()
    vacancy.edit(title=vacancy.title, hours_per_week=Decimal("25.5"))
    (edited,) = vacancy.collect_events()
    assert type(edited).__name__ == "VacancyEdited"
    assert edited.changes == {"hours_per_week": Decimal("25.5")}
    assert vacancy.hours_per_week == Decimal("25.5")


def test_an_edit_is_validated_like_opening():
    vacancy = a_vacancy()
    with pytest.raises(InvalidValue) as err:
        vacancy.edit(optional_competences=["Administratie"])
    assert err.value.field == "optional_competences"
    with pytest.raises(InvalidHoursPerWeek):
        vacancy.edit(hours_per_week=61)
    assert vacancy.optional_competences == ["Excel"]


def test_changing_competences_after_an_edit_does_not_rewrite_the_event():
    vacancy = a_vacancy()
    vacancy.edit(required_competences=["Plannen"])
    edited = vacancy.collect_events()[-1]
    vacancy.required_competences.append("Mutated")
    assert edited.changes["required_competences"] == ["Plannen"]


def test_a_vacancy_states_its_region_and_an_edit_changes_or_clears_it():
    vacancy = a_vacancy(region=" Utrecht ")
    assert vacancy.region == "Utrecht"
    vacancy.collect_events()
    vacancy.edit(title="Administratief medewerker")  # region not given: unchanged
    assert vacancy.region == "Utrecht" and vacancy.collect_events() == []
    vacancy.edit(region="Amersfoort")
    assert vacancy.region == "Amersfoort"
    vacancy.edit(region="  ")  # blank: no region any more
    assert vacancy.region is None
    assert [e.changes for e in vacancy.collect_events()] == [{"region": "Amersfoort"}, {"region": None}]
    with pytest.raises(InvalidValue) as err:
        vacancy.edit(region="x" * 101)
    assert err.value.field == "region"
    assert a_vacancy().region is None
