"""Documents attached to contributions and to statement lines: upload
(multipart), list, download, remove. The service decides everything (who may, the size, the type sniffed
from the content); these routes read the form and shape the answer.

The upload reads its own form rather than a typed `data` body, so that an id
the caller may not see is a 404 whatever the body (the sweep's answer for
every route), and a missing file a 422 naming `file`. Its body limit is the
document limit (DOCUMENT_MAX_BYTES) plus room for the form around the file.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath

from infra.settings import Settings
from service import commands as c
from domain.document import DOCUMENT_KINDS
from service.handlers import documents
from service.ledger import Ledger
from web.api import answers as a
from web.api.auth import Principal, v1_router
from web.api.contract import ApiOperation, error_spec
from web.api.routes import correlation_id, run
from web.ids import parse_id

# Room for the multipart framing and the `kind` field around the file.
FORM_SLACK_BYTES = 64 * 1024


@dataclass
class UploadOperation(ApiOperation):
    """The OpenAPI of an upload: its multipart body (`file`, `kind`), which the
    handler reads itself (see above), so Litestar cannot infer it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(required=True, content={"multipart/form-data": OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.OBJECT, required=["file", "kind"], properties={
                "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY,
                               description="A PDF, PNG or JPEG; its type is read from its content."),
                "kind": Schema(type=OpenAPIType.STRING, enum=list(DOCUMENT_KINDS)),
            }))})


UPLOAD_ERRORS = {
    400: error_spec(400, "The multipart form cannot be read (truncated, or no boundary)."),
    413: error_spec(413, "The file is over DOCUMENT_MAX_BYTES or the tenant's DOCUMENT_QUOTA_BYTES "
                         "(`detail` says the limit; errors name `file`)."),
    422: error_spec(422, "No file, a file that is not a PDF, PNG or JPEG, or an unknown kind "
                         "(errors name `file` or `kind`)."),
}


def attachment_headers(filename: str, media_type: str) -> dict[str, str]:
    """Download, never display: the browser saves the file under its name
    (an ASCII fallback and the UTF-8 name, RFC 6266) and never second-guesses
    the sniffed type."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename) or "document"
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
            "Content-Type": media_type}


async def read_upload(request: Request) -> tuple[str, str, bytes]:
    """(kind, filename, content) from a multipart form; empty where not given
    (the service names what is missing, after checking the record is visible)."""
    form = await request.form()
    upload = form.get("file")
    kind = form.get("kind")
    if isinstance(upload, UploadFile):
        return (kind if isinstance(kind, str) else ""), upload.filename or "", await upload.read()
    return (kind if isinstance(kind, str) else ""), "", b""


def document_router(settings: Settings) -> Router:
    limit = settings.document_max_bytes + FORM_SLACK_BYTES

    @post("/contributions/{contribution_id:str}/documents", request_max_body_size=limit,
          opt={"max_file_bytes": settings.document_max_bytes}, operation_class=UploadOperation,
          responses=UPLOAD_ERRORS)
    async def attach_document(contribution_id: FromPath[str], request: Request,
                              principal: NamedDependency[Principal], ledger: NamedDependency[Ledger]) -> Response[a.DocumentAttached]:
        """Attach a document (multipart/form-data: `file`, a PDF, PNG or JPEG,
        its type judged by its content; `kind`: invoice, target_group_declaration,
        pso_certificate, payslip or other)."""
        ident = parse_id("contribution", contribution_id)
        kind, filename, content = await read_upload(request)
        return await asyncio.to_thread(run, ledger, principal, request, c.AttachDocument(
            record_kind="contribution", record_id=ident, kind=kind, filename=filename, content=content))

    @get("/contributions/{contribution_id:str}/documents", sync_to_thread=True)
    def list_documents(contribution_id: FromPath[str], principal: NamedDependency[Principal],
                       ledger: NamedDependency[Ledger]) -> Response[a.ContributionDocuments]:
        """The contribution's documents you may see: kind, name, type, size,
        SHA-256, who attached it and when; never the content."""
        ident = parse_id("contribution", contribution_id)
        return Response({"contribution_id": str(ident),
                         "documents": ledger.documents_of(principal.tenant, principal.actor, "contribution", ident)})

    @post("/statements/{statement_id:str}/lines/{line_id:str}/documents", request_max_body_size=limit,
          opt={"max_file_bytes": settings.document_max_bytes}, operation_class=UploadOperation,
          responses=UPLOAD_ERRORS)
    async def attach_line_document(statement_id: FromPath[str], line_id: FromPath[str], request: Request,
                                   principal: NamedDependency[Principal], ledger: NamedDependency[Ledger]) -> Response[a.DocumentAttached]:
        """Attach a document to a submitted statement's line itself (agency;
        multipart/form-data as for a contribution), while the line is
        undecided: a decided line's evidence is frozen (409)."""
        ident = parse_id("statement", statement_id)
        kind, filename, content = await read_upload(request)
        return await asyncio.to_thread(run, ledger, principal, request, c.AttachStatementLineDocument(
            statement_id=ident, line_id=line_id, kind=kind, filename=filename, content=content))

    @get("/statements/{statement_id:str}/lines/{line_id:str}/documents", sync_to_thread=True)
    def list_line_documents(statement_id: FromPath[str], line_id: FromPath[str],
                            principal: NamedDependency[Principal], ledger: NamedDependency[Ledger]) -> Response[a.LineDocuments]:
        """The line's own documents you may see (its contribution's are on the
        contribution, and on the statement's lines), as for a contribution."""
        ident = parse_id("statement", statement_id)
        return Response({"statement_id": str(ident), "line_id": line_id,
                         "documents": ledger.read(principal.tenant, principal.actor,
                                                  lambda u: documents.documents_of_line(u, ident, line_id))})

    @get("/documents/{document_id:str}", sync_to_thread=True, media_type="application/octet-stream",
         responses={410: error_spec(410, "The document was removed, or the person it was about erased.")})
    def download_document(document_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                          ledger: NamedDependency[Ledger]) -> Response[bytes]:
        """The document's content, as an attachment with its sniffed type; 410
        once removed or once the person it was about was erased."""
        document, filename, content = ledger.document_content(
            principal.tenant, principal.actor, parse_id("document", document_id), correlation_id(request))
        return Response(content=content, headers=attachment_headers(filename, document.media_type),
                        media_type=document.media_type)

    @delete("/documents/{document_id:str}", sync_to_thread=True, status_code=200)
    def remove_document(document_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                        ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
        """Remove a document (agency): recorded, and its bytes deleted."""
        return run(ledger, principal, request, c.RemoveDocument(document_id=parse_id("document", document_id)))

    return v1_router([attach_document, list_documents, attach_line_document, list_line_documents,
                      download_document, remove_document], "documents")
