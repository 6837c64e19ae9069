"""Impact read model (issue 16): outcomes beyond euros.

- **Accessibility of the workplace**, per employer and per contract: the
  adjustments asked, delivered, refused and still open, the days delivery
  took (median, mean) and the share delivered within 30 days; the onboarding
  checklist items done by the placement's first day.
- **The managers' team survey** after a workshop or team session: knowledge
  and confidence (1-5) and "would hire again", per employer, never per
  session or manager.
- **Targets beyond placements and retention** (share of permanent contracts,
  adjustments delivered within 30 days, the employees' satisfaction) and
  their trend per quarter.

Every figure is drawn from a number of people and goes through the
small-group rule (domain/small_groups.py) before anyone sees it: the queries
answer `Shown` values. No texts are kept (needs, labels, descriptions are
sealed in the events); a survey answer has no author.

Its own placements table (employer, person, contract, dates, permanent or
not, the checklist) answers every scope from one generation.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.small_groups import MIN_GROUP, Shown, shown
from domain.voice import QUESTIONS
from projections import voice
from projections.base import RM, Event, Projection, Table
from projections.reader import live_gen_sql
from projections.writer import Batch

NAME = "impact"
WITHIN_DAYS = 30


class ImpactProjection(Projection):
    name = NAME
    tables = (
        Table("im_placements", ("placement_id",), {
            "placement_id": "uuid", "employer_id": "uuid", "candidate_id": "uuid", "contract_id": "uuid",
            "starts_on": "date", "ended_on": "date", "end_reason": "text", "permanent": "boolean",
            # The day it became a permanent contract (its start, when it began as one); the
            # employment it belongs to (None: its own), for an employment made permanent.
            "permanent_on": "date", "employment_id": "uuid",
            # item id -> the day it was done (ISO) or null; empty until support opens
            "items": "jsonb", "items_total": "int", "items_by_day_one": "int",
        }, indexes=(("employer_id",), ("contract_id",), ("employment_id",))),
        Table("im_adjustments", ("placement_id", "adjustment_id"), {
            "placement_id": "uuid", "adjustment_id": "text", "employer_id": "uuid", "candidate_id": "uuid",
            "requested_on": "date", "status": "text", "decided_on": "date",
        }, indexes=(("employer_id",),)),
        Table("im_sessions", ("employer_id", "session_id"), {
            "employer_id": "uuid", "session_id": "text", "kind": "text", "held_on": "date", "managers": "int",
        }),
        Table("im_answers", ("employer_id", "answer_id"), {
            "employer_id": "uuid", "answer_id": "text", "session_id": "text", "held_on": "date",
            "knowledge": "int", "confidence": "int", "would_hire_again": "text",
        }),
        Table("im_targets", ("contract_id",), {
            "contract_id": "uuid", "permanent_percent": "numeric", "adjustments_30d_percent": "numeric",
            "satisfaction_min": "numeric",
        }),
    )

    @staticmethod
    def _counted(row: dict) -> dict:
        starts = row["starts_on"].isoformat() if isinstance(row["starts_on"], date) else str(row["starts_on"])
        row["items_total"] = len(row["items"])
        row["items_by_day_one"] = sum(1 for done in row["items"].values() if done is not None and done <= starts)
        return row

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        row = b.get("im_placements", e.originator_id) or {"items": {}}
        b.put("im_placements", self._counted({
            **row, "placement_id": e.originator_id, "employer_id": d["employer_id"],
            "candidate_id": d["candidate_id"], "contract_id": d.get("contract_id"), "starts_on": d["starts_on"],
            "ended_on": None, "end_reason": None, "permanent": bool(d["permanent_contract"]),
            "permanent_on": d["starts_on"] if d["permanent_contract"] else None,
            "employment_id": d.get("employment_id")}))

    def on_PlacementMadePermanent(self, b: Batch, e: Event) -> None:
        row = b.get("im_placements", e.originator_id)
        if row is not None:
            b.put("im_placements", {**row, "permanent": True, "permanent_on": e.data["on"]})

    def on_EmploymentMadePermanent(self, b: Batch, e: Event) -> None:
        for row in b.select("im_placements", "employment_id", e.originator_id):
            if row["permanent_on"] is None or row["permanent_on"] > e.data["on"]:
                b.put("im_placements", {**row, "permanent": True, "permanent_on": max(e.data["on"], row["starts_on"])})

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        row = b.get("im_placements", e.originator_id)
        if row is not None:
            b.put("im_placements", {**row, "ended_on": e.data["ends_on"], "end_reason": e.data["reason"]})

    def on_SupportOpened(self, b: Batch, e: Event) -> None:
        d = e.data
        row = b.get("im_placements", d["placement_id"]) or {
            "placement_id": d["placement_id"], "employer_id": d["employer_id"], "candidate_id": d["candidate_id"],
            "contract_id": None, "starts_on": d["opened_on"], "ended_on": None, "end_reason": None,
            "permanent": False, "permanent_on": None, "employment_id": None}
        b.put("im_placements", self._counted({**row, "items": {i["id"]: None for i in d["items"]}}))

    def on_ChecklistItemAdded(self, b: Batch, e: Event) -> None:
        row = b.get("im_placements", e.data["placement_id"])
        if row is not None:
            row["items"] = {**row["items"], e.data["item_id"]: None}
            b.put("im_placements", self._counted(row))

    def on_ChecklistItemDone(self, b: Batch, e: Event) -> None:
        row = b.get("im_placements", e.data["placement_id"])
        if row is not None and e.data["item_id"] in row["items"]:
            row["items"] = {**row["items"], e.data["item_id"]: str(e.data["done_on"])}
            b.put("im_placements", self._counted(row))

    def on_AdjustmentRequested(self, b: Batch, e: Event) -> None:
        d = e.data
        row = b.get("im_placements", d["placement_id"])
        if row is not None:
            b.put("im_adjustments", {
                "placement_id": d["placement_id"], "adjustment_id": d["adjustment_id"],
                "employer_id": row["employer_id"], "candidate_id": row["candidate_id"],
                "requested_on": d["requested_on"], "status": "requested", "decided_on": None})

    def _decided(self, b: Batch, e: Event, status: str, day: date) -> None:
        row = b.get("im_adjustments", e.data["placement_id"], e.data["adjustment_id"])
        if row is not None:
            b.put("im_adjustments", {**row, "status": status, "decided_on": day})

    def on_AdjustmentDelivered(self, b: Batch, e: Event) -> None:
        self._decided(b, e, "delivered", e.data["delivered_on"])

    def on_AdjustmentRefused(self, b: Batch, e: Event) -> None:
        self._decided(b, e, "refused", e.data["refused_on"])

    def on_TeamSessionHeld(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("im_sessions", {"employer_id": e.originator_id, "session_id": d["session_id"], "kind": d["kind"],
                              "held_on": d["held_on"], "managers": d["managers"]})

    def on_TeamSurveyAnswered(self, b: Batch, e: Event) -> None:
        d = e.data
        session = b.get("im_sessions", e.originator_id, d["session_id"])
        b.put("im_answers", {"employer_id": e.originator_id, "answer_id": d["answer_id"],
                             "session_id": d["session_id"], "held_on": session["held_on"] if session else None,
                             "knowledge": d["knowledge"], "confidence": d["confidence"],
                             "would_hire_again": d["would_hire_again"]})

    def on_ContractTargetsSet(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("im_targets", {"contract_id": e.originator_id, "permanent_percent": d.get("permanent_percent"),
                             "adjustments_30d_percent": d.get("adjustments_30d_percent"),
                             "satisfaction_min": d.get("satisfaction_min")})


# ---------------------------------------------------------------------------
# Queries (asyncpg). A scope is an employer or a contract: `$2` the employer
# (or NULL), `$3` the contract (or NULL); a contract's placements are those the
# placement names (PlacementStarted).

LIVE = f"({live_gen_sql(NAME)})"

IN_SCOPE = f"""($2::uuid IS NULL OR x.employer_id = $2) AND ($3::uuid IS NULL OR EXISTS (
    SELECT 1 FROM {RM}.im_placements cp WHERE cp.tenant_id = $1 AND cp.gen = {LIVE}
      AND cp.placement_id = x.placement_id AND cp.contract_id = $3))"""

# Adjustments asked in [$4, $5], as they stood on $5.
ADJUSTMENTS_SQL = f"""
SELECT count(*) AS asked,
       count(DISTINCT x.candidate_id) AS people,
       count(*) FILTER (WHERE x.status = 'delivered' AND x.decided_on <= $5) AS delivered,
       count(*) FILTER (WHERE x.status = 'refused' AND x.decided_on <= $5) AS refused,
       count(*) FILTER (WHERE x.status = 'requested' OR x.decided_on > $5) AS open,
       count(DISTINCT x.candidate_id) FILTER (WHERE x.status = 'delivered' AND x.decided_on <= $5)
           AS delivered_people,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x.decided_on - x.requested_on)
           FILTER (WHERE x.status = 'delivered' AND x.decided_on <= $5) AS median_days,
       avg(x.decided_on - x.requested_on) FILTER (WHERE x.status = 'delivered' AND x.decided_on <= $5)
           AS mean_days,
       count(*) FILTER (WHERE x.status = 'delivered' AND x.decided_on <= $5
                         AND x.decided_on - x.requested_on <= {WITHIN_DAYS}) AS within
