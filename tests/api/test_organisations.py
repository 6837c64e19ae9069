"""Contracting authorities and employers as organisations of the platform,
through the API: two agencies, two authorities and two employers. Each
organisation's user sees exactly what an agency linked to it, in whichever
agency, and nothing else; what it does is stored in the owning agency's
history with its user as actor."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.employer import Employer
from infra.bootstrap import System
from infra.registry import Organisation
from service.actor import Actor
from tests.api.conftest import (API, Org, bearer, candidate_body, contract_body, placement_body,
                                vacancy_body)
from tests.conftest import random_slug
from tests.projections.conftest import catch_up


def kvk() -> str:
    return f"{random.randrange(10**7, 10**8)}"


def oin() -> str:
    return "00000001" + f"{random.randrange(10**11, 10**12)}"


@dataclass
class Party:
    """An organisation of the platform and its user's API token."""

    org: Organisation
    token: str
    user_id: uuid.UUID


@dataclass
class World:
    system: System
    client: TestClient
    agencies: dict[str, Org]
    parties: dict[str, Party]
    ids: dict[str, str] = field(default_factory=dict)

    def get(self, who: str, path: str) -> Any:
        return self.client.get(API + path, headers=bearer(self.parties[who].token))

    def post(self, who: str, path: str, body: Any) -> Any:
        return self.client.post(API + path, json=body, headers=bearer(self.parties[who].token))


def _party(system: System, kind: str, name: str, **identifier: str) -> Party:
    org = system.registry.create_organisation(kind, name, **identifier)
    user = system.registry.create_org_user(org.id, f"{uuid.uuid4().hex[:12]}@example.org", kind)
    return Party(org=org, token=system.registry.issue_token(user), user_id=user.id)


def _agency(system: System, client: TestClient, name: str) -> Org:
    agency = Org(system=system, client=client, tenant=system.registry.create_tenant(random_slug(), name),
                 agency_token="")
    agency.agency_token = agency.token_for("agency")
    return agency


def _patch(agency: Org, path: str, body: Any) -> Any:
    return agency.client.patch(API + path, json=body, headers=bearer(agency.agency_token))


@pytest.fixture(scope="module")
def world(system: System, client: TestClient) -> World:
    """Kansrijk and Noord (agencies); Harlingen and Utrecht (authorities); De
    Vries and Visserij (employers). De Vries works with both agencies; Harlingen
    has a contract at each. Kansrijk also has a contract that names Harlingen
    only in free text, linked to no organisation."""
    parties = {
        "harlingen": _party(system, "authority", "Gemeente Harlingen", oin=oin()),
        "utrecht": _party(system, "authority", "Gemeente Utrecht", oin=oin()),
        "devries": _party(system, "employer", "Bouwbedrijf De Vries B.V.", kvk=kvk()),
        "visserij": _party(system, "employer", "Visserij Harlingen B.V.", kvk=kvk()),
    }
    w = World(system=system, client=client, parties=parties,
              agencies={"kansrijk": _agency(system, client, "Kansrijk"), "noord": _agency(system, client, "Noord")})
    k, n, ids = w.agencies["kansrijk"], w.agencies["noord"], w.ids
    org = {name: str(p.org.id) for name, p in parties.items()}

    # Kansrijk links as it registers.
    ids["k_devries"] = k.create("/employers", {"name": "De Vries", "org_id": org["devries"]})
    ids["k_visserij"] = k.create("/employers", {"name": "Visserij", "org_id": org["visserij"]})
    ids["k_devries_harlingen"] = k.create("/contracts", contract_body(
        ids["k_devries"], contracting_authority=None, authority_org_id=org["harlingen"]))
    ids["k_visserij_utrecht"] = k.create("/contracts", contract_body(
        ids["k_visserij"], authority_org_id=org["utrecht"]))
    ids["k_free_text"] = k.create("/contracts", contract_body(
        ids["k_visserij"], contracting_authority="Gemeente Harlingen"))
    for who, contract in (("devries", "k_devries_harlingen"), ("visserij", "k_visserij_utrecht")):
        employer = ids[f"k_{who}"]
        ids[f"k_{who}_candidate"] = k.create("/candidates", candidate_body())
        ids[f"k_{who}_vacancy"] = k.create("/vacancies", vacancy_body(employer))
        ids[f"k_{who}_placement"] = k.create("/placements", placement_body(
            ids[f"k_{who}_candidate"], employer, ids[contract]))
    ids["k_purchase"] = k.create(f"/contracts/{ids['k_devries_harlingen']}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Sociale Werkplaats",
        "invoice_amount_eur_excl_vat": "1000.00",
        "register": "registered_social_enterprise", "invoice_date": "2025-03-01", "description": "catering"})

    # Noord had its records before organisations existed, and links them afterwards.
    ids["n_devries"] = n.create("/employers", {"name": "Bouwbedrijf De Vries"})
    ids["n_devries_harlingen"] = n.create("/contracts", contract_body(
        ids["n_devries"], contracting_authority="Gem. Harlingen"))
    ids["n_candidate"] = n.create("/candidates", candidate_body())
    ids["n_placement"] = n.create("/placements", placement_body(
        ids["n_candidate"], ids["n_devries"], ids["n_devries_harlingen"]))
    assert _patch(n, f"/employers/{ids['n_devries']}", {"org_id": org["devries"]}).status_code == 200
    assert _patch(n, f"/contracts/{ids['n_devries_harlingen']}",
                  {"authority_org_id": org["harlingen"]}).status_code == 200
    for agency in w.agencies.values():
        catch_up(system, agency.tenant)
    return w


