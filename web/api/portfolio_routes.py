"""The cross-agency lists of a platform organisation's user: an authority's
contracts in every agency (its portfolio), an employer's contracts and
placements. Read from the portfolio read model (projections/portfolio.py) by
the organisation of the token, never by anything the request names.

`/authority/statements` is the authority's queue: the submitted statements
of its shared contracts, `?status=submitted` (the default: awaiting its
decision) or `decided`, oldest submission first.

Filters of the contract and placement lists: `status`, `agency` (its id), `supplier` (part of the name), `from`
and `to` (the term overlaps them), `as_of` (the day the figures are valued); of the contract lists also
`employer_org` (the id of the supplier's employer organisation); `?format=csv` gives the same rows as CSV.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from asyncpg import Pool
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import Parameter, QueryParameter

from projections import portfolio
from projections.portfolio import PLACEMENT_STATUSES, STATUSES
from service.errors import PermissionDenied
from web.api import answers as a
from web.api.contract import AsOf, CsvOperation
from web.api.auth import Principal, v1_router
from web.portfolio import (CONTRACT_COLUMNS, PLACEMENT_COLUMNS, csv_response, placement_filters, read_filters,
                           statement_status, wants_csv)


STATUS_TEXT = f"Only contracts with this status: one of {', '.join(STATUSES)}."
PLACEMENT_STATUS_TEXT = f"Only placements with this status: one of {', '.join(PLACEMENT_STATUSES)}."


def _org(principal: Principal, kind: str) -> object:
    actor = principal.actor
    if actor.org_id is None or actor.role != kind:
        raise PermissionDenied(f"only a user of an {kind} organisation has this list")
    return actor.org_id


async def _contracts(request: Request, principal: Principal, pool: Pool, kind: str) -> Response:
    org_id = _org(principal, kind)
    as_of, filters = read_filters(request.query_params)
    csv = wants_csv(request.query_params)
    found = await portfolio.contracts(pool, kind, org_id, as_of, filters)  # type: ignore[arg-type]
    if csv:
        return csv_response(found["contracts"], CONTRACT_COLUMNS, f"{kind}-contracts", as_of)
    return Response(found)


@get("/authority/contracts", operation_class=CsvOperation)
async def authority_contracts(request: Request, principal: NamedDependency[Principal],
                              pool: NamedDependency[Pool],
        as_of: AsOf = None,
        status: Annotated[str | None, Parameter(max_length=40, description=STATUS_TEXT)] = None,
        agency: Annotated[UUID | None, Parameter(description="Only this agency's (its id).")] = None,
        supplier: Annotated[str | None, Parameter(max_length=200, description="Part of the supplier's name.")] = None,
        period_from: Annotated[date | None, QueryParameter(name="from", description="The term overlaps from this day on.")] = None,
        period_to: Annotated[date | None, QueryParameter(name="to", description="The term overlaps up to this day.")] = None,
        format: Annotated[Literal["json", "csv"] | None, Parameter(description="csv: the same rows as text/csv (semicolon-separated).")] = None,
        employer_org: Annotated[UUID | None, Parameter(description="Only contracts of this supplier's employer organisation (its id).")] = None) -> Response[a.ContractPortfolio]:
    """Every contract an agency linked to the authority, with its figures, and the totals."""
    return await _contracts(request, principal, pool, "authority")


@get("/employer/contracts", operation_class=CsvOperation)
async def employer_contracts(request: Request, principal: NamedDependency[Principal],
                             pool: NamedDependency[Pool],
        as_of: AsOf = None,
        status: Annotated[str | None, Parameter(max_length=40, description=STATUS_TEXT)] = None,
        agency: Annotated[UUID | None, Parameter(description="Only this agency's (its id).")] = None,
        supplier: Annotated[str | None, Parameter(max_length=200, description="Part of the supplier's name.")] = None,
        period_from: Annotated[date | None, QueryParameter(name="from", description="The term overlaps from this day on.")] = None,
        period_to: Annotated[date | None, QueryParameter(name="to", description="The term overlaps up to this day.")] = None,
        format: Annotated[Literal["json", "csv"] | None, Parameter(description="csv: the same rows as text/csv (semicolon-separated).")] = None,
        employer_org: Annotated[UUID | None, Parameter(description="Only contracts of this supplier's employer organisation (its id).")] = None) -> Response[a.ContractPortfolio]:
    """Every contract under an employer record an agency linked to the employer, and the totals."""
    return await _contracts(request, principal, pool, "employer")


@get("/employer/placements", operation_class=CsvOperation)
async def employer_placements(request: Request, principal: NamedDependency[Principal],
                              pool: NamedDependency[Pool],
        as_of: AsOf = None,
        status: Annotated[str | None, Parameter(max_length=40, description=PLACEMENT_STATUS_TEXT)] = None,
        agency: Annotated[UUID | None, Parameter(description="Only this agency's (its id).")] = None,
        supplier: Annotated[str | None, Parameter(max_length=200, description="Part of the supplier's name.")] = None,
        period_from: Annotated[date | None, QueryParameter(name="from", description="The term overlaps from this day on.")] = None,
        period_to: Annotated[date | None, QueryParameter(name="to", description="The term overlaps up to this day.")] = None,
        format: Annotated[Literal["json", "csv"] | None, Parameter(description="csv: the same rows as text/csv (semicolon-separated).")] = None) -> Response[a.PlacementPortfolio]:
    """Every placement under an employer record linked to the employer (status: planned, active, ended)."""
    org_id = _org(principal, "employer")
    as_of, filters = placement_filters(request.query_params)
    csv = wants_csv(request.query_params)
    found = await portfolio.placements(pool, org_id, as_of, filters)  # type: ignore[arg-type]
    if csv:
        return csv_response(found["placements"], PLACEMENT_COLUMNS, "employer-placements", as_of)
    return Response(found)


@get("/authority/statements")
async def authority_statements(request: Request, principal: NamedDependency[Principal],
                               pool: NamedDependency[Pool],
        status: Annotated[Literal["submitted", "decided"] | None, Parameter(description="submitted (the default: awaiting your decision) or decided.")] = None) -> Response[a.StatementPortfolio]:
    """The statements agencies submitted for the authority's contracts, awaiting its decision."""
    org_id = _org(principal, "authority")
    status = statement_status(request.query_params)
    return Response(await portfolio.statements(pool, org_id, status))  # type: ignore[arg-type]


def portfolio_router() -> Router:
    return v1_router([authority_contracts, employer_contracts, employer_placements, authority_statements],
                     "portfolio")
