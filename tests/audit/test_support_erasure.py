"""Erasure covers support: the person's needs in the onboarding checklist,
adjustment descriptions and check-in and coaching notes are sealed under the
person's key, so after EraseCandidate none of it is readable anywhere in the
database, while the support figures stay as they were."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import asyncpg

from domain.support import PlacementSupport
from projections import support as support_rm
from service import commands as c
from service.actor import Actor
from tests.audit.dump import readable_dump
from tests.projections.conftest import catch_up

AGENCY = Actor(user_id=uuid.uuid4(), role="agency", organisation="erasure-test")


async def test_erasing_a_person_makes_their_support_notes_unreadable(system, tenant, database_url):
    marker = uuid.uuid4().hex[:10]
    needs = f"Dove medewerker, gebarentolk bij overleg {marker}"
    description = f"Trilwekker en visuele brandmelder {marker}"
    note = f"Gehoorproblemen besproken met de leidinggevende {marker}"
    coaching = f"Oefenen met overleg via de tolk {marker}"
    label = f"Team leert basisgebaren {marker}"
    run = lambda cmd: system.ledger.execute(tenant, AGENCY, cmd)  # noqa: E731
    employer = uuid.UUID(run(c.RegisterEmployer(name="Drukkerij Harlingen B.V.")).body["id"])
    candidate = uuid.UUID(run(c.RegisterCandidate(
        full_name=f"Jelle Postma {marker}", date_of_birth=date(1988, 4, 2), target_group="wajong",
        competences=["drukwerk"], support_needs=needs)).body["id"])
    placement = uuid.UUID(run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=None, vacancy_id=None,
        starts_on=date(2026, 2, 1), hours_per_week=Decimal("32"), permanent_contract=False)).body["id"])
    run(c.AddChecklistItem(placement_id=placement, label=label, responsible="employer"))
    adjustment = run(c.RequestAdjustment(placement_id=placement, kind="tool", description=description,
                                         funder="uwv", requested_on=date(2026, 2, 3))).body["adjustment_id"]
    run(c.DeliverAdjustment(placement_id=placement, adjustment_id=adjustment, delivered_on=date(2026, 3, 2)))
    run(c.LogCheckIn(placement_id=placement, held_on=date(2026, 2, 20), with_whom="employee_and_employer",
                     note=note))
    run(c.LogCoachingSession(placement_id=placement, held_on=date(2026, 2, 21), hours=Decimal("2"), note=coaching))
    catch_up(system, tenant)
    secrets = (needs, description, note, coaching, label)

    support_id = PlacementSupport.id_for(placement)
    history = system.ledger.history(tenant, AGENCY, PlacementSupport, support_id)
    assert history[0]["data"]["labels"] == {"need-1": needs}
    dump = readable_dump(database_url)
    for secret in secrets:  # sealed from the start: never in clear text in the store or read models
        assert secret.encode() not in dump, secret

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        before = await support_rm.placement_summary(pool, tenant.id, placement, date(2026, 3, 5))
        run(c.EraseCandidate(candidate_id=candidate))
        catch_up(system, tenant)
        system.stores.database(tenant.database).person_keys.forget_cache()

        history = system.ledger.history(tenant, AGENCY, PlacementSupport, support_id)
        texts = {k: v for e in history for k, v in e["data"].items() if k in ("labels", "label", "description",
                                                                                "note")}
        assert texts == {"labels": {}, "label": "", "description": "", "note": ""}
        assert marker not in str(history)
        # What happened stays: the figures of the support read model are unchanged.
        assert await support_rm.placement_summary(pool, tenant.id, placement, date(2026, 3, 5)) == before
        assert before["items_total"] == 6 and before["adjustments_delivered"] == 1
    finally:
        await pool.close()
