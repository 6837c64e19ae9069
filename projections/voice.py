"""The employee's voice read model (issue 16): the scores of the employees'
own check-ins (domain/voice.py), never their remarks (sealed in the events,
shown only from there to the person and the agency's coach).

Read functions (pages, the API, and other parts such as targets and the
impact report):
- `satisfaction(pool, tenant_id, employer_id=None, contract_id=None, until=None)`:
  employee satisfaction, the mean over people of the mean score of each
  person's latest check-in (1..5, two decimals), and the mean per question;
  withheld (None, `withheld: true`) when fewer than 5 people answered
  (domain/small_groups.py). Every answer counts, whatever the person chose to
  share: aggregated is what everyone agreed to.
- `satisfaction_by_quarter(...)`: the same per calendar quarter of the answers
  (each person's latest answer in that quarter), for trend charts.
- `open_check_ins(pool, tenant_id, candidate_id, today)`: the person's open ones;
- `check_ins_coming_due(conn, tenant_id, today, horizon)`: for the reminders.

Rows: one per placement (who, where, when it started and ended, who looks
after it, the person's sharing choice, which moments were answered and
reminded) and one per answered check-in (scores only).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.small_groups import shown
from domain.voice import MOMENTS, QUESTIONS, moment_states
from projections.base import RM, Event, Projection, Table
from projections.reader import cached_figures, live_gen_sql, reading
from projections.writer import Batch

NAME = "voice"
# A check-in overdue longer than this is not reminded of any more (it stays
# open for the employee): a placement recorded late does not flood the agency.
REMIND_OVERDUE_DAYS = 30


class VoiceProjection(Projection):
    name = NAME
    version = 1
    tables = (
        Table("vc_placements", ("placement_id",), {
            "placement_id": "uuid", "candidate_id": "uuid", "employer_id": "uuid", "contract_id": "uuid",
            "starts_on": "date", "ended_on": "date", "responsible_user_id": "uuid", "sharing": "text",
            "answered": "int[]", "reminded": "int[]",
        }, indexes=(("employer_id",), ("starts_on",), ("candidate_id",))),
        Table("vc_answers", ("placement_id", "moment"), {
            "placement_id": "uuid", "moment": "int", "candidate_id": "uuid", "employer_id": "uuid",
            "contract_id": "uuid", "answered_on": "date", "position": "bigint",
            **{q: "int" for q in QUESTIONS},
        }, indexes=(("employer_id",), ("contract_id",))),
    )

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("vc_placements", {
            "placement_id": e.originator_id, "candidate_id": d["candidate_id"], "employer_id": d["employer_id"],
            "contract_id": d.get("contract_id"), "starts_on": d["starts_on"], "ended_on": None,
            "responsible_user_id": d.get("responsible_user_id"), "sharing": "aggregated", "answered": [],
            "reminded": []})

    def _update(self, b: Batch, pid: UUID, **values: Any) -> dict | None:
        row = b.get("vc_placements", pid)
        if row is not None:
            row.update(values)
            b.put("vc_placements", row)
        return row

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        self._update(b, e.originator_id, ended_on=e.data["ends_on"])

    def on_PlacementResponsibleAssigned(self, b: Batch, e: Event) -> None:
        self._update(b, e.originator_id, responsible_user_id=e.data["user_id"])

    def on_CheckInSharingChosen(self, b: Batch, e: Event) -> None:
        self._update(b, e.data["placement_id"], sharing=e.data["sharing"])

    def on_CheckInAnswered(self, b: Batch, e: Event) -> None:
        d = e.data
        row = b.get("vc_placements", d["placement_id"])
        if row is None:
            return
        row["answered"] = sorted({*(row["answered"] or []), d["moment"]})
        b.put("vc_placements", row)
        b.put("vc_answers", {
            "placement_id": d["placement_id"], "moment": d["moment"], "candidate_id": d["candidate_id"],
            "employer_id": row["employer_id"], "contract_id": row["contract_id"], "answered_on": d["answered_on"],
            "position": e.position, **{q: d["answers"][q] for q in QUESTIONS}})

    def on_CheckInReminded(self, b: Batch, e: Event) -> None:
        row = b.get("vc_placements", e.data["placement_id"])
        if row is not None:
            row["reminded"] = sorted({*(row["reminded"] or []), e.data["moment"]})
            b.put("vc_placements", row)


LIVE = live_gen_sql(NAME)
TWO = Decimal("0.01")

# Each person's latest answer (in the filter's scope and up to `$4`), then the
# means over people. `$5`/`$6`: the answers' period (a quarter), or all.
LATEST_SQL = f"""
SELECT DISTINCT ON (candidate_id) candidate_id, {", ".join(QUESTIONS)}
FROM {RM}.vc_answers
WHERE tenant_id = $1 AND gen = {LIVE} AND ($2::uuid IS NULL OR employer_id = $2)
  AND ($3::uuid IS NULL OR contract_id = $3) AND ($4::date IS NULL OR answered_on <= $4)
  AND ($5::date IS NULL OR answered_on >= $5)
ORDER BY candidate_id, answered_on DESC, position DESC
"""

FIGURES_SQL = f"""
SELECT count(*) AS people,
       {", ".join(f"avg({q}) AS {q}" for q in QUESTIONS)},
       avg(({" + ".join(QUESTIONS)})::numeric / {len(QUESTIONS)}) AS satisfaction
FROM ({LATEST_SQL}) latest
"""

QUARTERS_SQL = f"""
SELECT DISTINCT date_trunc('quarter', answered_on)::date AS quarter FROM {RM}.vc_answers
WHERE tenant_id = $1 AND gen = {LIVE} AND ($2::uuid IS NULL OR employer_id = $2)
  AND ($3::uuid IS NULL OR contract_id = $3)
