"""The JSON API, /api/v1, over HTTP against the real PostgreSQL: what each
endpoint answers, who sees what, idempotent retries, concurrent requests,
the walls between tenants and what bad input gets back."""
from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from tests.api.conftest import (
    API,
    Org,
    bearer,
    candidate_body,
    contract_body,
    placement_body,
    vacancy_body,
)
from tests.conftest import random_slug
from tests.projections.conftest import catch_up

pytestmark = pytest.mark.timeout(60)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

GET_PATHS = {
    "employer": "/employers/{employer}",
    "contract": "/contracts/{contract}",
    "candidate": "/candidates/{candidate}",
    "vacancy": "/vacancies/{vacancy}",
    "placement": "/placements/{placement}",
    "placement events": "/placements/{placement}/events",
}

# Every POST endpoint with a valid body, given a seeded tenant's ids.
POSTS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, Any]]]] = {
    "register employer": ("/employers", lambda i: {"name": "Schoonmaakbedrijf Jansen"}),
    "add contact person": ("/employers/{employer}/contact-persons", lambda i: {
        "name": "Pieter de Vries", "email": "pieter@devries.nl", "phone": "+31 30 123 4567",
        "role": "HR-adviseur"}),
    "register contract": ("/contracts", lambda i: contract_body(i["employer"])),
    "close contract": ("/contracts/{contract}/close", lambda i: {
        "closed_on": "2026-01-01", "reason": "Opgeleverd"}),
    "register candidate": ("/candidates", lambda i: candidate_body(full_name="Mohammed El Amrani")),
    "state support needs": ("/candidates/{candidate}/support-needs", lambda i: {
        "support_needs": "Een rustige werkplek."}),
    "open vacancy": ("/vacancies", lambda i: vacancy_body(i["employer"], title="Magazijnmedewerker")),
    "match candidate": ("/vacancies/{vacancy}/matches", lambda i: {"candidate_id": i["candidate"]}),
    "start placement": ("/placements", lambda i: placement_body(
        i["candidate"], i["employer"], i["contract"])),
    "give feedback": ("/placements/{placement}/feedback", lambda i: {
        "score": 4, "from_role": "agency", "comment": "Goed ingewerkt."}),
    "change hours": ("/placements/{placement}/hours", lambda i: {
        "hours_per_week": "32", "effective_on": "2025-03-01"}),
    "extend placement": ("/placements/{placement}/extend", lambda i: {"until": "2026-06-30"}),
    "end placement": ("/placements/{placement}/end", lambda i: {
        "ends_on": "2025-06-30", "reason": "contract_ended"}),
}


def events_of(org: Org, placement: str, token: str | None = None) -> list[dict[str, Any]]:
    r = org.get(f"/placements/{placement}/events", token)
    assert r.status_code == 200, r.text
    return r.json()["events"]


def snapshot(org: Org) -> dict[str, Any]:
    """Everything an agency of the tenant can read of its seeded records, and its event count."""
    reads = {name: org.get(path.format(**org.ids)).json() for name, path in GET_PATHS.items()}
    return {"reads": reads, "events": org.event_count()}


@pytest.fixture(scope="module")
def module_org(system: System, client: TestClient) -> Callable[[str], Org]:
    def make(name: str) -> Org:
        tenant = system.registry.create_tenant(random_slug(), name)
        org = Org(system=system, client=client, tenant=tenant, agency_token="")
        org.agency_token = org.token_for("agency")
        return org
    return make


@pytest.fixture(scope="module")
def utrecht(module_org: Callable[[str], Org]) -> Org:
    org = module_org("Werkbedrijf Utrecht")
    org.seed()
    return org


@pytest.fixture(scope="module")
def harlingen(module_org: Callable[[str], Org]) -> Org:
    org = module_org("Werkbedrijf Harlingen")
    org.seed(employer_name="Visserij Harlingen B.V.")
    return org


# -- operations -----------------------------------------------------------------------

def test_health_answers_without_a_token(client: TestClient) -> None:
    r = client.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_ready_reports_the_database_and_the_broker_ok(client: TestClient) -> None:
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok", "projections": "ok"}}


def test_the_openapi_schema_documents_placements_and_contracts(client: TestClient) -> None:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/placements" in paths and "post" in paths["/api/v1/placements"]
    assert "/api/v1/contracts" in paths and "post" in paths["/api/v1/contracts"]


