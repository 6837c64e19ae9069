"""Outcomes beyond euros on the pages (issue 16).

- The employer page's section "Accessibility and team survey"
  (_employer_impact.html): this year's accessibility figures and the managers'
  survey, a form to record a team session and one to enter a manager's
  anonymous answers.
- The contract page's targets with their trend per quarter (a server-side SVG
  with the same figures in a table beside it), also on the dashboard (actual
  against target, linking to the chart).
- The yearly impact report of an employer and of a contract: a printable page
  and a CSV download.

Every figure about people is withheld under 5 people (domain/small_groups.py).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.contract import SocialReturnContract
from domain.employer import TEAM_SESSION_KINDS, WOULD_HIRE_AGAIN, Employer
from projections import compliance, directory, impact
from projections import support as support_rm
from projections.reader import reading
from service import commands as c
from web.impact import TARGET_KINDS, impact_report, read_year, report_csv, report_rows, targets_with_trend
from web.ids import parse_id
from web.pages import charts
from web.pages.answer import FormState, PageRenderer, answer
from web.pages.common import PageServices, fresh, get as get_aggregate, may, new_idempotency_key
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import ORGANISATION_PAGES, Viewer, may_issue, roles

SHARED = {ORGANISATION_PAGES: True}
READ_MODELS = (impact.NAME, support_rm.NAME, compliance.NAME)
EMPLOYER_READERS = ("agency", "auditor", "employer")
CONTRACT_READERS = ("agency", "auditor", "employer", "authority")
# The axis maximum of each kind's chart (None: rounded up from the figures).
AXIS_TOP = {"placements": None, "retention_12m_percent": 100, "permanent_percent": 100,
            "adjustments_30d_percent": 100, "satisfaction_min": 5}
SCORES = tuple(str(n) for n in range(1, 6))


# -- on the employer page ---------------------------------------------------------------

async def employer_section(services: PageServices, request: Request, viewer: Viewer, employer: Employer,
                           state: FormState | None = None) -> dict[str, Any] | None:
    """This year's accessibility and survey figures of the employer, the session
    and answer forms (agency and the employer's own users). None for other roles."""
    if viewer.role not in EMPLOYER_READERS:
        return None
    state = state or FormState()
    today = date.today()
    await fresh(services, request, viewer, (impact.NAME,))
    start = date(today.year, 1, 1)
    async with reading(services.pool, impact.NAME) as conn:
        access = await impact.accessibility(conn, viewer.tenant.id, start, today, employer_id=employer.id)
        survey = await impact.team_survey(conn, viewer.tenant.id, employer.id, start, today)
    sessions = [{"id": sid, **s} for sid, s in sorted(employer.team_sessions.items(),
                                                      key=lambda kv: kv[1]["held_on"], reverse=True)]
    return {"employer_id": str(employer.id), "year": today.year, "accessibility": access, "survey": survey,
            "sessions": sessions, "open_sessions": [s for s in sessions if s["answers"] < s["managers"]],
            "kinds": TEAM_SESSION_KINDS, "hire_choices": WOULD_HIRE_AGAIN, "scores": SCORES,
            "can_hold": may(viewer, c.HoldTeamSession), "can_answer": may(viewer, c.AnswerTeamSurvey),
            "today": today, "form": state.name, "errors": dict(state.errors), "form_values": dict(state.values),
            "idempotency": new_idempotency_key(), "last_year": today.year - 1}


async def _employer_form(services: PageServices, request: Request, viewer: Viewer, employer_id: str, form: Form,
                         name: str, make: Any, field: str, employer_page: PageRenderer) -> Response:
    employer: Employer = await get_aggregate(services, viewer, Employer, parse_id("employer", employer_id))

    async def show(state: FormState, status: int) -> Response:
        if wants_fragment(request):
            section = await employer_section(services, request, viewer, employer, state)
            return page(services.templates, request, "_employer_impact.html", {"section": section}, status=status)
        return await employer_page(services, request, viewer, str(employer.id), forms={"impact": state},
                                   status=status)

    return await answer(services, request, viewer, form, lambda: make(employer.id),
                        to=f"/employers/{employer.id}#impact", show=show, field=field, name=name, swaps=True,
                        read_models=(impact.NAME,))


@post("/employers/{employer_id:str}/team-sessions", guards=[may_issue(c.HoldTeamSession)], opt=SHARED)
async def hold_session(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       employer_id: FromPath[str], employer_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    kind, held_on = form.choice("kind", TEAM_SESSION_KINDS), form.day("held_on")
    managers = form.integer("managers")
    return await _employer_form(services, request, viewer, employer_id, form, "session", lambda eid: c.HoldTeamSession(
        employer_id=eid, kind=kind, held_on=held_on, managers=managers),  # type: ignore[arg-type]
        "kind", employer_page)


@post("/employers/{employer_id:str}/team-sessions/{session_id:str}/answers", guards=[may_issue(c.AnswerTeamSurvey)],
      opt=SHARED)
async def answer_survey(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                        employer_id: FromPath[str], session_id: FromPath[str],
                        employer_page: NamedDependency[PageRenderer]) -> Response:
    form = await Form.read(request)
    knowledge, confidence = form.choice("knowledge", SCORES), form.choice("confidence", SCORES)
    hire = form.choice("would_hire_again", WOULD_HIRE_AGAIN)
    return await _employer_form(services, request, viewer, employer_id, form, "answer", lambda eid: c.AnswerTeamSurvey(
        employer_id=eid, session_id=session_id, knowledge=int(knowledge or 0), confidence=int(confidence or 0),
        would_hire_again=hire),  # type: ignore[arg-type]
        "knowledge", employer_page)


# -- targets with their trend (contract page, dashboard) -----------------------------------

def _chart(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    return charts.target_line(entry["trend"], entry["target"], AXIS_TOP[kind])


async def contract_targets_section(services: PageServices, request: Request, viewer: Viewer,
                                   contract: SocialReturnContract) -> dict[str, Any]:
    """`impact_targets` for contract.html: each kind of target that is set, with
    what was achieved, its trend per quarter as a chart and a table."""
    await fresh(services, request, viewer, READ_MODELS)
    found = await targets_with_trend(services.pool, viewer.tenant.id, contract, date.today())
    kinds = [{"kind": kind, **found["targets"][kind], "chart": _chart(kind, found["targets"][kind])}
             for kind in TARGET_KINDS if found["targets"][kind]["target"] is not None]
    return {"impact_targets": {"contract_id": str(contract.id), "kinds": kinds, "as_of": found["as_of"]}}


async def dashboard_targets(services: PageServices, viewer: Viewer, contract_ids: list[UUID]) -> dict[str, dict]:
    """The new kinds of target (issue 16) of the dashboard's contracts that
    have one: target and what was achieved today, by contract id."""
    if not contract_ids:
        return {}
    today = date.today()
    out: dict[str, dict] = {}
    async with reading(services.pool, impact.NAME) as conn:
        targets = await impact.extra_targets(conn, viewer.tenant.id, contract_ids)
        for contract_id, set_ in targets.items():
            if all(v is None for v in set_.values()):
                continue
            now = (await impact.target_trend(conn, viewer.tenant.id, contract_id, [today]))[0]
            out[str(contract_id)] = {
                kind: {"target": set_[kind], "actual": now[key]}
                for kind, key in (("permanent_percent", "permanent_percent"),
                                  ("adjustments_30d_percent", "adjustments_30d_percent"),
                                  ("satisfaction_min", "satisfaction")) if set_[kind] is not None}
    return out


# -- the yearly impact report -----------------------------------------------------------------

async def _employer_report(services: PageServices, request: Request, viewer: Viewer,
                           employer_id: str) -> tuple[Employer, dict[str, Any]]:
    employer: Employer = await get_aggregate(services, viewer, Employer, parse_id("employer", employer_id))
    year = read_year(request.query_params.get("year"), date.today())
    await fresh(services, request, viewer, READ_MODELS)
    summary = await compliance.compliance_summary(services.pool, viewer.tenant.id, date(year, 12, 31),
                                                  employer_id=employer.id)
    ids = [UUID(row["contract_id"]) for row in summary["contracts"]]
    return employer, await impact_report(services.pool, viewer.tenant.id, year, employer_id=employer.id,
                                         contract_ids=ids)


async def _contract_report(services: PageServices, request: Request, viewer: Viewer,
                           contract_id: str) -> tuple[SocialReturnContract, dict[str, Any]]:
    contract: SocialReturnContract = await get_aggregate(services, viewer, SocialReturnContract,
                                                         parse_id("contract", contract_id))
    year = read_year(request.query_params.get("year"), date.today())
    await fresh(services, request, viewer, READ_MODELS)
    return contract, await impact_report(services.pool, viewer.tenant.id, year, employer_id=contract.employer_id,
                                         contract_id=contract.id)


def _report_page(services: PageServices, request: Request, report: dict[str, Any], **context: Any) -> Response:
    rows = report_rows(report)
    sections: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sections.setdefault(row["section"], []).append(row)
    return page(services.templates, request, "impact_report.html",
                {"report": report, "sections": sections, "years": range(date.today().year, date.today().year - 6, -1),
                 **context})


@get("/employers/{employer_id:str}/impact", guards=[roles(*EMPLOYER_READERS)], opt=SHARED)
async def employer_report(request: Request, services: NamedDependency[PageServices],
                          viewer: NamedDependency[Viewer], employer_id: FromPath[str]) -> Response:
    """The employer's impact report of a year, to print or save as PDF."""
    employer, report = await _employer_report(services, request, viewer, employer_id)
    name = (await directory.names(services.pool, viewer.tenant.id, [employer.id])).get(employer.id, "")
    return _report_page(services, request, report, scope="employer", title=name, contract=None,
                        base=f"/employers/{employer.id}/impact", back=f"/employers/{employer.id}")


@get("/employers/{employer_id:str}/impact.csv", guards=[roles(*EMPLOYER_READERS)], opt=SHARED)
async def employer_report_csv(request: Request, services: NamedDependency[PageServices],
                              viewer: NamedDependency[Viewer], employer_id: FromPath[str]) -> Response:
    employer, report = await _employer_report(services, request, viewer, employer_id)
    name = (await directory.names(services.pool, viewer.tenant.id, [employer.id])).get(employer.id, "")
    return report_csv(report, name, "employer", employer.id)


@get("/contracts/{contract_id:str}/impact", guards=[roles(*CONTRACT_READERS)], opt=SHARED)
async def contract_report(request: Request, services: NamedDependency[PageServices],
                          viewer: NamedDependency[Viewer], contract_id: FromPath[str]) -> Response:
    """The contract's impact report of a year, to attach to the municipality's report."""
    contract, report = await _contract_report(services, request, viewer, contract_id)
    return _report_page(services, request, report, scope="contract", title=contract.title, contract=contract,
                        base=f"/contracts/{contract.id}/impact", back=f"/contracts/{contract.id}")


@get("/contracts/{contract_id:str}/impact.csv", guards=[roles(*CONTRACT_READERS)], opt=SHARED)
async def contract_report_csv(request: Request, services: NamedDependency[PageServices],
                              viewer: NamedDependency[Viewer], contract_id: FromPath[str]) -> Response:
    contract, report = await _contract_report(services, request, viewer, contract_id)
    return report_csv(report, contract.title, "contract", contract.id)


HANDLERS = [hold_session, answer_survey, employer_report, employer_report_csv, contract_report, contract_report_csv]
