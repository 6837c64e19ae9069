"""Undoing a link: an agency that shared a contract with the wrong authority
organisation (or an employer record with the wrong employer organisation)
unlinks it (`"authority_org_id": null` / `"org_id": null`), or links it to
the right one. The old organisation's users lose it at once, everywhere: the
record, what hangs under it, the portfolio, the statement queue and the
notifications about it answer as for an unknown id. A contract whose
submitted statement awaits the linked authority's decision keeps its link
(409) until it is decided."""
from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from domain.contract import SocialReturnContract
from domain.employer import Employer
from infra.bootstrap import System
from service.actor import Actor
from tests.api.conftest import API, Org, bearer, candidate_body, contract_body, placement_body
from tests.api.test_organisations import Party, _agency, _party, _patch, kvk, oin
from tests.projections.conftest import catch_up


def _get(client: TestClient, party: Party, path: str) -> Any:
    return client.get(API + path, headers=bearer(party.token))


def _history(system: System, agency: Org, kind: type, ident: str) -> list[dict[str, Any]]:
    actor = Actor(user_id=uuid.uuid4(), role="agency", organisation="test")
    return system.ledger.history(agency.tenant, actor, kind, uuid.UUID(ident))


def _listed(client: TestClient, party: Party, path: str, key: str, id_key: str) -> list[str]:
    r = _get(client, party, path)
    assert r.status_code == 200, r.text
    return [row[id_key] for row in r.json()[key]]


def _contract_world(system: System, client: TestClient) -> tuple[Org, Party, Party, dict[str, str]]:
    agency = _agency(system, client, f"Koppel {uuid.uuid4().hex[:6]}")
    wrong = _party(system, "authority", "Gemeente Harlingen", oin=oin())
    right = _party(system, "authority", "Gemeente Utrecht", oin=oin())
    ids: dict[str, str] = {}
    ids["employer"] = agency.create("/employers", {"name": "De Vries"})
    ids["contract"] = agency.create("/contracts", contract_body(ids["employer"], authority_org_id=str(wrong.org.id)))
    candidate = agency.create("/candidates", candidate_body())
    ids["placement"] = agency.create("/placements", placement_body(candidate, ids["employer"], ids["contract"]))
    ids["purchase"] = agency.create(f"/contracts/{ids['contract']}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Groen Doen B.V.",
        "invoice_amount_eur_excl_vat": "1000.00", "register": "registered_social_enterprise",
        "invoice_date": "2025-03-01", "description": "Groen"})
    catch_up(system, agency.tenant)
    return agency, wrong, right, ids


def _sees(client: TestClient, party: Party, ids: dict[str, str], statement: str | None = None) -> list[int]:
    paths = [f"/contracts/{ids['contract']}", f"/contracts/{ids['contract']}/compliance",
             f"/contracts/{ids['contract']}/statements", f"/placements/{ids['placement']}",
             f"/contracts/{ids['contract']}/contributions", f"/contributions/{ids['purchase']}/explanation"]
    if statement:
        paths.append(f"/statements/{statement}")
    return [_get(client, party, p).status_code for p in paths]


def test_an_unlinked_contract_is_gone_for_the_old_authority_and_relinked_for_the_right_one(
        system: System, client: TestClient) -> None:
    agency, wrong, right, ids = _contract_world(system, client)
    # A statement the wrong authority decided (so nothing awaits it), with its notification.
    statement = agency.create(f"/contracts/{ids['contract']}/statements",
                              {"period_start": "2025-01-01", "period_end": "2025-12-31"})
    assert agency.post(f"/statements/{statement}/submit", None).status_code == 200
    catch_up(system, agency.tenant)
    system.notify(None, tenants=[agency.tenant])
    lines = _get(client, wrong, f"/statements/{statement}").json()["lines"]
    r = client.post(API + f"/statements/{statement}/decisions", headers=bearer(wrong.token),
                    json=[{"line_id": x["line_id"], "decision": "accepted"} for x in lines])
    assert r.status_code == 200, r.text
    catch_up(system, agency.tenant)
    assert _sees(client, wrong, ids, statement) == [200] * 7
    assert _listed(client, wrong, "/authority/contracts", "contracts", "contract_id") == [ids["contract"]]
    assert _listed(client, wrong, "/authority/statements?status=decided", "statements",
                   "statement_id") == [statement]
    assert [n["statement_id"] for n in _get(client, wrong, "/notifications").json()["notifications"]] == [statement]

    r = _patch(agency, f"/contracts/{ids['contract']}", {"authority_org_id": None})
    assert r.status_code == 200, r.text
    assert agency.get(f"/contracts/{ids['contract']}").json()["authority_org_id"] is None
    catch_up(system, agency.tenant)
    # Everywhere as an unknown id would be; its lists and inbox without it.
    unknown = [_get(client, wrong, p).status_code for p in (f"/contracts/{uuid.uuid4()}",)]
    assert _sees(client, wrong, ids, statement) == unknown * 7 == [404] * 7
    assert _listed(client, wrong, "/authority/contracts", "contracts", "contract_id") == []
    assert _listed(client, wrong, "/authority/statements?status=decided", "statements", "statement_id") == []
    assert _get(client, wrong, "/notifications").json()["notifications"] == []
    # The free text is as it was; the agency still sees everything.
    assert agency.get(f"/contracts/{ids['contract']}").json()["contracting_authority"] == "Gemeente Utrecht"
    assert agency.get(f"/statements/{statement}").status_code == 200
    # Unlinking what is not linked stores nothing.
    before = agency.event_count()
    assert _patch(agency, f"/contracts/{ids['contract']}", {"authority_org_id": None}).status_code == 200
    assert agency.event_count() == before

    # Linked to the right one: it sees the contract and its records; the wrong one still nothing.
    assert _patch(agency, f"/contracts/{ids['contract']}", {"authority_org_id": str(right.org.id)}).status_code == 200
    catch_up(system, agency.tenant)
    assert _sees(client, right, ids, statement) == [200] * 7
    assert _listed(client, right, "/authority/contracts", "contracts", "contract_id") == [ids["contract"]]
    assert _sees(client, wrong, ids, statement) == [404] * 7
    events = [(e["type"], e["data"]) for e in _history(system, agency, SocialReturnContract, ids["contract"])
              if "Authority" in e["type"]]
    assert [t for t, _ in events] == ["ContractAuthorityLinked", "ContractAuthorityUnlinked",
                                      "ContractAuthorityLinked"]
    assert events[1][1]["unlinked_org_id"] == wrong.org.id


