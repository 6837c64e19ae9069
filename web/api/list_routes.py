"""The list endpoints: GET /api/v1/employers, /contracts, /candidates,
/vacancies, /placements, for a partner's system to sync from.

Order and cursor: a list is in the order records last changed (the event
position of each record's last change, then its id; projections/listing.py).
`next_cursor` is an opaque string encoding the (position, id) of the last item
of the page; passed back as `?cursor=`, the list goes on after it. The last
page has a `next_cursor` too (and `has_more: false`): kept and passed again
later, it returns exactly the records changed since, each once, whatever
changed (a record changed twice comes back once, as it is now). A record
changed while a partner walks the pages moves to the end: it comes again
(its `version` tells which is newer). `?updated_since=` (an ISO moment) starts
at the records changed after that moment instead of at the beginning.

Each item is the record as its single GET shows it to the same user (the
record loaded through the ledger: the visibility policy checks every item
again); which records are listed is the same policy in SQL over the listing
read model (`_scope`). An organisation's user (no tenant of its own) names a
record shared with it through a filter (`employer_id`, `contract_id` or
`vacancy_id`) and lists in the tenant that shares it; without one its lists
are /authority/contracts, /employer/contracts and /employer/placements.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from asyncpg import Pool
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.placement import Placement
from domain.vacancy import Vacancy
from infra.eventstore import Tenant
from projections import listing
from projections.listing import Scope
from projections.reader import position_known_at
from service.actor import Actor
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.ledger import Ledger
from web.api import answers as a
from web.api import views
from web.api.auth import Principal, in_owning_tenant, use_database
from web.api.read_routes import _fresh
from web.api.routes import _log_comment_read, correlation_id

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
_START = (0, UUID(int=0))
_LAST_ID = UUID(int=2**128 - 1)


class RecordPage(msgspec.Struct, kw_only=True):
    """One page of a list: the records (each as its single GET shows it), and
    where to go on from (pass it as `?cursor=`; on the last page too, for the
    next sync; null only when nothing was listed yet)."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool  # more records after this page now; false: come back later with next_cursor


# -- the cursor ---------------------------------------------------------------------------------

