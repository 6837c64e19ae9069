"""Progression read model (issue 16): how a person moves on while placed.

Per placement a timeline (started, hours changed, role or pay scale changed,
training completed, fixed-term made permanent, extended, ended: direct
employment with the employer among the end reasons) and a summary row; from
those, figures per employer, per contract, per cohort (the quarter a
placement started) and for the whole agency.

Read functions (for pages, the API and other read models' users, e.g. the
impact report):
- `placement_timeline(pool, tenant_id, placement_id)`: the timeline, oldest first;
- `progression_figures(pool, tenant_id, by=..., employer_id=None, contract_id=None)`:
  one group per employer, contract or cohort (`by`: "employer", "contract",
  "cohort", "all"), each figure withheld below 5 people (domain/small_groups.py).

A role's title and a training's name are sealed under the person's key
(infra/personal_data.py): this projection opens only those two fields, and
erasing the person blanks them here as a rebuild would read them (erased).
A scale is a code ("schaal 6", "band b"), never an amount.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.small_groups import MIN_GROUP, shown
from projections.base import RM, Event, Projection, Table
from projections.reader import cached_figures, live_gen_sql, reading
from projections.writer import Batch

NAME = "progression"
GROUPINGS = ("employer", "contract", "cohort", "all")
# The figures of a group, in the order pages show them.
FIGURES = ("placements", "hours_up", "made_permanent", "direct_employment", "role_changed", "trained")
TIMELINE_KINDS = ("started", "hours", "role", "training", "permanent", "extended", "ended")


def cohort_of(day: date) -> str:
    """The quarter a placement started: "2025-Q1"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


