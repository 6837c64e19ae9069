"""Documents attached to records as evidence (domain/document.py): attaching
and removing them, and listing a record's documents.

A record kind is attachable when RECORDS says how to load it (through the
visibility policy) and whom it is about: a placement's contribution is about
its candidate, so its documents are sealed under the candidate's key and
erased with them; a purchase or an activity is about no one. A new record
kind (a statement line) adds its loader here and its name to
domain.document.RECORD_KINDS.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.contribution import Contribution
from domain.document import PERSONAL_KINDS, Document
from domain.placement import Placement
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


@handles(c.AttachDocument, roles={"agency", "employer"})
def attach_document(u: Unit, cmd: c.AttachDocument) -> Outcome:
    _, candidate_id = record_of(u, cmd.record_kind, cmd.record_id)
    keep = u.app.documents
    if keep is None:
        raise InvalidInput("file", "documents are not kept here")
    if u.actor.role == "employer" and (candidate_id is not None or cmd.kind in PERSONAL_KINDS):
        raise PermissionDenied("documents about a person are attached by the agency")
    if len(cmd.content) > keep.max_bytes:
        raise TooLarge("file", f"the file is {describe_bytes(len(cmd.content))}; "
                               f"a document may be at most {describe_bytes(keep.max_bytes)}")
    media_type = sniff(cmd.content)
    if media_type is None:
        raise InvalidInput("file", "the file is not a PDF, PNG or JPEG (judged by its content, not its name)")
    refuse_if_erased(u, candidate_id)
    document = Document.attach(
        record_kind=cmd.record_kind, record_id=cmd.record_id, line_id=cmd.line_id, kind=cmd.kind,
        filename=cmd.filename, media_type=media_type, size_bytes=len(cmd.content),
        sha256=hashlib.sha256(cmd.content).hexdigest(), candidate_id=candidate_id, attached_on=u.today())
    outcome = created(document)
    outcome.body.update({"media_type": document.media_type, "size_bytes": document.size_bytes,
                         "sha256": document.sha256})
    outcome.files.append(StoreDocument(document_id=document.id, record_kind=cmd.record_kind,
                                       record_id=cmd.record_id, candidate_id=candidate_id, content=cmd.content))
    return outcome


@handles(c.RemoveDocument, roles={"agency"})
def remove_document(u: Unit, cmd: c.RemoveDocument) -> Outcome:
    document = u.get(Document, cmd.document_id)
    document.remove(u.today())
    outcome = changed(document)
    outcome.files.append(DeleteDocument(document_id=document.id))
    return outcome
