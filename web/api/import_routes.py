"""Spreadsheet import (docs/import.md): upload a CSV or XLSX file and get its
preview, read the preview's rows, map its columns again, confirm it (stored
at once, or by the worker with progress), read its status, forget a kept
file. Agency users only; an import is its tenant's only (another tenant's id
is a 404, as an unknown one). The service decides everything
(service/importing.py); these routes read the request and shape the answer.

The upload reads its own multipart form (like the documents' upload), so a
missing file is a 422 naming `file`; its body limit is the import's file
limit plus room for the form."""
from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter

from infra.import_store import ImportRecord
from service import importing
from service.errors import InvalidInput
from service.ledger import Ledger
from web.api.auth import Principal, v1_router
from web.api.contract import error_spec
from web.api.schemas import Body
from web.ids import parse_id
from web.imports import ImportServices

FORM_SLACK_BYTES = 64 * 1024
Mapping = Annotated[dict[Annotated[str, msgspec.Meta(max_length=40)],
                         Annotated[dict[Annotated[str, msgspec.Meta(max_length=200)],
                                        Annotated[str, msgspec.Meta(max_length=60)]],
                                   msgspec.Meta(max_length=60)]],
                    msgspec.Meta(max_length=5)]


def _errors(*codes: int) -> dict[int, ResponseSpec]:
    """The errors a route answers beyond what web/api/contract.py reads from its signature."""
    return {code: error_spec(code) for code in codes}


class RowError(msgspec.Struct):
    column: str
    field: str
    message: str


class PreviewRow(msgspec.Struct):
    sheet: str
    kind: str
    row: int
    status: str  # ok | error | already | duplicate
    cells: dict[str, str]
    errors: list[RowError]


class KindCounts(msgspec.Struct):
    rows: int
    ok: int
    error: int
    already: int
    duplicate: int


class SheetOut(msgspec.Struct):
    name: str
    kind: str
    headers: list[str]
    mapping: dict[str, str]


class FileError(msgspec.Struct):
    sheet: str
    field: str
    message: str


class ImportOut(msgspec.Struct):
    id: UUID
    filename: str
    file_type: str
    status: str  # previewed | queued | running | done | failed | expired
    fingerprint: str
    rows: int
    ok: int
    error: int
    already: int
    duplicate: int
    by_kind: dict[str, KindCounts]
    done: int
    total: int | None
    new: int | None
    keep_file: bool
    file_kept: bool
    failure: str | None = None


class PreviewOut(msgspec.Struct):
    id: UUID
    fingerprint: str
    status: str
    sheets: list[SheetOut]
    file_errors: list[FileError]
    page: int
    pages: int
    rows: list[PreviewRow]


class MappingIn(Body):
    """Which field each column holds, per kind: {"placements": {"Uren": "hours_per_week", "Notitie": ""}}
    ("" leaves a column out)."""

    mapping: Mapping


class ConfirmIn(Body):
    """Confirm the preview you saw (its `fingerprint`); `keep_file`: keep the uploaded file (sealed) afterwards."""

    fingerprint: Annotated[str, msgspec.Meta(max_length=64)]
    keep_file: bool = False


def import_out(record: ImportRecord) -> ImportOut:
    s = record.summary
    result = record.result or {}
    return ImportOut(
        id=record.id, filename=record.filename, file_type=record.file_type, status=record.status,
        fingerprint=record.fingerprint, rows=int(s.get("rows", 0)), ok=int(s.get("ok", 0)),
        error=int(s.get("error", 0)), already=int(s.get("already", 0)), duplicate=int(s.get("duplicate", 0)),
        by_kind={k: KindCounts(**v) for k, v in s.get("by_kind", {}).items()},
        done=record.done, total=record.total, new=result.get("new") if record.status == "done" else None,
        keep_file=record.keep_file, file_kept=record.has_file and record.finished,
        failure=result.get("error") if record.status == "failed" else None)


def message(e: dict[str, Any]) -> str:
    return e.get("message") or e["template"].format(**e.get("params", {}))


async def read_form(request: Request) -> tuple[str, bytes, str | None, dict[str, dict[str, str]] | None]:
    form = await request.form()
    upload = form.get("file")
    kind = form.get("kind")
    raw_mapping = form.get("mapping")
    given = None
    if isinstance(raw_mapping, str) and raw_mapping.strip():
        try:
            given = msgspec.json.decode(raw_mapping.encode(), type=Mapping, strict=True)
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            raise InvalidInput("mapping", f"must be JSON: {{kind: {{column: field}}}} ({e})") from None
    if isinstance(upload, UploadFile):
        return upload.filename or "", await upload.read(), kind if isinstance(kind, str) and kind else None, given
    return "", b"", kind if isinstance(kind, str) and kind else None, given


