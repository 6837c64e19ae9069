"""Directory read model: the lists behind the pages (employers, contracts,
candidates, vacancies, placements), with names to show and columns to filter on.

Candidates carry their name and competences only: support needs (special
category data), date of birth, benefit and target group stay in the event
history and are read per person, by whoever may see them. Feedback comments
are not copied either; a placement keeps its feedback count and last date.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from projections.base import RM, Event, Projection, Table
from projections.writer import Batch

NAME = "directory"
LIST_LIMIT = 500


class DirectoryProjection(Projection):
    needs_personal_data = True  # candidate and contact names for the lists
    name = NAME
    # 2: candidates' lower-cased search column, vacancies' region.
    # 3: an erased candidate's competences are dropped too.
    version = 3
    tables = (
        Table("d_employers", ("employer_id",), {"employer_id": "uuid", "name": "text"}),
        Table("d_contracts", ("contract_id",), {
            "contract_id": "uuid", "employer_id": "uuid", "title": "text", "authority": "text",
            "value_eur": "numeric", "percent": "numeric", "starts_on": "date", "ends_on": "date",
            "accepted_by": "text", "closed_on": "date",
        }, indexes=(("employer_id",), ("authority",))),
        Table("d_candidates", ("candidate_id",), {
            "candidate_id": "uuid", "full_name": "text", "competences": "jsonb",
            "registered_on": "date",
            # What the search matches: the name and competences, lower-cased, one
            # per line (NULL on rows projected before it existed: see CANDIDATES_SQL).
            "search": "text",
        }, indexes=(("full_name", "candidate_id"),)),  # the list in name order: a broad search stops early
        Table("d_vacancies", ("vacancy_id",), {
            "vacancy_id": "uuid", "employer_id": "uuid", "title": "text",
            "required_competences": "jsonb", "optional_competences": "jsonb",
            "hours_per_week": "numeric", "opened_on": "date", "status": "text",
            "matched": "jsonb", "placement_id": "uuid", "region": "text",
        }, indexes=(("employer_id",),)),
        Table("d_placements", ("placement_id",), {
            "placement_id": "uuid", "candidate_id": "uuid", "employer_id": "uuid", "contract_id": "uuid",
            "vacancy_id": "uuid", "starts_on": "date", "planned_end_on": "date", "ended_on": "date",
            "end_reason": "text", "hours_per_week": "numeric", "feedback_count": "int",
            "last_feedback_on": "date",
        }, indexes=(("employer_id",), ("candidate_id",), ("contract_id",))),
    )

    # -- employers and contracts ----------------------------------------------
    def on_EmployerRegistered(self, b: Batch, e: Event) -> None:
        b.put("d_employers", {"employer_id": e.originator_id, "name": e.data["name"]})

    def on_ContractRegistered(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("d_contracts", {
            "contract_id": e.originator_id, "employer_id": d["employer_id"], "title": d["title"],
            "authority": d["contracting_authority"], "value_eur": d["contract_value_eur"],
            "percent": d["obligation_percent"], "starts_on": d["starts_on"], "ends_on": d["ends_on"],
            "accepted_by": d.get("accepted_by", "authority"), "closed_on": None,
        })

    def on_ContractAmended(self, b: Batch, e: Event) -> None:
        row = b.get("d_contracts", e.originator_id)
        if row is None:
            return
        names = {"contracting_authority": "authority", "contract_value_eur": "value_eur",
                 "obligation_percent": "percent"}
        for key, value in e.data["changes"].items():
            column = names.get(key, key)
            if column in row:
                row[column] = value
        b.put("d_contracts", row)

    def on_ContractClosed(self, b: Batch, e: Event) -> None:
        row = b.get("d_contracts", e.originator_id)
        if row is not None:
            row["closed_on"] = e.data["on"]
            b.put("d_contracts", row)

    # -- candidates ------------------------------------------------------------
    def on_CandidateRegistered(self, b: Batch, e: Event) -> None:
        # Deliberately not support_needs, date_of_birth, target group or benefit.
        b.put("d_candidates", _searchable({
            "candidate_id": e.originator_id, "full_name": e.data["full_name"],
            "competences": list(e.data["competences"]), "registered_on": e.recorded_on,
        }))

    def on_CandidateErased(self, b: Batch, e: Event) -> None:
        # The read model keeps no copy of an erased person's personal data.
        row = b.get("d_candidates", e.originator_id)
        if row is not None:
            row["full_name"], row["competences"] = "[erased]", []
            b.put("d_candidates", _searchable(row))

    def on_CompetencesUpdated(self, b: Batch, e: Event) -> None:
        row = b.get("d_candidates", e.originator_id)
        if row is not None:
            row["competences"] = list(e.data["competences"])
            b.put("d_candidates", _searchable(row))

    # -- vacancies -------------------------------------------------------------
    def on_VacancyOpened(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("d_vacancies", {
            "vacancy_id": e.originator_id, "employer_id": d["employer_id"], "title": d["title"],
            "required_competences": list(d["required_competences"]),
            "optional_competences": list(d["optional_competences"]),
            "hours_per_week": d["hours_per_week"], "opened_on": d.get("opened_on") or e.recorded_on,
            "status": "open", "matched": [], "placement_id": None, "region": d.get("region"),
        })

    def on_VacancyEdited(self, b: Batch, e: Event) -> None:
        row = b.get("d_vacancies", e.originator_id)
        if row is None:
            return
        for key, value in e.data["changes"].items():
            if key in row:
                row[key] = list(value) if isinstance(value, list) else value
        b.put("d_vacancies", row)

    def on_CandidateMatched(self, b: Batch, e: Event) -> None:
        row = b.get("d_vacancies", e.originator_id)
        if row is not None:
            row["matched"] = [*(row["matched"] or []), str(e.data["candidate_id"])]
            b.put("d_vacancies", row)

    def on_VacancyFilled(self, b: Batch, e: Event) -> None:
        row = b.get("d_vacancies", e.originator_id)
        if row is not None:
            row["status"], row["placement_id"] = "filled", e.data["placement_id"]
            b.put("d_vacancies", row)

    def on_VacancyClosed(self, b: Batch, e: Event) -> None:
        row = b.get("d_vacancies", e.originator_id)
        if row is not None:
            row["status"] = "closed"
            b.put("d_vacancies", row)

    # -- placements ------------------------------------------------------------
    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("d_placements", {
            "placement_id": e.originator_id, "candidate_id": d["candidate_id"],
            "employer_id": d["employer_id"], "contract_id": d.get("contract_id"),
            "vacancy_id": d.get("vacancy_id"), "starts_on": d["starts_on"],
            "planned_end_on": d.get("planned_end_on"), "ended_on": None, "end_reason": None,
            "hours_per_week": d["hours_per_week"], "feedback_count": 0, "last_feedback_on": None,
        })

    def on_HoursChanged(self, b: Batch, e: Event) -> None:
        row = b.get("d_placements", e.originator_id)
        if row is not None:
            # The list shows the hours of the latest-effective change, as the aggregate does.
            row["hours_per_week"] = e.data["hours_per_week"]
            b.put("d_placements", row)

    def on_PlacementExtended(self, b: Batch, e: Event) -> None:
        row = b.get("d_placements", e.originator_id)
        if row is not None:
            row["planned_end_on"] = e.data["until"]
            b.put("d_placements", row)

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        row = b.get("d_placements", e.originator_id)
        if row is not None:
            row["ended_on"], row["end_reason"] = e.data["ends_on"], e.data["reason"]
            b.put("d_placements", row)

    def on_FeedbackGiven(self, b: Batch, e: Event) -> None:
        row = b.get("d_placements", e.originator_id)
        if row is None:
            return
        given_on = e.data.get("given_on") or e.recorded_on
        row["feedback_count"] = (row["feedback_count"] or 0) + 1
        if row["last_feedback_on"] is None or given_on > row["last_feedback_on"]:
            row["last_feedback_on"] = given_on
        b.put("d_placements", row)


def _searchable(row: dict) -> dict:
    row["search"] = "\n".join([row["full_name"], *_json_list(row["competences"])]).lower()
    return row


# ---------------------------------------------------------------------------
# Queries (asyncpg). Every query takes the tenant first and reads the live
# generation in the same statement. The optional filters narrow a list to
# what one role may see: the caller passes the actor's employer, authority
# or candidate; None means no narrowing (the agency and auditors).

LIVE = f"(SELECT gen FROM {RM}.live WHERE projection = '{NAME}' AND tenant_id = $1)"


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


EMPLOYERS_SQL = f"""
SELECT employer_id, name FROM {RM}.d_employers
WHERE tenant_id = $1 AND gen = {LIVE} AND ($2::uuid IS NULL OR employer_id = $2)
ORDER BY name LIMIT {LIST_LIMIT}
"""


async def employers(pool: Any, tenant_id: UUID, *, employer_id: UUID | None = None) -> list[dict]:
    return [dict(r) for r in await pool.fetch(EMPLOYERS_SQL, tenant_id, employer_id)]


CONTRACTS_SQL = f"""
SELECT c.contract_id, c.employer_id, e.name AS employer_name, c.title, c.authority, c.value_eur,
       c.percent, c.value_eur * c.percent / 100 AS obligation_eur, c.starts_on, c.ends_on,
       c.accepted_by, c.closed_on
