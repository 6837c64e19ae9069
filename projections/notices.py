"""Notices read model: what about period statements someone must be told.

A notice per statement submitted (the contracting authority is to decide on
it) and per statement decided (every line: the agency learns the outcome).
A notice's id is derived from the statement and the kind, so the
notifications process manager (service/notifications.py) that reads
`pending` here through its port, fans each notice out to its recipients and
mails digests, can key each delivery by (notice, recipient) and tell each
once. Ids, dates and counts only: no person, nothing of the lines' content.
"""
from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

from projections.base import RM, Event, Projection, Table
from projections.reader import live_gen_sql
from projections.writer import Batch

NAME = "notices"
SUBMITTED, DECIDED = "statement_submitted", "statement_decided"
KINDS = (SUBMITTED, DECIDED)
_NAMESPACE = UUID("5b0e7a52-6f2e-4f55-9a4c-2f7d3c1e9b10")


def notice_id(statement_id: UUID, kind: str) -> UUID:
    return uuid5(_NAMESPACE, f"{statement_id}:{kind}")


class NoticesProjection(Projection):
    name = NAME
    tables = (
        Table("nt_statements", ("statement_id",), {
            "statement_id": "uuid", "contract_id": "uuid", "period_start": "date", "period_end": "date",
            "lines": "int", "accepted": "int", "rejected": "int",
        }),
        Table("nt_notices", ("notice_id",), {
            "notice_id": "uuid", "kind": "text", "statement_id": "uuid", "contract_id": "uuid",
            "period_start": "date", "period_end": "date", "occurred_on": "date",
            "lines": "int", "accepted": "int", "rejected": "int",
        }, indexes=(("occurred_on",),)),
    )

    def on_StatementPrepared(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("nt_statements", {"statement_id": e.originator_id, "contract_id": d["contract_id"],
                                "period_start": d["period_start"], "period_end": d["period_end"],
                                "lines": 0, "accepted": 0, "rejected": 0})

    @staticmethod
    def _notice(b: Batch, row: dict[str, Any], kind: str, on: date) -> None:
        b.put("nt_notices", {"notice_id": notice_id(row["statement_id"], kind), "kind": kind,
                             "statement_id": row["statement_id"], "contract_id": row["contract_id"],
                             "period_start": row["period_start"], "period_end": row["period_end"],
                             "occurred_on": on, "lines": row["lines"], "accepted": row["accepted"],
                             "rejected": row["rejected"]})

    def on_StatementSubmitted(self, b: Batch, e: Event) -> None:
        row = b.get("nt_statements", e.originator_id)
        if row is None:
            return
        row["lines"] = len(e.data["lines"])
        b.put("nt_statements", row)
        self._notice(b, row, SUBMITTED, e.data["submitted_on"])

    def on_StatementLinesDecided(self, b: Batch, e: Event) -> None:
        row = b.get("nt_statements", e.originator_id)
        if row is None:
            return
        for d in e.data["decisions"]:
            row[d["decision"]] += 1
        b.put("nt_statements", row)
        if row["accepted"] + row["rejected"] >= row["lines"]:  # every line decided: the statement is
            self._notice(b, row, DECIDED, e.data["decided_on"])


PENDING_SQL = f"""
SELECT notice_id, kind, statement_id, contract_id, period_start, period_end, occurred_on,
       lines, accepted, rejected
FROM {RM}.nt_notices WHERE tenant_id = %s AND gen = ({live_gen_sql(NAME).replace('$1', '%s')})
  AND occurred_on >= %s
ORDER BY occurred_on, notice_id
"""


def pending(conn: Any, tenant_id: UUID, since: date) -> list[dict[str, Any]]:
    """The tenant's notices that happened on or after `since` (psycopg)."""
    return [dict(r) for r in conn.execute(PENDING_SQL, (tenant_id, tenant_id, since)).fetchall()]
