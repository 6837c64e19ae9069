"""Documents attached to records as evidence (domain/document.py): attaching
and removing them, and listing a record's documents.

A record kind is attachable when RECORDS says how to load it (through the
visibility policy) and whom it is about: a placement's contribution is about
its candidate, so its documents are sealed under the candidate's key and
erased with them; a purchase or an activity is about no one.

A statement line takes documents of its own (`("statement_line",
statement id)` with the line's id): the agency's, while the line is
undecided; the statement records each (Statement.attach_line_document), so a
decision and an upload at the same moment cannot both pass. A line about a
placement is about its candidate, as the placement's contribution is.
Attaching, sealing, limits and quota are the same code for both
(`_attach`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.contribution import Contribution
from domain.document import PERSONAL_KINDS, Document
from domain.placement import Placement
from domain.statement import Statement
from infra.documents import DeleteDocument, StoreDocument, describe_bytes, sniff
from service import commands as c
from service.errors import InvalidInput, NotFound, PermissionDenied, TooLarge
from service.handlers.erasure import refuse_if_erased
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()

# Who sees the documents of a record: whoever sees the record (service/visibility.py).
READERS = frozenset({"agency", "auditor", "authority", "employer"})


def _contribution(u: Unit, record_id: UUID) -> tuple[Any, UUID | None]:
    contribution = u.get(Contribution, record_id)
    if contribution.placement_id is None:
        return contribution, None
    placement = u.load(contribution.placement_id)
    return contribution, placement.candidate_id if isinstance(placement, Placement) else None


# record kind -> (load it visibly; whom it is about, if anyone)
RECORDS: dict[str, Callable[[Unit, UUID], tuple[Any, UUID | None]]] = {
    "contribution": _contribution,
}


def record_of(u: Unit, record_kind: str, record_id: UUID) -> tuple[Any, UUID | None]:
    """The record (NotFound if the actor may not see it) and whom it is about."""
    load = RECORDS.get(record_kind)
    if load is None:
        raise InvalidInput("record_kind", f"documents cannot be attached to a {record_kind}")
    return load(u, record_id)


def documents_of(u: Unit, record_kind: str, record_id: UUID) -> list[Document]:
    """The documents of a record the actor may see, oldest first (NotFound if
    the record itself is not visible)."""
    record_of(u, record_kind, record_id)
    keep = u.app.documents
    if keep is None:
        return []
    out = []
    for document_id in keep.ids_for(u.app.tenant.id, record_kind, record_id):
        try:
            out.append(u.get(Document, document_id))
        except NotFound:  # another's view: an employer does not see a payslip
            continue
    return out


def documents_of_many(u: Unit, record_kind: str, record_ids: list[UUID]) -> dict[UUID, list[Document]]:
    """The visible documents of records already known to be visible (oldest
    first), by record; records without any are left out."""
    keep = u.app.documents
    if keep is None or not record_ids:
        return {}
    out: dict[UUID, list[Document]] = {}
    for record_id, document_id in keep.ids_for_many(u.app.tenant.id, record_kind, record_ids):
        try:
            out.setdefault(record_id, []).append(u.get(Document, document_id))
        except NotFound:
            continue
    return out


def _attach(u: Unit, *, record_kind: str, record_id: UUID, line_id: str | None, candidate_id: UUID | None,
            kind: str, filename: str, content: bytes) -> tuple[Document, Outcome]:
    """Judge the file (limit, type sniffed from the content, erasure) and
    attach it: the document, and the outcome that stores it with its bytes
    (sealed under the person's key when it is about one; the quota checked
    as they are stored, infra/documents.py)."""
    keep = u.app.documents
    if keep is None:
        raise InvalidInput("file", "documents are not kept here")
    if u.actor.role == "employer" and (candidate_id is not None or kind in PERSONAL_KINDS):
        raise PermissionDenied("documents about a person are attached by the agency")
    if len(content) > keep.max_bytes:
        raise TooLarge("file", f"the file is {describe_bytes(len(content))}; "
                               f"a document may be at most {describe_bytes(keep.max_bytes)}")
    media_type = sniff(content)
    if media_type is None:
        raise InvalidInput("file", "the file is not a PDF, PNG or JPEG (judged by its content, not its name)")
    refuse_if_erased(u, candidate_id)
    document = Document.attach(
        record_kind=record_kind, record_id=record_id, line_id=line_id, kind=kind,
        filename=filename, media_type=media_type, size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(), candidate_id=candidate_id, attached_on=u.today())
    outcome = created(document)
    outcome.body.update({"media_type": document.media_type, "size_bytes": document.size_bytes,
                         "sha256": document.sha256})
    outcome.files.append(StoreDocument(document_id=document.id, record_kind=record_kind,
                                       record_id=record_id, candidate_id=candidate_id, content=content))
    return document, outcome


@handles(c.AttachDocument, roles={"agency", "employer"})
def attach_document(u: Unit, cmd: c.AttachDocument) -> Outcome:
    _, candidate_id = record_of(u, cmd.record_kind, cmd.record_id)
    return _attach(u, record_kind=cmd.record_kind, record_id=cmd.record_id, line_id=cmd.line_id,
                   candidate_id=candidate_id, kind=cmd.kind, filename=cmd.filename, content=cmd.content)[1]


def document_view(app: Any, document: Document) -> dict[str, Any]:
    """What is known about a document. The file name comes from its history
    (opened with the person's key), so a person's erasure shows."""
    attached = app.tenant_recorder.select_events(document.id, limit=1)[0]
    state = app.metadata_mapper.decode_state(attached.state, "DocumentAttached")
    meta = state.get("_meta", {})
    erased = (document.candidate_id is not None and app.person_keys is not None
              and app.person_keys.is_erased(app.tenant.id, document.candidate_id))
    return {
        "id": str(document.id), "record_kind": document.record_kind, "record_id": str(document.record_id),
        "line_id": document.line_id, "kind": document.kind, "filename": state.get("filename"),
        "media_type": document.media_type, "size_bytes": document.size_bytes, "sha256": document.sha256,
        "about_a_person": document.is_about_a_person, "readable": not erased and not document.is_removed,
        "removed_on": document.removed_on.isoformat() if document.removed_on else None,
        "uploaded_at": meta.get("recorded_at"), "uploaded_by": meta.get("user_id"),
        "uploaded_by_role": meta.get("role"),
    }


# -- a statement line's own documents -----------------------------------------------------------

def statement_line(u: Unit, statement_id: UUID, line_id: str) -> tuple[Statement, dict[str, Any]]:
    """A visible statement and its frozen line (NotFound for a line it does
    not have: a draft's lines have no ids yet)."""
    statement = u.get(Statement, statement_id)
    for line in statement.lines:
        if line["line_id"] == line_id:
            return statement, line
    raise NotFound("statement line", line_id[:20])


def _line_person(u: Unit, line: dict[str, Any]) -> UUID | None:
    """Whom a line is about: a placement's candidate (its contribution's person)."""
    if line.get("placement_id") is None:
        return None
    placement = u.load(UUID(str(line["placement_id"])))
    return placement.candidate_id if isinstance(placement, Placement) else None


@handles(c.AttachStatementLineDocument, roles={"agency"})
def attach_statement_line_document(u: Unit, cmd: c.AttachStatementLineDocument) -> Outcome:
    statement, line = statement_line(u, cmd.statement_id, cmd.line_id)
    statement.check_line_open(cmd.line_id)  # a decided line's evidence is frozen: 409 before the file
    document, outcome = _attach(
        u, record_kind="statement_line", record_id=statement.id, line_id=cmd.line_id,
        candidate_id=_line_person(u, line), kind=cmd.kind, filename=cmd.filename, content=cmd.content)
    statement.attach_line_document(cmd.line_id, document.id)
    outcome.saved.append(statement)
    outcome.body.update(statement_id=str(statement.id), line_id=cmd.line_id)
    return outcome


def line_documents(u: Unit, statement: Statement) -> dict[str, list[Document]]:
    """The documents of each line of a visible statement the actor sees, by
    line id, oldest first (an employer never one about a person)."""
    out: dict[str, list[Document]] = {}
    for line_id, ids in statement.line_documents.items():
        for document_id in ids:
            try:
                out.setdefault(line_id, []).append(u.get(Document, document_id))
            except NotFound:
                continue
    return out


def documents_of_line(u: Unit, statement_id: UUID, line_id: str) -> list[dict[str, Any]]:
    """What is known about a visible line's own documents (NotFound for a line
    the statement does not have), oldest first."""
    statement, _ = statement_line(u, statement_id, line_id)
    return [document_view(u.app, d) for d in line_documents(u, statement).get(line_id, [])]


@handles(c.RemoveDocument, roles={"agency"})
def remove_document(u: Unit, cmd: c.RemoveDocument) -> Outcome:
    document = u.get(Document, cmd.document_id)
    document.remove(u.today())
    outcome = changed(document)
    if document.record_kind == "statement_line" and document.line_id is not None:
        # A decided line's evidence is frozen (409).
        statement = u.get(Statement, document.record_id)
        statement.remove_line_document(document.line_id, document.id)
        outcome.saved.append(statement)
    outcome.files.append(DeleteDocument(document_id=document.id))
    return outcome
