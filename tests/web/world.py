"""A demo-like world for the page sweeps (accessibility, CSRF, roles, 404s):
one employer with a contract, vacancies, a placement with support, duties,
contributions and a pipeline; the route table of the pages, and the ids that
fill its path parameters.

Routes are read from `web.pages.PAGE_HANDLERS`, so a page or form added later
is swept too; a path parameter the sweep cannot fill fails the sweep (give
it an id in `build_world`)."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient

from domain.duties import duties_for
from domain.placement import Placement
from infra.bootstrap import System
from service import commands as c
from tests.conftest import random_slug
from tests.web.conftest import Agency, Browser
from web.app import create_app
from web.pages import PAGE_HANDLERS

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
    run(c.AddChecklistItem(placement_id=placement, label=t("Sleutel van de werkplaats"), responsible="employer"))
    run(c.RequestAdjustment(placement_id=placement, kind="tool", description=t("Brailleleesregel"), funder="uwv"))
    run(c.LogCheckIn(placement_id=placement, held_on=today - timedelta(days=3), with_whom="employee",
                     note=t("Vermoeid na lange dagen")))
    run(c.LogCoachingSession(placement_id=placement, held_on=today - timedelta(days=2), hours=Decimal("1.5"),
                             note=t("Planning geoefend")))
    run(c.ReportSickness(placement_id=placement, first_sick_day=today - timedelta(days=2)))
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
    started = agency.system.ledger.get(agency.tenant, agency.actor, Placement, placement)
    duties = duties_for(placement, started.starts_on, started.planned_end_on, [today - timedelta(days=2)])
    extra = {"contribution_id": str(ids["purchase"]), "duty_id": str(duties[-1].id),
             "item_id": "team_informed", "adjustment_id": "adj-1", "job_id": str(uuid4())}
    agency.project()
    return World(agency=agency, ids=ids, extra=extra)


def events_stored(agency: Agency) -> int:
    """The tenant's last notification id: unchanged means nothing was stored."""
    return agency.system.stores.for_tenant(agency.tenant).recorder.max_notification_id() or 0


# -- one world per test module, a signed-in client per role -------------------------------

def new_tenant(system: System) -> Agency:
    return Agency(system=system, tenant=system.registry.create_tenant(random_slug("sweep"), "Werkbedrijf Sweep B.V."))


@pytest.fixture(scope="module")
def world(system: System) -> World:
    return build_world(new_tenant(system))


@pytest.fixture(scope="module")
def signed_in(system: System, world: World) -> Iterator[Callable[[str], Browser]]:
    """`signed_in(role, **user)`: a client logged in as that role in `world`, one per
    role and user fields (e.g. `organisation=` for another authority)."""
    clients: dict[tuple[str, tuple[tuple[str, Any], ...]], TestClient] = {}

    def open_(role: str, **user: Any) -> Browser:
        key = (role, tuple(sorted(user.items())))
        if key not in clients:
            client = TestClient(create_app(system))
            client.follow_redirects = False
            client.__enter__()
            clients[key] = client
            assert Browser(client).login(world.user(role, **user).email).status_code == 303
        return Browser(clients[key])

    yield open_
    for client in clients.values():
        client.__exit__(None, None, None)
