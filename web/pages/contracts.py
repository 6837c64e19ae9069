"""Employers and social return contracts: lists, registration, a contract's
compliance figures and the decisions on its contributions. The contract page
with its sections is assembled in web/pages/assembly.py."""
from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.contract import ACCEPTED_BY, SocialReturnContract
from domain.errors import DomainError
from domain.valuation import OBLIGATION_BASES, PSO_STEPS, REPORTING_PERIODS
from domain.values import SOCIAL_ENTERPRISE_REGISTERS, parse_date
from infra.rule_sets import rule_sets_async
from projections import compliance, directory
from projections.reader import platform_pool
from service import commands as c
from service.errors import InvalidInput, NotFound
from web.ids import parse_id
from web.pages import charts
from web.pages.answer import FormState, PageRenderer, answer
from web.pages.common import (
    PageServices,
    fresh,
    get as get_aggregate,
    may,
    new_idempotency_key,
)
from web.pages.forms import Form
from web.pages.render import page
from web.pages.viewer import ORGANISATION_PAGES, Viewer, may_issue, roles

CONTRACT_READERS = ("agency", "auditor", "employer", "authority")
EMPLOYER_LIST_READERS = ("agency", "auditor")
# The contract page, its reports and the forms a partner role posts there also open for a platform
# organisation's user, on a contract an agency shares with it (web/pages/viewer.py: provide_viewer).
SHARED = {ORGANISATION_PAGES: True}


# -- employers ------------------------------------------------------------------

async def _employers_page(services: PageServices, request: Request, viewer: Viewer, values: dict | None = None,
                          errors: dict | None = None, status: int = 200) -> Response:
    rows = await directory.employers(services.pool, viewer.tenant.id)
    return page(services.templates, request, "employers.html", {
        "employers": rows, "can_register": may(viewer, c.RegisterEmployer),
        "values": values or {}, "errors": errors or {}, "idempotency": new_idempotency_key(),
    }, status=status)


@get("/employers", name="employers", guards=[roles(*EMPLOYER_LIST_READERS)])
async def employers(request: Request, services: NamedDependency[PageServices],
                    viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    return await _employers_page(services, request, viewer)


@post("/employers", guards=[may_issue(c.RegisterEmployer)])
async def register_employer(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer]) -> Response:
    form = await Form.read(request)
    name = form.text("name")

    async def show(state: FormState, status: int) -> Response:
        return await _employers_page(services, request, viewer, dict(state.values), dict(state.errors), status)

    # Shares the record with that employer organisation of the platform (its id, as the organisation gives it).
    org_id = form.ident("org_id", required=False)
    return await answer(services, request, viewer, form, c.RegisterEmployer(name=name, org_id=org_id),
                        to="/employers", show=show, field="name")


# -- contracts ------------------------------------------------------------------

def _scope(viewer: Viewer) -> dict[str, Any]:
    actor = viewer.actor
    return {"employer_id": actor.employer_id if actor.role == "employer" else None,
            "authority": actor.organisation if actor.role == "authority" else None}


