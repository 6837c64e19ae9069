"""The API's typed contract: the error body every route answers with, and the
error responses each route documents in the OpenAPI (`document_errors`, called
by web/api/auth.py's v1_router for every /api/v1 handler).

What a route can answer follows from what it takes, as web/errors.py and
web/outcomes.py answer it:
- every route: 401 (no, an invalid, revoked or expired token) and 403 (a role
  or organisation that may not do this);
- a path naming a record (`{..._id}`, a rule set's name): 404, also for an id
  that is not a UUID or a record the caller may not see;
- a JSON body: 400 (not JSON), 413 (over the body limit), 415 (not sent as
  JSON, web/api/body.py) and 422 (a field's type or value, naming the field);
- query parameters: 422 naming the parameter; one naming a record (`..._id`)
  also 404, as a path's id;
- a command (it answers a `CommandResult`): 409 (a concurrent edit, a stale
  If-Match, or a state that refuses it) and 422 (a reused Idempotency-Key);
- more per route through the handler's own `responses=` (a removed document's
  410, a document's 413), which win over these.

tests/api/test_openapi_contract.py walks the generated OpenAPI and fails for a
route without a typed 2xx schema or without these errors."""
from __future__ import annotations

import types
import typing
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

import msgspec
from dataclasses import dataclass

from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import Parameter

from domain.values import WHOLE_MAX


class FieldError(msgspec.Struct, kw_only=True):
    """One field's refusal: the field (a body field, `body`, a query or path parameter,
    or a header such as `If-Match`) and why."""

    field: str
    message: str


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every error the API answers: what went wrong, and per field why (absent when no
    single field is to blame)."""

    detail: str
    errors: list[FieldError] = []


ERROR_TEXT: dict[int, str] = {
    400: "The body is not valid JSON (errors name `body`).",
    401: "No valid bearer token: missing, unknown, revoked or expired (WWW-Authenticate says which).",
    403: "This role or organisation may not do this, or the tenant is suspended.",
    404: "No such record, or none this caller may see (an id that is not a UUID too).",
    409: "Refused in the record's current state: a concurrent change, an If-Match version that is "
         "no longer current, or a state that does not allow it (closed, erased, decided, ...).",
    410: "Gone: removed, or about a person who was erased.",
    413: "The request body (or file) is over its limit; the limit is in `detail`.",
    415: "The body is not sent as JSON (errors name `Content-Type`).",
    422: "Invalid input: `errors` names each field or parameter and why.",
    503: "Not ready: a dependency (database, broker) does not answer.",
}

_PLAIN = (str, int, float, bool, date, datetime, UUID, type(None))


def error_spec(status: int, text: str | None = None) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=text or ERROR_TEXT[status],
                        generate_examples=False)


def _is_query_type(annotation: Any) -> bool:
    """A query parameter's type (plain values, Literal, Optional); dependencies
    (Principal, Ledger, a pool) are objects of our own classes."""
    origin = get_origin(annotation)
    if origin is Literal:
        return True
    if origin in (Union, types.UnionType):
        return all(_is_query_type(a) for a in get_args(annotation))
    if origin is typing.Annotated:
        return _is_query_type(get_args(annotation)[0])
    return annotation in _PLAIN


def _hints(handler: Any) -> dict[str, Any]:
    """The handler function's annotations, resolved (read from the function
    itself: Litestar's own parsed signature is made once the handler is registered)."""
    fn = handler.fn
    return typing.get_type_hints(getattr(fn, "__wrapped__", fn), include_extras=True)


def _returns_command_result(hints: dict[str, Any]) -> bool:
    from web.api.answers import CommandResult

    annotation = hints.get("return")
    return any(isinstance(a, type) and issubclass(a, CommandResult) for a in (annotation, *get_args(annotation)))


