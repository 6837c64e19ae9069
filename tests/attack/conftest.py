"""The attack suite's worlds: two tenants built like the demo (tests/web/world.py),
and in the first a second employer with its own person (the neighbour), each
world's free text marked with a string of its own so a leak of any of it can be
searched for; people of every role with an API token and a signed-in page
client. The figures of every sweep are printed at the end of the run."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from service import commands as c
from tests.api.openapi_check import OpenAPICheck
from tests.attack.probes import SWEEPS, identifying
from tests.conftest import random_slug
from tests.web.world import PASSWORD, ROLES, Agency, Browser, World, build_world
from web.app import create_app

OTHER_AUTHORITY = "Gemeente Harlingen"
# Users of platform organisations (no tenant of their own): the world's contract
# is linked to its authority organisation, its employer record to its employer
# organisation. Their role is the organisation's kind.
ORG_USERS = ("org authority", "org employer")


def role_of(who: str) -> str:
    """The role of a user named by role ("employer") or party ("org employer", "other authority")."""
    return who.split()[-1]
# Text only the agency and the person may read (support needs, check-in and coaching notes).
SPECIAL_CATEGORY = ("Schriftelijke instructies", "Vermoeid na lange dagen", "Planning geoefend")
FULL_READERS = frozenset({"agency", "employee"})


@dataclass
class Party:
    """A world seen from outside: what identifies it, and tokens of its people."""

    world: World
    marker: str
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def agency(self) -> Agency:
        return self.world.agency

    def params(self) -> dict[str, str]:
        return {**self.world.params, "candidate2": str(self.world.ids["candidate2"])}

    def strings(self) -> set[str]:
        """Its marker (in every name and free text), its ids and its people's e-mails and ids."""
        ids = [*self.world.ids.values(), *self.world.extra.values(), *(u.id for u in self.users.values())]
        return {self.marker, *identifying(ids), *(u.email for u in self.users.values())}

    def other_people(self) -> set[str]:
        """The ids of the people in this world other than the placed person
        (whom its employee user is): never shown to that person."""
        return identifying([self.world.ids["candidate2"], self.world.extra["spare_candidate_id"]])

    def own(self, who: str) -> set[str]:
        """What identifies the user `who` of this party (shown to themselves)."""
        user = self.users[who]
        return {user.email, *identifying([user.id])}

    def token(self, who: str) -> str:
        return self.tokens[who]

    def events(self) -> int:
        return self.agency.system.stores.for_tenant(self.agency.tenant).recorder.max_notification_id() or 0


def marked_world(agency: Agency) -> Party:
    marker = f"sweep{uuid.uuid4().hex[:10]}"
    world = build_world(agency, text=marker)
    party = Party(world=world, marker=marker)
    for role in ROLES:
        party.users[role] = world.user(role)
    party.users["other authority"] = world.user("authority", organisation=OTHER_AUTHORITY)
    registry = agency.system.registry
    # Organisations of the platform, named with the marker: a leak of their names is searched for too.
    number = uuid.uuid4().int
    authority = registry.create_organisation("authority", f"Gemeente {marker}", oin=f"{number % 10**20:020d}")
    employer = registry.create_organisation("employer", f"Werkgever {marker}", kvk=f"{number % 10**8:08d}")
    agency.run(c.AmendContract(contract_id=world.ids["contract"], authority_org_id=authority.id))
    agency.run(c.AmendContract(contract_id=world.ids["contract2"], authority_org_id=authority.id))  # statements
    agency.run(c.LinkEmployerOrganisation(employer_id=world.ids["employer"], org_id=employer.id))
    for who, org in (("org authority", authority), ("org employer", employer)):
        party.users[who] = registry.create_org_user(org.id, f"{uuid.uuid4().hex}@example.org", role_of(who),
                                                    password=PASSWORD)  # signs in on the pages too
    party.tokens = {who: registry.issue_token(user) for who, user in party.users.items()}
    # Someone to erase (the person's own records stay intact for the other probes).
    world.extra["spare_candidate_id"] = str(agency.run(c.RegisterCandidate(
        full_name=f"Kees Spaans {marker}", date_of_birth=date(1988, 2, 2), target_group="participatiewet",
        competences=["Plannen"], support_needs="", benefit_since=None)))
    # Two more adjustments (a funder set on one, the other refused) and a vacancy to close.
    for what in ("Een aangepaste stoel", "Een tweede scherm"):
        agency.run(c.RequestAdjustment(placement_id=world.ids["placement"], kind="tool",
                                       description=f"{what} {marker}"))
    world.extra |= {"adjustment2": "adj-2", "adjustment3": "adj-3"}
    world.extra["spare_vacancy_id"] = str(agency.run(c.OpenVacancy(
        employer_id=world.ids["employer"], title=f"Magazijnmedewerker {marker}", required_competences=["Plannen"],
        optional_competences=[], hours_per_week=Decimal("20"))))
    agency.project()
    return party


def new_agency(system: System, name: str) -> Agency:
    return Agency(system=system, tenant=system.registry.create_tenant(random_slug("attack"), name))


@pytest.fixture(scope="module")
def ours(system: System) -> Party:
    return marked_world(new_agency(system, "Werkbedrijf Ons B.V."))


@pytest.fixture(scope="module")
def neighbour(ours: Party) -> Party:
    """Another employer with its contract, vacancies, placement and person, in our tenant."""
    return marked_world(ours.agency)


@pytest.fixture(scope="module")
def theirs(system: System) -> Party:
    """Another tenant, with the same kind of records."""
    return marked_world(new_agency(system, "Werkbedrijf Hun B.V."))


@pytest.fixture(scope="module")
def client(system: System, openapi_check: OpenAPICheck) -> Iterator[TestClient]:
    """Every /api/v1 answer of the sweeps is checked against the OpenAPI too
    (tests/api/openapi_check.py): each status a probe gets is documented."""
    with TestClient(create_app(system)) as c_:
        c_.follow_redirects = False
        c_.event_hooks["response"].append(openapi_check.hook)
        yield c_


@pytest.fixture(scope="module")
def signed_in_as(system: System) -> Iterator[Callable[[Party, str], Browser]]:
    """`signed_in_as(party, who)`: a page client (cookies of its own) signed in as
    that party's user (`who`: a role, "other authority", or one of ORG_USERS)."""
    clients: dict[tuple[int, str], TestClient] = {}

    def open_(party: Party, who: str) -> Browser:
        key = (id(party), who)
        if key not in clients:
            client_ = TestClient(create_app(system))
            client_.follow_redirects = False
            client_.__enter__()
            clients[key] = client_
            assert Browser(client_).login(party.users[who].email).status_code == 303
        return Browser(clients[key])

    yield open_
    for client_ in clients.values():
        client_.__exit__(None, None, None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SWEEPS:
        terminalreporter.section("attack suite: isolation sweeps")
        for s in SWEEPS.values():
            terminalreporter.write_line(s.report())
        total_tried = sum(s.tried for s in SWEEPS.values())
        total_failed = sum(s.failed for s in SWEEPS.values())
        terminalreporter.write_line(f"all isolation sweeps: {total_tried} probes tried, {total_failed} failed")