# -- authentication -------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer sroi_" + "x" * 43},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
    {"Authorization": "sroi_notatoken"},
], ids=["no-token", "wrong-token", "empty-bearer", "basic-auth", "no-scheme"])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/placements/{placement}"),
    ("GET", "/placements/{placement}/events"),
    ("POST", "/placements/{placement}/end"),
    ("POST", "/employers"),
])
def test_a_request_without_a_valid_token_is_unauthorised_and_changes_nothing(
        utrecht: Org, client: TestClient, headers: dict[str, str], method: str, path: str) -> None:
    before = utrecht.event_count()
    body = {"ends_on": "2025-06-30", "reason": "resigned"} if "end" in path else {"name": "Indringer B.V."}
    r = client.request(method, API + path.format(**utrecht.ids), headers=headers,
                       json=body if method == "POST" else None)
    assert r.status_code == 401, r.text
    assert r.json()["detail"]
    assert utrecht.event_count() == before


# -- each endpoint's answer -------------------------------------------------------------

def test_a_placement_story_through_the_api(org: Org) -> None:
    # Employer and contact person
    r = org.post("/employers", {"name": "Bouwbedrijf De Vries"})
    assert r.status_code == 201 and set(r.json()) == {"id"} and UUID_RE.match(r.json()["id"])
    employer = r.json()["id"]
    r = org.post(f"/employers/{employer}/contact-persons", {
        "name": "Pieter de Vries", "email": "pieter@devries.nl", "phone": "+31 30 123 4567",
        "role": "HR-adviseur"})
    assert (r.status_code, r.json()) == (201, {"id": employer, "version": 2})
    e = org.get(f"/employers/{employer}").json()
    assert (e["id"], e["name"], e["version"]) == (employer, "Bouwbedrijf De Vries", 2)
    assert e["contact_persons"] == [{"name": "Pieter de Vries", "email": "pieter@devries.nl",
                                     "phone": "+31 30 123 4567", "role": "HR-adviseur"}]

    # Contract
    r = org.post("/contracts", contract_body(employer))
    assert r.status_code == 201 and set(r.json()) == {"id"}
    contract = r.json()["id"]
    k = org.get(f"/contracts/{contract}").json()
    assert {f: k[f] for f in ("id", "employer_id", "title", "contracting_authority", "starts_on",
                              "ends_on", "awarded_on", "rule_set", "closed", "closed_on")} == {
        "id": contract, "employer_id": employer, "title": "Onderhoud openbare ruimte",
        "contracting_authority": "Gemeente Utrecht", "starts_on": "2025-01-01",
        "ends_on": "2027-12-31", "awarded_on": "2024-11-15", "rule_set": "utrecht-2024",
        "closed": False, "closed_on": None}
    assert float(k["contract_value_eur"]) == 1_000_000
    assert float(k["obligation_percent"]) == 5
    assert float(k["obligation_eur"]) == 50_000

    # Candidate
    r = org.post("/candidates", candidate_body())
    assert r.status_code == 201 and set(r.json()) == {"id"}
    candidate = r.json()["id"]
    p = org.get(f"/candidates/{candidate}").json()
    assert {f: p[f] for f in ("id", "full_name", "date_of_birth", "target_group", "benefit_since",
                              "status_holder", "competences", "support_needs")} == {
        "id": candidate, "full_name": "Sanne Jansen", "date_of_birth": "1990-06-15",
        "target_group": "doelgroepregister", "benefit_since": "2015-01-01", "status_holder": False,
        "competences": ["Administratie", "Excel"],
        "support_needs": "Schriftelijke instructies, een vaste werkplek."}
    r = org.post(f"/candidates/{candidate}/support-needs",
                 {"support_needs": "Een vaste begeleider op de werkvloer."})
    assert (r.status_code, r.json()) == (200, {"id": candidate, "version": 2})
    assert org.get(f"/candidates/{candidate}").json()["support_needs"] == \
        "Een vaste begeleider op de werkvloer."

    # Vacancy and match
    r = org.post("/vacancies", vacancy_body(employer))
    assert r.status_code == 201 and set(r.json()) == {"id"}
    vacancy = r.json()["id"]
    r = org.post(f"/vacancies/{vacancy}/matches", {"candidate_id": candidate})
    assert (r.status_code, r.json()) == (201, {"vacancy_id": vacancy, "candidate_id": candidate})
    v = org.get(f"/vacancies/{vacancy}").json()
    assert (v["status"], v["title"], v["employer_id"], v["matched_candidate_ids"]) == (
        "open", "Administratief medewerker", employer, [candidate])
    assert (v["required_competences"], v["optional_competences"]) == (["Administratie"], ["Excel"])

    # Placement: fills the vacancy
    r = org.post("/placements", placement_body(candidate, employer, contract, vacancy))
    assert r.status_code == 201 and set(r.json()) == {"id"}
    placement = r.json()["id"]
    assert int(r.headers["X-Event-Position"]) == org.event_count()
    v = org.get(f"/vacancies/{vacancy}").json()
    assert (v["status"], v["placement_id"]) == ("filled", placement)

    r = org.post(f"/placements/{placement}/feedback",
                 {"score": 4, "from_role": "coach", "comment": "Sanne is goed ingewerkt."})
    assert (r.status_code, r.json()) == (201, {"id": placement, "version": 2})
    r = org.post(f"/placements/{placement}/hours", {"hours_per_week": "32", "effective_on": "2025-04-01"})
    assert (r.status_code, r.json()) == (200, {"id": placement, "version": 3})
    r = org.post(f"/placements/{placement}/extend", {"until": "2026-06-30"})
    assert (r.status_code, r.json()) == (200, {"id": placement, "version": 4})
    r = org.post(f"/placements/{placement}/end", {"ends_on": "2026-03-31", "reason": "direct_employment"},
                 **{"X-Request-ID": "req-einde-sanne-2026"})
    assert (r.status_code, r.json()) == (200, {"id": placement, "version": 5})

    pl = org.get(f"/placements/{placement}").json()
    assert {f: pl[f] for f in ("id", "version", "candidate_id", "employer_id", "contract_id",
                               "vacancy_id", "starts_on", "permanent_contract", "planned_end_on",
                               "ended_on", "end_reason", "active")} == {
        "id": placement, "version": 5, "candidate_id": candidate, "employer_id": employer,
        "contract_id": contract, "vacancy_id": vacancy, "starts_on": "2025-02-01",
        "permanent_contract": False, "planned_end_on": "2026-06-30", "ended_on": "2026-03-31",
        "end_reason": "direct_employment", "active": False}
    assert [(h["effective_on"], float(h["hours_per_week"])) for h in pl["hours_history"]] == [
        ("2025-02-01", 24), ("2025-04-01", 32)]
    assert float(pl["hours_per_week"]) == 32
    assert [(f["score"], f["from_role"], f["comment"]) for f in pl["feedback"]] == [
        (4, "coach", "Sanne is goed ingewerkt.")]

    # Contract closed
    r = org.post(f"/contracts/{contract}/close", {"closed_on": "2027-12-31", "reason": "Opgeleverd"})
    assert (r.status_code, r.json()) == (200, {"id": contract, "version": 2})
    k = org.get(f"/contracts/{contract}").json()
    assert (k["closed"], k["closed_on"]) == (True, "2027-12-31")

    # The placement's history, with who and which request
    events = events_of(org, placement)
    assert [e["type"] for e in events] == ["PlacementStarted", "FeedbackGiven", "HoursChanged",
                                           "PlacementExtended", "PlacementEnded"]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    for e in events:
        assert set(e["metadata"]) >= {"user_id", "role", "organisation", "correlation_id",
                                      "recorded_at"}
        assert e["metadata"]["role"] == "agency"
        assert e["metadata"]["organisation"] == org.tenant.slug
    assert events[-1]["metadata"]["correlation_id"] == "req-einde-sanne-2026"
    assert events[-1]["data"] == {"ends_on": "2026-03-31", "reason": "direct_employment"}
    assert len({e["metadata"]["correlation_id"] for e in events}) == 5  # one request each
    assert len({e["metadata"]["user_id"] for e in events}) == 1


