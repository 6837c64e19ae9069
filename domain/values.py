"""Vocabularies, data classifications and the input validators aggregates share.

Validators return the normalised value or raise a DomainError naming the field;
aggregates call them in their public methods, never inside @event methods.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any
from uuid import UUID

from domain.errors import DomainError, InvalidHoursPerWeek, InvalidValue

TARGET_GROUPS = (
    "participatiewet",
    "doelgroepregister",
    "wajong",
    "wia_wao",
    "ww",
    "vso_pro_mbo1",
    "bbl",
    "bol",
    "no_benefit",
)
FEEDBACK_ROLES = ("employee", "employer", "coach", "agency")
END_REASONS = ("contract_ended", "resigned", "dismissed", "direct_employment", "other")
# An employment with the agency (domain/employment.py): its kind and why it ended.
EMPLOYMENT_KINDS = ("fixed_term", "permanent")
EMPLOYMENT_END_REASONS = ("contract_ended", "resigned", "dismissed", "mutual_agreement", "other")
# What kind of placement it is (set at its start). "employment" is valued by the
# person's target-group block and bonuses; the others by the rule set's
# ``arrangements`` (domain.valuation): a work-experience place
# (werkervaringsplaats), an internship (stage), a trial placement
# (proefplaatsing), a BBL learning-working place new to the employer or existing.
ARRANGEMENTS = ("employment", "work_experience", "internship", "trial", "bbl_new", "bbl_existing")
DEFAULT_ARRANGEMENT = "employment"  # and what a placement started before arrangements existed is

HOURS_MIN, HOURS_MAX = 1, 60

# Progression (issue 16): a pay scale or band is a short code ("schaal 6",
# "band B", "trede 3a"), never a salary amount. A word from SCALE_WORDS, then
# one or two digits with an optional letter, or one or two letters with an
# optional digit.
SCALE_WORDS = ("schaal", "scale", "band", "trede", "step", "functiegroep", "groep", "group", "niveau",
               "level", "grade")
SCALE_PATTERN = re.compile(r"^(%s) ([0-9]{1,2}[a-z]?|[a-z]{1,2}[0-9]?)$" % "|".join(SCALE_WORDS))
ROLE_MAX_LEN = 80
TRAINING_MAX_LEN = 100

# GDPR markers for aggregates' DATA_CLASSIFICATION maps (field name -> marker),
# so storage and read models can encrypt, restrict or erase these fields.
PERSONAL_DATA = "personal"
SPECIAL_CATEGORY = "special_category"  # GDPR art. 9, e.g. health

MAX_COMPETENCES = 50
COMPETENCE_MAX_LEN = 100
FREE_TEXT_MAX_LEN = 4000
# Control characters other than tab, line feed and carriage return (a
# regular expression: a check in C, not a Python loop over every character).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def require_text(value: Any, field: str, max_len: int = 200) -> str:
    """A non-empty, stripped string of at most ``max_len`` characters."""
    text = free_text(value, field, max_len)
    if not text:
        raise InvalidValue("{name} must not be empty", field, name=field)
    return text


def optional_text(value: Any, field: str, max_len: int = 200) -> str | None:
    """Like require_text, but None or blank means 'not given' (None)."""
    if value is None:
        return None
    return free_text(value, field, max_len) or None


def free_text(value: Any, field: str, max_len: int = FREE_TEXT_MAX_LEN) -> str:
    """A stripped string that may be empty (comments, a person's own words)."""
    if not isinstance(value, str):
        raise InvalidValue("{name} must be text", field, name=field)
    text = value.strip()
    if len(text) > max_len:
        raise InvalidValue("{name} must be at most {max_len} characters", field, name=field, max_len=max_len)
    if _CONTROL.search(text):
        raise InvalidValue("{name} must not contain control characters", field, name=field)
    return text


def require_choice(
    value: Any, choices: Iterable[str], error: type[DomainError], field: str
) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise error("{name} must be one of: {choices}", field, name=field, choices=", ".join(choices))
    return value


DECIMAL_MAX = 10**12
DECIMAL_MAX_PLACES = 6


def require_decimal(
    value: Any, field: str, error: type[DomainError] = InvalidValue
) -> Decimal:
    """A finite Decimal from a Decimal, int or numeric string.

    Floats are refused: they cannot represent money or 25.5 hours exactly
    enough to be trusted, so callers must convert deliberately.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise error("{name} must be a decimal number", field, name=field)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise error("{name} must be a decimal number", field, name=field) from None
    if not number.is_finite():
        raise error("{name} must be a finite number", field, name=field)
    # Bounded so that arithmetic on it stays exact in Decimal's default
    # 28-digit context: money up to a trillion euros, six decimals.
    if abs(number) >= DECIMAL_MAX:
        raise error("{name} must be less than {maximum}", field, name=field, maximum=DECIMAL_MAX)
    if number != 0 and number.normalize().as_tuple().exponent < -DECIMAL_MAX_PLACES:
        raise error("{name} must have at most {places} decimals", field, name=field, places=DECIMAL_MAX_PLACES)
    return number


def require_hours(value: Any, field: str = "hours_per_week") -> Decimal:
    hours = require_decimal(value, field, InvalidHoursPerWeek)
    if not HOURS_MIN <= hours <= HOURS_MAX:
        raise InvalidHoursPerWeek(
            "{name} must be between {minimum} and {maximum}", field, name=field, minimum=HOURS_MIN, maximum=HOURS_MAX
        )
    return hours


def require_competences(values: Any, field: str) -> list[str]:
    """Stripped, de-duplicated (case-insensitively, first spelling kept) names."""
    # A bare string is iterable too; refusing it avoids a list of letters.
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise InvalidValue("{name} must be a list of competences", field, name=field)
    result: list[str] = []
    seen: set[str] = set()
    for value in values:
        name = require_text(value, field, COMPETENCE_MAX_LEN)
        if name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    if len(result) > MAX_COMPETENCES:
        raise InvalidValue("{name} may list at most {maximum}", field, name=field, maximum=MAX_COMPETENCES)
    return result


# The calendar the product computes with. Every date it takes, from the API,
# the pages or the command line, lies in this range: duties, retention and
# valuations count years onwards from a date (a year 9999 overflows), and the
# database driver turns dates beyond its range into -infinity/infinity.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)


def require_date(value: Any, field: str) -> date:
    # datetime is a subclass of date; a time of day would break comparisons.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidValue("{name} must be a date", field, name=field)
    if not DATE_MIN <= value <= DATE_MAX:
        raise InvalidValue("{name} must be a date from {minimum} to {maximum}", field, name=field,
                           minimum=DATE_MIN, maximum=DATE_MAX)
    return value


def parse_date(raw: Any, field: str) -> date:
    """A date written as text (a query parameter, a form field, a command-line
    option): YYYY-MM-DD, within DATE_MIN..DATE_MAX."""
    try:
        day = date.fromisoformat(raw.strip())
    except (AttributeError, ValueError):
        raise InvalidValue("{name} must be a date as YYYY-MM-DD", field, name=field) from None
    return require_date(day, field)


WHOLE_MAX = 2**63 - 1  # PostgreSQL's bigint


def parse_whole(raw: Any, field: str, minimum: int = 0, maximum: int = WHOLE_MAX) -> int:
    """A whole number written as text, within minimum..maximum. ASCII digits
    only: '²'.isdigit() is true, yet int('²') fails."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not minimum <= int(text) <= maximum:
        raise InvalidValue("{name} must be a whole number from {minimum} to {maximum}", field, name=field,
                           minimum=minimum, maximum=maximum)
    return int(text)


def parse_moment(raw: Any, field: str) -> datetime:
    """A moment written as ISO 8601 with a time zone ('2026-06-30T23:59:59Z'),
    its date within DATE_MIN..DATE_MAX."""
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise InvalidValue("{name} must be a moment as ISO 8601, e.g. 2026-06-30T23:59:59Z", field,
                           name=field) from None
    if moment.tzinfo is None:
        raise InvalidValue("{name} must include a time zone (Z or +02:00)", field, name=field)
    require_date(moment.date(), field)
    return moment


def optional_date(value: Any, field: str) -> date | None:
    return None if value is None else require_date(value, field)


def require_id(value: Any, field: str) -> UUID:
    if not isinstance(value, UUID):
        raise InvalidValue("{name} must be a UUID", field, name=field)
    return value


def optional_id(value: Any, field: str) -> UUID | None:
    return None if value is None else require_id(value, field)


def require_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue("{name} must be true or false", field, name=field)
    return value


# Contributions other than placements. The counting figures below are the
# defaults when no rule set is named; each rule set carries its own
# (domain/rulesets/*.json), and tests check that the two agree.
CONTRIBUTION_KINDS = ("placement", "social_enterprise_purchase", "other_activity")
CONTRIBUTION_STATUSES = ("pending", "accepted", "rejected")
SOCIAL_ENTERPRISE_REGISTERS = ("registered_social_enterprise", "social_enterprise_nl_member")
# Twente: a registered social enterprise's invoice counts in full, a member of
# Social Enterprise NL's for half (excl. VAT).
SOCIAL_ENTERPRISE_SHARES = MappingProxyType(
    {
        "registered_social_enterprise": Decimal("1"),
        "social_enterprise_nl_member": Decimal("0.5"),
    }
)
# Utrecht: other activities count their costs, or EUR 100 per employee-hour.
OTHER_ACTIVITY_HOURLY_EUR = Decimal("100")


def require_scale(value: Any, field: str = "scale") -> str:
    """A pay scale or band as a short code, lower case with single spaces
    ("schaal 6", "band b"); anything that looks like an amount is refused."""
    if not isinstance(value, str):
        raise InvalidValue("{name} must be text", field, name=field)
    code = " ".join(value.strip().lower().split())
    if not code:
        raise InvalidValue("{name} must not be empty", field, name=field)
    if not SCALE_PATTERN.match(code):
        raise InvalidValue("{name} must be a scale or band such as 'schaal 6' or 'band B', never a salary amount",
                           field, name=field)
    return code
