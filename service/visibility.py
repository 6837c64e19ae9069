"""Who sees which aggregate: the one visibility policy behind every load.

The agency and its auditors see everything of their tenant; an employer its
own employer record, contracts, vacancies and placements; a person their own
candidate record and placements; a contracting authority its own contracts and
the placements that count toward them. Some records are seen through another:
a contribution or a period statement by whoever sees its contract, a document by whoever sees its
record (an employer only documents about no person), a match by the employer that sees
its vacancy, support by the person and their employer (never the authority); the
employee's own check-ins by the person, and by their employer only when the
person chose to share them (domain/voice.py).
What an actor may not see is answered as not found (service/unit.py).

Contracting authorities and employers come in two kinds of user. A user of a
platform organisation (`actor.org_id`) sees what the agency linked to that
organisation: a contract whose `authority_org_id` is it, an employer record
whose `org_id` is it, and what hangs under those as below. A user inside the
agency's tenant (the older path) sees contracts by the exact free-text
`contracting_authority` and the employer record named on the user.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.document import Document
from domain.employer import Employer
from domain.matching import MatchPipeline
from domain.placement import Placement
from domain.statement import Statement
from domain.support import PlacementSupport
from domain.vacancy import Vacancy
from domain.voice import EmployeeVoice
from service.actor import Actor

# Loads a related aggregate by id (None if there is none).
Related = Callable[[UUID], Any]


def visible(actor: Actor, agg: Any, related: Related) -> bool:
    role = actor.role
    if role in ("agency", "auditor"):
        return True
    if isinstance(agg, (Contribution, Statement)):
        contract = related(agg.contract_id)
        return contract is not None and visible(actor, contract, related)
    if isinstance(agg, Document):
        # Whoever sees the record sees its evidence; an employer only what is
        # about no person (never a payslip or a target-group declaration).
        record = related(agg.record_id)
        if record is None or not visible(actor, record, related):
            return False
        return role == "authority" or (role == "employer" and not agg.is_about_a_person)
    if isinstance(agg, MatchPipeline):
        vacancy = related(agg.vacancy_id)
        return role == "employer" and vacancy is not None and visible(actor, vacancy, related)
    if isinstance(agg, EmployeeVoice):
        # The employee's own check-ins: the employer only when the employee
        # chose to share them individually (else figures from 5 or more people).
        return ((role == "employee" and agg.candidate_id == actor.candidate_id)
                or (role == "employer" and agg.shared_individually and _employs(actor, agg.employer_id, related)))
    if isinstance(agg, PlacementSupport):
        return ((role == "employer" and _employs(actor, agg.employer_id, related))
                or (role == "employee" and agg.candidate_id == actor.candidate_id))
    if role == "employer":
        if isinstance(agg, Employer):
            return agg.org_id == actor.org_id if actor.org_id is not None else agg.id == actor.employer_id
        if isinstance(agg, (SocialReturnContract, Vacancy, Placement)):
            return _employs(actor, agg.employer_id, related)
        return False
    if role == "employee":
        if isinstance(agg, Candidate):
            return agg.id == actor.candidate_id
        if isinstance(agg, Placement):
            return agg.candidate_id == actor.candidate_id
        return False
    if role == "authority":
        if isinstance(agg, SocialReturnContract):
            return _authority_of(actor, agg)
        if isinstance(agg, Placement) and agg.contract_id is not None:
            contract = related(agg.contract_id)
            return isinstance(contract, SocialReturnContract) and _authority_of(actor, contract)
        return False
    return False


def _employs(actor: Actor, employer_id: UUID | None, related: Related) -> bool:
    """Whether the employer record is the employer actor's own: linked to its
    organisation, or (a user in the tenant) the record named on the user."""
    if employer_id is None:
        return False
    if actor.org_id is None:
        return employer_id == actor.employer_id
    employer = related(employer_id)
    return isinstance(employer, Employer) and employer.org_id == actor.org_id


def _authority_of(actor: Actor, contract: SocialReturnContract) -> bool:
    """Whether the authority actor decides on this contract: linked to its
    organisation, or (a user in the tenant) named by the exact free text."""
    if actor.org_id is not None:
        return contract.authority_org_id == actor.org_id
    return contract.contracting_authority == actor.organisation
