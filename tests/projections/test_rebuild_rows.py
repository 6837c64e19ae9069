"""A rebuild writes exactly the rows that the live generation holds.

The live rows here are projected one command at a time, as the worker does:
each catch-up reads the rows it changes back from the database and upserts
them. A rebuild starts on an empty generation: it looks nothing up that it has
not written itself, adds new rows by COPY, and commits many pages of events
at once (projections/writer.py, BUILD_COMMIT_EVENTS). Both ways must give the
same rows, value for value, for every projection.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.contribution import Contribution
from projections.registry import PROJECTIONS
from service import commands as c
from tests.projections.conftest import Books, catch_up, runner, snapshot


class OneCommandAtATime(Books):
    """Every projection caught up after each command."""

    def run(self, command: Any, as_: Any = None) -> Any:
        result = super().run(command, as_)
        catch_up(self.system, self.tenant)
        return result


def a_year_of_placements(books: Books) -> None:
    """Two contracts; placements matched, valued, given feedback, changed,
    extended, ended, two of one person (counted together under a cap);
    contributions accepted and rejected; a quarter's statement submitted; a
    person erased."""
    employer = books.employer()
    contract = books.contract(employer, reporting_period="quarter", rule_set="utrecht-2024")
    other = books.contract(employer, rule_set="harlingen-2024", title="Groenonderhoud")
    twice = books.candidate(full_name="Marit Hoekstra", target_group="participatiewet")
    placements = [
        books.matched_placement(employer, contract, opened_on=date(2024, 12, 2),
                                candidate={"full_name": "Anouk Smit"}, starts_on=date(2025, 1, 6)),
        books.placement(twice, employer, contract, starts_on=date(2025, 2, 1), hours_per_week=Decimal("20")),
        books.placement(twice, employer, contract, starts_on=date(2025, 3, 1), hours_per_week=Decimal("16")),
        books.placement(books.candidate(full_name="Jan de Boer"), employer, other, starts_on=date(2025, 4, 1)),
        books.placement(books.candidate(full_name="Sem Visser"), employer, None, starts_on=date(2025, 5, 1)),
    ]
    for week, placement in enumerate(placements * 3):
        books.run(c.GiveFeedback(placement_id=placement, score=1 + week % 5, from_role="coach",
                                 comment=f"Week {week}"))
    books.run(c.ChangeHours(placement_id=placements[0], hours_per_week=Decimal("32"),
                            effective_on=date(2025, 4, 1)))
    books.run(c.ChangeHours(placement_id=placements[1], hours_per_week=Decimal("28"),
                            effective_on=date(2025, 6, 1)))
    books.run(c.ExtendPlacement(placement_id=placements[3], until=date(2026, 6, 30)))
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(placements[0]),
                                   decided_on=date(2025, 7, 1)))
    books.run(c.RejectContribution(contribution_id=Contribution.id_for_placement(placements[3]),
                                   reason="Geen geldige doelgroepverklaring", decided_on=date(2025, 7, 2)))
    books.run(c.ReportOtherActivity(contract_id=contract, description="Gastlessen ROC",
                                    activity_date=date(2025, 3, 3), hours=Decimal("16")))
    books.run(c.AmendContract(contract_id=other, changes={"contract_value_eur": Decimal("2000000.00")}))
    books.run(c.EndPlacement(placement_id=placements[2], ends_on=date(2025, 8, 31), reason="resigned"))
    books.run(c.EndPlacement(placement_id=placements[4], ends_on=date(2025, 9, 30),
                             reason="direct_employment"))
    statement = books.new(c.PrepareStatement(contract_id=contract, period_start=date(2025, 1, 1),
                                             period_end=date(2025, 3, 31)))
    books.run(c.SubmitStatement(statement_id=statement))
    books.run(c.EraseCandidate(candidate_id=twice))
    for placement in (placements[0], placements[3]):  # not the erased person's
        books.run(c.GiveFeedback(placement_id=placement, score=2, from_role="agency", comment="Na de zomer"))


@pytest.fixture(scope="module")
def lived(system: Any) -> tuple[Books, dict[str, list[tuple]]]:
    from tests.conftest import random_slug

    books = OneCommandAtATime(system, system.registry.create_tenant(random_slug(), "Werkbedrijf Sneek B.V."))
    a_year_of_placements(books)
    return books, snapshot(books.system, books.tenant)


def projection_rows(rows: dict[str, list[tuple]], name: str) -> dict[str, list[tuple]]:
    tables = {t.name for p in PROJECTIONS if p.name == name for t in p.tables}
    return {t: r for t, r in rows.items() if t in tables}


@pytest.mark.parametrize("sizes", [{}, {"batch_size": 2, "build_commit": 5}], ids=["default", "small-commits"])
@pytest.mark.parametrize("name", [p.name for p in PROJECTIONS])
def test_a_rebuild_gives_the_rows_of_the_live_generation_projected_command_by_command(
        lived: tuple[Books, dict[str, list[tuple]]], name: str, sizes: dict[str, int]) -> None:
    books, live = lived
    expected = projection_rows(live, name)
    assert any(expected.values()), f"{name} holds nothing to compare"

    result = runner(books.system, books.tenant, name, **sizes).rebuild(books.tenant)

    assert result.position == books.head()
    assert projection_rows(snapshot(books.system, books.tenant), name) == expected


def test_the_scenario_fills_the_tables_that_rows_are_rebuilt_in(lived: tuple[Books, dict[str, list[tuple]]]):
    _, live = lived
    # r_feedback: 5 placements x 3 weeks + 2 after the summer = 17 rows; the
    # retention figures' placements: all 5.
    assert len(live["r_feedback"]) == 17
    assert len(live["r_placements"]) == 5
    # Compliance: 4 placements count toward a contract (the fifth has none).
    assert len(live["c_placements"]) == 4
    assert live["c_segments"] and live["c_contract_days"] and live["c_contract_quarters"]


def test_rows_of_a_replaced_group_are_upserted_not_copied_even_on_an_empty_generation(system: Any) -> None:
    """A replaced group's rows are written without passing through the run's
    memory, so after `replace_group` the table is no longer taken as known
    whole: a later row with the same key updates the stored one (a COPY would
    fail on the key)."""
    from uuid import uuid4

    from projections.base import RM
    from projections.compliance import ComplianceProjection
    from projections.writer import Batch

    tables = {t.name: t for t in ComplianceProjection.tables}
    tenant_id, placement, contract = uuid4(), uuid4(), uuid4()

    def segment(numerator: str) -> dict[str, Any]:
        return {"placement_id": placement, "seq": 0, "contract_id": contract, "from_day": date(2025, 1, 1),
                "to_day": date(2025, 3, 31), "numerator": Decimal(numerator), "denominator": Decimal("1")}

    database = system.stores.database("default")
    with database.connection() as conn, conn.transaction(force_rollback=True):
        b = Batch(conn, tenant_id, 1, {}, tables, complete=set(tables))
        b.replace_group("c_segments", "placement_id", placement, [segment("100")])
        b.flush()
        b.put("c_segments", segment("250"))
        b.flush()
        rows = conn.execute(f"SELECT numerator FROM {RM}.c_segments WHERE tenant_id = %s AND gen = 1",
                            (tenant_id,)).fetchall()
    assert [r["numerator"] for r in rows] == [Decimal("250")]
