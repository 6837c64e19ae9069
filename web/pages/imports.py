"""Spreadsheet import pages (docs/import.md): upload a file, see its preview
(counts, the file's errors, the column mapping, the rows a page at a time
with their errors per column), map columns again, confirm (with "keep the
file"), follow a large import's progress (htmx polls the progress fragment,
as the export page does; without JavaScript the page refreshes itself by a
link), delete a kept file. Agency users only. The service decides
everything (service/importing.py)."""
from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from service import importing
from service.errors import ServiceError
from web.ids import parse_id
from web.imports import ImportServices
from web.outcomes import error_status
from web.pages.common import PageServices
from web.pages.forms import Form
from web.pages.i18n import ErrorMessage
from web.pages.render import page, wants_fragment
from web.pages.viewer import Viewer, roles

READERS = ("agency",)
KIND_OPTIONS = importing.KINDS
FORM_SLACK_BYTES = 64 * 1024


def _message(e: dict[str, Any]) -> ErrorMessage:
    params = e.get("params") or {}
    text = e.get("message") or e["template"].format(**params)
    return ErrorMessage(text, e.get("template") or text, params)


def _failure(record: Any) -> ErrorMessage | None:
    """Why a failed import stopped, to show in the page's language."""
    result = record.result or {}
    if record.status != "failed" or not result.get("error"):
        return None
    return ErrorMessage(result["error"], result.get("template"), result.get("params"))


def _error(e: ServiceError) -> ErrorMessage:
    return ErrorMessage(str(e), getattr(e, "template", None) or str(e), getattr(e, "params", None) or {})


async def _imports_page(services: PageServices, request: Request, viewer: Viewer, imports: ImportServices, *,
                        values: dict | None = None, errors: dict | None = None, status: int = 200) -> Response:
    recent = await asyncio.to_thread(imports.store.recent, viewer.tenant.id)  # type: ignore[union-attr]
    return page(services.templates, request, "imports.html", {
        "imports": recent, "kinds": KIND_OPTIONS, "values": values or {}, "errors": errors or {},
    }, status=status)


@get("/imports", name="imports", guards=[roles(*READERS)])
async def imports_page(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       imports: NamedDependency[ImportServices]) -> Response:
    return await _imports_page(services, request, viewer, imports)


@post("/imports", guards=[roles(*READERS)], request_max_body_size=importing.MAX_FILE_BYTES + FORM_SLACK_BYTES)
async def upload_import(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        imports: NamedDependency[ImportServices]) -> Response:
    form = await Form.read(request)
    filename, content = await form.upload("file")
    kind = form.raw("kind") or None
    if not form.ok:
        return await _imports_page(services, request, viewer, imports, values=form.values(), errors=form.errors,
                                   status=422)
    try:
        ident = await asyncio.to_thread(importing.upload, services.ledger, imports.store, viewer.tenant,
                                        viewer.actor, filename, content, kind)
    except ServiceError as e:
        if e.field not in ("file", "kind", "mapping"):
            raise
        return await _imports_page(services, request, viewer, imports, values=form.values(),
                                   errors={e.field: _error(e)}, status=error_status(e))
    return Response(b"", status_code=303, headers={"Location": f"/imports/{ident}"})


