"""Erasure is final, also when another process erased the person a moment ago
and this process still holds the person's data key in its cache: the
statement that would store the command reads the erasure and stores nothing,
and the erasure is the answer even when the command is wrong in another way."""
from __future__ import annotations

from datetime import date

import pytest

from infra.bootstrap import System
from infra.personal_data import PersonKeys, load_data_key
from service import commands as c
from service.actor import Actor
from service.errors import PersonErased
from tests.service.conftest import Seeded, event_count

pytestmark = pytest.mark.timeout(60)


def erased_by_another_process(system: System, seeded: Seeded) -> None:
    """The person erased through a key store of its own (another process's):
    this process's key cache still holds the person's key."""
    database = system.stores.database(seeded.tenant.database)
    elsewhere = PersonKeys(database, load_data_key(system.settings))
    assert elsewhere.erase(seeded.tenant.id, seeded.candidate)


def idempotency_rows(system: System, seeded: Seeded, key: str) -> int:
    with system.stores.database(seeded.tenant.database).connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM events.idempotency_keys WHERE tenant_id = %s AND key = %s",
                            (seeded.tenant.id, key)).fetchone()["n"]


def test_feedback_about_a_person_erased_by_another_process_is_refused_and_nothing_is_stored(
        system: System, seeded: Seeded, agency: Actor) -> None:
    feedback = c.GiveFeedback(placement_id=seeded.placement, score=4, from_role="agency", comment="Goed bezig")
    system.ledger.execute(seeded.tenant, agency, feedback)  # the person's key is now in this process's cache
    erased_by_another_process(system, seeded)
    before = event_count(system, seeded.tenant)

    with pytest.raises(PersonErased):
        system.ledger.execute(seeded.tenant, agency, feedback, idempotency_key="feedback-after-erasure")
    # Sickness is not sealed under the person's key: only the erasure check refuses it.
    with pytest.raises(PersonErased):
        system.ledger.execute(seeded.tenant, agency,
                              c.ReportSickness(placement_id=seeded.placement, first_sick_day=date(2025, 3, 3)))

    assert event_count(system, seeded.tenant) == before
    assert idempotency_rows(system, seeded, "feedback-after-erasure") == 0


def test_the_erasure_answers_before_any_other_refusal(system: System, seeded: Seeded, agency: Actor) -> None:
    erased_by_another_process(system, seeded)
    before = event_count(system, seeded.tenant)
    # The agency may not give feedback as the employee: refused either way,
    # and the person's erasure is what the answer says.
    with pytest.raises(PersonErased):
        system.ledger.execute(seeded.tenant, agency, c.GiveFeedback(
            placement_id=seeded.placement, score=4, from_role="employee", comment="Goed bezig"))
    assert event_count(system, seeded.tenant) == before
