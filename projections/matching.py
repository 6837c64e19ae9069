"""Matching read model: each candidate's match profile, and suggestions for a vacancy.

Per candidate only what `domain.matching.MatchProfile` holds: competences,
stated availability (hours a week, from when, region) and the hours they work
in active placements. Never the target group, date of birth, benefit, status
or support needs: of the sealed personal fields this projection opens only
competences and availability (`personal_fields`), so it could not copy the
others by mistake. Erased candidates are removed (and their competences and
availability read as erased on a rebuild).

Suggestions: SQL does the coarse work over all of a tenant's candidates
(shares a competence with the vacancy, through a GIN index on the lower-cased
competences; not placed full time) and orders them by the same points as
`domain.matching.score`, computed in numeric; Python then scores the best
`limit + MARGIN` exactly (fractions), with reasons, and ranks them again.
The margin absorbs numeric rounding at ties, so the answer is the ranking
`domain.matching.rank` would give over every candidate (a test compares).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from psycopg import sql

from domain.matching import (
    AVAILABILITY_POINTS,
    FULL_TIME_HOURS,
    HOURS_POINTS,
    OPTIONAL_POINTS,
    REGION_POINTS,
    REQUIRED_POINTS,
    MatchProfile,
    Suggestion,
    VacancyNeeds,
    normalise,
    rank,
)
from projections.base import RM, Event, Projection, Table
from projections.reader import live_gen_sql
from projections.writer import Batch

NAME = "matching"
MARGIN = 25
MAX_LIMIT = 200


@dataclass(frozen=True)
class GinTable(Table):
    """A Table with GIN indexes on array columns as well (the engine's indexes are btree)."""

    gin: tuple[str, ...] = ()

    def ddl(self) -> list[sql.Composable]:
        out = super().ddl()
        for column in self.gin:
            out.append(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} USING gin ({})").format(
                sql.Identifier(f"{self.name}_{column}_gin"), sql.Identifier(RM), sql.Identifier(self.name),
                sql.Identifier(column)))
        return out


def _keys(names: list[str] | tuple[str, ...]) -> list[str]:
    return [normalise(n) for n in names]


# The region is indexed with the competences, under a prefix no competence can
# carry (validation refuses control characters), so one GIN containment can
# ask for competences and a region together.
REGION_PREFIX = "\x1fregion:"


def region_key(region: str) -> str:
    return REGION_PREFIX + normalise(region)


def match_keys(competences: list[str], region: str | None) -> list[str]:
    return _keys(competences) + ([region_key(region)] if region else [])


