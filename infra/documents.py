"""The bytes of attached documents. What is known of each (its record, its
person, its size, its nonce) is a row in the tenant's own database beside
its events (`events.documents`), written in the same transaction as the
event that attaches or removes it (TenantRecorder's `in_transaction`). The
bytes themselves go to a DocumentStore, chosen once at wiring
(infra/bootstrap.py, DOCUMENT_STORE):

- DatabaseDocumentStore (the default): in the row itself (`content`).
- DirectoryDocumentStore (`DOCUMENT_STORE=directory:/path`): content-addressed
  files, `/path/<tenant id>/<SHA-256 of the stored bytes>`, the row holding
  the hash (`content_sha256`). The file is written to a temporary file,
  fsync'd and renamed into place (and the folder fsync'd) inside the storing
  transaction, after the quota check and BEFORE the event commits: a crash
  leaves at most a file no row names, never an event pointing at nothing. A
  transaction that fails after the file was written, and a removal once
  committed, delete the files no row of the tenant names any more (under the
  tenant's document lock, so an upload of the same bytes at that moment
  keeps its file). Reading recomputes the hash: a changed or missing file is
  DocumentDamaged, never served. An object store (S3-compatible) would be a
  third implementation of the same protocol.

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
in the storing transaction (the same whichever store keeps the bytes), so concurrent uploads cannot both slip past it;
an erased person's documents no longer count (USED_SQL).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
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
    content bytea,
    content_sha256 text,
    stored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, document_id)
);
CREATE INDEX IF NOT EXISTS documents_record_idx ON events.documents (tenant_id, record_kind, record_id);
-- An organisation's user names a document alone (web/api/auth.py): its record tells the tenant.
CREATE INDEX IF NOT EXISTS documents_id_idx ON events.documents (document_id);
-- PDFs and images are compressed already: no second try at it.
ALTER TABLE events.documents ALTER COLUMN content SET STORAGE EXTERNAL;
-- Bytes kept by a DirectoryDocumentStore: the row names the file by its hash.
ALTER TABLE events.documents ADD COLUMN IF NOT EXISTS content_sha256 text;
ALTER TABLE events.documents ALTER COLUMN content DROP NOT NULL;
CREATE INDEX IF NOT EXISTS documents_sha256_idx ON events.documents (tenant_id, content_sha256)
    WHERE content_sha256 IS NOT NULL;
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

log = logging.getLogger("sroi.documents")

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


class DocumentDamaged(Exception):
    """The kept bytes are not those that were stored: a file changed or gone
    behind the application's back. They are not served."""


class DocumentStore(Protocol):
    """Where the stored bytes of documents live (sealed already when about a
    person: a store only ever sees what is written at rest)."""

    def put(self, tenant_id: UUID, data: bytes) -> tuple[bytes | None, str | None]:
        """Keep these bytes, durably, before the event commits; what the row
        holds: (content, content_sha256)."""
        ...

    def get(self, tenant_id: UUID, content: bytes | None, content_sha256: str | None) -> bytes:
        """The bytes a row names; DocumentDamaged if they are not those stored."""
        ...

    def delete(self, tenant_id: UUID, content_sha256: str) -> None:
        """Forget bytes no row names any more (the vault has checked)."""
        ...


class DatabaseDocumentStore:
    """The bytes in the row itself (`events.documents.content`)."""

    def put(self, tenant_id: UUID, data: bytes) -> tuple[bytes | None, str | None]:
        return data, None

    def get(self, tenant_id: UUID, content: bytes | None, content_sha256: str | None) -> bytes:
        if content is None:
            raise DocumentDamaged("the bytes are kept in a document directory, and none is configured")
        return content

    def delete(self, tenant_id: UUID, content_sha256: str) -> None:
        pass  # deleted with the row


_SHA256 = re.compile(r"[0-9a-f]{64}")


