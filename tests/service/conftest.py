"""Service-layer helpers: valid commands with Dutch example data, and a seeded tenant."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from infra.bootstrap import System
from infra.eventstore import Tenant
from service import commands as c
from service.actor import Actor


def register_contract(employer_id: UUID, **overrides: Any) -> c.RegisterContract:
    return c.RegisterContract(**{
        "employer_id": employer_id,
        "title": "Onderhoud openbare ruimte",
        "contracting_authority": "Gemeente Utrecht",
        "contract_value_eur": Decimal("1000000.00"),
        "obligation_percent": Decimal("5"),
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2027, 12, 31),
        "awarded_on": date(2024, 11, 15),
        # Version 1 pinned: the hand-worked figures of these tests are its rules.
        "rule_set": "utrecht-2024", "rule_set_version": 1,
        **overrides,
    })


def register_candidate(**overrides: Any) -> c.RegisterCandidate:
    return c.RegisterCandidate(**{
        "full_name": "Sanne Jansen",
        "date_of_birth": date(1990, 6, 15),
        "target_group": "doelgroepregister",
        "competences": ["Administratie", "Excel"],
        "support_needs": "Schriftelijke instructies, een vaste werkplek.",
        "benefit_since": date(2015, 1, 1),
        **overrides,
    })


def open_vacancy(employer_id: UUID, **overrides: Any) -> c.OpenVacancy:
    return c.OpenVacancy(**{
        "employer_id": employer_id,
        "title": "Administratief medewerker",
        "required_competences": ["Administratie"],
        "optional_competences": ["Excel"],
        "hours_per_week": Decimal("24"),
        **overrides,
    })


def start_placement(candidate_id: UUID, employer_id: UUID, contract_id: UUID | None = None,
                    vacancy_id: UUID | None = None, **overrides: Any) -> c.StartPlacement:
    return c.StartPlacement(**{
        "candidate_id": candidate_id,
        "employer_id": employer_id,
        "contract_id": contract_id,
        "vacancy_id": vacancy_id,
        "starts_on": date(2025, 2, 1),
        "hours_per_week": Decimal("24"),
        "permanent_contract": False,
        "planned_end_on": date(2025, 12, 31),
        **overrides,
    })


@dataclass(frozen=True)
class Seeded:
    """One employer with a contract, a candidate matched to its vacancy, and a placement."""

    tenant: Tenant
    employer: UUID
    contract: UUID
    candidate: UUID
    vacancy: UUID
    placement: UUID


def new_id(result: Any) -> UUID:
    assert result.created, result
    return UUID(result.body["id"])


def seed(system: System, tenant: Tenant, actor: Actor,
         employer_name: str = "Bouwbedrijf De Vries",
         candidate_name: str = "Sanne Jansen") -> Seeded:
    run = lambda cmd: system.ledger.execute(tenant, actor, cmd)  # noqa: E731
    employer = new_id(run(c.RegisterEmployer(name=employer_name)))
    contract = new_id(run(register_contract(employer)))
    candidate = new_id(run(register_candidate(full_name=candidate_name)))
    vacancy = new_id(run(open_vacancy(employer)))
    assert run(c.MatchCandidate(vacancy_id=vacancy, candidate_id=candidate)).created
    placement = new_id(run(start_placement(candidate, employer, contract, vacancy)))
    return Seeded(tenant, employer, contract, candidate, vacancy, placement)


def event_count(system: System, tenant: Tenant) -> int:
    return system.stores.for_tenant(tenant).recorder.max_notification_id() or 0


def actor(role: str, **kwargs: Any) -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role,
                 organisation=kwargs.pop("organisation", f"test-{role}"), **kwargs)


# Every command kind, aimed at a seeded tenant's ids.
EVERY_COMMAND: dict[str, Callable[[Seeded], Any]] = {
    "RegisterEmployer": lambda s: c.RegisterEmployer(name="Schoonmaakbedrijf Jansen"),
    "AddContactPerson": lambda s: c.AddContactPerson(
        employer_id=s.employer, name="Pieter de Vries", email="pieter@devries.nl",
        phone="+31 30 123 4567", role="HR-adviseur"),
    "RegisterContract": lambda s: register_contract(s.employer),
    "AmendContract": lambda s: c.AmendContract(contract_id=s.contract,
                                               changes={"title": "Groenonderhoud Leidsche Rijn"}),
    "CloseContract": lambda s: c.CloseContract(contract_id=s.contract, closed_on=date(2026, 1, 1),
                                               reason="Opgeleverd"),
    "RegisterCandidate": lambda s: register_candidate(full_name="Mohammed El Amrani"),
    "StateSupportNeeds": lambda s: c.StateSupportNeeds(candidate_id=s.candidate,
                                                       support_needs="Een rustige werkplek."),
    "OpenVacancy": lambda s: open_vacancy(s.employer, title="Magazijnmedewerker"),
    "MatchCandidate": lambda s: c.MatchCandidate(vacancy_id=s.vacancy, candidate_id=s.candidate),
    "CloseVacancy": lambda s: c.CloseVacancy(vacancy_id=s.vacancy, reason="Ingevuld"),
    "StartPlacement": lambda s: start_placement(s.candidate, s.employer, s.contract),
    "GiveFeedback": lambda s: c.GiveFeedback(placement_id=s.placement, score=4, from_role="agency",
                                             comment="Goed ingewerkt."),
    "ChangeHours": lambda s: c.ChangeHours(placement_id=s.placement, hours_per_week=Decimal("32"),
                                           effective_on=date(2025, 3, 1)),
    "ExtendPlacement": lambda s: c.ExtendPlacement(placement_id=s.placement, until=date(2026, 6, 30)),
    "EndPlacement": lambda s: c.EndPlacement(placement_id=s.placement, ends_on=date(2025, 6, 30),
                                             reason="contract_ended"),
}


@pytest.fixture
def seeded(system: System, tenant: Tenant, agency: Actor) -> Seeded:
    return seed(system, tenant, agency)