def _contribution_of(world: World, placement: str) -> str:
    return str(Contribution.id_for_placement(uuid.UUID(world.ids[placement])))


# -- what each organisation sees --------------------------------------------------------
SEES = {
    "harlingen": {"contracts": ["k_devries_harlingen", "n_devries_harlingen"],
                  "placements": ["k_devries_placement", "n_placement"]},
    "utrecht": {"contracts": ["k_visserij_utrecht"], "placements": ["k_visserij_placement"]},
    "devries": {"employers": ["k_devries", "n_devries"], "contracts": ["k_devries_harlingen", "n_devries_harlingen"],
                "vacancies": ["k_devries_vacancy"], "placements": ["k_devries_placement", "n_placement"]},
    "visserij": {"employers": ["k_visserij"], "contracts": ["k_visserij_utrecht", "k_free_text"],
                 "vacancies": ["k_visserij_vacancy"], "placements": ["k_visserij_placement"]},
}
RECORDS = {
    "employers": ["k_devries", "k_visserij", "n_devries"],
    "contracts": ["k_devries_harlingen", "k_visserij_utrecht", "k_free_text", "n_devries_harlingen"],
    "vacancies": ["k_devries_vacancy", "k_visserij_vacancy"],
    "placements": ["k_devries_placement", "k_visserij_placement", "n_placement"],
}


@pytest.mark.parametrize("who", sorted(SEES))
def test_each_organisation_reads_exactly_what_was_linked_to_it_in_either_agency(world: World, who: str) -> None:
    for collection, names in RECORDS.items():
        for name in names:
            r = world.get(who, f"/{collection}/{world.ids[name]}")
            expected = 200 if name in SEES[who].get(collection, ()) else 404
            assert r.status_code == expected, (who, collection, name, r.text)
            if expected == 200:
                assert r.json()["id"] == world.ids[name]


@pytest.mark.parametrize("who", sorted(SEES))
def test_a_record_not_shared_answers_as_an_unknown_id_does(world: World, who: str) -> None:
    nobody = str(uuid.uuid4())
    unknown = world.get(who, f"/contracts/{nobody}/compliance")
    assert unknown.status_code == 404
    for name in RECORDS["contracts"]:
        if name not in SEES[who]["contracts"]:
            r = world.get(who, f"/contracts/{world.ids[name]}/compliance")
            assert r.status_code == 404
            assert r.text == unknown.text.replace(nobody, world.ids[name])


def test_a_free_text_match_shares_nothing_with_the_organisation(world: World) -> None:
    """Kansrijk typed "Gemeente Harlingen" on a contract but linked it to no
    organisation: Harlingen's officer does not see it, whatever its name."""
    assert world.parties["harlingen"].org.name == "Gemeente Harlingen"
    contract = world.ids["k_free_text"]
    for path in (f"/contracts/{contract}", f"/contracts/{contract}/compliance",
                 f"/contracts/{contract}/contributions"):
        assert world.get("harlingen", path).status_code == 404, path


