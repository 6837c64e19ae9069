"""Isolation of the JSON API, swept from the app's route table: every route,
every role, another tenant's ids, another employer's, person's or
municipality's records.

`API` below says, for every API route, which roles get an answer on their
own records (the others: 403 or 404) and a valid request body. The route
table and the OpenAPI document are checked against it, so a route added
later fails the sweep until it is declared here, and is then swept like
the rest. Each request is a probe (tests/attack/probes.py): the figures are
printed at the end of the run and kept in docs/security.md."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from tests.api import document_samples
from tests.attack.conftest import FULL_READERS, ORG_USERS, SPECIAL_CATEGORY, Party, role_of
from tests.attack.probes import identifying, same_answer, sweep
from tests.web.world import PARAM_RE, ROLES, params_of
from web.api.auth import DOCUMENT_PARAM, RECORD_PARAMS
from web.app import create_app
from web.pages import PAGE_HANDLERS

API = "/api/v1"
TODAY = date.today().isoformat()
SOON = (date.today() + timedelta(days=30)).isoformat()


@dataclass(frozen=True)
class Route:
    roles: frozenset[str]  # who gets an answer on their own records (everyone else: 403 or 404)
    body: Any = None  # a valid JSON body; "{name}" strings are filled from the world; a function of the role
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> which of the world's ids to use
    # The platform organisations' users (ORG_USERS) answered on a route that names
    # no record: their cross-agency lists, read by the organisation of the token.
    orgs: frozenset[str] = frozenset()
    # Platform data every tenant shares (rule sets): no tenant's record in its path or answer.
    public: bool = False


@dataclass(frozen=True)
class Upload:
    """A multipart body: one file and its kind."""
    filename: str
    content: bytes
    kind: str


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


EVERYONE = roles(*ROLES)
READERS = roles("agency", "auditor", "employer", "authority")  # of a contract and its figures
AGENCY = roles("agency")


def rule_set_body(role: str) -> dict[str, Any]:
    """Utrecht's figures under a name of its own (a published version never changes)."""
    body = json.loads(resources.files("domain.rulesets").joinpath("utrecht-2024.json").read_text("utf-8"))
    return {**body, "name": f"sweep-{uuid4().hex[:12]}"}


def feedback(role: str) -> dict[str, Any]:
    return {"score": 4, "from_role": {"agency": "coach"}.get(role, role), "comment": "Goed bezig."}


