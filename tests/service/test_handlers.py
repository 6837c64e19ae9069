"""The one table of handlers: every command has exactly one, declared with
the roles that may issue it in its feature module; the ledger reads time and
the platform's accounts only through the ports it is given."""
from __future__ import annotations

import dataclasses
import inspect
from datetime import date, datetime, timedelta, timezone

import pytest

from domain.matching import MatchPipeline
from infra.bootstrap import System
from infra.eventstore import SCHEMA
from infra.registry import PlatformAccounts
from service import commands as c
from service.actor import Actor
from service.errors import InvalidInput, InvalidReference
from service.handlers import COMMAND_ROLES, HANDLERS
from service.ledger import Ledger, fingerprint
from service.unit import Handlers, compose
from tests.service.conftest import Seeded, new_id, open_vacancy, register_candidate


class ManualClock:
    """A clock the test moves itself."""

    def __init__(self, now: datetime):
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def today(self) -> date:
        return self.moment.date()

    def advance(self, by: timedelta) -> None:
        self.moment += by


def test_every_command_has_one_handler_and_its_roles() -> None:
    commands = {cls for _, cls in inspect.getmembers(c, inspect.isclass)
                if dataclasses.is_dataclass(cls) and cls.__module__ == c.__name__}
    assert commands and commands == set(HANDLERS) == set(COMMAND_ROLES)
    assert all(COMMAND_ROLES[command] for command in commands)


def test_a_command_handled_by_two_features_is_refused_when_the_table_is_composed() -> None:
    one, other = Handlers(), Handlers()
    one(c.RegisterEmployer, roles={"agency"})(lambda u, cmd: None)  # type: ignore[arg-type,return-value]
    other(c.RegisterEmployer, roles={"agency"})(lambda u, cmd: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="RegisterEmployer is handled by two features"):
        compose(one, other)


def test_the_moment_recorded_and_the_day_meant_come_from_the_ledgers_clock(
        system: System, seeded: Seeded, agency: Actor) -> None:
    clock = ManualClock(datetime(2025, 3, 3, 9, 30, tzinfo=timezone.utc))
    ledger = Ledger(system.stores, clock=clock)
    fatima = new_id(ledger.execute(seeded.tenant, agency, register_candidate(full_name="Fatima Bakker")))
    vacancy = new_id(ledger.execute(seeded.tenant, agency, open_vacancy(seeded.employer)))
    clock.advance(timedelta(days=2, hours=1))
    ledger.execute(seeded.tenant, agency, c.RecordMatchStep(
        vacancy_id=vacancy, candidate_id=fatima, step="proposed"))  # no day named: today

    match = ledger.get(seeded.tenant, agency, MatchPipeline, MatchPipeline.id_for(vacancy, fatima))
    assert match.steps == [{"step": "proposed", "on": date(2025, 3, 5)}]
    recorded = [e["metadata"]["recorded_at"]
                for e in ledger.history(seeded.tenant, agency, MatchPipeline, match.id)]
    assert recorded == ["2025-03-05T10:30:00+00:00"]
    # Health data's "not in the future" is judged by the ledger's today, not the machine's.
    with pytest.raises(InvalidInput):
        ledger.execute(seeded.tenant, agency, c.ReportSickness(placement_id=seeded.placement,
                                                               first_sick_day=date(2025, 3, 6)))
    sick = ledger.execute(seeded.tenant, agency, c.ReportSickness(placement_id=seeded.placement,
                                                                  first_sick_day=date(2025, 3, 4)))
    assert sick.created and sick.body["first_sick_day"] == "2025-03-04"


def test_a_responsible_user_is_checked_against_the_accounts_the_ledger_is_given(
        system: System, seeded: Seeded, agency: Actor) -> None:
    """Without the accounts port no one can be named (the id cannot be checked)."""
    consultant = system.registry.create_user(seeded.tenant, "consulent@detachering.nl", "agency")
    assign = c.AssignPlacementResponsible(placement_id=seeded.placement, responsible_user_id=consultant.id)
    with pytest.raises(InvalidReference, match="no agency user"):
        Ledger(system.stores).execute(seeded.tenant, agency, assign)
    ledger = Ledger(system.stores, accounts=PlatformAccounts(system.stores.database("default")))
    assigned = ledger.execute(seeded.tenant, agency, assign)
    assert assigned.body["responsible_user_id"] == str(consultant.id) and not assigned.created


@pytest.mark.parametrize(("stored_status", "created"), [(201, True), (200, False)])
def test_an_idempotency_record_stored_as_an_http_status_replays_the_same_outcome(
        system: System, seeded: Seeded, agency: Actor, stored_status: int, created: bool) -> None:
    """Rows written before outcomes were stored keep their status code."""
    command = c.GiveFeedback(placement_id=seeded.placement, score=4, from_role="coach")
    body = {"id": str(seeded.placement), "version": 7}
    with system.stores.database(seeded.tenant.database).connection() as conn:
        conn.execute(f"INSERT INTO {SCHEMA}.idempotency_keys (tenant_id, key, fingerprint, status_code, response)"
                     " VALUES (%s, 'old-row', %s, %s, %s::jsonb)",
                     (seeded.tenant.id, fingerprint(agency, command), stored_status,
                      '{"id": "%s", "version": 7}' % seeded.placement))
    replay = system.ledger.execute(seeded.tenant, agency, command, idempotency_key="old-row")
    assert (replay.replayed, replay.created, replay.body) == (True, created, body)
