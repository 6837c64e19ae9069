"""A document attached to a record as evidence: an invoice, a target-group
declaration, a PSO certificate, a payslip.

The aggregate holds what is known about the file (kind, name, sniffed media
type, size, SHA-256), never its bytes: those are kept beside the events
(infra/documents.py), sealed under the person's key when the document is
about a person (`candidate_id`), so erasing the person makes them unreadable.
A document is attached to one record, named generically by its kind and id
(`("contribution", id)`; `("statement_line", statement id)` with the line
id), so the same aggregate serves every record that takes evidence.
"""
from __future__ import annotations

import re
from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import DocumentAlreadyRemoved, InvalidValue, UnknownDocumentKind
from domain.values import require_choice, require_date, require_id, require_text

DOCUMENT_KINDS = ("invoice", "target_group_declaration", "pso_certificate", "payslip", "other")
# What may be stored, by the type sniffed from the content (never the name's).
MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg")
# The records a document can be attached to.
RECORD_KINDS = ("contribution", "statement_line")
# Kinds that are about a person even when attached to a record that is not:
# an employer never sees them.
PERSONAL_KINDS = ("target_group_declaration", "payslip")
FILENAME_MAX_LEN = 200
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE_RE = re.compile(r"[\x00-\x1f\x7f\"\\/]")


def clean_filename(value: object) -> str:
    """The name as given, without any folder part or control characters (it
    ends up in a Content-Disposition header)."""
    if not isinstance(value, str):
        raise InvalidValue("{name} must be text", "filename", name="filename")
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_RE.sub("_", name).strip()
    return require_text(name, "filename", FILENAME_MAX_LEN)


class Document(LedgerAggregate):
    @classmethod
    def attach(cls, *, record_kind: str, record_id: UUID, kind: str, filename: str, media_type: str,
               size_bytes: int, sha256: str, candidate_id: UUID | None, attached_on: date,
               line_id: str | None = None) -> Document:
        if record_kind not in RECORD_KINDS:
            raise InvalidValue("{name} must be one of: {choices}", "record_kind", name="record_kind",
                               choices=", ".join(RECORD_KINDS))
        kind = require_choice(kind, DOCUMENT_KINDS, UnknownDocumentKind, "kind")
        if media_type not in MEDIA_TYPES:
            raise InvalidValue("the file must be a PDF, PNG or JPEG", "file")
        if not isinstance(size_bytes, int) or size_bytes <= 0:
            raise InvalidValue("the file is empty", "file")
        if not isinstance(sha256, str) or not _SHA256_RE.match(sha256):
            raise InvalidValue("{name} must be a SHA-256 in hex", "sha256", name="sha256")
        return cls(
            id=uuid4(), record_kind=record_kind, record_id=require_id(record_id, "record_id"),
            line_id=line_id, kind=kind, filename=clean_filename(filename), media_type=media_type,
            size_bytes=size_bytes, sha256=sha256,
            candidate_id=None if candidate_id is None else require_id(candidate_id, "candidate_id"),
            attached_on=require_date(attached_on, "attached_on"))

    @event("DocumentAttached")
    def __init__(self, *, id: UUID, record_kind: str, record_id: UUID, line_id: str | None, kind: str,
                 filename: str, media_type: str, size_bytes: int, sha256: str, candidate_id: UUID | None,
                 attached_on: date) -> None:
        self.record_kind = record_kind
        self.record_id = record_id
        self.line_id = line_id
        self.kind = kind
        # Sealed under the person's key in the store when the document is about
        # a person (infra/personal_data.py): "[erased]" once they are erased.
        self.filename = filename
        self.media_type = media_type
        self.size_bytes = size_bytes
        self.sha256 = sha256
        self.candidate_id = candidate_id
        self.attached_on = attached_on
        self.removed_on: date | None = None

    @property
    def is_about_a_person(self) -> bool:
        return self.candidate_id is not None or self.kind in PERSONAL_KINDS

    @property
    def is_removed(self) -> bool:
        return self.removed_on is not None

    def remove(self, on: date) -> None:
        if self.removed_on is not None:
            raise DocumentAlreadyRemoved("the document was already removed")
        self._removed(on=require_date(on, "removed_on"))

    @event("DocumentRemoved")
    def _removed(self, on: date) -> None:
        self.removed_on = on
