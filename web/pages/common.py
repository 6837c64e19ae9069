"""What every page handler shares: its services, running a command,
read-your-writes, redirects after a POST, and the HTML answers for errors.

A handler gets its services as the dependency `services` (a `PageServices`,
provided in web/pages/__init__.py) and passes them down to what it calls; no
page code reads the app's state."""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

from litestar import Request, Response
from litestar.exceptions import HTTPException

from infra.logsafe import describe
from projections import compliance, directory, retention
from projections.reader import wait_for_position
from service.errors import ServiceError, TenantMoving, TenantSuspended
from service.handlers import COMMAND_ROLES
from service.ledger import CommandResult, Ledger
from web.api.routes import correlation_id
from web.outcomes import error_status
from web.pages.forms import Form
from web.pages.i18n import ErrorMessage
from web.pages.render import Templates, page, wants_fragment
from web.pages.viewer import NotSignedIn, Viewer

log = logging.getLogger("sroi.web.pages")

ALL_READ_MODELS = (directory.NAME, compliance.NAME, retention.NAME)


def may(viewer: Viewer, command_type: type) -> bool:
    """Whether the viewer's role may issue this kind of command at all (the
    service's own table); ownership is still checked by the service."""
    return viewer.role in COMMAND_ROLES[command_type]


@dataclass(frozen=True)
class PageServices:
    """What a page handler uses besides its request: the ledger (commands and
    aggregates), the read pool (read models, sessions) and the templates."""
    ledger: Ledger
    pool: Any
    templates: Templates


async def get(services: PageServices, viewer: Viewer, kind: type, ident: UUID) -> Any:
    """An aggregate the viewer may see (NotFound otherwise), read in a thread."""
    return await asyncio.to_thread(services.ledger.get, viewer.tenant, viewer.actor, kind, ident)


async def get_with_history(services: PageServices, viewer: Viewer, kind: type, ident: UUID,
                           latest: int | None = None, skip: int = 0) -> tuple[Any, list[dict[str, Any]]]:
    """A visible aggregate and its event history (if given, only `latest`
    events after skipping the `skip` newest), read together in a thread."""
    return await asyncio.to_thread(services.ledger.get_with_history, viewer.tenant, viewer.actor, kind, ident,
                                   latest, skip)


async def record_special_category_read(services: PageServices, request: Request, viewer: Viewer,
                                       subject_id: UUID, fields: list[str]) -> None:
    """Log that the viewer is shown a person's special-category data (as the API does)."""
    await asyncio.to_thread(services.ledger.record_special_category_read, viewer.tenant, viewer.actor, subject_id,
                            fields, f"page {request.method} {request.url.path}",
                            request.headers.get("x-request-id"))


async def execute(services: PageServices, request: Request, viewer: Viewer, command: Any,
                  form: Form | None = None) -> CommandResult:
    """Run a command as the viewer. A form's `_idempotency` key makes a double
    submit store the change once."""
    key = form.raw("_idempotency") if form is not None else ""
    return await asyncio.to_thread(
        services.ledger.execute, viewer.tenant, viewer.actor, command,
        idempotency_key=key or None, correlation_id=request.headers.get("x-request-id") or str(uuid.uuid4()))


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def error_message(exc: ServiceError) -> ErrorMessage:
    """The service's error text, which the page shows in its own language."""
    return ErrorMessage(str(exc), exc.template, exc.params)


def field_errors(exc: ServiceError, form: Form, default_field: str = "_form") -> dict[str, str]:
    """The service's error, put next to the field it names (translated by the
    template's `m.error_text`)."""
    errors = dict(form.errors)
    errors[exc.field or default_field] = error_message(exc)
    return errors


async def fresh(services: PageServices, request: Request, viewer: Viewer,
                names: Sequence[str] = ALL_READ_MODELS) -> None:
    """Read your own writes: with ?min_position=N (the position a command
    returned), wait a little for the read models to include it. If they do
    not in time, the page says its figures may be behind."""
    raw = request.query_params.get("min_position")
    if not (raw and raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return
    ok = await wait_for_position(services.pool, viewer.tenant.id, names, int(raw))
    if not ok:
        request.scope["sroi.stale"] = True  # type: ignore[typeddict-unknown-key]


def redirect_after(result: CommandResult, to: str) -> Response:
    """303 See Other after a change, carrying the position to wait for."""
    path, hash_, anchor = to.partition("#")
    if result.position:
        path += ("&" if "?" in path else "?") + urlencode({"min_position": result.position})
    return Response(b"", status_code=303, headers={"Location": path + hash_ + anchor})


# -- errors as pages ------------------------------------------------------------

def not_signed_in_handler(request: Request, exc: NotSignedIn) -> Response:
    target = "/login"
    path = request.url.path
    if path not in ("/", "/login") and request.method == "GET":
        query = ("?" + request.url.query) if request.url.query else ""
        target += "?next=" + quote(path + query, safe="")
    if request.headers.get("hx-request") == "true":
        return Response(b"", status_code=200, headers={"HX-Redirect": target})
    return Response(b"", status_code=303, headers={"Location": target})


ERROR_KINDS = {403: "forbidden", 404: "not_found", 409: "conflict"}


class ErrorPages:
    """The error page for each kind of failure, rendered with the app's
    templates (given here when the pages are wired: an exception handler gets
    no dependencies)."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    def handlers(self) -> dict[Any, Callable[..., Response]]:
        return {
            NotSignedIn: not_signed_in_handler,
            ServiceError: self.service_error,
            HTTPException: self.http_error,
            Exception: self.internal_error,
        }

    def _page(self, request: Request, status: int, kind: str, headers: dict[str, str] | None = None) -> Response:
        return page(self.templates, request, "error.html", {"status": status, "kind": kind}, status=status,
                    headers=headers)

    def service_error(self, request: Request, exc: ServiceError) -> Response:
        """The error page, at the status of the one mapping (web/outcomes.py)."""
        status = error_status(exc)
        if isinstance(exc, TenantMoving):  # `sroi tenant move` is switching it: send again (Retry-After)
            return self._page(request, status, "moving", headers=exc.headers)
        kind = "suspended" if isinstance(exc, TenantSuspended) else ERROR_KINDS.get(status, "invalid")
        return self._page(request, status, kind)

    def http_error(self, request: Request, exc: HTTPException) -> Response:
        status = exc.status_code
        if status == 403:
            # Litestar's CSRF check: the form's token is missing or does not match.
            return self._page(request, 403, "csrf")
        if status == 404:
            return self._page(request, 404, "not_found")
        if status == 405:
            return self._page(request, 405, "method")
        if status == 413:
            return self._page(request, 413, "too_large")
        return self._page(request, status if 400 <= status < 600 else 500,
                          "invalid" if status < 500 else "internal")

    def internal_error(self, request: Request, exc: Exception) -> Response:
        """The error page, logged as the API's 500s are (web/errors.py): type,
        frames, route template and request id, never the exception's message."""
        request_id = correlation_id(request)
        log.error("unhandled %s on page %s %s (request %s)", describe(exc), request.method,
                  request.scope.get("path_template") or "?", request_id)
        response = self._page(request, 500, "internal")
        response.headers["X-Request-ID"] = request_id
        return response


def fragment_or_page(templates: Templates, request: Request, template: str, context: dict[str, Any], block: str,
                     status: int = 200) -> Response:
    """The named block for an htmx request, else the whole page."""
    return page(templates, request, template, context, block=block if wants_fragment(request) else None, status=status)
