"""Support read model: per placement how far onboarding is, what is still
open and when someone last checked in; job-coach hours per session; the
support activities given to employers; and each contract's targets beyond
euros, shown beside what the compliance read model counts.

No texts are kept: the person's needs, labels, descriptions and notes are
sealed in the events and shown only from there (by role). The figures need
ids, statuses, dates and hours.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.small_groups import shown
from projections import compliance
from projections.base import RM, Event, Projection, Table
from projections.reader import live_gen_sql, reading
from projections.writer import Batch

NAME = "support"
COACHING_WEEKS = 4
LIST_LIMIT = 500


class SupportProjection(Projection):
    name = NAME
    tables = (
        Table("sp_placements", ("placement_id",), {
            "placement_id": "uuid", "employer_id": "uuid", "candidate_id": "uuid", "opened_on": "date",
            "ended_on": "date",
            # item id -> {"responsible": ..., "done_on": ...}
            "items": "jsonb", "items_total": "int", "items_done": "int", "employer_items_open": "int",
            "adjustments_open": "int", "adjustments_delivered": "int", "check_ins": "int",
            "last_check_in_on": "date",
        }, indexes=(("employer_id",),)),
        Table("sp_coaching", ("placement_id", "session_id"), {
            "placement_id": "uuid", "session_id": "text", "held_on": "date", "hours": "numeric",
        }),
        Table("sp_activities", ("employer_id", "activity_id"), {
            "employer_id": "uuid", "activity_id": "text", "kind": "text", "topic": "text", "held_on": "date",
            "participants": "int", "given_by": "text", "title": "text",
        }),
        Table("sp_targets", ("contract_id",), {
            "contract_id": "uuid", "target_placements": "int", "target_retention_12m_percent": "numeric",
        }),
    )

    @staticmethod
    def _counted(row: dict) -> dict:
        items = row["items"]
        row["items_total"] = len(items)
        row["items_done"] = sum(1 for i in items.values() if i["done_on"] is not None)
        row["employer_items_open"] = sum(1 for i in items.values()
                                         if i["done_on"] is None and i["responsible"] == "employer")
        return row

    @staticmethod
    def _support_row(b: Batch, e: Event) -> dict | None:
        return b.get("sp_placements", e.data["placement_id"])

    def on_SupportOpened(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("sp_placements", self._counted({
            "placement_id": d["placement_id"], "employer_id": d["employer_id"], "candidate_id": d["candidate_id"],
            "opened_on": d["opened_on"], "ended_on": None,
            "items": {i["id"]: {"responsible": i["responsible"], "done_on": None} for i in d["items"]},
            "adjustments_open": 0, "adjustments_delivered": 0, "check_ins": 0, "last_check_in_on": None}))

    def on_ChecklistItemAdded(self, b: Batch, e: Event) -> None:
        row = self._support_row(b, e)
        if row is not None:
            row["items"] = {**row["items"], e.data["item_id"]: {"responsible": e.data["responsible"],
                                                                 "done_on": None}}
            b.put("sp_placements", self._counted(row))

    def on_ChecklistItemDone(self, b: Batch, e: Event) -> None:
        row = self._support_row(b, e)
        if row is not None and e.data["item_id"] in row["items"]:
            item = row["items"][e.data["item_id"]]
            row["items"] = {**row["items"], e.data["item_id"]: {**item, "done_on": str(e.data["done_on"])}}
            b.put("sp_placements", self._counted(row))

    def on_AdjustmentRequested(self, b: Batch, e: Event) -> None:
        row = self._support_row(b, e)
        if row is not None:
            row["adjustments_open"] += 1
            b.put("sp_placements", row)

    def on_AdjustmentDelivered(self, b: Batch, e: Event) -> None:
        row = self._support_row(b, e)
        if row is not None:
            row["adjustments_open"] -= 1
            row["adjustments_delivered"] += 1
            b.put("sp_placements", row)

    def on_AdjustmentRefused(self, b: Batch, e: Event) -> None:
        row = self._support_row(b, e)
        if row is not None:
            row["adjustments_open"] -= 1
            b.put("sp_placements", row)

    def on_CheckInLogged(self, b: Batch, e: Event) -> None:
        row = self._support_row(b, e)
        if row is not None:
            row["check_ins"] += 1
            if row["last_check_in_on"] is None or e.data["held_on"] > row["last_check_in_on"]:
                row["last_check_in_on"] = e.data["held_on"]
            b.put("sp_placements", row)

    def on_CoachingSessionLogged(self, b: Batch, e: Event) -> None:
        row = self._support_row(b, e)
        if row is not None:
            b.put("sp_coaching", {"placement_id": row["placement_id"], "session_id": e.data["session_id"],
                                  "held_on": e.data["held_on"], "hours": e.data["hours"]})

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        row = b.get("sp_placements", e.originator_id)
        if row is not None:
            row["ended_on"] = e.data["ends_on"]
            b.put("sp_placements", row)

    def on_SupportActivityLogged(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("sp_activities", {"employer_id": e.originator_id, "activity_id": d["activity_id"], "kind": d["kind"],
                                "topic": d["topic"], "held_on": d["held_on"], "participants": d["participants"],
                                "given_by": d["given_by"], "title": d.get("title")})

    def on_ContractTargetsSet(self, b: Batch, e: Event) -> None:
        b.put("sp_targets", {"contract_id": e.originator_id, "target_placements": e.data["placements"],
                             "target_retention_12m_percent": e.data["retention_12m_percent"]})


# ---------------------------------------------------------------------------
# Queries (asyncpg)

LIVE = f"({live_gen_sql(NAME)})"
COMPLIANCE_LIVE = f"({live_gen_sql(compliance.NAME)})"

SUMMARY_COLUMNS = """p.placement_id, p.employer_id, p.candidate_id, p.opened_on, p.ended_on, p.items_total,
       p.items_done, p.employer_items_open, p.adjustments_open, p.adjustments_delivered, p.check_ins,
       p.last_check_in_on,
       (SELECT coalesce(sum(c.hours), 0) FROM {rm}.sp_coaching c
        WHERE c.tenant_id = p.tenant_id AND c.gen = p.gen AND c.placement_id = p.placement_id
          AND c.held_on > $2::date - {days} AND c.held_on <= $2) AS coaching_hours_recent""".format(
    rm=RM, days=7 * COACHING_WEEKS)

PLACEMENT_SQL = f"""
SELECT {SUMMARY_COLUMNS} FROM {RM}.sp_placements p
WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND p.placement_id = $3
"""

# Onboarding still open (items or adjustments), newest first; ended placements left out.
OPEN_SQL = f"""
SELECT {SUMMARY_COLUMNS} FROM {RM}.sp_placements p
WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND ($3::uuid IS NULL OR p.employer_id = $3)
  AND (p.ended_on IS NULL OR p.ended_on > $2)
  AND (p.items_done < p.items_total OR p.adjustments_open > 0)