@get("/contracts", name="contracts", guards=[roles(*CONTRACT_READERS)])
async def contracts(request: Request, services: NamedDependency[PageServices],
                    viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    rows = await directory.contracts(services.pool, viewer.tenant.id, **_scope(viewer))
    summary = await compliance.compliance_summary(services.pool, viewer.tenant.id, date.today(), **_scope(viewer))
    figures = {row["contract_id"]: row for row in summary["contracts"]}
    return page(services.templates, request, "contracts.html", {
        "contracts": rows, "figures": figures, "can_register": may(viewer, c.RegisterContract),
        "bar": charts.progress,
    })


async def _contract_form(services: PageServices, request: Request, viewer: Viewer, values: dict | None = None,
                         errors: dict | None = None, status: int = 200) -> Response:
    employers = await directory.employers(services.pool, viewer.tenant.id)
    # The rule sets of the platform's table, newest version of each name first: "name/version".
    found = sorted(await rule_sets_async(platform_pool(services.pool)), key=lambda r: (r.name, -r.version))
    options = [(f"{r.name}/{r.version}", f"{r.name} v{r.version} ({r.owner_name or 'platform'})") for r in found]
    return page(services.templates, request, "contract_new.html", {
        "employers": employers, "rule_sets": options, "accepted_by": ACCEPTED_BY,
        "values": {"obligation_percent": "5", "rule_set": options[0][0] if options else "", "accepted_by": "authority",
                   **(values or {})},
        "errors": errors or {}, "idempotency": new_idempotency_key(),
    }, status=status)


def _rule_set_choice(value: str | None) -> dict[str, Any]:
    """The form's "name/version" (or a bare name: its highest version) as the
    command's rule_set and rule_set_version; the service names an unknown one."""
    name, _, version = (value or "").partition("/")
    return {"rule_set": name, "rule_set_version": int(version) if version.isdigit() else None}


@get("/contracts/new", guards=[may_issue(c.RegisterContract)])
async def new_contract(request: Request, services: NamedDependency[PageServices],
                       viewer: NamedDependency[Viewer]) -> Response:
    await fresh(services, request, viewer)
    return await _contract_form(services, request, viewer, {"employer_id": request.query_params.get("employer", "")})


def _obligation_terms(form: Form) -> dict[str, Any]:
    """The obligation's terms of the register and amend forms, each optional."""
    return dict(obligation_basis=form.choice("obligation_basis", OBLIGATION_BASES, required=False),
                wage_bill_eur=form.decimal("wage_bill_eur", required=False),
                obligation_fixed_eur=form.decimal("obligation_fixed_eur", required=False),
                bid_percent=form.decimal("bid_percent", required=False),
                obligation_cap_eur=form.decimal("obligation_cap_eur", required=False),
                pso_step=form.choice("pso_step", PSO_STEPS, required=False),
                pso_valid_until=form.day("pso_valid_until", required=False))


@post("/contracts", guards=[may_issue(c.RegisterContract)])
async def register_contract(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer]) -> Response:
    form = await Form.read(request)
    command = dict(
        employer_id=form.ident("employer_id"), title=form.text("title"),
        contracting_authority=form.text("contracting_authority"),
        contract_value_eur=form.decimal("contract_value_eur"),
        obligation_percent=form.decimal("obligation_percent"),
        starts_on=form.day("starts_on"), ends_on=form.day("ends_on"), awarded_on=form.day("awarded_on"),
        **_rule_set_choice(form.text("rule_set")),
        accepted_by=form.choice("accepted_by", ACCEPTED_BY),
        # Empty: as the counting rules say.
        reporting_period=form.choice("reporting_period", REPORTING_PERIODS, required=False),
        # Optional: who answers for the social return at each side, targets beyond euros.
        **{f"{side}_owner_{part}": form.text(f"{side}_owner_{part}", required=False) or None
           for side in ("employer", "agency") for part in ("name", "email")},
        target_placements=form.integer("target_placements", required=False),
        target_retention_12m_percent=form.decimal("target_retention_12m_percent", required=False),
        # Shares the contract with that authority organisation of the platform.
        authority_org_id=form.ident("authority_org_id", required=False),
        # The obligation (docs/valuation.md, "Obligation"); empty basis and cap: the rule set's.
        **_obligation_terms(form))

    async def show(state: FormState, status: int) -> Response:
        errors = dict(state.errors)
        if "rule_set_version" in errors:  # one select on the form says name and version
            errors["rule_set"] = errors.pop("rule_set_version")
        return await _contract_form(services, request, viewer, dict(state.values), errors, status)

    return await answer(services, request, viewer, form, c.RegisterContract(**command), show=show,  # type: ignore[arg-type]
                        to=lambda result: f"/contracts/{result.body['id']}")


