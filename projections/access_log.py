"""Queries over the access log of special-category data (written by the
service layer, infra/personal_data.PersonKeys.log_read)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

ACCESS_LOG_SQL = """
SELECT at, user_id, role, organisation, subject_id, fields, via, correlation_id
FROM events.access_log
WHERE tenant_id = $1 AND ($2::uuid IS NULL OR subject_id = $2)
  AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
ORDER BY at DESC, id DESC
LIMIT $5
"""


async def access_log(pool: Any, tenant_id: UUID, *, subject_id: UUID | None = None,
                     since: datetime | None = None, until: datetime | None = None,
                     limit: int = 200) -> list[dict[str, Any]]:
    rows = await pool.fetch(ACCESS_LOG_SQL, tenant_id, subject_id, since, until, limit)
    return [{"at": r["at"].isoformat(), "user_id": str(r["user_id"]), "role": r["role"],
             "organisation": r["organisation"], "subject_id": str(r["subject_id"]),
             "fields": list(r["fields"]), "via": r["via"], "correlation_id": r["correlation_id"]}
            for r in rows]
