"""Documents on the pages: the contract page's evidence section (each
contribution's documents, with an upload form for those who may attach) and
the download (also for an organisation's user, of a record shared with it:
the contract and statement pages' links; the viewer works in the agency
that shares it, web/pages/viewer.py). The service decides who sees which document (an employer never
a payslip or a target-group declaration) and reads the type from the content.

The upload's body limit is the document limit plus room for the form
(`configure`, from the settings, before the routers are built).
"""
from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.document import DOCUMENT_KINDS
from infra.settings import Settings
from service import commands as c
from service.errors import NotFound, TooLarge
from service.handlers.documents import READERS
from web.api.document_routes import FORM_SLACK_BYTES, attachment_headers
from web.api.routes import correlation_id
from web.ids import parse_id
from web.pages.answer import FORM_ERRORS, FormState, PageRenderer, answer
from web.pages.common import PageServices, may
from web.pages.common import get as get_aggregate
from web.pages.forms import Form
from web.pages.viewer import ORGANISATION_PAGES, Viewer, may_issue, roles

# Also for a platform organisation's user, on a record an agency shares with it (web/pages/viewer.py).
SHARED = {ORGANISATION_PAGES: True}


async def contract_section(services: PageServices, viewer: Viewer, contributions: list[dict[str, Any]],
                           state: FormState | None) -> dict[str, Any]:
    """The contract page's documents: per contribution id what the viewer may see."""
    ids = [UUID(k["id"]) for k in contributions]
    found = await asyncio.to_thread(services.ledger.documents_of_records, viewer.tenant, viewer.actor,
                                    "contribution", ids)
    state = state or FormState()
    return {"documents": {str(record): docs for record, docs in found.items()},
            "can_attach": may(viewer, c.AttachDocument) and bool(contributions),
            "document_kinds": DOCUMENT_KINDS,
            "document_errors": dict(state.errors), "document_values": dict(state.values)}


@post("/contracts/{contract_id:str}/documents", guards=[may_issue(c.AttachDocument)], opt=SHARED)
async def attach_document(request: Request, services: NamedDependency[PageServices],
                          viewer: NamedDependency[Viewer], contract_id: FromPath[str],
                          contract_page: NamedDependency[PageRenderer]) -> Response:
    ident = parse_id("contract", contract_id)
    await get_aggregate(services, viewer, SocialReturnContract, ident)  # visible, else 404
    form = await Form.read(request)
    contribution_id = form.ident("contribution_id")
    kind = form.choice("kind", DOCUMENT_KINDS)
    filename, content = await form.upload("file")
    if contribution_id is not None:
        # The contribution must belong to this contract (the URL names the contract).
        contribution = await get_aggregate(services, viewer, Contribution, contribution_id)
        if contribution.contract_id != ident:
            raise NotFound("contribution", contribution_id)

    async def show(state: FormState, status: int) -> Response:
        return await contract_page(services, request, viewer, contract_id, forms={"documents": state},
                                   status=status)

    return await answer(
        services, request, viewer, form,
        lambda: c.AttachDocument(record_kind="contribution", record_id=contribution_id,  # type: ignore[arg-type]
                                 kind=kind or "", filename=filename, content=content),
        to=f"/contracts/{contract_id}#documents", show=show, field="file", name="documents",
        shown_errors=(*FORM_ERRORS, TooLarge))


@get("/documents/{document_id:str}/download", guards=[roles(*READERS)], opt=SHARED)
async def download_document(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer], document_id: FromPath[str]) -> Response:
    ident = parse_id("document", document_id)
    document, filename, content = await asyncio.to_thread(
        services.ledger.document_content, viewer.tenant, viewer.actor, ident, correlation_id(request))
    return Response(content=content, headers=attachment_headers(filename, document.media_type),
                    media_type=document.media_type)


def configure(settings: Settings) -> None:
    """The upload's body limit from the settings (set before the routers copy the handler)."""
    attach_document.request_max_body_size = settings.document_max_bytes + FORM_SLACK_BYTES
    attach_document.opt["max_file_bytes"] = settings.document_max_bytes


HANDLERS = [attach_document, download_document]