def test_an_unusable_request_id_is_replaced_by_a_fresh_one(org: Org) -> None:
    ids = org.seed()
    r = org.post(f"/placements/{ids['placement']}/feedback", {"score": 3, "from_role": "coach"},
                 **{"X-Request-ID": "<script>alert(1)</script>"})
    assert r.status_code == 201
    correlation = events_of(org, ids["placement"])[-1]["metadata"]["correlation_id"]
    assert correlation != "<script>alert(1)</script>"
    assert UUID_RE.match(correlation)


# -- the walls between tenants ----------------------------------------------------------

@pytest.mark.parametrize("read", sorted(GET_PATHS))
def test_a_tenant_cannot_read_another_tenants_records(utrecht: Org, harlingen: Org, read: str) -> None:
    path = GET_PATHS[read]
    assert harlingen.get(path.format(**harlingen.ids)).status_code == 200  # it exists, there
    r = utrecht.get(path.format(**harlingen.ids))  # Utrecht's token, Harlingen's id
    assert r.status_code == 404, r.text
    # The same answer as for an id that exists nowhere.
    nowhere = {k: str(uuid.uuid4()) for k in harlingen.ids}
    r_nowhere = utrecht.get(path.format(**nowhere))
    assert r_nowhere.status_code == 404
    strip = lambda text, ids: re.sub("|".join(ids.values()), "?", text)  # noqa: E731
    assert strip(r.text, harlingen.ids) == strip(r_nowhere.text, nowhere)


