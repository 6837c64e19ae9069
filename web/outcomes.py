"""The one mapping from the service's answers to HTTP statuses, used by the
API (web/api/routes.py, web/errors.py) and the pages (web/pages/): a command
that created something is 201, one that changed something 200; each service
error has one status everywhere (a conflict is 409 on every route and form).
404 is the answer for anything not visible to the caller, so probing ids
reveals nothing."""
from __future__ import annotations

from service.errors import (
    Conflict,
    Damaged,
    Gone,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidReference,
    NotFound,
    PermissionDenied,
    ServiceError,
    TenantMoving,
    TenantSuspended,
    TooLarge,
)
from service.ledger import CommandResult

ERROR_STATUS: dict[type[ServiceError], int] = {
    NotFound: 404,
    InvalidInput: 422,
    InvalidReference: 422,
    IdempotencyKeyReused: 422,
    PermissionDenied: 403,
    TenantSuspended: 403,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    Damaged: 500,
    TenantMoving: 503,
}


def result_status(result: CommandResult) -> int:
    """201 Created or 200 OK."""
    return 201 if result.created else 200


def error_status(exc: ServiceError) -> int:
    """The status of a service error (400 for one not named above)."""
    return next((code for cls, code in ERROR_STATUS.items() if isinstance(exc, cls)), 400)
