"""Erasure by crypto-shredding: after a person is erased, no copy of their
personal data is readable anywhere in the database, while the figures and
the hash chain are exactly as before."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from domain.candidate import Candidate
from domain.contribution import Contribution
from infra import audit
from projections import compliance
from projections.writer import ProjectionRunner
from projections.registry import BY_NAME, PROJECTIONS
from service import commands as c
from service.actor import Actor
from service.errors import InvalidReference
from tests.audit.dump import pg_dump, readable_dump
from tests.projections.conftest import catch_up

AGENCY = Actor(user_id=uuid.uuid4(), role="agency", organisation="erasure-test")


async def test_an_erased_person_leaves_no_readable_trace_and_the_figures_stand(system, tenant, database_url):
    marker = uuid.uuid4().hex[:10]
    name = f"Ingrid Zwanenburg-{marker}"
    needs = f"Braille-leesregel en schermlezer NVDA {marker}"
    comment = f"Migraine-aanvallen besproken, rustige werkplek geregeld {marker}"
    run = lambda cmd: system.ledger.execute(tenant, AGENCY, cmd)  # noqa: E731
    employer = uuid.UUID(run(c.RegisterEmployer(name="Datapunt Harlingen B.V.")).body["id"])
    contract = uuid.UUID(run(c.RegisterContract(
        employer_id=employer, title="Digitalisering archief", contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("850000"), obligation_percent=Decimal("5"), starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31), awarded_on=date(2025, 12, 1), rule_set="utrecht-2024")).body["id"])
    candidate = uuid.UUID(run(c.RegisterCandidate(
        full_name=name, date_of_birth=date(1961, 3, 17), target_group="wia_wao",
        competences=["archivering"], support_needs=needs, status_holder=False)).body["id"])
    placement = uuid.UUID(run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=contract, vacancy_id=None,
        starts_on=date(2026, 2, 1), hours_per_week=Decimal("24"), permanent_contract=False)).body["id"])
    run(c.GiveFeedback(placement_id=placement, score=4, from_role="coach", comment=comment))
    catch_up(system, tenant)

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        before = await compliance.compliance_for_contract(pool, tenant.id, contract, date(2026, 12, 31))
        dump = readable_dump(database_url)
        # Stored events hold none of it in clear text even before erasure (sealed per person)...
        assert needs.encode() not in dump and comment.encode() not in dump
        # ...but the readable copies exist: the list read model has the name, the service decrypts.
        assert name.encode() in dump
        assert system.ledger.get(tenant, AGENCY, Candidate, candidate).support_needs == needs

        run(c.EraseCandidate(candidate_id=candidate))
        catch_up(system, tenant)

        dump = readable_dump(database_url)
        for secret in (name, needs, comment, marker):
            assert secret.encode() not in dump, f"{secret!r} still in the database"
        erased = system.ledger.get(tenant, AGENCY, Candidate, candidate)
        assert (erased.full_name, erased.support_needs, erased.date_of_birth) == ("[erased]", "", None)
        history = system.ledger.history(tenant, AGENCY, Candidate, candidate)
        assert history[0]["data"]["full_name"] == "[erased]"  # replays read the erased values

        # The figures are exactly as before, live and after a rebuild from the events,
        # and the chain still verifies: the stored bytes did not change.
        assert await compliance.compliance_for_contract(pool, tenant.id, contract, date(2026, 12, 31)) == before
        ProjectionRunner(system.stores.database(tenant.database), BY_NAME["compliance"]).rebuild(tenant)
        assert await compliance.compliance_for_contract(pool, tenant.id, contract, date(2026, 12, 31)) == before
        db = system.stores.database(tenant.database)
        assert audit.verify_tenant(system.stores.database("default"), db, tenant).ok
    finally:
        await pool.close()

    # An erased person cannot be placed again.
    with pytest.raises(InvalidReference) as err:
        run(c.StartPlacement(candidate_id=candidate, employer_id=employer, contract_id=None, vacancy_id=None,
                             starts_on=date(2026, 6, 1), hours_per_week=Decimal("24"), permanent_contract=False))
    assert err.value.field == "candidate_id"


async def test_a_dump_after_erasure_holds_nothing_of_the_person_even_decoded(system, tenant, database_url):
    """The name, login e-mail, competences, region, support
    needs and feedback about an erased person are in no table of a dump, the
    stored events' data decoded; matching still works on sealed competences."""
    from domain.matching import VacancyNeeds
    from projections import matching

    marker = uuid.uuid4().hex[:10]
    name, email = f"Fenna Bakker {marker}", f"fenna.{marker}@example.org"
    competence, region = f"Heftruck-{marker}", f"Leeuwarden-{marker}"
    needs, comment = f"Dyslexie, voorleessoftware {marker}", f"Rugklachten besproken {marker}"
    correlation = f"dump-check-{uuid.uuid4().hex}"  # not personal: stays
    run = lambda cmd, **kw: system.ledger.execute(tenant, AGENCY, cmd, **kw)  # noqa: E731
    employer = uuid.UUID(run(c.RegisterEmployer(name="Transport Friesland B.V.")).body["id"])
    contract = uuid.UUID(run(c.RegisterContract(
        employer_id=employer, title="Vervoer Friesland", contracting_authority="Gemeente Leeuwarden",
        contract_value_eur=Decimal("400000"), obligation_percent=Decimal("5"), starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31), awarded_on=date(2025, 12, 1), rule_set="utrecht-2024")).body["id"])
    candidate = uuid.UUID(run(c.RegisterCandidate(
        full_name=name, date_of_birth=date(1979, 5, 4), target_group="doelgroepregister",
        competences=[competence, "logistiek"], support_needs=needs), correlation_id=correlation).body["id"])
    run(c.StateAvailability(candidate_id=candidate, hours_per_week=Decimal("24"), available_from=date(2026, 3, 1),
                            region=region))
    system.registry.create_user(tenant, email, "employee", candidate_id=candidate, password="a long password")
    placement = uuid.UUID(run(c.StartPlacement(
        candidate_id=candidate, employer_id=employer, contract_id=contract, vacancy_id=None,
        starts_on=date(2026, 3, 2), hours_per_week=Decimal("8"), permanent_contract=False)).body["id"])
    run(c.GiveFeedback(placement_id=placement, score=3, from_role="coach", comment=comment))
    catch_up(system, tenant)
    # The valuation in words names the person's target group and age: sealed too.
    contribution = Contribution.id_for_placement(placement)
    valued = system.stores.for_tenant(tenant).tenant_recorder.select_events(contribution)[-1]
    assert valued.topic.endswith("ContributionValued") and b"doelgroepregister" not in bytes(valued.state)
    assert "doelgroepregister" in system.ledger.get(tenant, AGENCY, Contribution, contribution).valuation["reason"]

    wanted = VacancyNeeds(required_competences=(competence,), optional_competences=(), hours_per_week=Decimal("8"),
                          region=region)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        # Matching works on the sealed competences and region (opened for matching only).
        found = await matching.suggestions(pool, tenant.id, wanted)
        assert [s.candidate_id for s in found] == [candidate] and found[0].score == 100

        # The search reads the stored events: their metadata is found only decoded.
        assert correlation.encode() not in pg_dump(database_url)
        dump = readable_dump(database_url)
        assert correlation.encode() in dump
        # Sealed in the events from the start; the read models hold what the lists show.
        events_only = b"\n".join(line for line in dump.split(b"\n") if b"_meta" in line)
        for secret in (needs, comment, competence, region):
            assert secret.encode() not in events_only, secret
        assert competence.encode() in dump and email.encode() in dump

        run(c.EraseCandidate(candidate_id=candidate))
        catch_up(system, tenant)
        assert await matching.suggestions(pool, tenant.id, wanted) == []
    finally:
        await pool.close()

    dump = readable_dump(database_url)
    for secret in (name, email, competence, region, needs, comment, marker):
        assert secret.encode() not in dump, f"{secret!r} still in the database"
    assert correlation.encode() in dump  # the events themselves are all still there
    system.stores.forget(tenant.id)
    assert system.ledger.get(tenant, AGENCY, Contribution, contribution).valuation["reason"] == "[erased]"
    # Rebuilt from the events, the read models hold nothing of theirs either.
    for projection in PROJECTIONS:
        ProjectionRunner(system.stores.database(tenant.database), projection).rebuild(tenant)
    assert marker.encode() not in readable_dump(database_url)