API_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/access-log"): Route(roles("agency", "auditor")),
    ("POST", "/candidates"): Route(AGENCY, {"full_name": "Noor de Wit", "date_of_birth": "1991-01-01",
                                            "target_group": "participatiewet", "competences": ["Plannen"]}),
    ("GET", "/candidates/{candidate_id:str}"): Route(roles("agency", "auditor", "employee")),
    # The lists (web/api/list_routes.py): every role is answered, with what its single
    # reads show (an employer: its own; a person: their own; a role that sees none: []).
    ("GET", "/candidates"): Route(EVERYONE),
    ("GET", "/contracts"): Route(EVERYONE),
    ("GET", "/employers"): Route(EVERYONE),
    ("GET", "/placements"): Route(EVERYONE),
    ("GET", "/vacancies"): Route(EVERYONE),
    ("POST", "/candidates/{candidate_id:str}/availability"): Route(
        roles("agency", "employee"), {"hours_per_week": "24", "available_from": TODAY, "region": "Utrecht"}),
    ("POST", "/candidates/{candidate_id:str}/erase"): Route(AGENCY, ids={"candidate_id": "spare_candidate_id"}),
    ("POST", "/candidates/{candidate_id:str}/support-needs"): Route(roles("agency", "employee"),
                                                                   {"support_needs": "Een rustige werkplek."}),
    ("GET", "/compliance"): Route(READERS),
    ("POST", "/contracts"): Route(AGENCY, {
        "employer_id": "{employer_id}", "title": "Groenonderhoud", "contracting_authority": "Gemeente Utrecht",
        "contract_value_eur": "100000", "obligation_percent": "5", "awarded_on": "2025-01-01",
        "starts_on": "2025-02-01", "ends_on": "2027-01-01", "rule_set": "utrecht-2024"}),
    ("GET", "/contracts/{contract_id:str}"): Route(READERS),
    ("PATCH", "/contracts/{contract_id:str}"): Route(AGENCY, {"title": "Onderhoud openbare ruimte (gewijzigd)",
                                                              "authority_org_id": "{authority_org_id}"}),
    ("POST", "/contracts/{contract_id:str}/close"): Route(AGENCY, {"closed_on": TODAY}),
    # The world's contract is on its contract value: its own agency is answered 409.
    ("POST", "/contracts/{contract_id:str}/turnover"): Route(AGENCY, {
        "period_start": "2025-02-01", "period_end": "2025-12-31", "amount_eur": "250000.00"}),
    ("GET", "/contracts/{contract_id:str}/compliance"): Route(READERS),
    ("GET", "/contracts/{contract_id:str}/contributions"): Route(READERS),
    ("POST", "/contracts/{contract_id:str}/contributions"): Route(roles("agency", "employer"), {
        "kind": "other_activity", "description": "Gastles", "activity_date": TODAY, "hours": "2"}),
    ("POST", "/contracts/{contract_id:str}/owners"): Route(AGENCY, {"side": "agency", "name": "Jan Smit",
                                                                    "email": "j.smit@example.org"}),
    ("GET", "/contracts/{contract_id:str}/targets"): Route(READERS),
    # Issue 16: the yearly impact report and the targets' trend per quarter.
    ("GET", "/contracts/{contract_id:str}/impact"): Route(READERS),
    ("GET", "/contracts/{contract_id:str}/targets/trend"): Route(READERS),
    # The world's contract that reports by statements (the first decides per contribution).
    ("GET", "/contracts/{contract_id:str}/statements"): Route(READERS, ids={"contract_id": "statement_contract_id"}),
    ("POST", "/contracts/{contract_id:str}/statements"): Route(AGENCY, {
        "period_start": "{free_period_start}", "period_end": "{free_period_end}"},
        ids={"contract_id": "statement_contract_id"}),
    ("GET", "/statements/{statement_id:str}"): Route(READERS),
    # The world's draft; its submitted statement is decided by the authority it names.
    ("POST", "/statements/{statement_id:str}/submit"): Route(AGENCY, ids={"statement_id": "draft_statement_id"}),
    ("POST", "/statements/{statement_id:str}/decisions"): Route(roles("authority"), [
        {"line_id": "L1", "decision": "accepted", "reason": "Loonstroken gezien"}]),
    # A line's own documents: the agency attaches while the line is undecided (L1 is decided above).
    ("POST", "/statements/{statement_id:str}/lines/{line_id:str}/documents"): Route(AGENCY, lambda role: Upload(
        "Factuur gecorrigeerd.pdf", document_samples.pdf("Factuur gecorrigeerd"), "invoice"),
        ids={"line_id": "open_line_id"}),
    ("GET", "/statements/{statement_id:str}/lines/{line_id:str}/documents"): Route(READERS),
    ("POST", "/contracts/{contract_id:str}/targets"): Route(AGENCY, {"target_placements": 4}),
    # The contract leaves the decision to the contracting authority (its default).
    ("GET", "/contributions/{contribution_id:str}/explanation"): Route(READERS),
    ("POST", "/contributions/{contribution_id:str}/accept"): Route(roles("authority"), {"reason": "Gezien"}),
    ("POST", "/contributions/{contribution_id:str}/reject"): Route(roles("authority"), {"reason": "Geen bewijs"},
                                                                   ids={"contribution_id": "activity"}),
    # Documents: whoever sees the contribution; the employer only documents about no person.
    ("POST", "/contributions/{contribution_id:str}/documents"): Route(roles("agency", "employer"), lambda role: Upload(
        "Factuur.pdf", document_samples.pdf("Factuur"), "invoice")),
    ("GET", "/contributions/{contribution_id:str}/documents"): Route(READERS),
    ("GET", "/documents/{document_id:str}"): Route(READERS),
    ("DELETE", "/documents/{document_id:str}"): Route(AGENCY, ids={"document_id": "spare_document_id"}),
    ("GET", "/duties"): Route(AGENCY),
    # Spreadsheet imports (docs/import.md): the agency's only; the world has one to confirm, one
    # to map again and one done with its file kept.
    ("POST", "/imports"): Route(AGENCY, lambda role: Upload("werkgevers.csv", b"Naam\nDrukkerij West\n", "employers")),
    ("GET", "/imports/{import_id:str}"): Route(AGENCY),
    ("GET", "/imports/{import_id:str}/preview"): Route(AGENCY),
    ("POST", "/imports/{import_id:str}/mapping"): Route(AGENCY, {"mapping": {"employers": {"Naam": "name"}}},
                                                       ids={"import_id": "mapping_import_id"}),
    ("POST", "/imports/{import_id:str}/confirm"): Route(AGENCY, {"fingerprint": "{import_fingerprint}"}),
    ("DELETE", "/imports/{import_id:str}/file"): Route(AGENCY, ids={"import_id": "kept_import_id"}),
    ("POST", "/employments"): Route(AGENCY, {"candidate_id": "{candidate_id}", "starts_on": TODAY,
                                             "kind": "fixed_term", "ends_on": "2030-01-01"}),
    ("GET", "/employments/{employment_id:str}"): Route(roles("agency", "auditor")),
    ("GET", "/employments/{employment_id:str}/duties"): Route(AGENCY),
    ("POST", "/employments/{employment_id:str}/end"): Route(AGENCY, {"ends_on": SOON, "reason": "resigned"}),
    # Every user their own notifications (infra/inbox.py): nothing of another's in any case.
    ("GET", "/notifications"): Route(EVERYONE, orgs=roles(*ORG_USERS)),
    ("POST", "/notifications/read"): Route(EVERYONE, {}, orgs=roles(*ORG_USERS)),
    ("POST", "/duties/{duty_id:str}/done"): Route(AGENCY, {}),
    ("POST", "/employers"): Route(AGENCY, {"name": "Bouwbedrijf Nieuw B.V."}),
    ("GET", "/employers/{employer_id:str}"): Route(roles("agency", "auditor", "employer")),
    # Linking to an organisation: the one the record is linked to already (nothing changes).
    ("PATCH", "/employers/{employer_id:str}"): Route(AGENCY, {"org_id": "{employer_org_id}"}),
    ("POST", "/employers/{employer_id:str}/contact-persons"): Route(roles("agency", "employer"), {
        "name": "Eva Bakker", "email": "eva.bakker@example.org"}),
    ("GET", "/employers/{employer_id:str}/retention"): Route(roles("agency", "auditor", "employer")),
    ("GET", "/employers/{employer_id:str}/support-activities"): Route(roles("agency", "auditor", "employer")),
    ("GET", "/employers/{employer_id:str}/impact"): Route(roles("agency", "auditor", "employer")),
    # The world's session has 40 managers: the sweep's answers fit.
    ("POST", "/employers/{employer_id:str}/team-sessions"): Route(roles("agency", "employer"), {
        "kind": "workshop", "held_on": TODAY, "managers": 5}),
    ("POST", "/employers/{employer_id:str}/team-sessions/{session_id:str}/answers"): Route(
        roles("agency", "employer"), {"knowledge": 4, "confidence": 3, "would_hire_again": "yes"}),
    ("POST", "/employers/{employer_id:str}/support-activities"): Route(AGENCY, {
        "kind": "workshop", "topic": "inclusive_leadership", "held_on": TODAY, "participants": 5,
        "given_by": "agency"}),
    ("POST", "/placements"): Route(AGENCY, {
        "candidate_id": "{candidate2}", "employer_id": "{employer_id}", "contract_id": "{contract_id}",
        "starts_on": TODAY, "hours_per_week": "20"}),
    ("GET", "/placements/{placement_id:str}"): Route(EVERYONE),
    ("GET", "/placements/{placement_id:str}/duties"): Route(AGENCY),
    ("POST", "/placements/{placement_id:str}/end"): Route(AGENCY, {"ends_on": SOON, "reason": "other"}),
    ("GET", "/placements/{placement_id:str}/events"): Route(EVERYONE),
    ("POST", "/placements/{placement_id:str}/extend"): Route(AGENCY, {"until": "2030-01-01"}),
    ("POST", "/placements/{placement_id:str}/feedback"): Route(roles("agency", "employer", "employee"), feedback),
    ("POST", "/placements/{placement_id:str}/hours"): Route(AGENCY, {"hours_per_week": "20", "effective_on": TODAY}),
    ("POST", "/placements/{placement_id:str}/recovery"): Route(AGENCY, {"recovered_on": TODAY}),
    ("POST", "/placements/{placement_id:str}/responsible"): Route(AGENCY, {"responsible_user_id": None}),
    ("POST", "/placements/{placement_id:str}/sickness"): Route(AGENCY, {"first_sick_day": TODAY}),
    # Support is the agency's, the person's and their employer's; not the authority's.
    ("GET", "/placements/{placement_id:str}/support"): Route(roles("agency", "auditor", "employer", "employee")),
    ("POST", "/placements/{placement_id:str}/support/adjustments"): Route(roles("agency", "employee"), {
        "kind": "tool", "description": "Een headset"}),
    ("POST", "/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/delivered"): Route(
        roles("agency", "employer"), {"delivered_on": TODAY}),
    ("POST", "/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/funder"): Route(
        AGENCY, {"funder": "employer"}, ids={"adjustment_id": "adjustment2"}),
    ("POST", "/placements/{placement_id:str}/support/adjustments/{adjustment_id:str}/refused"): Route(
        AGENCY, {"reason": "not_feasible"}, ids={"adjustment_id": "adjustment3"}),
    ("POST", "/placements/{placement_id:str}/support/check-ins"): Route(AGENCY, {"held_on": TODAY,
                                                                                "with_whom": "employee"}),
    ("POST", "/placements/{placement_id:str}/support/coaching"): Route(AGENCY, {"held_on": TODAY, "hours": "1"}),
    ("POST", "/placements/{placement_id:str}/support/items"): Route(roles("agency", "employer"), {
        "label": "Een pasje", "responsible": "employer"}),
    ("POST", "/placements/{placement_id:str}/support/items/{item_id:str}/done"): Route(roles("agency", "employer"),
                                                                                        {}),
    ("GET", "/reminders"): Route(AGENCY),
    ("GET", "/retention"): Route(roles("agency", "auditor")),
    ("GET", "/support/open"): Route(roles("agency", "auditor", "employer")),
    ("POST", "/vacancies"): Route(roles("agency", "employer"), {
        "employer_id": "{employer_id}", "title": "Koerier", "required_competences": ["Rijbewijs B"],
        "hours_per_week": "20"}),
    ("GET", "/vacancies/{vacancy_id:str}"): Route(roles("agency", "auditor", "employer")),
    ("PATCH", "/vacancies/{vacancy_id:str}"): Route(roles("agency", "employer"), {"hours_per_week": "28"}),
    # A vacancy of its own: the open one stays open for the other probes.
    ("POST", "/vacancies/{vacancy_id:str}/close"): Route(roles("agency", "employer"), {"reason": "Vervuld"},
                                                         ids={"vacancy_id": "spare_vacancy_id"}),
    ("POST", "/vacancies/{vacancy_id:str}/matches"): Route(AGENCY, {"candidate_id": "{candidate_id}"}),
    ("GET", "/vacancies/{vacancy_id:str}/pipeline"): Route(roles("agency", "employer")),
    ("POST", "/vacancies/{vacancy_id:str}/pipeline"): Route(roles("agency", "employer"), {
        "candidate_id": "{candidate2}", "step": "introduced"}),
    ("GET", "/vacancies/{vacancy_id:str}/suggestions"): Route(AGENCY),
    # Outcomes beyond euros (web/api/outcome_routes.py): progression, recorded by the agency ...
    ("POST", "/placements/{placement_id:str}/role"): Route(AGENCY, {"scale": "schaal 5", "effective_on": TODAY}),
    ("POST", "/placements/{placement_id:str}/trainings"): Route(AGENCY, {"training": "VCA basis",
                                                                         "completed_on": TODAY}),
    ("POST", "/placements/{placement_id:str}/permanent"): Route(AGENCY, {"on": TODAY}),
    # The world's employment is permanent already: 409 (tests/api/test_outcomes.py makes one permanent).
    ("POST", "/employments/{employment_id:str}/permanent"): Route(AGENCY, {"on": TODAY}),
    ("GET", "/placements/{placement_id:str}/progression"): Route(roles("agency", "auditor", "employer", "employee")),
    ("GET", "/employers/{employer_id:str}/progression"): Route(roles("agency", "auditor", "employer")),
    ("GET", "/contracts/{contract_id:str}/progression"): Route(READERS),
    # ... and the employee's own check-ins: only the person answers; the employer reads
    # (nothing unless the person shares individually), the authority never.
    ("POST", "/placements/{placement_id:str}/check-ins"): Route(roles("employee"), {
        "moment": 1, "answers": {"supported": 4, "work_suits": 4, "can_ask": 3, "want_to_stay": 5}}),
    ("POST", "/placements/{placement_id:str}/check-ins/sharing"): Route(roles("employee"), {"sharing": "individual"}),
    ("GET", "/placements/{placement_id:str}/check-ins"): Route(roles("agency", "auditor", "employer", "employee")),
    ("GET", "/employers/{employer_id:str}/satisfaction"): Route(roles("agency", "auditor", "employer")),
    ("GET", "/contracts/{contract_id:str}/satisfaction"): Route(READERS),
    # Rule sets are public rules: every signed-in user reads them; an authority organisation's
    # users publish their own (a fresh name each time: versions are immutable).
    ("GET", "/rule-sets"): Route(EVERYONE, orgs=roles(*ORG_USERS), public=True),
    ("GET", "/rule-sets/schema"): Route(EVERYONE, orgs=roles(*ORG_USERS), public=True),
    ("GET", "/rule-sets/{name:str}/{version:str}"): Route(EVERYONE, orgs=roles(*ORG_USERS), public=True,
                                                         ids={"name": "rule_set_name", "version": "rule_set_version"}),
    ("POST", "/rule-sets"): Route(roles(), rule_set_body, orgs=roles("org authority"), public=True),
    # The cross-agency portfolio: an organisation's own lists, nobody else's.
    ("GET", "/authority/contracts"): Route(roles(), orgs=roles("org authority")),
    ("GET", "/employer/contracts"): Route(roles(), orgs=roles("org employer")),
    ("GET", "/employer/placements"): Route(roles(), orgs=roles("org employer")),
    ("GET", "/authority/statements"): Route(roles(), orgs=roles("org authority")),
    # Webhooks: the agency's subscriptions, or an organisation's own (a route naming no
    # shared record: the organisation's users answered with their own).
    ("GET", "/webhooks"): Route(AGENCY, orgs=roles(*ORG_USERS)),
    ("GET", "/webhooks/event-types"): Route(AGENCY, orgs=roles(*ORG_USERS)),
    ("POST", "/webhooks"): Route(AGENCY, {"url": "https://93.184.216.34/hook", "event_types": ["*"]},
                                 orgs=roles(*ORG_USERS)),
    ("GET", "/webhooks/{subscription_id:str}"): Route(AGENCY),
    ("PATCH", "/webhooks/{subscription_id:str}"): Route(AGENCY, {"event_types": ["*"]}),
    ("DELETE", "/webhooks/{subscription_id:str}"): Route(AGENCY, ids={"subscription_id": "spare_subscription_id"}),
    ("POST", "/webhooks/{subscription_id:str}/pause"): Route(AGENCY),
    ("POST", "/webhooks/{subscription_id:str}/resume"): Route(AGENCY),
    ("POST", "/webhooks/{subscription_id:str}/rotate-secret"): Route(AGENCY),
    ("POST", "/webhooks/{subscription_id:str}/replay"): Route(AGENCY, {"since": "2020-01-01T00:00:00Z"}),
    ("GET", "/webhooks/{subscription_id:str}/deliveries"): Route(AGENCY),
    ("GET", "/webhooks/{subscription_id:str}/deliveries/{delivery_id:str}"): Route(AGENCY),
    ("POST", "/webhooks/{subscription_id:str}/deliveries/{delivery_id:str}/replay"): Route(AGENCY),
}
# Ids a request body names (besides the path): each is swept with another tenant's id in its place.
BODY_IDS = {("POST", "/contracts"): ["employer_id"], ("POST", "/vacancies"): ["employer_id"],
            ("POST", "/placements"): ["candidate_id", "employer_id", "contract_id"],
            ("POST", "/vacancies/{vacancy_id:str}/matches"): ["candidate_id"],
            ("POST", "/vacancies/{vacancy_id:str}/pipeline"): ["candidate_id"],
            ("POST", "/placements/{placement_id:str}/responsible"): ["responsible_user_id"]}
