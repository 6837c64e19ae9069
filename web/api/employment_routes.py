"""Employments (/api/v1): the person's contract with the agency, which makes
it their legal employer; secondments (placements) belong to one
(`employment_id` when a placement starts) and the legal employer's duties
follow it (domain/employment.py, projections/duties.py).

For the agency: an employment is seen by the agency (and its auditors); its
duties reveal that a person is sick (health data), so reading them is
logged as a special-category read.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from asyncpg import Pool
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.employment import Employment
from projections import duties
from service import commands as c
from service.ledger import Ledger
from web.api import views
from web.api import answers as a
from web.api.contract import AsOf, MinPosition
from web.api.auth import Principal, v1_router
from web.api.matching_routes import duties_answer
from web.api.routes import run
from web.api.schemas import Body, EmploymentIn
from web.ids import parse_id

sync = {"sync_to_thread": True}


class EmploymentEndIn(Body):
    ends_on: date  # the last day of employment
    reason: Annotated[str, msgspec.Meta(max_length=40)]


@post("/employments", **sync)
def start_employment(data: JSONBody[EmploymentIn], principal: NamedDependency[Principal], request: Request,
                     ledger: NamedDependency[Ledger]) -> Response[a.Created]:
    """The person's employment with the agency starts: `fixed_term` (with its
    planned `ends_on`) or `permanent`."""
    return run(ledger, principal, request, c.StartEmployment(
        candidate_id=data.candidate_id, starts_on=data.starts_on, kind=data.kind, ends_on=data.ends_on))


@post("/employments/{employment_id:str}/end", status_code=200, **sync)
def end_employment(employment_id: FromPath[str], data: JSONBody[EmploymentEndIn],
                   principal: NamedDependency[Principal], request: Request,
                   ledger: NamedDependency[Ledger]) -> Response[a.Changed]:
    """The employment ends on `ends_on` (its last day); its secondments must
    have ended by then. Sick on that day: "sick out of service" is due on it."""
    return run(ledger, principal, request, c.EndEmployment(
        employment_id=parse_id("employment", employment_id), ends_on=data.ends_on, reason=data.reason))


@get("/employments/{employment_id:str}", **sync)
def get_employment(employment_id: FromPath[str], principal: NamedDependency[Principal],
                   ledger: NamedDependency[Ledger]) -> Response[a.EmploymentRecord]:
    agg = ledger.get(principal.tenant, principal.actor, Employment, parse_id("employment", employment_id))
    return Response(views.employment_view(agg))


@get("/employments/{employment_id:str}/duties")
async def employment_duties(employment_id: FromPath[str], request: Request, principal: NamedDependency[Principal],
                            ledger: NamedDependency[Ledger], pool: NamedDependency[Pool],
        as_of: AsOf = None, min_position: MinPosition = None) -> Response[a.RecordDuties]:
    """Every duty of the employment (and its secondments' planned ends) with
    its status on `?as_of=`, and its sicknesses. Agency only; logged as a
    read of health data when there is a sickness."""
    return await duties_answer(request, principal, ledger, pool, "employment", employment_id, Employment,
                               duties.employment_duties, "GET /api/v1/employments/{id}/duties")


ROUTES: list[Any] = [start_employment, end_employment, get_employment, employment_duties]


def employment_router() -> Router:
    return v1_router(ROUTES, "employments")
