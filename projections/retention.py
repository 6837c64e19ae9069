"""Retention read model: do placements last?

Per placement its dates, state and feedback; per tenant and per employer the
3-, 6- and 12-month retention, end reasons, the feedback trend, the time from
vacancy to placement, and early warnings. Feedback comments are not copied
here: figures need scores and dates, not what people wrote.
"""
from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.values import END_REASONS
from projections.base import RM, Event, Projection, Table
from projections.reader import cached_figures, live_gen_sql, reading
from projections.writer import Batch

NAME = "retention"
WINDOWS_MONTHS = (3, 6, 12)
NO_FEEDBACK_WARNING_DAYS = 42  # six weeks
TREND_DAYS = 90


def add_months(day: date, months: int) -> date:
    """As PostgreSQL's date + interval 'n months': the same day n months on,
    or the month's last day if it has no such day (31 August + 6 months = 28/29 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class RetentionProjection(Projection):
    name = NAME
    # 2: the early-warning figures (latest score, earlier sum and count,
    # quiet_since) and the 3/6/12-month flags kept on r_placements.
    version = 2
    tables = (
        Table("r_vacancies", ("vacancy_id",), {
            "vacancy_id": "uuid", "employer_id": "uuid", "opened_on": "date",
        }),
        Table("r_placements", ("placement_id",), {
            "placement_id": "uuid", "employer_id": "uuid", "vacancy_id": "uuid", "starts_on": "date",
            "ended_on": "date", "end_reason": "text", "permanent": "boolean",
            "feedback_count": "int", "last_feedback_on": "date", "vacancy_opened_on": "date",
            # For the falling-feedback warning without reading r_feedback: the
            # latest score (by day given, then version) and the sum and number
            # of the scores before it. NULL with feedback_count > 0: a row
            # projected before these columns existed (the query then reads
            # r_feedback for it, until a rebuild fills them in).
            "latest_score": "int", "earlier_score_sum": "int", "earlier_scores": "int",
            # The last feedback day, or the start without feedback: the list of
            # placements without feedback is read in this order from its index.
            "quiet_since": "date",
            # Whether it was still running 3, 6 and 12 months after its start (or
            # moved to direct employment): once a placement is old enough to
            # count for a window, this does not depend on the day asked.
            **{f"retained_{n}": "boolean" for n in WINDOWS_MONTHS},
        }, indexes=(("employer_id",), ("quiet_since",))),
        Table("r_feedback", ("placement_id", "version"), {
            "placement_id": "uuid", "version": "int", "employer_id": "uuid", "given_on": "date",
            "score": "int", "from_role": "text",
        }, indexes=(("employer_id",), ("given_on",))),
    )

    def on_VacancyOpened(self, b: Batch, e: Event) -> None:
        b.put("r_vacancies", {"vacancy_id": e.originator_id, "employer_id": e.data["employer_id"],
                              "opened_on": e.data.get("opened_on") or e.recorded_on})

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        vacancy = b.get("r_vacancies", d["vacancy_id"]) if d.get("vacancy_id") else None
        b.put("r_placements", {
            "placement_id": e.originator_id, "employer_id": d["employer_id"],
            "vacancy_id": d.get("vacancy_id"), "starts_on": d["starts_on"], "ended_on": None,
            "end_reason": None, "permanent": bool(d["permanent_contract"]), "feedback_count": 0,
            "last_feedback_on": None, "vacancy_opened_on": vacancy["opened_on"] if vacancy else None,
            "latest_score": None, "earlier_score_sum": 0, "earlier_scores": 0, "quiet_since": d["starts_on"],
            **{f"retained_{n}": True for n in WINDOWS_MONTHS},
        })

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        row = b.get("r_placements", e.originator_id)
        if row is not None:
            row["ended_on"], row["end_reason"] = e.data["ends_on"], e.data["reason"]
            for n in WINDOWS_MONTHS:
                row[f"retained_{n}"] = (row["end_reason"] == "direct_employment"
                                        or row["ended_on"] >= add_months(row["starts_on"], n))
            b.put("r_placements", row)

    def on_FeedbackGiven(self, b: Batch, e: Event) -> None:
        row = b.get("r_placements", e.originator_id)
        if row is None:
            return
        given_on = e.data.get("given_on") or e.recorded_on
        score = e.data["score"]
        known = row["feedback_count"] == 0 or row.get("latest_score") is not None
        if known:
            # Versions only grow, so a score given on or after the latest day is the new latest.
            latest = row["last_feedback_on"] is None or given_on >= row["last_feedback_on"]
            if row["feedback_count"]:
                row["earlier_score_sum"] += row["latest_score"] if latest else score
                row["earlier_scores"] += 1
            else:
                row["earlier_score_sum"], row["earlier_scores"] = 0, 0
            if latest:
                row["latest_score"] = score
        row["feedback_count"] += 1
        if row["last_feedback_on"] is None or given_on > row["last_feedback_on"]:
            row["last_feedback_on"] = given_on
        row["quiet_since"] = row["last_feedback_on"]
        b.put("r_placements", row)
        b.put("r_feedback", {"placement_id": e.originator_id, "version": e.version,
                             "employer_id": row["employer_id"], "given_on": given_on,
                             "score": e.data["score"], "from_role": e.data["from_role"]})


# ---------------------------------------------------------------------------
# Queries (asyncpg)

LIVE = f"({live_gen_sql(NAME)})"

# Row conditions for the early warnings (see WARNINGS_SQL). `_REPLAY`: the
# kept figures do not hold for the day asked (feedback after it), or were
# never kept (projected before the columns existed).
_ACTIVE = "(starts_on <= $2 AND (ended_on IS NULL OR ended_on > $2))"
_ENDED = "(ended_on IS NOT NULL AND ended_on <= $2)"
_REPLAY = ("(quiet_since IS NULL OR (feedback_count > 0 AND (latest_score IS NULL OR last_feedback_on > $2)))")
# latest <= sum / n - 1.5, in whole numbers (n >= 2): 2 x latest x n <= 2 x sum - 3 x n
_FALLING = "(earlier_scores >= 2 AND 2 * latest_score * earlier_scores <= 2 * earlier_score_sum - 3 * earlier_scores)"

RETENTION_SQL = f"""
SELECT
  count(*) AS placements,
  count(*) FILTER (WHERE {_ACTIVE} AND {_REPLAY}) AS warnings_replay,
  count(*) FILTER (WHERE {_ACTIVE} AND quiet_since < $2::date - {NO_FEEDBACK_WARNING_DAYS}) AS warnings_silent,
  count(*) FILTER (WHERE {_ACTIVE} AND {_FALLING}) AS warnings_falling,
  count(*) FILTER (WHERE ended_on IS NULL OR ended_on > $2) AS active,
  {", ".join(f'''
  count(*) FILTER (WHERE starts_on <= (SELECT ($2::date - interval '{n} months')::date)) AS eligible_{n},
  count(*) FILTER (WHERE starts_on <= (SELECT ($2::date - interval '{n} months')::date) AND
      coalesce(retained_{n}, ended_on IS NULL OR ended_on >= (starts_on + interval '{n} months')::date
               OR end_reason = 'direct_employment')) AS retained_{n}''' for n in WINDOWS_MONTHS)},
  percentile_cont(0.5) WITHIN GROUP (ORDER BY starts_on - vacancy_opened_on)
      FILTER (WHERE vacancy_opened_on IS NOT NULL) AS median_days_to_start,
  -- end reasons in the same pass: the known ones counted, any other listed
  {", ".join(f"count(*) FILTER (WHERE {_ENDED} AND end_reason = '{reason}') AS ended_{reason}"
             for reason in END_REASONS)},
  array_agg(end_reason) FILTER (WHERE {_ENDED} AND end_reason <> ALL ('{{{",".join(END_REASONS)}}}'::text[]))
      AS ended_unknown