FROM {RM}.im_adjustments x
WHERE x.tenant_id = $1 AND x.gen = {LIVE} AND x.requested_on BETWEEN $4 AND $5 AND {IN_SCOPE}
"""

# Placements that started in [$4, $5]: their checklist items done by the first day.
ONBOARDING_SQL = f"""
SELECT count(*) AS placements, count(DISTINCT x.candidate_id) AS people,
       coalesce(sum(x.items_total), 0) AS items, coalesce(sum(x.items_by_day_one), 0) AS by_day_one
FROM {RM}.im_placements x
WHERE x.tenant_id = $1 AND x.gen = {LIVE} AND x.items_total > 0
  AND x.starts_on BETWEEN $4 AND $5 AND {IN_SCOPE}
"""

# Answers to sessions held in [$3, $4] at employer $2.
SURVEY_SQL = f"""
SELECT (SELECT count(*) FROM {RM}.im_sessions s WHERE s.tenant_id = $1 AND s.gen = {LIVE}
          AND s.employer_id = $2 AND s.held_on BETWEEN $3 AND $4) AS sessions,
       (SELECT coalesce(sum(s.managers), 0) FROM {RM}.im_sessions s WHERE s.tenant_id = $1 AND s.gen = {LIVE}
          AND s.employer_id = $2 AND s.held_on BETWEEN $3 AND $4) AS managers,
       count(a.answer_id) AS answers, avg(a.knowledge) AS knowledge, avg(a.confidence) AS confidence,
       count(*) FILTER (WHERE a.would_hire_again = 'yes') AS yes,
       count(*) FILTER (WHERE a.would_hire_again = 'no') AS no,
       count(*) FILTER (WHERE a.would_hire_again = 'unsure') AS unsure