def test_the_authority_sees_figures_of_its_contracts_across_agencies(world: World) -> None:
    for name in ("k_devries_harlingen", "n_devries_harlingen"):
        r = world.get("harlingen", f"/contracts/{world.ids[name]}/compliance")
        assert r.status_code == 200, r.text
        assert r.json()["contract_id"] == world.ids[name]
    listed = world.get("harlingen", f"/contracts/{world.ids['k_devries_harlingen']}/contributions")
    assert listed.status_code == 200
    assert world.ids["k_purchase"] in {c["id"] for c in listed.json()["contributions"]}


def test_the_authoritys_decision_is_stored_in_the_owning_agencys_history(world: World, system: System) -> None:
    contribution = world.ids["k_purchase"]
    r = world.post("harlingen", f"/contributions/{contribution}/accept", {"reason": "invoice checked"})
    assert r.status_code == 200, r.text
    utrecht = world.post("utrecht", f"/contributions/{contribution}/reject", {"reason": "not ours"})
    assert utrecht.status_code == 404
    kansrijk = world.agencies["kansrijk"]
    history = system.ledger.history(kansrijk.tenant, Actor.system(), Contribution, uuid.UUID(contribution))
    decided = history[-1]
    assert decided["type"] == "ContributionAccepted"
    harlingen = world.parties["harlingen"]
    assert decided["metadata"]["user_id"] == str(harlingen.user_id)
    assert decided["metadata"]["role"] == "authority"
    assert decided["metadata"]["org_id"] == str(harlingen.org.id)
    assert decided["metadata"]["organisation"] == "Gemeente Harlingen"


def test_the_employers_feedback_lands_in_the_agency_that_placed_the_person(world: World, system: System) -> None:
    placement = world.ids["n_placement"]
    r = world.post("devries", f"/placements/{placement}/feedback", {"score": 4, "from_role": "employer"})
    assert r.status_code == 201, r.text
    other = world.post("visserij", f"/placements/{placement}/feedback", {"score": 1, "from_role": "employer"})
    assert other.status_code == 404
    noord = world.agencies["noord"]
    events = noord.get(f"/placements/{placement}/events").json()["events"]
    feedback = [e for e in events if e["type"] == "FeedbackGiven"]
    assert len(feedback) == 1
    assert feedback[0]["metadata"]["user_id"] == str(world.parties["devries"].user_id)
    assert feedback[0]["metadata"]["org_id"] == str(world.parties["devries"].org.id)
    kansrijk_events = world.agencies["kansrijk"].get(
        f"/placements/{world.ids['k_devries_placement']}/events").json()["events"]
    assert not [e for e in kansrijk_events if e["type"] == "FeedbackGiven"]


def test_an_employer_organisation_sees_its_retention_but_not_the_agencys(world: World) -> None:
    assert world.get("devries", f"/employers/{world.ids['n_devries']}/retention").status_code == 200
    assert world.get("devries", f"/employers/{world.ids['k_visserij']}/retention").status_code == 404
    assert world.get("devries", "/retention").status_code == 403


@pytest.mark.parametrize("path", ["/compliance", "/retention", "/duties", "/reminders", "/support/open",
                                  "/access-log"])
def test_a_route_naming_no_record_has_no_tenant_for_an_organisation(world: World, path: str) -> None:
    for who in SEES:
        r = world.get(who, path)
        # 403: no tenant to act in; 404: the route's own answer for the role (open support, authority).
        assert r.status_code == (404 if (path, world.parties[who].org.kind) == ("/support/open", "authority")
                                 else 403), (who, path, r.text)


def test_an_organisation_may_not_do_the_agencys_work(world: World) -> None:
    contract = world.ids["k_devries_harlingen"]
    assert world.client.patch(API + f"/contracts/{contract}", json={"title": "Mine now"},
                              headers=bearer(world.parties["harlingen"].token)).status_code == 403
    assert world.post("devries", "/employers", {"name": "Own"}).status_code == 403
    r = world.client.patch(API + f"/employers/{world.ids['k_devries']}",
                           json={"org_id": str(world.parties["visserij"].org.id)},
                           headers=bearer(world.parties["devries"].token))
    assert r.status_code == 403


