"""Matching candidates to a vacancy on what they can contribute.

Pure and explainable: `score(needs, profile)` gives a whole number from 0 to
100 and the reasons for it, in words an agency can check by hand.

The matcher's only input about a person is a `MatchProfile`: competences,
the hours a week they are free to work, from when, and the region. It has no
field for a target group, disability, health, support needs, benefit or age,
so none of those can ever decide a match (a test asserts the fields).

Points (out of 100):

| part | points | how |
|---|---|---|
| required competences | 60 | share of the vacancy's required competences the candidate has (all 60 if none are required) |
| optional competences | 10 | share of the optional ones (all 10 if none are asked) |
| hours | 15 | free hours a week, up to the vacancy's hours, as a share of them (0 if not stated) |
| region | 10 | 10 in the vacancy's region (or when no region is asked), else 0 |
| availability | 5 | 5 if available on or before the start day, else 0 |

Competences and regions compare case-insensitively (`str.casefold`, spaces
trimmed and collapsed). Ranking is by the exact (unrounded) points, then by
candidate id, so it is stable; the score shown is rounded half up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import DomainError, InvalidValue
from domain.ids import name_id
from domain.values import require_choice, require_date, require_id

REQUIRED_POINTS = 60
OPTIONAL_POINTS = 10
HOURS_POINTS = 15
REGION_POINTS = 10
AVAILABILITY_POINTS = 5
# A candidate placed this many hours a week or more is fully employed and
# not suggested (36 h is the basis of the building blocks).
FULL_TIME_HOURS = Decimal(36)


def normalise(text: str) -> str:
    """The comparison key of a competence or region: case and spacing ignored."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class MatchProfile:
    """What the matcher may know about a candidate, and nothing else."""

    id: UUID
    competences: tuple[str, ...]
    # Hours a week the candidate is free to work (stated availability less
    # hours in active placements); None: never stated.
    hours_per_week: Decimal | None
    available_from: date | None
    region: str | None


@dataclass(frozen=True)
class VacancyNeeds:
    required_competences: tuple[str, ...]
    optional_competences: tuple[str, ...]
    hours_per_week: Decimal
    region: str | None = None
    starts_on: date | None = None  # None: availability is not scored (full points)


@dataclass(frozen=True)
class Suggestion:
    candidate_id: UUID
    score: int
    reasons: list[str] = field(default_factory=list)
    # The unrounded points: what ranking uses.
    points: Fraction = field(default=Fraction(0), compare=False, repr=False)
    # The same reasons as (code, values), for pages that say them in another language.
    parts: list[tuple[str, dict[str, Any]]] = field(default_factory=list, compare=False, repr=False)


# Each reason's code and its English words (the API's `reasons`).
REASON_TEXTS = {
    "no_required": "no required competences asked",
    "all_required": "all {total} required competences",
    "some_required": "{have} of {total} required competences; missing: {missing}",
    "optional": "{have} of {total} optional competences",
    "optional_held": "{have} of {total} optional competences: {held}",
    "hours_not_stated": "hours: not stated",
    "hours_fit": "hours fit: {fit} of {wanted}",
    "region_not_asked": "region: not asked",
    "region_not_stated": "region: not stated",
    "same_region": "same region: {region}",
    "other_region": "other region: {region} (asked: {asked})",
    "availability_not_stated": "availability: not stated",
    "available": "available from {day}",
    "available_after_start": "available from {day}, after the start on {start}",
}


def _share(points: int, have: int, of: int) -> Fraction:
    return Fraction(points) if of == 0 else Fraction(points * have, of)


def _hours(value: Decimal) -> str:
    return format(value.normalize(), "f")


def score(needs: VacancyNeeds, candidate: MatchProfile) -> Suggestion:
    has = {normalise(c) for c in candidate.competences}
    parts: list[tuple[str, dict[str, Any]]] = []

    required = list(needs.required_competences)
    missing = [c for c in required if normalise(c) not in has]
    matched_required = len(required) - len(missing)
    if not required:
        parts.append(("no_required", {}))
    elif not missing:
        parts.append(("all_required", {"total": len(required)}))
    else:
        parts.append(("some_required", {"have": matched_required, "total": len(required),
                                        "missing": ", ".join(missing)}))
    points = _share(REQUIRED_POINTS, matched_required, len(required))

    optional = list(needs.optional_competences)
    matched_optional = [c for c in optional if normalise(c) in has]
    if optional:
        values = {"have": len(matched_optional), "total": len(optional)}
        if matched_optional:
            parts.append(("optional_held", {**values, "held": ", ".join(matched_optional)}))
        else:
            parts.append(("optional", values))
    points += _share(OPTIONAL_POINTS, len(matched_optional), len(optional))

    wanted = needs.hours_per_week
    if candidate.hours_per_week is None:
        parts.append(("hours_not_stated", {}))
    else:
        fit = min(max(candidate.hours_per_week, Decimal(0)), wanted)
        parts.append(("hours_fit", {"fit": _hours(fit), "wanted": _hours(wanted)}))
        points += HOURS_POINTS * Fraction(fit) / Fraction(wanted)

    if needs.region is None:
        parts.append(("region_not_asked", {}))
        points += REGION_POINTS
    elif candidate.region is None:
        parts.append(("region_not_stated", {}))
    elif normalise(candidate.region) == normalise(needs.region):
        parts.append(("same_region", {"region": candidate.region}))
        points += REGION_POINTS
    else:
        parts.append(("other_region", {"region": candidate.region, "asked": needs.region}))

    if needs.starts_on is None:
        points += AVAILABILITY_POINTS
    elif candidate.available_from is None:
        parts.append(("availability_not_stated", {}))
    elif candidate.available_from <= needs.starts_on:
        parts.append(("available", {"day": candidate.available_from.isoformat()}))
        points += AVAILABILITY_POINTS
    else:
        parts.append(("available_after_start", {"day": candidate.available_from.isoformat(),
                                                "start": needs.starts_on.isoformat()}))

    rounded = math.floor(points + Fraction(1, 2))  # half up, exactly
    reasons = [REASON_TEXTS[code].format(**values) for code, values in parts]
    return Suggestion(candidate_id=candidate.id, score=rounded, reasons=reasons, points=points, parts=parts)


