"""Who sees which aggregate: the one visibility policy behind every load.

The agency and its auditors see everything of their tenant; an employer its
own employer record, contracts, vacancies and placements; a person their own
candidate record and placements; a contracting authority its own contracts and
the placements that count toward them. Some records are seen through another:
a contribution by whoever sees its contract, a match by the employer that sees
its vacancy, support by the person and their employer (never the authority).
What an actor may not see is answered as not found (service/unit.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.employer import Employer
from domain.matching import MatchPipeline
from domain.placement import Placement
from domain.support import PlacementSupport
from domain.vacancy import Vacancy
from service.actor import Actor

# Loads a related aggregate by id (None if there is none).
Related = Callable[[UUID], Any]


def visible(actor: Actor, agg: Any, related: Related) -> bool:
    role = actor.role
    if role in ("agency", "auditor"):
        return True
    if isinstance(agg, Contribution):
        contract = related(agg.contract_id)
        return contract is not None and visible(actor, contract, related)
    if isinstance(agg, MatchPipeline):
        vacancy = related(agg.vacancy_id)
        return role == "employer" and vacancy is not None and visible(actor, vacancy, related)
    if isinstance(agg, PlacementSupport):
        return ((role == "employer" and agg.employer_id == actor.employer_id)
                or (role == "employee" and agg.candidate_id == actor.candidate_id))
    if role == "employer":
        if isinstance(agg, Employer):
            return agg.id == actor.employer_id
        if isinstance(agg, (SocialReturnContract, Vacancy, Placement)):
            return agg.employer_id == actor.employer_id
        return False
    if role == "employee":
        if isinstance(agg, Candidate):
            return agg.id == actor.candidate_id
        if isinstance(agg, Placement):
            return agg.candidate_id == actor.candidate_id
        return False
    if role == "authority":
        if isinstance(agg, SocialReturnContract):
            return agg.contracting_authority == actor.organisation
        if isinstance(agg, Placement) and agg.contract_id is not None:
            contract = related(agg.contract_id)
            return (isinstance(contract, SocialReturnContract)
                    and contract.contracting_authority == actor.organisation)
        return False
    return False