# -- linking ---------------------------------------------------------------------------
def test_linking_is_an_event_with_the_organisations_name_at_the_time(world: World, system: System) -> None:
    noord = world.agencies["noord"]
    contract = system.ledger.history(noord.tenant, Actor.system(), SocialReturnContract,
                                     uuid.UUID(world.ids["n_devries_harlingen"]))
    linked = [e for e in contract if e["type"] == "ContractAuthorityLinked"]
    assert [(e["data"]["authority_org_id"], e["data"]["authority_name"]) for e in linked] == [
        (world.parties["harlingen"].org.id, "Gemeente Harlingen")]
    employer = system.ledger.history(noord.tenant, Actor.system(), Employer, uuid.UUID(world.ids["n_devries"]))
    assert [(e["type"], e["data"]["org_name"]) for e in employer if "Linked" in e["type"]] == [
        ("EmployerOrganisationLinked", "Bouwbedrijf De Vries B.V.")]
    view = noord.get(f"/contracts/{world.ids['n_devries_harlingen']}").json()
    assert (view["authority_org_id"], view["authority_name"], view["contracting_authority"]) == (
        str(world.parties["harlingen"].org.id), "Gemeente Harlingen", "Gem. Harlingen")


def test_a_contract_named_by_its_authority_organisation_takes_its_name(world: World) -> None:
    view = world.agencies["kansrijk"].get(f"/contracts/{world.ids['k_devries_harlingen']}").json()
    assert view["contracting_authority"] == "Gemeente Harlingen"


@pytest.mark.parametrize("case", ["unknown", "wrong kind"])
def test_a_link_to_no_such_organisation_is_refused_naming_the_field(world: World, case: str) -> None:
    noord = world.agencies["noord"]
    authority = str(uuid.uuid4()) if case == "unknown" else str(world.parties["devries"].org.id)
    employer_org = str(uuid.uuid4()) if case == "unknown" else str(world.parties["utrecht"].org.id)
    before = noord.event_count()
    attempts = [
        (noord.post("/contracts", contract_body(world.ids["n_devries"], authority_org_id=authority)),
         "authority_org_id"),
        (_patch(noord, f"/contracts/{world.ids['n_devries_harlingen']}", {"authority_org_id": authority}),
         "authority_org_id"),
        (noord.post("/employers", {"name": "Nieuw", "org_id": employer_org}), "org_id"),
        (_patch(noord, f"/employers/{world.ids['n_devries']}", {"org_id": employer_org}), "org_id"),
    ]
    for r, field_name in attempts:
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field_name]
    assert noord.event_count() == before


def test_a_contract_without_authority_or_its_free_text_is_refused(world: World) -> None:
    r = world.agencies["noord"].post("/contracts", contract_body(world.ids["n_devries"],
                                                                 contracting_authority=None))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["contracting_authority"]


def test_moving_a_link_moves_what_the_organisations_see(system: System, client: TestClient) -> None:
    agency = _agency(system, client, "Verhuis")
    first = _party(system, "employer", "Eerste B.V.", kvk=kvk())
    second = _party(system, "employer", "Tweede B.V.", kvk=kvk())
    employer = agency.create("/employers", {"name": "Werkgever", "org_id": str(first.org.id)})
    candidate = agency.create("/candidates", candidate_body())
    placement = agency.create("/placements", placement_body(candidate, employer))
    catch_up(system, agency.tenant)

    def sees(party: Party) -> list[int]:
        return [client.get(API + path, headers=bearer(party.token)).status_code
                for path in (f"/employers/{employer}", f"/placements/{placement}")]
    assert (sees(first), sees(second)) == ([200, 200], [404, 404])
    assert _patch(agency, f"/employers/{employer}", {"org_id": str(second.org.id)}).status_code == 200
    catch_up(system, agency.tenant)
    assert (sees(first), sees(second)) == ([404, 404], [200, 200])


def test_linking_again_to_the_same_organisation_stores_nothing(world: World) -> None:
    noord = world.agencies["noord"]
    before = noord.event_count()
    r = _patch(noord, f"/employers/{world.ids['n_devries']}", {"org_id": str(world.parties["devries"].org.id)})
    assert r.status_code == 200
    assert noord.event_count() == before