# Without a token: the operations endpoints; the API reference (no tenant data in it).
PUBLIC = {("GET", "/health"), ("GET", "/ready")}
# Signing in and out (tests/web/test_security.py).
SIGN_IN = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
# Changes after which other probes would see a different world: swept last.
LAST = ("/erase", "/close", "/end")
# Changes the world's records refuse for their state (409), made in their own tests:
# turnover is reported on a contract whose obligation is a share of it
# (tests/api/test_obligation.py); the world's contracts are on their contract value.
REFUSED_ON_THE_WORLD = {("POST", "/contracts/{contract_id:str}/turnover"),
                        ("POST", "/employments/{employment_id:str}/permanent")}


def app_routes(system: System) -> set[tuple[str, str]]:
    """(method, path) of every route of the app, pages included."""
    app = create_app(system)
    return {(m, r.path) for r in app.routes for m in r.methods if m not in ("HEAD", "OPTIONS")}


def page_paths() -> set[str]:
    return {p for h in PAGE_HANDLERS for p in h.paths}


def api_routes() -> list[tuple[str, str]]:
    return sorted(API_ROUTES, key=lambda mr: (any(s in mr[1] for s in LAST), mr[1], mr[0]))


# -- requests ----------------------------------------------------------------------------------

def fill_path(route: str, params: dict[str, str], spec: Route) -> str:
    return API + PARAM_RE.sub(lambda m: params[spec.ids.get(m.group(1), m.group(1))], route)