def encode_cursor(kind: str, position: int, record_id: UUID) -> str:
    raw = f"{kind}:{position}:{record_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> tuple[int, UUID]:
    """(position, id) of a cursor this list gave; anything else is a 422 naming `cursor`."""
    refused = InvalidInput("cursor", "not a cursor of this list: pass the next_cursor a page of it returned")
    if len(cursor) > 200:
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        given_kind, position, record_id = text.split(":")
        if given_kind != kind or not position.isdigit() or len(position) > 18:
            raise refused
        return int(position), UUID(record_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None


# -- who sees what ------------------------------------------------------------------------------

def _scope(actor: Actor, kind: str) -> Scope:
    """service/visibility.py for a list: the rows of `kind` this actor may see."""
    role = actor.role
    if role in ("agency", "auditor"):
        return Scope()
    if role == "employer" and kind in ("employer", "contract", "vacancy", "placement"):
        if actor.org_id is not None:
            return Scope(org_of_employer=actor.org_id) if kind == "employer" else Scope(employer_org=actor.org_id)
        return Scope(employer_id=actor.employer_id) if actor.employer_id is not None else Scope(nothing=True)
    if role == "employee" and kind in ("candidate", "placement"):
        return Scope(candidate_id=actor.candidate_id) if actor.candidate_id is not None else Scope(nothing=True)
    if role == "authority" and kind in ("contract", "placement"):
        if actor.org_id is not None:
            return Scope(authority_org=actor.org_id)
        return Scope(contract_authority=actor.organisation)
    return Scope(nothing=True)


async def _tenant(request: Request, pool: Pool, principal: Principal,
                  named: dict[str, UUID | None]) -> tuple[Tenant, Actor]:
    """The tenant the list is read in, and the actor there: an organisation's
    user's is that of the shared record a filter names (else 403)."""
    if principal.home is not None:
        return principal.home, principal.actor
    given = {k: str(v) for k, v in named.items() if v is not None}
    if given:
        owning = await in_owning_tenant(pool, principal.actor, given)
        if owning is not None:
            use_database(pool, owning[0])  # its read models are on that tenant's database (web/pools.py)
            return owning
    raise PermissionDenied("an organisation's user lists the records one agency shares with it by naming one"
                           " (employer_id, contract_id or vacancy_id); its lists across agencies are"
                           " /authority/contracts, /employer/contracts and /employer/placements")


# -- one list -----------------------------------------------------------------------------------

AGGREGATE = {"employer": Employer, "contract": SocialReturnContract, "candidate": Candidate,
             "vacancy": Vacancy, "placement": Placement}


def _items(ledger: Ledger, tenant: Tenant, actor: Actor, kind: str, ids: list[UUID], request: Request) -> list[dict]:
    """The records as their single GETs show them (read logs written as those do); a
    record the visibility policy refuses after all is left out."""
    out = []
    for ident in ids:
        try:
            if kind == "placement":
                agg, history = ledger.get_with_history(tenant, actor, Placement, ident)
                _log_comment_read(ledger, Principal(tenant, actor), request, agg, history, "GET /api/v1/placements")
                out.append(views.placement_view(agg, actor, history))
                continue
            agg = ledger.get(tenant, actor, AGGREGATE[kind], ident)
        except NotFound:
            continue
        if kind == "employer":
            out.append(views.employer_view(agg, actor))
        elif kind == "contract":
            out.append(views.contract_view(agg, actor))
        elif kind == "vacancy":
            out.append(views.vacancy_view(agg, actor))
        else:
            view = views.candidate_view(agg, actor)
            if "support_needs" in view:
                ledger.record_special_category_read(tenant, actor, agg.id, ["support_needs"],
                                                    "GET /api/v1/candidates", correlation_id(request))
            out.append(view)
    return out


async def _list(kind: str, request: Request, principal: Principal, pool: Pool, ledger: Ledger, *,
                limit: int, cursor: str | None, updated_since: datetime | None, status: str | None = None,
                employer_id: UUID | None = None, contract_id: UUID | None = None,
                vacancy_id: UUID | None = None, candidate_id: UUID | None = None) -> Response:
    if cursor is not None and updated_since is not None:
        raise InvalidInput("updated_since", "give either cursor or updated_since, not both:"
                                            " a cursor already says where the list goes on")
    after = decode_cursor(kind, cursor) if cursor is not None else _START
    tenant, actor = await _tenant(request, pool, principal, {
        "employer_id": employer_id, "contract_id": contract_id, "vacancy_id": vacancy_id})
    headers = await _fresh(request, pool, Principal(tenant, actor), (listing.NAME,))
    if updated_since is not None:
        database = ledger.stores.database(tenant.database)
        after = (await asyncio.to_thread(position_known_at, database, tenant, updated_since), _LAST_ID)
    rows = await listing.page(pool, tenant.id, kind, after, limit + 1, _scope(actor, kind), status=status,
                              employer_id=employer_id, contract_id=contract_id, vacancy_id=vacancy_id,
                              candidate_id=candidate_id)
    more = len(rows) > limit
    rows = rows[:limit]
    items = await asyncio.to_thread(_items, ledger, tenant, actor, kind, [r[0] for r in rows], request)
    last = (rows[-1][1], rows[-1][0]) if rows else (after if after != _START else None)
    next_cursor = encode_cursor(kind, *last) if last is not None else None
    return Response(RecordPage(items=items, next_cursor=next_cursor, has_more=more), headers=headers)


# -- the parameters, as the OpenAPI documents them ----------------------------------------------

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description=(
    f"How many records a page holds at most, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."))]
Cursor = Annotated[str | None, Parameter(max_length=200, description=(
    "Go on after this point: the next_cursor of an earlier page (opaque). Kept from the last page, it "
    "returns exactly the records changed since."))]
UpdatedSince = Annotated[datetime | None, Parameter(description=(
    "ISO 8601 moment: only records changed after it (not together with cursor)."))]
