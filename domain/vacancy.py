from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate

from domain.errors import CandidateAlreadyMatched, InvalidValue, VacancyNotOpen
from domain.values import (
    require_date,
    optional_text,
    require_competences,
    require_hours,
    require_id,
    require_text,
)

OPEN, FILLED, CLOSED = "open", "filled", "closed"


def _check_no_overlap(required: list[str], optional: list[str]) -> None:
    # A competence that is both required and optional would make matching ambiguous.
    overlap = {c.casefold() for c in required} & {c.casefold() for c in optional}
    if overlap:
        raise InvalidValue(
            "a competence cannot be both required and optional: {competences}",
            "optional_competences",
            competences=", ".join(c for c in optional if c.casefold() in overlap),
        )


def _region(region: str | None) -> str | None:
    # Free words, as candidates state theirs (Candidate.state_availability);
    # matching compares them case- and spacing-insensitively.
    return optional_text(region, "region", max_len=100)


class Vacancy(LedgerAggregate):
    """Work an employer offers, stated as competences, not limitations."""

    @classmethod
    def open(
        cls,
        employer_id: UUID,
        title: str,
        required_competences: list[str],
        optional_competences: list[str],
        hours_per_week: Decimal,
        opened_on: date | None = None,
        region: str | None = None,
    ) -> Vacancy:
        """`opened_on`: when the vacancy was opened, if earlier than today
        (recorded afterwards); it dates the time from vacancy to placement.
        `region`: where the work is (the words candidates use for the region
        they want to work in); blank means not stated."""
        opened_on = require_date(opened_on or date.today(), "opened_on")
        if opened_on > date.today():
            raise InvalidValue("opened_on must not be in the future", "opened_on")
        required = require_competences(required_competences, "required_competences")
        optional = require_competences(optional_competences, "optional_competences")
        _check_no_overlap(required, optional)
        return cls(
            employer_id=require_id(employer_id, "employer_id"),
            title=require_text(title, "title"),
            required_competences=required,
            optional_competences=optional,
            hours_per_week=require_hours(hours_per_week),
            opened_on=opened_on,
            region=_region(region),
        )

    @event("VacancyOpened")
    def __init__(
        self,
        employer_id: UUID,
        title: str,
        required_competences: list[str],
        optional_competences: list[str],
        hours_per_week: Decimal,
        opened_on: date | None = None,  # None in events from before the field existed
        region: str | None = None,  # likewise
    ) -> None:
        self.employer_id = employer_id
        self.region = region
        self.opened_on = opened_on
        self.title = title
        self.required_competences = list(required_competences)
        self.optional_competences = list(optional_competences)
        self.hours_per_week = hours_per_week
        self.status = OPEN
        self.matched_candidate_ids: list[UUID] = []
        self.placement_id: UUID | None = None
        self.close_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def _require_open(self, action: str) -> None:
        if not self.is_open:
            raise VacancyNotOpen("the vacancy is {status}", status=self.status)

    def edit(
        self,
        title: str | None = None,
        required_competences: list[str] | None = None,
        optional_competences: list[str] | None = None,
        hours_per_week: Decimal | None = None,
        region: str | None = None,
    ) -> None:
        """Change the given fields (None means unchanged; a blank region
        clears it); emits nothing if nothing changes."""
        self._require_open("edit")
        current: dict[str, Any] = {
            "title": self.title,
            "required_competences": self.required_competences,
            "optional_competences": self.optional_competences,
            "hours_per_week": self.hours_per_week,
            "region": self.region,
        }
        edited = dict(current)
        if title is not None:
            edited["title"] = require_text(title, "title")
        for field, value in (
            ("required_competences", required_competences),
            ("optional_competences", optional_competences),
        ):
            if value is not None:
                edited[field] = require_competences(value, field)
        if hours_per_week is not None:
            edited["hours_per_week"] = require_hours(hours_per_week)
        if region is not None:
            edited["region"] = _region(region)
        _check_no_overlap(
            edited["required_competences"], edited["optional_competences"]
        )
        changes = {k: v for k, v in edited.items() if v != current[k]}
        if changes:
            self._edited(changes=changes)

    @event("VacancyEdited")
    def _edited(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            # Copy lists so state never aliases the event's data.
            setattr(self, name, list(value) if isinstance(value, list) else value)

    def match_candidate(self, candidate_id: UUID) -> None:
        self._require_open("match a candidate")
        candidate_id = require_id(candidate_id, "candidate_id")
        if candidate_id in self.matched_candidate_ids:
            raise CandidateAlreadyMatched("this candidate is already matched")
        self._candidate_matched(candidate_id=candidate_id)

    @event("CandidateMatched")
    def _candidate_matched(self, candidate_id: UUID) -> None:
        self.matched_candidate_ids.append(candidate_id)

    def fill(self, placement_id: UUID) -> None:
        self._require_open("fill")
        self._filled(placement_id=require_id(placement_id, "placement_id"))

    @event("VacancyFilled")
    def _filled(self, placement_id: UUID) -> None:
        self.status = FILLED
        self.placement_id = placement_id

    def close(self, reason: str | None = None) -> None:
        self._require_open("close")
        self._closed(reason=optional_text(reason, "reason", max_len=500))

    @event("VacancyClosed")
    def _closed(self, reason: str | None) -> None:
        self.status = CLOSED
        self.close_reason = reason
