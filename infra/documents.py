"""The bytes of attached documents, kept in the tenant's own database beside
its events (`events.documents`), written in the same transaction as the
event that attaches or removes them (TenantRecorder's `in_transaction`).

A document about a person is sealed (AES-GCM) under that person's data key
(infra/personal_data.py): erasing the person deletes the key, so the bytes,
in the table and in every backup, can no longer be read. A document about no
one (a purchase invoice) is stored as it came, like the rest of the
non-personal data in the events.

The type is sniffed from the content's magic bytes with `filetype` (pure
Python, no dependencies, one deterministic answer per file; `puremagic`
ranked a PDF and an FDF equally on the same bytes), never taken from the
name or the client's Content-Type. Limits: DOCUMENT_MAX_BYTES per file and
DOCUMENT_QUOTA_BYTES per tenant, the quota checked under a per-tenant lock
in the storing transaction, so concurrent uploads cannot both slip past it;
an erased person's documents no longer count (USED_SQL).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import filetype

from domain.document import MEDIA_TYPES

DOCUMENTS_DDL = """
CREATE TABLE IF NOT EXISTS events.documents (
    tenant_id uuid NOT NULL,
    document_id uuid NOT NULL,
    record_kind text NOT NULL,
    record_id uuid NOT NULL,
    candidate_id uuid,
    size_bytes bigint NOT NULL,
    nonce bytea,
    content bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, document_id)
);
CREATE INDEX IF NOT EXISTS documents_record_idx ON events.documents (tenant_id, record_kind, record_id);
-- An organisation's user names a document alone (web/api/auth.py): its record tells the tenant.
CREATE INDEX IF NOT EXISTS documents_id_idx ON events.documents (document_id);
-- PDFs and images are compressed already: no second try at it.
ALTER TABLE events.documents ALTER COLUMN content SET STORAGE EXTERNAL;
"""

# What counts against the quota: every kept document but those of an erased
# person. Their sealed bytes stay (unreadable: the key is gone, as in every
# backup), so the history's DocumentAttached (size, SHA-256) and the row still
# agree; they no longer take room. The erasure row (infra/personal_data.py) is
# written in the same database, so the moment a person is erased their
# documents' room is free, without a command per document.
USED_SQL = """
SELECT coalesce(sum(d.size_bytes), 0) AS used FROM events.documents d
WHERE d.tenant_id = %s AND (d.candidate_id IS NULL OR NOT EXISTS (
    SELECT 1 FROM events.erasures e WHERE e.tenant_id = d.tenant_id AND e.subject_id = d.candidate_id))
"""

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_QUOTA_BYTES = 1024 * 1024 * 1024


def sniff(content: bytes) -> str | None:
    """The media type the content's magic bytes say, if it is one we store."""
    if not content:
        return None
    mime = filetype.guess_mime(bytes(content[:8192]))
    return mime if mime in MEDIA_TYPES else None


def describe_bytes(n: int) -> str:
    """A size in words for messages: 10 MB, 512 KB, 300 bytes."""
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class StoreDocument:
    """Keep these bytes for this document (with the event that attaches it)."""

    document_id: UUID
    record_kind: str
    record_id: UUID
    candidate_id: UUID | None
    content: bytes


@dataclass(frozen=True)
class DeleteDocument:
    """Delete the bytes of this document (with the event that removes it)."""

    document_id: UUID


class DocumentQuotaExceeded(Exception):
    def __init__(self, quota: int, used: int, size: int):
        super().__init__(f"the organisation's document storage is full: {describe_bytes(used)} of its "
                         f"{describe_bytes(quota)} quota is used, and this file is {describe_bytes(size)}")
        self.quota, self.used, self.size = quota, used, size


class DocumentUnreadable(Exception):
    """The document was about a person who was erased: its key is gone."""


# The record a document is found through, by the kind it is attached to: a
# statement line's documents through their statement (record_id is its id).
FOUND_THROUGH = {"statement_line": "statement"}


async def record_of_document_async(pool: Any, document_id: UUID) -> tuple[str, UUID] | None:
    """(kind, id) of the record a document is found through, whatever the
    tenant: a contribution, a statement (asyncpg; the default database's
    documents only)."""
    row = await pool.fetchrow("SELECT record_kind, record_id FROM events.documents WHERE document_id = $1"
                              " LIMIT 1", document_id)
    return (FOUND_THROUGH.get(row["record_kind"], row["record_kind"]), row["record_id"]) if row else None


