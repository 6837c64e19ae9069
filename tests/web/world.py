"""A demo-like world for the page sweeps (accessibility, CSRF, roles, 404s)
and the attack suite (tests/attack): one employer with a contract, vacancies,
a placement with support, duties, contributions and a pipeline; the people
who act in it (`Agency`, `Browser`); the route table of the pages, and the
ids that fill its path parameters; who may post each form (`POST_ROLES`).

Routes are read from `web.pages.PAGE_HANDLERS`, so a page or form added later
is swept too; a path parameter the sweep cannot fill fails the sweep (give
it an id in `build_world`). The fixtures that use this (`world`, `signed_in`)
are in tests/web/conftest.py."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import httpx
from litestar.testing import TestClient

from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.duties import duties_for
from domain.placement import Placement
from domain.statement import reporting_periods
from infra.bootstrap import System
from infra.eventstore import Tenant
from infra.registry import User
from infra.webhooks import Owner
from projections.writer import ProjectionRunner
from projections.registry import PROJECTIONS
from service import commands as c
from service import importing
from service.actor import Actor
from tests.api import document_samples
from tests.conftest import random_slug
from tests.projections.conftest import live_positions, wait_until
from web.pages import PAGE_HANDLERS

PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


# -- people and data ------------------------------------------------------------------

@dataclass
class Agency:
    """One tenant with an agency actor that changes things through the ledger."""

    system: System
    tenant: Tenant
    actor: Actor = field(default_factory=lambda: Actor(user_id=uuid.uuid4(), role="agency", organisation="test"))

    def run(self, command: Any, as_: Actor | None = None) -> UUID:
        result = self.system.ledger.execute(self.tenant, as_ or self.actor, command)
        return UUID(result.body["id"]) if "id" in result.body else UUID(int=0)

    def period_around(self, contract_id: UUID, day: date) -> tuple[date, date]:
        """The contract's reporting period (year or quarter, cut by the term) holding the day:
        a statement covers one."""
        k = self.system.ledger.get(self.tenant, self.actor, SocialReturnContract, contract_id)
        return next(p for p in reporting_periods(k.starts_on, k.ends_on, k.reports_per) if p[0] <= day <= p[1])

    def user(self, role: str, **kwargs: Any) -> User:
        return self.system.registry.create_user(self.tenant, f"{uuid.uuid4().hex}@example.org", role,
                                                password=PASSWORD, **kwargs)

    def project(self) -> None:
        """Bring every read model of the tenant up to date (what the worker does)."""
        for projection in PROJECTIONS:
            ProjectionRunner(self.system.stores.database(self.tenant.database), projection).catch_up(
                self.tenant, wait=True)

    def wait_for_worker(self, timeout: float = 120) -> None:
        """Wait until the running worker has projected every event of the
        tenant into every read model: a condition on the read-model positions,
        bounded only so that a dead worker fails the test instead of hanging."""
        head = self.system.stores.for_tenant(self.tenant).recorder.max_notification_id() or 0
        wait_until(lambda: min(live_positions(self.system, self.tenant).values()) >= head, timeout,
                   message=f"the worker to project position {head}")

    # -- a small world: one employer with a contract, a candidate placed there ------
    def seed(self, employer_name: str = "Bouwbedrijf De Vries B.V.",
             candidate_name: str = "Sanne Jansen") -> dict[str, UUID]:
        today = date.today()
        ids: dict[str, UUID] = {}
        ids["employer"] = self.run(c.RegisterEmployer(name=employer_name))
        ids["contract"] = self.run(c.RegisterContract(
            employer_id=ids["employer"], title="Onderhoud openbare ruimte", contracting_authority="Gemeente Utrecht",
            contract_value_eur=Decimal("1000000.00"), obligation_percent=Decimal("5"),
            starts_on=today - timedelta(days=365), ends_on=today + timedelta(days=700),
            awarded_on=today - timedelta(days=400), rule_set="utrecht-2024", rule_set_version=1))
        ids["candidate"] = self.run(c.RegisterCandidate(
            full_name=candidate_name, date_of_birth=date(1990, 6, 15), target_group="doelgroepregister",
            competences=["Administratie", "Excel"], support_needs="Schriftelijke instructies.",
            benefit_since=date(2015, 1, 1)))
        ids["vacancy"] = self.run(c.OpenVacancy(
            employer_id=ids["employer"], title="Administratief medewerker", required_competences=["Administratie"],
            optional_competences=["Excel"], hours_per_week=Decimal("24")))
        self.run(c.MatchCandidate(vacancy_id=ids["vacancy"], candidate_id=ids["candidate"]))
        ids["placement"] = self.run(c.StartPlacement(
            candidate_id=ids["candidate"], employer_id=ids["employer"], contract_id=ids["contract"],
            vacancy_id=ids["vacancy"], starts_on=today - timedelta(days=60), hours_per_week=Decimal("24"),
            permanent_contract=False))
        return ids


# -- in-process pages --------------------------------------------------------------------

class Browser:
    """A TestClient with its own cookies: one person using the pages."""

    def __init__(self, client: TestClient):
        self.client = client

    def csrf(self) -> str:
        found = CSRF_RE.search(self.client.get("/login").text)
        if found is None:  # signed in: /login redirects; any page has the token
            found = CSRF_RE.search(self.client.get("/", follow_redirects=True).text)
        assert found is not None
        return found.group(1)

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post("/login", data={"email": email, "password": password,
                                                "_csrf_token": self.csrf(), "next": "/"})

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def forget_cached_viewers(self) -> None:
        """Skip the few seconds the app caches who is signed in: the app's
        `Viewers` (web/pages/viewer.py), as its `viewers` dependency gives it."""
        login = self.client.app.get_handler_index_by_name("login")
        assert login is not None
        viewers = login["handler"].resolve_dependencies()["viewers"].dependency()
        viewers.cache._entries.clear()

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["_csrf_token"] = self.csrf()
        return self.client.post(path, data=body, **kwargs)


def login_as(agency: Agency, pages: Callable[..., Browser], role: str, ids: dict) -> Browser:
    """`pages` (the fixture) signed in as a new user of `role` on the records of `ids`."""
    extra = {"employer": {"employer_id": ids["employer"]}, "employee": {"candidate_id": ids["candidate"]},
             "authority": {"organisation": "Gemeente Utrecht"}}.get(role, {})
    return pages(agency.user(role, **extra))


# -- the sweeps' world -----------------------------------------------------------------------

ROLES = ("agency", "employer", "authority", "auditor", "employee")
AUTHORITY = "Gemeente Utrecht"
PARAM_RE = re.compile(r"\{(\w+):str\}")


def page_routes(method: str) -> list[str]:
    """Every page path (with `{name:str}` parameters) answering `method`."""
    return sorted({path for h in PAGE_HANDLERS if method in h.http_methods for path in h.paths})


def params_of(path: str) -> list[str]:
    return PARAM_RE.findall(path)


@dataclass
class World:
    agency: Agency
    ids: dict[str, UUID]
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, str]:
        """Path parameter -> an id in this world (the vacancy: the open one, with a card on its board)."""
        return {"employer_id": str(self.ids["employer"]), "contract_id": str(self.ids["contract"]),
                "candidate_id": str(self.ids["candidate"]), "vacancy_id": str(self.ids["vacancy2"]),
                "placement_id": str(self.ids["placement"]), **self.extra}

    def fill(self, path: str, **override: str) -> str:
        values = {**self.params, **override}
        missing = [p for p in params_of(path) if p not in values]
        assert not missing, f"the sweep does not know how to fill {missing} in {path}: add it to World"
        return PARAM_RE.sub(lambda m: values[m.group(1)], path)

    def login(self, pages: Any, role: str) -> Browser:
        return pages(self.user(role))

    def user(self, role: str, **override: Any) -> Any:
        extra = {"employer": {"employer_id": self.ids["employer"]},
                 "employee": {"candidate_id": self.ids["candidate"]},
                 "authority": {"organisation": AUTHORITY}}.get(role, {})
        return self.agency.user(role, **{**extra, **override})


# A public address (no name to resolve): subscriptions need one unless WEBHOOK_ALLOW_PRIVATE.
WORLD_HOOK_URL = "https://93.184.216.34/sroi-hook"


def build_world(agency: Agency, *, text: str | None = None) -> World:
    """The world; `text` (e.g. a script payload) is added to every free-text
    field the commands accept (but a phone number: at most 50 characters)."""
    def t(plain: str) -> str:
        return plain if text is None else f"{plain} {text}"

    today = date.today()
    ids = agency.seed(employer_name=t("Bouwbedrijf De Vries B.V."), candidate_name=t("Sanne Jansen"))
    run = agency.run
    employer, contract, placement = ids["employer"], ids["contract"], ids["placement"]
    run(c.AddContactPerson(employer_id=employer, name=t("Marieke de Vries"), email="m.devries@example.org",
                           phone="030 123 45 67", role=t("HR-adviseur")))  # phone: 50 characters
    ids["purchase"] = run(c.ReportSocialEnterprisePurchase(
        contract_id=contract, supplier=t("Werkbedrijf Groen"), invoice_amount_eur_excl_vat=Decimal("12500"),
        register="registered_social_enterprise", invoice_date=today - timedelta(days=20),
        description=t("Groenonderhoud")))
    ids["activity"] = run(c.ReportOtherActivity(contract_id=contract, description=t("Gastles op het ROC"),
                                                activity_date=today - timedelta(days=10), hours=Decimal("4")))
    run(c.NameContractOwner(contract_id=contract, side="employer", name=t("Pieter Bakker"),
                            email="p.bakker@example.org"))
    run(c.NameContractOwner(contract_id=contract, side="agency", name=t("Joyce Smit"), email="j.smit@example.org"))
    run(c.SetContractTargets(contract_id=contract, target_placements=3))
    run(c.LogEmployerSupportActivity(employer_id=employer, kind="workshop", topic="inclusive_leadership",
                                     held_on=today - timedelta(days=5), participants=12, given_by="agency",
                                     title=t("Samenwerken met een dove collega")))
    # A team session after which the managers answer the short survey (40: the sweeps' answers fit).
    run(c.HoldTeamSession(employer_id=employer, kind="workshop", held_on=today - timedelta(days=5), managers=40))
    run(c.AddChecklistItem(placement_id=placement, label=t("Sleutel van de werkplaats"), responsible="employer"))
    run(c.RequestAdjustment(placement_id=placement, kind="tool", description=t("Brailleleesregel"), funder="uwv"))
    run(c.LogCheckIn(placement_id=placement, held_on=today - timedelta(days=3), with_whom="employee",
                     note=t("Vermoeid na lange dagen")))
    run(c.LogCoachingSession(placement_id=placement, held_on=today - timedelta(days=2), hours=Decimal("1.5"),
                             note=t("Planning geoefend")))
    run(c.ReportSickness(placement_id=placement, first_sick_day=today - timedelta(days=2)))
    # The person's employment with the agency (a new contract, no secondment yet).
    ids["employment"] = run(c.StartEmployment(candidate_id=ids["candidate"], starts_on=today - timedelta(days=30),
                                              kind="permanent"))
    # Someone available nearby: a suggestion, then proposed (the board's first column).
    other = run(c.RegisterCandidate(full_name=t("Fatima Bakker"), date_of_birth=date(1995, 3, 1),
                                    target_group="participatiewet", competences=["Administratie", "Excel"],
                                    support_needs="", benefit_since=date(2020, 1, 1)))
    run(c.StateAvailability(candidate_id=other, hours_per_week=Decimal("24"),
                            available_from=today - timedelta(days=3), region="Utrecht"))
    ids["vacancy2"] = run(c.OpenVacancy(employer_id=employer, title=t("Medewerker backoffice"),
                                        required_competences=["Administratie"], optional_competences=["Excel"],
                                        hours_per_week=Decimal("24"), region="Utrecht"))
    run(c.RecordMatchStep(vacancy_id=ids["vacancy2"], candidate_id=other, step="proposed"))
    ids["candidate2"] = other
    # Evidence: the purchase's invoice (an employer sees it), the placement's payslip (it does not).
    ids["invoice_document"] = run(c.AttachDocument(
        record_kind="contribution", record_id=ids["purchase"], kind="invoice", filename=t("Factuur groen.pdf"),
        content=document_samples.pdf("Factuur Werkbedrijf Groen")))
    ids["payslip_document"] = run(c.AttachDocument(
        record_kind="contribution", record_id=Contribution.id_for_placement(placement), kind="payslip",
        filename=t("Loonstrook maart.pdf"), content=document_samples.pdf("Loonstrook maart")))
    ids["spare_document"] = run(c.AttachDocument(
        record_kind="contribution", record_id=ids["activity"], kind="other", filename="Presentielijst.png",
        content=document_samples.png()))
    started = agency.system.ledger.get(agency.tenant, agency.actor, Placement, placement)
    duties = duties_for(placement, started.starts_on, started.planned_end_on, [today - timedelta(days=2)])
    # Period statements, on a contract of their own (the first keeps deciding per
    # contribution): one submitted (its activities are lines L1 and L2: the
    # sweeps decide L1, L2 stays open for evidence), one draft; a
    # period still free for preparing another.
    ids["contract2"] = run(c.RegisterContract(
        employer_id=employer, title=t("Schoonmaak stadskantoor"), contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("200000.00"), obligation_percent=Decimal("5"),
        starts_on=today - timedelta(days=365), ends_on=today + timedelta(days=700),
        awarded_on=today - timedelta(days=400), rule_set="utrecht-2024", rule_set_version=1, reporting_period="quarter"))
    run(c.ReportOtherActivity(contract_id=ids["contract2"], description=t("Werkervaringsdag"),
                              activity_date=today - timedelta(days=30), hours=Decimal("6")))
    run(c.ReportOtherActivity(contract_id=ids["contract2"], description=t("Sollicitatietraining"),
                              activity_date=today - timedelta(days=30), hours=Decimal("3")))
    # It reports per quarter: the activities' quarter submitted, the next one a draft, the one after free.
    submitted_period = agency.period_around(ids["contract2"], today - timedelta(days=30))
    draft_period = agency.period_around(ids["contract2"], submitted_period[1] + timedelta(days=1))
    free_period = agency.period_around(ids["contract2"], draft_period[1] + timedelta(days=1))
    statement = run(c.PrepareStatement(contract_id=ids["contract2"], period_start=submitted_period[0],
                                       period_end=submitted_period[1]))
    run(c.SubmitStatement(statement_id=statement))
    draft = run(c.PrepareStatement(contract_id=ids["contract2"], period_start=draft_period[0],
                                   period_end=draft_period[1]))
    # A framework contract whose obligation is a share of invoiced turnover: its
    # page shows the turnover form (the page sweep posts it empty).
    ids["turnover_contract"] = run(c.RegisterContract(
        employer_id=employer, title=t("Raamcontract groenonderhoud"), contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("500000.00"), obligation_percent=Decimal("5"),
        starts_on=today - timedelta(days=365), ends_on=today + timedelta(days=365),
        awarded_on=today - timedelta(days=400), rule_set="utrecht-2024", rule_set_version=1,
        obligation_basis="invoiced_turnover"))
    # An API token of someone in the tenant (the users the sweeps sign in as are others).
    token, _ = agency.system.registry.create_token(agency.user("agency").id, label=t("Koppeling"))
    # An employer organisation of the platform to share the employer record with (the link form).
    employer_org = agency.system.registry.create_organisation(
        "employer", t("Bouwbedrijf De Vries"), kvk=f"{uuid4().int % 10**8:08d}")
    # Webhook subscriptions of the agency (one to delete), and a delivery in the log.
    hooks, owner = agency.system.webhooks, Owner(tenant_id=agency.tenant.id)
    subscription, _ = hooks.create(owner, agency.user("agency").id, WORLD_HOOK_URL, ["*"], "Koppeling")
    spare_subscription, _ = hooks.create(owner, agency.user("agency").id, WORLD_HOOK_URL, ["EmployerRegistered"])
    run(c.RegisterEmployer(name=t("Schoonmaakbedrijf Webhook")))
    agency.system.follow_webhooks(agency.tenant)
    delivery = hooks.deliveries(owner, UUID(subscription["id"]))[0]
    # Spreadsheet imports (docs/import.md): one previewed (confirmed by the sweeps), one to map
    # again, one done with its file kept (the sweeps delete it).
    system = agency.system
    employers_csv = f"Sleutel;Naam\nW1;{t('Drukkerij Oost')}\n".encode()
    imports = {}
    for name in ("import", "mapping_import", "kept_import"):
        imports[name] = importing.upload(system.ledger, system.imports, agency.tenant, agency.actor,
                                         t("werkgevers.csv"), employers_csv, "employers")
    kept = system.imports.get(agency.tenant.id, imports["kept_import"])
    importing.confirm_import(system.ledger, system.imports, agency.tenant, agency.actor, kept.id,
                             kept.fingerprint, True, None)
    extra = {"contribution_id": str(ids["purchase"]), "duty_id": str(duties[-1].id),
             "subscription_id": subscription["id"], "spare_subscription_id": spare_subscription["id"],
             "delivery_id": delivery["id"],
             **{f"{name}_id": str(ident) for name, ident in imports.items()},
             "import_fingerprint": system.imports.get(agency.tenant.id, imports["import"]).fingerprint,
             "employment_id": str(ids["employment"]),
             "item_id": "team_informed", "adjustment_id": "adj-1", "job_id": str(uuid4()),
             "session_id": "session-1",
             "token_id": str(token.id), "employer_org_id": str(employer_org.id),
             "document_id": str(ids["invoice_document"]), "spare_document_id": str(ids["spare_document"]),
             "statement_id": str(statement), "draft_statement_id": str(draft),
             "statement_contract_id": str(ids["contract2"]), "line_id": "L1", "open_line_id": "L2",
             "free_period_start": free_period[0].isoformat(), "free_period_end": free_period[1].isoformat(),
             # A shipped rule set version (platform data: the same for every tenant).
             "name": "utrecht-2024", "version": "1"}
    agency.project()
    return World(agency=agency, ids=ids, extra=extra)


def events_stored(agency: Agency) -> int:
    """The tenant's last notification id: unchanged means nothing was stored."""
    return agency.system.stores.for_tenant(agency.tenant).recorder.max_notification_id() or 0


