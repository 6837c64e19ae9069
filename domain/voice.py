"""The employee's voice (issue 16): a short check-in the employee fills in
themselves, at 1, 3, 6 and 12 months after their placement starts.

Four statements on a 1-5 scale (QUESTIONS) and an optional remark in their
own words. Kept apart from feedback (`FeedbackGiven` is the employer's,
coach's and agency's too) in its own aggregate, one per placement (id derived
from it), so the placement's history, which the employer reads, holds none of
it. The remark is personal data: the event names the candidate and
infra/personal_data.py seals it under their key, so erasing the person erases
it; the aggregate keeps no remark.

Who sees what is the employee's choice (`sharing`): `aggregated` (the
default: the employer sees only figures from 5 or more people,
domain/small_groups.py) or `individual` (the employer may also see this
placement's scores, never the remark). The agency's coach sees everything;
docs/security.md says who sees what.

A check-in opens OPENS_DAYS_BEFORE its due day (when the reminders bring it
up), is overdue after the due day and stays open until answered; one due
after the placement ended never opens. Each moment is answered once.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.duties import add_months
from domain.errors import DomainError, InvalidValue
from domain.ids import name_id
from domain.values import free_text, require_choice, require_date, require_id

VOICE_NAMESPACE = UUID("5a1f7c3e-9b2d-4e8a-b6c4-2d7e9f1a3c58")

MOMENTS = (1, 3, 6, 12)  # months after the placement's start
# The statements, answered 1 (not at all) .. 5 (fully); their texts are in the
# pages' catalogue (web/i18n/nl.po) and the API reference.
QUESTIONS = ("supported", "work_suits", "can_ask", "want_to_stay")
QUESTION_TEXTS = {
    "supported": "I feel supported at work",
    "work_suits": "My work suits me",
    "can_ask": "I can ask for what I need",
    "want_to_stay": "I want to stay in this job",
}
SCORE_MIN, SCORE_MAX = 1, 5
REMARK_MAX_LEN = 1000
SHARING = ("aggregated", "individual")
DEFAULT_SHARING = "aggregated"
OPENS_DAYS_BEFORE = 7  # the reminders bring a duty up 7 days before it is due


class CheckInNotOpen(DomainError):
    """Answering a check-in before it opens, or one the placement never reached."""

    is_state_conflict = True
    default_field = "moment"


class CheckInAlreadyAnswered(DomainError):
    is_state_conflict = True
    default_field = "moment"


class CheckInAlreadyReminded(DomainError):
    is_state_conflict = True
    default_field = "moment"


def due_on(starts_on: date, moment: int) -> date:
    """The day the check-in at `moment` months is due."""
    return add_months(starts_on, moment)


def moment_states(starts_on: date, ended_on: date | None, today: date,
                  answered: dict[int, date]) -> list[dict[str, Any]]:
    """Each moment's state on `today`: `answered` (with the day), `open` (due
    within OPENS_DAYS_BEFORE days), `overdue` (past its due day, still open),
    `later` (not open yet) or `closed` (the placement ended before it was due)."""
    out = []
    for moment in MOMENTS:
        due = due_on(starts_on, moment)
        if moment in answered:
            state = "answered"
        elif ended_on is not None and ended_on < due:
            state = "closed"
        elif today > due:
            state = "overdue"
        elif today >= due - timedelta(days=OPENS_DAYS_BEFORE):
            state = "open"
        else:
            state = "later"
        out.append({"moment": moment, "due_on": due, "state": state, "answered_on": answered.get(moment)})
    return out


def require_scores(answers: Any) -> dict[str, int]:
    """One whole number from 1 to 5 for every question; the field named is the question's."""
    if not isinstance(answers, dict):
        raise InvalidValue("{name} must be an object with a score for each question", "answers", name="answers")
    unknown = sorted(set(answers) - set(QUESTIONS))
    if unknown:
        raise InvalidValue("{name} is not a question of the check-in", str(unknown[0]), name=str(unknown[0]))
    scores = {}
    for q in QUESTIONS:
        value = answers.get(q)
        if value is None:
            raise InvalidValue("{name} must be answered", q, name=q)
        if isinstance(value, bool) or not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
            raise InvalidValue("{name} must be a whole number from 1 to 5", q, name=q)
        scores[q] = value
    return scores


