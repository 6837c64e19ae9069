"""The cap per candidate in hours worked, through the real ledger, the real
compliance projection and its real queries (issue 13).

Contracts pin Utrecht version 2 (caps: participatiewet 3754.29 hours =
2 x 365/7 x 36); the second test pins version 1 (the legacy cap).

Candidate: participatiewet, born 1990 (no bonus). Contract X runs 2025-2027,
contract Y 2026-2028, both Utrecht v2. Value: 40,000 x min(hours, 36)/36 x
days/365; a counted day uses min(hours, 36)/7 hours of the cap; a day counts
while the hours used before it (all the candidate's placements) are below
3754.29, the crossing day whole.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.contribution import Contribution
from projections.compliance import compliance_for_contract, explanation_for_contribution
from service import commands as c
from tests.projections.conftest import Books, catch_up, runner, snapshot

pytestmark = pytest.mark.timeout(60)

V2 = {"rule_set": "utrecht-2024", "rule_set_version": 2}


async def reported(pool: Any, books: Books, contract: UUID, as_of: date) -> str:
    catch_up(books.system, books.tenant)
    found = await compliance_for_contract(pool, books.tenant.id, contract, as_of)
    assert found is not None
    return found["reported_eur"]


async def test_a_correction_to_an_earlier_placements_hours_moves_a_later_placements_figures(
        pool, books):
    employer = books.employer()
    x = books.contract(employer, **V2)  # 2025-01-01..2027-12-31
    y = books.contract(employer, starts_on=date(2026, 1, 1), ends_on=date(2028, 12, 31),
                       awarded_on=date(2025, 11, 15), **V2)
    person = books.candidate(target_group="participatiewet")
    a = books.placement(person, employer, x, starts_on=date(2025, 1, 1), hours_per_week=Decimal("36"))
    b = books.placement(person, employer, y, starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))

    # A alone in 2025: 365 x 36/7 = 13140/7 = 1877.142857 hours. From 2026-01-01
    # A and B together use 72/7 a day: 3754.29 - 1877.142857 = 1877.147143 left,
    # / (72/7) = 182.5004, so 183 more days count (2026-01-01..2026-07-02) for each.
    # B: 40,000 x 183/365 = 20,054.79; A: 40,000 x (365 + 183)/365 = 60,054.79.
    assert await reported(pool, books, y, date(2028, 12, 31)) == "20054.79"
    assert await reported(pool, books, x, date(2027, 12, 31)) == "60054.79"

    # A correction: A was 18 hours a week from its first day. 2025: 365 x 18/7 =
    # 6570/7 = 938.571429 hours; then 54/7 a day together: 3754.29 - 938.571429 =
    # 2815.718571 left, / (54/7) = 365.0006, so 366 days count (2026-01-01..2027-01-01).
    # B: 40,000 x 366/365 = 40,109.59; A: 40,000 x 18/36 x (365 + 366)/365 = 40,054.79.
    books.run(c.ChangeHours(placement_id=a, hours_per_week=Decimal("18"), effective_on=date(2025, 1, 1)))
    assert await reported(pool, books, y, date(2028, 12, 31)) == "40109.59"
    assert await reported(pool, books, x, date(2027, 12, 31)) == "40054.79"

    explained = await explanation_for_contribution(
        pool, books.tenant.id, Contribution.id_for_placement(b), period_end=date(2028, 12, 31))
    assert explained is not None and explained["value_eur"] == "40109.589041095890"
    assert explained["cap"] == {
        "applies": True, "counted_in": "hours", "cap_hours": "3754.29",
        "hours_used_before": "938.57",  # A's 2025: 6570/7
        "hours_remaining": "2815.72",  # 3754.29 - 938.571429 = 2815.718571
        "reached_on": "2027-01-01", "counted_through": "2027-01-01"}

    # Ending A on 2025-12-31 leaves B alone from 2026, after A's 938.571429 hours:
    # 2815.718571 / (36/7) = 547.5009, so 548 days count (2026-01-01..2027-07-02):
    # 40,000 x 548/365 = 60,054.79.
    books.run(c.EndPlacement(placement_id=a, ends_on=date(2025, 12, 31), reason="resigned"))
    assert await reported(pool, books, y, date(2028, 12, 31)) == "60054.79"
    assert await reported(pool, books, x, date(2027, 12, 31)) == "20000.00"  # 40,000 x 18/36

    # A rebuild gives the same rows as the live projection.
    live_rows = snapshot(books.system, books.tenant)
    runner(books.system, books.tenant, "compliance").rebuild(books.tenant)
    assert snapshot(books.system, books.tenant) == live_rows


async def test_a_legacy_contract_keeps_its_figures_beside_a_cap_in_hours(pool, books):
    # Utrecht v1 (the default pinned here): 730 calendar days per placement.
    # A full time 2025-01-01..: 2025-01-01..2026-12-31, 40,000 x 2 = 80,000;
    # B from 2026-01-01 in Y: its own 730 days (to 2027-12-31): 80,000 too.
    employer = books.employer()
    x = books.contract(employer)
    y = books.contract(employer, starts_on=date(2026, 1, 1), ends_on=date(2028, 12, 31),
                       awarded_on=date(2025, 11, 15))
    person = books.candidate(target_group="participatiewet")
    books.placement(person, employer, x, starts_on=date(2025, 1, 1), hours_per_week=Decimal("36"))
    books.placement(person, employer, y, starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    assert await reported(pool, books, x, date(2027, 12, 31)) == "80000.00"
    assert await reported(pool, books, y, date(2028, 12, 31)) == "80000.00"


async def test_a_statement_line_freezes_the_figure_the_cap_in_hours_gives(pool, books):
    from service.handlers.statements import statement_view

    employer = books.employer()
    x = books.contract(employer, **V2)
    y = books.contract(employer, starts_on=date(2026, 1, 1), ends_on=date(2028, 12, 31),
                       awarded_on=date(2025, 11, 15), **V2)
    person = books.candidate(target_group="participatiewet")
    books.placement(person, employer, x, starts_on=date(2025, 1, 1), hours_per_week=Decimal("36"))
    b = books.placement(person, employer, y, starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    # As in the first test: A and B together count 183 days of 2026 (2026-01-01..2026-07-02):
    # B's line for 2026 is 40,000 x 183/365 = 20,054.79 (uncapped it would be the whole 40,000).
    statement = books.new(c.PrepareStatement(contract_id=y, period_start=date(2026, 1, 1),
                                             period_end=date(2026, 12, 31)))
    view = books.system.ledger.read(books.tenant, books.who, lambda u: statement_view(u, statement))
    (line,) = [line for line in view["lines"] if line["placement_id"] == str(b)]
    assert line["value_eur"] == "20054.79"
    assert line["explanation"]["value_eur"] == "20054.794520547945"
    assert line["explanation"]["cap"]["reached_on"] == "2026-07-02"
