"""Outcomes beyond euros (issue 16, /api/v1): team sessions and the
managers' survey, a contract's targets with their trend per quarter, and the
yearly impact report of an employer or a contract.

Every figure about people is `{value, withheld, people}`: `value` is null and
`withheld` true when fewer than 5 people stand behind it (domain/small_groups.py).
"""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

import msgspec
from asyncpg import Pool
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.contract import SocialReturnContract
from domain.employer import Employer
from projections import compliance, impact
from projections import support as support_rm
from service import commands as c
from service.ledger import Ledger
from web.api import answers as a
from web.api.contract import MinPosition, whole
from web.api.auth import Principal, v1_router
from web.api.read_routes import _fresh
from web.api.routes import run
from web.api.schemas import Body
from web.ids import parse_id
from web.impact import FIRST_YEAR, LAST_YEAR, impact_report, read_year, targets_with_trend

sync = {"sync_to_thread": True}
Short = Annotated[str, msgspec.Meta(max_length=60)]
READ_MODELS = (impact.NAME, support_rm.NAME, compliance.NAME)


class TeamSessionIn(Body):
    kind: Short
    held_on: date
    managers: int


class SurveyAnswerIn(Body):
    knowledge: int
    confidence: int
    would_hire_again: Short


@post("/employers/{employer_id:str}/team-sessions", **sync)
def hold_session(employer_id: FromPath[str], data: JSONBody[TeamSessionIn], principal: NamedDependency[Principal],
                 request: Request, ledger: NamedDependency[Ledger]) -> Response[a.TeamSessionChanged]:
    return run(ledger, principal, request, c.HoldTeamSession(
        employer_id=parse_id("employer", employer_id), kind=data.kind, held_on=data.held_on,
        managers=data.managers))


@post("/employers/{employer_id:str}/team-sessions/{session_id:str}/answers", **sync)
def answer_survey(employer_id: FromPath[str], session_id: FromPath[str], data: JSONBody[SurveyAnswerIn],
                  principal: NamedDependency[Principal], request: Request,
                  ledger: NamedDependency[Ledger]) -> Response[a.TeamSessionChanged]:
    return run(ledger, principal, request, c.AnswerTeamSurvey(
        employer_id=parse_id("employer", employer_id), session_id=session_id, knowledge=data.knowledge,
        confidence=data.confidence, would_hire_again=data.would_hire_again))


async def employer_report_data(ledger: Ledger, pool: Pool, principal: Any, employer_id: str,
                               year_raw: str | None) -> tuple[Employer, dict[str, Any]]:
    ident = parse_id("employer", employer_id)
    year = read_year(year_raw, date.today())
    # A visible employer (its own for an employer user; 404 for others and for authorities).
    employer = await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, Employer, ident)
    summary = await compliance.compliance_summary(pool, principal.tenant.id, date(year, 12, 31), employer_id=ident)
    contract_ids = [parse_id("contract", row["contract_id"]) for row in summary["contracts"]]
    return employer, await impact_report(pool, principal.tenant.id, year, employer_id=ident,
                                         contract_ids=contract_ids)


async def contract_report_data(ledger: Ledger, pool: Pool, principal: Any, contract_id: str,
                               year_raw: str | None) -> tuple[SocialReturnContract, dict[str, Any]]:
    ident = parse_id("contract", contract_id)
    year = read_year(year_raw, date.today())
    contract = await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, SocialReturnContract, ident)
    return contract, await impact_report(pool, principal.tenant.id, year, employer_id=contract.employer_id,
                                         contract_id=ident)


@get("/employers/{employer_id:str}/impact")
async def employer_impact(employer_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                          ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        year: whole("The year reported on; default last year", FIRST_YEAR, LAST_YEAR) = None, min_position: MinPosition = None) -> Response[a.ImpactReport]:
    """The employer's impact report of a year (`?year=`, default last year)."""
    headers = await _fresh(request, pool, principal, READ_MODELS)
    employer, report = await employer_report_data(ledger, pool, principal, employer_id,
                                                  request.query_params.get("year"))
    return Response({"employer_id": employer.id, **impact.plain(report)}, headers=headers)


@get("/contracts/{contract_id:str}/impact")
async def contract_impact(contract_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                          ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        year: whole("The year reported on; default last year", FIRST_YEAR, LAST_YEAR) = None, min_position: MinPosition = None) -> Response[a.ImpactReport]:
    """The contract's impact report of a year (`?year=`, default last year)."""
    headers = await _fresh(request, pool, principal, READ_MODELS)
    contract, report = await contract_report_data(ledger, pool, principal, contract_id,
                                                  request.query_params.get("year"))
    return Response({"contract_id": contract.id, **impact.plain(report)}, headers=headers)


@get("/contracts/{contract_id:str}/targets/trend")
async def target_trend(contract_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                       ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        min_position: MinPosition = None) -> Response[a.TargetTrend]:
    """Every kind of target: the target, what was achieved so far and the figure at each quarter's end."""
    ident = parse_id("contract", contract_id)
    contract = await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, SocialReturnContract, ident)
    headers = await _fresh(request, pool, principal, READ_MODELS)
    return Response(await targets_with_trend(pool, principal.tenant.id, contract, date.today()), headers=headers)


ROUTES = [hold_session, answer_survey, employer_impact, contract_impact, target_trend]


def impact_router() -> Router:
    return v1_router(ROUTES, "impact")
