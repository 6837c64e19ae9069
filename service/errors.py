"""Errors the service layer raises; each entry point maps them to its own form
(HTTP status, CLI message). Messages never mention another tenant's data."""
from __future__ import annotations


class ServiceError(Exception):
    field: str | None = None
    # A domain error's message as a template with its values apart (see
    # domain/errors.py), so that pages can show it in the viewer's language.
    template: str | None = None
    params: dict[str, object] = {}


class NotFound(ServiceError):
    """The id is not visible to this actor in this tenant (it may not exist at all)."""

    def __init__(self, kind: str, ident: object):
        super().__init__(f"{kind} {ident} not found")
        self.kind, self.ident = kind, ident


class InvalidReference(ServiceError):
    """A body field refers to something that is not there (or not usable)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class InvalidInput(ServiceError):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


class PermissionDenied(ServiceError):
    pass


class TenantSuspended(ServiceError):
    def __init__(self) -> None:
        super().__init__("this organisation's account is suspended")


class TenantMoving(ServiceError):
    """The organisation's data is being moved to another database (`sroi tenant
    move`): nothing was stored; the same request is stored when sent again."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self) -> None:
        super().__init__("this organisation's data is moving to another database: nothing was stored;"
                         f" send the request again in {self.RETRY_AFTER_SECONDS} seconds")
        self.headers = {"Retry-After": str(self.RETRY_AFTER_SECONDS)}


class Conflict(ServiceError):
    """The change conflicts with the current state (or with a concurrent change)."""


class IdempotencyKeyReused(ServiceError):
    field = "Idempotency-Key"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used for a different request")


class PersonErased(Conflict):
    """Erasure is final: nothing more is recorded about an erased person. The
    message says so and never repeats what the request wanted to record."""

    MESSAGE = "the person was erased: nothing more can be recorded about them"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)
        self.template, self.params = self.MESSAGE, {}  # translated on the pages (web/i18n/nl.po)


class Gone(ServiceError):
    """The record is there, what it held is not any more (a removed document,
    or one about a person who was erased)."""


class Damaged(ServiceError):
    """What the service keeps is not what it stored (a document's file changed
    or gone behind its back): refused rather than served."""


class TooLarge(ServiceError):
    """A file over the size limit, or over what the organisation may still store."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
