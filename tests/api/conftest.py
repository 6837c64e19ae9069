"""Fixtures for the HTTP API tests: one app and one TestClient for the session,
tenants and users created per test with random slugs and e-mails."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from infra.eventstore import Tenant
from tests.api.openapi_check import OpenAPICheck
from tests.conftest import random_slug
from web.app import create_app

API = "/api/v1"


@pytest.fixture(scope="session")
def client(system: System, openapi_check: OpenAPICheck) -> Iterator[TestClient]:
    """The API's test client: every /api/v1 answer is checked against the OpenAPI."""
    with TestClient(create_app(system)) as c:
        c.event_hooks["response"].append(openapi_check.hook)
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Org:
    """One tenant seen through the API, with a token per role and the ids it created."""

    system: System
    client: TestClient
    tenant: Tenant
    agency_token: str
    ids: dict[str, str] = field(default_factory=dict)

    def token_for(self, role: str, **kwargs: Any) -> str:
        user = self.system.registry.create_user(
            self.tenant, f"{uuid.uuid4().hex}@example.org", role, **kwargs)
        return self.system.registry.issue_token(user)

    def post(self, path: str, body: Any, token: str | None = None, **headers: str) -> Any:
        return self.client.post(API + path, json=body,
                                headers={**bearer(token or self.agency_token), **headers})

    def get(self, path: str, token: str | None = None) -> Any:
        return self.client.get(API + path, headers=bearer(token or self.agency_token))

    def event_count(self) -> int:
        app = self.system.stores.for_tenant(self.tenant)
        return app.recorder.max_notification_id() or 0

    def create(self, path: str, body: dict[str, Any]) -> str:
        r = self.post(path, body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    # -- valid example data (see tests/domain/builders.py) ---------------------
    def seed(self, employer_name: str = "Bouwbedrijf De Vries") -> dict[str, str]:
        """An employer with a contract, a candidate matched to a vacancy, and a placement."""
        ids = self.ids
        ids["employer"] = self.create("/employers", {"name": employer_name})
        ids["contract"] = self.create("/contracts", contract_body(ids["employer"]))
        ids["candidate"] = self.create("/candidates", candidate_body())
        ids["vacancy"] = self.create("/vacancies", vacancy_body(ids["employer"]))
        r = self.post(f"/vacancies/{ids['vacancy']}/matches", {"candidate_id": ids["candidate"]})
        assert r.status_code == 201, r.text
        ids["placement"] = self.create("/placements", placement_body(
            ids["candidate"], ids["employer"], ids["contract"], ids["vacancy"]))
        return ids


def contract_body(employer_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "employer_id": employer_id,
        "title": "Onderhoud openbare ruimte",
        "contracting_authority": "Gemeente Utrecht",
        "contract_value_eur": "1000000.00",
        "obligation_percent": "5",
        "starts_on": "2025-01-01",
        "ends_on": "2027-12-31",
        "awarded_on": "2024-11-15",
        # Version 1 pinned: the hand-worked figures of these tests are its rules.
        "rule_set": "utrecht-2024", "rule_set_version": 1,
        **overrides,
    }


def candidate_body(**overrides: Any) -> dict[str, Any]:
    return {
        "full_name": "Sanne Jansen",
        "date_of_birth": "1990-06-15",
        "target_group": "doelgroepregister",
        "competences": ["Administratie", "Excel"],
        "support_needs": "Schriftelijke instructies, een vaste werkplek.",
        "benefit_since": "2015-01-01",
        **overrides,
    }


def vacancy_body(employer_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "employer_id": employer_id,
        "title": "Administratief medewerker",
        "required_competences": ["Administratie"],
        "optional_competences": ["Excel"],
        "hours_per_week": "24",
        **overrides,
    }


def placement_body(candidate_id: str, employer_id: str, contract_id: str | None = None,
                   vacancy_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "candidate_id": candidate_id,
        "employer_id": employer_id,
        "contract_id": contract_id,
        "vacancy_id": vacancy_id,
        "starts_on": "2025-02-01",
        "hours_per_week": "24",
        "permanent_contract": False,
        "planned_end_on": "2025-12-31",
        **overrides,
    }


@pytest.fixture
def new_org(system: System, client: TestClient) -> Callable[[str], Org]:
    def make(name: str = "Werkbedrijf Utrecht B.V.") -> Org:
        tenant = system.registry.create_tenant(random_slug(), name)
        org = Org(system=system, client=client, tenant=tenant, agency_token="")
        org.agency_token = org.token_for("agency")
        return org
    return make


@pytest.fixture
def org(new_org: Callable[[str], Org]) -> Org:
    return new_org("Werkbedrijf Utrecht B.V.")