def error_codes(handler: Any) -> set[int]:
    """The error statuses a /api/v1 handler can answer, from what it takes."""
    codes = {401, 403}
    hints = _hints(handler)
    params = {name: annotation for name, annotation in hints.items() if name != "return"}
    if any("{" in path for path in handler.paths):
        codes.add(404)
    if "data" in params:
        codes |= {400, 413, 415, 422}
    path_names = {name for path in handler.paths for name in _path_names(path)}
    query = [name for name, annotation in params.items()
             if name not in path_names and name not in ("data", "request") and _is_query_type(annotation)]
    if query:
        codes.add(422)
    if any(name.endswith("_id") for name in query):
        codes.add(404)  # a filter naming a record the caller may not see
    if _returns_command_result(hints):
        codes |= {409, 422}
    return codes


def _path_names(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


@dataclass
class ApiOperation(Operation):
    """An /api/v1 operation without Litestar's generic 400 (`{status_code, detail,
    extra}`, added for any handler with parameters): this API answers a bad
    parameter with a 422 in its own shape, and a 400 only for a body that is
    not JSON (documented as ErrorBody where a route takes one)."""

    def __post_init__(self) -> None:
        bad_request = (self.responses or {}).get("400")
        content = getattr(bad_request, "content", None) or {}
        if bad_request is not None and not any(isinstance(m.schema, Reference) for m in content.values()):
            del self.responses["400"]  # type: ignore[index]


@dataclass
class CsvOperation(ApiOperation):
    """An operation whose 200 is also text/csv (`?format=csv`)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = (self.responses or {}).get("200")
        if ok is not None and ok.content is not None:  # type: ignore[union-attr]
            ok.content["text/csv"] = OpenAPIMediaType(schema=Schema(  # type: ignore[union-attr]
                type=OpenAPIType.STRING, description="With ?format=csv: the same rows, semicolon-separated."))


def document_errors(handlers: list[Any]) -> list[Any]:
    """Add the error responses each handler can give to its OpenAPI `responses`
    (the handler's own `responses=` win)."""
    for handler in handlers:
        own = dict(handler.responses or {})
        handler.responses = {**{code: error_spec(code) for code in sorted(error_codes(handler))}, **own}
        if not issubclass(handler.operation_class, ApiOperation):
            handler.operation_class = ApiOperation
        if _returns_command_result(_hints(handler)):
            handler.response_headers = [*(handler.response_headers or ()), *COMMAND_HEADERS]
    return handlers


COMMAND_HEADERS = (
    ResponseHeader(name="X-Event-Position", documentation_only=True, description=(
        "The tenant's event position after the command: pass it as ?min_position= to read your own write.")),
    ResponseHeader(name="Idempotent-Replayed", documentation_only=True, required=False, description=(
        "true: the answer of an earlier request with the same Idempotency-Key, replayed.")),
)


# -- query parameters, as the OpenAPI documents them ------------------------------------------
# Declared in a handler's signature they are typed and checked (a wrong type: 422 naming the
# parameter); the handler still reads them through domain.values for ranges and defaults.

AsOf = Annotated[date | None, Parameter(description=(
    "The day the figures are for, YYYY-MM-DD (1900 to 2100); default today."))]
KnownAt = Annotated[datetime | None, Parameter(description=(
    "An ISO 8601 moment: the figures as they were known then, from the events recorded up to it; "
    "the answer adds known_at and known_position."))]
# Litestar leaves a bound of 0 out of the schema: `minimum` is given again in schema_extra.
MinPosition = Annotated[int | None, Parameter(ge=0, le=WHOLE_MAX, schema_extra={"minimum": 0}, description=(
    "An integer, 0 or more: the X-Event-Position a command returned; wait (at most 2 s) until the "
    "answer includes it; if not in time the answer carries X-Projection-Stale: true."))]


def day(description: str) -> Any:
    return Annotated[date | None, Parameter(description=description + " (YYYY-MM-DD, 1900 to 2100).")]


def whole(description: str, low: int, high: int) -> Any:
    return Annotated[int | None, Parameter(ge=low, le=high, schema_extra={"minimum": low},
                                           description=f"{description} ({low} to {high}).")]


def operation_id(route_handler: Any, http_method: str, path_components: list[Any]) -> str:
    """The operation's id in the OpenAPI: its handler's name (`register_employer`), which
    a generated client names its functions by. Unique: tests/api/test_openapi_contract.py."""
    return str(route_handler.handler_name)