FROM {RM}.d_contracts c
LEFT JOIN {RM}.d_employers e ON e.tenant_id = c.tenant_id AND e.gen = c.gen AND e.employer_id = c.employer_id
WHERE c.tenant_id = $1 AND c.gen = {LIVE}
  AND ($2::uuid IS NULL OR c.employer_id = $2) AND ($3::text IS NULL OR c.authority = $3)
  AND ($4::boolean IS NULL OR (c.closed_on IS NULL) = $4)
ORDER BY c.closed_on NULLS FIRST, c.title LIMIT {LIST_LIMIT}
"""


async def contracts(pool: Any, tenant_id: UUID, *, employer_id: UUID | None = None,
                    authority: str | None = None, open_only: bool | None = None) -> list[dict]:
    rows = await pool.fetch(CONTRACTS_SQL, tenant_id, employer_id, authority, open_only)
    return [dict(r) for r in rows]


# `search` is lower-cased when projected, so the pattern (lower-cased too) is
# a plain LIKE; rows projected before the column existed fall back to ILIKE.
_CANDIDATE_MATCH = f"""
WHERE tenant_id = $1 AND gen = {LIVE}
  AND ($2::text IS NULL OR search LIKE $2
       OR (search IS NULL AND (full_name ILIKE $2 OR competences::text ILIKE $2)))"""

CANDIDATES_SQL = f"""
SELECT candidate_id, full_name, competences FROM {RM}.d_candidates{_CANDIDATE_MATCH}
ORDER BY full_name, candidate_id LIMIT $3 OFFSET $4
"""

# How many match, counted up to a cap: a broad search ("ka") stops after the
# cap instead of reading every candidate; the page says "more than 1,000".
COUNT_CAP = 1000
CANDIDATES_COUNT_SQL = f"""
SELECT count(*) FROM (SELECT 1 FROM {RM}.d_candidates{_CANDIDATE_MATCH} LIMIT {COUNT_CAP + 1}) matches
"""


async def candidates(pool: Any, tenant_id: UUID, *, search: str | None = None,
                     limit: int = LIST_LIMIT) -> list[dict]:
    """Candidates whose name or a competence contains `search` (case-insensitive)."""
    pattern = like_pattern(search.strip().lower()) if search and search.strip() else None
    return [_candidate(r) for r in await pool.fetch(CANDIDATES_SQL, tenant_id, pattern, limit, 0)]


async def search_candidates(pool: Any, tenant_id: UUID, *, search: str | None = None, limit: int = LIST_LIMIT,
                            offset: int = 0) -> tuple[list[dict], int]:
    """One page of the candidates matching `search` (by name), and how many
    match in all, up to COUNT_CAP + 1 (more than COUNT_CAP)."""
    pattern = like_pattern(search.strip().lower()) if search and search.strip() else None
    rows = await pool.fetch(CANDIDATES_SQL, tenant_id, pattern, limit, offset)
    if offset == 0 and len(rows) < limit:
        return [_candidate(r) for r in rows], len(rows)  # all of them: no need to count
    total = await pool.fetchval(CANDIDATES_COUNT_SQL, tenant_id, pattern)
    return [_candidate(r) for r in rows], total


CANDIDATE_SQL = f"""
SELECT candidate_id, full_name, competences FROM {RM}.d_candidates
WHERE tenant_id = $1 AND gen = {LIVE} AND candidate_id = ANY($2::uuid[])
ORDER BY full_name
"""


async def candidates_by_id(pool: Any, tenant_id: UUID, ids: list[UUID]) -> list[dict]:
    return [_candidate(r) for r in await pool.fetch(CANDIDATE_SQL, tenant_id, list(ids))]


def _candidate(r: Any) -> dict:
    row = dict(r)
    row["competences"] = _json_list(row["competences"])
    return row


def _json_list(value: Any) -> list:
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value or [])


VACANCIES_SQL = f"""
SELECT v.vacancy_id, v.employer_id, e.name AS employer_name, v.title, v.required_competences,
       v.optional_competences, v.hours_per_week, v.opened_on, v.status, v.matched, v.placement_id, v.region