class DocumentVault:
    def __init__(self, database: Any, person_keys: Any, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 quota_bytes: int = DEFAULT_QUOTA_BYTES):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aesgcm = AESGCM
        self.database, self.person_keys = database, person_keys
        self.max_bytes, self.quota_bytes = max_bytes, quota_bytes

    def migrate(self) -> None:
        with self.database.connection() as conn:
            conn.execute(DOCUMENTS_DDL)

    @staticmethod
    def _aad(tenant_id: UUID, candidate_id: UUID, document_id: UUID) -> bytes:
        return tenant_id.bytes + candidate_id.bytes + document_id.bytes

    def prepare(self, tenant_id: UUID, changes: Sequence[StoreDocument | DeleteDocument]
                ) -> Callable[[Any], None]:
        """Seal what is to be stored now (outside the storing transaction: the
        person's key may have to be made), and answer the function that
        writes it in that transaction. PersonErased if a person was erased."""
        rows = []
        for change in changes:
            if not isinstance(change, StoreDocument):
                continue
            nonce, content = None, change.content
            if change.candidate_id is not None:
                key = self.person_keys.key(tenant_id, change.candidate_id, create=True)
                nonce = os.urandom(12)
                content = self._aesgcm(key).encrypt(
                    nonce, change.content, self._aad(tenant_id, change.candidate_id, change.document_id))
            rows.append((tenant_id, change.document_id, change.record_kind, change.record_id,
                         change.candidate_id, len(change.content), nonce, content))
        deleted = [change.document_id for change in changes if isinstance(change, DeleteDocument)]

        def write(conn: Any) -> None:
            if rows:
                # One upload at a time per tenant, so the quota holds under concurrency.
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7311))", (f"documents:{tenant_id}",))
                used = conn.execute(USED_SQL, (tenant_id,)).fetchone()["used"]
                size = sum(row[5] for row in rows)
                if used + size > self.quota_bytes:
                    raise DocumentQuotaExceeded(self.quota_bytes, int(used), size)
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO events.documents (tenant_id, document_id, record_kind, record_id,"
                        " candidate_id, size_bytes, nonce, content) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        rows)
            if deleted:
                conn.execute("DELETE FROM events.documents WHERE tenant_id = %s AND document_id = ANY (%s)",
                             (tenant_id, deleted))
        return write

    def read(self, tenant_id: UUID, document_id: UUID) -> bytes | None:
        """The document's bytes; None if none are kept (removed);
        DocumentUnreadable if the person it was about was erased."""
        with self.database.connection() as conn:
            row = conn.execute("SELECT candidate_id, nonce, content FROM events.documents"
                               " WHERE tenant_id = %s AND document_id = %s", (tenant_id, document_id)).fetchone()
        if row is None:
            return None
        if row["candidate_id"] is None:
            return bytes(row["content"])
        key = self.person_keys.key(tenant_id, row["candidate_id"], create=False)
        if key is None:
            raise DocumentUnreadable(document_id)
        return self._aesgcm(key).decrypt(bytes(row["nonce"]), bytes(row["content"]),
                                         self._aad(tenant_id, row["candidate_id"], document_id))

    def ids_for(self, tenant_id: UUID, record_kind: str, record_id: UUID) -> list[UUID]:
        """The documents kept for a record, oldest first."""
        with self.database.connection() as conn:
            rows = conn.execute("SELECT document_id FROM events.documents WHERE tenant_id = %s"
                                " AND record_kind = %s AND record_id = %s ORDER BY stored_at, document_id",
                                (tenant_id, record_kind, record_id)).fetchall()
        return [row["document_id"] for row in rows]

    def ids_for_many(self, tenant_id: UUID, record_kind: str, record_ids: Sequence[UUID]) -> list[tuple[UUID, UUID]]:
        """(record id, document id) of the documents kept for these records, oldest first."""
        with self.database.connection() as conn:
            rows = conn.execute("SELECT record_id, document_id FROM events.documents WHERE tenant_id = %s"
                                " AND record_kind = %s AND record_id = ANY (%s) ORDER BY stored_at, document_id",
                                (tenant_id, record_kind, list(record_ids))).fetchall()
        return [(row["record_id"], row["document_id"]) for row in rows]

    def used_bytes(self, tenant_id: UUID) -> int:
        """What counts against the tenant's quota (USED_SQL)."""
        with self.database.connection() as conn:
            return int(conn.execute(USED_SQL, (tenant_id,)).fetchone()["used"])