def new_tenant(system: System) -> Agency:
    return Agency(system=system, tenant=system.registry.create_tenant(random_slug("sweep"), "Werkbedrijf Sweep B.V."))


# -- every form's POST route: who may post it ------------------------------------------------

TODAY = date.today().isoformat()
POST_ROLES: dict[str, tuple[set[str], dict[str, str]]] = {
    # route: (roles that may post it on their own records, a valid form for it)
    "/audit/export": ({"agency", "auditor"}, {}),
    "/candidates": ({"agency"}, {"full_name": "Noor de Wit", "date_of_birth": "1990-01-01",
                                 "target_group": "participatiewet", "competences": "Plannen"}),
    "/candidates/{candidate_id:str}/support-needs": ({"agency", "employee"}, {"support_needs": "Rustige plek"}),
    "/contracts": ({"agency"}, {"employer_id": "{employer_id}", "title": "Groen",
                                "contracting_authority": "Gemeente Utrecht", "contract_value_eur": "100000",
                                "obligation_percent": "5", "awarded_on": "2025-01-01",
                                "starts_on": "2025-02-01", "ends_on": "2027-01-01", "rule_set": "utrecht-2024"}),
    "/contracts/{contract_id:str}/amend": ({"agency"}, {"title": "Anders", "contracting_authority": "Gemeente Utrecht",
                                                       "contract_value_eur": "900000", "obligation_percent": "5",
                                                       "starts_on": "2025-01-01", "ends_on": "2029-01-01"}),
    "/contracts/{contract_id:str}/close": ({"agency"}, {"closed_on": TODAY, "confirm": "yes"}),
    # The world's contracts are on their contract value: a valid form answers 409 there
    # (tests/web/test_obligation_page.py reports turnover on a contract on turnover).
    "/contracts/{contract_id:str}/turnover": ({"agency"}, {"period_start": "2025-02-01", "period_end": "2025-12-31",
                                                          "amount_eur": "250000"}),
    # The contract's contributions are the authority's to decide (accepted_by="authority").
    "/contracts/{contract_id:str}/contributions/{contribution_id:str}/accept": ({"authority"}, {"reason": "Gezien"}),
    # A form without its file: the page answers with the form and the error at the file.
    "/contracts/{contract_id:str}/documents": ({"agency", "employer"}, {"contribution_id": "{contribution_id}",
                                                                       "kind": "invoice"}),
    "/contracts/{contract_id:str}/contributions/{contribution_id:str}/reject": ({"authority"},
                                                                                {"reason": "Geen bewijs"}),
    "/contracts/{contract_id:str}/other-activities": ({"agency", "employer"}, {"description": "Gastles",
                                                                              "activity_date": TODAY, "hours": "2"}),
    "/contracts/{contract_id:str}/owners": ({"agency"}, {"side": "agency", "name": "Jan Smit",
                                                         "email": "j@example.org"}),
    "/contracts/{contract_id:str}/purchases": ({"agency", "employer"}, {
        "supplier": "Werkbedrijf Groen", "invoice_amount_eur_excl_vat": "100",
        "register": "registered_social_enterprise", "invoice_date": TODAY, "description": "Groenonderhoud"}),
    "/contracts/{contract_id:str}/targets": ({"agency"}, {"target_placements": "5"}),
    "/contracts/{contract_id:str}/statements": ({"agency"}, {"period_start": "{free_period_start}",
                                                             "period_end": "{free_period_end}"}),
    # The world's submitted statement: decided by the authority its contract names.
    "/statements/{statement_id:str}/submit": ({"agency"}, {}),
    "/statements/{statement_id:str}/lines/{line_id:str}/decide": ({"authority"}, {"decision": "accepted"}),
    # A line's own document, without its file: the statement page with the error at the file.
    "/statements/{statement_id:str}/lines/{line_id:str}/documents": ({"agency"}, {"kind": "invoice"}),
    "/duties/{duty_id:str}/done": ({"agency"}, {}),
    "/employers": ({"agency"}, {"name": "Bouwbedrijf Nieuw"}),
    "/candidates/{candidate_id:str}/employments": ({"agency"}, {"starts_on": TODAY, "kind": "fixed_term",
                                                               "ends_on": "2030-01-01"}),
    "/employments/{employment_id:str}/end": ({"agency"}, {"ends_on": TODAY, "reason": "resigned"}),
    "/employments/{employment_id:str}/permanent": ({"agency"}, {"on": TODAY}),
    "/employers/{employer_id:str}/contact-persons": ({"agency", "employer"}, {"name": "Eva Bakker",
                                                                             "email": "eva@example.org"}),
    "/employers/{employer_id:str}/organisation": ({"agency"}, {"org_id": "{employer_org_id}"}),
    # Issue 16: a team session and a manager's anonymous answers (the world's session has 40 managers).
    "/employers/{employer_id:str}/team-sessions": ({"agency", "employer"}, {"kind": "workshop", "held_on": TODAY,
                                                                           "managers": "5"}),
    "/employers/{employer_id:str}/team-sessions/{session_id:str}/answers": ({"agency", "employer"}, {
        "knowledge": "4", "confidence": "3", "would_hire_again": "yes"}),
    "/employers/{employer_id:str}/support-activities": ({"agency"}, {
        "kind": "workshop", "topic": "inclusive_leadership", "held_on": TODAY, "participants": "5",
        "given_by": "agency"}),
    "/placements": ({"agency"}, {"employer_id": "{employer_id}", "candidate_id": "{candidate_id}",
                                 "starts_on": TODAY, "hours_per_week": "20"}),
    "/placements/{placement_id:str}/duties/{duty_id:str}/done": ({"agency"}, {}),
    "/placements/{placement_id:str}/end": ({"agency"}, {"ends_on": TODAY, "reason": "other"}),
    "/placements/{placement_id:str}/extend": ({"agency"}, {"until": "2030-01-01"}),
    "/placements/{placement_id:str}/feedback": ({"agency", "employer", "employee"}, {"score": "4", "comment": "Goed"}),
    "/placements/{placement_id:str}/hours": ({"agency"}, {"hours_per_week": "20", "effective_on": TODAY}),
    # Outcomes beyond euros (web/pages/outcomes.py): progression by the agency; the person's own
    # check-in (the world's placement started 60 days ago: its 1-month check-in is open).
    "/placements/{placement_id:str}/role": ({"agency"}, {"scale": "schaal 5", "effective_on": TODAY}),
    "/placements/{placement_id:str}/trainings": ({"agency"}, {"training": "VCA basis", "completed_on": TODAY}),
    "/placements/{placement_id:str}/permanent": ({"agency"}, {"on": TODAY}),
    "/placements/{placement_id:str}/check-ins": ({"employee"}, {"moment": "1", "supported": "4", "work_suits": "4",
                                                                 "can_ask": "3", "want_to_stay": "5"}),
    "/placements/{placement_id:str}/check-ins/sharing": ({"employee"}, {"sharing": "individual"}),
    "/placements/{placement_id:str}/recovery": ({"agency"}, {"recovered_on": TODAY}),
    "/placements/{placement_id:str}/responsible": ({"agency"}, {"responsible_user_id": ""}),
    "/placements/{placement_id:str}/sickness": ({"agency"}, {"first_sick_day": TODAY}),
    "/placements/{placement_id:str}/support/adjustments": ({"agency", "employee"}, {"kind": "tool",
                                                                                   "description": "Headset"}),
    "/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/delivered": (
        {"agency", "employer"}, {"delivered_on": TODAY}),
    "/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/funder": ({"agency"},
                                                                                      {"funder": "employer"}),
    "/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/refused": ({"agency"}, {"reason": "other"}),
    "/placements/{placement_id:str}/support/check-ins": ({"agency"}, {"held_on": TODAY, "with_whom": "employee"}),
    "/placements/{placement_id:str}/support/coaching": ({"agency"}, {"held_on": TODAY, "hours": "1",
                                                                     "with_whom": "employee"}),
    "/placements/{placement_id:str}/support/items": ({"agency", "employer"}, {"label": "Pasje",
                                                                              "responsible": "employer"}),
    "/placements/{placement_id:str}/support/items/{item_id:str}/done": ({"agency", "employer"}, {}),
    "/vacancies": ({"agency", "employer"}, {"employer_id": "{employer_id}", "title": "Koerier",
                                            "required_competences": "Rijbewijs B", "hours_per_week": "20"}),
    "/vacancies/{vacancy_id:str}/close": ({"agency", "employer"}, {"confirm": "yes"}),
    "/vacancies/{vacancy_id:str}/edit": ({"agency", "employer"}, {"title": "Backoffice", "hours_per_week": "20",
                                                                 "required_competences": "Administratie"}),
    "/vacancies/{vacancy_id:str}/matches": ({"agency"}, {"candidate_id": "{candidate_id}"}),
    "/vacancies/{vacancy_id:str}/pipeline": ({"agency", "employer"}, {"candidate_id": "{candidate2}",
                                                                       "step": "introduced"}),
    "/vacancies/{vacancy_id:str}/suggestions": ({"agency"}, {"candidate_id": "{candidate_id}"}),
    # Every role holds API tokens of its own (the world's token is someone else's: 404 for all).
    # Spreadsheet imports: the world's previewed import (mapped again, confirmed); its file kept by none.
    "/imports": ({"agency"}, {"kind": "employers"}),
    "/imports/{import_id:str}/mapping": ({"agency"}, {}),
    "/imports/{import_id:str}/confirm": ({"agency"}, {"fingerprint": "{import_fingerprint}"}),
    "/imports/{import_id:str}/forget-file": ({"agency"}, {}),
    "/tokens": (set(ROLES), {"label": "Koppeling met het salarispakket", "days": "30"}),
    "/tokens/{token_id:str}/revoke": (set(ROLES), {}),
    # Marking one's own notifications read: every role, no ledger command.
    "/notifications/read": (set(ROLES), {}),
    # Rule sets: an authority organisation's users publish (no agency role may);
    # anyone may preview a body (nothing is stored).
    "/rule-sets": (set(), {"body": "[]"}),
    "/rule-sets/preview": (set(ROLES), {"body": "[]"}),
    # Webhooks: the agency's users (an organisation's users manage their own: test_webhook_pages.py).
    "/webhooks": ({"agency"}, {"url": WORLD_HOOK_URL, "all_events": "on"}),
    "/webhooks/{subscription_id:str}/pause": ({"agency"}, {}),
    "/webhooks/{subscription_id:str}/resume": ({"agency"}, {}),
    "/webhooks/{subscription_id:str}/rotate-secret": ({"agency"}, {}),
    "/webhooks/{subscription_id:str}/replay": ({"agency"}, {"since": "2025-01-01"}),
    "/webhooks/{subscription_id:str}/deliveries/{delivery_id:str}/replay": ({"agency"}, {}),
    "/webhooks/{subscription_id:str}/delete": ({"agency"}, {"confirm": "yes"}),
}
# Routes whose id is the signed-in user's own record, which the shared world
# cannot name for each user (tests/web/test_tokens.py revokes one's own token).
OWN_RECORD_ROUTES = {"/tokens/{token_id:str}/revoke"}


def form_for(world: World, route: str) -> dict[str, str]:
    """POST_ROLES' valid form for `route`, its {placeholders} filled from `world`."""
    values = {**world.params, "candidate2": str(world.ids["candidate2"])}  # contribution_id: the purchase
    return {k: v.format(**values) if v.startswith("{") else v for k, v in POST_ROLES[route][1].items()}
