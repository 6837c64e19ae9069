"""What the impact API routes and pages share (issue 16): a contract's
targets beyond euros with their trend per quarter, and the yearly impact
report of an employer or a contract, as figures and as CSV.

Every figure about people goes through the small-group rule
(domain/small_groups.py): a `Shown` here, `{value, withheld, people}` in the
API, "withheld" on the page and an empty cell in the CSV. Euros are the
contract's (as its compliance report shows them), not a person's.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Response

from domain.contract import SocialReturnContract
from domain.small_groups import Shown, shown
from projections import compliance, impact, progression
from projections.reader import reading
from service.errors import InvalidInput

TARGET_KINDS = ("placements", "retention_12m_percent", "permanent_percent", "adjustments_30d_percent",
                "satisfaction_min")
FIRST_YEAR, LAST_YEAR = 2000, 2100
# Figures whose target is a floor (actual >= target meets it): all of them.


def read_year(raw: str | None, today: date) -> int:
    """`?year=` (default: last year, the one a municipality reports on)."""
    if raw is None or raw == "":
        return today.year - 1
    if not raw.isdigit() or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise InvalidInput("year", f"year must be a year from {FIRST_YEAR} to {LAST_YEAR}")
    return int(raw)


def _met(actual: Any, target: Any) -> bool | None:
    if target is None or actual is None:
        return None
    return Decimal(actual) >= Decimal(target)


async def targets_with_trend(pool: Any, tenant_id: UUID, contract: SocialReturnContract,
                             today: date) -> dict[str, Any]:
    """Each kind of target: the target (None: none set), what was achieved by
    today (a `Shown`) and the figure at the end of every quarter of the term so
    far, for the trend chart."""
    targets = contract.targets
    end = min(today, contract.ends_on)
    days = impact.quarter_ends(contract.starts_on, end) if contract.starts_on <= end else []
    async with reading(pool, impact.NAME) as conn:
        trend = await impact.target_trend(conn, tenant_id, contract.id, days) if days else []
    points: dict[str, list[dict[str, Any]]] = {kind: [] for kind in TARGET_KINDS}
    for t in trend:
        for kind, key in (("placements", "placements"), ("retention_12m_percent", "retention_12m_percent"),
                          ("permanent_percent", "permanent_percent"),
                          ("adjustments_30d_percent", "adjustments_30d_percent"),
                          ("satisfaction_min", "satisfaction")):
            points[kind].append({"quarter": t["quarter"], "day": t["day"], **_figure(t[key])})
    out = {}
    for kind in TARGET_KINDS:
        last = points[kind][-1] if points[kind] else {"value": None, "withheld": False, "people": 0}
        out[kind] = {"target": targets.get(kind), "actual": last["value"], "withheld": last["withheld"],
                     "people": last["people"], "met": _met(last["value"], targets.get(kind)),
                     "trend": points[kind]}
    return {"contract_id": contract.id, "as_of": end, "targets": out}


def _figure(f: Shown[Any]) -> dict[str, Any]:
    return {"value": f.value, "withheld": f.withheld, "people": f.people}


# -- the yearly impact report -------------------------------------------------------------

async def _euros(pool: Any, tenant_id: UUID, contract_ids: list[UUID], year: int) -> dict[str, Any]:
    """The euros the contracts' quarters of the year reported, accepted and
    pending, and the obligation and accepted total by the year's end."""
    totals = {k: Decimal(0) for k in ("reported", "accepted", "rejected", "pending", "obligation",
                                      "accepted_to_date")}
    for contract_id in contract_ids:
        figures = await compliance.compliance_for_contract(pool, tenant_id, contract_id, date(year, 12, 31))
        if figures is None:
            continue
        for q in figures["quarters"]:
            if q["quarter"].startswith(f"{year}-"):
                for k in ("reported", "accepted", "rejected", "pending"):
                    totals[k] += Decimal(q[f"{k}_eur"])
        totals["obligation"] += Decimal(figures["obligation_eur"])
        totals["accepted_to_date"] += Decimal(figures["accepted_eur"])
    return {f"{k}_eur": str(v.quantize(Decimal("0.01"))) for k, v in totals.items()}


