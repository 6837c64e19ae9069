from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from eventsourcing.domain import event

from domain.base import LedgerAggregate

from domain.errors import CandidateAlreadyErased, InvalidValue, UnknownTargetGroup
from domain.values import (
    PERSONAL_DATA,
    SPECIAL_CATEGORY,
    TARGET_GROUPS,
    free_text,
    optional_date,
    optional_text,
    require_bool,
    require_choice,
    require_competences,
    require_date,
    require_hours,
    require_text,
)

MIN_AGE, MAX_AGE = 15, 80


def _age_on(day: date, born: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Candidate(LedgerAggregate):
    """A person with a distance to the labour market, described by what they
    can contribute (competences) and the support they ask for themselves.
    """

    DATA_CLASSIFICATION: ClassVar[dict[str, str]] = {
        "full_name": PERSONAL_DATA,
        "date_of_birth": PERSONAL_DATA,
        "target_group": PERSONAL_DATA,
        "benefit_since": PERSONAL_DATA,
        "qualifies_via": PERSONAL_DATA,
        "status_holder": PERSONAL_DATA,
        "competences": PERSONAL_DATA,
        "support_needs": SPECIAL_CATEGORY,
        "hours_available": PERSONAL_DATA,
        "available_from": PERSONAL_DATA,
        "region": PERSONAL_DATA,
    }

    @classmethod
    def register(
        cls,
        full_name: str,
        date_of_birth: date,
        target_group: str,
        competences: list[str],
        support_needs: str,
        benefit_since: date | None = None,
        status_holder: bool = False,
        qualifies_via: str | None = None,
        today: date | None = None,
    ) -> Candidate:
        # `today` is injectable so the age check is testable; it is not stored.
        today = today or date.today()
        born = require_date(date_of_birth, "date_of_birth")
        if not MIN_AGE <= _age_on(today, born) <= MAX_AGE:
            raise InvalidValue(
                "date_of_birth must give an age between {minimum} and {maximum}",
                "date_of_birth", minimum=MIN_AGE, maximum=MAX_AGE,
            )
        since = optional_date(benefit_since, "benefit_since")
        if since is not None and not born <= since <= today:
            raise InvalidValue(
                "benefit_since must be between date_of_birth and today",
                "benefit_since",
            )
        return cls(
            full_name=require_text(full_name, "full_name"),
            date_of_birth=born,
            target_group=require_choice(
                target_group, TARGET_GROUPS, UnknownTargetGroup, "target_group"
            ),
            competences=require_competences(competences, "competences"),
            support_needs=free_text(support_needs, "support_needs"),
            benefit_since=since,
            status_holder=require_bool(status_holder, "status_holder"),
            qualifies_via=optional_text(qualifies_via, "qualifies_via", max_len=500),
        )

    @event("CandidateRegistered")
    def __init__(
        self,
        full_name: str,
        date_of_birth: date,
        target_group: str,
        competences: list[str],
        support_needs: str,
        benefit_since: date | None,
        status_holder: bool,
        qualifies_via: str | None,
    ) -> None:
        self.full_name = full_name
        self.date_of_birth = date_of_birth
        self.target_group = target_group
        self.competences = list(competences)  # a copy: never alias event data
        self.support_needs = support_needs
        self.benefit_since = benefit_since
        self.status_holder = status_holder
        self.qualifies_via = qualifies_via

    def update_competences(self, competences: list[str]) -> None:
        if self.is_erased:
            raise CandidateAlreadyErased("the candidate was erased")
        self._competences_updated(
            competences=require_competences(competences, "competences")
        )

    @event("CompetencesUpdated")
    def _competences_updated(self, competences: list[str]) -> None:
        self.competences = list(competences)

    def state_support_needs(self, text: str) -> None:
        """Ask The Person: the candidate's own words, kept as given (may be empty)."""
        if self.is_erased:
            raise CandidateAlreadyErased("the candidate was erased")
        self._support_needs_stated(support_needs=free_text(text, "support_needs"))

    @event("SupportNeedsStated")
    def _support_needs_stated(self, support_needs: str) -> None:
        self.support_needs = support_needs

    @property
    def is_erased(self) -> bool:
        return getattr(self, "erased_on", None) is not None

    def erase(self, on: date) -> None:
        """The person asked to be forgotten (GDPR art. 17). Recorded as a fact
        without personal data; the service then destroys the person's key, so
        what earlier events hold about them can no longer be read."""
        if self.is_erased:
            raise CandidateAlreadyErased("the candidate was already erased on {day}", day=self.erased_on)
        self._erased(on=require_date(on, "on"))

    @event("CandidateErased")
    def _erased(self, on: date) -> None:
        self.erased_on = on
        self.full_name = "[erased]"
        self.date_of_birth = None
        self.target_group = None
        self.benefit_since = None
        self.qualifies_via = None
        self.support_needs = ""
        self.status_holder = False
        # Competences and availability are sealed too (their events read as
        # erased on replay); the live aggregate drops them at once.
        self.competences = []
        self.hours_available = None
        self.available_from = None
        self.region = None

    def state_availability(self, hours_per_week: Decimal, available_from: date, region: str) -> None:
        """What the person can offer for matching: hours a week in total, from
        when, and the region they want to work in. Never health or limitations."""
        if self.is_erased:
            raise CandidateAlreadyErased("the candidate was erased")
        self._availability_stated(
            hours_per_week=require_hours(hours_per_week),
            available_from=require_date(available_from, "available_from"),
            region=require_text(region, "region", max_len=100),
        )

    @event("AvailabilityStated")
    def _availability_stated(self, hours_per_week: Decimal, available_from: date, region: str) -> None:
        self.hours_available = hours_per_week
        self.available_from = available_from
        self.region = region