FROM {RM}.im_answers a
WHERE a.tenant_id = $1 AND a.gen = {LIVE} AND a.employer_id = $2 AND a.held_on BETWEEN $3 AND $4
"""

# Placements in [$4, $5]: started, running some day, ended (to direct
# employment), permanent among those running; the 12-month retention of those
# whose twelfth month ended in the period (as the retention read model counts:
# still working 12 months after the start, or moved to direct employment).
PLACEMENTS_SQL = f"""
WITH x AS (SELECT * FROM {RM}.im_placements x
           WHERE x.tenant_id = $1 AND x.gen = {LIVE} AND x.employer_id IS NOT NULL AND {IN_SCOPE})
SELECT count(*) FILTER (WHERE starts_on BETWEEN $4 AND $5) AS started,
       count(DISTINCT candidate_id) FILTER (WHERE starts_on BETWEEN $4 AND $5) AS started_people,
       count(*) FILTER (WHERE starts_on <= $5 AND (ended_on IS NULL OR ended_on >= $4)) AS running,
       count(DISTINCT candidate_id) FILTER (WHERE starts_on <= $5 AND (ended_on IS NULL OR ended_on >= $4))
           AS running_people,
       count(*) FILTER (WHERE permanent_on <= $5 AND starts_on <= $5 AND (ended_on IS NULL OR ended_on >= $4))
           AS permanent,
       count(*) FILTER (WHERE ended_on BETWEEN $4 AND $5) AS ended,
       count(DISTINCT candidate_id) FILTER (WHERE ended_on BETWEEN $4 AND $5) AS ended_people,
       count(*) FILTER (WHERE ended_on BETWEEN $4 AND $5 AND end_reason = 'direct_employment') AS direct,
       count(*) FILTER (WHERE (starts_on + interval '12 months')::date BETWEEN $4 AND $5) AS eligible_12,
       count(DISTINCT candidate_id) FILTER (WHERE (starts_on + interval '12 months')::date BETWEEN $4 AND $5)
           AS eligible_12_people,
       count(*) FILTER (WHERE (starts_on + interval '12 months')::date BETWEEN $4 AND $5
           AND (ended_on IS NULL OR ended_on >= (starts_on + interval '12 months')::date
                OR end_reason = 'direct_employment')) AS retained_12
