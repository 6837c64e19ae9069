"""Support through the ledger: seeded at the start, roles per command,
visibility per employer and person, conflicts, contract owners and targets."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.contract import NO_TARGETS, SocialReturnContract
from domain.support import PlacementSupport
from infra.bootstrap import System
from infra.eventstore import Tenant
from service import commands as c
from service.actor import Actor
from service.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.service.conftest import Seeded, actor, event_count, new_id, register_contract, seed

TODAY = date.today()


def _support(system: System, s: Seeded, who: Actor) -> PlacementSupport:
    return system.ledger.get(s.tenant, who, PlacementSupport, PlacementSupport.id_for(s.placement))


def test_the_persons_stated_needs_become_the_checklist_when_the_placement_starts(
        system: System, seeded: Seeded, agency: Actor) -> None:
    support = _support(system, seeded, agency)
    assert [i["id"] for i in support.items] == ["tools_ready", "team_informed", "contact_person",
                                                "first_check_in", "need-1"]
    history = system.ledger.history(seeded.tenant, agency, PlacementSupport, support.id)
    assert history[0]["type"] == "SupportOpened"
    assert history[0]["data"]["labels"] == {"need-1": "Schriftelijke instructies, een vaste werkplek."}
    assert history[0]["metadata"]["role"] == "agency"


def test_the_employer_ticks_its_own_items_but_not_the_agencys(system: System, seeded: Seeded) -> None:
    employer = actor("employer", employer_id=seeded.employer)
    run = lambda cmd: system.ledger.execute(seeded.tenant, employer, cmd)  # noqa: E731
    assert run(c.TickChecklistItem(placement_id=seeded.placement, item_id="tools_ready")).created is False
    before = event_count(system, seeded.tenant)
    with pytest.raises(PermissionDenied):
        run(c.TickChecklistItem(placement_id=seeded.placement, item_id="first_check_in"))
    with pytest.raises(Conflict):
        run(c.TickChecklistItem(placement_id=seeded.placement, item_id="tools_ready"))
    with pytest.raises(InvalidInput) as err:
        run(c.TickChecklistItem(placement_id=seeded.placement, item_id="team_informed",
                                done_on=TODAY + timedelta(days=1)))
    assert err.value.field == "done_on"
    assert event_count(system, seeded.tenant) == before
    done = _support(system, seeded, employer).item("tools_ready")
    assert (done["done_on"], done["done_by"]) == (TODAY, "employer")
    # An item the employer adds is its own to do, whatever it asked.
    added = run(c.AddChecklistItem(placement_id=seeded.placement, label="Pas voor de zijingang",
                                   responsible="agency"))
    assert _support(system, seeded, employer).item(added.body["item_id"])["responsible"] == "employer"


def test_another_employer_cannot_see_or_change_this_placements_support(
        system: System, tenant: Tenant, seeded: Seeded, agency: Actor) -> None:
    other = seed(system, tenant, agency, employer_name="Schoonmaak Noord", candidate_name="Kees Bakker")
    stranger = actor("employer", employer_id=other.employer)
    with pytest.raises(NotFound):
        _support(system, seeded, stranger)
    before = event_count(system, tenant)
    with pytest.raises(NotFound):
        system.ledger.execute(tenant, stranger, c.TickChecklistItem(placement_id=seeded.placement,
                                                                    item_id="tools_ready"))
    assert event_count(system, tenant) == before


def test_the_person_sees_their_own_support_and_asks_for_adjustments_but_not_someone_elses(
        system: System, tenant: Tenant, seeded: Seeded, agency: Actor) -> None:
    me = actor("employee", candidate_id=seeded.candidate)
    result = system.ledger.execute(tenant, me, c.RequestAdjustment(
        placement_id=seeded.placement, kind="tool", description="Koptelefoon met ruisonderdrukking",
        funder="employer"))
    support = _support(system, seeded, me)
    # The person asks; who pays is decided by the agency.
    assert support.adjustment(result.body["adjustment_id"])["funder"] is None
    other = seed(system, tenant, agency, employer_name="Schoonmaak Noord", candidate_name="Kees Bakker")
    with pytest.raises(NotFound):
        system.ledger.get(tenant, me, PlacementSupport, PlacementSupport.id_for(other.placement))
    with pytest.raises(PermissionDenied):
        system.ledger.execute(tenant, me, c.LogCheckIn(placement_id=seeded.placement, held_on=TODAY,
                                                       with_whom="employee"))


def test_the_authority_does_not_see_support_and_the_auditor_cannot_change_it(
        system: System, seeded: Seeded) -> None:
    authority = actor("authority", organisation="Gemeente Utrecht")
    with pytest.raises(NotFound):
        _support(system, seeded, authority)
    auditor = actor("auditor")
    assert _support(system, seeded, auditor).placement_id == seeded.placement
    for command in (c.TickChecklistItem(placement_id=seeded.placement, item_id="tools_ready"),
                    c.LogCheckIn(placement_id=seeded.placement, held_on=TODAY, with_whom="employee"),
                    c.SetContractTargets(contract_id=seeded.contract, target_placements=3),
                    c.LogEmployerSupportActivity(employer_id=seeded.employer, kind="workshop",
                                                 topic="accessibility", held_on=TODAY, participants=3,
                                                 given_by="agency")):
        with pytest.raises(PermissionDenied):
            system.ledger.execute(seeded.tenant, auditor, command)


def test_an_adjustment_goes_from_request_to_funder_to_delivery_and_a_second_delivery_is_a_conflict(
        system: System, seeded: Seeded, agency: Actor) -> None:
    run = lambda cmd, who=agency: system.ledger.execute(seeded.tenant, who, cmd)  # noqa: E731
    adj = run(c.RequestAdjustment(placement_id=seeded.placement, kind="tool", description="Brailleleesregel",
                                  requested_on=date(2025, 2, 3))).body["adjustment_id"]
    with pytest.raises(Conflict):  # no funder named yet
        run(c.DeliverAdjustment(placement_id=seeded.placement, adjustment_id=adj))
    run(c.SetAdjustmentFunder(placement_id=seeded.placement, adjustment_id=adj, funder="uwv"))
    employer = actor("employer", employer_id=seeded.employer)
    run(c.DeliverAdjustment(placement_id=seeded.placement, adjustment_id=adj, delivered_on=date(2025, 3, 3)),
        employer)
    with pytest.raises(Conflict):
        run(c.DeliverAdjustment(placement_id=seeded.placement, adjustment_id=adj))
    with pytest.raises(InvalidInput) as err:
        run(c.SetAdjustmentFunder(placement_id=seeded.placement, adjustment_id="adj-9", funder="uwv"))
    assert err.value.field == "adjustment_id"
    assert _support(system, seeded, agency).adjustment(adj)["status"] == "delivered"


def test_check_ins_and_coaching_are_logged_and_ticking_after_the_end_is_a_conflict(
        system: System, seeded: Seeded, agency: Actor) -> None:
    run = lambda cmd: system.ledger.execute(seeded.tenant, agency, cmd)  # noqa: E731
    run(c.LogCheckIn(placement_id=seeded.placement, held_on=date(2025, 2, 14), with_whom="employee",
                     note="Gaat goed"))
    run(c.EndPlacement(placement_id=seeded.placement, ends_on=date(2025, 6, 30), reason="contract_ended"))
    # A session held while it ran can still be logged afterwards...
    run(c.LogCoachingSession(placement_id=seeded.placement, held_on=date(2025, 6, 20), hours=Decimal("2")))
    # ...one after the end cannot, and onboarding is over.
    with pytest.raises(InvalidInput) as err:
        run(c.LogCoachingSession(placement_id=seeded.placement, held_on=date(2025, 7, 1), hours=Decimal("2")))
    assert err.value.field == "held_on"
    with pytest.raises(Conflict):
        run(c.TickChecklistItem(placement_id=seeded.placement, item_id="team_informed"))
    support = _support(system, seeded, agency)
    assert (support.check_ins, support.coaching_sessions, support.last_check_in_on) == (1, 1, date(2025, 2, 14))


def test_a_contract_gets_owners_and_targets_at_registration_and_later(
        system: System, seeded: Seeded, agency: Actor) -> None:
    run = lambda cmd: system.ledger.execute(seeded.tenant, agency, cmd)  # noqa: E731
    contract_id = new_id(run(register_contract(
        seeded.employer, employer_owner_name="Marieke de Vries", employer_owner_email="m.devries@example.nl",
        target_placements=6, target_retention_12m_percent=Decimal("70"))))
    contract = system.ledger.get(seeded.tenant, agency, SocialReturnContract, contract_id)
    assert contract.owners == {"employer": {"name": "Marieke de Vries", "email": "m.devries@example.nl"}}
    assert contract.targets == {**NO_TARGETS, "placements": 6, "retention_12m_percent": Decimal("70")}
    run(c.NameContractOwner(contract_id=contract_id, side="agency", name="Youssef El Amrani",
                            email="youssef@agency.example"))
    run(c.SetContractTargets(contract_id=contract_id, target_placements=8))
    contract = system.ledger.get(seeded.tenant, agency, SocialReturnContract, contract_id)
    assert contract.owners["agency"]["name"] == "Youssef El Amrani"
    assert contract.targets == {**NO_TARGETS, "placements": 8}
    before = event_count(system, seeded.tenant)
    with pytest.raises(InvalidInput) as err:
        run(register_contract(seeded.employer, agency_owner_name="Zonder adres"))
    assert err.value.field == "agency_owner_email"  # the registration's own field
    assert event_count(system, seeded.tenant) == before


def test_an_employer_support_activity_is_the_agencys_to_log(system: System, seeded: Seeded, agency: Actor) -> None:
    employer = actor("employer", employer_id=seeded.employer)
    command = c.LogEmployerSupportActivity(employer_id=seeded.employer, kind="workshop",
                                           topic="inclusive_leadership", held_on=TODAY, participants=14,
                                           given_by="agency", title="Inclusief leidinggeven")
    with pytest.raises(PermissionDenied):
        system.ledger.execute(seeded.tenant, employer, command)
    result = system.ledger.execute(seeded.tenant, agency, command)
    assert (result.created, result.body["activity_id"]) == (True, "activity-1")
