"""The contract query's kept sums per quarter (c_contract_quarters) give the
same figures as summing every daily-change row (c_contract_days).

PLACEMENT_VALUE_SQL reads, per contract and status, one row per calendar
quarter (the number of day rows, the sum of their deltas and of delta x
(day - EPOCH)) and the day rows of the one quarter holding the day asked.
Compared here with the plain statement it replaced in spirit: every day row
joined to every quarter from its own on, delta x the days it runs in that
quarter up to the day asked. Same rows, same exact numbers (numeric sums,
divided once), on many days asked and several terms.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.contribution import Contribution
from projections.base import RM
from projections.compliance import LIVE, PLACEMENT_VALUE_SQL, compliance_for_contract, quarter_of
from service import commands as c
from tests.projections.conftest import Books, catch_up, runner

pytestmark = pytest.mark.timeout(120)

# The reference: each day row (a day before the first quarter counted from its
# first day; days after the last quarter not at all) times the days it runs in
# each quarter from its own on, up to $3 (reported) and to the quarter's end
# (forecast).
REFERENCE_SQL = f"""
WITH q AS (
    SELECT g::date AS q_start, (g + interval '3 months' - interval '1 day')::date AS q_end
    FROM generate_series(date_trunc('quarter', $4::date), date_trunc('quarter', $5::date),
                         interval '3 months') g
), d AS (
    SELECT status, greatest(day, date_trunc('quarter', $4::date)::date) AS day, delta, denominator
    FROM {RM}.c_contract_days
    WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = $2 AND day <= (SELECT max(q_end) FROM q)
)
SELECT st.status, q.q_start,
       (SELECT coalesce(sum(d.delta * greatest(0, least(q.q_end, $3) - greatest(d.day, q.q_start) + 1)), 0)
        FROM d WHERE d.status = st.status AND d.day <= q.q_end) / st.den AS reported,
       (SELECT coalesce(sum(d.delta * (q.q_end - greatest(d.day, q.q_start) + 1)), 0)
        FROM d WHERE d.status = st.status AND d.day <= q.q_end) / st.den AS forecast