def import_router() -> Router:
    limit = importing.MAX_FILE_BYTES + FORM_SLACK_BYTES

    @post("/imports", request_max_body_size=limit, status_code=201, responses=_errors(401, 403, 413, 422))
    async def upload_import(request: Request, principal: NamedDependency[Principal], ledger: NamedDependency[Ledger],
                            imports: NamedDependency[ImportServices]) -> ImportOut:
        """Upload a spreadsheet (multipart/form-data: `file`, CSV or XLSX, its
        type judged by its content; `kind`: employers, contracts, candidates,
        placements or purchases (Dutch names too), for a CSV or a one-sheet
        workbook; `mapping`: optional JSON {kind: {column: field}}). Answers the
        preview's counts and `fingerprint`; nothing is stored until confirmed."""
        filename, content, kind, given = await read_form(request)

        def run() -> ImportOut:
            ident = importing.upload(ledger, imports.store, principal.tenant, principal.actor, filename, content,
                                     kind, given)
            return import_out(imports.store.get(principal.tenant.id, ident))  # type: ignore[arg-type]
        return await asyncio.to_thread(run)

    @get("/imports/{import_id:str}", sync_to_thread=True, responses=_errors(401, 403, 404))
    def read_import(import_id: FromPath[str], principal: NamedDependency[Principal],
                    imports: NamedDependency[ImportServices]) -> ImportOut:
        """An import: its counts, status and progress (`done` of `total` rows), and once done how many rows were new."""
        return import_out(importing.found(imports.store, principal.tenant, principal.actor,
                                          parse_id("import", import_id)))

    @get("/imports/{import_id:str}/preview", sync_to_thread=True, responses=_errors(401, 403, 404, 422))
    def read_preview(import_id: FromPath[str], principal: NamedDependency[Principal],
                     imports: NamedDependency[ImportServices],
                     page: Annotated[int, Parameter(ge=1, le=10_000, description="the page of 50 rows, from 1")] = 1,
                     status: Annotated[str | None, Parameter(pattern="^(ok|error|already|duplicate)$",
                                                        description="only the rows with this status")] = None,
                     ) -> PreviewOut:
        """The preview's rows, a page of 50 (`status`: only rows with that
        status), each with its cells by column and its errors by column."""
        ident = parse_id("import", import_id)
        record = importing.found(imports.store, principal.tenant, principal.actor, ident)
        doc = imports.store.preview(principal.tenant.id, ident) or {"sheets": [], "file_errors": [], "rows": []}
        return preview_out(record, doc, page, status)

    @post("/imports/{import_id:str}/mapping", sync_to_thread=True, status_code=200,
          responses=_errors(401, 403, 404, 409, 415, 422))
    def map_import(import_id: FromPath[str], data: JSONBody[MappingIn], principal: NamedDependency[Principal],
                   ledger: NamedDependency[Ledger], imports: NamedDependency[ImportServices]) -> ImportOut:
        """Map columns again and preview again: a new `fingerprint` (a confirm of the old one is refused)."""
        ident = parse_id("import", import_id)
        importing.remap(ledger, imports.store, principal.tenant, principal.actor, ident, data.mapping)
        return import_out(imports.store.get(principal.tenant.id, ident))  # type: ignore[arg-type]

    @post("/imports/{import_id:str}/confirm", sync_to_thread=True, status_code=200,
          responses=_errors(401, 403, 404, 409, 415, 422))
    def confirm_import(import_id: FromPath[str], data: JSONBody[ConfirmIn], principal: NamedDependency[Principal],
                       ledger: NamedDependency[Ledger], imports: NamedDependency[ImportServices]) -> ImportOut:
        """Store the previewed rows that are valid, as the ordinary commands, with
        the import's id as their correlation id; rows imported before store
        nothing. A large file is stored by the worker: `status` queued, then
        running (`done` of `total`), then done."""
        ident = parse_id("import", import_id)
        importing.confirm_import(ledger, imports.store, principal.tenant, principal.actor, ident, data.fingerprint,
                                 data.keep_file, imports.enqueue)
        return import_out(imports.store.get(principal.tenant.id, ident))  # type: ignore[arg-type]

    @delete("/imports/{import_id:str}/file", sync_to_thread=True, status_code=200,
            responses=_errors(401, 403, 404, 409))
    def forget_file(import_id: FromPath[str], principal: NamedDependency[Principal],
                    imports: NamedDependency[ImportServices]) -> ImportOut:
        """Delete a kept file of a finished import."""
        ident = parse_id("import", import_id)
        importing.forget_file(imports.store, principal.tenant, principal.actor, ident)
        return import_out(imports.store.get(principal.tenant.id, ident))  # type: ignore[arg-type]

    return v1_router([upload_import, read_import, read_preview, map_import, confirm_import, forget_file], "imports")


def preview_out(record: ImportRecord, doc: dict[str, Any], page: int, status: str | None) -> PreviewOut:
    sheets = doc.get("sheets", [])
    rows = [r for r in doc.get("rows", []) if status is None or r["status"] == status]
    per = importing.PREVIEW_PAGE_ROWS
    pages = max(1, -(-len(rows) // per))
    chosen = rows[(page - 1) * per: page * per]
    out = []
    for r in chosen:
        headers = sheets[r["sheet"]]["headers"] if r["sheet"] < len(sheets) else []
        out.append(PreviewRow(
            sheet=sheets[r["sheet"]]["name"] if r["sheet"] < len(sheets) else "", kind=r["kind"], row=r["row"],
            status=r["status"], cells=dict(zip(headers, r["cells"])),
            errors=[RowError(column=e.get("column") or e["field"], field=e["field"], message=message(e))
                    for e in r["errors"]]))
    return PreviewOut(
        id=record.id, fingerprint=record.fingerprint, status=record.status,
        sheets=[SheetOut(name=s["name"], kind=s["kind"], headers=s["headers"], mapping=s["mapping"]) for s in sheets],
        file_errors=[FileError(sheet=e.get("sheet", ""), field=e["field"], message=message(e))
                     for e in doc.get("file_errors", [])],
        page=page, pages=pages, rows=out)

