"""Figures as they were known at a moment equal what the live read model
showed at that moment, whatever was corrected afterwards."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import asyncpg
import pytest

from domain.contribution import Contribution
from infra.eventstore import SCHEMA
from projections import compliance, retention
from projections.reader import position_known_at
from projections.writer import ProjectionRunner
from projections.registry import PROJECTIONS
from service import commands as c
from service.actor import Actor

AGENCY = Actor(user_id=uuid.uuid4(), role="agency", organisation="as-of-test")
UTRECHT = Actor(user_id=uuid.uuid4(), role="authority", organisation="Gemeente Utrecht")


def last_recorded_at(database, tenant) -> datetime:
    with database.connection() as conn:
        return conn.execute(f'SELECT max(recorded_at) AS at FROM {SCHEMA}."{tenant.events_table}"').fetchone()["at"]


def _project(system, tenant) -> None:
    for projection in PROJECTIONS:
        ProjectionRunner(system.stores.database(tenant.database), projection).catch_up(tenant, wait=True)


async def test_replay_of_a_moment_gives_the_figures_the_live_model_showed_then(system, tenant):
    run = lambda cmd, actor=AGENCY: system.ledger.execute(tenant, actor, cmd)  # noqa: E731
    employer = uuid.UUID(run(c.RegisterEmployer(name="Bouwbedrijf De Vries B.V.")).body["id"])
    contract = uuid.UUID(run(c.RegisterContract(
        employer_id=employer, title="Onderhoud openbare ruimte", contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("1000000"), obligation_percent=Decimal("5"), starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31), awarded_on=date(2025, 11, 1), rule_set="utrecht-2024")).body["id"])
    candidate = uuid.UUID(run(c.RegisterCandidate(
        full_name="Youssef El Amrani", date_of_birth=date(1988, 9, 3), target_group="participatiewet",
        competences=["administratie"], support_needs="")).body["id"])
    placement = uuid.UUID(run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=contract, vacancy_id=None,
        starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"), permanent_contract=False)).body["id"])
    _project(system, tenant)
    pool = await asyncpg.create_pool(system.database_url, min_size=1, max_size=2)
    try:
        day = date(2026, 12, 31)
        then_contract = await compliance.compliance_for_contract(pool, tenant.id, contract, day)
        then_summary = await compliance.compliance_summary(pool, tenant.id, day)
        then_retention = await retention.retention(pool, tenant.id, day)
        database = system.stores.database(tenant.database)
        # The moment they were known: the last event's own commit time (its
        # recorded_at, hashed in the chain); anything stored later is later.
        moment = last_recorded_at(database, tenant)

        # Corrections afterwards: hours cut back, the contribution accepted, the placement ended.
        run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("18"), effective_on=date(2026, 7, 1)))
        run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(placement), reason="ok"), UTRECHT)
        run(c.EndPlacement(placement_id=placement, ends_on=date(2026, 9, 30), reason="resigned"))
        _project(system, tenant)
        now_contract = await compliance.compliance_for_contract(pool, tenant.id, contract, day)
        assert now_contract != then_contract  # the corrections changed the live figures

        position = position_known_at(database, tenant, moment)
        gens = {p.name: ProjectionRunner(database, p).as_of(tenant, position) for p in PROJECTIONS}
        assert await compliance.compliance_for_contract(pool, tenant.id, contract, day,
                                                        gens["compliance"]) == then_contract
        assert await compliance.compliance_summary(pool, tenant.id, day, gen=gens["compliance"]) == then_summary
        assert await retention.retention(pool, tenant.id, day, gen=gens["retention"]) == then_retention
        # A full year at 36 h under Utrecht's participatiewet block, as known then.
        assert then_contract["reported_eur"] == "40000.00" and then_contract["status"] == "on_track"
        # And the live model still answers with today's knowledge.
        assert await compliance.compliance_for_contract(pool, tenant.id, contract, day) == now_contract
    finally:
        await pool.close()
