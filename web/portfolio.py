"""What the portfolio's API routes and pages share: reading the filters of a
query string (a 422 naming the field) and writing a list as CSV."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Response

from domain.errors import DomainError
from domain.values import parse_date
from projections.portfolio import PLACEMENT_STATUSES, STATEMENT_STATUSES, STATUSES, Filters
from service.errors import InvalidInput

CONTRACT_COLUMNS = ("contract_id", "agency", "supplier", "title", "authority", "starts_on", "ends_on", "closed_on",
                    "obligation_eur", "accepted_eur", "pending_eur", "forecast_eur", "forecast_accepted_eur",
                    "forecast_pending_eur", "percent_accepted", "status")
PLACEMENT_COLUMNS = ("placement_id", "agency", "supplier", "contract_title", "starts_on", "planned_end_on",
                     "ended_on", "hours_per_week", "status")
SUPPLIER_MAX = 200
TO_BEFORE_FROM = "The end of the period may not be before its start."


def _date(params: Mapping[str, str], field: str) -> date | None:
    raw = params.get(field)
    if raw is None or raw == "":
        return None
    try:
        return parse_date(raw, field)
    except DomainError as e:
        raise InvalidInput(e.field, str(e)) from None


def _uuid(params: Mapping[str, str], field: str, message: str) -> UUID | None:
    raw = params.get(field) or None
    try:
        return UUID(raw) if raw is not None else None
    except ValueError:
        raise InvalidInput(field, message) from None


def read_filters(params: Mapping[str, str], statuses: Sequence[str] = STATUSES,
                 by_employer_org: bool = True) -> tuple[date, Filters]:
    """(as_of, filters) from `as_of`, `status`, `agency`, `supplier`, `from`, `to` and
    (contract lists) `employer_org`, the supplier's employer organisation."""
    status = params.get("status") or None
    if status is not None and status not in statuses:
        raise InvalidInput("status", f"status must be one of {', '.join(statuses)}")
    agency_id = _uuid(params, "agency", "agency must be an agency's id")
    employer_org = (_uuid(params, "employer_org", "employer_org must be an employer organisation's id")
                    if by_employer_org else None)
    supplier = (params.get("supplier") or "").strip() or None
    if supplier is not None and len(supplier) > SUPPLIER_MAX:
        raise InvalidInput("supplier", f"supplier must be at most {SUPPLIER_MAX} characters")
    period_from, period_to = _date(params, "from"), _date(params, "to")
    if period_from and period_to and period_to < period_from:
        raise InvalidInput("to", TO_BEFORE_FROM)
    return (_date(params, "as_of") or date.today(),
            Filters(status=status, agency=agency_id, supplier=supplier, period_from=period_from,
                    period_to=period_to, employer_org=employer_org))


def placement_filters(params: Mapping[str, str]) -> tuple[date, Filters]:
    return read_filters(params, PLACEMENT_STATUSES, by_employer_org=False)


def statement_status(params: Mapping[str, str]) -> str:
    """The statement queue's `status` (default: submitted, awaiting decision)."""
    status = params.get("status") or "submitted"
    if status not in STATEMENT_STATUSES:
        raise InvalidInput("status", f"status must be one of {', '.join(STATEMENT_STATUSES)}")
    return status


def wants_csv(params: Mapping[str, str]) -> bool:
    fmt = params.get("format") or "json"
    if fmt not in ("json", "csv"):
        raise InvalidInput("format", "format must be json or csv")
    return fmt == "csv"


def _cell(value: Any) -> str:
    """Text that a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], name: str, as_of: date) -> Response:
    """Semicolon-separated with decimal points, as the contract report: opens in Dutch spreadsheets."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";")
    w.writerow(columns)
    for row in rows:
        w.writerow([_cell(row[c]) for c in columns])
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}-{as_of.isoformat()}.csv"'})