class ProgressionProjection(Projection):
    name = NAME
    version = 1
    personal_fields = frozenset({"role", "training"})
    tables = (
        Table("pg_placements", ("placement_id",), {
            "placement_id": "uuid", "candidate_id": "uuid", "employer_id": "uuid", "contract_id": "uuid",
            "employment_id": "uuid", "starts_on": "date", "cohort": "text", "ended_on": "date",
            "end_reason": "text", "start_hours": "numeric", "hours": "numeric", "max_hours": "numeric",
            # fixed-term at the start (permanent_contract false and not under a permanent employment)
            "fixed_term_at_start": "boolean", "made_permanent_on": "date", "scale": "text",
            "role_changes": "int", "trainings": "int",
        }, indexes=(("employer_id",), ("contract_id",), ("employment_id",), ("candidate_id",))),
        Table("pg_employments", ("employment_id",), {
            "employment_id": "uuid", "kind": "text", "made_permanent_on": "date",
        }),
        Table("pg_timeline", ("placement_id", "position"), {
            "placement_id": "uuid", "position": "bigint", "kind": "text", "on_day": "date",
            "hours": "numeric", "scale": "text", "role": "text", "training": "text", "end_reason": "text",
        }),
    )

    @staticmethod
    def _step(b: Batch, pid: UUID, e: Event, kind: str, on: date, **values: Any) -> None:
        b.put("pg_timeline", {"placement_id": pid, "position": e.position, "kind": kind, "on_day": on,
                              "hours": None, "scale": None, "role": None, "training": None, "end_reason": None,
                              **values})

    def on_EmploymentStarted(self, b: Batch, e: Event) -> None:
        b.put("pg_employments", {"employment_id": e.originator_id, "kind": e.data["kind"],
                                 "made_permanent_on": None})

    def on_EmploymentMadePermanent(self, b: Batch, e: Event) -> None:
        eid, on = e.originator_id, e.data["on"]
        row = b.get("pg_employments", eid)
        if row is not None:
            row["kind"], row["made_permanent_on"] = "permanent", on
            b.put("pg_employments", row)
        for p in b.select("pg_placements", "employment_id", eid):
            if p["fixed_term_at_start"] and p["made_permanent_on"] is None and (
                    p["ended_on"] is None or p["ended_on"] >= on):
                p["made_permanent_on"] = on
                b.put("pg_placements", p)
                self._step(b, p["placement_id"], e, "permanent", on)

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d, pid = e.data, e.originator_id
        employment = b.get("pg_employments", d["employment_id"]) if d.get("employment_id") else None
        permanent = bool(d["permanent_contract"]) or (employment is not None and employment["kind"] == "permanent")
        b.put("pg_placements", {
            "placement_id": pid, "candidate_id": d["candidate_id"], "employer_id": d["employer_id"],
            "contract_id": d.get("contract_id"), "employment_id": d.get("employment_id"),
            "starts_on": d["starts_on"], "cohort": cohort_of(d["starts_on"]), "ended_on": None, "end_reason": None,
            "start_hours": d["hours_per_week"], "hours": d["hours_per_week"], "max_hours": d["hours_per_week"],
            "fixed_term_at_start": not permanent, "made_permanent_on": None, "scale": None,
            "role_changes": 0, "trainings": 0})
        self._step(b, pid, e, "started", d["starts_on"], hours=d["hours_per_week"])

    def _placement(self, b: Batch, pid: UUID) -> dict | None:
        return b.get("pg_placements", pid)

    def on_HoursChanged(self, b: Batch, e: Event) -> None:
        row = self._placement(b, e.originator_id)
        if row is None:
            return
        hours = e.data["hours_per_week"]
        row["max_hours"] = max(Decimal(row["max_hours"]), Decimal(hours))
        row["hours"] = hours
        b.put("pg_placements", row)
        self._step(b, e.originator_id, e, "hours", e.data["effective_on"], hours=hours)

    def on_RoleChanged(self, b: Batch, e: Event) -> None:
        row = self._placement(b, e.originator_id)
        if row is None:
            return
        if e.data["scale"] != row["scale"]:
            row["role_changes"] += 1
        row["scale"] = e.data["scale"]
        b.put("pg_placements", row)
        self._step(b, e.originator_id, e, "role", e.data["effective_on"], scale=e.data["scale"],
                   role=e.data.get("role") or None)

    def on_TrainingCompleted(self, b: Batch, e: Event) -> None:
        row = self._placement(b, e.originator_id)
        if row is None:
            return
        row["trainings"] += 1
        b.put("pg_placements", row)
        self._step(b, e.originator_id, e, "training", e.data["completed_on"], training=e.data.get("training"))

    def on_PlacementMadePermanent(self, b: Batch, e: Event) -> None:
        row = self._placement(b, e.originator_id)
        if row is None:
            return
        row["made_permanent_on"] = e.data["on"]
        b.put("pg_placements", row)
        self._step(b, e.originator_id, e, "permanent", e.data["on"])

    def on_PlacementExtended(self, b: Batch, e: Event) -> None:
        if self._placement(b, e.originator_id) is not None:
            self._step(b, e.originator_id, e, "extended", e.data["until"])

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        row = self._placement(b, e.originator_id)
        if row is None:
            return
        row["ended_on"], row["end_reason"] = e.data["ends_on"], e.data["reason"]
        b.put("pg_placements", row)
        self._step(b, e.originator_id, e, "ended", e.data["ends_on"], end_reason=e.data["reason"])

    def on_CandidateErased(self, b: Batch, e: Event) -> None:
        """Titles and training names read as erased, as a rebuild reads them."""
        for p in b.select("pg_placements", "candidate_id", e.originator_id):
            for step in b.select("pg_timeline", "placement_id", p["placement_id"]):
                if step["role"] is not None or step["training"] is not None:
                    step["role"] = None
                    step["training"] = None if step["training"] is None else "[erased]"
                    b.put("pg_timeline", step)


LIVE = live_gen_sql(NAME)

TIMELINE_SQL = f"""
SELECT kind, on_day, hours, scale, role, training, end_reason FROM {RM}.pg_timeline
WHERE tenant_id = $1 AND gen = {LIVE} AND placement_id = $2
ORDER BY on_day, position
"""

PLACEMENT_SQL = f"""
SELECT * FROM {RM}.pg_placements WHERE tenant_id = $1 AND gen = {LIVE} AND placement_id = $2
"""