FROM {RM}.d_vacancies v
LEFT JOIN {RM}.d_employers e ON e.tenant_id = v.tenant_id AND e.gen = v.gen AND e.employer_id = v.employer_id
WHERE v.tenant_id = $1 AND v.gen = {LIVE} AND ($2::uuid IS NULL OR v.employer_id = $2)
ORDER BY v.status = 'open' DESC, v.opened_on DESC, v.title LIMIT {LIST_LIMIT}
"""


async def vacancies(pool: Any, tenant_id: UUID, *, employer_id: UUID | None = None) -> list[dict]:
    out = []
    for r in await pool.fetch(VACANCIES_SQL, tenant_id, employer_id):
        row = dict(r)
        for key in ("required_competences", "optional_competences", "matched"):
            row[key] = _json_list(row[key])
        out.append(row)
    return out


PLACEMENTS_SQL = f"""
SELECT p.placement_id, p.candidate_id, k.full_name AS candidate_name, p.employer_id,
       e.name AS employer_name, p.contract_id, c.title AS contract_title, p.vacancy_id, p.starts_on,
       p.planned_end_on, p.ended_on, p.end_reason, p.hours_per_week, p.feedback_count, p.last_feedback_on
FROM {RM}.d_placements p
LEFT JOIN {RM}.d_candidates k ON k.tenant_id = p.tenant_id AND k.gen = p.gen AND k.candidate_id = p.candidate_id
LEFT JOIN {RM}.d_employers e ON e.tenant_id = p.tenant_id AND e.gen = p.gen AND e.employer_id = p.employer_id
LEFT JOIN {RM}.d_contracts c ON c.tenant_id = p.tenant_id AND c.gen = p.gen AND c.contract_id = p.contract_id
WHERE p.tenant_id = $1 AND p.gen = {LIVE}
  AND ($2::uuid IS NULL OR p.employer_id = $2) AND ($3::uuid IS NULL OR p.candidate_id = $3)
  AND ($4::uuid IS NULL OR p.contract_id = $4)