class EmployeeVoice(LedgerAggregate):
    """The employee's own check-ins on one placement and whom they share them with."""

    @staticmethod
    def create_id(placement_id: UUID, **_: Any) -> UUID:
        return EmployeeVoice.id_for(placement_id)

    @staticmethod
    def id_for(placement_id: UUID) -> UUID:
        return name_id(VOICE_NAMESPACE, "voice|" + str(placement_id))

    @classmethod
    def open(cls, placement_id: UUID, candidate_id: UUID, employer_id: UUID, starts_on: date) -> EmployeeVoice:
        return cls(placement_id=require_id(placement_id, "placement_id"),
                   candidate_id=require_id(candidate_id, "candidate_id"),
                   employer_id=require_id(employer_id, "employer_id"),
                   starts_on=require_date(starts_on, "starts_on"))

    @event("VoiceOpened")
    def __init__(self, placement_id: UUID, candidate_id: UUID, employer_id: UUID, starts_on: date) -> None:
        self.placement_id = placement_id
        self.candidate_id = candidate_id
        self.employer_id = employer_id
        self.starts_on = starts_on
        self.answered: dict[int, date] = {}
        self.reminded: dict[int, date] = {}
        self.sharing = DEFAULT_SHARING

    @property
    def shared_individually(self) -> bool:
        return self.sharing == "individual"

    def states(self, ended_on: date | None, today: date) -> list[dict[str, Any]]:
        return moment_states(self.starts_on, ended_on, today, self.answered)

    def answer(self, moment: Any, answers: Any, remark: Any, ended_on: date | None, today: date) -> None:
        if isinstance(moment, bool) or moment not in MOMENTS:
            raise InvalidValue("moment must be one of: {choices}", "moment",
                               choices=", ".join(str(m) for m in MOMENTS))
        state = next(s for s in self.states(ended_on, today) if s["moment"] == moment)
        if state["state"] == "answered":
            raise CheckInAlreadyAnswered("this check-in was answered on {day}", day=state["answered_on"])
        if state["state"] == "later":
            raise CheckInNotOpen("this check-in is not open: it opens on {day}",
                                 day=state["due_on"] - timedelta(days=OPENS_DAYS_BEFORE))
        if state["state"] == "closed":
            raise CheckInNotOpen("this check-in closed: the placement ended before it was due")
        scores = require_scores(answers)
        self._answered(placement_id=self.placement_id, candidate_id=self.candidate_id,
                       employer_id=self.employer_id, moment=moment, due_on=state["due_on"], answered_on=today,
                       answers=scores, remark=free_text(remark if remark is not None else "", "remark",
                                                        REMARK_MAX_LEN))

    @event("CheckInAnswered")
    def _answered(self, placement_id: UUID, candidate_id: UUID, employer_id: UUID, moment: int, due_on: date,
                  answered_on: date, answers: dict[str, int], remark: str) -> None:
        # `remark` (sealed) is not kept: see the module docstring.
        self.answered = {**self.answered, moment: answered_on}

    def remind(self, moment: Any, reminded_on: date, ended_on: date | None) -> None:
        """That the employee was told a check-in is open (the reminders process
        manager, service/reminders.py): once per moment, only while it is open."""
        if isinstance(moment, bool) or moment not in MOMENTS:
            raise InvalidValue("moment must be one of: {choices}", "moment",
                               choices=", ".join(str(m) for m in MOMENTS))
        if moment in self.reminded:
            raise CheckInAlreadyReminded("this check-in was reminded of on {day}", day=self.reminded[moment])
        state = next(s for s in self.states(ended_on, require_date(reminded_on, "reminded_on"))
                     if s["moment"] == moment)
        if state["state"] not in ("open", "overdue"):
            raise CheckInNotOpen("this check-in is not open", day=state["due_on"])
        self._reminded(placement_id=self.placement_id, moment=moment, due_on=state["due_on"], reminded_on=reminded_on)

    @event("CheckInReminded")
    def _reminded(self, placement_id: UUID, moment: int, due_on: date, reminded_on: date) -> None:
        self.reminded = {**self.reminded, moment: reminded_on}

    def choose_sharing(self, sharing: Any, today: date) -> None:
        choice = require_choice(sharing, SHARING, InvalidValue, "sharing")
        if choice == self.sharing:
            return
        self._sharing_chosen(placement_id=self.placement_id, candidate_id=self.candidate_id, sharing=choice,
                             chosen_on=today)

    @event("CheckInSharingChosen")
    def _sharing_chosen(self, placement_id: UUID, candidate_id: UUID, sharing: str, chosen_on: date) -> None:
        self.sharing = sharing
