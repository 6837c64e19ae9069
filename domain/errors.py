"""Named domain errors.

Every error carries ``field``: the API input field the problem is about, so the
web layer can answer 422 naming it. Errors about the aggregate's state rather
than the input (``is_state_conflict = True``) map to 409 instead.

A message is a fixed English text with named placeholders (``template``, the
gettext msgid the pages translate: web/i18n/nl.po) and its values apart
(``params``); ``str(error)`` is the English text the API answers with. Never
build a message with an f-string: tests/web/test_i18n.py refuses it.
"""

from __future__ import annotations


class DomainError(Exception):
    #: field used when the raiser does not name one
    default_field: str | None = None
    is_state_conflict: bool = False

    def __init__(self, message: str, field: str | None = None, **params: object) -> None:
        self.template = message
        self.params = params
        self.message = message.format(**params) if params else message
        super().__init__(self.message)
        self.field = field if field is not None else self.default_field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, field={self.field!r})"


class InvalidValue(DomainError):
    """Generic bad input; the field is required because there is no default."""

    def __init__(self, message: str, field: str, **params: object) -> None:
        super().__init__(message, field, **params)


# Input errors with a natural default field.


class PlacementEndsBeforeStart(DomainError):
    default_field = "ends_on"


class InvalidFeedbackScore(DomainError):
    default_field = "score"


class InvalidContractValue(DomainError):
    default_field = "contract_value_eur"


class InvalidObligationPercentage(DomainError):
    default_field = "obligation_percent"


class TermEndsBeforeStart(DomainError):
    default_field = "ends_on"


class InvalidHoursPerWeek(DomainError):
    default_field = "hours_per_week"


class UnknownRuleSet(DomainError):
    default_field = "rule_set"


class UnknownTargetGroup(DomainError):
    default_field = "target_group"


class UnknownFeedbackRole(DomainError):
    default_field = "from_role"


class UnknownEndReason(DomainError):
    default_field = "reason"


class UnknownArrangement(DomainError):
    default_field = "arrangement"


class HoursChangeOutsidePlacement(DomainError):
    default_field = "effective_on"


class ExtensionNotLater(DomainError):
    default_field = "until"


# State conflicts: the input may be fine, the aggregate is in the wrong state.


class PlacementAlreadyEnded(DomainError):
    is_state_conflict = True


class EmploymentAlreadyEnded(DomainError):
    is_state_conflict = True


class ContractAlreadyClosed(DomainError):
    is_state_conflict = True


class VacancyNotOpen(DomainError):
    is_state_conflict = True


class CandidateAlreadyMatched(DomainError):
    is_state_conflict = True
    default_field = "candidate_id"


# Contributions (domain/contribution.py).


class UnknownSocialEnterpriseRegister(DomainError):
    default_field = "register"


class ContributionAlreadyDecided(DomainError):
    """A contribution is accepted or rejected once; the decision is final."""

    is_state_conflict = True


class CandidateAlreadyErased(DomainError):
    is_state_conflict = True


# Documents (domain/document.py).


class UnknownDocumentKind(DomainError):
    default_field = "kind"


class DocumentAlreadyRemoved(DomainError):
    is_state_conflict = True


class ContractAlreadyPermanent(DomainError):
    """Fixed-term to permanent happens once."""

    is_state_conflict = True
    default_field = "on"