ORDER BY p.ended_on IS NOT NULL, p.starts_on DESC LIMIT {LIST_LIMIT}
"""


async def placements(pool: Any, tenant_id: UUID, *, employer_id: UUID | None = None,
                     candidate_id: UUID | None = None, contract_id: UUID | None = None) -> list[dict]:
    rows = await pool.fetch(PLACEMENTS_SQL, tenant_id, employer_id, candidate_id, contract_id)
    return [dict(r) for r in rows]


# The same columns for given placements ($3), whatever their age; $2 scopes to an employer.
PLACEMENTS_BY_ID_SQL = PLACEMENTS_SQL.replace(
    "AND ($3::uuid IS NULL OR p.candidate_id = $3)", "").replace(
    "AND ($4::uuid IS NULL OR p.contract_id = $4)", "AND p.placement_id = ANY($3::uuid[])")


async def placements_by_id(pool: Any, tenant_id: UUID, ids: list[UUID], *,
                           employer_id: UUID | None = None) -> list[dict]:
    """The named placements (e.g. those with a warning), whatever their age."""
    if not ids:
        return []
    rows = await pool.fetch(PLACEMENTS_BY_ID_SQL, tenant_id, employer_id, ids)
    return [dict(r) for r in rows]


NAMES_SQL = f"""
SELECT employer_id AS id, name FROM {RM}.d_employers
WHERE tenant_id = $1 AND gen = {LIVE} AND employer_id = ANY($2::uuid[])
UNION ALL
SELECT candidate_id, full_name FROM {RM}.d_candidates
WHERE tenant_id = $1 AND gen = {LIVE} AND candidate_id = ANY($2::uuid[])
UNION ALL
SELECT contract_id, title FROM {RM}.d_contracts
WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = ANY($2::uuid[])
UNION ALL
SELECT vacancy_id, title FROM {RM}.d_vacancies
WHERE tenant_id = $1 AND gen = {LIVE} AND vacancy_id = ANY($2::uuid[])
"""


async def names(pool: Any, tenant_id: UUID, ids: list[UUID | None]) -> dict[UUID, str]:
    """Display names of employers, candidates, contracts and vacancies by id.

    For labelling ids the caller already may see (an aggregate it loaded
    through the ledger); it is not a way to find out whether an id exists."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {r["id"]: r["name"] for r in await pool.fetch(NAMES_SQL, tenant_id, wanted)}


