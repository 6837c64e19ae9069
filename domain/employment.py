"""The person's employment with the agency: the contract that makes the
agency their legal employer. Secondments (placements) belong to an
employment, and the legal employer's duties follow it (domain/duties.py):
a secondment that ends while the employment runs leaves the sickness
duties running; the employment ending during sickness is reported to UWV
as "sick out of service" on its last day; the wage-cost benefit's
declaration is requested once, from the start of the employment.

A placement started without an employment has an implicit one: the
placement itself (same id, same start and end), so histories from before
employments were recorded keep exactly their duties.
"""
from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import ContractAlreadyPermanent, EmploymentAlreadyEnded, InvalidValue, UnknownEndReason
from domain.values import (
    EMPLOYMENT_END_REASONS,
    EMPLOYMENT_KINDS,
    optional_date,
    require_choice,
    require_date,
    require_id,
)


class Employment(LedgerAggregate):
    """An employment contract of one person with the agency: fixed-term (with
    its planned end) or permanent (none), and the secondments under it."""

    @classmethod
    def start(cls, candidate_id: UUID, starts_on: date, kind: str, ends_on: date | None = None) -> Employment:
        starts_on = require_date(starts_on, "starts_on")
        kind = require_choice(kind, EMPLOYMENT_KINDS, InvalidValue, "kind")
        ends_on = optional_date(ends_on, "ends_on")
        if kind == "fixed_term" and ends_on is None:
            raise InvalidValue("ends_on is required for a fixed-term employment", "ends_on")
        if kind == "permanent" and ends_on is not None:
            raise InvalidValue("ends_on must be empty for a permanent employment", "ends_on")
        if ends_on is not None and ends_on <= starts_on:
            raise InvalidValue("ends_on must be after starts_on", "ends_on")
        return cls(candidate_id=require_id(candidate_id, "candidate_id"), starts_on=starts_on, kind=kind,
                   ends_on=ends_on)

    @event("EmploymentStarted")
    def __init__(self, candidate_id: UUID, starts_on: date, kind: str, ends_on: date | None) -> None:
        self.candidate_id = candidate_id
        self.starts_on = starts_on
        self.kind = kind
        self.planned_end_on = ends_on
        self.ended_on: date | None = None
        self.end_reason: str | None = None
        self.placement_ids: list[UUID] = []
        self.made_permanent_on: date | None = None

    @property
    def is_active(self) -> bool:
        return self.ended_on is None

    def _require_running(self) -> None:
        if self.ended_on is not None:
            raise EmploymentAlreadyEnded("the employment ended on {day}", "employment_id", day=self.ended_on)

    def add_secondment(self, placement_id: UUID, candidate_id: UUID, starts_on: date,
                       planned_end_on: date | None) -> None:
        """A secondment of this person, within the employment."""
        self._require_running()
        if candidate_id != self.candidate_id:
            raise InvalidValue("the employment is another person's", "employment_id")
        if starts_on < self.starts_on:
            raise InvalidValue("starts_on must not be before the employment starts ({day})", "starts_on",
                               day=self.starts_on)
        if self.planned_end_on is not None and starts_on > self.planned_end_on:
            raise InvalidValue("starts_on must not be after the employment's planned end ({day})", "starts_on",
                               day=self.planned_end_on)
        self._secondment_added(placement_id=require_id(placement_id, "placement_id"))

    @event("SecondmentAdded")
    def _secondment_added(self, placement_id: UUID) -> None:
        self.placement_ids = [*self.placement_ids, placement_id]

    def end(self, on: date, reason: str, secondment_ends: list[date | None] = ()) -> None:  # type: ignore[assignment]
        """The last day of employment is `on`. `secondment_ends`: the end of
        each of its secondments (None: still running); none may run past it."""
        self._require_running()
        on = require_date(on, "ends_on")
        if on < self.starts_on:
            raise InvalidValue("ends_on must not be before starts_on", "ends_on")
        if any(end is None or end > on for end in secondment_ends):
            raise InvalidValue("a secondment of this employment runs after {day}: end it first", "ends_on", day=on)
        self._ended(on=on, reason=require_choice(reason, EMPLOYMENT_END_REASONS, UnknownEndReason, "reason"))

    @event("EmploymentEnded")
    def _ended(self, on: date, reason: str) -> None:
        self.ended_on = on
        self.end_reason = reason

    def make_permanent(self, on: date, today: date | None = None) -> None:
        """Fixed-term to permanent (progression, issue 16): from `on` the
        employment has no planned end."""
        self._require_running()
        if self.kind == "permanent":
            raise ContractAlreadyPermanent("the contract is already permanent")
        on = require_date(on, "on")
        if on < self.starts_on:
            raise InvalidValue("on must not be before the employment starts ({day})", "on", day=self.starts_on)
        if today is not None and on > today:
            raise InvalidValue("{name} must not be in the future", "on", name="on")
        self._made_permanent(on=on)

    @event("EmploymentMadePermanent")
    def _made_permanent(self, on: date) -> None:
        self.kind = "permanent"
        self.planned_end_on = None
        self.made_permanent_on = on
