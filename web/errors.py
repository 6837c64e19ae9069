"""Every error is JSON: {"detail": ..., "errors": [{"field", "message"}]}.

Service errors take their status from the one mapping in web/outcomes.py
(shared with the pages). 404 is the answer for anything not visible to the
caller, so probing ids reveals nothing."""
from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
import msgspec
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from infra.documents import describe_bytes
from infra.logsafe import describe
from infra.registry import RegistryError
from service.errors import ServiceError
from web.api.routes import correlation_id
from web.outcomes import error_status

log = logging.getLogger("sroi.web")

_MISSING_RE = re.compile(r"missing required field `([^`]+)`")
_AT_RE = re.compile(r"- at `\$\.?([^`]*)`")
_UNKNOWN_RE = re.compile(r"unknown field `([^`]+)`")


def error_body(detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return body


def service_error_handler(request: Request, exc: ServiceError) -> Response:
    status = error_status(exc)
    errors = [{"field": exc.field, "message": str(exc)}] if exc.field else None
    return Response(error_body(str(exc), errors), status_code=status, headers=getattr(exc, "headers", None))


def registry_error_handler(request: Request, exc: RegistryError) -> Response:
    return Response(error_body(str(exc), [{"field": exc.field, "message": str(exc)}]), status_code=422)


def _field_of(message: str, key: str | None) -> str:
    for pattern in (_MISSING_RE, _UNKNOWN_RE, _AT_RE):
        m = pattern.search(message)
        if m and m.group(1):
            return m.group(1).replace("[", ".").replace("]", "")
    return key or "body"


def _query_names(request: Request) -> dict[str, str]:
    """A handler's parameters that the query names otherwise (`period_from` is `?from=`)."""
    try:
        parameters = request.route_handler.parsed_fn_signature.parameters
    except Exception:  # no handler (an early answer)
        return {}
    names = {}
    for name, p in parameters.items():
        given = getattr(p.kwarg_definition, "name", None) or getattr(p.kwarg_definition, "query", None)
        if given:
            names[name] = given
    return names


def validation_error_handler(request: Request, exc: ValidationException) -> Response:
    """Litestar's 400 for undecodable or mistyped input becomes 422 naming each field
    (a query parameter by the name the query gives it)."""
    errors = []
    query_names = _query_names(request)
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "invalid value"))
        key = item.get("key")
        if item.get("source") == "query" and key in query_names:
            key = query_names[key]
        # Litestar names the body parameter "data"; the field is the key
        # after it, or is found in msgspec's message.
        field = _field_of(message, None if key in (None, "data", "body") else str(key).removeprefix("data."))
        if field == "body" and message.strip("'") == "data":
            message = "a JSON request body is required"
        errors.append({"field": field, "message": _tidy(message)})
    if not errors:
        errors = [{"field": "body", "message": _tidy(str(exc.detail))}]
    malformed = any("malformed" in e["message"].lower() or "JSON is malformed" in e["message"]
                    for e in errors)
    if malformed:
        return Response(error_body("the request body is not valid JSON",
                                   [{"field": "body", "message": errors[0]["message"]}]),
                        status_code=400)
    return Response(error_body("invalid input", errors), status_code=422)


def _tidy(message: str) -> str:
    return message.replace("`", "'")


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    detail = str(exc.detail)
    errors = None
    if exc.status_code == 400 and isinstance(exc.__cause__, (SerializationException, msgspec.DecodeError)):
        # Litestar raises an undecodable body (malformed, truncated) as a plain 400.
        detail, errors = "the request body is not valid JSON", [{"field": "body", "message": _tidy(str(exc.detail))}]
    elif exc.status_code == 413:
        max_file = request.route_handler.opt.get("max_file_bytes")
        if max_file is not None:  # a document upload: the limit is the file's
            detail = f"the file is too large: a document may be at most {describe_bytes(max_file)}"
            errors = [{"field": "file", "message": detail}]
        else:
            limit = request.route_handler.resolve_request_max_body_size() or request.app.request_max_body_size
            detail, errors = "the request body is too large", [{"field": "body", "message": f"must be at most {limit} bytes"}]
    return Response(error_body(detail, errors), status_code=exc.status_code,
                    headers=getattr(exc, "headers", None))


def internal_error_handler(request: Request, exc: Exception) -> Response:
    """500, logged by type, frames (infra/logsafe.py), route template and
    request id: never the exception's message nor the concrete path or query,
    which can carry personal data. The request id is in the answer's
    X-Request-ID, for the caller to quote."""
    request_id = correlation_id(request)
    log.error("unhandled %s on %s %s (request %s)", describe(exc), request.method,
              request.scope.get("path_template") or "?", request_id)
    return Response(error_body("internal error"), status_code=HTTP_500_INTERNAL_SERVER_ERROR,
                    headers={"X-Request-ID": request_id})


EXCEPTION_HANDLERS = {
    ServiceError: service_error_handler,
    RegistryError: registry_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