FROM {RM}.r_placements
WHERE tenant_id = $1 AND gen = {LIVE} AND ($3::uuid IS NULL OR employer_id = $3)
  AND starts_on <= $2
"""


def _end_reasons(r: Any) -> dict[str, int]:
    counts = {reason: r[f"ended_{reason}"] for reason in END_REASONS}
    for reason in r["ended_unknown"] or ():
        counts[reason] = counts.get(reason, 0) + 1
    return {reason: n for reason, n in sorted(counts.items()) if n}

TREND_SQL = f"""
SELECT avg(score) FILTER (WHERE given_on > $2::date - {TREND_DAYS}) AS recent,
       count(*) FILTER (WHERE given_on > $2::date - {TREND_DAYS}) AS recent_n,
       avg(score) FILTER (WHERE given_on <= $2::date - {TREND_DAYS}) AS before,
       count(*) FILTER (WHERE given_on <= $2::date - {TREND_DAYS}) AS before_n
FROM {RM}.r_feedback
WHERE tenant_id = $1 AND gen = {LIVE} AND ($3::uuid IS NULL OR employer_id = $3)
  AND given_on <= $2 AND given_on > $2::date - {2 * TREND_DAYS}
"""

# Early warnings: active placements without feedback for over six weeks, and
# placements whose latest score is at least 1.5 below the average before it.
# A placement whose feedback all lies on or before the day asked is judged
# from r_placements alone (latest score, earlier sum and count, kept by the
# projector): the dashboard's case, one pass over the tenant's placements.
# Only placements with feedback after the day asked (a day in the past), or
# projected before those columns existed, read their scores from r_feedback
# (`replay`). The first WARNINGS_SHOWN of each kind are listed, with how many
# there are of that kind in all.
WARNINGS_SHOWN = 100
WARNINGS_SQL = f"""
WITH active AS MATERIALIZED (
  SELECT placement_id, employer_id, gen, starts_on, last_feedback_on, latest_score, earlier_score_sum,
         earlier_scores, feedback_count > 0 AND (latest_score IS NULL OR last_feedback_on > $2) AS replay
  FROM {RM}.r_placements
  WHERE tenant_id = $1 AND gen = {LIVE} AND ($3::uuid IS NULL OR employer_id = $3)
    AND starts_on <= $2 AND (ended_on IS NULL OR ended_on > $2)
), feedback AS (
  SELECT placement_id, employer_id, starts_on, last_feedback_on AS last_on, latest_score AS latest,
         earlier_score_sum AS earlier_sum, earlier_scores AS earlier_n
  FROM active WHERE NOT replay
  UNION ALL
  SELECT a.placement_id, a.employer_id, a.starts_on, r.last_on, r.latest, r.earlier_sum, r.earlier_n
  FROM active a CROSS JOIN LATERAL (
    SELECT max(f.given_on) AS last_on,
           (array_agg(f.score ORDER BY f.given_on DESC, f.version DESC))[1] AS latest,
           sum(f.score) - (array_agg(f.score ORDER BY f.given_on DESC, f.version DESC))[1] AS earlier_sum,
           count(*) - 1 AS earlier_n
    FROM {RM}.r_feedback f
    WHERE f.tenant_id = $1 AND f.gen = a.gen AND f.placement_id = a.placement_id AND f.given_on <= $2
  ) r
  WHERE a.replay
), silent AS (
  SELECT placement_id, employer_id, coalesce(last_on, starts_on) AS since FROM feedback
  WHERE coalesce(last_on, starts_on) < $2::date - {NO_FEEDBACK_WARNING_DAYS}
), falling AS (
  SELECT placement_id, employer_id, latest, earlier_sum::numeric / earlier_n AS before FROM feedback
  WHERE earlier_n >= 2 AND latest <= earlier_sum::numeric / nullif(earlier_n, 0) - 1.5
)
SELECT * FROM (
  (SELECT placement_id, employer_id, 'no_feedback' AS kind, since, NULL::numeric AS latest,
          NULL::numeric AS before, (SELECT count(*) FROM silent) AS total
   FROM silent ORDER BY since, placement_id LIMIT {WARNINGS_SHOWN})
  UNION ALL
  (SELECT placement_id, employer_id, 'falling_feedback', NULL, latest, before, (SELECT count(*) FROM falling)
   FROM falling ORDER BY placement_id LIMIT {WARNINGS_SHOWN})
) w
ORDER BY kind DESC, since NULLS LAST, placement_id
"""

# When every active placement's kept figures hold for the day asked (today,
# on the dashboard), the warnings are two short lists read in index order,
# and their totals come with RETENTION_SQL's one pass over the placements.
SILENT_SQL = f"""
SELECT placement_id, employer_id, 'no_feedback' AS kind, quiet_since AS since, NULL::numeric AS latest,
       NULL::numeric AS before