def fill_body(body: Any, params: dict[str, str], role: str) -> Any:
    if callable(body):
        body = body(role)
    if isinstance(body, dict):
        return {k: fill_body(v, params, role) for k, v in body.items()}
    if isinstance(body, list):
        return [fill_body(v, params, role) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return params[body[1:-1]]
    return body


def send(client: TestClient, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, Upload):
        return client.request(method, path, files={"file": (body.filename, body.content, "application/pdf")},
                              data={"kind": body.kind}, headers=headers)
    if method in ("POST", "PATCH"):
        return client.request(method, path, json=body if body is not None else {}, headers=headers)
    return client.request(method, path, headers=headers)


def params_for(party: Party) -> dict[str, str]:
    """Path and body placeholders -> this world's ids (the extra ones named as in Route.ids)."""
    w = party.world
    return {**party.params(), "activity": str(w.ids["activity"]),
            "responsible_user_id": str(party.users["agency"].id),
            "authority_org_id": str(party.users["org authority"].org_id),
            "employer_org_id": str(party.users["org employer"].org_id),
            "rule_set_name": "utrecht-2024", "rule_set_version": "1"}


def random_params(party: Party) -> dict[str, str]:
    """The same placeholders, each id one that never existed (names such as item ids kept)."""
    return {k: (str(uuid4()) if identifying([v]) else v) for k, v in params_for(party).items()}


def sent_ids(route: str, params: dict[str, str], spec: Route) -> list[str]:
    return [params[spec.ids.get(p, p)] for p in params_of(route) if identifying([params[spec.ids.get(p, p)]])]


def forbidden_for(who: str, *others: Party) -> set[str]:
    out: set[str] = set().union(*(o.strings() for o in others)) if others else set()
    if who not in FULL_READERS:
        out |= set(SPECIAL_CATEGORY)
    return out


# -- the route table, the OpenAPI document and the sweep agree -----------------------------------

def test_every_route_is_swept_and_the_openapi_lists_the_same_routes(system: System, client: TestClient) -> None:
    routes = app_routes(system)
    api = {(m, p.removeprefix(API)) for m, p in routes if p.startswith(API + "/")}
    assert api - set(API_ROUTES) == set(), "declare the new API routes in API_ROUTES (who may call them, a body)"
    assert set(API_ROUTES) - api == set(), "API_ROUTES names routes the app no longer has"
    others = {(m, p) for m, p in routes if not p.startswith(API + "/")}
    unexplained = {(m, p) for m, p in others
                   if (m, p) not in PUBLIC | SIGN_IN and not p.startswith("/schema") and p not in page_paths()
                   and not p.startswith("/static")}
    assert unexplained == set(), "a route that is neither API, page, reference nor operations: sweep it"

    spec = client.get("/schema/openapi.json").json()
    documented = {(m.upper(), p) for p, item in spec["paths"].items() for m in item
                  if m in ("get", "post", "patch", "put", "delete")}
    table = {(m, API + p.replace(":str}", "}")) for m, p in API_ROUTES} | PUBLIC
    assert documented == table, (documented - table, table - documented)


# -- no token, a wrong token ---------------------------------------------------------------------

def test_without_a_valid_token_every_api_route_answers_401(ours: Party, client: TestClient) -> None:
    s = sweep("API without a valid token")
    params = params_for(ours)
    for method, route in api_routes():
        spec = API_ROUTES[(method, route)]
        path = fill_path(route, params, spec)
        body = fill_body(spec.body, params, "agency")
        for what, token in (("no token", None), ("a made-up token", "sroi_not-a-token"),
                            ("a real token cut short", ours.token("agency")[:-1])):
            s.check(f"{method} {route} with {what}", send(client, method, path, token, body),
                    expect={401}, forbidden=ours.strings(), sent=path + repr(body))
    assert s.tried >= 3 * len(API_ROUTES) and s.failures == [], "\n".join(s.failures)
    for method, path in PUBLIC:
        r = client.request(method, path)
        assert r.status_code in (200, 503) and not any(m in r.text for m in ours.strings())


# -- another tenant's ids ----------------------------------------------------------------------------

def test_another_tenants_ids_answer_404_on_every_api_route_for_every_role(
        ours: Party, theirs: Party, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """Every route with an id, as every role of our tenant, with their ids: the
    same answer as for an id that never existed (404, or 403 for a role that
    may never call it), nothing of theirs in it or in the log, nothing of
    theirs changed."""
    caplog.set_level(logging.DEBUG)
    s = sweep("API: another tenant's ids")
    before = theirs.events()
    mine, their, never = params_for(ours), params_for(theirs), random_params(ours)
    for method, route in api_routes():
        spec = API_ROUTES[(method, route)]
        if not params_of(route) or spec.public:
            continue
        for who in (*ROLES, *ORG_USERS):
            role = role_of(who)
            token = ours.token(who)
            body = fill_body(spec.body, mine, role)
            attack, blind = fill_path(route, their, spec), fill_path(route, never, spec)
            a, b = send(client, method, attack, token, body), send(client, method, blind, token, body)
            where = f"{method} {route} as our {who}"
            expect = {404} if role in spec.roles else {403, 404}
            s.check(f"{where}, their ids", a, expect=expect, forbidden=forbidden_for(role, theirs),
                    sent=attack + repr(body))
            s.check(f"{where}, ids that never existed", b, expect=expect, sent=blind)
            if not same_answer(a, b, sent_ids(route, their, spec), sent_ids(route, never, spec)):
                s.fail(where, f"their id answers differently from a made-up one: {a.status_code} {a.text[:200]} / "
                              f"{b.status_code} {b.text[:200]}")
    assert s.tried >= 400 and s.failures == [], "\n".join(s.failures)
    assert theirs.events() == before, "a request with their ids changed their records"
    # The log holds the ids the requests carried (their paths), never their names or e-mails.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records and [w for w in (theirs.marker, *(u.email for u in theirs.users.values()))
                               if w in logged] == []


def test_another_tenants_ids_in_a_request_body_are_refused_like_made_up_ones(
        ours: Party, theirs: Party, client: TestClient) -> None:
    s = sweep("API: another tenant's ids in a body")
    before, ours_before = theirs.events(), ours.events()
    mine, their, never = params_for(ours), params_for(theirs), random_params(ours)
    for (method, route), names in sorted(BODY_IDS.items()):
        spec = API_ROUTES[(method, route)]
        path = fill_path(route, mine, spec)
        for name in names:
            def with_(values: dict[str, str]) -> Any:
                return {**fill_body(spec.body, mine, "agency"), name: values[name]}
            a = send(client, method, path, ours.token("agency"), with_(their))
            b = send(client, method, path, ours.token("agency"), with_(never))
            where = f"{method} {route} with their {name}"
            s.check(where, a, expect={404, 422}, forbidden=theirs.strings(), sent=their[name])
            s.check(f"{where} (made up)", b, expect={404, 422})
            if not same_answer(a, b, [their[name]], [never[name]]):
                s.fail(where, f"answers differently from a made-up id: {a.text[:200]} / {b.text[:200]}")
    assert s.tried >= 2 * sum(map(len, BODY_IDS.values())) and s.failures == [], "\n".join(s.failures)
    assert theirs.events() == before and ours.events() == ours_before, "something was stored"


def test_query_strings_with_another_tenants_ids_find_nothing_of_theirs(
        ours: Party, theirs: Party, client: TestClient) -> None:
    s = sweep("API: another tenant's ids in query strings")
    queries = [f"/access-log?subject={theirs.world.ids['candidate']}",
               f"/vacancies/{ours.world.ids['vacancy2']}/suggestions?region={theirs.marker}"]
    for role in ROLES:
        for query in queries:
            s.check(f"GET {query} as our {role}", send(client, "GET", API + query, ours.token(role)),
                    forbidden=forbidden_for(role, theirs), sent=query)
    assert s.tried == len(ROLES) * len(queries) and s.failures == [], "\n".join(s.failures)


LISTS = ("/employers", "/contracts", "/candidates", "/vacancies", "/placements")


def listed(client: TestClient, path: str, token: str) -> list[dict[str, Any]]:
    """Every item of a list, all its pages."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = send(client, "GET", f"{API}{path}{'&' if '?' in path else '?'}limit=500{cursor}", token)
        assert r.status_code == 200, (path, r.text)
        items += r.json()["items"]
        if not r.json()["has_more"]:
            return items
        cursor = f"&cursor={r.json()['next_cursor']}"


def test_a_list_never_holds_another_tenants_or_another_partys_records(
        ours: Party, neighbour: Party, theirs: Party, client: TestClient) -> None:
    """Their tenant's lists, as every role, hold none of our ids (nor our text); their
    filters naming our ids find nothing; our employer's lists hold its own records
    only, our person's only their own."""
    s = sweep("API lists: another tenant's, another employer's records")
    mine = ours.strings() | neighbour.strings()
    w = ours.world.ids
    filters = [f"/contracts?employer_id={w['employer']}", f"/placements?contract_id={w['contract']}",
               f"/placements?candidate_id={w['candidate']}", f"/vacancies?employer_id={w['employer']}"]
    for who in ROLES:
        for path in (*LISTS, *filters):
            items = listed(client, path, theirs.token(who))
            leaked = [m for m in mine if m in json.dumps(items)]
            s.tried += 1
            if leaked:
                s.fail(f"GET {path} as their {who}", f"holds our {leaked[:3]}")
    assert listed(client, "/contracts", theirs.token("agency")), "their agency lists its own contracts"
    assert s.failures == [], "\n".join(s.failures)

    employer = ours.token("employer")
    assert [e["id"] for e in listed(client, "/employers", employer)] == [str(w["employer"])]
    for path in ("/contracts", "/vacancies", "/placements"):
        items = listed(client, path, employer)
        assert items and {i["employer_id"] for i in items} == {str(w["employer"])}, path
    assert listed(client, "/candidates", employer) == []
    person = ours.token("employee")
    assert [c["id"] for c in listed(client, "/candidates", person)] == [str(w["candidate"])]
    assert {p["candidate_id"] for p in listed(client, "/placements", person)} == {str(w["candidate"])}
    # The employer organisation's user, naming the record shared with it: that employer's records only.
    org_items = listed(client, f"/placements?employer_id={w['employer']}", ours.token("org employer"))
    assert org_items and {i["employer_id"] for i in org_items} == {str(w["employer"])}
    assert listed(client, f"/placements?employer_id={neighbour.world.ids['employer']}",
                  ours.token("agency")), "the neighbour has placements"
    r = send(client, "GET", f"{API}/placements?employer_id={neighbour.world.ids['employer']}",
             ours.token("org employer"))
    assert r.status_code == 404, r.text  # not shared with it: as an unknown id


# -- another employer, another person, another municipality, in our own tenant --------------------------

PARTIES = ("employer", "employee", "other authority", *ORG_USERS)


def test_another_employers_persons_or_municipalitys_records_answer_404(
        ours: Party, neighbour: Party, client: TestClient) -> None:
    """Our employer with the neighbour employer's ids, our employee with the other
    person's, and a municipality with the contract another municipality awarded;
    our organisations' users (authority, employer) with the neighbour's records,
    linked to the neighbour's organisations: 404 where the role may see its own,
    403 or 404 where it may see none; on the lists (no id) nothing of the other
    party shows."""
    s = sweep("API: another employer, person or municipality")
    before = ours.events()
    mine, their = params_for(ours), params_for(neighbour)
    for method, route in api_routes():
        spec = API_ROUTES[(method, route)]
        if spec.public:
            continue  # no party's record: the same for everyone (swept as every role below)
        for who in PARTIES:
            role = role_of(who)
            # An employer or a person: the neighbour's records. Another municipality: ours.
            target = mine if who == "other authority" else their
            others = (ours, neighbour) if who == "other authority" else (neighbour,)
            if not params_of(route):
                if method == "GET":
                    r = send(client, method, API + route, ours.token(who))
                    s.check(f"{method} {route} as {who}", r, forbidden=forbidden_for(role, *others))
                continue
            body = fill_body(spec.body, mine, role)
            path = fill_path(route, target, spec)
            r = send(client, method, path, ours.token(who), body)
            expect = {404} if role in spec.roles else {403, 404}
            if who in ORG_USERS and not _names_a_shared_record(route):
                expect = {403, 404}  # no shared record named: no tenant to act in
            s.check(f"{method} {route} as {who} on another's record", r, expect=expect,
                    forbidden=forbidden_for(role, *others), sent=path + repr(body))
    assert s.tried >= 100 and s.failures == [], "\n".join(s.failures)
    assert ours.events() == before, "a request on another party's records changed something"


# -- each role on its own records: its answer, or a refusal ------------------------------------------------

def test_each_role_gets_its_answer_or_a_refusal_on_every_api_route(
        ours: Party, neighbour: Party, theirs: Party, client: TestClient) -> None:
    """Every route as every role on the records it would ask about: the roles
    in API_ROUTES get past the role and visibility checks (a GET answers 200, a
    change is made or refused as a conflict with the record's state), the
    others get 403 or 404 with nothing stored; no answer shows another tenant's
    data, nor special-category text to a role that may not read it, nor the
    neighbour employer's or person's to an employer or a person. The narrowest
    roles go first, the changes that end something last."""
    s = sweep("API: every role on its own records")
    mine = params_for(ours)
    made: set[tuple[str, str]] = set()
    for method, route in api_routes():
        spec = API_ROUTES[(method, route)]
        for who in ("employee", "authority", "org authority", "employer", "org employer", "auditor", "agency"):
            role = role_of(who)
            path = fill_path(route, mine, spec)
            body = fill_body(spec.body, mine, role)
            others = (theirs, neighbour) if role in ("employer", "employee") else (theirs,)
            before = ours.events()
            r = send(client, method, path, ours.token(who), body)
            where = f"{method} {route} as {who}"
            if who in spec.orgs:
                expect = {200} if method == "GET" else {200, 201}
            elif who in ORG_USERS and not _names_a_shared_record(route):
                expect = {403, 404}  # an organisation's user acts only on records shared with it
            elif role in spec.roles:
                # A change may be refused for the record's state (409, or 422 for a step
                # that no longer fits after another role's change): past the checks all the same.
                expect = {200} if method == "GET" else {200, 201, 409, 422}
            else:
                expect = {403, 404}
            hidden = forbidden_for(role, *others) | (ours.other_people() if role == "employee" else set())
            s.check(where, r, expect=expect, forbidden=hidden, sent=path + repr(body))
            if expect == {403, 404} and ours.events() != before:
                s.fail(where, "refused, yet something was stored")
            if r.status_code in (200, 201):
                made.add((method, route))
    # Every change was made by one of its roles at least once: the bodies are valid
    # (but for REFUSED_ON_THE_WORLD: 409 for the record's state, made in their own tests).
    assert {mr for mr in API_ROUTES if mr[0] != "GET"} - made - REFUSED_ON_THE_WORLD == set()
    assert s.tried >= 7 * len(API_ROUTES) and s.failures == [], "\n".join(s.failures)


def _names_a_shared_record(route: str) -> bool:
    """Whether the path names a record an agency may share with an organisation
    (web/api/auth.py: the organisation's user acts in the tenant that owns it)."""
    return any(p in RECORD_PARAMS or p == DOCUMENT_PARAM for p in params_of(route))
