"""Every projection rebuilds after a person is erased, to exactly what its live
generation holds: the live one read the person's data while they were known
and blanked it at the erasure, the rebuilt one reads it as erased from the
start; both keep the figures and nothing of the person."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from projections.registry import PROJECTIONS
from service import commands as c
from tests.projections.conftest import Books, catch_up, runner, snapshot


def _a_person_with_everything_then_erased(books: Books, marker: str) -> None:
    employer = books.employer()
    contract = books.contract(employer, reporting_period="quarter")  # its statements per quarter
    vacancy = books.vacancy(employer, required_competences=[f"Lassen {marker}"], region=f"Sneek {marker}")
    person = books.candidate(full_name=f"Marit Hoekstra {marker}", competences=[f"Lassen {marker}", "Heftruck"],
                             support_needs=f"Slechtziend {marker}")
    books.run(c.StateAvailability(candidate_id=person, hours_per_week=Decimal("32"), available_from=date(2025, 1, 6),
                                  region=f"Sneek {marker}"))
    for step in ("proposed", "introduced"):
        books.run(c.RecordMatchStep(vacancy_id=vacancy, candidate_id=person, step=step, on=date(2025, 1, 20)))
    placement = books.placement(person, employer, contract, vacancy=vacancy)
    books.run(c.RecordMatchStep(vacancy_id=vacancy, candidate_id=person, step="placed", on=date(2025, 2, 1),
                                placement_id=placement))
    books.run(c.GiveFeedback(placement_id=placement, score=4, from_role="coach", comment=f"Oogklachten {marker}"))
    books.run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("28"), effective_on=date(2025, 4, 1)))
    books.run(c.AddChecklistItem(placement_id=placement, label=f"Grote monitor {marker}", responsible="employer"))
    books.run(c.RequestAdjustment(placement_id=placement, kind="tool", description=f"Loep {marker}", funder="uwv",
                                  requested_on=date(2025, 2, 3)))
    books.run(c.LogCheckIn(placement_id=placement, held_on=date(2025, 2, 20), with_whom="employee",
                           note=f"Gaat goed {marker}"))
    books.run(c.LogCoachingSession(placement_id=placement, held_on=date(2025, 2, 21), hours=Decimal("2"),
                                   note=f"Oefenen {marker}"))
    books.run(c.ReportSickness(placement_id=placement, first_sick_day=date(2025, 3, 3)))
    books.run(c.ReportRecovery(placement_id=placement, recovered_on=date(2025, 3, 10)))
    # A statement of the contract's first quarter, submitted (the notices read model).
    statement = books.new(c.PrepareStatement(contract_id=contract, period_start=date(2025, 1, 1),
                                             period_end=date(2025, 3, 31)))
    books.run(c.SubmitStatement(statement_id=statement))
    # Someone who stays, so that the figures have more than one person in them.
    kept = books.candidate(full_name="Jan de Boer")
    books.run(c.StateAvailability(candidate_id=kept, hours_per_week=Decimal("24"), available_from=date(2025, 1, 6),
                                  region="Sneek"))
    books.placement(kept, employer, contract)
    catch_up(books.system, books.tenant)  # the live read models know the person...

    books.run(c.EraseCandidate(candidate_id=person))
    books.run(c.EndPlacement(placement_id=placement, ends_on=date(2025, 6, 30), reason="other"))
    catch_up(books.system, books.tenant)  # ...and then forget them


@pytest.mark.parametrize("name", [p.name for p in PROJECTIONS])
def test_a_projection_rebuilt_after_an_erasure_equals_its_live_generation(books: Books, name: str) -> None:
    marker = uuid.uuid4().hex[:10]
    _a_person_with_everything_then_erased(books, marker)
    tables = {t.name for p in PROJECTIONS if p.name == name for t in p.tables}
    live = {t: rows for t, rows in snapshot(books.system, books.tenant).items() if t in tables}
    assert any(live.values()), f"{name} holds nothing to compare"

    runner(books.system, books.tenant, name).rebuild(books.tenant)

    rebuilt = {t: rows for t, rows in snapshot(books.system, books.tenant).items() if t in tables}
    assert rebuilt == live
    # Only the vacancy (the employer's, not the person's) may carry the marker.
    leftovers = [row for t, rows in rebuilt.items() if t != "d_vacancies" for row in rows if marker in str(row)]
    assert leftovers == []