FROM {RM}.r_placements
WHERE tenant_id = $1 AND gen = {LIVE} AND ($3::uuid IS NULL OR employer_id = $3) AND {_ACTIVE}
  AND quiet_since < $2::date - {NO_FEEDBACK_WARNING_DAYS}
ORDER BY quiet_since, placement_id LIMIT {WARNINGS_SHOWN}
"""

FALLING_SQL = f"""
SELECT placement_id, employer_id, 'falling_feedback' AS kind, NULL::date AS since, latest_score::numeric AS latest,
       earlier_score_sum::numeric / earlier_scores AS before
FROM {RM}.r_placements
WHERE tenant_id = $1 AND gen = {LIVE} AND ($3::uuid IS NULL OR employer_id = $3) AND {_ACTIVE} AND {_FALLING}
ORDER BY placement_id LIMIT {WARNINGS_SHOWN}
"""

PLACEMENTS_SQL = f"""
SELECT placement_id, starts_on, ended_on, end_reason, permanent, feedback_count, last_feedback_on
FROM {RM}.r_placements
WHERE tenant_id = $1 AND gen = {LIVE} AND employer_id = $3 AND starts_on <= $2
ORDER BY starts_on DESC
LIMIT 500
"""


def _ratio(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _avg(value: Any) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


async def retention(pool: Any, tenant_id: UUID, as_of: date, employer_id: UUID | None = None,
                    gen: int | None = None) -> dict:
    async with reading(pool, NAME, gen) as conn:
        return await cached_figures(conn, NAME, tenant_id, ("retention", as_of, employer_id),
                                    lambda c: _retention(c, tenant_id, as_of, employer_id))


async def _retention(conn: Any, tenant_id: UUID, as_of: date, employer_id: UUID | None) -> dict:
    r = await conn.fetchrow(RETENTION_SQL, tenant_id, as_of, employer_id)
    trend = await conn.fetchrow(TREND_SQL, tenant_id, as_of, employer_id)
    if r["warnings_replay"]:
        warnings = await conn.fetch(WARNINGS_SQL, tenant_id, as_of, employer_id)
        counts = {w["kind"]: w["total"] for w in warnings}
    else:
        warnings = [*await conn.fetch(SILENT_SQL, tenant_id, as_of, employer_id),
                    *await conn.fetch(FALLING_SQL, tenant_id, as_of, employer_id)]
        counts = {"no_feedback": r["warnings_silent"], "falling_feedback": r["warnings_falling"]}
    placements = (await conn.fetch(PLACEMENTS_SQL, tenant_id, as_of, employer_id)
                  if employer_id is not None else None)
    out: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "placements": r["placements"],
        "active": r["active"],
        "retention": {
            f"{n}_months": {"started": r[f"eligible_{n}"], "retained": r[f"retained_{n}"],
                            "percent": _ratio(r[f"retained_{n}"], r[f"eligible_{n}"])}
            for n in WINDOWS_MONTHS
        },
        "end_reasons": _end_reasons(r),
        "feedback_trend": {
            "days": TREND_DAYS,
            "average_score": _avg(trend["recent"]), "scores": trend["recent_n"],
            "previous_average_score": _avg(trend["before"]), "previous_scores": trend["before_n"],
            "change": (_avg(Decimal(trend["recent"]) - Decimal(trend["before"]))
                       if trend["recent"] is not None and trend["before"] is not None else None),
        },
        "median_days_vacancy_to_start": (None if r["median_days_to_start"] is None
                                         else float(r["median_days_to_start"])),
        # How many placements have each kind of warning; `warnings` lists the
        # first WARNINGS_SHOWN of each (the longest without feedback first).
        "warning_counts": {"no_feedback": 0, "falling_feedback": 0, **counts},
        "warnings": [{
            "placement_id": str(w["placement_id"]), "employer_id": str(w["employer_id"]), "kind": w["kind"],
            **({"last_feedback_or_start": w["since"].isoformat(),
                "days": (as_of - w["since"]).days} if w["kind"] == "no_feedback" else
               {"latest_score": int(w["latest"]), "previous_average": _avg(w["before"])}),
        } for w in warnings],
    }
    if placements is not None:
        out["placement_list"] = [{
            "placement_id": str(p["placement_id"]), "starts_on": p["starts_on"].isoformat(),
            "ended_on": p["ended_on"].isoformat() if p["ended_on"] else None,
            "state": "active" if p["ended_on"] is None or p["ended_on"] > as_of else "ended",
            "end_reason": p["end_reason"], "permanent_contract": p["permanent"],
            "duration_days": ((min(p["ended_on"], as_of) if p["ended_on"] else as_of) - p["starts_on"]).days + 1,
            "feedback_count": p["feedback_count"],
            "last_feedback_on": p["last_feedback_on"].isoformat() if p["last_feedback_on"] else None,
        } for p in placements]
    return out
