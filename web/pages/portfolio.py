"""The cross-agency portfolio on the pages, for a platform organisation's
user: the contracts agencies share with it (an authority's portfolio, an
employer's contracts) and an employer's placements, with filters, totals and
a CSV of the same rows. The organisation comes from the session, never from
the request (projections/portfolio.py reads by it)."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.di import NamedDependency

from domain.errors import DomainError
from domain.values import parse_whole
from projections import portfolio
from service.errors import InvalidInput, PermissionDenied
from web.pages.common import PageServices
from web.pages.render import page
from web.pages.viewer import ORGANISATION_PAGES, Viewer, roles
from web.portfolio import (CONTRACT_COLUMNS, PLACEMENT_COLUMNS, TO_BEFORE_FROM, csv_response, placement_filters,
                           read_filters)

READERS = ("authority", "employer")
# Rows a page shows (the totals are over every row the filters keep; the CSV has them all).
PAGE_SIZE = 50
FILTERS = ("status", "agency", "employer_org", "supplier", "from", "to", "as_of")
PAGE = {ORGANISATION_PAGES: True}


def _org(viewer: Viewer, *kinds: str) -> Any:
    if viewer.actor.org_id is None or viewer.role not in kinds:
        raise PermissionDenied("this page lists what agencies share with an organisation: sign in as its user")
    return viewer.actor.org_id


def _values(request: Request) -> dict[str, str]:
    return {k: (request.query_params.get(k) or "").strip() for k in FILTERS}


def _query(values: dict[str, str]) -> str:
    return urlencode([(k, v) for k, v in values.items() if v])


def _page_of(request: Request, rows: list[dict] | None, base: str, values: dict[str, str]) -> dict[str, Any]:
    """This page's rows and the links to the pages before and after it."""
    raw = request.query_params.get("page") or "1"
    try:
        number = parse_whole(raw, "page", 1, 10**6)
    except DomainError as e:
        raise InvalidInput(e.field, str(e)) from None
    rows = rows or []
    last = max(1, -(-len(rows) // PAGE_SIZE))
    number = min(number, last)

    def link(n: int) -> str:
        return f"{base}?" + urlencode([*((k, v) for k, v in values.items() if v), ("page", str(n))])

    return {"rows": rows[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], "number": number, "last": last,
            "first_row": (number - 1) * PAGE_SIZE + 1 if rows else 0,
            "last_row": min(number * PAGE_SIZE, len(rows)),
            "previous": link(number - 1) if number > 1 else None, "next": link(number + 1) if number < last else None}


async def _read(request: Request, reader: Any, load: Any) -> tuple[dict[str, str], dict[str, str], Any, date]:
    """(values, errors, rows or None, as_of): a filter that does not read is
    shown at its field (422), nothing listed."""
    values = _values(request)
    try:
        as_of, filters = reader(values)
    except InvalidInput as e:
        field = e.field or "status"
        code = {"status": "choice", "agency": "choice", "employer_org": "choice", "from": "date", "to": "date",
                "as_of": "date"}.get(field, str(e))
        if str(e) == TO_BEFORE_FROM:
            code = TO_BEFORE_FROM
        return values, {field: code}, None, date.today()
    return values, {}, await load(as_of, filters), as_of


@get("/portfolio", name="portfolio", guards=[roles(*READERS)], opt=PAGE)
async def portfolio_page(request: Request, services: NamedDependency[PageServices],
                         viewer: NamedDependency[Viewer]) -> Response:
    """The contracts every agency shares with the organisation, with their figures."""
    org_id = _org(viewer, *READERS)
    kind = viewer.role
    # The authority filters on its suppliers' organisations too (an employer's list is its own).
    by_org = kind == "authority"
    values, errors, found, as_of = await _read(
        request, read_filters,
        lambda as_of, f: portfolio.contracts(services.pool, kind, org_id, as_of, f, suppliers=by_org))
    # A filter that does not read lists nothing; the selects offer what there is all the same.
    selects = found or await portfolio.contracts(services.pool, kind, org_id, as_of, portfolio.Filters(),
                                                 suppliers=by_org)
    # The authority's queue: the statements awaiting its decision.
    awaiting = (await portfolio.statements(services.pool, org_id))["statements"] if kind == "authority" else []
    return page(services.templates, request, "portfolio.html", {
        "kind": kind, "awaiting": awaiting, "values": values, "errors": errors, "found": found, "as_of": as_of,
        "statuses": portfolio.STATUSES,
        "agencies": selects["agencies"], "suppliers": selects["suppliers"] if by_org else None,
        "query": _query(values), "paged": _page_of(request, found and found["contracts"], "/portfolio", values),
    }, status=422 if errors else 200)


@get("/portfolio.csv", guards=[roles(*READERS)], opt=PAGE)
async def portfolio_csv(request: Request, services: NamedDependency[PageServices],
                        viewer: NamedDependency[Viewer]) -> Response:
    org_id = _org(viewer, *READERS)
    as_of, filters = read_filters(_values(request))
    found = await portfolio.contracts(services.pool, viewer.role, org_id, as_of, filters)
    return csv_response(found["contracts"], CONTRACT_COLUMNS, f"{viewer.role}-contracts", as_of)


@get("/portfolio-placements", name="portfolio-placements", guards=[roles("employer")], opt=PAGE)
async def placements_page(request: Request, services: NamedDependency[PageServices],
                          viewer: NamedDependency[Viewer]) -> Response:
    """The placements every agency shares with the employer organisation."""
    org_id = _org(viewer, "employer")
    values, errors, found, as_of = await _read(
        request, placement_filters, lambda as_of, f: portfolio.placements(services.pool, org_id, as_of, f))
    return page(services.templates, request, "portfolio_placements.html", {
        "values": values, "errors": errors, "found": found, "as_of": as_of,
        "statuses": portfolio.PLACEMENT_STATUSES,
        "agencies": await portfolio.agencies(services.pool, "employer", org_id, "portfolio_placements"),
        "query": _query(values),
        "paged": _page_of(request, found and found["placements"], "/portfolio-placements", values),
    }, status=422 if errors else 200)


@get("/portfolio-placements.csv", guards=[roles("employer")], opt=PAGE)
async def placements_csv(request: Request, services: NamedDependency[PageServices],
                         viewer: NamedDependency[Viewer]) -> Response:
    org_id = _org(viewer, "employer")
    as_of, filters = placement_filters(_values(request))
    found = await portfolio.placements(services.pool, org_id, as_of, filters)
    return csv_response(found["placements"], PLACEMENT_COLUMNS, "employer-placements", as_of)


HANDLERS = [portfolio_page, portfolio_csv, placements_page, placements_csv]
