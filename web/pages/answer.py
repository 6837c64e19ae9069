"""The one way a page form is answered.

Every form on the pages runs its command through `answer`: when the form
reads well it runs the command as the viewer; a stored change answers 303 to
the form's page (carrying the position to wait for), or, for a form that swaps
its own section with htmx, the section again once the read models hold the
change. A form that does not read, or a command the service refuses, answers
the section (htmx) or the whole page again with the errors next to the
fields, at the status of the one mapping (web/outcomes.py: invalid 422, a
conflict 409, ...). The errors travel as a `FormState` argument to the
function that renders: never through the request.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response

from projections.reader import wait_for_position
from service.errors import Conflict, InvalidInput, InvalidReference, ServiceError
from web.outcomes import error_status
from web.pages.common import PageServices, execute, field_errors, redirect_after
from web.pages.forms import Form
from web.pages.render import wants_fragment
from web.pages.viewer import Viewer

# The service errors a form shows next to its fields; others (not visible,
# not allowed) answer with the error page.
FORM_ERRORS: tuple[type[ServiceError], ...] = (InvalidInput, InvalidReference, Conflict)


@dataclass(frozen=True)
class FormState:
    """What a page shows of one form: its errors and the values typed (after
    a refused change), or that it was just saved. `name` tells apart the
    forms of one section that share field names."""
    errors: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    saved: bool = False

# Renders the section (htmx) or the page with a form's state, at a status.
Show = Callable[[FormState, int], Awaitable[Response]]


async def answer(services: PageServices, request: Request, viewer: Viewer, form: Form, command: Any, *,
                 to: str | Callable[[Any], str], show: Show, field: str = "_form", name: str = "",
                 swaps: bool = False, read_models: Sequence[str] = (),
                 shown_errors: tuple[type[ServiceError], ...] = FORM_ERRORS) -> Response:
    """Run `command` (or `command()`, built only when the form reads well) and
    answer. `to`: the page after a change (303; or a function of the
    command's result, for a page of what it created). `field`: where an error
    the service does not tie to a field is shown. `swaps`: the form swaps its
    section with htmx, which gets the section back (after `read_models` hold
    the change) instead of a redirect."""
    if not form.ok:
        return await show(FormState(dict(form.errors), form.values(), name), 422)
    try:
        result = await execute(services, request, viewer, command() if callable(command) else command, form)
    except shown_errors as e:
        return await show(FormState(field_errors(e, form, field), form.values(), name), error_status(e))
    if not (swaps and wants_fragment(request)):
        return redirect_after(result, to(result) if callable(to) else to)
    if read_models:
        await wait_for_position(services.pool, viewer.tenant.id, read_models, result.position)
    return await show(FormState(name=name, saved=True), 200)


# A composite page's renderer (web/pages/assembly.py), which a feature's
# handler gets as a dependency by name: `placement_page`, `contract_page`,
# `employer_page`. Called as `(services, request, viewer, id, forms={...}, status=...)`.
PageRenderer = Callable[..., Awaitable[Response]]
