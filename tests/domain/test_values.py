from datetime import date, datetime
from decimal import Decimal

import pytest

from domain import errors
from domain.errors import DomainError, InvalidHoursPerWeek, InvalidValue
from domain.values import (
    parse_date,
    parse_moment,
    parse_whole,
    require_competences,
    require_date,
    require_decimal,
    require_hours,
    require_text,
)


def test_a_domain_error_names_its_field_and_reads_as_a_message():
    err = InvalidValue("title must not be empty", "title")
    assert err.field == "title"
    assert str(err) == "title must not be empty"


def test_errors_name_a_sensible_field_when_the_raiser_does_not():
    assert errors.InvalidFeedbackScore("x").field == "score"
    assert errors.PlacementEndsBeforeStart("x").field == "ends_on"
    assert errors.UnknownRuleSet("x").field == "rule_set"
    assert errors.InvalidHoursPerWeek("x", "hours").field == "hours"


def test_only_state_errors_are_conflicts():
    conflicts = {
        errors.PlacementAlreadyEnded,
        errors.EmploymentAlreadyEnded,
        errors.ContractAlreadyClosed,
        errors.VacancyNotOpen,
        errors.CandidateAlreadyMatched,
        errors.ContributionAlreadyDecided,
        errors.CandidateAlreadyErased,
        errors.DocumentAlreadyRemoved,
        errors.ContractAlreadyPermanent,
    }
    all_errors = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, DomainError)
    }
    assert conflicts < all_errors
    assert {e for e in all_errors if e.is_state_conflict} == conflicts


def test_text_is_stripped_and_must_not_be_blank():
    assert require_text("  Utrecht ", "title") == "Utrecht"
    with pytest.raises(InvalidValue) as err:
        require_text("   ", "title")
    assert err.value.field == "title"


def test_text_has_a_maximum_length():
    assert require_text("x" * 10, "title", max_len=10) == "x" * 10
    with pytest.raises(InvalidValue):
        require_text("x" * 11, "title", max_len=10)


@pytest.mark.parametrize("code", range(0x80))
def test_text_refuses_control_characters_but_tab_and_line_breaks(code):
    text = f"voor{chr(code)}na"
    if code < 32 and chr(code) not in "\n\r\t":
        with pytest.raises(InvalidValue, match="must not contain control characters") as e:
            require_text(text, "comment")
        assert e.value.field == "comment"
    else:
        assert require_text(text, "comment") == text


def test_text_must_be_a_string():
    with pytest.raises(InvalidValue):
        require_text(42, "title")


@pytest.mark.parametrize("hours", [1, Decimal("25.5"), "36", 60])
def test_hours_a_week_between_1_and_60_are_accepted(hours):
    assert require_hours(hours) == Decimal(str(hours))


@pytest.mark.parametrize("hours", [0, Decimal("0.5"), Decimal("60.5"), 61, -8])
def test_hours_a_week_outside_1_to_60_are_refused(hours):
    with pytest.raises(InvalidHoursPerWeek) as err:
        require_hours(hours)
    assert err.value.field == "hours_per_week"


@pytest.mark.parametrize("value", [24.0, True, "NaN", "Infinity", "lots", None])
def test_floats_booleans_and_non_numbers_are_not_decimals(value):
    with pytest.raises(InvalidValue) as err:
        require_decimal(value, "amount")
    assert err.value.field == "amount"


def test_competences_are_stripped_and_deduplicated_keeping_order():
    given = [" Lassen ", "Excel", "lassen", "Excel ", "Heftruck"]
    assert require_competences(given, "competences") == ["Lassen", "Excel", "Heftruck"]


def test_a_competence_must_not_be_blank():
    with pytest.raises(InvalidValue) as err:
        require_competences(["Excel", " "], "required_competences")
    assert err.value.field == "required_competences"


def test_a_competence_is_at_most_100_characters():
    assert require_competences(["x" * 100], "competences") == ["x" * 100]
    with pytest.raises(InvalidValue):
        require_competences(["x" * 101], "competences")


def test_at_most_50_competences():
    fifty = [f"competence {i}" for i in range(50)]
    assert len(require_competences(fifty, "competences")) == 50
    with pytest.raises(InvalidValue):
        require_competences([*fifty, "one more"], "competences")


def test_a_single_string_is_not_a_list_of_competences():
    with pytest.raises(InvalidValue):
        require_competences("Excel", "competences")


def test_a_moment_is_not_a_date():
    assert require_date(date(2025, 1, 1), "starts_on") == date(2025, 1, 1)
    with pytest.raises(InvalidValue) as err:
        require_date(datetime(2025, 1, 1, 9, 0), "starts_on")
    assert err.value.field == "starts_on"


def test_numbers_are_bounded_so_decimal_arithmetic_stays_exact():
    import pytest
    from decimal import Decimal

    from domain.errors import InvalidValue
    from domain.values import require_decimal

    assert require_decimal("2400000.00", "contract_value_eur") == Decimal("2400000.00")
    for bad in ("1E+30", "1E-999999", "0.0000001"):
        with pytest.raises(InvalidValue) as err:
            require_decimal(bad, "contract_value_eur")
        assert err.value.field == "contract_value_eur"


def test_text_may_not_hide_control_characters():
    import pytest

    from domain.errors import InvalidValue
    from domain.values import free_text, require_text

    assert free_text("regel 1\nregel 2", "comment") == "regel 1\nregel 2"
    with pytest.raises(InvalidValue) as err:
        require_text("Sanne\x00Bakker", "full_name")
    assert err.value.field == "full_name"


@pytest.mark.parametrize("day", [date(1900, 1, 1), date(2026, 6, 30), date(2100, 12, 31)])
def test_dates_from_1900_to_2100_are_accepted(day):
    assert require_date(day, "starts_on") == day
    assert parse_date(day.isoformat(), "as_of") == day


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(2101, 1, 1), date(9999, 12, 1)])
def test_dates_the_product_cannot_compute_with_are_refused_naming_the_field(day):
    # A year 9999 placement stalled the duties projection for good (issue 10).
    with pytest.raises(InvalidValue) as refused:
        require_date(day, "starts_on")
    assert refused.value.field == "starts_on"
    assert str(refused.value) == "starts_on must be a date from 1900-01-01 to 2100-12-31"
    with pytest.raises(InvalidValue):
        parse_date(day.isoformat(), "as_of")


@pytest.mark.parametrize("raw", ["", "yesterday", "2025-02-30", "01-01-2025", None])
def test_a_date_written_as_text_is_yyyy_mm_dd(raw):
    with pytest.raises(InvalidValue) as refused:
        parse_date(raw, "as_of")
    assert refused.value.field == "as_of"


def test_a_moment_has_a_time_zone_and_a_date_in_range():
    assert parse_moment("2026-06-30T23:59:59Z", "known_at").tzinfo is not None
    for raw in ("2026-06-30T23:59:59", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "now"):
        with pytest.raises(InvalidValue) as refused:
            parse_moment(raw, "known_at")
        assert refused.value.field == "known_at"


def test_a_whole_number_written_as_text_is_ascii_digits_within_its_bounds():
    assert parse_whole("42", "limit", 1, 1000) == 42
    for raw in ("0", "1001", "-1", "4.5", "²", "١٢", "1" * 5000, "", None):
        with pytest.raises(InvalidValue) as refused:
            parse_whole(raw, "limit", 1, 1000)
        assert refused.value.field == "limit"
