"""The composite pages, built from their sections: the placement page
(feedback, hours/end/extend, duties, support, responsible), the contract page
(contributions, owners and targets) and the employer page (contacts, support
activities, pipeline).

Each section's loader lives with its feature (web/pages/duties.py,
support.py, responsible.py, matching.py) and takes the state of its own form
(a `FormState`, after a refused or saved change). This module imports the
sections; the sections never import it nor each other. A feature's form that
answers with the whole page gets the page's renderer as a dependency by name
(`placement_page`, `contract_page`, `employer_page`: web/pages/__init__.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response

from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.placement import Placement
from domain.values import END_REASONS, SOCIAL_ENTERPRISE_REGISTERS
from projections import compliance, directory
from service import commands as c
from service.handlers.placements import FEEDBACK_AS
from web.ids import parse_id
from web.pages import charts, documents, duties, impact, matching, outcomes, responsible, statements, support
from web.pages.answer import FormState
from web.pages.common import (
    PageServices,
    get as get_aggregate,
    get_with_history,
    may,
    new_idempotency_key,
    record_special_category_read,
)
from web.pages.placements import HISTORY_SHOWN, SCORES
from web.pages.render import page
from web.pages.viewer import Viewer

NO_FORMS: Mapping[str, FormState] = {}


def shared_by(viewer: Viewer) -> str:
    """For a platform organisation's user (working as the agency's partner
    role: web/pages/viewer.py), the agency that shares the record; else ""."""
    return viewer.tenant.name if viewer.actor.org_id is not None and viewer.tenant is not None else ""


# -- the placement page ------------------------------------------------------------------

def _feedback(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e["data"], "recorded_at": e["metadata"].get("recorded_at") or e["occurred_at"]}
            for e in events if e["type"] == "FeedbackGiven"][::-1]


async def placement_context(services: PageServices, request: Request, viewer: Viewer, ident: UUID, *,
                            history_page: int = 1,
                            sections: bool = True, forms: Mapping[str, FormState] = NO_FORMS) -> dict[str, Any]:
    """What the page shows; of the history, one page of HISTORY_SHOWN events
    (1: the newest), read with one visibility check. `sections=False` for an
    answer that renders the feedback or timeline block only: the other
    sections (duties, support) are not read. `forms`: the state of a form, by
    section ("placement" for the page's own forms: feedback, hours, end,
    extend; "duties", "support", "responsible")."""
    placement: Placement
    placement, events = await get_with_history(services, viewer, Placement, ident, HISTORY_SHOWN,
                                               (history_page - 1) * HISTORY_SHOWN)
    names = await directory.names(services.pool, viewer.tenant.id,
                                  [placement.candidate_id, placement.employer_id, placement.contract_id])
    feedback_as = sorted(FEEDBACK_AS.get(viewer.role, ()))
    if any(e["type"] == "FeedbackGiven" and e["data"].get("comment") for e in events):
        # Feedback comments can hold health notes about the person.
        await record_special_category_read(services, request, viewer, placement.candidate_id, ["feedback comments"])
    own = forms.get("placement") or FormState()
    return {
        "placement": placement, "events": events, "feedback": _feedback(events),
        "events_total": placement.version, "feedback_total": placement.feedback_count,
        "history_page": history_page, "history_first": events[0]["version"] if events else 0,
        "history_last": events[-1]["version"] if events else 0,
        "candidate_name": names.get(placement.candidate_id, ""),
        "employer_name": names.get(placement.employer_id, ""),
        "contract_title": names.get(placement.contract_id, "") if placement.contract_id else "",
        # Links to pages the viewer may open.
        "links_candidate": viewer.role in ("agency", "auditor", "employee"),
        "links_contract": viewer.role in ("agency", "auditor", "employer"),
        "can_feedback": may(viewer, c.GiveFeedback), "feedback_as": feedback_as, "scores": SCORES,
        "can_change": may(viewer, c.ChangeHours) and placement.is_active,
        "can_end": may(viewer, c.EndPlacement) and placement.is_active,
        "can_extend": may(viewer, c.ExtendPlacement) and placement.is_active,
        "end_reasons": END_REASONS, "today": date.today(), "errors": dict(own.errors), "values": dict(own.values),
        "idempotency": new_idempotency_key(), "saved": own.saved, "shared_by": shared_by(viewer),
        **(await _placement_sections(services, request, viewer, placement, forms) if sections else {}),
    }


async def _placement_sections(services: PageServices, request: Request, viewer: Viewer, placement: Placement,
                              forms: Mapping[str, FormState]) -> dict[str, Any]:
    return {
        # Sickness and the legal employer's duties (the agency only).
        **(await duties.placement_section(services, request, viewer, placement, forms.get("duties"))),
        # Support that follows the person (not the authority's).
        **(await support.placement_section(services, request, viewer, placement, forms.get("support"))),
        # Who at the agency looks after it (the agency only).
        **(await responsible.placement_section(services, viewer, placement, forms.get("responsible"))),
        # Progression and the person's own check-ins (not the authority's).
        **(await outcomes.placement_section(services, request, viewer, placement, forms.get("outcomes"))),
    }


async def placement_page(services: PageServices, request: Request, viewer: Viewer, ident: UUID, *,
                         forms: Mapping[str, FormState] = NO_FORMS, status: int = 200, history_page: int = 1,
                         block: str | None = None) -> Response:
    """placement.html, or one of its blocks (then the sections are not read)."""
    context = await placement_context(services, request, viewer, ident, history_page=history_page,
                                      sections=block is None,
                                      forms=forms)
    return page(services.templates, request, "placement.html", context, block=block, status=status)


# -- the contract page -----------------------------------------------------------------------

def _terms(contract: SocialReturnContract) -> dict[str, str]:
    """The amendable terms as the amend form shows them."""
    return {"title": contract.title, "contracting_authority": contract.contracting_authority,
            "contract_value_eur": str(contract.contract_value_eur),
            "obligation_percent": str(contract.obligation_percent.normalize()),
            "starts_on": contract.starts_on.isoformat(), "ends_on": contract.ends_on.isoformat(),
            "authority_org_id": str(contract.authority_org_id or ""),
            "reporting_period": contract.reporting_period or "",
            # The obligation's terms (empty: none; an empty field leaves the term as it is).
            "obligation_basis": contract.obligation_basis,
            **{name: "" if getattr(contract, name) is None else str(getattr(contract, name))
               for name in ("wage_bill_eur", "obligation_fixed_eur", "bid_percent", "obligation_cap_eur",
                            "pso_step", "pso_valid_until")}}


async def contract_page(services: PageServices, request: Request, viewer: Viewer, contract_id: str, *,
                        forms: Mapping[str, FormState] = NO_FORMS, status: int = 200) -> Response:
    """contract.html. `forms`: "contract" for the page's own forms (its `name`
    is the form the errors and values belong to: several share field names,
    such as description), "owners" for the owners and targets section."""
    ident = parse_id("contract", contract_id)
    contract: SocialReturnContract = await get_aggregate(services, viewer, SocialReturnContract, ident)
    today = date.today()
    figures = await compliance.compliance_for_contract(services.pool, viewer.tenant.id, ident, today)
    contributions = await compliance.contributions_for_contract(services.pool, viewer.tenant.id, ident, today)
    placements: list[dict] = []
    if viewer.role in ("agency", "auditor", "employer"):
        placements = await directory.placements(services.pool, viewer.tenant.id, contract_id=ident,
                                                **({"employer_id": viewer.actor.employer_id}
                                                   if viewer.role == "employer" else {}))
    names = await directory.names(services.pool, viewer.tenant.id, [contract.employer_id])
    # Period statements (web/pages/statements.py): once one is submitted, its lines are decided, not the
    # contributions one by one.
    statements_section = await statements.contract_section(services, request, viewer, contract,
                                                           forms.get("statements"))
    decides = (viewer.role == contract.accepted_by and may(viewer, c.AcceptContribution)
               and not statements_section["statements_section"]["reports_by_statements"])
    own = forms.get("contract") or FormState()
    return page(services.templates, request, "contract.html", {
        "shared_by": shared_by(viewer),
        "contract": contract, "employer_name": names.get(contract.employer_id, ""),
        "figures": figures, "contributions": contributions, "placements": placements,
        "placement_names": {str(p["placement_id"]): p["candidate_name"] or "" for p in placements},
        "chart": charts.quarter_chart(figures["quarters"]) if figures else None,
        "decides": decides, "errors": dict(own.errors), "bar": charts.progress, "today": today,
        "active": own.name, "values": dict(own.values), "idempotency": new_idempotency_key(),
        "can_report": may(viewer, c.ReportOtherActivity) and not contract.is_closed,
        "can_amend": may(viewer, c.AmendContract) and not contract.is_closed,
        "can_close": may(viewer, c.CloseContract) and not contract.is_closed,
        # An obligation on invoiced turnover: its reports, and the form to report a period.
        "turnover": contract.turnover_history() if contract.obligation_basis == "invoiced_turnover" else None,
        "can_report_turnover": may(viewer, c.ReportTurnover) and contract.obligation_basis == "invoiced_turnover",
        "registers": SOCIAL_ENTERPRISE_REGISTERS, "terms": _terms(contract),
        # Owners and targets beyond euros (web/pages/support.py).
        **(await support.contract_section(services, request, viewer, contract, forms.get("owners"))),
        # The targets' trend per quarter (web/pages/impact.py).
        **(await impact.contract_targets_section(services, request, viewer, contract)),
        # Progression and employee satisfaction, withheld below 5 people (web/pages/outcomes.py).
        **(await outcomes.figures_section(services, viewer, contract_id=ident)),
        # The contributions' documents (web/pages/documents.py).
        **(await documents.contract_section(services, viewer, contributions, forms.get("documents"))),
        **statements_section,
    }, status=status)


# -- the employer page -----------------------------------------------------------------------

async def employer_page(services: PageServices, request: Request, viewer: Viewer, employer_id: str, *,
                        forms: Mapping[str, FormState] = NO_FORMS, status: int = 200) -> Response:
    """employer.html: its contracts, vacancies, placements and contact persons
    (`forms`: "employer"), with the sections of other features: support
    activities ("activities") and the pipeline, each left out for a viewer it
    is not meant for."""
    ident = parse_id("employer", employer_id)
    employer: Employer = await get_aggregate(services, viewer, Employer, ident)  # own only, else 404
    tenant = viewer.tenant.id
    loaded = [("_employer_support.html",
               await support.employer_section(services, request, viewer, employer, forms.get("activities"))),
              ("_employer_impact.html",
               await impact.employer_section(services, request, viewer, employer, forms.get("impact"))),
              ("_employer_pipeline.html", await matching.employer_section(services, viewer, employer))]
    own = forms.get("employer") or FormState()
    link = forms.get("organisation") or FormState(values={"org_id": str(employer.org_id or "")})
    return page(services.templates, request, "employer.html", {
        "employer": employer,
        "contracts": await directory.contracts(services.pool, tenant, employer_id=ident),
        "vacancies": await directory.vacancies(services.pool, tenant, employer_id=ident),
        "placements": await directory.placements(services.pool, tenant, employer_id=ident),
        "sees_contacts": viewer.role in CONTACT_READERS,
        "can_add_contact": may(viewer, c.AddContactPerson),
        "can_open_vacancy": may(viewer, c.OpenVacancy), "can_register_contract": may(viewer, c.RegisterContract),
        "sections": [(template, section) for template, section in loaded if section is not None],
        "values": dict(own.values), "errors": dict(own.errors),
        "can_link": may(viewer, c.LinkEmployerOrganisation),
        "link_values": dict(link.values), "link_errors": dict(link.errors),
        "idempotency": new_idempotency_key(),
        # Progression and employee satisfaction, withheld below 5 people (web/pages/outcomes.py).
        **(await outcomes.figures_section(services, viewer, employer_id=ident)),
    }, status=status)


# Contact persons' names, e-mail addresses and phone numbers: for the people
# who work with them, not for the auditor (who checks figures and history).
CONTACT_READERS = frozenset({"agency", "employer"})

# The renderers the features' forms get by name (web/pages/__init__.py).
PAGES = {"placement_page": placement_page, "contract_page": contract_page, "employer_page": employer_page}
