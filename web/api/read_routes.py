"""Figures from the read models (asyncpg): compliance, contributions, retention.

`?min_position=N` (the X-Event-Position a command returned) makes the query
wait, at most two seconds, until the projections include that command; if
they do not in time the answer says so in `X-Projection-Stale: true`.
"""
from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from asyncpg import Pool
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from domain.contract import SocialReturnContract
from domain.employer import Employer
from projections import access_log, compliance, retention
from domain.errors import DomainError
from domain.values import WHOLE_MAX, parse_date, parse_moment, parse_whole
from projections.reader import position_known_at, wait_for_position
from projections.writer import ProjectionRunner
from projections.registry import BY_NAME
from service import commands as c
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.ledger import Ledger
from web.api import schemas as s
from web.api import answers as a
from web.api.contract import AsOf, KnownAt, MinPosition, day, error_spec, whole
from web.api.auth import Principal, v1_router
from web.api.routes import run
from web.ids import parse_id

FIGURE_READERS = frozenset({"agency", "auditor", "employer", "authority"})


def query_date(raw: str, field: str) -> date:
    """A date query parameter, bounded as every date is (domain.values)."""
    try:
        return parse_date(raw, field)
    except DomainError as e:
        raise InvalidInput(e.field, str(e)) from None


def query_whole(raw: str, field: str, minimum: int = 0, maximum: int = WHOLE_MAX) -> int:
    try:
        return parse_whole(raw, field, minimum, maximum)
    except DomainError as e:
        raise InvalidInput(e.field, str(e)) from None


def _as_of(raw: str | None) -> date:
    if raw is None or raw == "":
        return date.today()
    return query_date(raw, "as_of")


def _known_at(raw: str | None, field: str = "known_at") -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_moment(raw, field)
    except DomainError as e:
        raise InvalidInput(e.field, str(e)) from None


async def _as_known(request: Request, ledger: Ledger, principal: Principal, projection: str) -> tuple[int | None, dict]:
    """(generation, extra response fields) for ?known_at=: the figures as they
    were known then, projected from the events recorded up to that moment."""
    moment = _known_at(request.query_params.get("known_at"))
    if moment is None:
        return None, {}
    tenant = principal.tenant
    database = ledger.stores.database(tenant.database)
    position = await asyncio.to_thread(position_known_at, database, tenant, moment)
    gen = await asyncio.to_thread(ProjectionRunner(database, BY_NAME[projection]).as_of, tenant, position)
    return gen, {"known_at": moment.isoformat(), "known_position": position}