def _rows(doc: dict[str, Any], page_no: int, status: str | None) -> tuple[list[dict[str, Any]], int]:
    rows = [r for r in doc.get("rows", []) if status is None or r["status"] == status]
    per = importing.PREVIEW_PAGE_ROWS
    pages = max(1, -(-len(rows) // per))
    page_no = min(max(page_no, 1), pages)
    chosen = rows[(page_no - 1) * per: page_no * per]
    return [{**r, "errors": [{**e, "text": _message(e)} for e in r["errors"]]} for r in chosen], pages


async def _import_page(services: PageServices, request: Request, viewer: Viewer, imports: ImportServices,
                       import_id: UUID, *, errors: dict | None = None, status: int = 200) -> Response:
    record = await asyncio.to_thread(importing.found, imports.store, viewer.tenant, viewer.actor, import_id)
    doc = await asyncio.to_thread(imports.store.preview, viewer.tenant.id, import_id)  # type: ignore[union-attr]
    doc = doc or {"sheets": [], "file_errors": [], "rows": []}
    raw_page = request.query_params.get("page", "1")
    page_no = int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 1
    shown = request.query_params.get("status")
    shown = shown if shown in ("ok", "error", "already", "duplicate") else None
    rows, pages = _rows(doc, page_no, shown)
    return page(services.templates, request, "import.html", {
        "record": record, "sheets": doc["sheets"], "file_errors": [{**e, "text": _message(e)}
                                                                   for e in doc["file_errors"]],
        "rows": rows, "page_no": min(max(page_no, 1), pages), "pages": pages, "shown": shown,
        "fields": {kind: list(importing.FIELDS[kind]) for kind in importing.KINDS},
        "result_errors": [{**e, "text": _message(e)} for e in (record.result or {}).get("errors", [])][:50],
        "errors": errors or {}, "preview_days": importing.PREVIEW_DAYS, "failure": _failure(record),
    }, status=status)


@get("/imports/{import_id:str}", guards=[roles(*READERS)])
async def import_detail(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        imports: NamedDependency[ImportServices], import_id: FromPath[str]) -> Response:
    return await _import_page(services, request, viewer, imports, parse_id("import", import_id))


@get("/imports/{import_id:str}/progress", guards=[roles(*READERS)])
async def import_progress(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          imports: NamedDependency[ImportServices], import_id: FromPath[str]) -> Response:
    """The progress fragment the import page polls (the whole page without htmx)."""
    ident = parse_id("import", import_id)
    record = await asyncio.to_thread(importing.found, imports.store, viewer.tenant, viewer.actor, ident)
    if not wants_fragment(request):
        return Response(b"", status_code=303, headers={"Location": f"/imports/{ident}"})
    return page(services.templates, request, "import.html", {"record": record, "result_errors": [],
                                                             "preview_days": importing.PREVIEW_DAYS,
                                                             "failure": _failure(record)},
                block="progress")


@post("/imports/{import_id:str}/mapping", guards=[roles(*READERS)])
async def map_import(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                     imports: NamedDependency[ImportServices], import_id: FromPath[str]) -> Response:
    """The mapping form: one select per column, named map-<sheet>-<column>."""
    ident = parse_id("import", import_id)
    form = await Form.read(request)
    doc = await asyncio.to_thread(imports.store.preview, viewer.tenant.id, ident)  # type: ignore[union-attr]
    await asyncio.to_thread(importing.found, imports.store, viewer.tenant, viewer.actor, ident)
    given: dict[str, dict[str, str]] = {}
    for i, sheet in enumerate((doc or {}).get("sheets", [])):
        for j, header in enumerate(sheet["headers"]):
            name = f"map-{i}-{j}"
            if name in form.data:
                given.setdefault(sheet["kind"], {})[header] = form.raw(name)
    try:
        await asyncio.to_thread(importing.remap, services.ledger, imports.store, viewer.tenant, viewer.actor,
                                ident, given)
    except ServiceError as e:
        if e.field not in ("mapping", "kind", "file") and error_status(e) != 409:
            raise
        return await _import_page(services, request, viewer, imports, ident,
                                  errors={"mapping": _error(e)}, status=error_status(e))
    return Response(b"", status_code=303, headers={"Location": f"/imports/{ident}"})


@post("/imports/{import_id:str}/confirm", guards=[roles(*READERS)])
async def confirm_import(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         imports: NamedDependency[ImportServices], import_id: FromPath[str]) -> Response:
    ident = parse_id("import", import_id)
    form = await Form.read(request)
    try:
        await asyncio.to_thread(importing.confirm_import, services.ledger, imports.store, viewer.tenant,
                                viewer.actor, ident, form.raw("fingerprint"), form.raw("keep_file") == "yes",
                                imports.enqueue)
    except ServiceError as e:
        if error_status(e) != 409:
            raise
        return await _import_page(services, request, viewer, imports, ident, errors={"confirm": _error(e)},
                                  status=409)
    return Response(b"", status_code=303, headers={"Location": f"/imports/{ident}"})


@post("/imports/{import_id:str}/forget-file", guards=[roles(*READERS)])
async def forget_file(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                      imports: NamedDependency[ImportServices], import_id: FromPath[str]) -> Response:
    ident = parse_id("import", import_id)
    try:
        await asyncio.to_thread(importing.forget_file, imports.store, viewer.tenant, viewer.actor, ident)
    except ServiceError as e:
        if error_status(e) != 409:
            raise
        return await _import_page(services, request, viewer, imports, ident, errors={"file": _error(e)},
                                  status=409)
    return Response(b"", status_code=303, headers={"Location": f"/imports/{ident}"})


HANDLERS = [imports_page, upload_import, import_detail, import_progress, map_import, confirm_import, forget_file]