# The figures and read-model lists that take an id: the same wall, checked
# against the record itself (not only the rows found for it), so an unknown
# id is never answered with a page of zeros.
FIGURE_PATHS = {
    "employer retention": "/employers/{employer}/retention",
    "employer support activities": "/employers/{employer}/support-activities",
    "contract compliance": "/contracts/{contract}/compliance",
    "contract contributions": "/contracts/{contract}/contributions",
    "contract targets": "/contracts/{contract}/targets",
    "vacancy pipeline": "/vacancies/{vacancy}/pipeline",
    "vacancy suggestions": "/vacancies/{vacancy}/suggestions",
    "placement duties": "/placements/{placement}/duties",
    "placement support": "/placements/{placement}/support",
}


@pytest.mark.parametrize("read", sorted(FIGURE_PATHS))
def test_a_tenant_cannot_read_another_tenants_figures(system: System, utrecht: Org, harlingen: Org,
                                                       read: str) -> None:
    catch_up(system, harlingen.tenant)
    path = FIGURE_PATHS[read]
    assert harlingen.get(path.format(**harlingen.ids)).status_code == 200  # it exists, there
    r = utrecht.get(path.format(**harlingen.ids))
    assert r.status_code == 404, r.text
    nowhere = {k: str(uuid.uuid4()) for k in harlingen.ids}
    assert utrecht.get(path.format(**nowhere)).status_code == 404
    assert harlingen.get(path.format(**nowhere)).status_code == 404


def test_an_employer_sees_only_its_own_retention(org: Org) -> None:
    de_vries = org.seed()
    jansen = Org(org.system, org.client, org.tenant, org.agency_token).seed(
        employer_name="Schoonmaakbedrijf Jansen")
    token = org.token_for("employer", employer_id=uuid.UUID(de_vries["employer"]))
    assert org.get(f"/employers/{de_vries['employer']}/retention", token).status_code == 200
    assert org.get(f"/employers/{jansen['employer']}/retention", token).status_code == 404
    assert org.get(f"/employers/{uuid.uuid4()}/retention", token).status_code == 404
    assert org.get(f"/employers/{uuid.uuid4()}/retention").status_code == 404  # the agency too


# Where B's id is in the path the answer is 404; where it is in the body, 422
# naming the field, exactly as for an id that exists nowhere.
def _ids_for(case: str, a: Org, b: Org) -> dict[str, str]:
    if case == "match candidate (candidate of B)":
        return {**a.ids, "candidate": b.ids["candidate"]}
    return dict(b.ids)


CROSS_TENANT_COMMANDS = {
    "add contact person": (404, None), "close contract": (404, None),
    "state support needs": (404, None), "match candidate": (404, None),
    "give feedback": (404, None), "change hours": (404, None), "extend placement": (404, None),
    "end placement": (404, None),
    "register contract": (422, "employer_id"), "open vacancy": (422, "employer_id"),
    "start placement": (422, "candidate_id"), "match candidate (candidate of B)": (422, "candidate_id"),
}


