"""Period statements on the pages: a section on the contract page (the
statements, and for the agency a form to prepare one), and a statement's page
with its lines, their explanations and corrections, each line's evidence (its
contribution's documents and its own, with download links), the agency's
submit button and upload form per undecided line, and the deciding party's
form per line. The service works the lines
out (service/handlers/statements.py); the pages only show them.

A statement's page and its decision form also open for an authority
organisation's user (from its queue on /portfolio, or its contract's page), in
the agency that shares the statement with it (the viewer, web/pages/viewer.py:
provide_viewer); not shared answers 404, as an unknown id."""
from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.contract import SocialReturnContract
from domain.document import DOCUMENT_KINDS
from domain.statement import DECISIONS
from infra.settings import Settings
from service import commands as c
from service.errors import TooLarge
from service.handlers import statements as service
from web.api.document_routes import FORM_SLACK_BYTES
from web.ids import parse_id
from web.pages.answer import FORM_ERRORS, FormState, PageRenderer, answer
from web.pages.common import PageServices, fresh, may, new_idempotency_key
from web.pages.forms import Form
from web.pages.render import page
from web.pages.viewer import ORGANISATION_PAGES, Viewer, may_issue, roles

READERS = tuple(sorted(service.READERS))
ORGANISATION = {ORGANISATION_PAGES: True}


async def contract_section(services: PageServices, request: Request, viewer: Viewer,
                           contract: SocialReturnContract, state: FormState | None) -> dict[str, Any]:
    """The contract page's statements: each with its status and totals, the
    periods not yet reported, and (agency) the form to prepare one."""
    listed = await asyncio.to_thread(services.ledger.read, viewer.tenant, viewer.actor,
                                     lambda u: service.contract_statements(u, contract.id))
    state = state or FormState()
    first_open = listed["open_periods"][0] if listed["open_periods"] else {}
    return {"statements_section": {
        **listed, "can_prepare": may(viewer, c.PrepareStatement),
        "errors": dict(state.errors), "values": dict(state.values) or dict(first_open),
        "idempotency": new_idempotency_key()}}


@post("/contracts/{contract_id:str}/statements", guards=[may_issue(c.PrepareStatement)])
async def prepare_statement(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer], contract_id: FromPath[str],
                            contract_page: NamedDependency[PageRenderer]) -> Response:
    ident = parse_id("contract", contract_id)
    form = await Form.read(request)
    period_start, period_end = form.day("period_start"), form.day("period_end")

    async def show(state: FormState, status: int) -> Response:
        return await contract_page(services, request, viewer, contract_id, forms={"statements": state},
                                   status=status)

    return await answer(services, request, viewer, form, lambda: c.PrepareStatement(
        contract_id=ident, period_start=period_start, period_end=period_end), show=show, field="period_start",
                        to=lambda result: f"/statements/{result.body['id']}")


async def _statement_page(services: PageServices, request: Request, viewer: Viewer, statement_id: str,
                          state: FormState | None = None, status: int = 200) -> Response:
    ident = parse_id("statement", statement_id)
    shown = await asyncio.to_thread(services.ledger.read, viewer.tenant, viewer.actor,
                                    lambda u: service.statement_view(u, ident))
    state = state or FormState()
    return page(services.templates, request, "statement.html", {
        "statement": shown,
        "can_submit": may(viewer, c.SubmitStatement) and shown["status"] == "draft",
        "decides": viewer.role == shown["decided_by"] and may(viewer, c.DecideStatementLines)
        and shown["status"] == "submitted",
        "errors": dict(state.errors), "active_line": state.name, "values": dict(state.values),
        "decisions": DECISIONS, "idempotency": new_idempotency_key(),
        # The agency adds evidence to a submitted statement's undecided lines.
        "can_attach": may(viewer, c.AttachStatementLineDocument) and shown["status"] == "submitted",
        "document_kinds": DOCUMENT_KINDS,
    }, status=status)


@get("/statements/{statement_id:str}", name="statement", guards=[roles(*READERS)], opt=ORGANISATION)
async def statement_detail(request: Request, services: NamedDependency[PageServices],
                           viewer: NamedDependency[Viewer], statement_id: FromPath[str]) -> Response:
    await fresh(services, request, viewer)
    return await _statement_page(services, request, viewer, statement_id)


@post("/statements/{statement_id:str}/submit", guards=[may_issue(c.SubmitStatement)])
async def submit_statement(request: Request, services: NamedDependency[PageServices],
                           viewer: NamedDependency[Viewer], statement_id: FromPath[str]) -> Response:
    ident = parse_id("statement", statement_id)
    form = await Form.read(request)

    async def show(state: FormState, status: int) -> Response:
        return await _statement_page(services, request, viewer, statement_id, state, status)

    return await answer(services, request, viewer, form, c.SubmitStatement(statement_id=ident), show=show,
                        to=f"/statements/{statement_id}")


@post("/statements/{statement_id:str}/lines/{line_id:str}/decide", guards=[may_issue(c.DecideStatementLines)],
      opt=ORGANISATION)
async def decide_line(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                      statement_id: FromPath[str], line_id: FromPath[str]) -> Response:
    """One line's decision: accepted, or rejected with a reason."""
    ident = parse_id("statement", statement_id)
    form = await Form.read(request)
    decision = form.choice("decision", DECISIONS)
    reason = form.text("reason", required=False)
    if decision == "rejected" and not reason:
        form.error("reason", "reason_required")
    command = c.DecideStatementLines(statement_id=ident, decisions=(
        c.LineDecision(line_id=line_id[:20], decision=decision or "", reason=reason or None),))

    async def show(state: FormState, status: int) -> Response:
        return await _statement_page(services, request, viewer, statement_id,
                                     FormState(state.errors, state.values, name=line_id), status)

    return await answer(services, request, viewer, form, command, show=show, field="reason",
                        to=f"/statements/{statement_id}#line-{line_id}")


@post("/statements/{statement_id:str}/lines/{line_id:str}/documents",
      guards=[may_issue(c.AttachStatementLineDocument)])
async def attach_line_document(request: Request, services: NamedDependency[PageServices],
                               viewer: NamedDependency[Viewer], statement_id: FromPath[str],
                               line_id: FromPath[str]) -> Response:
    """A document for one line itself (multipart: kind, file); errors next to
    the line's upload form, a decided line a 409 with the message there."""
    ident = parse_id("statement", statement_id)
    form = await Form.read(request)
    kind = form.choice("kind", DOCUMENT_KINDS)
    filename, content = await form.upload("file")
    name = f"documents-{line_id[:20]}"

    async def show(state: FormState, status: int) -> Response:
        return await _statement_page(services, request, viewer, statement_id,
                                     FormState(state.errors, state.values, name=name), status)

    return await answer(
        services, request, viewer, form,
        lambda: c.AttachStatementLineDocument(statement_id=ident, line_id=line_id[:20], kind=kind or "",
                                              filename=filename, content=content),
        to=f"/statements/{statement_id}#line-{line_id[:20]}", show=show, field="file", name=name,
        shown_errors=(*FORM_ERRORS, TooLarge))


def configure(settings: Settings) -> None:
    """The upload's body limit from the settings (set before the routers copy the handler)."""
    attach_line_document.request_max_body_size = settings.document_max_bytes + FORM_SLACK_BYTES
    attach_line_document.opt["max_file_bytes"] = settings.document_max_bytes


HANDLERS = [prepare_statement, statement_detail, submit_statement, decide_line, attach_line_document]