class DirectoryDocumentStore:
    """Content-addressed files: `root/<tenant id>/<SHA-256 of the bytes>`.
    Rows stored in the database before this store was chosen are still read
    from the row."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _folder(self, tenant_id: UUID) -> Path:
        return self.root / str(UUID(str(tenant_id)))

    def path(self, tenant_id: UUID, content_sha256: str) -> Path:
        if not _SHA256.fullmatch(content_sha256):  # a row's value never makes a path of its own
            raise DocumentDamaged("the document's content name is not a SHA-256")
        return self._folder(tenant_id) / content_sha256

    @staticmethod
    def _sync_folder(folder: Path) -> None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def put(self, tenant_id: UUID, data: bytes) -> tuple[bytes | None, str | None]:
        digest = hashlib.sha256(data).hexdigest()
        folder = self._folder(tenant_id)
        if not folder.is_dir():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._sync_folder(folder.parent)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, folder / digest)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._sync_folder(folder)
        return None, digest

    def get(self, tenant_id: UUID, content: bytes | None, content_sha256: str | None) -> bytes:
        if content_sha256 is None:
            if content is None:
                raise DocumentDamaged("the row keeps neither bytes nor the name of a file")
            return content
        try:
            data = self.path(tenant_id, content_sha256).read_bytes()
        except FileNotFoundError:
            raise DocumentDamaged("the document's file is missing") from None
        if hashlib.sha256(data).hexdigest() != content_sha256:
            raise DocumentDamaged("the document's file was changed")
        return data

    def delete(self, tenant_id: UUID, content_sha256: str) -> None:
        self.path(tenant_id, content_sha256).unlink(missing_ok=True)


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
                 quota_bytes: int = DEFAULT_QUOTA_BYTES, store: DocumentStore | None = None):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aesgcm = AESGCM
        self.database, self.person_keys = database, person_keys
        self.store: DocumentStore = store if store is not None else DatabaseDocumentStore()
        self.max_bytes, self.quota_bytes = max_bytes, quota_bytes

    def migrate(self) -> None:
        with self.database.connection() as conn:
            conn.execute(DOCUMENTS_DDL)

    @staticmethod
    def _aad(tenant_id: UUID, candidate_id: UUID, document_id: UUID) -> bytes:
        return tenant_id.bytes + candidate_id.bytes + document_id.bytes

    def prepare(self, tenant_id: UUID, changes: Sequence[StoreDocument | DeleteDocument]) -> "PreparedWrite":
        """Seal what is to be stored now (outside the storing transaction: the
        person's key may have to be made), and answer what writes it in that
        transaction (PreparedWrite). PersonErased if a person was erased."""
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
        return PreparedWrite(self, tenant_id, rows, deleted)

    @staticmethod
    def lock(conn: Any, tenant_id: UUID) -> None:
        """One writer of a tenant's documents at a time (this transaction's)."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7311))", (f"documents:{tenant_id}",))

    def sweep(self, tenant_id: UUID, hashes: Iterable[str | None]) -> None:
        """Delete the stored bytes of these hashes that no row of the tenant
        names (any more), under the tenant's document lock."""
        wanted = sorted({h for h in hashes if h is not None})
        if not wanted:
            return
        with self.database.connection() as conn, conn.transaction():
            self.lock(conn, tenant_id)
            named = {row["content_sha256"] for row in conn.execute(
                "SELECT DISTINCT content_sha256 FROM events.documents WHERE tenant_id = %s"
                " AND content_sha256 = ANY (%s)", (tenant_id, wanted)).fetchall()}
            for digest in wanted:
                if digest not in named:
                    self.store.delete(tenant_id, digest)

    def read(self, tenant_id: UUID, document_id: UUID) -> bytes | None:
        """The document's bytes; None if none are kept (removed);
        DocumentUnreadable if the person it was about was erased;
        DocumentDamaged if the kept bytes are not those stored."""
        with self.database.connection() as conn:
            row = conn.execute("SELECT candidate_id, nonce, content, content_sha256 FROM events.documents"
                               " WHERE tenant_id = %s AND document_id = %s", (tenant_id, document_id)).fetchone()
        if row is None:
            return None
        key = None
        if row["candidate_id"] is not None:
            # An erased person's key is gone: their bytes are not even read.
            key = self.person_keys.key(tenant_id, row["candidate_id"], create=False)
            if key is None:
                raise DocumentUnreadable(document_id)
        content = self.store.get(tenant_id, None if row["content"] is None else bytes(row["content"]),
                                 row["content_sha256"])
        if key is None:
            return content
        return self._aesgcm(key).decrypt(bytes(row["nonce"]), content,
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


@dataclass
class PreparedWrite:
    """A command's document changes, sealed, to be written in its storing
    transaction (call it with the connection). Then `committed()` once the
    event is stored, or `abandoned()` if it was not: each deletes the stored
    bytes that no row names any more (a removal's; a failed upload's)."""

    vault: DocumentVault
    tenant_id: UUID
    rows: list[tuple[Any, ...]]
    deleted: list[UUID]
    written: list[str | None] = field(default_factory=list)
    released: list[str | None] = field(default_factory=list)

    def __call__(self, conn: Any) -> None:
        vault, tenant_id = self.vault, self.tenant_id
        if self.rows:
            # One upload at a time per tenant, so the quota holds under concurrency.
            vault.lock(conn, tenant_id)
            used = conn.execute(USED_SQL, (tenant_id,)).fetchone()["used"]
            size = sum(row[5] for row in self.rows)
            if used + size > vault.quota_bytes:
                raise DocumentQuotaExceeded(vault.quota_bytes, int(used), size)
            stored = []
            for row in self.rows:
                content, digest = vault.store.put(tenant_id, row[7])  # durable before the commit
                self.written.append(digest)
                stored.append((*row[:7], content, digest))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events.documents (tenant_id, document_id, record_kind, record_id,"
                    " candidate_id, size_bytes, nonce, content, content_sha256)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", stored)
        if self.deleted:
            gone = conn.execute("DELETE FROM events.documents WHERE tenant_id = %s AND document_id = ANY (%s)"
                                " RETURNING content_sha256", (tenant_id, self.deleted)).fetchall()
            self.released.extend(row["content_sha256"] for row in gone)

    def committed(self) -> None:
        try:
            self.vault.sweep(self.tenant_id, self.released)
        except OSError as e:  # the removal is stored: a file left behind is an orphan, not a failure
            log.warning("document bytes of tenant %s not deleted after a removal: %s",
                        self.tenant_id, type(e).__name__)

    def abandoned(self) -> None:
        self.vault.sweep(self.tenant_id, self.written)