ORDER BY p.opened_on DESC, p.placement_id
LIMIT {LIST_LIMIT}
"""

ACTIVITIES_SQL = f"""
SELECT activity_id, kind, topic, held_on, participants, given_by, title FROM {RM}.sp_activities
WHERE tenant_id = $1 AND gen = {LIVE} AND employer_id = $2
ORDER BY held_on DESC, activity_id DESC
LIMIT {LIST_LIMIT}
"""

ACTIVITY_TOTALS_SQL = f"""
SELECT topic, count(*) AS activities, sum(participants) AS participants FROM {RM}.sp_activities
WHERE tenant_id = $1 AND gen = {LIVE} AND employer_id = $2
GROUP BY topic ORDER BY topic
"""

# Targets beside the euros: placements started toward each contract up to the
# day, and its 12-month retention as the retention read model counts it
# (started at least 12 months before the day; still working 12 months after
# the start, or moved to direct employment), from the compliance read model's
# placements (they name their contract).
TARGETS_SQL = f"""
SELECT ids.contract_id, t.target_placements, t.target_retention_12m_percent,
       count(p.placement_id) AS placements,
       count(p.placement_id) FILTER (WHERE p.starts_on <= ($2::date - interval '12 months')::date) AS eligible_12,
       count(p.placement_id) FILTER (WHERE p.starts_on <= ($2::date - interval '12 months')::date AND
           (p.ended_on IS NULL OR p.ended_on >= (p.starts_on + interval '12 months')::date
            OR p.end_reason = 'direct_employment')) AS retained_12
FROM unnest($3::uuid[]) AS ids(contract_id)
LEFT JOIN {RM}.sp_targets t ON t.tenant_id = $1 AND t.gen = {LIVE} AND t.contract_id = ids.contract_id
LEFT JOIN {RM}.c_placements p ON p.tenant_id = $1 AND p.gen = {COMPLIANCE_LIVE}
     AND p.contract_id = ids.contract_id AND p.starts_on <= $2
