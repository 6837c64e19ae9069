"""The person's employment with the agency (domain/employment.py)."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from domain.employment import Employment
from domain.errors import DomainError, EmploymentAlreadyEnded, InvalidValue, UnknownEndReason
from domain.placement import Placement

PERSON = uuid.uuid4()


def fixed_term() -> Employment:
    """A one-year contract: 1 February 2025 up to and including 31 January 2026."""
    return Employment.start(PERSON, date(2025, 2, 1), "fixed_term", date(2026, 1, 31))


def test_an_employment_starts_and_takes_its_secondments():
    employment = fixed_term()
    first, second = uuid.uuid4(), uuid.uuid4()
    employment.add_secondment(first, PERSON, date(2025, 2, 1), date(2025, 6, 30))
    employment.add_secondment(second, PERSON, date(2025, 7, 1), None)
    assert (employment.kind, employment.planned_end_on, employment.placement_ids) == (
        "fixed_term", date(2026, 1, 31), [first, second])
    assert [e.__class__.__name__ for e in employment.collect_events()] == [
        "EmploymentStarted", "SecondmentAdded", "SecondmentAdded"]


@pytest.mark.parametrize("kind, ends_on, field", [
    ("fixed_term", None, "ends_on"),            # a fixed term names its end
    ("permanent", date(2026, 1, 31), "ends_on"),  # an open-ended one has none
    ("fixed_term", date(2025, 2, 1), "ends_on"),  # the end after the start
    ("temporary", None, "kind"),
])
def test_bad_starts_name_the_field(kind, ends_on, field):
    with pytest.raises(InvalidValue) as caught:
        Employment.start(PERSON, date(2025, 2, 1), kind, ends_on)
    assert caught.value.field == field


def test_a_secondment_of_another_person_or_outside_the_employment_is_refused():
    employment = fixed_term()
    with pytest.raises(InvalidValue) as other:
        employment.add_secondment(uuid.uuid4(), uuid.uuid4(), date(2025, 3, 1), None)
    assert other.value.field == "employment_id"
    with pytest.raises(InvalidValue) as early:
        employment.add_secondment(uuid.uuid4(), PERSON, date(2025, 1, 31), None)
    assert early.value.field == "starts_on"
    with pytest.raises(InvalidValue) as late:
        employment.add_secondment(uuid.uuid4(), PERSON, date(2026, 2, 1), None)
    assert late.value.field == "starts_on"


def test_the_end_waits_for_its_secondments_and_is_final():
    employment = fixed_term()
    with pytest.raises(InvalidValue) as running:
        employment.end(date(2025, 9, 30), "resigned", [None])  # a secondment still runs
    assert running.value.field == "ends_on"
    with pytest.raises(InvalidValue):
        employment.end(date(2025, 9, 30), "resigned", [date(2025, 10, 31)])  # one ends after it
    with pytest.raises(UnknownEndReason):
        employment.end(date(2025, 9, 30), "fired", [date(2025, 9, 30)])
    employment.end(date(2025, 9, 30), "resigned", [date(2025, 9, 30)])
    assert (employment.ended_on, employment.end_reason, employment.is_active) == (date(2025, 9, 30), "resigned",
                                                                                 False)
    with pytest.raises(EmploymentAlreadyEnded):
        employment.end(date(2025, 10, 31), "resigned")
    with pytest.raises(DomainError):
        employment.add_secondment(uuid.uuid4(), PERSON, date(2025, 10, 1), None)


def test_a_placement_without_an_employment_is_its_own():
    placement = Placement.start(PERSON, uuid.uuid4(), None, None, date(2025, 2, 1), 24, False)
    assert (placement.employment_id, placement.employment_key) == (None, placement.id)
    employment = fixed_term()
    secondment = Placement.start(PERSON, uuid.uuid4(), None, None, date(2025, 2, 1), 24, False,
                                 employment_id=employment.id)
    assert secondment.employment_key == employment.id