@get("/contracts/{contract_id:str}", name="contract", guards=[roles(*CONTRACT_READERS)], opt=SHARED)
async def contract_detail(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          contract_id: FromPath[str],
                          contract_page: NamedDependency[PageRenderer]) -> Response:
    await fresh(services, request, viewer)
    return await contract_page(services, request, viewer, contract_id)


async def _decide(services: PageServices, request: Request, viewer: Viewer, contract_id: str, contribution_id: str,
                  accept: bool, contract_page: PageRenderer) -> Response:
    contract_ident = parse_id("contract", contract_id)
    ident = parse_id("contribution", contribution_id)
    await get_aggregate(services, viewer, SocialReturnContract, contract_ident)  # visible, else 404
    form = await Form.read(request)
    reason = form.text("reason", required=False)
    if not accept and not reason:
        form.error("reason", "reason_required")
    if form.ok:
        # The contribution must belong to this contract (the URL names both).
        rows = await compliance.contributions_for_contract(services.pool, viewer.tenant.id, contract_ident,
                                                           date.today())
        if not any(r["id"] == str(ident) for r in rows):
            raise NotFound("contribution", contribution_id)
    command = (c.AcceptContribution(contribution_id=ident, reason=reason) if accept
               else c.RejectContribution(contribution_id=ident, reason=reason))

    async def show(state: FormState, status: int) -> Response:
        # Shown on the contribution's row, whichever field the message names.
        errors = {str(ident): next(iter(state.errors.values()))}
        return await contract_page(services, request, viewer, contract_id, forms={"contract": FormState(errors)},
                                   status=status)

    return await answer(services, request, viewer, form, command, to=f"/contracts/{contract_id}", show=show,
                        field="reason")


@post("/contracts/{contract_id:str}/contributions/{contribution_id:str}/accept",
      guards=[may_issue(c.AcceptContribution)], opt=SHARED)
async def accept_contribution(request: Request, services: NamedDependency[PageServices],
                              viewer: NamedDependency[Viewer], contract_id: FromPath[str],
                              contribution_id: FromPath[str], contract_page: NamedDependency[PageRenderer]) -> Response:
    return await _decide(services, request, viewer, contract_id, contribution_id, True, contract_page)


@post("/contracts/{contract_id:str}/contributions/{contribution_id:str}/reject",
      guards=[may_issue(c.RejectContribution)], opt=SHARED)
async def reject_contribution(request: Request, services: NamedDependency[PageServices],
                              viewer: NamedDependency[Viewer], contract_id: FromPath[str],
                              contribution_id: FromPath[str], contract_page: NamedDependency[PageRenderer]) -> Response:
    return await _decide(services, request, viewer, contract_id, contribution_id, False, contract_page)


# -- reporting contributions, amending and closing -----------------------------------

async def _contract_change(services: PageServices, request: Request, viewer: Viewer, contract_id: str, active: str,
                           read: Any, command: Any, default_field: str, contract_page: PageRenderer,
                           to: str = "") -> Response:
    """The shared reading of the contract page's forms: `read` gives the
    command's fields; the page again shows the errors next to the fields of
    the form named `active`."""
    ident = parse_id("contract", contract_id)
    await get_aggregate(services, viewer, SocialReturnContract, ident)  # visible, else 404
    form = await Form.read(request)
    fields = read(form)

    async def show(state: FormState, status: int) -> Response:
        return await contract_page(services, request, viewer, contract_id, forms={"contract": state}, status=status)

    return await answer(services, request, viewer, form, lambda: command(contract_id=ident, **fields),
                        to=f"/contracts/{contract_id}{to}", show=show, field=default_field, name=active)