# One row per group: `$2` the grouping column's text ('all': one group), `$3`/`$4` employer/contract filters.
GROUPS_SQL = f"""
SELECT CASE $2::text WHEN 'employer' THEN employer_id::text WHEN 'contract' THEN contract_id::text
                     WHEN 'cohort' THEN cohort ELSE 'all' END AS grp,
       count(*) AS placements,
       count(DISTINCT candidate_id) AS people,
       count(*) FILTER (WHERE max_hours > start_hours) AS hours_up,
       count(*) FILTER (WHERE fixed_term_at_start) AS fixed_term,
       count(*) FILTER (WHERE made_permanent_on IS NOT NULL) AS made_permanent,
       count(*) FILTER (WHERE end_reason = 'direct_employment') AS direct_employment,
       count(*) FILTER (WHERE role_changes > 0) AS role_changed,
       count(*) FILTER (WHERE trainings > 0) AS trained,
       coalesce(sum(trainings), 0) AS trainings
FROM {RM}.pg_placements
WHERE tenant_id = $1 AND gen = {LIVE}
  AND ($3::uuid IS NULL OR employer_id = $3) AND ($4::uuid IS NULL OR contract_id = $4)
  AND ($2::text <> 'contract' OR contract_id IS NOT NULL)
GROUP BY 1 ORDER BY 1
"""


# The same figures for the placements working in one period ($2..$3), from
# their timelines: what happened in the period, not since the start. Hours
# went up when the most hours in the period exceed those in effect when it
# began; fixed-term counts the placements still fixed-term when it began; a
# role change is a step to another scale (as `role_changes` counts them).
PERIOD_SQL = f"""
SELECT 'all' AS grp, count(*) AS placements, count(DISTINCT candidate_id) AS people,
       count(*) FILTER (WHERE hours_max > hours_before) AS hours_up,
       count(*) FILTER (WHERE fixed_term_at_start AND (made_permanent_on IS NULL OR made_permanent_on >= $2))
           AS fixed_term,
       count(*) FILTER (WHERE permanent_in) AS made_permanent,
       count(*) FILTER (WHERE direct_in) AS direct_employment,
       count(*) FILTER (WHERE roles_in > 0) AS role_changed,
       count(*) FILTER (WHERE trainings_in > 0) AS trained,
       coalesce(sum(trainings_in), 0) AS trainings
FROM (
  SELECT p.candidate_id, p.fixed_term_at_start, p.made_permanent_on,
         coalesce((SELECT t.hours FROM {RM}.pg_timeline t
                   WHERE t.tenant_id = $1 AND t.gen = {LIVE} AND t.placement_id = p.placement_id
                     AND t.kind IN ('started', 'hours') AND t.on_day < $2
                   ORDER BY t.on_day DESC, t.position DESC LIMIT 1), p.start_hours) AS hours_before,
         y.hours_max, coalesce(y.permanent_in, false) AS permanent_in, coalesce(y.direct_in, false) AS direct_in,
         coalesce(y.trainings_in, 0) AS trainings_in,
         (SELECT count(*) FROM (
             SELECT r.on_day, r.scale IS DISTINCT FROM lag(r.scale) OVER (ORDER BY r.position) AS changed
             FROM {RM}.pg_timeline r
             WHERE r.tenant_id = $1 AND r.gen = {LIVE} AND r.placement_id = p.placement_id AND r.kind = 'role') rs
          WHERE rs.changed AND rs.on_day BETWEEN $2 AND $3) AS roles_in
  FROM {RM}.pg_placements p
  LEFT JOIN LATERAL (
      SELECT max(t.hours) FILTER (WHERE t.kind IN ('started', 'hours')) AS hours_max,
             bool_or(t.kind = 'permanent') AS permanent_in,
             bool_or(t.kind = 'ended' AND t.end_reason = 'direct_employment') AS direct_in,
             count(*) FILTER (WHERE t.kind = 'training') AS trainings_in
      FROM {RM}.pg_timeline t
      WHERE t.tenant_id = $1 AND t.gen = {LIVE} AND t.placement_id = p.placement_id
        AND t.on_day BETWEEN $2 AND $3) y ON true
  WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND p.starts_on <= $3 AND (p.ended_on IS NULL OR p.ended_on >= $2)
    AND ($4::uuid IS NULL OR p.employer_id = $4) AND ($5::uuid IS NULL OR p.contract_id = $5)
) per_placement
"""


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def group_figures(r: Any) -> dict[str, Any]:
    """One group's figures, every one of them withheld when fewer than 5
    people stand behind the group (then `people` is withheld too)."""
    people = int(r["people"])
    figures: dict[str, Any] = {
        "placements": r["placements"], "hours_up": r["hours_up"],
        "hours_up_percent": _percent(r["hours_up"], r["placements"]),
        "fixed_term_at_start": r["fixed_term"], "made_permanent": r["made_permanent"],
        "made_permanent_percent": _percent(r["made_permanent"], r["fixed_term"]),
        "direct_employment": r["direct_employment"],
        "direct_employment_percent": _percent(r["direct_employment"], r["placements"]),
        "role_changed": r["role_changed"], "role_changed_percent": _percent(r["role_changed"], r["placements"]),
        "trained": r["trained"], "trained_percent": _percent(r["trained"], r["placements"]),
        "trainings": int(r["trainings"]),
    }
    withheld = shown(figures, people).withheld
    return {"group": r["grp"], "withheld": withheld, "people": None if withheld else people,
            **{k: (None if withheld else v) for k, v in figures.items()}}


