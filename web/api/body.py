"""JSON request bodies are read strictly, as the OpenAPI describes them.

Litestar decodes a body into plain Python first and then converts it leniently
(`"5"` becomes the integer 5, `"true"` a boolean), and its first decoding
recurses without bound: a body nested 20,000 levels deep raised a
RecursionError (a 500). This hook runs before it, on every API route that
takes a body: it decodes the body straight into the route's schema
(web/api/schemas.py) with msgspec in strict mode, so

- each JSON value must have the type the OpenAPI gives: a string where it says
  string (dates, ids, decimals), an integer where it says integer, true/false
  for booleans; anything else is a 422 naming the field;
- decoding stops at the first value that does not fit the schema, so depth is
  bounded by the schema's own (and a RecursionError is still a 400);
- a body sent as anything but JSON is a 415 naming Content-Type.

Litestar then decodes the same, now known good, body as before.
"""
from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"(?:missing required field|unknown field) `([^`]+)`")
_DECODERS: dict[Any, msgspec.json.Decoder] = {}


def _refused(status: int, detail: str, field: str, message: str) -> Response:
    # The shape of web/errors.py's error_body (which imports the routes, so not from here).
    return Response({"detail": detail, "errors": [{"field": field, "message": message}]}, status_code=status)


def _schema(field: Any) -> Any:
    """The body's type with the msgspec constraints of its annotation: Litestar
    keeps them apart (`metadata`), and a top-level list's length limits
    (`LineDecisions`: 1 to 1000 decisions) would otherwise go unchecked."""
    metas = tuple(m for m in getattr(field, "metadata", ()) if isinstance(m, msgspec.Meta))
    return Annotated[(field.annotation, *metas)] if metas else field.annotation


def _decoder(handler: Any) -> msgspec.json.Decoder | None:
    if handler not in _DECODERS:
        field = handler.parsed_fn_signature.parameters.get("data")
        _DECODERS[handler] = None if field is None else msgspec.json.Decoder(_schema(field), strict=True)
    return _DECODERS[handler]


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def field_of(error: str) -> tuple[str, str]:
    """(field, message) from a msgspec error: `Expected `int`, got `str` - at `$.score``
    names `score`; a missing or unknown field names itself; list items are `name.0`."""
    m = _AT.match(error)
    message, path = (m.group("message"), m.group("path") or "") if m else (error, "")
    field = path.replace("[", ".").replace("]", "").lstrip(".")  # `$[0].line_id`: 0.line_id
    named = _NAMED.search(message)
    if named:
        field = f"{field}.{named.group(1)}" if field else named.group(1)
    return field or "body", message.replace("`", "'")


async def strict_json_body(request: Request) -> Response | None:
    """A before_request hook: None to go on, or the error response."""
    decoder = _decoder(request.route_handler)
    if decoder is None:
        return None
    body = await request.body()
    if not body:
        return None  # Litestar answers that the body is required
    if not _is_json(request.headers.get("content-type", "")):
        return _refused(415, "the request body must be JSON", "Content-Type", "must be application/json")
    try:
        decoder.decode(body)
    except msgspec.ValidationError as e:
        field, message = field_of(str(e))
        return _refused(422, "invalid input", field, message)
    except msgspec.DecodeError as e:
        return _refused(400, "the request body is not valid JSON", "body", str(e).replace("`", "'"))
    except RecursionError:
        return _refused(400, "the request body is not valid JSON", "body", "nested too deeply")
    return None