@post("/contracts/{contract_id:str}/purchases", guards=[may_issue(c.ReportSocialEnterprisePurchase)], opt=SHARED)
async def report_purchase(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          contract_id: FromPath[str],
                          contract_page: NamedDependency[PageRenderer]) -> Response:
    return await _contract_change(services, request, viewer, contract_id, "purchase", lambda f: dict(
        supplier=f.text("supplier"), invoice_amount_eur_excl_vat=f.decimal("invoice_amount_eur_excl_vat"),
        register=f.choice("register", SOCIAL_ENTERPRISE_REGISTERS), invoice_date=f.day("invoice_date"),
        description=f.text("description")), c.ReportSocialEnterprisePurchase, "description", contract_page,
        "#contributions")


def _other_activity(f: Form) -> dict[str, Any]:
    fields = dict(description=f.text("description"), activity_date=f.day("activity_date"),
                  costs_eur=f.decimal("costs_eur", required=False), hours=f.decimal("hours", required=False))
    if f.raw("costs_eur") and f.raw("hours"):
        f.error("costs_eur", "costs_or_hours")
    elif not f.raw("costs_eur") and not f.raw("hours"):
        f.error("costs_eur", "costs_or_hours")
    return fields


@post("/contracts/{contract_id:str}/other-activities", guards=[may_issue(c.ReportOtherActivity)], opt=SHARED)
async def report_other_activity(request: Request, services: NamedDependency[PageServices],
                                viewer: NamedDependency[Viewer], contract_id: FromPath[str],
                                contract_page: NamedDependency[PageRenderer]) -> Response:
    return await _contract_change(services, request, viewer, contract_id, "other", _other_activity,
                                  c.ReportOtherActivity,
                                  "description", contract_page, "#contributions")


@post("/contracts/{contract_id:str}/turnover", guards=[may_issue(c.ReportTurnover)])
async def report_turnover(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          contract_id: FromPath[str],
                          contract_page: NamedDependency[PageRenderer]) -> Response:
    """A period's invoiced turnover (obligation on turnover); the same period again corrects it."""
    return await _contract_change(services, request, viewer, contract_id, "turnover", lambda f: dict(
        period_start=f.day("period_start"), period_end=f.day("period_end"), amount_eur=f.decimal("amount_eur")),
        c.ReportTurnover, "amount_eur", contract_page, "#turnover")


@post("/contracts/{contract_id:str}/amend", guards=[may_issue(c.AmendContract)])
async def amend_contract(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         contract_id: FromPath[str],
                         contract_page: NamedDependency[PageRenderer]) -> Response:
    def read(f: Form) -> dict[str, Any]:
        changes = dict(title=f.text("title"), contracting_authority=f.text("contracting_authority"),
                       contract_value_eur=f.decimal("contract_value_eur"),
                       obligation_percent=f.decimal("obligation_percent"),
                       starts_on=f.day("starts_on"), ends_on=f.day("ends_on"),
                       # Empty: unchanged (a choice made is not taken back to the counting rules').
                       reporting_period=f.choice("reporting_period", REPORTING_PERIODS, required=False),
                       # The obligation's terms; empty: unchanged.
                       **_obligation_terms(f))
        # The field comes filled with the organisation it is shared with: emptied, it unlinks.
        unlink = "authority_org_id" in f.data and not f.raw("authority_org_id")
        return {"changes": changes, "authority_org_id": f.ident("authority_org_id", required=False),
                "unlink_authority": unlink}
    return await _contract_change(services, request, viewer, contract_id, "amend", read, c.AmendContract, "title",
                                  contract_page)


@post("/contracts/{contract_id:str}/close", guards=[may_issue(c.CloseContract)])
async def close_contract(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         contract_id: FromPath[str],
                         contract_page: NamedDependency[PageRenderer]) -> Response:
    def read(f: Form) -> dict[str, Any]:
        fields = dict(closed_on=f.day("closed_on"), reason=f.text("reason", required=False) or None)
        if not f.flag("confirm"):
            f.error("confirm", "confirm")
        return fields
    return await _contract_change(services, request, viewer, contract_id, "close", read, c.CloseContract, "closed_on",
                                  contract_page)