FROM x
"""

# The employees' own check-ins (projections/voice.py): each person's latest
# answer in the scope and period, the mean of its four scores.
VOICE_SQL = f"""
SELECT count(*) AS people, avg(score) AS score, count(*) FILTER (WHERE score >= 4) AS satisfied
FROM (SELECT ({" + ".join(QUESTIONS)})::numeric / {len(QUESTIONS)} AS score FROM ({voice.LATEST_SQL}) l) latest
"""

TARGETS_SQL = f"""
SELECT contract_id, permanent_percent, adjustments_30d_percent, satisfaction_min FROM {RM}.im_targets
WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = ANY($2::uuid[])
"""

# Per quarter end ($3: the days), for contract $2: placements running that
# day and how many on a permanent contract; adjustments of its placements
# delivered by then (and within 30 days), and those still open more than 30
# days after the request (they count against the share).
TREND_SQL = f"""
SELECT d.day,
       (SELECT count(DISTINCT p.candidate_id) FROM {RM}.im_placements p
         WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND p.contract_id = $2
           AND p.starts_on <= d.day AND (p.ended_on IS NULL OR p.ended_on >= d.day)) AS running_people,
       (SELECT count(*) FROM {RM}.im_placements p
         WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND p.contract_id = $2
           AND p.starts_on <= d.day AND (p.ended_on IS NULL OR p.ended_on >= d.day)) AS running,
       (SELECT count(*) FROM {RM}.im_placements p
         WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND p.contract_id = $2 AND p.permanent_on <= d.day
           AND p.starts_on <= d.day AND (p.ended_on IS NULL OR p.ended_on >= d.day)) AS permanent,
       a.counted, a.within, a.people AS adjustment_people, pl.placements, pl.eligible_12, pl.eligible_12_people,
       pl.retained_12
