from __future__ import annotations

from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate

from domain.errors import DomainError, InvalidValue
from domain.values import PERSONAL_DATA, optional_text, require_choice, require_date, require_id, require_text

SUPPORT_ACTIVITY_KINDS = ("workshop", "training", "advice")
SUPPORT_TOPICS = ("inclusive_leadership", "accessibility", "workplace_adjustments", "other")
SUPPORT_GIVERS = ("agency", "job_coach", "external")
MAX_PARTICIPANTS = 10_000
TEAM_SESSION_KINDS = ("workshop", "team_session")
WOULD_HIRE_AGAIN = ("yes", "no", "unsure")
MAX_SESSION_MANAGERS = 1_000


class UnknownTeamSession(DomainError):
    default_field = "session_id"


class TeamSurveyComplete(DomainError):
    """Every manager of the session has answered."""

    is_state_conflict = True


def _require_email(value: Any, field: str = "email") -> str:
    email = require_text(value, field, max_len=254)
    local, at, domain = email.partition("@")
    # Deliberately loose: one @, something before it and a dot in the domain.
    # Real proof of an address is a mail that arrives, not a regex.
    if (
        not at
        or not local
        or "@" in domain
        or "." not in domain.strip(".")
        or any(c.isspace() for c in email)
    ):
        raise InvalidValue("{name} is not a valid e-mail address", field, name=field)
    return email