# -- reports for the contracting authority ----------------------------------------

async def _report_data(services: PageServices, request: Request, viewer: Viewer, contract_id: str) -> dict[str, Any]:
    ident = parse_id("contract", contract_id)
    contract: SocialReturnContract = await get_aggregate(services, viewer, SocialReturnContract, ident)
    as_of = _report_day(request)
    figures = await compliance.compliance_for_contract(services.pool, viewer.tenant.id, ident, as_of)
    contributions = await compliance.contributions_for_contract(services.pool, viewer.tenant.id, ident, as_of)
    names = await directory.names(services.pool, viewer.tenant.id, [contract.employer_id])
    return {"contract": contract, "employer_name": names.get(contract.employer_id, ""), "figures": figures,
            "contributions": contributions, "as_of": as_of}


def _report_day(request: Request) -> date:
    raw = request.query_params.get("as_of") or ""
    try:
        return parse_date(raw, "as_of") if raw else date.today()
    except DomainError as e:
        raise InvalidInput(e.field, str(e)) from None


def _cell(text: str | None) -> str:
    """Free text for a spreadsheet cell: a leading =, +, -, @ or control
    character would make Excel or LibreOffice read it as a formula."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@get("/contracts/{contract_id:str}/report.csv", guards=[roles(*CONTRACT_READERS)], opt=SHARED)
async def report_csv(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                     contract_id: FromPath[str]) -> Response:
    """The compliance report as CSV (semicolon-separated, decimal points: opens in Dutch spreadsheets)."""
    import csv
    import io

    data = await _report_data(services, request, viewer, contract_id)
    contract, figures = data["contract"], data["figures"] or {}
    out = io.StringIO()
    w = csv.writer(out, delimiter=";")
    w.writerow(["contract", contract.title])
    w.writerow(["contract_id", str(contract.id)])
    w.writerow(["employer", data["employer_name"]])
    w.writerow(["contracting_authority", contract.contracting_authority])
    w.writerow(["term", contract.starts_on.isoformat(), contract.ends_on.isoformat()])
    w.writerow(["rule_set", contract.rule_set])
    w.writerow(["rule_set_version", contract.rule_set_version])
    w.writerow(["as_of", data["as_of"].isoformat()])
    for key in ("obligation_eur", "reported_eur", "accepted_eur", "rejected_eur", "pending_eur", "forecast_eur",
                "forecast_accepted_eur", "forecast_pending_eur", "percent_accepted", "status"):
        w.writerow([key, figures.get(key, "")])
    w.writerow([])
    w.writerow(["quarter", "reported_eur", "accepted_eur", "rejected_eur", "pending_eur"])
    for q in figures.get("quarters", []):
        w.writerow([q["quarter"], q["reported_eur"], q["accepted_eur"], q["rejected_eur"], q["pending_eur"]])
    w.writerow([])
    w.writerow(["contribution_id", "kind", "reported_on", "value_eur", "status", "decided_on", "reason",
                "description", "supplier", "zero_code"])
    for k in data["contributions"]:
        w.writerow([k["id"], k["kind"], k["reported_on"], k["value_eur"], k["status"], k["decided_on"] or "",
                    k["reason"] or "", _cell(k["description"] if k["kind"] != "placement" else ""),
                    _cell(k["supplier"]), (k.get("explanation") or {}).get("zero_code") or ""])
    filename = f"social-return-{contract.id}-{data['as_of'].isoformat()}.csv"
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@get("/contracts/{contract_id:str}/report", guards=[roles(*CONTRACT_READERS)], opt=SHARED)
async def report_print(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       contract_id: FromPath[str]) -> Response:
    """A printable compliance report for the contracting authority."""
    data = await _report_data(services, request, viewer, contract_id)
    return page(services.templates, request, "contract_report.html", data)