FROM unnest($3::date[]) AS d(day)
CROSS JOIN LATERAL (
    -- as projections/support.py's TARGETS_SQL counts them (placements started by the day; the
    -- 12-month retention of those started at least 12 months before it)
    SELECT count(*) FILTER (WHERE p.starts_on <= d.day) AS placements,
           count(*) FILTER (WHERE p.starts_on <= (d.day - interval '12 months')::date) AS eligible_12,
           count(DISTINCT p.candidate_id) FILTER (WHERE p.starts_on <= (d.day - interval '12 months')::date)
               AS eligible_12_people,
           count(*) FILTER (WHERE p.starts_on <= (d.day - interval '12 months')::date AND
               (p.ended_on IS NULL OR p.ended_on >= (p.starts_on + interval '12 months')::date
                OR p.end_reason = 'direct_employment')) AS retained_12
    FROM {RM}.im_placements p WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND p.contract_id = $2
) pl
CROSS JOIN LATERAL (
    SELECT count(*) AS counted, count(DISTINCT x.candidate_id) AS people,
           count(*) FILTER (WHERE x.status = 'delivered' AND x.decided_on - x.requested_on <= {WITHIN_DAYS})
               AS within
    FROM {RM}.im_adjustments x
    JOIN {RM}.im_placements cp ON cp.tenant_id = $1 AND cp.gen = {LIVE}
         AND cp.placement_id = x.placement_id AND cp.contract_id = $2
    WHERE x.tenant_id = $1 AND x.gen = {LIVE} AND x.requested_on <= d.day
      AND ((x.status = 'delivered' AND x.decided_on <= d.day)
           OR ((x.status = 'requested' OR x.decided_on > d.day) AND d.day - x.requested_on > {WITHIN_DAYS}))
) a
ORDER BY d.day
"""


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _one(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def as_dict(figure: Shown[Any]) -> dict[str, Any]:
    """A figure for the API: its value (null when withheld), whether withheld, from how many people."""
    return {"value": figure.value, "withheld": figure.withheld, "people": figure.people}


def plain(figures: dict[str, Any]) -> dict[str, Any]:
    """Every `Shown` in a nested dict as `as_dict` (for JSON)."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, Shown):
            out[key] = as_dict(value)
        elif isinstance(value, dict):
            out[key] = plain(value)
        else:
            out[key] = value
    return out


def _period(start: date, end: date) -> dict[str, Any]:
    return {"from": start, "to": end}


async def accessibility(conn: Any, tenant_id: UUID, start: date, end: date, *, employer_id: UUID | None = None,
                        contract_id: UUID | None = None) -> dict[str, Any]:
    """The workplace's accessibility in [start, end], for an employer or a contract.

    Counts of adjustments are drawn from the people who asked (distinct
    candidates); the delivery times and the 30-day share from those whose
    adjustment was delivered; the day-one share from the people who started."""
    a = await conn.fetchrow(ADJUSTMENTS_SQL, tenant_id, employer_id, contract_id, start, end)
    o = await conn.fetchrow(ONBOARDING_SQL, tenant_id, employer_id, contract_id, start, end)
    asked_people, delivered_people = a["people"], a["delivered_people"]
    return {
        "period": _period(start, end),
        "adjustments": {
            "asked": shown(a["asked"], asked_people), "delivered": shown(a["delivered"], asked_people),
            "refused": shown(a["refused"], asked_people), "open": shown(a["open"], asked_people),
            "median_days": shown(_one(a["median_days"]), delivered_people),
            "mean_days": shown(_one(a["mean_days"]), delivered_people),
            "within_30_days_percent": shown(percent(a["within"], a["delivered"]), delivered_people),
        },
        "onboarding": {
            "placements": shown(o["placements"], o["people"]),
            "items": shown(o["items"], o["people"]),
            "done_by_day_one": shown(o["by_day_one"], o["people"]),
            "done_by_day_one_percent": shown(percent(o["by_day_one"], o["items"]), o["people"]),
        },
    }


async def placements(conn: Any, tenant_id: UUID, start: date, end: date, *, employer_id: UUID | None = None,
                     contract_id: UUID | None = None) -> dict[str, Any]:
    """Placements in [start, end] for an employer or a contract, each figure
    drawn from the people it counts."""
    r = await conn.fetchrow(PLACEMENTS_SQL, tenant_id, employer_id, contract_id, start, end)
    return {
        "started": shown(r["started"], r["started_people"]),
        "running": shown(r["running"], r["running_people"]),
        "permanent_percent": shown(percent(r["permanent"], r["running"]), r["running_people"]),
        "ended": shown(r["ended"], r["ended_people"]),
        "to_direct_employment": shown(r["direct"], r["ended_people"]),
        "retention_12m_percent": shown(percent(r["retained_12"], r["eligible_12"]), r["eligible_12_people"]),
        "retention_12m_started": shown(r["eligible_12"], r["eligible_12_people"]),
    }


