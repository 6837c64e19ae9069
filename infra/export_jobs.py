"""Tenant exports requested from the audit pages and written by a worker.

The page records a job in `platform.export_jobs` (created by infra.audit.migrate)
and enqueues `export_tenant_job(tenant_id, job_id)`; the worker writes the JSON
Lines export (infra.audit.export_tenant) to
<data_dir>/exports/<tenant id>/<job id>.jsonl and keeps the row's progress
(events done of total) up to date, so the page can poll it.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import dramatiq

from infra import audit
from infra.eventstore import EventStoreDatabase, Tenant
from infra.logsafe import describe
from infra.settings import Settings

log = logging.getLogger("sroi.export")

ACTOR_NAME = "export_tenant_job"
PROGRESS_EVERY = 1000  # events between two progress updates of the job's row


@dataclass(frozen=True)
class ExportJob:
    id: UUID
    tenant_id: UUID
    requested_by: UUID
    status: str  # queued | running | done | failed
    done: int
    total: int | None
    path: str | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


def export_path(settings: Settings, tenant_id: UUID, job_id: UUID) -> Path:
    """Where a job's file goes. Built from ids only, never from request input."""
    return settings.data_dir / "exports" / str(tenant_id) / f"{job_id}.jsonl"


_COLUMNS = "id, tenant_id, requested_by, status, done, total, path, created_at, finished_at"


def request_export(platform_db: EventStoreDatabase, broker: Any, queue: str, tenant: Tenant,
                   requested_by: UUID) -> UUID:
    """Record a queued job and enqueue it for a worker; returns the job's id."""
    job_id = uuid4()
    with platform_db.connection() as conn:
        conn.execute("INSERT INTO platform.export_jobs (id, tenant_id, requested_by) VALUES (%s, %s, %s)",
                     (job_id, tenant.id, requested_by))
    broker.declare_queue(queue)
    broker.enqueue(dramatiq.Message(queue_name=queue, actor_name=ACTOR_NAME,
                                    args=(str(tenant.id), str(job_id)), kwargs={}, options={}))
    return job_id


def job_of(platform_db: EventStoreDatabase, tenant: Tenant, job_id: UUID) -> ExportJob | None:
    """One of the tenant's jobs (None for another tenant's)."""
    with platform_db.connection() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM platform.export_jobs WHERE tenant_id = %s AND id = %s",
                           (tenant.id, job_id)).fetchone()
    return ExportJob(**row) if row else None


def recent_jobs(platform_db: EventStoreDatabase, tenant: Tenant, limit: int = 10) -> list[ExportJob]:
    with platform_db.connection() as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM platform.export_jobs WHERE tenant_id = %s"
                            " ORDER BY created_at DESC LIMIT %s", (tenant.id, limit)).fetchall()
    return [ExportJob(**r) for r in rows]


def _update(platform_db: EventStoreDatabase, job_id: UUID, assignments: str, params: tuple) -> None:
    with platform_db.connection() as conn:
        conn.execute(f"UPDATE platform.export_jobs SET {assignments} WHERE id = %s", (*params, job_id))


def run_export_job(platform_db: EventStoreDatabase, database: EventStoreDatabase, settings: Settings,
                   tenant: Tenant, job_id: UUID) -> None:
    """Write the export, updating the job's progress every PROGRESS_EVERY events.

    A message delivered again (a worker died mid-export) starts the file over;
    a job already done is left alone."""
    with platform_db.connection() as conn:
        row = conn.execute("SELECT status FROM platform.export_jobs WHERE tenant_id = %s AND id = %s",
                           (tenant.id, job_id)).fetchone()
    if row is None or row["status"] == "done":
        return
    out = export_path(settings, tenant.id, job_id)
    total = audit.count_events(database, tenant)
    _update(platform_db, job_id, "status = 'running', done = 0, total = %s, path = %s, finished_at = NULL",
            (total, str(out)))
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if done % PROGRESS_EVERY == 0:
            _update(platform_db, job_id, "done = %s, total = greatest(total, %s)", (done, done))

    try:
        # Exports hold every stored event: the tenant's directory is for this
        # service's user only.
        out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        audit.export_tenant(platform_db, database, tenant, audit.load_signing_key(settings), out,
                            progress=progress)
        os.chmod(out, 0o600)
    except Exception as e:
        log.error("export job %s of tenant %s failed: %s", job_id, tenant.id, describe(e))
        out.with_suffix(out.suffix + ".part").unlink(missing_ok=True)
        _update(platform_db, job_id, "status = 'failed', done = %s, finished_at = now()", (done,))
        return
    # Events committed after the count but before the signed head are in the file too.
    _update(platform_db, job_id, "status = 'done', done = %s, total = %s, finished_at = now()", (done, done))