def _min_position(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    return query_whole(raw, "min_position")  # the X-Event-Position of a command


async def _fresh(request: Request, pool: Pool, principal: Principal, names: tuple[str, ...]) -> dict[str, str]:
    position = _min_position(request.query_params.get("min_position"))
    if position is None:
        return {}
    ok = await wait_for_position(pool, principal.tenant.id, names, position)
    return {} if ok else {"X-Projection-Stale": "true"}


def _may_see_contract(principal: Principal, row: dict) -> bool:
    actor = principal.actor
    if actor.org_id is not None:
        return True  # an organisation's user: decided on the contract itself (_visible_contract)
    if actor.role in ("agency", "auditor"):
        return True
    if actor.role == "employer":
        return row["employer_id"] == actor.employer_id
    if actor.role == "authority":
        return row["authority"] == actor.organisation
    return False


class NotFoundYet(NotFound):
    """Not found while the projections are behind the asker's own position:
    the 404 carries X-Projection-Stale so the client knows to ask again."""

    def __init__(self, kind: str, ident: object, headers: dict[str, str]):
        super().__init__(kind, ident)
        self.headers = headers


async def _visible_contract(request: Request, pool: Pool, principal: Principal, raw_id: str, ledger: Ledger,
                            gen: int | None = None, stale: dict[str, str] | None = None) -> UUID:
    contract_id = parse_id("contract", raw_id)
    if principal.actor.org_id is not None:
        # What the agency linked to the organisation decides, read from the
        # contract itself (service/visibility.py), not from a read model.
        await asyncio.to_thread(ledger.get, principal.tenant, principal.actor, SocialReturnContract, contract_id)
    row = await compliance.contract_row(pool, principal.tenant.id, contract_id, gen)
    if row is None or not _may_see_contract(principal, row):
        if stale:
            raise NotFoundYet("contract", raw_id, stale)
        raise NotFound("contract", raw_id)
    return contract_id


@get("/contracts/{contract_id:str}/compliance")
async def contract_compliance(contract_id: FromPath[str], request: Request,
                              principal: NamedDependency[Principal], ledger: NamedDependency[Ledger],
                              pool: NamedDependency[Pool],
        as_of: AsOf = None, known_at: KnownAt = None, min_position: MinPosition = None) -> Response[a.ContractCompliance]:
    """`?as_of=` bounds the period valued; `?known_at=` shows the figures as they
    were known at that moment (only events recorded up to then)."""
    as_of = _as_of(request.query_params.get("as_of"))
    headers = await _fresh(request, pool, principal, (compliance.NAME,))
    gen, known = await _as_known(request, ledger, principal, compliance.NAME)
    ident = await _visible_contract(request, pool, principal, contract_id, ledger, gen, stale=headers)
    figures = await compliance.compliance_for_contract(
        pool, principal.tenant.id, ident, as_of, gen)
    return Response({**figures, **known}, headers=headers)


@get("/compliance")
async def compliance_overview(request: Request, principal: NamedDependency[Principal],
                              ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        as_of: AsOf = None, known_at: KnownAt = None, min_position: MinPosition = None) -> Response[a.ComplianceOverview]:
    """Every visible contract, rolled up per employer and in total (`?known_at=` as for one contract)."""
    actor = principal.actor
    if actor.role not in FIGURE_READERS:
        raise PermissionDenied(f"role {actor.role!r} may not see compliance figures")
    headers = await _fresh(request, pool, principal, (compliance.NAME,))
    gen, known = await _as_known(request, ledger, principal, compliance.NAME)
    summary = await compliance.compliance_summary(
        pool, principal.tenant.id, _as_of(request.query_params.get("as_of")),
        employer_id=actor.employer_id if actor.role == "employer" else None,
        authority=actor.organisation if actor.role == "authority" else None, gen=gen)
    return Response({**summary, **known}, headers=headers)


@get("/contracts/{contract_id:str}/contributions")
async def list_contributions(contract_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                             pool: NamedDependency[Pool], ledger: NamedDependency[Ledger],
        as_of: AsOf = None, min_position: MinPosition = None) -> Response[a.Contributions]:
    as_of = _as_of(request.query_params.get("as_of"))
    headers = await _fresh(request, pool, principal, (compliance.NAME,))
    ident = await _visible_contract(request, pool, principal, contract_id, ledger, stale=headers)
    items = await compliance.contributions_for_contract(
        pool, principal.tenant.id, ident, as_of)
    return Response({"contract_id": contract_id, "contributions": items}, headers=headers)


@get("/contributions/{contribution_id:str}/explanation")
async def contribution_explanation(contribution_id: FromPath[str], request: Request,
                                   principal: NamedDependency[Principal], pool: NamedDependency[Pool],
        period_start: day("The first day of the period explained; default the first day it counts") = None,
        period_end: day("The last day of the period explained; default today") = None,
        min_position: MinPosition = None) -> Response[a.ContributionExplanation]:
    """Why a contribution is worth what it is over `?period_start=` (default: from
    the placement's first day) to `?period_end=` (default: today): domain.explanation."""
    q = request.query_params
    period_end = _as_of(q.get("period_end"))
    period_start = query_date(q["period_start"], "period_start") if q.get("period_start") else None
    if period_start is not None and period_start > period_end:
        raise InvalidInput("period_end", "period_end must not be before period_start")
    headers = await _fresh(request, pool, principal, (compliance.NAME,))
    ident = parse_id("contribution", contribution_id)
    row = await compliance.contribution_row(pool, principal.tenant.id, ident)
    if row is None or not _may_see_contract(principal, row):
        raise NotFound("contribution", contribution_id)
    explanation = await compliance.explanation_for_contribution(
        pool, principal.tenant.id, ident, period_start=period_start, period_end=period_end)
    return Response({"contribution_id": contribution_id, "explanation": explanation}, headers=headers)


@post("/contracts/{contract_id:str}/contributions", sync_to_thread=True)
def report_contribution(contract_id: FromPath[str], data: JSONBody[s.PurchaseIn | s.OtherActivityIn],
                        principal: NamedDependency[Principal], request: Request,
                        ledger: NamedDependency[Ledger]) -> Response[a.Created]:
    ident = parse_id("contract", contract_id)
    if isinstance(data, s.PurchaseIn):
        command: Any = c.ReportSocialEnterprisePurchase(
            contract_id=ident, supplier=data.supplier,
            invoice_amount_eur_excl_vat=data.invoice_amount_eur_excl_vat, register=data.register,
            invoice_date=data.invoice_date, description=data.description)
    else:
        command = c.ReportOtherActivity(contract_id=ident, description=data.description,
                                        activity_date=data.activity_date, costs_eur=data.costs_eur,
                                        hours=data.hours)
    return run(ledger, principal, request, command)


@post("/contributions/{contribution_id:str}/accept", sync_to_thread=True, status_code=200)
def accept_contribution(contribution_id: FromPath[str], data: JSONBody[s.DecisionIn],
                        principal: NamedDependency[Principal], request: Request,
                        ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.AcceptContribution(
        contribution_id=parse_id("contribution", contribution_id), reason=data.reason or "",
        decided_on=data.decided_on))


@post("/contributions/{contribution_id:str}/reject", sync_to_thread=True, status_code=200)
def reject_contribution(contribution_id: FromPath[str], data: JSONBody[s.DecisionIn],
                        principal: NamedDependency[Principal], request: Request,
                        ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    return run(ledger, principal, request, c.RejectContribution(
        contribution_id=parse_id("contribution", contribution_id), reason=data.reason or "",
        decided_on=data.decided_on))


@get("/retention")
async def tenant_retention(request: Request, principal: NamedDependency[Principal],
                           ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        as_of: AsOf = None, known_at: KnownAt = None, min_position: MinPosition = None) -> Response[a.Retention]:
    if principal.actor.role not in ("agency", "auditor"):
        raise PermissionDenied("the tenant's retention figures are for the agency and auditors; "
                               "employers use /employers/{id}/retention")
    headers = await _fresh(request, pool, principal, (retention.NAME,))
    gen, known = await _as_known(request, ledger, principal, retention.NAME)
    figures = await retention.retention(pool, principal.tenant.id,
                                        _as_of(request.query_params.get("as_of")), gen=gen)
    return Response({**figures, **known}, headers=headers)


@get("/employers/{employer_id:str}/retention")
async def employer_retention(employer_id: FromPath[str], request: Request,
                             principal: NamedDependency[Principal], ledger: NamedDependency[Ledger],
                             pool: NamedDependency[Pool],
        as_of: AsOf = None, min_position: MinPosition = None) -> Response[a.EmployerRetention]:
    ident = parse_id("employer", employer_id)
    actor = principal.actor
    if not (actor.role in ("agency", "auditor") or (actor.role == "employer" and actor.employer_id == ident)):
        raise NotFound("employer", employer_id)
    # The employer itself, as its own GET sees it: an id of no employer of the
    # tenant is a 404, not figures of zero.
    await asyncio.to_thread(ledger.get, principal.tenant, actor, Employer, ident)
    headers = await _fresh(request, pool, principal, (retention.NAME,))
    figures = await retention.retention(pool, principal.tenant.id,
                                        _as_of(request.query_params.get("as_of")), employer_id=ident)
    return Response({"employer_id": employer_id, **figures}, headers=headers)


@get("/access-log", responses={404: error_spec(404, "`subject` names no person (not a candidate id).")})
async def special_category_access_log(request: Request, principal: NamedDependency[Principal],
                                      pool: NamedDependency[Pool],
        subject: Annotated[str | None, Parameter(description="Only reads of this person (a candidate id).")] = None,
        since: Annotated[datetime | None, Parameter(description="Only reads at or after this ISO 8601 moment.")] = None,
        until: Annotated[datetime | None, Parameter(description="Only reads before this ISO 8601 moment.")] = None,
        limit: whole("How many entries at most", 1, 1000) = None) -> Response[a.AccessLog]:
    """Who viewed whose special-category data, when: for auditors (and the agency)."""
    if principal.actor.role not in ("auditor", "agency"):
        raise PermissionDenied("the access log is for auditors and the agency")
    q = request.query_params
    subject = parse_id("candidate", q["subject"]) if q.get("subject") else None
    limit = query_whole(q.get("limit", "200"), "limit", 1, 1000)
    entries = await access_log.access_log(pool, principal.tenant.id, subject_id=subject,
                                          since=_known_at(q.get("since"), "since"), until=_known_at(q.get("until"), "until"),
                                          limit=limit)
    return Response({"entries": entries})


def read_router() -> Router:
    return v1_router([contract_compliance, compliance_overview, list_contributions, report_contribution,
                        contribution_explanation,
                        accept_contribution, reject_contribution, tenant_retention, employer_retention,
                        special_category_access_log], "figures")