ORDER BY 1
"""


def _mean(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(TWO, rounding=ROUND_HALF_UP)


def _figures(r: Any) -> dict[str, Any]:
    people = int(r["people"])
    withheld = shown(r["satisfaction"], people).withheld
    return {"withheld": withheld, "people": None if withheld else people,
            "satisfaction": None if withheld else _mean(r["satisfaction"]),
            "questions": {q: None if withheld else _mean(r[q]) for q in QUESTIONS}}


async def satisfaction(pool: Any, tenant_id: UUID, employer_id: UUID | None = None,
                       contract_id: UUID | None = None, until: date | None = None) -> dict[str, Any]:
    """Employee satisfaction (1..5) and the mean per question over each
    person's latest check-in, in the agency, at an employer or on a contract;
    every figure None (`withheld`) when fewer than 5 people answered. The
    caller checks the asker may see the employer or contract."""
    async def compute(conn: Any) -> dict[str, Any]:
        return _figures(await conn.fetchrow(FIGURES_SQL, tenant_id, employer_id, contract_id, until, None))

    async with reading(pool, NAME) as conn:
        return await cached_figures(conn, NAME, tenant_id, ("satisfaction", employer_id, contract_id, until),
                                    compute)


def _quarter_end(start: date) -> date:
    month = start.month + 3
    return (date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)) - timedelta(days=1)


async def satisfaction_by_quarter(pool: Any, tenant_id: UUID, employer_id: UUID | None = None,
                                  contract_id: UUID | None = None) -> list[dict[str, Any]]:
    """Per calendar quarter with answers, oldest first: {"quarter": "2025-Q1",
    ...the figures of `satisfaction` over the answers given in it}."""
    async def compute(conn: Any) -> list[dict[str, Any]]:
        out = []
        for q in await conn.fetch(QUARTERS_SQL, tenant_id, employer_id, contract_id):
            start = q["quarter"]
            r = await conn.fetchrow(FIGURES_SQL, tenant_id, employer_id, contract_id, _quarter_end(start), start)
            out.append({"quarter": f"{start.year}-Q{(start.month - 1) // 3 + 1}", **_figures(r)})
        return out

    async with reading(pool, NAME) as conn:
        return await cached_figures(conn, NAME, tenant_id, ("quarters", employer_id, contract_id), compute)


async def sharing_of(pool: Any, tenant_id: UUID, placement_ids: list[UUID]) -> dict[UUID, str]:
    """Each placement's sharing choice (placements without a row: aggregated)."""
    async with reading(pool, NAME) as conn:
        rows = await conn.fetch(f"SELECT placement_id, sharing FROM {RM}.vc_placements"
                                f" WHERE tenant_id = $1 AND gen = {LIVE} AND placement_id = ANY($2::uuid[])",
                                tenant_id, list(placement_ids))
    return {r["placement_id"]: r["sharing"] for r in rows}


OPEN_SQL = f"""
SELECT placement_id, starts_on, ended_on, answered FROM {RM}.vc_placements
WHERE tenant_id = $1 AND gen = {LIVE} AND candidate_id = $2
ORDER BY starts_on, placement_id
"""


async def open_check_ins(pool: Any, tenant_id: UUID, candidate_id: UUID, today: date) -> list[dict[str, Any]]:
    """The person's check-ins open on `today` (overdue ones stay open until
    answered), for their own pages: placement_id, moment, due_on, state."""
    async with reading(pool, NAME) as conn:
        rows = await conn.fetch(OPEN_SQL, tenant_id, candidate_id)
    out = []
    for r in rows:
        answered = {m: today for m in (r["answered"] or [])}
        for s in moment_states(r["starts_on"], r["ended_on"], today, answered):
            if s["state"] in ("open", "overdue"):
                out.append({"placement_id": r["placement_id"], "moment": s["moment"], "due_on": s["due_on"],
                            "state": s["state"]})
    return out


# -- for the reminders process manager (psycopg, in the worker) -----------------------
COMING_DUE_SQL = f"""
SELECT placement_id, candidate_id, starts_on, ended_on, answered, reminded FROM {RM}.vc_placements
WHERE tenant_id = %(tenant)s
  AND gen = (SELECT gen FROM {RM}.live WHERE projection = '{NAME}' AND tenant_id = %(tenant)s)
  AND starts_on >= %(earliest)s AND starts_on <= %(horizon)s
  AND (ended_on IS NULL OR ended_on >= %(oldest_due)s)
ORDER BY starts_on, placement_id
"""


def check_ins_coming_due(conn: Any, tenant_id: UUID, today: date, horizon: date) -> list[dict[str, Any]]:
    """Check-ins open by `horizon` (or overdue by at most REMIND_OVERDUE_DAYS),
    neither answered nor reminded: placement_id, candidate_id, moment, due_on."""
    oldest_due = today - timedelta(days=REMIND_OVERDUE_DAYS)
    earliest = oldest_due - timedelta(days=31 * max(MOMENTS) + 1)
    out = []
    for r in conn.execute(COMING_DUE_SQL, {"tenant": tenant_id, "earliest": earliest, "horizon": horizon,
                                           "oldest_due": oldest_due}).fetchall():
        done = set(r["answered"] or []) | set(r["reminded"] or [])
        # States as on `horizon`: what opens by then is reminded now.
        for s in moment_states(r["starts_on"], r["ended_on"], horizon, {}):
            if s["moment"] in done or s["state"] not in ("open", "overdue") or s["due_on"] < oldest_due:
                continue
            if s["due_on"] > horizon:
                continue
            out.append({"placement_id": r["placement_id"], "candidate_id": r["candidate_id"],
                        "moment": s["moment"], "due_on": s["due_on"]})
    return out
