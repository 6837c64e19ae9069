"""The pure domain: aggregates, their events, values and named errors.

Imports only the standard library and ``eventsourcing.domain``.
"""

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.errors import (
    CandidateAlreadyMatched,
    ContractAlreadyClosed,
    DomainError,
    ExtensionNotLater,
    HoursChangeOutsidePlacement,
    InvalidContractValue,
    InvalidFeedbackScore,
    InvalidHoursPerWeek,
    InvalidObligationPercentage,
    InvalidValue,
    PlacementAlreadyEnded,
    PlacementEndsBeforeStart,
    TermEndsBeforeStart,
    UnknownEndReason,
    UnknownFeedbackRole,
    UnknownRuleSet,
    UnknownTargetGroup,
    VacancyNotOpen,
)
from domain.placement import Placement
from domain.vacancy import Vacancy

__all__ = [
    "Candidate",
    "CandidateAlreadyMatched",
    "ContractAlreadyClosed",
    "DomainError",
    "Employer",
    "ExtensionNotLater",
    "HoursChangeOutsidePlacement",
    "InvalidContractValue",
    "InvalidFeedbackScore",
    "InvalidHoursPerWeek",
    "InvalidObligationPercentage",
    "InvalidValue",
    "Placement",
    "PlacementAlreadyEnded",
    "PlacementEndsBeforeStart",
    "SocialReturnContract",
    "TermEndsBeforeStart",
    "UnknownEndReason",
    "UnknownFeedbackRole",
    "UnknownRuleSet",
    "UnknownTargetGroup",
    "Vacancy",
]