def test_events_stored_before_competences_were_sealed_still_replay_and_erase(system, tenant, monkeypatch):
    """Older versions stored competences and availability in clear. Those events
    replay as they are, feed matching, and read without failing after erasure
    (their bytes are hashed into the chain and stay: see docs/security.md)."""
    from infra import personal_data

    old = personal_data.PERSONAL_FIELDS["CandidateRegistered"]
    monkeypatch.setitem(personal_data.PERSONAL_FIELDS, "CandidateRegistered",
                        (old[0], tuple(f for f in old[1] if f != "competences")))
    monkeypatch.delitem(personal_data.PERSONAL_FIELDS, "AvailabilityStated")
    run = lambda cmd: system.ledger.execute(tenant, AGENCY, cmd)  # noqa: E731
    candidate = uuid.UUID(run(c.RegisterCandidate(
        full_name="Klaas Wijnja", date_of_birth=date(1970, 2, 2), target_group="wia_wao",
        competences=["timmeren"], support_needs="")).body["id"])
    run(c.StateAvailability(candidate_id=candidate, hours_per_week=Decimal("16"), available_from=date(2026, 1, 5),
                            region="Drachten"))
    monkeypatch.undo()
    system.stores.forget(tenant.id)  # replay from the stored events, not from the cache
    stored = system.stores.for_tenant(tenant).tenant_recorder.select_events(candidate)
    assert b'"region":"Drachten"' in bytes(stored[1].state)  # the old shape, in clear

    fresh = system.ledger.get(tenant, AGENCY, Candidate, candidate)
    assert (fresh.competences, fresh.region, fresh.hours_available) == (["timmeren"], "Drachten", Decimal("16"))
    catch_up(system, tenant)

    run(c.EraseCandidate(candidate_id=candidate))
    system.stores.forget(tenant.id)
    erased = system.ledger.get(tenant, AGENCY, Candidate, candidate)
    assert erased.full_name == "[erased]" and erased.competences == [] and erased.region is None
    assert [e["type"] for e in system.ledger.history(tenant, AGENCY, Candidate, candidate)] == [
        "CandidateRegistered", "AvailabilityStated", "CandidateErased"]
    for projection in PROJECTIONS:
        ProjectionRunner(system.stores.database(tenant.database), projection).rebuild(tenant)