@pytest.mark.parametrize("case", sorted(CROSS_TENANT_COMMANDS))
def test_a_tenant_cannot_change_another_tenants_records(utrecht: Org, harlingen: Org, case: str) -> None:
    before_b, before_a = snapshot(harlingen), utrecht.event_count()
    path, body = POSTS[case.removesuffix(" (candidate of B)")]
    ids = _ids_for(case, utrecht, harlingen)
    status, field = CROSS_TENANT_COMMANDS[case]

    r = utrecht.post(path.format(**ids), body(ids))
    assert r.status_code == status, r.text
    if field:
        assert r.json()["errors"][0]["field"] == field
    # Indistinguishable from an id that exists nowhere.
    nowhere = {k: (str(uuid.uuid4()) if v == harlingen.ids.get(k) else v) for k, v in ids.items()}
    r_nowhere = utrecht.post(path.format(**nowhere), body(nowhere))
    assert r_nowhere.status_code == status
    if field:
        assert r_nowhere.json()["errors"][0]["field"] == field

    assert snapshot(harlingen) == before_b
    assert utrecht.event_count() == before_a


# -- roles ------------------------------------------------------------------------------

def test_an_employer_sees_its_own_placement_but_not_another_employers(org: Org) -> None:
    de_vries = org.seed()
    jansen = Org(org.system, org.client, org.tenant, org.agency_token).seed(
        employer_name="Schoonmaakbedrijf Jansen")
    token = org.token_for("employer", employer_id=uuid.UUID(de_vries["employer"]))
    before = org.event_count()

    assert org.get(f"/placements/{de_vries['placement']}", token).status_code == 200
    assert org.get(f"/employers/{de_vries['employer']}", token).status_code == 200
    own_vacancy = org.get(f"/vacancies/{de_vries['vacancy']}", token)
    assert own_vacancy.status_code == 200
    assert "matched_candidate_ids" not in own_vacancy.json()  # who else was considered: not theirs
    assert org.get(f"/candidates/{de_vries['candidate']}", token).status_code == 404
    for path in ("/placements/{placement}", "/placements/{placement}/events", "/employers/{employer}",
                 "/contracts/{contract}", "/vacancies/{vacancy}"):
        r = org.get(path.format(**jansen), token)
        assert r.status_code == 404, (path, r.text)
    r = org.post(f"/placements/{jansen['placement']}/feedback",
                 {"score": 1, "from_role": "employer", "comment": "Slecht."}, token)
    assert r.status_code == 404, r.text
    assert org.event_count() == before

    r = org.post(f"/placements/{de_vries['placement']}/feedback",
                 {"score": 5, "from_role": "agency"}, token)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "from_role")
    r = org.post(f"/placements/{de_vries['placement']}/feedback",
                 {"score": 5, "from_role": "employer", "comment": "Harde werker."}, token)
    assert r.status_code == 201, r.text
    assert org.event_count() == before + 1


@pytest.fixture(scope="module")
def auditor_token(utrecht: Org) -> str:
    return utrecht.token_for("auditor")


@pytest.mark.parametrize("command", sorted(POSTS))
def test_an_auditor_may_not_issue_any_command(utrecht: Org, auditor_token: str, command: str) -> None:
    path, body = POSTS[command]
    before = utrecht.event_count()
    r = utrecht.post(path.format(**utrecht.ids), body(utrecht.ids), auditor_token)
    assert r.status_code == 403, r.text
    assert r.json()["detail"]
    assert utrecht.event_count() == before


@pytest.mark.parametrize("read", sorted(GET_PATHS))
def test_an_auditor_may_read_everything(utrecht: Org, auditor_token: str, read: str) -> None:
    path = GET_PATHS[read].format(**utrecht.ids)
    r = utrecht.get(path, auditor_token)
    assert r.status_code == 200, r.text
    as_agency = utrecht.get(path).json()
    assert r.json()["id" if "events" not in read else "placement_id"] == \
        as_agency["id" if "events" not in read else "placement_id"]