GROUP BY ids.contract_id, t.target_placements, t.target_retention_12m_percent
"""


# The dashboard's case: only contracts that have a target (no counting for the others).
TARGETED_SQL = TARGETS_SQL.replace(f"LEFT JOIN {RM}.sp_targets t", f"JOIN {RM}.sp_targets t")


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _summary(r: Any) -> dict[str, Any]:
    out = dict(r)
    out["coaching_hours_recent"] = Decimal(out["coaching_hours_recent"])
    out["coaching_weeks"] = COACHING_WEEKS
    return out


async def placement_summary(pool: Any, tenant_id: UUID, placement_id: UUID, as_of: date) -> dict | None:
    async with reading(pool, NAME) as conn:
        r = await conn.fetchrow(PLACEMENT_SQL, tenant_id, as_of, placement_id)
    return _summary(r) if r is not None else None


async def open_onboarding(pool: Any, tenant_id: UUID, as_of: date, employer_id: UUID | None = None) -> list[dict]:
    """Active placements whose checklist or adjustments are not finished."""
    async with reading(pool, NAME) as conn:
        rows = await conn.fetch(OPEN_SQL, tenant_id, as_of, employer_id)
    return [_summary(r) for r in rows]


async def employer_activities(pool: Any, tenant_id: UUID, employer_id: UUID) -> dict[str, Any]:
    async with reading(pool, NAME) as conn:
        rows = await conn.fetch(ACTIVITIES_SQL, tenant_id, employer_id)
        totals = await conn.fetch(ACTIVITY_TOTALS_SQL, tenant_id, employer_id)
    return {"activities": [dict(r) for r in rows],
            "by_topic": [{"topic": t["topic"], "activities": t["activities"], "participants": t["participants"]}
                         for t in totals]}


def targets_view(r: Any) -> dict[str, Any]:
    # The retention share and how many stayed are figures about people: withheld
    # when fewer than 5 started (domain/small_groups.py), as the trend withholds them.
    retention = shown(_percent(r["retained_12"], r["eligible_12"]), r["eligible_12"])
    retained = shown(r["retained_12"], r["eligible_12"])
    return {
        "contract_id": r["contract_id"],
        "placements": r["placements"], "target_placements": r["target_placements"],
        "retention_12m_percent": retention.value, "retention_12m_withheld": retention.withheld and r["eligible_12"] > 0,
        "retention_12m_started": r["eligible_12"], "retention_12m_retained": retained.value,
        "target_retention_12m_percent": r["target_retention_12m_percent"],
        "placements_met": (None if r["target_placements"] is None
                           else r["placements"] >= r["target_placements"]),
        "retention_met": (None if r["target_retention_12m_percent"] is None or retention.value is None
                          else retention.value >= r["target_retention_12m_percent"]),
    }


async def contract_targets(pool: Any, tenant_id: UUID, contract_ids: list[UUID], as_of: date, *,
                           only_targeted: bool = False) -> dict[UUID, dict]:
    """Per contract: its targets (None when not set) beside what was achieved by
    `as_of`; with `only_targeted`, only the contracts that have a target."""
    if not contract_ids:
        return {}
    async with pool.acquire() as conn:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await conn.fetch(TARGETED_SQL if only_targeted else TARGETS_SQL, tenant_id, as_of,
                                    list(contract_ids))
    return {r["contract_id"]: targets_view(r) for r in rows}



# The open-support list page: oldest first (what waits longest comes first), with
# each placement's items (ids, who acts, done or not: no texts). `$4`: only what
# the employer acts on (its items, adjustments awaiting delivery).
OPEN_OLDEST_SQL = f"""
SELECT {SUMMARY_COLUMNS}, p.items FROM {RM}.sp_placements p
WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND ($3::uuid IS NULL OR p.employer_id = $3)
  AND (p.ended_on IS NULL OR p.ended_on > $2)
  AND (CASE WHEN $4 THEN p.employer_items_open > 0
            ELSE p.items_done < p.items_total END OR p.adjustments_open > 0)
ORDER BY p.opened_on, p.placement_id
LIMIT {LIST_LIMIT}
"""


async def open_support_oldest_first(pool: Any, tenant_id: UUID, as_of: date, employer_id: UUID | None = None,
                                    employer_acts: bool = False) -> list[dict]:
    """Active placements with open checklist items or adjustments awaiting
    delivery, oldest first; each with its open items (id, kind, who acts)."""
    async with reading(pool, NAME) as conn:
        rows = await conn.fetch(OPEN_OLDEST_SQL, tenant_id, as_of, employer_id, employer_acts)
    out = []
    for r in rows:
        row = _summary({k: v for k, v in dict(r).items() if k != "items"})
        items = r["items"] if isinstance(r["items"], dict) else json.loads(r["items"] or "{}")
        row["open_items"] = [
            {"id": ident, "responsible": i["responsible"],
             # standard items are named by their kind; "need-N" the person's, "item-N" added later
             "kind": "need" if ident.startswith("need-") else "custom" if ident.startswith("item-") else ident}
            for ident, i in items.items()
            if i["done_on"] is None and (not employer_acts or i["responsible"] == "employer")]
        out.append(row)
    return out
