"""What a spreadsheet import keeps (docs/import.md).

- `platform.imports` (the default database): one row per upload, of one
  tenant: the file (sealed), its preview (sealed: it shows names), the
  column mapping it was previewed with, its fingerprint (the file's SHA-256
  and the mapping: a confirm of another fingerprint is refused as stale),
  the counts (no personal data), and, once confirmed, the job's progress
  (done of total) and result. The file and the preview are sealed with
  AES-GCM under the platform's key-encryption key (DATA_KEY, never in the
  database), bound to the tenant and the import; both are deleted when the
  import is done unless the user asked to keep the file, and a kept file is
  deleted on request (`forget_file`), when a person a row was about is
  erased (`ImportedFiles.forget_person`), and a preview nobody confirmed
  within PREVIEW_DAYS expires with its file (`expire_previews`, hourly in
  the worker).
- `platform.import_mappings`: the saved column mapping per tenant and kind
  (header -> field), which the next upload uses.
- `events.import_rows` (each tenant database, beside the events): which
  row identities were imported, as what record, about which person (if
  any), by which import; written in
  the same transaction as the row's events (TenantRecorder's
  `in_transaction`), so a row is recorded exactly when it is stored, and
  the same row imported again stores nothing new.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg.rows import tuple_row

from infra.database import text_array, uuid_array

IMPORTS_DDL = """
CREATE TABLE IF NOT EXISTS platform.imports (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    created_by uuid NOT NULL,
    filename text NOT NULL,
    file_type text NOT NULL,
    kind text,
    sealed_file bytea,
    sealed_preview bytea,
    mapping jsonb NOT NULL,
    fingerprint text NOT NULL,
    summary jsonb NOT NULL,
    status text NOT NULL DEFAULT 'previewed',
    done integer NOT NULL DEFAULT 0,
    total integer,
    result jsonb,
    keep_file boolean NOT NULL DEFAULT false,
    confirmed_by uuid,
    confirmed_role text,
    confirmed_org text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS imports_tenant_idx ON platform.imports (tenant_id, created_at DESC);
CREATE TABLE IF NOT EXISTS platform.import_mappings (
    tenant_id uuid NOT NULL,
    kind text NOT NULL,
    mapping jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind)
);
"""

# A row key is a hex digest: compared byte by byte (COLLATE "C"), not by
# the database's locale (strcoll: each of a batch's 1,000 index inserts and
# 2,000 lookups compares a key some 17 times). Tables made before are moved
# to it once (the index is rebuilt).
ROWS_DDL = """
CREATE TABLE IF NOT EXISTS events.import_rows (
    tenant_id uuid NOT NULL,
    row_key text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    record_id uuid NOT NULL,
    import_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, row_key)
);
ALTER TABLE events.import_rows ADD COLUMN IF NOT EXISTS subject_id uuid;
CREATE INDEX IF NOT EXISTS import_rows_subject_idx ON events.import_rows (tenant_id, subject_id)
    WHERE subject_id IS NOT NULL;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
               WHERE a.attrelid = 'events.import_rows'::regclass AND a.attname = 'row_key'
                 AND c.collname <> 'C') THEN
        ALTER TABLE events.import_rows ALTER COLUMN row_key TYPE text COLLATE "C";
    END IF;