async def progression_figures(pool: Any, tenant_id: UUID, by: str = "all", employer_id: UUID | None = None,
                              contract_id: UUID | None = None) -> list[dict[str, Any]]:
    """Progression per group (`by`: employer, contract, cohort or all), each
    group's figures withheld when fewer than MIN_GROUP people stand behind
    it. The caller checks the asker may see the employer or contract."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")

    async def compute(conn: Any) -> list[dict[str, Any]]:
        return [group_figures(r) for r in await conn.fetch(GROUPS_SQL, tenant_id, by, employer_id, contract_id)]

    async with reading(pool, NAME) as conn:
        return await cached_figures(conn, NAME, tenant_id, ("groups", by, employer_id, contract_id), compute)


async def progression_in_period(pool: Any, tenant_id: UUID, start: date, end: date, *,
                                employer_id: UUID | None = None,
                                contract_id: UUID | None = None) -> dict[str, Any]:
    """The figures of the placements working between `start` and `end` (a
    report's year), counting only what happened in that period; withheld
    under 5 people as `progression_figures` is."""
    async with reading(pool, NAME) as conn:
        row = await conn.fetchrow(PERIOD_SQL, tenant_id, start, end, employer_id, contract_id)
    return group_figures(row)


async def placement_progression(pool: Any, tenant_id: UUID, placement_id: UUID) -> dict[str, Any] | None:
    """One placement: its summary and timeline (oldest first), or None. About
    one person, so shown only to who sees the placement's person (the caller
    decides: the agency, the person themselves)."""
    async with reading(pool, NAME) as conn:
        row = await conn.fetchrow(PLACEMENT_SQL, tenant_id, placement_id)
        if row is None:
            return None
        steps = await conn.fetch(TIMELINE_SQL, tenant_id, placement_id)
    return {
        "placement_id": str(placement_id), "cohort": row["cohort"],
        "start_hours": row["start_hours"], "hours": row["hours"], "max_hours": row["max_hours"],
        "fixed_term_at_start": row["fixed_term_at_start"],
        "made_permanent_on": row["made_permanent_on"], "scale": row["scale"],
        "role_changes": row["role_changes"], "trainings": row["trainings"],
        "direct_employment": row["end_reason"] == "direct_employment",
        "timeline": [{"kind": s["kind"], "on": s["on_day"], "hours": s["hours"], "scale": s["scale"],
                      "role": s["role"], "training": s["training"], "end_reason": s["end_reason"]}
                     for s in steps],
    }


# Kept for readers: the small-group threshold these figures follow.
__all__ = ["MIN_GROUP", "GROUPINGS", "FIGURES", "cohort_of", "placement_progression", "progression_figures",
           "progression_in_period", "ProgressionProjection"]