def test_support_needs_are_shown_to_the_agency_and_the_person_only(utrecht: Org, auditor_token: str) -> None:
    needs = "Schriftelijke instructies, een vaste werkplek."
    path = f"/candidates/{utrecht.ids['candidate']}"
    assert utrecht.get(path).json()["support_needs"] == needs

    as_auditor = utrecht.get(path, auditor_token)
    assert as_auditor.status_code == 200
    assert "support_needs" not in as_auditor.json() and needs not in as_auditor.text
    assert as_auditor.json()["full_name"] == "Sanne Jansen"

    employer = utrecht.token_for("employer", employer_id=uuid.UUID(utrecht.ids["employer"]))
    as_employer = utrecht.get(path, employer)
    assert as_employer.status_code in (200, 404)
    assert needs not in as_employer.text and "support_needs" not in as_employer.text

    herself = utrecht.token_for("employee", candidate_id=uuid.UUID(utrecht.ids["candidate"]))
    assert utrecht.get(path, herself).json()["support_needs"] == needs


def test_a_suspended_tenant_can_read_but_not_change(system: System, org: Org) -> None:
    ids = org.seed()
    before = org.event_count()
    system.registry.set_status(org.tenant.slug, "suspended")
    try:
        token = org.token_for("agency")  # never cached: the tenant's status is read now
        r = org.post(f"/placements/{ids['placement']}/end",
                     {"ends_on": "2025-06-30", "reason": "resigned"}, token)
        assert r.status_code == 403, r.text
        assert "suspended" in r.json()["detail"]
        assert org.get(f"/placements/{ids['placement']}", token).status_code == 200
        assert org.event_count() == before
    finally:
        system.registry.set_status(org.tenant.slug, "active")


# -- idempotent retries -------------------------------------------------------------------

def test_a_retry_with_the_same_idempotency_key_is_answered_the_same_and_stored_once(org: Org) -> None:
    ids = org.seed()
    before = org.event_count()
    body = {"score": 4, "from_role": "coach", "comment": "Loopt goed."}
    key = {"Idempotency-Key": f"feedback-{uuid.uuid4()}"}
    first = org.post(f"/placements/{ids['placement']}/feedback", body, **key)
    second = org.post(f"/placements/{ids['placement']}/feedback", body, **key)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert org.event_count() == before + 1
    assert [e["type"] for e in events_of(org, ids["placement"])].count("FeedbackGiven") == 1


