from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate

from domain.errors import (
    ExtensionNotLater,
    HoursChangeOutsidePlacement,
    InvalidFeedbackScore,
    InvalidValue,
    PlacementAlreadyEnded,
    PlacementEndsBeforeStart,
    UnknownArrangement,
    UnknownEndReason,
    UnknownFeedbackRole,
    ContractAlreadyPermanent,
)
from domain.values import (
    ARRANGEMENTS,
    DEFAULT_ARRANGEMENT,
    END_REASONS,
    FEEDBACK_ROLES,
    free_text,
    optional_date,
    optional_id,
    require_bool,
    require_choice,
    require_date,
    require_hours,
    require_id,
    require_scale,
    require_text,
    optional_text,
    ROLE_MAX_LEN,
    TRAINING_MAX_LEN,
)


class Placement(LedgerAggregate):
    """A candidate working at an employer, possibly towards a contract's
    social return obligation. Hours are kept as a dated history because
    valuation is pro rata over time.
    """

    @classmethod
    def start(
        cls,
        candidate_id: UUID,
        employer_id: UUID,
        contract_id: UUID | None,
        vacancy_id: UUID | None,
        starts_on: date,
        hours_per_week: Decimal,
        permanent_contract: bool,
        planned_end_on: date | None = None,
        responsible_user_id: UUID | None = None,
        employment_id: UUID | None = None,
        arrangement: str = DEFAULT_ARRANGEMENT,
    ) -> Placement:
        starts_on = require_date(starts_on, "starts_on")
        planned_end_on = optional_date(planned_end_on, "planned_end_on")
        if planned_end_on is not None and planned_end_on <= starts_on:
            raise InvalidValue(
                "planned_end_on must be after starts_on", "planned_end_on"
            )
        return cls(
            candidate_id=require_id(candidate_id, "candidate_id"),
            employer_id=require_id(employer_id, "employer_id"),
            contract_id=optional_id(contract_id, "contract_id"),
            vacancy_id=optional_id(vacancy_id, "vacancy_id"),
            starts_on=starts_on,
            hours_per_week=require_hours(hours_per_week),
            permanent_contract=require_bool(permanent_contract, "permanent_contract"),
            planned_end_on=planned_end_on,
            responsible_user_id=optional_id(responsible_user_id, "responsible_user_id"),
            employment_id=optional_id(employment_id, "employment_id"),
            arrangement=require_choice(arrangement, ARRANGEMENTS, UnknownArrangement, "arrangement"),
        )

    @event("PlacementStarted")
    def __init__(
        self,
        candidate_id: UUID,
        employer_id: UUID,
        contract_id: UUID | None,
        vacancy_id: UUID | None,
        starts_on: date,
        hours_per_week: Decimal,
        permanent_contract: bool,
        planned_end_on: date | None,
        responsible_user_id: UUID | None = None,  # absent from placements started before it existed
        employment_id: UUID | None = None,  # likewise; None: the placement is its own employment
        # Absent from placements started before arrangements existed: they were all employment.
        arrangement: str = DEFAULT_ARRANGEMENT,
    ) -> None:
        self.candidate_id = candidate_id
        self.employer_id = employer_id
        self.contract_id = contract_id
        self.vacancy_id = vacancy_id
        self.starts_on = starts_on
        self.permanent_contract = permanent_contract
        self.planned_end_on = planned_end_on
        # The agency user (consultant, job coach) who looks after the placement:
        # reminders of its duties are addressed to them.
        self.responsible_user_id = responsible_user_id
        # The employment with the agency this secondment belongs to (domain/
        # employment.py); None: an implicit one, the placement itself.
        self.employment_id = employment_id
        # What kind of placement (domain.values.ARRANGEMENTS): employment, or a
        # work-experience place, internship, trial or BBL place, which the
        # contract's rule set values by its own block (domain.valuation).
        self.arrangement = arrangement
        self.hours_history: list[dict[str, Any]] = [
            {"effective_on": starts_on, "hours_per_week": hours_per_week}
        ]
        # Only a count and the latest: the full feedback list is read from the
        # history (or a read model). Keeping it here would make every command
        # copy a list that grows without bound (the aggregate cache deep-copies).
        self.feedback_count = 0
        self.last_feedback: dict[str, Any] | None = None
        self.ended_on: date | None = None
        self.end_reason: str | None = None
        # Progression (issue 16): the latest scale code and, for a placement
        # that is its own employment on a fixed-term contract, the day it was
        # made permanent. Role titles and training names are sealed (personal
        # data) and not kept here: views read them from the history.
        self.scale: str | None = None
        self.made_permanent_on: date | None = None

    @property
    def is_active(self) -> bool:
        return self.ended_on is None

    @property
    def employment_key(self) -> UUID:
        """The id of the employment the legal employer's duties follow: the
        explicit employment, or the placement itself."""
        return self.employment_id or self.id

    @property
    def hours_per_week(self) -> Decimal:
        """Hours of the latest-effective change (which may lie in the future;
        use hours_on() for a given day)."""
        return self.hours_history[-1]["hours_per_week"]

    def hours_on(self, day: date) -> Decimal | None:
        """Hours a week in force on ``day``; None outside the placement."""
        if day < self.starts_on or (self.ended_on is not None and day > self.ended_on):
            return None
        in_force = [h for h in self.hours_history if h["effective_on"] <= day]
        return in_force[-1]["hours_per_week"]

    def _require_not_ended(self, action: str) -> None:
        if not self.is_active:
            raise PlacementAlreadyEnded(
                "the placement ended on {day}", day=self.ended_on
            )

    def give_feedback(
        self,
        score: int,
        from_role: str,
        comment: str,
        given_on: date | None = None,
    ) -> None:
        """Allowed after the end too: looking back on a placement is feedback."""
        # bool is an int subclass; True must not count as a score of 1.
        is_whole = isinstance(score, int) and not isinstance(score, bool)
        if not is_whole or not 1 <= score <= 5:
            raise InvalidFeedbackScore("score must be a whole number from 1 to 5")
        given_on = require_date(given_on or date.today(), "given_on")
        if given_on < self.starts_on:
            raise InvalidValue(
                "given_on must not be before the placement starts", "given_on"
            )
        self._feedback_given(
            score=score,
            from_role=require_choice(
                from_role, FEEDBACK_ROLES, UnknownFeedbackRole, "from_role"
            ),
            comment=free_text(comment, "comment"),
            given_on=given_on,
            # Whose placement: the comment is about them (and is their personal data).
            candidate_id=self.candidate_id,
        )

    @event("FeedbackGiven")
    def _feedback_given(
        self, score: int, from_role: str, comment: str, given_on: date,
        candidate_id: UUID | None = None,
    ) -> None:
        self.feedback_count += 1
        self.last_feedback = {
            "score": score,
            "from_role": from_role,
            "comment": comment,
            "given_on": given_on,
        }

    def change_hours(self, hours_per_week: Decimal, effective_on: date) -> None:
        self._require_not_ended("change hours")
        effective_on = require_date(effective_on, "effective_on")
        if effective_on < self.starts_on:
            raise HoursChangeOutsidePlacement(
                "effective_on must not be before the placement starts"
            )
        self._hours_changed(
            hours_per_week=require_hours(hours_per_week), effective_on=effective_on
        )

    @event("HoursChanged")
    def _hours_changed(self, hours_per_week: Decimal, effective_on: date) -> None:
        # Keep the history ordered by date; a second change for the same day
        # replaces the first, so the history stays a function of the date.
        history = [h for h in self.hours_history if h["effective_on"] != effective_on]
        history.append({"effective_on": effective_on, "hours_per_week": hours_per_week})
        self.hours_history = sorted(history, key=lambda h: h["effective_on"])

    def extend(self, until: date) -> None:
        self._require_not_ended("extend")
        until = require_date(until, "until")
        current_end = self.planned_end_on or self.starts_on
        if until <= current_end:
            raise ExtensionNotLater("until must be after {day}", day=current_end)
        self._extended(until=until)

    @event("PlacementExtended")
    def _extended(self, until: date) -> None:
        self.planned_end_on = until

    def end(self, ends_on: date, reason: str) -> None:
        self._require_not_ended("end")
        ends_on = require_date(ends_on, "ends_on")
        if ends_on < self.starts_on:
            raise PlacementEndsBeforeStart("ends_on must not be before starts_on")
        self._ended(
            ends_on=ends_on,
            reason=require_choice(reason, END_REASONS, UnknownEndReason, "reason"),
        )

    @event("PlacementEnded")
    def _ended(self, ends_on: date, reason: str) -> None:
        self.ended_on = ends_on
        self.end_reason = reason

    def assign_responsible(self, user_id: UUID | None) -> None:
        """Hand the placement to another agency user (None: nobody in particular)."""
        self._require_not_ended("assign")
        user_id = optional_id(user_id, "responsible_user_id")
        if user_id == self.responsible_user_id:
            raise InvalidValue("responsible_user_id already looks after this placement",
                               "responsible_user_id")
        self._responsible_assigned(user_id=user_id)

    @event("PlacementResponsibleAssigned")
    def _responsible_assigned(self, user_id: UUID | None) -> None:
        self.responsible_user_id = user_id

    # -- progression (issue 16) ---------------------------------------------------
    def _require_within(self, day: date, field: str, today: date | None) -> date:
        day = require_date(day, field)
        if day < self.starts_on:
            raise InvalidValue("{name} must not be before the placement starts ({day})", field, name=field,
                               day=self.starts_on)
        if self.ended_on is not None and day > self.ended_on:
            raise InvalidValue("{name} must not be after the placement ended ({day})", field, name=field,
                               day=self.ended_on)
        if today is not None and day > today:
            raise InvalidValue("{name} must not be in the future", field, name=field)
        return day

    def change_role(self, scale: str, role: str | None, effective_on: date, today: date | None = None) -> None:
        """A new role or pay scale at the employer: the scale or band as a code,
        never an amount; the role's title is optional (sealed: personal data)."""
        day = self._require_within(effective_on, "effective_on", today)
        code = require_scale(scale)
        title = optional_text(role, "role", max_len=ROLE_MAX_LEN) or ""
        if code == self.scale and not title:
            raise InvalidValue("scale is already {scale}", "scale", scale=code)
        self._role_changed(scale=code, role=title, effective_on=day, candidate_id=self.candidate_id)

    @event("RoleChanged")
    def _role_changed(self, scale: str, role: str, effective_on: date, candidate_id: UUID) -> None:
        self.scale = scale

    def complete_training(self, training: str, completed_on: date, today: date | None = None) -> None:
        """A training, course or certificate completed while placed (its name
        is sealed under the person's key)."""
        day = self._require_within(completed_on, "completed_on", today)
        self._training_completed(training=require_text(training, "training", max_len=TRAINING_MAX_LEN),
                                 completed_on=day, candidate_id=self.candidate_id)

    @event("TrainingCompleted")
    def _training_completed(self, training: str, completed_on: date, candidate_id: UUID) -> None:
        pass

    def make_permanent(self, on: date, today: date | None = None) -> None:
        """A fixed-term contract becomes permanent. Only for a placement that is
        its own employment: an explicit employment is made permanent itself."""
        if self.employment_id is not None:
            raise InvalidValue("the contract is the employment's: make the employment permanent", "employment_id")
        self._require_not_ended("make permanent")
        if self.permanent_contract or self.made_permanent_on is not None:
            raise ContractAlreadyPermanent("the contract is already permanent")
        day = self._require_within(on, "on", today)
        self._made_permanent(on=day)

    @event("PlacementMadePermanent")
    def _made_permanent(self, on: date) -> None:
        # permanent_contract stays as started: the contribution was valued on it.
        self.made_permanent_on = on
