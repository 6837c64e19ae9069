"""What the API shows of each aggregate, per role (data minimisation)."""
from __future__ import annotations

from typing import Any

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.employment import Employment
from domain.placement import Placement
from domain.vacancy import Vacancy
from service.actor import Actor

# Who may read a candidate's special-category data (support needs): the agency
# that supports them and the person themselves. Everyone else gets less.
SUPPORT_NEEDS_READERS = frozenset({"agency", "employee"})


def _common(agg: Any) -> dict[str, Any]:
    return {"id": agg.id, "version": agg.version, "created_on": agg.created_on,
            "modified_on": agg.modified_on}


def employer_view(e: Employer, actor: Actor) -> dict[str, Any]:
    return {**_common(e), "name": e.name, "contact_persons": list(e.contact_persons),
            # The employer organisation of the platform it is shared with (its name when linked).
            "org_id": e.org_id, "org_name": e.org_name}


def contract_view(k: SocialReturnContract, actor: Actor) -> dict[str, Any]:
    return {
        **_common(k), "employer_id": k.employer_id, "title": k.title,
        "contracting_authority": k.contracting_authority,
        # The authority organisation of the platform it is shared with (its name when linked).
        "authority_org_id": k.authority_org_id, "authority_name": k.authority_name,
        "contract_value_eur": k.contract_value_eur, "obligation_percent": k.obligation_percent,
        "obligation_eur": k.obligation_eur, "starts_on": k.starts_on, "ends_on": k.ends_on,
        "awarded_on": k.awarded_on, "rule_set": k.rule_set, "accepted_by": k.accepted_by,
        # The pinned rule set version (GET /api/v1/rule-sets/{name}/{version}) and its body's sha256.
        "rule_set_version": k.rule_set_version, "rule_set_sha256": k.rule_set_sha256,
        # The contract's own choice of "year" or "quarter" (null: its rule set's), and
        # the one its statements follow.
        "reporting_period": k.reporting_period, "reports_per": k.reports_per,
        "closed": k.is_closed,
        "closed_on": getattr(k, "closed_on", None),
        # Who answers for its social return (contact persons), and targets beyond euros.
        "owners": {side: dict(owner) for side, owner in k.owners.items()},
        "targets": dict(k.targets),
        # The obligation's terms and how it is reached (domain/obligation.py; turnover:
        # every period reported), and every turnover report, corrections included.
        "obligation_basis": k.obligation_basis, "wage_bill_eur": k.wage_bill_eur,
        "obligation_fixed_eur": k.obligation_fixed_eur, "bid_percent": k.bid_percent,
        "obligation_cap_eur": k.obligation_cap_eur, "pso_step": k.pso_step,
        "pso_valid_until": k.pso_valid_until, "obligation": k.obligation().as_dict(),
        "turnover_reports": k.turnover_history(),
    }



def candidate_view(p: Candidate, actor: Actor) -> dict[str, Any]:
    view = {
        **_common(p), "full_name": p.full_name, "date_of_birth": p.date_of_birth,
        "target_group": p.target_group, "qualifies_via": p.qualifies_via,
        "benefit_since": p.benefit_since, "status_holder": p.status_holder,
        "competences": list(p.competences),
    }
    if actor.role in SUPPORT_NEEDS_READERS:
        view["support_needs"] = p.support_needs
    return view


def vacancy_view(v: Vacancy, actor: Actor) -> dict[str, Any]:
    view = {
        **_common(v), "employer_id": v.employer_id, "title": v.title,
        "required_competences": list(v.required_competences),
        "optional_competences": list(v.optional_competences),
        "hours_per_week": v.hours_per_week, "status": v.status, "opened_on": v.opened_on,
        "region": v.region, "placement_id": getattr(v, "placement_id", None),
    }
    if actor.role in ("agency", "auditor"):
        view["matched_candidate_ids"] = list(v.matched_candidate_ids)
    return view


def placement_view(p: Placement, actor: Actor, history: list[dict[str, Any]]) -> dict[str, Any]:
    """`history` is the placement's event history (Ledger.history): feedback is read from it."""
    return {
        **_common(p), "candidate_id": p.candidate_id, "employer_id": p.employer_id,
        "contract_id": p.contract_id, "vacancy_id": p.vacancy_id, "starts_on": p.starts_on,
        "hours_per_week": p.hours_per_week, "hours_history": list(p.hours_history),
        "permanent_contract": p.permanent_contract, "planned_end_on": p.planned_end_on,
        # A placement started before arrangements existed was employment.
        "arrangement": getattr(p, "arrangement", "employment"),
        "ended_on": p.ended_on, "end_reason": p.end_reason, "active": p.is_active,
        "feedback_count": p.feedback_count,
        "feedback": [dict(e["data"]) for e in history if e["type"] == "FeedbackGiven"],
        **({"responsible_user_id": getattr(p, "responsible_user_id", None),
            "employment_id": getattr(p, "employment_id", None)} if actor.role == "agency" else {}),
    }


def employment_view(e: Employment) -> dict[str, Any]:
    return {**_common(e), "candidate_id": e.candidate_id, "kind": e.kind, "starts_on": e.starts_on,
            "planned_end_on": e.planned_end_on, "ended_on": e.ended_on, "end_reason": e.end_reason,
            "active": e.is_active, "secondments": list(e.placement_ids)}