def test_a_retried_creation_returns_the_same_id(org: Org) -> None:
    key = {"Idempotency-Key": "werkgever-de-vries-1"}
    first = org.post("/employers", {"name": "Bouwbedrijf De Vries"}, **key)
    second = org.post("/employers", {"name": "Bouwbedrijf De Vries"}, **key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert org.event_count() == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(org: Org) -> None:
    ids = org.seed()
    key = {"Idempotency-Key": "one-request-only"}
    assert org.post(f"/placements/{ids['placement']}/feedback",
                    {"score": 4, "from_role": "coach"}, **key).status_code == 201
    before = org.event_count()
    r = org.post(f"/placements/{ids['placement']}/feedback", {"score": 1, "from_role": "coach"}, **key)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert org.event_count() == before


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_an_unusable_idempotency_key_is_refused_naming_the_header(org: Org, key: str) -> None:
    ids = org.seed()
    before = org.event_count()
    r = org.post(f"/placements/{ids['placement']}/feedback", {"score": 4, "from_role": "coach"},
                 **{"Idempotency-Key": key})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert org.event_count() == before


# -- concurrent requests ----------------------------------------------------------------

def test_two_simultaneous_ends_of_one_placement_one_succeeds_one_conflicts(org: Org) -> None:
    for round_ in range(5):
        ids = org.seed() if round_ == 0 else {**org.ids, "placement": org.create(
            "/placements", placement_body(org.ids["candidate"], org.ids["employer"]))}
        barrier = threading.Barrier(2, timeout=10)
        responses: list[Any] = [None, None]

        def end(i: int, reason: str) -> None:
            barrier.wait()
            responses[i] = org.post(f"/placements/{ids['placement']}/end",
                                    {"ends_on": "2025-06-30", "reason": reason})

        threads = [threading.Thread(target=end, args=(0, "resigned")),
                   threading.Thread(target=end, args=(1, "dismissed"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        events = events_of(org, ids["placement"])
        assert [e["type"] for e in events] == ["PlacementStarted", "PlacementEnded"]
        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        assert events[-1]["data"]["reason"] == ("resigned", "dismissed")[winner]


def test_twenty_simultaneous_feedbacks_on_one_placement_are_all_accepted(org: Org) -> None:
    """Each still fits after a refresh: none may get a 409 (a single retry
    refused 1-7 of 20 parallel posts)."""
    ids = org.seed()
    barrier = threading.Barrier(20, timeout=10)
    responses: list[Any] = [None] * 20

    def post(i: int) -> None:
        barrier.wait()
        responses[i] = org.post(f"/placements/{ids['placement']}/feedback",
                                {"score": i % 5 + 1, "from_role": "coach", "comment": f"ronde {i}"})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    remarks = sorted(e["data"]["comment"] for e in events_of(org, ids["placement"]) if e["type"] == "FeedbackGiven")
    assert remarks == sorted(f"ronde {i}" for i in range(20))


# -- bad input ------------------------------------------------------------------------

LONG = "x" * (65 * 1024)

# (name, method, path, body, status, field). A str body is sent as is.
BAD_INPUT = [
    ("malformed JSON", "POST", "/employers", '{"name": Bouwbedrijf De Vries}', 400, "body"),
    ("trailing comma", "POST", "/employers", '{"name": "Bouwbedrijf De Vries",}', 400, "body"),
    ("truncated JSON", "POST", "/employers", '{"name": "Bouwbedrijf De Vries"', 400, "body"),
    ("body is a list", "POST", "/employers", '["Bouwbedrijf De Vries"]', 422, "body"),
    ("score is a word", "POST", "/placements/{placement}/feedback",
     {"score": "five", "from_role": "coach"}, 422, "score"),
    ("score is a fraction", "POST", "/placements/{placement}/feedback",
     {"score": 4.5, "from_role": "coach"}, 422, "score"),
    ("hours_per_week is true", "POST", "/placements/{placement}/hours",
     {"hours_per_week": True, "effective_on": "2025-03-01"}, 422, "hours_per_week"),
    ("month 13", "POST", "/placements/{placement}/end",
     {"ends_on": "2026-13-01", "reason": "resigned"}, 422, "ends_on"),
    ("date of birth not a date", "POST", "/candidates",
     candidate_body(date_of_birth="15-06-1990"), 422, "date_of_birth"),
    ("competences a string", "POST", "/candidates",
     candidate_body(competences="Administratie"), 422, "competences"),
    ("permanent_contract a word", "POST", "/placements",
     placement_body("{candidate}", "{employer}", permanent_contract="ja"), 422, "permanent_contract"),
    ("employer_id not a uuid", "POST", "/contracts",
     contract_body("de-vries"), 422, "employer_id"),
    ("name missing", "POST", "/employers", {}, 422, "name"),
    ("rule_set missing", "POST", "/contracts",
     {k: v for k, v in contract_body("{employer}").items() if k != "rule_set"}, 422, "rule_set"),
    ("from_role missing", "POST", "/placements/{placement}/feedback", {"score": 4}, 422, "from_role"),
    ("ends_on missing", "POST", "/placements/{placement}/end", {"reason": "resigned"}, 422, "ends_on"),
    ("unknown field", "POST", "/employers", {"name": "Bouwbedrijf De Vries", "kvk": "12345678"},
     422, "kvk"),
    ("score 0", "POST", "/placements/{placement}/feedback", {"score": 0, "from_role": "coach"},
     422, "score"),
    ("score 6", "POST", "/placements/{placement}/feedback", {"score": 6, "from_role": "coach"},
     422, "score"),
    ("hours 0", "POST", "/placements/{placement}/hours",
     {"hours_per_week": "0", "effective_on": "2025-03-01"}, 422, "hours_per_week"),
    ("hours 61", "POST", "/placements/{placement}/hours",
     {"hours_per_week": 61, "effective_on": "2025-03-01"}, 422, "hours_per_week"),
    ("vacancy of 61 hours", "POST", "/vacancies", vacancy_body("{employer}", hours_per_week="61"),
     422, "hours_per_week"),
    ("obligation 101%", "POST", "/contracts", contract_body("{employer}", obligation_percent="101"),
     422, "obligation_percent"),
    ("obligation -1%", "POST", "/contracts", contract_body("{employer}", obligation_percent="-1"),
     422, "obligation_percent"),
    ("contract worth nothing", "POST", "/contracts", contract_body("{employer}", contract_value_eur="0"),
     422, "contract_value_eur"),
    ("contract in tenths of cents", "POST", "/contracts",
     contract_body("{employer}", contract_value_eur="12.345"), 422, "contract_value_eur"),
    ("contract worth 10^30", "POST", "/contracts",
     contract_body("{employer}", contract_value_eur="1e30"), 422, "contract_value_eur"),
    ("comment too long", "POST", "/placements/{placement}/feedback",
     {"score": 4, "from_role": "coach", "comment": "x" * 4001}, 422, "comment"),
    ("unknown employer", "POST", "/contracts", contract_body(str(uuid.UUID(int=1))),
     422, "employer_id"),
    ("unknown candidate", "POST", "/placements",
     placement_body(str(uuid.UUID(int=2)), "{employer}"), 422, "candidate_id"),
    ("unknown candidate to match", "POST", "/vacancies/{vacancy}/matches",
     {"candidate_id": str(uuid.UUID(int=3))}, 422, "candidate_id"),
    ("unknown contract", "POST", "/placements",
     placement_body("{candidate}", "{employer}", str(uuid.UUID(int=4))), 422, "contract_id"),
    ("unknown rule set", "POST", "/contracts", contract_body("{employer}", rule_set="amsterdam-1999"),
     422, "rule_set"),
    ("unknown target group", "POST", "/candidates", candidate_body(target_group="bijstand"),
     422, "target_group"),
    ("unknown end reason", "POST", "/placements/{placement}/end",
     {"ends_on": "2025-06-30", "reason": "verhuisd"}, 422, "reason"),
    ("unknown feedback role", "POST", "/placements/{placement}/feedback",
     {"score": 4, "from_role": "manager"}, 422, "from_role"),
    ("contract ends before it starts", "POST", "/contracts",
     contract_body("{employer}", starts_on="2026-01-01", ends_on="2025-12-31"), 422, "ends_on"),
    ("placement ends before it starts", "POST", "/placements/{placement}/end",
     {"ends_on": "2025-01-31", "reason": "resigned"}, 422, "ends_on"),
    ("hours change before the start", "POST", "/placements/{placement}/hours",
     {"hours_per_week": "20", "effective_on": "2025-01-01"}, 422, "effective_on"),
    ("extension not later", "POST", "/placements/{placement}/extend", {"until": "2025-06-30"},
     422, "until"),
    ("unknown placement in path", "POST", f"/placements/{uuid.UUID(int=5)}/end",
     {"ends_on": "2025-06-30", "reason": "resigned"}, 404, None),
    ("unknown employer in path", "POST", f"/employers/{uuid.UUID(int=6)}/contact-persons",
     {"name": "Pieter de Vries", "email": "pieter@devries.nl"}, 404, None),
    ("unknown contract read", "GET", f"/contracts/{uuid.UUID(int=7)}", None, 404, None),
    ("non-uuid placement in path", "POST", "/placements/12345/end",
     {"ends_on": "2025-06-30", "reason": "resigned"}, 404, None),
    ("non-uuid employer read", "GET", "/employers/de-vries", None, 404, None),
    ("non-uuid events read", "GET", "/placements/not-a-uuid/events", None, 404, None),
    ("oversized body", "POST", "/employers", {"name": "Bouwbedrijf De Vries", "kvk": LONG}, 413, None),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        placeholder = re.fullmatch(r"\{(\w+)\}", value)
        return ids[placeholder.group(1)] if placeholder else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _case(name: str, *rest: Any) -> Any:
    return pytest.param(name, *rest, id=name)


@pytest.mark.parametrize(("name", "method", "path", "body", "status", "field"),
                         [_case(*case) for case in BAD_INPUT])
def test_bad_input_gets_a_clear_answer_naming_the_field_and_stores_nothing(
        utrecht: Org, client: TestClient, name: str, method: str, path: str, body: Any,
        status: int, field: str | None) -> None:
    before = utrecht.event_count()
    url = API + path.format(**utrecht.ids)
    headers = bearer(utrecht.agency_token)
    if isinstance(body, str):
        r = client.request(method, url, content=body.encode(),
                           headers={**headers, "Content-Type": "application/json"})
    else:
        r = client.request(method, url, json=_fill(body, utrecht.ids), headers=headers)

    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    answer = r.json()
    assert isinstance(answer["detail"], str) and answer["detail"]
    if field is not None:
        assert answer["errors"][0]["field"] == field, answer
        assert answer["errors"][0]["message"]
    assert utrecht.event_count() == before
