"""The public JSON API, /api/v1. Handlers turn HTTP into service calls; the
service layer checks permissions and visibility; errors map in web/errors.py."""
from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec
from litestar import Request, Response, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.placement import Placement
from domain.vacancy import Vacancy
from service import commands as c
from service.errors import InvalidInput
from service.ledger import Ledger
from web.api import schemas as s
from web.api import views
from web.api import answers as a
from web.api.auth import Principal, v1_router
from web.ids import parse_id
from web.outcomes import result_status

CORRELATION_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

sync = {"sync_to_thread": True}


def correlation_id(request: Request) -> str:
    """The caller's X-Request-ID if it is sane, else a new one (also set on the response)."""
    given = request.headers.get("x-request-id", "")
    return given if CORRELATION_RE.match(given) else str(uuid.uuid4())


def expected_version(request: Request) -> int | None:
    """`If-Match: <version>` (as in GET's "version"): refuse if the record moved on since."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    raw = raw.strip().strip('"').removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise InvalidInput("If-Match", "must be the record's version number, as returned by GET")
    return int(raw)


def run(ledger: Ledger, principal: Principal, request: Request, command: Any) -> Response:
    result = ledger.execute(
        principal.tenant, principal.actor, command,
        idempotency_key=request.headers.get("idempotency-key"),
        correlation_id=correlation_id(request),
        expected_version=expected_version(request),
    )
    headers = {"X-Event-Position": str(result.position)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(content=result.body, status_code=result_status(result), headers=headers)


# -- employers -----------------------------------------------------------------
@post("/employers", **sync)
def register_employer(data: JSONBody[s.EmployerIn], principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Created]:
    return run(ledger, principal, request, c.RegisterEmployer(name=data.name, org_id=data.org_id))


@patch("/employers/{employer_id:str}", **sync)
def link_employer_organisation(employer_id: FromPath[str], data: JSONBody[s.EmployerLinkIn],
                               principal: NamedDependency[Principal], request: Request,
                               ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """Share the employer record (its contracts, vacancies and placements) with an
    employer organisation of the platform, or move the share to another one."""
    return run(ledger, principal, request, c.LinkEmployerOrganisation(
        employer_id=parse_id("employer", employer_id), org_id=data.org_id))


@post("/employers/{employer_id:str}/contact-persons", **sync)
def add_contact_person(employer_id: FromPath[str], data: JSONBody[s.ContactPersonIn], principal: NamedDependency[Principal],
                       request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.AddContactPerson(
        employer_id=parse_id("employer", employer_id), name=data.name, email=data.email,
        phone=data.phone, role=data.role))


@get("/employers/{employer_id:str}", **sync)
def get_employer(employer_id: FromPath[str], principal: NamedDependency[Principal], ledger: NamedDependency[Ledger]) -> Response[a.EmployerRecord]:
    agg = ledger.get(principal.tenant, principal.actor, Employer, parse_id("employer", employer_id))
    return Response(views.employer_view(agg, principal.actor))


# -- contracts -----------------------------------------------------------------
@post("/contracts", **sync)
def register_contract(data: JSONBody[s.ContractIn], principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Created]:
    return run(ledger, principal, request, c.RegisterContract(
        employer_id=data.employer_id, title=data.title,
        contracting_authority=data.contracting_authority,
        contract_value_eur=data.contract_value_eur, obligation_percent=data.obligation_percent,
        starts_on=data.starts_on, ends_on=data.ends_on, awarded_on=data.awarded_on,
        rule_set=data.rule_set, rule_set_version=data.rule_set_version, accepted_by=data.accepted_by,
        employer_owner_name=data.employer_owner_name, employer_owner_email=data.employer_owner_email,
        agency_owner_name=data.agency_owner_name, agency_owner_email=data.agency_owner_email,
        target_placements=data.target_placements, target_retention_12m_percent=data.target_retention_12m_percent,
        authority_org_id=data.authority_org_id, reporting_period=data.reporting_period,
        obligation_basis=data.obligation_basis, wage_bill_eur=data.wage_bill_eur,
        obligation_fixed_eur=data.obligation_fixed_eur, bid_percent=data.bid_percent,
        obligation_cap_eur=data.obligation_cap_eur, pso_step=data.pso_step, pso_valid_until=data.pso_valid_until))


@patch("/contracts/{contract_id:str}", **sync)
def amend_contract(contract_id: FromPath[str], data: JSONBody[s.ContractAmendIn], principal: NamedDependency[Principal],
                   request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """Amend the terms given (If-Match: the version you read); the rest stay.
    `authority_org_id` shares the contract with that authority organisation,
    `"authority_org_id": null` with none (unlinks it)."""
    changes = {name: getattr(data, name) for name in data.__struct_fields__
               if getattr(data, name) is not None and name != "authority_org_id"}
    org = None if data.authority_org_id is msgspec.UNSET else data.authority_org_id
    return run(ledger, principal, request, c.AmendContract(
        contract_id=parse_id("contract", contract_id), changes=changes, authority_org_id=org,
        unlink_authority=data.authority_org_id is None))


@post("/contracts/{contract_id:str}/close", status_code=200, **sync)
def close_contract(contract_id: FromPath[str], data: JSONBody[s.CloseContractIn], principal: NamedDependency[Principal],
                   request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.CloseContract(
        contract_id=parse_id("contract", contract_id), closed_on=data.closed_on, reason=data.reason))


@post("/contracts/{contract_id:str}/turnover", status_code=200, **sync)
def report_turnover(contract_id: FromPath[str], data: JSONBody[s.TurnoverIn], principal: NamedDependency[Principal],
                    request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """The turnover invoiced in a period, for an obligation on invoiced turnover.
    Reporting the same period again corrects it: the new report replaces the
    earlier one (both stay in the contract's `turnover_reports`)."""
    return run(ledger, principal, request, c.ReportTurnover(
        contract_id=parse_id("contract", contract_id), period_start=data.period_start,
        period_end=data.period_end, amount_eur=data.amount_eur))


@get("/contracts/{contract_id:str}", **sync)
def get_contract(contract_id: FromPath[str], principal: NamedDependency[Principal], ledger: NamedDependency[Ledger]) -> Response[a.ContractRecord]:
    agg = ledger.get(principal.tenant, principal.actor, SocialReturnContract,
                     parse_id("contract", contract_id))
    return Response(views.contract_view(agg, principal.actor))


# -- candidates ----------------------------------------------------------------
@post("/candidates", **sync)
def register_candidate(data: JSONBody[s.CandidateIn], principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Created]:
    return run(ledger, principal, request, c.RegisterCandidate(
        full_name=data.full_name, date_of_birth=data.date_of_birth, target_group=data.target_group,
        competences=list(data.competences), support_needs=data.support_needs,
        benefit_since=data.benefit_since, status_holder=data.status_holder,
        qualifies_via=data.qualifies_via))


@post("/candidates/{candidate_id:str}/support-needs", status_code=200, **sync)
def state_support_needs(candidate_id: FromPath[str], data: JSONBody[s.SupportNeedsIn], principal: NamedDependency[Principal],
                        request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.StateSupportNeeds(
        candidate_id=parse_id("candidate", candidate_id), support_needs=data.support_needs))


@post("/candidates/{candidate_id:str}/erase", status_code=200, **sync)
def erase_candidate(candidate_id: FromPath[str], principal: NamedDependency[Principal], request: Request,
                    ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """GDPR erasure: the person's personal data in every event becomes unreadable
    (their key is destroyed); figures and the hash chain stay as they are."""
    return run(ledger, principal, request, c.EraseCandidate(candidate_id=parse_id("candidate", candidate_id)))


@get("/candidates/{candidate_id:str}", **sync)
def get_candidate(candidate_id: FromPath[str], principal: NamedDependency[Principal], request: Request,
                  ledger: NamedDependency[Ledger]) -> Response[a.CandidateRecord]:
    agg = ledger.get(principal.tenant, principal.actor, Candidate, parse_id("candidate", candidate_id))
    view = views.candidate_view(agg, principal.actor)
    if "support_needs" in view:
        ledger.record_special_category_read(principal.tenant, principal.actor, agg.id, ["support_needs"],
                                            "GET /api/v1/candidates/{id}", correlation_id(request))
    return Response(view)


# -- vacancies -----------------------------------------------------------------
@post("/vacancies", **sync)
def open_vacancy(data: JSONBody[s.VacancyIn], principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Created]:
    return run(ledger, principal, request, c.OpenVacancy(
        employer_id=data.employer_id, title=data.title,
        required_competences=list(data.required_competences),
        optional_competences=list(data.optional_competences), hours_per_week=data.hours_per_week,
        opened_on=data.opened_on, region=data.region))


@patch("/vacancies/{vacancy_id:str}", **sync)
def edit_vacancy(vacancy_id: FromPath[str], data: JSONBody[s.VacancyEditIn], principal: NamedDependency[Principal],
                 request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """Change an open vacancy: the fields given (If-Match: the version you read)."""
    region = None if data.region is msgspec.UNSET else (data.region or "")
    return run(ledger, principal, request, c.EditVacancy(
        vacancy_id=parse_id("vacancy", vacancy_id), title=data.title,
        required_competences=None if data.required_competences is None else list(data.required_competences),
        optional_competences=None if data.optional_competences is None else list(data.optional_competences),
        hours_per_week=data.hours_per_week, region=region))


@post("/vacancies/{vacancy_id:str}/close", status_code=200, **sync)
def close_vacancy(vacancy_id: FromPath[str], data: JSONBody[s.CloseVacancyIn], principal: NamedDependency[Principal],
                  request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.CloseVacancy(
        vacancy_id=parse_id("vacancy", vacancy_id), reason=data.reason))


@post("/vacancies/{vacancy_id:str}/matches", **sync)
def match_candidate(vacancy_id: FromPath[str], data: JSONBody[s.MatchIn], principal: NamedDependency[Principal], request: Request,
                    ledger: NamedDependency[Ledger]) -> Response[a.Matched]:
    return run(ledger, principal, request, c.MatchCandidate(
        vacancy_id=parse_id("vacancy", vacancy_id), candidate_id=data.candidate_id))


@get("/vacancies/{vacancy_id:str}", **sync)
def get_vacancy(vacancy_id: FromPath[str], principal: NamedDependency[Principal], ledger: NamedDependency[Ledger]) -> Response[a.VacancyRecord]:
    agg = ledger.get(principal.tenant, principal.actor, Vacancy, parse_id("vacancy", vacancy_id))
    return Response(views.vacancy_view(agg, principal.actor))


# -- placements ----------------------------------------------------------------
@post("/placements", **sync)
def start_placement(data: JSONBody[s.PlacementIn], principal: NamedDependency[Principal], request: Request, ledger: NamedDependency[Ledger]) -> Response[a.Created]:
    return run(ledger, principal, request, c.StartPlacement(
        candidate_id=data.candidate_id, employer_id=data.employer_id, contract_id=data.contract_id,
        vacancy_id=data.vacancy_id, starts_on=data.starts_on, hours_per_week=data.hours_per_week,
        permanent_contract=data.permanent_contract, planned_end_on=data.planned_end_on,
        responsible_user_id=data.responsible_user_id, employment_id=data.employment_id,
        arrangement=data.arrangement))


@post("/placements/{placement_id:str}/feedback", **sync)
def give_feedback(placement_id: FromPath[str], data: JSONBody[s.FeedbackIn], principal: NamedDependency[Principal], request: Request,
                  ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.GiveFeedback(
        placement_id=parse_id("placement", placement_id), score=data.score,
        from_role=data.from_role, comment=data.comment))


@post("/placements/{placement_id:str}/hours", status_code=200, **sync)
def change_hours(placement_id: FromPath[str], data: JSONBody[s.HoursIn], principal: NamedDependency[Principal], request: Request,
                 ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.ChangeHours(
        placement_id=parse_id("placement", placement_id), hours_per_week=data.hours_per_week,
        effective_on=data.effective_on))


@post("/placements/{placement_id:str}/extend", status_code=200, **sync)
def extend_placement(placement_id: FromPath[str], data: JSONBody[s.ExtendIn], principal: NamedDependency[Principal], request: Request,
                     ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.ExtendPlacement(
        placement_id=parse_id("placement", placement_id), until=data.until))


@post("/placements/{placement_id:str}/end", status_code=200, **sync)
def end_placement(placement_id: FromPath[str], data: JSONBody[s.EndIn], principal: NamedDependency[Principal], request: Request,
                  ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.EndPlacement(
        placement_id=parse_id("placement", placement_id), ends_on=data.ends_on, reason=data.reason))


@get("/placements/{placement_id:str}", **sync)
def get_placement(placement_id: FromPath[str], principal: NamedDependency[Principal], request: Request,
                  ledger: NamedDependency[Ledger]) -> Response[a.PlacementRecord]:
    ident = parse_id("placement", placement_id)
    agg, history = ledger.get_with_history(principal.tenant, principal.actor, Placement, ident)
    _log_comment_read(ledger, principal, request, agg, history, "GET /api/v1/placements/{id}")
    return Response(views.placement_view(agg, principal.actor, history))


def _log_comment_read(ledger: Ledger, principal: Principal, request: Request, placement: Placement,
                      history: list[dict[str, Any]], via: str) -> None:
    """Feedback comments can hold health notes about the person: their reading is logged."""
    if any(e["type"] == "FeedbackGiven" and e["data"].get("comment") for e in history):
        ledger.record_special_category_read(principal.tenant, principal.actor, placement.candidate_id,
                                            ["feedback comments"], via, correlation_id(request))


@get("/placements/{placement_id:str}/events", **sync)
def placement_events(placement_id: FromPath[str], principal: NamedDependency[Principal], request: Request,
                     ledger: NamedDependency[Ledger]) -> Response[a.PlacementEvents]:
    ident = parse_id("placement", placement_id)
    placement, events = ledger.get_with_history(principal.tenant, principal.actor, Placement, ident)
    _log_comment_read(ledger, principal, request, placement, events, "GET /api/v1/placements/{id}/events")
    return Response({"placement_id": placement_id, "events": events})


def api_router() -> Router:
    from web.api.list_routes import LIST_HANDLERS  # they read what this module defines

    return v1_router([*LIST_HANDLERS,
            register_employer, link_employer_organisation, add_contact_person, get_employer,
            register_contract, amend_contract, close_contract, report_turnover, get_contract,
            register_candidate, state_support_needs, get_candidate, erase_candidate,
            open_vacancy, edit_vacancy, close_vacancy, match_candidate, get_vacancy,
            start_placement, give_feedback, change_hours, extend_placement, end_placement,
            get_placement, placement_events,
        ], "api v1")