END $$;
"""
# How long a preview that nobody confirmed keeps its file (it may name
# people): then its file and preview are deleted and it reads "expired".
PREVIEW_DAYS = 7


@dataclass(frozen=True)
class ImportRecord:
    id: UUID
    tenant_id: UUID
    created_by: UUID
    filename: str
    file_type: str
    kind: str | None
    mapping: dict[str, dict[str, str]]
    fingerprint: str
    summary: dict[str, Any]
    status: str  # previewed | queued | running | done | failed | expired
    done: int
    total: int | None
    result: dict[str, Any] | None
    keep_file: bool
    has_file: bool
    created_at: datetime
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "expired")


_COLUMNS = ("id, tenant_id, created_by, filename, file_type, kind, mapping, fingerprint, summary, status, done,"
            " total, result, keep_file, sealed_file IS NOT NULL AS has_file, created_at, finished_at")


ACTOR_NAME = "import_job"


def request_job(broker: Any, queue: str, tenant_id: UUID, import_id: UUID) -> None:
    """Enqueue a confirmed import for a worker (infra/actors.py `import_job`)."""
    import dramatiq

    broker.declare_queue(queue)
    broker.enqueue(dramatiq.Message(queue_name=queue, actor_name=ACTOR_NAME,
                                    args=(str(tenant_id), str(import_id)), kwargs={}, options={}))


def migrate_rows(database: Any) -> None:
    with database.connection() as conn:
        conn.execute(ROWS_DDL)


def known_rows(database: Any, tenant_id: UUID, row_keys: list[str]) -> dict[str, UUID]:
    """The row identities of these that were imported before: key -> record id."""
    if not row_keys:
        return {}
    # Tuple rows: a dict per row (the connection's rows) was a sixth of an
    # import's own process's time on 10,000 placements (2 rows each).
    with database.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        return dict(cur.execute("SELECT row_key, record_id FROM events.import_rows"
                                " WHERE tenant_id = %s AND row_key = ANY (%s::text[])",
                                (tenant_id, text_array(row_keys))).fetchall())


def record_rows(tenant_id: UUID, import_id: UUID, rows: list[tuple[str, str, UUID, UUID | None]]) -> Any:
    """A function of the storing transaction's connection that records the
    imported rows (row key, kind, record id, the person the row is about or
    None); a key recorded meanwhile by another import fails the transaction
    (nothing of it is stored)."""
    keys = text_array(r[0] for r in rows)
    kinds = text_array(r[1] for r in rows)
    ids = uuid_array(r[2] for r in rows)
    subjects = uuid_array(r[3] for r in rows)

    def write(conn: Any) -> None:
        conn.execute("INSERT INTO events.import_rows (tenant_id, row_key, kind, record_id, import_id, subject_id)"
                     " SELECT %s, k, kd, r, %s, s FROM unnest(%s::text[], %s::text[], %s::uuid[], %s::uuid[])"
                     " AS u(k, kd, r, s)", (tenant_id, import_id, keys, kinds, ids, subjects))

    return write


def imports_about(database: Any, tenant_id: UUID, person_id: UUID) -> list[UUID]:
    """The imports that stored a row about this person (rows recorded before
    the person column: a candidate's own row, by its record)."""
    with database.connection() as conn:
        rows = conn.execute("SELECT DISTINCT import_id FROM events.import_rows WHERE tenant_id = %s"
                            " AND (subject_id = %s OR (kind = 'candidate' AND record_id = %s))",
                            (tenant_id, person_id, person_id)).fetchall()
    return [r["import_id"] for r in rows]


class ImportedFiles:
    """The service's `ImportedFiles` port (service/ports.py): which imports
    were about a person is read on the tenant's database, their files are
    deleted on the platform's."""

    def __init__(self, stores: Any, store: ImportStore):
        self.stores, self.store = stores, store

    def forget_person(self, tenant: Any, candidate_id: UUID) -> int:
        found = imports_about(self.stores.database(tenant.database), tenant.id, candidate_id)
        return self.store.forget_files(tenant.id, found) if found else 0


class ImportStore:
    """The imports of every tenant, in the platform database; each read names
    the tenant, so one tenant never reads another's."""

    def __init__(self, platform_db: Any, kek: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.db = platform_db
        self._aead = AESGCM(kek)

    def migrate(self) -> None:
        with self.db.connection() as conn:
            conn.execute(IMPORTS_DDL)

    # -- sealing ---------------------------------------------------------------
    def _seal(self, tenant_id: UUID, import_id: UUID, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, tenant_id.bytes + import_id.bytes)

    def _open(self, tenant_id: UUID, import_id: UUID, blob: Any) -> bytes:
        blob = bytes(blob)
        return self._aead.decrypt(blob[:12], blob[12:], tenant_id.bytes + import_id.bytes)

    # -- writes ----------------------------------------------------------------
    def create(self, tenant_id: UUID, created_by: UUID, filename: str, file_type: str, kind: str | None,
               content: bytes, mapping: dict[str, dict[str, str]], fingerprint: str,
               summary: dict[str, Any], preview: dict[str, Any]) -> UUID:
        import_id = uuid4()
        with self.db.connection() as conn:
            conn.execute(
                "INSERT INTO platform.imports (id, tenant_id, created_by, filename, file_type, kind, sealed_file,"
                " sealed_preview, mapping, fingerprint, summary) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (import_id, tenant_id, created_by, filename[:200], file_type, kind,
                 self._seal(tenant_id, import_id, content),
                 self._seal(tenant_id, import_id, json.dumps(preview).encode()),
                 json.dumps(mapping), fingerprint, json.dumps(summary)))
        return import_id

    def replace_preview(self, tenant_id: UUID, import_id: UUID, mapping: dict[str, dict[str, str]],
                        fingerprint: str, summary: dict[str, Any], preview: dict[str, Any]) -> bool:
        """A new preview of the same file (the mapping changed); False once confirmed."""
        with self.db.connection() as conn:
            cur = conn.execute(
                "UPDATE platform.imports SET mapping = %s, fingerprint = %s, summary = %s, sealed_preview = %s"
                " WHERE tenant_id = %s AND id = %s AND status = 'previewed'",
                (json.dumps(mapping), fingerprint, json.dumps(summary),
                 self._seal(tenant_id, import_id, json.dumps(preview).encode()), tenant_id, import_id))
        return cur.rowcount == 1

    def claim(self, tenant_id: UUID, import_id: UUID, fingerprint: str, keep_file: bool, total: int,
              by: tuple[UUID, str, str]) -> bool:
        """Mark a previewed import as queued for storing by this user (id,
        role, organisation), if it is still the preview with this
        fingerprint; False otherwise (stale, or confirmed already)."""
        with self.db.connection() as conn:
            cur = conn.execute(
                "UPDATE platform.imports SET status = 'queued', keep_file = %s, total = %s, done = 0,"
                " confirmed_by = %s, confirmed_role = %s, confirmed_org = %s"
                " WHERE tenant_id = %s AND id = %s AND status = 'previewed' AND fingerprint = %s",
                (keep_file, total, *by, tenant_id, import_id, fingerprint))
        return cur.rowcount == 1

    def confirmed_by(self, tenant_id: UUID, import_id: UUID) -> tuple[UUID, str, str] | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT confirmed_by, confirmed_role, confirmed_org FROM platform.imports"
                               " WHERE tenant_id = %s AND id = %s", (tenant_id, import_id)).fetchone()
        if row is None or row["confirmed_by"] is None:
            return None
        return row["confirmed_by"], row["confirmed_role"], row["confirmed_org"]

    def progress(self, import_id: UUID, done: int, status: str = "running") -> None:
        with self.db.connection() as conn:
            conn.execute("UPDATE platform.imports SET status = %s, done = %s WHERE id = %s",
                         (status, done, import_id))

    def finish(self, tenant_id: UUID, import_id: UUID, status: str, result: dict[str, Any]) -> None:
        """Done or failed: the result kept; the preview deleted, and the file
        too unless the user asked to keep it."""
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE platform.imports SET status = %s, result = %s, finished_at = now(), sealed_preview = NULL,"
                " done = CASE WHEN %s = 'done' THEN coalesce(total, done) ELSE done END,"
                " sealed_file = CASE WHEN keep_file THEN sealed_file END"
                " WHERE tenant_id = %s AND id = %s",
                (status, json.dumps(result), status, tenant_id, import_id))

    def forget_file(self, tenant_id: UUID, import_id: UUID) -> bool:
        with self.db.connection() as conn:
            cur = conn.execute("UPDATE platform.imports SET sealed_file = NULL, keep_file = false"
                               " WHERE tenant_id = %s AND id = %s AND sealed_file IS NOT NULL"
                               " AND status IN ('done', 'failed')", (tenant_id, import_id))
        return cur.rowcount == 1

    def forget_files(self, tenant_id: UUID, import_ids: list[UUID]) -> int:
        """Delete the files and previews of these imports (an erasure: kept or
        not, finished or not); how many held one."""
        with self.db.connection() as conn:
            cur = conn.execute("UPDATE platform.imports SET sealed_file = NULL, sealed_preview = NULL,"
                               " keep_file = false WHERE tenant_id = %s AND id = ANY (%s)"
                               " AND (sealed_file IS NOT NULL OR sealed_preview IS NOT NULL)",
                               (tenant_id, import_ids))
        return cur.rowcount

    def expire_previews(self, days: float = PREVIEW_DAYS) -> int:
        """Previews nobody confirmed within `days`: file and preview deleted,
        status "expired" (every tenant's; the worker runs this hourly)."""
        with self.db.connection() as conn:
            cur = conn.execute("UPDATE platform.imports SET status = 'expired', sealed_file = NULL,"
                               " sealed_preview = NULL, finished_at = now() WHERE status = 'previewed'"
                               " AND created_at < now() - %s * interval '1 day'", (days,))
        return cur.rowcount

    def save_mapping(self, tenant_id: UUID, kind: str, mapping: dict[str, str]) -> None:
        with self.db.connection() as conn:
            conn.execute("INSERT INTO platform.import_mappings (tenant_id, kind, mapping) VALUES (%s, %s, %s)"
                         " ON CONFLICT (tenant_id, kind) DO UPDATE SET mapping = EXCLUDED.mapping, updated_at = now()",
                         (tenant_id, kind, json.dumps(mapping)))

    # -- reads -----------------------------------------------------------------
    def saved_mappings(self, tenant_id: UUID) -> dict[str, dict[str, str]]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT kind, mapping FROM platform.import_mappings WHERE tenant_id = %s",
                                (tenant_id,)).fetchall()
        return {r["kind"]: r["mapping"] for r in rows}

    def get(self, tenant_id: UUID, import_id: UUID) -> ImportRecord | None:
        """One of the tenant's imports (None for another tenant's)."""
        with self.db.connection() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM platform.imports WHERE tenant_id = %s AND id = %s",
                               (tenant_id, import_id)).fetchone()
        return ImportRecord(**row) if row else None

    def recent(self, tenant_id: UUID, limit: int = 10) -> list[ImportRecord]:
        with self.db.connection() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM platform.imports WHERE tenant_id = %s"
                                " ORDER BY created_at DESC LIMIT %s", (tenant_id, limit)).fetchall()
        return [ImportRecord(**r) for r in rows]

    def file(self, tenant_id: UUID, import_id: UUID) -> bytes | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT sealed_file FROM platform.imports WHERE tenant_id = %s AND id = %s",
                               (tenant_id, import_id)).fetchone()
        if row is None or row["sealed_file"] is None:
            return None
        return self._open(tenant_id, import_id, row["sealed_file"])

    def preview(self, tenant_id: UUID, import_id: UUID) -> dict[str, Any] | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT sealed_preview FROM platform.imports WHERE tenant_id = %s AND id = %s",
                               (tenant_id, import_id)).fetchone()
        if row is None or row["sealed_preview"] is None:
            return None
        return json.loads(self._open(tenant_id, import_id, row["sealed_preview"]))
