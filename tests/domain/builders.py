"""Valid aggregates with sensible defaults; a test overrides only what its
story is about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import json
from importlib import resources

from domain import Candidate, Employer, Placement, SocialReturnContract, Vacancy
from domain.valuation import PinnedRuleSet, RuleSet, pinned_rules, rule_set_sha256

TODAY = date(2025, 3, 1)


def an_employer(**overrides: Any) -> Employer:
    return Employer.register(**{"name": "Bouwbedrijf De Vries", **overrides})


def shipped(name: str = "utrecht-2024", version: int = 1) -> PinnedRuleSet:
    """A shipped rule set version as the platform's table gives it to pin
    (domain/rulesets/<name>.json is version 1, <name>.v<N>.json version N)."""
    file = f"{name}.json" if version == 1 else f"{name}.v{version}.json"
    body = json.loads(resources.files("domain.rulesets").joinpath(file).read_text("utf-8"))
    return PinnedRuleSet(name=name, version=version, sha256=rule_set_sha256(body), body=body)


def shipped_rules(name: str = "utrecht-2024", version: int = 1) -> RuleSet:
    """A shipped rule set version, parsed."""
    pinned = shipped(name, version)
    return pinned_rules(pinned.sha256, pinned.body)


def contract_terms(**overrides: Any) -> dict[str, Any]:
    return {
        "employer_id": uuid4(),
        "title": "Onderhoud openbare ruimte",
        "contracting_authority": "Gemeente Utrecht",
        "contract_value_eur": Decimal("1000000.00"),
        "obligation_percent": Decimal("5"),
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2027, 12, 31),
        "awarded_on": date(2024, 11, 15),
        "rule_set": shipped("utrecht-2024"),
        **overrides,
    }


def a_contract(**overrides: Any) -> SocialReturnContract:
    return SocialReturnContract.register(**contract_terms(**overrides))


def candidate_details(**overrides: Any) -> dict[str, Any]:
    return {
        "full_name": "Sanne Jansen",
        "date_of_birth": date(1990, 6, 15),
        "target_group": "doelgroepregister",
        "competences": ["Administratie", "Excel"],
        "support_needs": "Schriftelijke instructies, een vaste werkplek.",
        "benefit_since": date(2015, 1, 1),
        "today": TODAY,
        **overrides,
    }


def a_candidate(**overrides: Any) -> Candidate:
    return Candidate.register(**candidate_details(**overrides))


def a_vacancy(**overrides: Any) -> Vacancy:
    return Vacancy.open(
        **{
            "employer_id": uuid4(),
            "title": "Administratief medewerker",
            "required_competences": ["Administratie"],
            "optional_competences": ["Excel"],
            "hours_per_week": Decimal("24"),
            **overrides,
        }
    )


def a_placement(**overrides: Any) -> Placement:
    return Placement.start(
        **{
            "candidate_id": uuid4(),
            "employer_id": uuid4(),
            "contract_id": uuid4(),
            "vacancy_id": None,
            "starts_on": date(2025, 2, 1),
            "hours_per_week": Decimal("24"),
            "permanent_contract": False,
            "planned_end_on": date(2025, 12, 31),
            **overrides,
        }
    )


def event_names(aggregate: Any) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]