class Employer(LedgerAggregate):
    """An organisation that hires (inlener) or employs people from target groups."""

    # Contact persons are people; the organisation's own name is not personal.
    DATA_CLASSIFICATION: ClassVar[dict[str, str]] = {
        "contact_persons.name": PERSONAL_DATA,
        "contact_persons.email": PERSONAL_DATA,
        "contact_persons.phone": PERSONAL_DATA,
    }

    @classmethod
    def register(cls, name: str) -> Employer:
        return cls(name=require_text(name, "name"))

    @event("EmployerRegistered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.contact_persons: list[dict[str, Any]] = []

    def add_contact_person(
        self,
        name: str,
        email: str,
        phone: str | None = None,
        role: str | None = None,
    ) -> None:
        self._contact_person_added(
            name=require_text(name, "name"),
            email=_require_email(email),
            phone=optional_text(phone, "phone", max_len=50),
            role=optional_text(role, "role", max_len=100),
        )

    @event("ContactPersonAdded")
    def _contact_person_added(
        self, name: str, email: str, phone: str | None, role: str | None
    ) -> None:
        self.contact_persons.append(
            {"name": name, "email": email, "phone": phone, "role": role}
        )

    # -- the employer as a platform organisation (issue 12) ------------------------------
    @property
    def org_id(self) -> UUID | None:
        """The platform organisation this record is shared with (its users see it)."""
        return getattr(self, "_org_id", None)

    @property
    def org_name(self) -> str | None:
        return getattr(self, "_org_name", None)

    def link_organisation(self, org_id: UUID, name: str) -> None:
        """Share this employer record, with its contracts, vacancies and
        placements, with an employer organisation of the platform; linking to
        another one moves the share. Emits nothing if already linked to it."""
        org_id = require_id(org_id, "org_id")
        if org_id != self.org_id:
            self._organisation_linked(org_id=org_id, org_name=require_text(name, "name"))

    def unlink_organisation(self) -> None:
        """Share this record with no employer organisation any more (linked to
        the wrong one, say): its users lose it, and what hangs under it, at
        once. Emits nothing if it is not linked."""
        if self.org_id is not None:
            self._organisation_unlinked(unlinked_org_id=self.org_id)

    @event("EmployerOrganisationLinked")
    def _organisation_linked(self, org_id: UUID, org_name: str) -> None:
        self._org_id, self._org_name = org_id, org_name

    @event("EmployerOrganisationUnlinked")
    def _organisation_unlinked(self, unlinked_org_id: UUID) -> None:
        self._org_id = self._org_name = None

    # -- support for the employer's managers and teams (issue 6) -------------------------
    # Only a count is kept: the list lives in the employer_support read model.
    def log_support_activity(self, kind: str, topic: str, held_on: date, participants: int, given_by: str,
                             title: str | None = None, today: date | None = None) -> str:
        """A workshop, training or advice given to the employer's people. No
        personal data: participants are a number, the giver a kind of party."""
        day = require_date(held_on, "held_on")
        if day > (today or date.today()):
            raise InvalidValue("{name} must not be in the future", "held_on", name="held_on")
        is_whole = isinstance(participants, int) and not isinstance(participants, bool)
        if not is_whole or not 1 <= participants <= MAX_PARTICIPANTS:
            raise InvalidValue("participants must be a whole number from 1 to 10000", "participants")
        activity_id = "activity-" + str(getattr(self, "support_activities", 0) + 1)
        self._support_activity_logged(
            activity_id=activity_id,
            kind=require_choice(kind, SUPPORT_ACTIVITY_KINDS, InvalidValue, "kind"),
            topic=require_choice(topic, SUPPORT_TOPICS, InvalidValue, "topic"),
            held_on=day, participants=participants,
            given_by=require_choice(given_by, SUPPORT_GIVERS, InvalidValue, "given_by"),
            title=optional_text(title, "title", max_len=200))
        return activity_id

    @event("SupportActivityLogged")
    def _support_activity_logged(self, activity_id: str, kind: str, topic: str, held_on: date,
                                 participants: int, given_by: str, title: str | None) -> None:
        self.support_activities = getattr(self, "support_activities", 0) + 1

    # -- team sessions and the managers' short survey (issue 16) ---------------------------
    # Answers are anonymous: no user, no name, only the three answers. Figures
    # are shown per employer, never per session or manager, and withheld under
    # 5 answers (domain/small_groups.py).
    @property
    def team_sessions(self) -> dict[str, dict[str, Any]]:
        """Session id -> {kind, held_on, managers, answers} (the answers counted)."""
        return getattr(self, "_team_sessions", {})

    def hold_team_session(self, kind: str, held_on: date, managers: int, today: date | None = None) -> str:
        """A workshop or team session with the team's managers, after which
        each manager may answer the survey once."""
        day = require_date(held_on, "held_on")
        if day > (today or date.today()):
            raise InvalidValue("{name} must not be in the future", "held_on", name="held_on")
        is_whole = isinstance(managers, int) and not isinstance(managers, bool)
        if not is_whole or not 1 <= managers <= MAX_SESSION_MANAGERS:
            raise InvalidValue("managers must be a whole number from 1 to 1000", "managers")
        session_id = "session-" + str(len(self.team_sessions) + 1)
        self._team_session_held(session_id=session_id,
                                kind=require_choice(kind, TEAM_SESSION_KINDS, InvalidValue, "kind"),
                                held_on=day, managers=managers)
        return session_id

    @event("TeamSessionHeld")
    def _team_session_held(self, session_id: str, kind: str, held_on: date, managers: int) -> None:
        self._team_sessions = {**self.team_sessions,
                               session_id: {"kind": kind, "held_on": held_on, "managers": managers, "answers": 0}}

    def answer_team_survey(self, session_id: str, knowledge: int, confidence: int, would_hire_again: str) -> str:
        """One manager's anonymous answers: knowledge and confidence 1-5, would
        hire again yes/no/unsure. A session takes at most as many answers as
        it had managers (a further one is a conflict)."""
        session = self.team_sessions.get(session_id)
        if session is None:
            raise UnknownTeamSession("no team session {item} at this employer", item=session_id)
        scores = {}
        for field, value in (("knowledge", knowledge), ("confidence", confidence)):
            if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5):
                raise InvalidValue("{name} must be a whole number from 1 to 5", field, name=field)
            scores[field] = value
        hire = require_choice(would_hire_again, WOULD_HIRE_AGAIN, InvalidValue, "would_hire_again")
        if session["answers"] >= session["managers"]:
            raise TeamSurveyComplete("this session had {count} managers and all of them answered",
                                     count=session["managers"])
        answer_id = session_id + "-answer-" + str(session["answers"] + 1)
        self._team_survey_answered(session_id=session_id, answer_id=answer_id, would_hire_again=hire, **scores)
        return answer_id

    @event("TeamSurveyAnswered")
    def _team_survey_answered(self, session_id: str, answer_id: str, knowledge: int, confidence: int,
                              would_hire_again: str) -> None:
        session = self.team_sessions[session_id]
        self._team_sessions = {**self.team_sessions, session_id: {**session, "answers": session["answers"] + 1}}