def is_active(row: dict, today: date) -> bool:
    return row.get("ended_on") is None or row["ended_on"] > today


# -- retention by cohort and over time ------------------------------------------
# The same rule as the retention read model: a placement counts for month N
# once it started at least N months before the day, and is retained if it was
# still running N months after its start (moving to direct employment counts).

COHORT_WINDOWS = (3, 6, 12)
CURVE_MONTHS = 24

_RETAINED = ("(p.ended_on IS NULL OR p.ended_on >= (p.starts_on + make_interval(months => {n}))::date"
             " OR p.end_reason = 'direct_employment')")

COHORTS_SQL = f"""
SELECT date_trunc('quarter', p.starts_on)::date AS cohort, count(*) AS placements,
       count(*) FILTER (WHERE p.ended_on IS NULL OR p.ended_on > $2) AS active,
       {", ".join(f'''
       count(*) FILTER (WHERE p.starts_on <= ($2::date - interval '{n} months')::date) AS started_{n},
       count(*) FILTER (WHERE p.starts_on <= ($2::date - interval '{n} months')::date
                        AND {_RETAINED.format(n=n)}) AS retained_{n}''' for n in COHORT_WINDOWS)}
FROM {RM}.d_placements p
WHERE p.tenant_id = $1 AND p.gen = {LIVE} AND ($3::uuid IS NULL OR p.employer_id = $3) AND p.starts_on <= $2
GROUP BY 1 ORDER BY 1 DESC
LIMIT 40
"""

CURVE_SQL = f"""
WITH m AS (SELECT generate_series(0, {CURVE_MONTHS}) AS month)
SELECT m.month,
       count(p.placement_id) FILTER (
           WHERE p.starts_on <= ($2::date - make_interval(months => m.month))::date) AS started,
       count(p.placement_id) FILTER (
           WHERE p.starts_on <= ($2::date - make_interval(months => m.month))::date
             AND {_RETAINED.format(n="m.month")}) AS retained
FROM m
LEFT JOIN {RM}.d_placements p
  ON p.tenant_id = $1 AND p.gen = {LIVE} AND ($3::uuid IS NULL OR p.employer_id = $3) AND p.starts_on <= $2
GROUP BY m.month ORDER BY m.month
"""


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


async def retention_cohorts(pool: Any, tenant_id: UUID, as_of: date, *,
                            employer_id: UUID | None = None) -> list[dict]:
    """Per calendar quarter of starting: how many started, are active, and were retained."""
    out = []
    for r in await pool.fetch(COHORTS_SQL, tenant_id, as_of, employer_id):
        out.append({
            "cohort": r["cohort"], "placements": r["placements"], "active": r["active"],
            "windows": {n: {"started": r[f"started_{n}"], "retained": r[f"retained_{n}"],
                            "percent": _percent(r[f"retained_{n}"], r[f"started_{n}"])}
                        for n in COHORT_WINDOWS},
        })
    return out


async def retention_curve(pool: Any, tenant_id: UUID, as_of: date, *,
                          employer_id: UUID | None = None) -> list[dict]:
    """For each month 0..24 after the start: the share of placements (old enough) still working."""
    return [{"month": r["month"], "started": r["started"], "retained": r["retained"],
             "percent": _percent(r["retained"], r["started"])}
            for r in await pool.fetch(CURVE_SQL, tenant_id, as_of, employer_id)]