async def impact_report(pool: Any, tenant_id: UUID, year: int, *, employer_id: UUID,
                        contract_id: UUID | None = None, contract_ids: list[UUID] = ()) -> dict[str, Any]:
    """The figures of one year for an employer (contract_id None: all its
    placements, the euros of `contract_ids`) or for one contract (its
    placements; its employer's team survey)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    scope = {"employer_id": None if contract_id else employer_id, "contract_id": contract_id}
    async with reading(pool, impact.NAME) as conn:
        placements = await impact.placements(conn, tenant_id, start, end, **scope)
        accessibility = await impact.accessibility(conn, tenant_id, start, end, **scope)
        voice = await impact.employee_voice(conn, tenant_id, start, end, **scope)
        survey = await impact.team_survey(conn, tenant_id, employer_id, start, end)
    euros = await _euros(pool, tenant_id, [contract_id] if contract_id else list(contract_ids), year)
    return {"year": year, "period": {"from": start, "to": end}, "euros": euros, "placements": placements,
            "progression": await _progression(pool, tenant_id, start, end, **scope), "employee_voice": voice,
            "accessibility": accessibility, "team_survey": survey}


async def _progression(pool: Any, tenant_id: UUID, start: date, end: date, *, employer_id: UUID | None,
                       contract_id: UUID | None) -> dict[str, Shown[Any]]:
    """Progression in the year of the placements working in it
    (projections/progression.py), withheld as a whole under 5 people."""
    group = await progression.progression_in_period(pool, tenant_id, start, end, employer_id=employer_id,
                                                    contract_id=contract_id)
    people = group.get("people") or 0
    return {k: shown(group.get(k), people) for k in (
        "placements", "hours_up_percent", "made_permanent_percent", "direct_employment_percent",
        "role_changed_percent", "trained_percent", "trainings")}


# The report's sections and figures in order (the page and the CSV alike).
REPORT_ROWS: tuple[tuple[str, str], ...] = (
    ("euros", "reported_eur"), ("euros", "accepted_eur"), ("euros", "rejected_eur"), ("euros", "pending_eur"),
    ("euros", "obligation_eur"), ("euros", "accepted_to_date_eur"),
    ("placements", "started"), ("placements", "running"), ("placements", "permanent_percent"),
    ("placements", "ended"), ("placements", "to_direct_employment"), ("placements", "retention_12m_started"),
    ("placements", "retention_12m_percent"),
    ("progression", "placements"), ("progression", "hours_up_percent"), ("progression", "made_permanent_percent"),
    ("progression", "direct_employment_percent"), ("progression", "role_changed_percent"),
    ("progression", "trained_percent"), ("progression", "trainings"),
    ("employee_voice", "people"), ("employee_voice", "satisfaction"), ("employee_voice", "at_least_4_percent"),
    ("accessibility.adjustments", "asked"), ("accessibility.adjustments", "delivered"),
    ("accessibility.adjustments", "refused"), ("accessibility.adjustments", "open"),
    ("accessibility.adjustments", "median_days"), ("accessibility.adjustments", "mean_days"),
    ("accessibility.adjustments", "within_30_days_percent"),
    ("accessibility.onboarding", "placements"), ("accessibility.onboarding", "items"),
    ("accessibility.onboarding", "done_by_day_one"), ("accessibility.onboarding", "done_by_day_one_percent"),
    ("team_survey", "sessions"), ("team_survey", "managers"), ("team_survey", "answers"),
    ("team_survey", "knowledge_average"), ("team_survey", "confidence_average"),
    ("team_survey", "would_hire_again_yes_percent"), ("team_survey", "would_hire_again_no_percent"),
    ("team_survey", "would_hire_again_unsure_percent"),
)


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """(section, figure, value, withheld) for every figure of the report."""
    rows = []
    for section, name in REPORT_ROWS:
        node: Any = report
        for part in section.split("."):
            node = node[part]
        value = node[name]
        if isinstance(value, Shown):
            rows.append({"section": section, "figure": name, "value": value.value, "withheld": value.withheld})
        else:
            rows.append({"section": section, "figure": name, "value": value, "withheld": False})
    return rows


def _cell(value: Any) -> str:
    """A leading =, +, -, @ or control character would make a spreadsheet read
    the text as a formula: quoted (as web/portfolio.py and the contract report)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(report: dict[str, Any], title: str, scope: str, ident: UUID) -> Response:
    """Semicolon-separated with decimal points (as the other reports); a
    withheld figure is an empty value with `withheld` true."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";")
    w.writerow(["report", "impact"])
    w.writerow([scope, _cell(title)])
    w.writerow(["year", report["year"]])
    w.writerow([])
    w.writerow(["section", "figure", "value", "withheld"])
    for row in report_rows(report):
        w.writerow([row["section"], row["figure"], _cell(row["value"]), "true" if row["withheld"] else "false"])
    name = f"impact-{scope}-{ident}-{report['year']}.csv"
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
