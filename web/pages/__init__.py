"""The web pages (HTML + htmx), beside the JSON API.

`pages_routers(system)` gives the routers and `page_stores()` the session
store. This is where the pages are wired: a handler gets its services as the
dependency `services` (a `PageServices`: the ledger, the read pool, the
templates), the viewer as `viewer`, the signed-in viewers as `viewers`; the
`signed_in` guard and the error pages are made here with what they use
(guards and exception handlers get no dependencies). No page module reads the
app's state (tests/web/test_page_structure.py). Sessions and CSRF wrap the
pages only: the API keeps its bearer tokens and JSON errors. Security headers
are the app's (web/pages/security.py), on every response.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, TYPE_CHECKING

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.static_files import create_static_files_router

from service.ledger import Ledger
from web.pages import assembly, audit, auth, candidates, contracts, dashboard, documents, duties, employers, matching
from web.pages import imports
from web.pages import outcomes, placements
from web.pages import impact, notifications, open_support, portfolio, responsible, rule_sets, statements, support, tokens
from web.pages import vacancies, webhooks
from web.pages.common import ErrorPages, PageServices
from web.pages.i18n import language_cookie_middleware
from web.pages.render import Templates
from web.pages.security import csrf_config
from web.pages.sessions import STORE_NAME, PageSessionConfig, PostgresSessionStore
from web.pages.viewer import Viewers, provide_viewer, signed_in

if TYPE_CHECKING:  # the composition root builds the app; web only names its type
    from infra.bootstrap import System

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

PAGE_HANDLERS = [
    dashboard.dashboard, dashboard.retention_page,
    contracts.employers, contracts.register_employer, employers.employer_detail, employers.add_contact_person,
    employers.link_organisation,
    contracts.contracts, contracts.new_contract, contracts.register_contract, contracts.contract_detail,
    contracts.accept_contribution, contracts.reject_contribution, contracts.report_csv, contracts.report_print,
    contracts.report_purchase, contracts.report_other_activity, contracts.amend_contract, contracts.close_contract,
    contracts.report_turnover,
    candidates.candidates, candidates.new_candidate, candidates.register_candidate,
    candidates.candidate_profile, candidates.own_profile, candidates.state_support_needs,
    candidates.start_employment, candidates.end_employment, candidates.make_employment_permanent,
    vacancies.vacancies, vacancies.new_vacancy, vacancies.open_vacancy, vacancies.vacancy_detail,
    vacancies.match_candidate, vacancies.edit_vacancy_form, vacancies.edit_vacancy, vacancies.close_vacancy,
    placements.placements, placements.new_placement, placements.start_placement,
    placements.placement_detail, placements.placement_timeline, placements.placement_feedback,
    placements.give_feedback, placements.change_hours,
    placements.end_placement, placements.extend_placement,
    matching.vacancy_suggestions, matching.propose_candidate, matching.vacancy_board, matching.employer_board,
    matching.record_step,
    duties.report_sickness, duties.report_recovery, duties.placement_duty_done, duties.duties_page,
    duties.duty_done, duties.reminders_page, responsible.assign_responsible, open_support.open_support,
    *support.HANDLERS, *outcomes.HANDLERS,
    *impact.HANDLERS,
    audit.audit_home, audit.audit_events, audit.audit_compliance, audit.audit_export, audit.request_export,
    audit.export_job, audit.download_export, audit.audit_access_log,
    *tokens.HANDLERS, *documents.HANDLERS,
    *statements.HANDLERS, *portfolio.HANDLERS,
    *notifications.HANDLERS, *rule_sets.HANDLERS, *webhooks.HANDLERS, *imports.HANDLERS,
]


def pages_routers(system: System) -> list[Router]:
    production = system.settings.is_production
    documents.configure(system.settings)
    statements.configure(system.settings)
    session = PageSessionConfig(secure=production)
    templates = Templates()
    viewers = Viewers(system.registry)
    audit_services = audit.AuditServices(system.settings, system.broker)
    middleware = [
        language_cookie_middleware,
        session.middleware,
        DefineMiddleware(CSRFMiddleware, config=csrf_config(system.settings.secret_key, production)),
    ]
    signed_in_pages = Router(path="/", route_handlers=PAGE_HANDLERS, guards=[signed_in(viewers)],
                             dependencies={"viewer": Provide(provide_viewer),
                                           "audit_services": Provide(_constant(audit_services), use_cache=True,
                                                                     sync_to_thread=False),
                                           **page_renderers()})
    pages = Router(
        path="/", route_handlers=[auth.login_form, auth.login, auth.logout, signed_in_pages],
        middleware=middleware, exception_handlers=ErrorPages(templates).handlers(),
        dependencies={"viewers": Provide(_constant(viewers), use_cache=True, sync_to_thread=False),
                      "services": Provide(_services(templates), sync_to_thread=False)},
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static", directories=[STATIC_DIR], name="static",
        cache_control=CacheControlHeader(max_age=3600, public=True))
    return [pages, static]


def page_renderers() -> dict[str, Provide]:
    """The composite pages (web/pages/assembly.py), given by name to the
    features' forms that answer with the whole page: `placement_page`,
    `contract_page`, `employer_page`. The sections never import the assembly."""
    return {name: Provide(_constant(render), use_cache=True, sync_to_thread=False)
            for name, render in assembly.PAGES.items()}


def _constant(value: Any) -> Any:
    def provide() -> Any:
        return value
    return provide


def _services(templates: Templates) -> Any:
    """The `services` of a page request, from the app's dependencies `ledger`
    and `pool` (web/app.py) and the pages' templates."""
    def provide(ledger: NamedDependency[Ledger], pool: NamedDependency[Any]) -> PageServices:
        return PageServices(ledger=ledger, pool=pool, templates=templates)
    return provide


def page_stores(pool_of: Any) -> dict[str, Any]:
    return {STORE_NAME: PostgresSessionStore(pool_of)}