async def employee_voice(conn: Any, tenant_id: UUID, start: date | None, end: date, *,
                         employer_id: UUID | None = None, contract_id: UUID | None = None) -> dict[str, Any]:
    """The employees' own check-ins (domain/voice.py), each person's latest in
    [start, end] (start None: any before end): the people who answered, the
    mean score (1-5, as projections/voice.py's satisfaction) and the share of
    people whose latest check-in averaged 4 or more."""
    r = await conn.fetchrow(VOICE_SQL, tenant_id, employer_id, contract_id, end, start)
    n = r["people"]
    return {"people": shown(n, n), "satisfaction": shown(_one(r["score"]), n),
            "at_least_4_percent": shown(percent(r["satisfied"], n), n)}


async def team_survey(conn: Any, tenant_id: UUID, employer_id: UUID, start: date, end: date) -> dict[str, Any]:
    """The managers' answers after the sessions held in [start, end]: one
    answer is one manager, so under 5 answers every figure is withheld."""
    r = await conn.fetchrow(SURVEY_SQL, tenant_id, employer_id, start, end)
    n = r["answers"]
    return {
        "period": _period(start, end), "sessions": r["sessions"], "managers": r["managers"],
        "answers": shown(n, n),
        "knowledge_average": shown(_one(r["knowledge"]), n),
        "confidence_average": shown(_one(r["confidence"]), n),
        "would_hire_again_yes_percent": shown(percent(r["yes"], n), n),
        "would_hire_again_no_percent": shown(percent(r["no"], n), n),
        "would_hire_again_unsure_percent": shown(percent(r["unsure"], n), n),
    }


async def extra_targets(conn: Any, tenant_id: UUID, contract_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    rows = await conn.fetch(TARGETS_SQL, tenant_id, list(contract_ids))
    return {r["contract_id"]: {k: r[k] for k in ("permanent_percent", "adjustments_30d_percent",
                                                  "satisfaction_min")} for r in rows}


def quarter_ends(start: date, end: date) -> list[date]:
    """The last day of every calendar quarter from start's to end's, the
    last one cut at `end` (the figure so far)."""
    days = []
    year, q = start.year, (start.month - 1) // 3
    while True:
        month = q * 3 + 3
        last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
        if last >= end:
            days.append(end)
            return days
        days.append(last)
        q += 1
        if q == 4:
            year, q = year + 1, 0


def quarter_label(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


async def target_trend(conn: Any, tenant_id: UUID, contract_id: UUID, days: list[date]) -> list[dict[str, Any]]:
    """Per day (a quarter's end): the share of permanent contracts among the
    placements running that day, and the share of adjustments delivered
    within 30 days (of those delivered by then, or still open after 30 days),
    and the employees' satisfaction: the mean of each person's latest check-in by then."""
    rows = await conn.fetch(TREND_SQL, tenant_id, contract_id, days)
    out = []
    for r in rows:
        voiced = await employee_voice(conn, tenant_id, None, r["day"], contract_id=contract_id)
        out.append({"day": r["day"], "quarter": quarter_label(r["day"]),
                    # a count of placements is the contract's progress, not a person's figure
                    "placements": Shown(r["placements"], r["placements"]),
                    "retention_12m_percent": shown(percent(r["retained_12"], r["eligible_12"]),
                                                   r["eligible_12_people"]),
                    "permanent_percent": shown(percent(r["permanent"], r["running"]), r["running_people"]),
                    "adjustments_30d_percent": shown(percent(r["within"], r["counted"]), r["adjustment_people"]),
                    "satisfaction": voiced["satisfaction"]})
    return out