def rank(needs: VacancyNeeds, candidates: list[MatchProfile], limit: int) -> list[Suggestion]:
    """The best `limit` suggestions: highest points first, then by candidate id."""
    scored = [score(needs, c) for c in candidates]
    scored.sort(key=lambda s: (-s.points, str(s.candidate_id)))
    return scored[:limit]


# -- the match pipeline --------------------------------------------------------------
# One candidate for one vacancy, step by step:
#   proposed -> introduced -> trial -> placed, or declined from any open step.
# A step may be skipped forward (introduced straight to placed), never taken
# backwards or twice; nothing follows placed or declined.

PIPELINE_STEPS = ("proposed", "introduced", "trial", "placed")
DECLINED = "declined"
DECLINED_BY = ("candidate", "employer", "agency")
# Why, as a choice and with no free text: a written reason invites health
# details, which never decide or explain a match.
DECLINE_REASONS = ("hours", "travel", "competences", "pay", "team_fit", "other_offer", "withdrew",
                   "vacancy_closed", "other")
PIPELINE_NAMESPACE = UUID("9a4e2c71-5b3d-4f8e-a1c6-7d2e9f0b3a58")


class StepOutOfOrder(DomainError):
    default_field = "step"


class UnknownDeclineReason(DomainError):
    default_field = "reason"


class MatchPipeline(LedgerAggregate):
    """Where one candidate stands for one vacancy."""

    @staticmethod
    def create_id(vacancy_id: UUID, candidate_id: UUID) -> UUID:
        return MatchPipeline.id_for(vacancy_id, candidate_id)

    @staticmethod
    def id_for(vacancy_id: UUID, candidate_id: UUID) -> UUID:
        return name_id(PIPELINE_NAMESPACE, f"{vacancy_id}|{candidate_id}")

    @classmethod
    def propose(cls, vacancy_id: UUID, candidate_id: UUID, on: date) -> "MatchPipeline":
        return cls(vacancy_id=require_id(vacancy_id, "vacancy_id"),
                   candidate_id=require_id(candidate_id, "candidate_id"), on=require_date(on, "on"))

    @event("MatchProposed")
    def __init__(self, vacancy_id: UUID, candidate_id: UUID, on: date) -> None:
        self.vacancy_id, self.candidate_id = vacancy_id, candidate_id
        self.step = "proposed"
        self.steps: list[dict[str, Any]] = [{"step": "proposed", "on": on}]

    @property
    def is_open(self) -> bool:
        return self.step not in ("placed", DECLINED)

    def _check_next(self, step: str, on: date) -> date:
        on = require_date(on, "on")
        if not self.is_open:
            raise StepOutOfOrder("step '{step}' cannot follow '{current}': this match is closed",
                                 step=step, current=self.step)
        if PIPELINE_STEPS.index(step) <= PIPELINE_STEPS.index(self.step):
            raise StepOutOfOrder("step '{step}' cannot follow '{current}': steps go {order}", step=step,
                                 current=self.step, order=" -> ".join(PIPELINE_STEPS))
        if on < self.steps[-1]["on"]:
            raise InvalidValue("on must not be before the last step ({day})", "on", day=self.steps[-1]["on"])
        return on

    def advance(self, step: str, on: date, placement_id: UUID | None = None) -> None:
        if step not in PIPELINE_STEPS[1:]:
            raise StepOutOfOrder("step must be one of: {choices}, or declined", choices=", ".join(PIPELINE_STEPS[1:]))
        on = self._check_next(step, on)
        if step == "placed":
            placement_id = require_id(placement_id, "placement_id")
        elif placement_id is not None:
            raise InvalidValue("placement_id belongs to the step 'placed' only", "placement_id")
        self._advanced(step=step, on=on, placement_id=placement_id)

    @event("MatchAdvanced")
    def _advanced(self, step: str, on: date, placement_id: UUID | None) -> None:
        self.step = step
        self.steps = [*self.steps, {"step": step, "on": on, "placement_id": placement_id}]

    def decline(self, by: str, reason: str, on: date) -> None:
        on = require_date(on, "on")
        if not self.is_open:
            raise StepOutOfOrder("step 'declined' cannot follow '{current}': this match is closed", current=self.step)
        if on < self.steps[-1]["on"]:
            raise InvalidValue("on must not be before the last step ({day})", "on", day=self.steps[-1]["on"])
        self._declined(by=require_choice(by, DECLINED_BY, InvalidValue, "by"),
                       reason=require_choice(reason, DECLINE_REASONS, UnknownDeclineReason, "reason"), on=on)

    @event("MatchDeclined")
    def _declined(self, by: str, reason: str, on: date) -> None:
        self.step = DECLINED
        self.steps = [*self.steps, {"step": DECLINED, "on": on, "by": by, "reason": reason}]