def test_a_statement_awaiting_the_authority_keeps_the_link_until_it_is_decided(
        system: System, client: TestClient) -> None:
    agency, wrong, right, ids = _contract_world(system, client)
    statement = agency.create(f"/contracts/{ids['contract']}/statements",
                              {"period_start": "2025-01-01", "period_end": "2025-12-31"})
    # A draft awaits no one: it does not hold the link (checked below, after submitting).
    assert agency.post(f"/statements/{statement}/submit", None).status_code == 200
    catch_up(system, agency.tenant)
    before = agency.event_count()
    for body in ({"authority_org_id": None}, {"authority_org_id": str(right.org.id)}):
        r = _patch(agency, f"/contracts/{ids['contract']}", body)
        assert r.status_code == 409, r.text
        # A state conflict (like every 409): the detail says which statement holds the link.
        detail = r.json()["detail"]
        assert "2025-01-01 to 2025-12-31 awaits the decision of the linked authority" in detail, detail
    assert agency.event_count() == before
    catch_up(system, agency.tenant)
    assert _sees(client, wrong, ids, statement) == [200] * 7
    assert _listed(client, wrong, "/authority/statements", "statements", "statement_id") == [statement]

    lines = _get(client, wrong, f"/statements/{statement}").json()["lines"]
    r = client.post(API + f"/statements/{statement}/decisions", headers=bearer(wrong.token),
                    json=[{"line_id": x["line_id"], "decision": "accepted"} for x in lines])
    assert r.status_code == 200, r.text
    assert _patch(agency, f"/contracts/{ids['contract']}", {"authority_org_id": None}).status_code == 200
    catch_up(system, agency.tenant)
    assert _sees(client, wrong, ids, statement) == [404] * 7


def test_an_unlinked_employer_record_is_gone_for_the_old_employer_organisation(
        system: System, client: TestClient) -> None:
    agency = _agency(system, client, f"Werkgever {uuid.uuid4().hex[:6]}")
    wrong = _party(system, "employer", "Verkeerde B.V.", kvk=kvk())
    right = _party(system, "employer", "Juiste B.V.", kvk=kvk())
    authority = _party(system, "authority", "Gemeente Harlingen", oin=oin())
    employer = agency.create("/employers", {"name": "Werkgever", "org_id": str(wrong.org.id)})
    contract = agency.create("/contracts", contract_body(employer, authority_org_id=str(authority.org.id)))
    vacancy = agency.create("/vacancies", {"employer_id": employer, "title": "Hovenier",
                                           "required_competences": ["Snoeien"], "hours_per_week": "24"})
    candidate = agency.create("/candidates", candidate_body())
    placement = agency.create("/placements", placement_body(candidate, employer, contract))
    catch_up(system, agency.tenant)
    paths = (f"/employers/{employer}", f"/contracts/{contract}", f"/vacancies/{vacancy}", f"/placements/{placement}")

    def sees(party: Party) -> list[int]:
        return [_get(client, party, p).status_code for p in paths]

    assert sees(wrong) == [200] * 4
    assert _listed(client, wrong, "/employer/contracts", "contracts", "contract_id") == [contract]
    assert _listed(client, wrong, "/employer/placements", "placements", "placement_id") == [placement]

    r = _patch(agency, f"/employers/{employer}", {"org_id": None})
    assert r.status_code == 200, r.text
    assert agency.get(f"/employers/{employer}").json()["org_id"] is None
    catch_up(system, agency.tenant)
    assert sees(wrong) == [404] * 4
    assert _listed(client, wrong, "/employer/contracts", "contracts", "contract_id") == []
    assert _listed(client, wrong, "/employer/placements", "placements", "placement_id") == []
    # The authority keeps the contract: it was shared with it through the contract, not the employer.
    assert _listed(client, authority, "/authority/contracts", "contracts", "contract_id") == [contract]
    assert _get(client, authority, f"/contracts/{contract}").status_code == 200

    assert _patch(agency, f"/employers/{employer}", {"org_id": str(right.org.id)}).status_code == 200
    catch_up(system, agency.tenant)
    assert sees(right) == [200] * 4 and sees(wrong) == [404] * 4
    assert _listed(client, right, "/employer/placements", "placements", "placement_id") == [placement]
    types = [e["type"] for e in _history(system, agency, Employer, employer) if "Organisation" in e["type"]]
    assert types == ["EmployerOrganisationLinked", "EmployerOrganisationUnlinked", "EmployerOrganisationLinked"]


def test_an_unlink_body_is_read_strictly(system: System, client: TestClient) -> None:
    agency, _, _, ids = _contract_world(system, client)
    for path, body, field in ((f"/employers/{ids['employer']}", {}, "org_id"),
                              (f"/employers/{ids['employer']}", {"org_id": "nobody"}, "org_id"),
                              (f"/contracts/{ids['contract']}", {"authority_org_id": 0}, "authority_org_id")):
        r = _patch(agency, path, body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)