MinPosition = Annotated[int | None, Parameter(ge=0, le=2**62, schema_extra={"minimum": 0}, description=(
    "An integer, 0 or more: the X-Event-Position a command returned; wait (at most 2 s) until the list "
    "includes it; if not in time the answer carries X-Projection-Stale: true."))]


def _id(what: str) -> Any:
    return Annotated[UUID | None, Parameter(description=f"Only the records of this {what} (its id).")]


EmployerId, ContractId, VacancyId, CandidateId = (_id("employer"), _id("contract"), _id("vacancy"),
                                                   _id("candidate"))


@get("/employers")
async def list_employers(request: Request, principal: NamedDependency[Principal], pool: NamedDependency[Pool],
                         ledger: NamedDependency[Ledger], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                         updated_since: UpdatedSince = None, min_position: MinPosition = None) -> Response[a.EmployerPage]:
    """Employer records in the order they last changed (an employer user: its own)."""
    return await _list("employer", request, principal, pool, ledger, limit=limit, cursor=cursor,
                       updated_since=updated_since)


@get("/contracts")
async def list_contracts(request: Request, principal: NamedDependency[Principal], pool: NamedDependency[Pool],
                         ledger: NamedDependency[Ledger], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                         updated_since: UpdatedSince = None, min_position: MinPosition = None,
                         status: Annotated[Literal["open", "closed"] | None, Parameter(
                             description="open: not closed; closed: closed.")] = None,
                         employer_id: EmployerId = None) -> Response[a.ContractPage]:
    """Social return contracts in the order they last changed, as GET /contracts/{id} shows each."""
    return await _list("contract", request, principal, pool, ledger, limit=limit, cursor=cursor,
                       updated_since=updated_since, status=status, employer_id=employer_id)


@get("/candidates")
async def list_candidates(request: Request, principal: NamedDependency[Principal], pool: NamedDependency[Pool],
                          ledger: NamedDependency[Ledger], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                          updated_since: UpdatedSince = None, min_position: MinPosition = None) -> Response[a.CandidatePage]:
    """Candidates in the order they last changed (a person: their own). Support needs are shown to
    the agency and the person, and every such item is written to the access log, as for one."""
    return await _list("candidate", request, principal, pool, ledger, limit=limit, cursor=cursor,
                       updated_since=updated_since)


@get("/vacancies")
async def list_vacancies(request: Request, principal: NamedDependency[Principal], pool: NamedDependency[Pool],
                         ledger: NamedDependency[Ledger], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                         updated_since: UpdatedSince = None, min_position: MinPosition = None,
                         status: Annotated[Literal["open", "filled", "closed"] | None, Parameter(
                             description="The vacancy's status.")] = None,
                         employer_id: EmployerId = None) -> Response[a.VacancyPage]:
    """Vacancies in the order they last changed, as GET /vacancies/{id} shows each."""
    return await _list("vacancy", request, principal, pool, ledger, limit=limit, cursor=cursor,
                       updated_since=updated_since, status=status, employer_id=employer_id)


@get("/placements")
async def list_placements(request: Request, principal: NamedDependency[Principal], pool: NamedDependency[Pool],
                          ledger: NamedDependency[Ledger], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                          updated_since: UpdatedSince = None, min_position: MinPosition = None,
                          status: Annotated[Literal["active", "ended"] | None, Parameter(
                              description="active: not ended; ended: an end was recorded.")] = None,
                          employer_id: EmployerId = None, contract_id: ContractId = None,
                          vacancy_id: VacancyId = None, candidate_id: CandidateId = None) -> Response[a.PlacementPage]:
    """Placements in the order they last changed, as GET /placements/{id} shows each."""
    return await _list("placement", request, principal, pool, ledger, limit=limit, cursor=cursor,
                       updated_since=updated_since, status=status, employer_id=employer_id,
                       contract_id=contract_id, vacancy_id=vacancy_id, candidate_id=candidate_id)


# Served by the API's own router (web/api/routes.py): a path has one router, for POST and GET alike.
LIST_HANDLERS = [list_employers, list_contracts, list_candidates, list_vacancies, list_placements]