class MatchingProjection(Projection):
    name = NAME
    # Sealed under the person's key (infra/personal_data.py); opened for matching only.
    personal_fields = frozenset({"competences", "hours_per_week", "available_from", "region"})
    tables = (
        GinTable("m_candidates", ("candidate_id",), {
            "candidate_id": "uuid", "competences": "text[]", "match_keys": "text[]",
            "hours_available": "numeric", "available_from": "date", "region": "text", "region_key": "text",
            "placed_hours": "numeric",
        }, gin=("match_keys",)),
        Table("m_placements", ("placement_id",), {
            "placement_id": "uuid", "candidate_id": "uuid", "hours": "numeric", "hours_effective_on": "date",
            "active": "boolean",
        }),
        Table("m_pipeline", ("pipeline_id",), {
            "pipeline_id": "uuid", "vacancy_id": "uuid", "candidate_id": "uuid", "step": "text",
            "steps": "jsonb", "updated_on": "date",
        }, indexes=(("vacancy_id",),)),
    )

    # -- candidates --------------------------------------------------------------
    def on_CandidateRegistered(self, b: Batch, e: Event) -> None:
        # Only competences: the other personal fields of this event are never opened here.
        competences = list(e.data["competences"])
        b.put("m_candidates", {
            "candidate_id": e.originator_id, "competences": competences, "match_keys": match_keys(competences, None),
            "hours_available": None, "available_from": None, "region": None, "region_key": None,
            "placed_hours": Decimal(0),
        })

    def on_CompetencesUpdated(self, b: Batch, e: Event) -> None:
        row = b.get("m_candidates", e.originator_id)
        if row is not None:
            row["competences"] = list(e.data["competences"])
            row["match_keys"] = match_keys(row["competences"], row["region"])
            b.put("m_candidates", row)

    def on_AvailabilityStated(self, b: Batch, e: Event) -> None:
        row = b.get("m_candidates", e.originator_id)
        if row is not None:
            # All None when the person was erased before this event was projected.
            region = e.data["region"]
            row["hours_available"] = e.data["hours_per_week"]
            row["available_from"] = e.data["available_from"]
            row["region"], row["region_key"] = region, None if region is None else normalise(region)
            row["match_keys"] = match_keys(row["competences"], row["region"])
            b.put("m_candidates", row)

    def on_CandidateErased(self, b: Batch, e: Event) -> None:
        b.delete("m_candidates", e.originator_id)

    # -- hours in active placements -------------------------------------------------
    def _add_placed(self, b: Batch, candidate_id: UUID, hours: Decimal) -> None:
        row = b.get("m_candidates", candidate_id)
        if row is not None:
            row["placed_hours"] = (row["placed_hours"] or Decimal(0)) + hours
            b.put("m_candidates", row)

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("m_placements", {"placement_id": e.originator_id, "candidate_id": d["candidate_id"],
                               "hours": d["hours_per_week"], "hours_effective_on": d["starts_on"], "active": True})
        self._add_placed(b, d["candidate_id"], d["hours_per_week"])

    def on_HoursChanged(self, b: Batch, e: Event) -> None:
        row = b.get("m_placements", e.originator_id)
        # The hours of the latest-effective change count, as Placement.hours_per_week.
        if row is None or e.data["effective_on"] < row["hours_effective_on"]:
            return
        delta = e.data["hours_per_week"] - row["hours"]
        row["hours"], row["hours_effective_on"] = e.data["hours_per_week"], e.data["effective_on"]
        b.put("m_placements", row)
        if row["active"]:
            self._add_placed(b, row["candidate_id"], delta)

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        row = b.get("m_placements", e.originator_id)
        if row is None or not row["active"]:
            return
        row["active"] = False
        b.put("m_placements", row)
        self._add_placed(b, row["candidate_id"], -row["hours"])

    # -- the match pipeline -----------------------------------------------------------
    def on_MatchProposed(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("m_pipeline", {"pipeline_id": e.originator_id, "vacancy_id": d["vacancy_id"],
                             "candidate_id": d["candidate_id"], "step": "proposed",
                             "steps": [{"step": "proposed", "on": d["on"].isoformat()}], "updated_on": d["on"]})

    def _step(self, b: Batch, e: Event, step: dict[str, Any]) -> None:
        row = b.get("m_pipeline", e.originator_id)
        if row is not None:
            row["step"], row["updated_on"] = step["step"], e.data["on"]
            row["steps"] = [*(_json(row["steps"])), step]
            b.put("m_pipeline", row)

    def on_MatchAdvanced(self, b: Batch, e: Event) -> None:
        d = e.data
        step = {"step": d["step"], "on": d["on"].isoformat()}
        if d.get("placement_id"):
            step["placement_id"] = str(d["placement_id"])
        self._step(b, e, step)

    def on_MatchDeclined(self, b: Batch, e: Event) -> None:
        d = e.data
        self._step(b, e, {"step": "declined", "on": d["on"].isoformat(), "by": d["by"], "reason": d["reason"]})


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# ---------------------------------------------------------------------------
# Queries (asyncpg)

LIVE = f"({live_gen_sql(NAME)})"

# $2 all competence keys asked, $3 required keys, $4 optional keys, $5 hours,
# $6 region key (NULL: not asked), $7 start day (NULL: not asked), $8 rows.
POINTS_SQL = f"""
  (CASE WHEN cardinality($3::text[]) = 0 THEN {REQUIRED_POINTS}
        ELSE {REQUIRED_POINTS}.0 * (SELECT count(*) FROM unnest($3::text[]) k WHERE k = ANY(m.match_keys))
             / cardinality($3::text[]) END)
+ (CASE WHEN cardinality($4::text[]) = 0 THEN {OPTIONAL_POINTS}
        ELSE {OPTIONAL_POINTS}.0 * (SELECT count(*) FROM unnest($4::text[]) k WHERE k = ANY(m.match_keys))
             / cardinality($4::text[]) END)
+ (CASE WHEN m.hours_available IS NULL THEN 0
        ELSE {HOURS_POINTS} * LEAST(GREATEST(m.hours_available - m.placed_hours, 0), $5::numeric) / $5::numeric END)
+ (CASE WHEN $6::text IS NULL OR m.region_key = $6::text THEN {REGION_POINTS} ELSE 0 END)
+ (CASE WHEN $7::date IS NULL OR m.available_from <= $7::date THEN {AVAILABILITY_POINTS} ELSE 0 END)
"""

# {filter}: which candidates may be scored at all. The points are rounded to 9
# decimals so that equal points computed along different sums (numeric division
# rounds at ~16 digits) tie exactly, and ties go by candidate id, as in `rank`.
CANDIDATES_SQL_TEMPLATE = f"""
SELECT m.candidate_id, m.competences, m.hours_available, m.placed_hours, m.available_from, m.region
FROM {RM}.m_candidates m
WHERE m.tenant_id = $1 AND m.gen = {LIVE} AND m.placed_hours < {FULL_TIME_HOURS}
  AND ({{filter}})
ORDER BY round({POINTS_SQL}, 9) DESC, m.candidate_id
LIMIT $8
"""
# Shares at least one competence with the vacancy (every candidate if it asks none).
OVERLAP_FILTER = "cardinality($2::text[]) = 0 OR m.match_keys && $2::text[]"
CANDIDATES_SQL = CANDIDATES_SQL_TEMPLATE.format(filter=OVERLAP_FILTER)
MAX_TIER_SUBSETS = 20
MAX_TIER_ITEMS = 8
MAX_TIERS = 12  # queries before scoring everyone sharing a competence


def tier_sql(subsets: int) -> str:
    """Candidates holding all competences of at least one of `subsets` arrays ($9, $10, ...)."""
    return CANDIDATES_SQL_TEMPLATE.format(
        filter=f"({OVERLAP_FILTER}) AND ("
        + " OR ".join(f"m.match_keys @> ${9 + i}::text[]" for i in range(subsets)) + ")")


PROFILES_SQL = f"""
SELECT m.candidate_id, m.competences, m.hours_available, m.placed_hours, m.available_from, m.region
FROM {RM}.m_candidates m
WHERE m.tenant_id = $1 AND m.gen = {LIVE} AND m.candidate_id = ANY($2::uuid[])
"""


def profile_of(row: Any) -> MatchProfile:
    stated = row["hours_available"]
    free = None if stated is None else max(stated - (row["placed_hours"] or Decimal(0)), Decimal(0))
    return MatchProfile(id=row["candidate_id"], competences=tuple(row["competences"] or ()),
                        hours_per_week=free, available_from=row["available_from"], region=row["region"])


def _levels(items: list[tuple[str, Fraction]], above: Fraction) -> Iterator[tuple[list[list[str]], Fraction, Fraction]]:
    """(key sets, bound, level) for each loss level of `items` above `above`."""
    n = len(items)
    if not items or n > MAX_TIER_ITEMS or len({k for k, _ in items}) != n:
        return
    loss = [sum((items[i][1] for i in range(n) if mask >> i & 1), Fraction(0)) for mask in range(1 << n)]
    levels = sorted(set(loss))
    for at, level in enumerate(levels):
        if level <= above:
            continue
        largest = [mask for mask in range(1 << n) if loss[mask] <= level
                   and all(mask >> i & 1 or loss[mask | 1 << i] > level for i in range(n))]
        present = [[items[i][0] for i in range(n) if not mask >> i & 1] for mask in largest]
        if any(not keys for keys in present) or len(present) > MAX_TIER_SUBSETS:
            return
        yield present, 100 - levels[at + 1] if at + 1 < len(levels) else Fraction(-1), level


def tiers(needs: VacancyNeeds) -> Iterator[tuple[list[list[str]], Fraction]]:
    """Ever wider groups of candidates to score, by what they lack.

    Items are the required competences (60/R points each), the optional ones
    (10/O each) and the region (10), as match keys. A candidate lacking the
    items M loses loss(M) points and scores at most 100 - loss(M). For each
    loss level L, from 0 up, the group is: holding every key of `items - M`
    for some M with loss(M) <= L (only the largest such M, as GIN
    containments); nobody outside it scores more than 100 - (the next level).
    The levels of all items are fine but soon need many containments; then
    the levels of the required competences and the region alone go on (a
    coarser loss is never more than the true one, so their bounds hold too).
    Yields (key sets, that bound), at most MAX_TIERS; stops where a group
    would need no key at all or too many containments (then the caller
    scores everyone sharing a competence)."""
    required, optional = _keys(needs.required_competences), _keys(needs.optional_competences)
    coarse: list[tuple[str, Fraction]] = [(k, Fraction(REQUIRED_POINTS, len(required))) for k in required]
    if needs.region:
        coarse.append((region_key(needs.region), Fraction(REGION_POINTS)))
    fine = coarse + [(k, Fraction(OPTIONAL_POINTS, len(optional))) for k in optional]
    tried, level = 0, Fraction(-1)
    for items in ((fine, coarse) if optional else (coarse,)):
        for present, bound, level in _levels(items, level):
            if tried == MAX_TIERS:
                return
            tried += 1
            yield present, bound


async def suggestions(pool: Any, tenant_id: UUID, needs: VacancyNeeds, limit: int = 20) -> list[Suggestion]:
    """The tenant's best `limit` candidates for `needs`, ranked, with reasons.

    Scoring every candidate who shares a competence would read tens of
    thousands of rows for a common competence. Instead the search goes by
    `tiers`: first those holding every required and optional competence in
    the region; if the `limit`-th best of them scores more than anyone outside
    could, that is the answer; otherwise the next, wider group; last everyone
    sharing a competence. Each step is one query ordered by the points in SQL
    and scored exactly in Python, so the answer is always the ranking
    `domain.matching.rank` gives over all candidates (a test compares)."""
    limit = max(1, min(limit, MAX_LIMIT))
    required, optional = _keys(needs.required_competences), _keys(needs.optional_competences)
    region = normalise(needs.region) if needs.region else None
    args = (tenant_id, required + optional, required, optional, needs.hours_per_week, region, needs.starts_on,
            limit + MARGIN)
    for present, best_outside in tiers(needs):
        rows = await pool.fetch(tier_sql(len(present)), *args, *present)
        found = rank(needs, [profile_of(row) for row in rows], limit)
        if len(found) == limit and found[-1].points > best_outside:
            return found
    rows = await pool.fetch(CANDIDATES_SQL, *args)
    return rank(needs, [profile_of(r) for r in rows], limit)


PIPELINE_SQL = f"""
SELECT candidate_id, step, steps, updated_on FROM {RM}.m_pipeline
WHERE tenant_id = $1 AND gen = {LIVE} AND vacancy_id = $2
ORDER BY array_position(ARRAY['placed', 'trial', 'introduced', 'proposed', 'declined'], step), updated_on DESC,
         candidate_id
"""


async def pipeline(pool: Any, tenant_id: UUID, vacancy_id: UUID) -> list[dict[str, Any]]:
    """Every candidate in the vacancy's pipeline, furthest first, with their steps."""
    return [{"candidate_id": str(r["candidate_id"]), "step": r["step"], "steps": _json(r["steps"]),
             "updated_on": r["updated_on"].isoformat()}
            for r in await pool.fetch(PIPELINE_SQL, tenant_id, vacancy_id)]


EMPLOYER_PIPELINE_SQL = f"""
SELECT vacancy_id, candidate_id, step, steps, updated_on FROM {RM}.m_pipeline
WHERE tenant_id = $1 AND gen = {LIVE} AND vacancy_id = ANY($2::uuid[])
ORDER BY updated_on DESC, vacancy_id, candidate_id
"""


async def pipelines(pool: Any, tenant_id: UUID, vacancy_ids: list[UUID]) -> list[dict[str, Any]]:
    """Every match of the given vacancies (an employer's board), latest step first."""
    if not vacancy_ids:
        return []
    return [{"vacancy_id": str(r["vacancy_id"]), "candidate_id": str(r["candidate_id"]), "step": r["step"],
             "steps": _json(r["steps"]), "updated_on": r["updated_on"].isoformat()}
            for r in await pool.fetch(EMPLOYER_PIPELINE_SQL, tenant_id, list(vacancy_ids))]


async def profiles(pool: Any, tenant_id: UUID, candidate_ids: list[UUID]) -> dict[UUID, MatchProfile]:
    rows = await pool.fetch(PROFILES_SQL, tenant_id, list(candidate_ids))
    return {r["candidate_id"]: profile_of(r) for r in rows}