FROM (SELECT status, min(denominator) AS den FROM d GROUP BY status) st CROSS JOIN q
"""

KEPT_VS_DAYS_SQL = f"""
SELECT k.status, k.quarter, k.days, k.delta_sum, k.delta_day_sum, d.n, d.s, d.s1
FROM (SELECT * FROM {RM}.c_contract_quarters WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = $2) k
FULL JOIN (
    SELECT status, date_trunc('quarter', day)::date AS quarter, count(*) AS n, sum(delta) AS s,
           sum(delta * (day - DATE '2000-01-01')) AS s1
    FROM {RM}.c_contract_days WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = $2
    GROUP BY 1, 2
) d ON d.status = k.status AND d.quarter = k.quarter
"""


def busy_contract(books: Books) -> UUID:
    """A contract starting mid-quarter with placements in every status: one
    accepted and changed afterwards (a pending difference), one rejected, one
    ended, hours changes, one started before the term (clipped), one extended
    and one uncapped running past the term."""
    employer = books.employer()
    contract = books.contract(employer, starts_on=date(2025, 2, 15), ends_on=date(2027, 11, 20))
    p = {}
    for i, (group, starts, hours) in enumerate((
            ("participatiewet", date(2025, 1, 10), "36"), ("participatiewet", date(2025, 3, 31), "18"),
            ("doelgroepregister", date(2025, 4, 1), "24"), ("participatiewet", date(2025, 6, 30), "40"),
            ("doelgroepregister", date(2026, 2, 14), "30"), ("participatiewet", date(2026, 9, 1), "12"),
            ("doelgroepregister", date(2027, 3, 31), "36"))):
        p[i] = books.placement(books.candidate(target_group=group), employer, contract,
                               starts_on=starts, hours_per_week=Decimal(hours))
    books.run(c.ChangeHours(placement_id=p[0], hours_per_week=Decimal("20"), effective_on=date(2025, 7, 1)))
    books.run(c.EndPlacement(placement_id=p[1], ends_on=date(2025, 12, 31), reason="resigned"))
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(p[0]), reason="Akkoord",
                                   decided_on=date(2026, 1, 10)))
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(p[2]), reason="Akkoord",
                                   decided_on=date(2026, 1, 10)))
    books.run(c.RejectContribution(contribution_id=Contribution.id_for_placement(p[3]), reason="Geen bewijs",
                                   decided_on=date(2026, 1, 11)))
    # After acceptance: a backdated change to an accepted placement (pending difference).
    books.run(c.ChangeHours(placement_id=p[0], hours_per_week=Decimal("32"), effective_on=date(2025, 10, 1)))
    books.run(c.EndPlacement(placement_id=p[2], ends_on=date(2026, 5, 15), reason="resigned"))
    books.run(c.ChangeHours(placement_id=p[4], hours_per_week=Decimal("36"), effective_on=date(2026, 4, 1)))
    books.run(c.EndPlacement(placement_id=p[5], ends_on=date(2026, 12, 31), reason="resigned"))
    catch_up(books.system, books.tenant)
    return contract


def days_asked() -> list[date]:
    """Every week over and around the term, and the edges of every quarter."""
    days = [date(2024, 12, 1) + timedelta(days=7 * i) for i in range(170)]
    for year in (2025, 2026, 2027):
        for month in (1, 4, 7, 10):
            first = date(year, month, 1)
            days += [first - timedelta(days=1), first]
    return sorted(set(days))


def as_rows(rows: list[Any]) -> dict[tuple[str, date], tuple[Decimal, Decimal]]:
    return {(r["status"], r["q_start"]): (r["reported"], r["forecast"]) for r in rows}


async def test_the_kept_quarter_sums_give_the_figures_of_every_day_row(pool, books):
    contract = busy_contract(books)
    tenant = books.tenant.id
    days = days_asked()
    assert len(days) >= 180
    # The contract's own term, and terms cutting off quarters at either end
    # (day rows before the first quarter, and after the last).
    terms = ((date(2025, 2, 15), date(2027, 11, 20)), (date(2025, 8, 1), date(2026, 5, 1)),
             (date(2026, 1, 1), date(2026, 12, 31)), (date(2024, 7, 1), date(2028, 3, 31)))
    async with pool.acquire() as conn:
        kept = await conn.fetch(KEPT_VS_DAYS_SQL, tenant, contract)
        # every quarter with day rows has its kept row, with their number and sums
        assert kept and all((k["days"], k["delta_sum"], k["delta_day_sum"]) == (k["n"], k["s"], k["s1"])
                            for k in kept), kept
        assert {k["status"] for k in kept} == {"accepted", "rejected", "pending"}
        compared = nonzero = 0
        for starts_on, ends_on in terms:
            for day in days:
                until = min(day, ends_on)
                new = as_rows(await conn.fetch(PLACEMENT_VALUE_SQL, tenant, contract, until, starts_on, ends_on))
                old = as_rows(await conn.fetch(REFERENCE_SQL, tenant, contract, until, starts_on, ends_on))
                assert new == old, (starts_on, ends_on, day)
                compared += 1
                nonzero += any(r[0] for r in new.values())
    assert compared == 4 * len(days)
    assert nonzero > 500  # most days asked count something


async def test_a_rebuild_keeps_the_same_quarter_sums_and_figures(pool, books):
    contract = busy_contract(books)
    tenant = books.tenant.id
    as_of = date(2026, 8, 17)
    before = await compliance_for_contract(pool, tenant, contract, as_of)
    async with pool.acquire() as conn:
        kept = sorted(tuple(r) for r in await conn.fetch(KEPT_VS_DAYS_SQL, tenant, contract))
    runner(books.system, books.tenant, "compliance").rebuild(books.tenant)
    async with pool.acquire() as conn:
        rebuilt = sorted(tuple(r) for r in await conn.fetch(KEPT_VS_DAYS_SQL, tenant, contract))
    assert rebuilt == kept
    assert await compliance_for_contract(pool, tenant, contract, as_of) == before
    # 2026-Q3 is the quarter of the day asked: only its days up to 17 August count.
    assert any(q["quarter"] == "2026-Q3" for q in before["quarters"])


def test_a_day_belongs_to_the_quarter_starting_on_the_first_of_january_april_july_or_october():
    assert [quarter_of(d) for d in (date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 8, 17),
                                    date(2026, 12, 31))] == \
        [date(2026, 1, 1), date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)]
