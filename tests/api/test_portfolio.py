"""The cross-agency portfolio through the API: two agencies, two authorities,
two employers. Each organisation's user lists exactly the contracts (and an
employer the placements) an agency shared with it, in every agency, with the
figures the agency's own compliance read model gives, filtered and totalled."""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from tests.api.conftest import API, Org, bearer, candidate_body, contract_body, placement_body
from tests.api.test_organisations import Party, _agency, _party, _patch, kvk, oin
from projections import portfolio
from tests.projections.conftest import catch_up

AS_OF = "2025-06-30"


@dataclass
class World:
    system: System
    client: TestClient
    agencies: dict[str, Org]
    parties: dict[str, Party]
    ids: dict[str, str] = field(default_factory=dict)

    def get(self, who: str, path: str) -> Any:
        token = self.parties[who].token if who in self.parties else self.agencies[who].agency_token
        return self.client.get(API + path, headers=bearer(token))

    def listed(self, who: str, path: str) -> list[str]:
        r = self.get(who, path)
        assert r.status_code == 200, r.text
        key = "placements" if "/placements" in path else "contracts"
        id_key = "placement_id" if key == "placements" else "contract_id"
        by_id = {v: k for k, v in self.ids.items()}
        return sorted(by_id[row[id_key]] for row in r.json()[key])

    def project(self) -> None:
        for agency in self.agencies.values():
            catch_up(self.system, agency.tenant)


@pytest.fixture(scope="module")
def world(system: System, client: TestClient) -> World:
    """Aa Detachering and Zuid Werkt (agencies, named so Aa sorts first);
    Harlingen and Utrecht (authorities); De Vries and Visserij (employers).
    Aa shares De Vries' contract with Harlingen and Visserij's with Utrecht;
    Zuid shares De Vries (linked late) with its contract for Harlingen, and a
    contract of an employer it shares with nobody with Utrecht. Each agency
    also has a contract naming Harlingen in free text only."""
    parties = {
        "harlingen": _party(system, "authority", "Gemeente Harlingen", oin=oin()),
        "utrecht": _party(system, "authority", "Gemeente Utrecht", oin=oin()),
        "devries": _party(system, "employer", "Bouwbedrijf De Vries B.V.", kvk=kvk()),
        "visserij": _party(system, "employer", "Visserij Harlingen B.V.", kvk=kvk()),
    }
    w = World(system=system, client=client, parties=parties,
              agencies={"aa": _agency(system, client, f"Aa Detachering {uuid.uuid4().hex[:6]}"),
                        "zuid": _agency(system, client, f"Zuid Werkt {uuid.uuid4().hex[:6]}")})
    a, z, ids = w.agencies["aa"], w.agencies["zuid"], w.ids
    org = {name: str(p.org.id) for name, p in parties.items()}

    ids["a_devries"] = a.create("/employers", {"name": "De Vries", "org_id": org["devries"]})
    ids["a_visserij"] = a.create("/employers", {"name": "Visserij", "org_id": org["visserij"]})
    ids["a_plain"] = a.create("/employers", {"name": "Schoonmaak Plain"})
    ids["a_devries_harlingen"] = a.create("/contracts", contract_body(
        ids["a_devries"], title="Bestrating", contracting_authority=None, authority_org_id=org["harlingen"]))
    ids["a_visserij_utrecht"] = a.create("/contracts", contract_body(
        ids["a_visserij"], title="Haven", authority_org_id=org["utrecht"], starts_on="2026-01-01",
        ends_on="2028-12-31"))
    ids["a_free_text"] = a.create("/contracts", contract_body(
        ids["a_plain"], title="Schoonmaak", contracting_authority="Gemeente Harlingen"))
    for who, contract in (("devries", "a_devries_harlingen"), ("visserij", "a_visserij_utrecht"),
                          ("plain", "a_free_text")):
        candidate = a.create("/candidates", candidate_body())
        ids[f"a_{who}_placement"] = a.create("/placements", placement_body(
            candidate, ids[f"a_{who}"], ids[contract],
            **({"starts_on": "2026-02-01", "planned_end_on": "2026-12-31"} if who == "visserij" else {})))
    ids["a_purchase"] = a.create(f"/contracts/{ids['a_devries_harlingen']}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Sociale Werkplaats",
        "invoice_amount_eur_excl_vat": "1000.00", "register": "registered_social_enterprise",
        "invoice_date": "2025-03-01", "description": "catering"})

    ids["z_devries"] = z.create("/employers", {"name": "Bouwbedrijf De Vries"})
    ids["z_plain"] = z.create("/employers", {"name": "Groen Plain"})
    ids["z_devries_harlingen"] = z.create("/contracts", contract_body(
        ids["z_devries"], title="Riolering", contracting_authority="Gem. Harlingen"))
    ids["z_plain_utrecht"] = z.create("/contracts", contract_body(
        ids["z_plain"], title="Groenonderhoud", authority_org_id=org["utrecht"]))
    ids["z_free_text"] = z.create("/contracts", contract_body(
        ids["z_plain"], title="Kantoor", contracting_authority="Gemeente Harlingen"))
    candidate = z.create("/candidates", candidate_body())
    ids["z_devries_placement"] = z.create("/placements", placement_body(
        candidate, ids["z_devries"], ids["z_devries_harlingen"]))
    # Linked after the records were made: they are shared all the same.
    assert _patch(z, f"/employers/{ids['z_devries']}", {"org_id": org["devries"]}).status_code == 200
    assert _patch(z, f"/contracts/{ids['z_devries_harlingen']}",
                  {"authority_org_id": org["harlingen"]}).status_code == 200
    w.project()
    return w


SEES = {
    ("harlingen", "/authority/contracts"): ["a_devries_harlingen", "z_devries_harlingen"],
    ("utrecht", "/authority/contracts"): ["a_visserij_utrecht", "z_plain_utrecht"],
    ("devries", "/employer/contracts"): ["a_devries_harlingen", "z_devries_harlingen"],
    ("visserij", "/employer/contracts"): ["a_visserij_utrecht"],
    ("devries", "/employer/placements"): ["a_devries_placement", "z_devries_placement"],
    ("visserij", "/employer/placements"): ["a_visserij_placement"],
}


@pytest.mark.parametrize("who,path", sorted(SEES))
def test_each_organisation_lists_exactly_what_agencies_shared_with_it(world: World, who: str, path: str) -> None:
    assert world.listed(who, path) == SEES[(who, path)]


@pytest.mark.parametrize("path", ["/authority/contracts", "/employer/contracts", "/employer/placements"])
def test_the_lists_are_for_the_organisation_they_name_and_nobody_else(world: World, path: str) -> None:
    """An agency's user, and an organisation of the other kind, get a 403:
    the list is chosen by the token's organisation, never by the request."""
    kind = path.split("/")[1]
    for who in ("aa", "zuid", "harlingen", "devries"):
        r = world.get(who, path)
        if who in world.parties and world.parties[who].org.kind == kind:
            assert r.status_code == 200, r.text
        else:
            assert r.status_code == 403, (who, r.text)
    # A query naming another organisation's agency or supplier narrows, it does not widen.
    other = world.get("utrecht", f"/authority/contracts?agency={world.agencies['aa'].tenant.id}").json()
    assert [c["contract_id"] for c in other["contracts"]] == [world.ids["a_visserij_utrecht"]]


def test_each_row_carries_the_figures_of_the_agencys_own_compliance_read_model(world: World) -> None:
    listed = world.get("harlingen", f"/authority/contracts?as_of={AS_OF}").json()
    assert listed["as_of"] == AS_OF
    for row in listed["contracts"]:
        own = world.get("harlingen", f"/contracts/{row['contract_id']}/compliance?as_of={AS_OF}").json()
        for key in ("obligation_eur", "accepted_eur", "pending_eur", "forecast_eur", "forecast_accepted_eur",
                    "forecast_pending_eur", "percent_accepted", "status"):
            assert row[key] == own[key], (key, row, own)
        # The placements end as planned (2025-12-31), not at the contract's end (2027-12-31).
        assert Decimal(row["forecast_eur"]) == Decimal(row["forecast_accepted_eur"]) + Decimal(
            row["forecast_pending_eur"])
    first = listed["contracts"][0]
    assert first["contract_id"] == world.ids["a_devries_harlingen"]
    assert first["agency"] == world.agencies["aa"].tenant.name and first["supplier"] == "De Vries"
    assert first["title"] == "Bestrating" and first["authority"] == "Gemeente Harlingen"
    assert (first["starts_on"], first["ends_on"]) == ("2025-01-01", "2027-12-31")
    assert first["obligation_eur"] == "50000.00" and Decimal(first["pending_eur"]) > Decimal("1000")
    # Zuid's Riolering: one doelgroepregister placement (50,000 a year) at 24 of 36 hours
    # from 2025-02-01 to its planned end 2025-12-31: 334 x 50,000 x 24/36 / 365 = 30,502.28,
    # pending; not to the contract's end (2027-12-31).
    second = next(r for r in listed["contracts"] if r["contract_id"] == world.ids["z_devries_harlingen"])
    assert (second["forecast_eur"], second["forecast_accepted_eur"], second["forecast_pending_eur"]) == (
        "30502.28", "0.00", "30502.28")


def test_totals_add_up_the_rows_listed_and_follow_the_filters(world: World) -> None:
    everything = world.get("harlingen", f"/authority/contracts?as_of={AS_OF}").json()
    # The agencies to filter on: both, whatever the filters.
    agencies = [world.agencies[a].tenant for a in ("aa", "zuid")]
    assert everything["agencies"] == [{"id": str(t.id), "name": t.name} for t in agencies]
    totals = everything["totals"]
    assert totals["contracts"] == 2
    for key in ("obligation_eur", "accepted_eur", "pending_eur", "forecast_eur", "forecast_accepted_eur",
                "forecast_pending_eur"):
        assert Decimal(totals[key]) == sum(Decimal(c[key]) for c in everything["contracts"]), key
    one = world.get("harlingen", f"/authority/contracts?as_of={AS_OF}&agency={world.agencies['zuid'].tenant.id}")
    assert one.json()["totals"]["contracts"] == 1
    assert one.json()["totals"]["obligation_eur"] == one.json()["contracts"][0]["obligation_eur"]


def test_an_accepted_contribution_moves_from_pending_to_accepted_in_the_authoritys_list(world: World) -> None:
    # As of today: the purchase counts from the day it was reported.
    before = {c["contract_id"]: c for c in world.get("harlingen", "/authority/contracts").json()[
        "contracts"]}[world.ids["a_devries_harlingen"]]
    r = world.client.post(API + f"/contributions/{world.ids['a_purchase']}/accept", json={"reason": "gezien"},
                          headers=bearer(world.parties["harlingen"].token))
    assert r.status_code == 200, r.text
    world.project()
    after = {c["contract_id"]: c for c in world.get("harlingen", "/authority/contracts").json()[
        "contracts"]}[world.ids["a_devries_harlingen"]]
    assert Decimal(after["accepted_eur"]) == Decimal(before["accepted_eur"]) + Decimal("1000.00")
    assert Decimal(after["pending_eur"]) == Decimal(before["pending_eur"]) - Decimal("1000.00")


@pytest.mark.parametrize("query,expected", [
    ("supplier=vries", ["a_devries_harlingen", "z_devries_harlingen"]),
    ("supplier=VISSERIJ", ["a_visserij_utrecht"]),
    ("from=2025-01-01&to=2025-12-31", ["a_devries_harlingen", "z_devries_harlingen", "z_plain_utrecht"]),
    ("from=2028-01-01", ["a_visserij_utrecht"]),
    ("to=2025-06-01", ["a_devries_harlingen", "z_devries_harlingen", "z_plain_utrecht"]),
    ("status=achieved", []),
])
def test_filters_narrow_the_authoritys_list(world: World, query: str, expected: list[str]) -> None:
    found = sorted(world.listed("harlingen", f"/authority/contracts?{query}")
                   + world.listed("utrecht", f"/authority/contracts?{query}"))
    assert found == expected


@pytest.mark.parametrize("who,supplier,expected", [
    ("harlingen", "devries", ["a_devries_harlingen", "z_devries_harlingen"]),  # named differently in each agency
    ("utrecht", "visserij", ["a_visserij_utrecht"]),
    ("utrecht", "devries", []),
    ("harlingen", "visserij", []),
])
def test_the_supplier_organisation_filter_keeps_its_contracts_in_every_agency(
        world: World, who: str, supplier: str, expected: list[str]) -> None:
    query = f"/authority/contracts?as_of={AS_OF}&employer_org={world.parties[supplier].org.id}"
    assert world.listed(who, query) == expected
    found = world.get(who, query).json()
    assert found["totals"]["contracts"] == len(expected)
    assert Decimal(found["totals"]["obligation_eur"]) == sum(
        (Decimal(c["obligation_eur"]) for c in found["contracts"]), Decimal(0))
    rows = list(csv.DictReader(io.StringIO(world.get(who, query + "&format=csv").content.decode("utf-8-sig")),
                               delimiter=";"))
    assert [r["contract_id"] for r in rows] == [c["contract_id"] for c in found["contracts"]]


def test_the_status_filter_keeps_the_rows_of_that_status(world: World) -> None:
    rows = world.get("utrecht", f"/authority/contracts?as_of={AS_OF}").json()["contracts"]
    for status in {r["status"] for r in rows}:
        kept = world.get("utrecht", f"/authority/contracts?as_of={AS_OF}&status={status}").json()["contracts"]
        assert [r["contract_id"] for r in kept] == [r["contract_id"] for r in rows if r["status"] == status]


def test_the_order_is_agency_supplier_title_and_stable(world: World) -> None:
    rows = world.get("devries", "/employer/contracts").json()["contracts"]
    assert [r["agency"] for r in rows] == sorted(r["agency"] for r in rows)
    assert rows == world.get("devries", "/employer/contracts").json()["contracts"]


def test_placements_list_with_their_status_on_the_day(world: World) -> None:
    rows = world.get("visserij", f"/employer/placements?as_of={AS_OF}").json()
    assert [p["status"] for p in rows["placements"]] == ["planned"]
    assert rows["placements"][0]["contract_title"] == "Haven" and rows["placements"][0]["hours_per_week"] == "24"
    active = world.get("devries", f"/employer/placements?as_of={AS_OF}&status=active").json()
    assert active["totals"] == {"placements": 2, "active": 2, "active_hours_per_week": "48"}
    assert world.get("devries", "/employer/placements?as_of=2025-01-15&status=active").json()["placements"] == []
    ended = world.agencies["aa"].post(f"/placements/{world.ids['a_devries_placement']}/end",
                                      {"ends_on": "2025-05-31", "reason": "other"})
    assert ended.status_code == 200, ended.text
    world.project()
    rows = world.get("devries", f"/employer/placements?as_of={AS_OF}").json()["placements"]
    assert {p["placement_id"]: (p["status"], p["ended_on"]) for p in rows}[world.ids["a_devries_placement"]] == (
        "ended", "2025-05-31")


@pytest.mark.parametrize("path,query,field", [
    ("/authority/contracts", "status=lost", "status"),
    ("/authority/contracts", "agency=kansrijk", "agency"),
    ("/authority/contracts", "employer_org=de-vries", "employer_org"),
    ("/authority/contracts", "from=2025-13-01", "from"),
    ("/authority/contracts", "from=2026-01-01&to=2025-01-01", "to"),
    ("/authority/contracts", "as_of=yesterday", "as_of"),
    ("/authority/contracts", "format=xlsx", "format"),
    ("/employer/placements", "status=at_risk", "status"),
])
def test_bad_filters_are_a_422_naming_the_field(world: World, path: str, query: str, field: str) -> None:
    who = "harlingen" if path.startswith("/authority") else "devries"
    r = world.get(who, f"{path}?{query}")
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_the_list_as_csv_has_the_same_rows(world: World) -> None:
    r = world.get("harlingen", f"/authority/contracts?as_of={AS_OF}&format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f"authority-contracts-{AS_OF}.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    listed = world.get("harlingen", f"/authority/contracts?as_of={AS_OF}").json()["contracts"]
    assert [(x["contract_id"], x["accepted_eur"], x["status"]) for x in rows] == [
        (x["contract_id"], x["accepted_eur"], x["status"]) for x in listed]
    placements = world.get("devries", "/employer/placements?format=csv")
    assert placements.status_code == 200
    assert placements.content.decode("utf-8-sig").splitlines()[0].startswith("placement_id;agency;supplier")


def test_a_moved_link_moves_the_contract_to_the_other_authoritys_list(world: World) -> None:
    zuid = world.agencies["zuid"]
    contract = world.ids["z_devries_harlingen"]
    try:
        r = _patch(zuid, f"/contracts/{contract}", {"authority_org_id": str(world.parties["utrecht"].org.id)})
        assert r.status_code == 200, r.text
        world.project()
        assert "z_devries_harlingen" not in world.listed("harlingen", "/authority/contracts")
        assert "z_devries_harlingen" in world.listed("utrecht", "/authority/contracts")
        # Still the employer's: its employer record is shared, whoever the authority is.
        assert "z_devries_harlingen" in world.listed("devries", "/employer/contracts")
    finally:
        _patch(zuid, f"/contracts/{contract}", {"authority_org_id": str(world.parties["harlingen"].org.id)})
        world.project()


def _statement(world: World, agency: str, contract: str, start: str, end: str, submit: bool = True) -> str:
    org = world.agencies[agency]
    statement = org.create(f"/contracts/{world.ids[contract]}/statements", {"period_start": start, "period_end": end})
    if submit:
        r = org.post(f"/statements/{statement}/submit", None)
        assert r.status_code == 200, r.text
    return statement


def _decide(world: World, who: str, statement: str, line_ids: list[str]) -> None:
    r = world.client.post(API + f"/statements/{statement}/decisions",
                          json=[{"line_id": x, "decision": "accepted"} for x in line_ids],
                          headers=bearer(world.parties[who].token))
    assert r.status_code == 200, r.text


def test_each_authority_queues_the_submitted_statements_of_its_contracts_until_decided(world: World) -> None:
    """Aa submits a statement for Harlingen's contract and keeps one a draft,
    Zuid submits one for Harlingen and one for Utrecht, and Aa one for a
    contract it shares with nobody: each authority sees exactly its own
    submitted ones, oldest first; a decided statement leaves the queue."""
    # Utrecht's contract at Zuid gets a line (a statement with none is decided as it is submitted).
    world.agencies["zuid"].create(f"/contracts/{world.ids['z_plain_utrecht']}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Sociale Werkplaats",
        "invoice_amount_eur_excl_vat": "500.00", "register": "registered_social_enterprise",
        "invoice_date": "2025-04-01", "description": "groen"})
    s = {"a_harlingen": _statement(world, "aa", "a_devries_harlingen", "2025-01-01", "2025-12-31"),
         "a_draft": _statement(world, "aa", "a_devries_harlingen", "2026-01-01", "2026-12-31", submit=False),
         "z_harlingen": _statement(world, "zuid", "z_devries_harlingen", "2025-01-01", "2025-12-31"),
         "z_utrecht": _statement(world, "zuid", "z_plain_utrecht", "2025-01-01", "2025-12-31"),
         "a_unshared": _statement(world, "aa", "a_free_text", "2025-01-01", "2025-12-31")}
    world.project()
    name = {v: k for k, v in s.items()}

    def queue(who: str, query: str = "") -> list[dict]:
        r = world.get(who, f"/authority/statements{query}")
        assert r.status_code == 200, r.text
        return r.json()["statements"]

    harlingen = queue("harlingen")
    assert [name[r["statement_id"]] for r in harlingen] == ["a_harlingen", "z_harlingen"]  # by submitted_at
    assert [name[r["statement_id"]] for r in queue("utrecht")] == ["z_utrecht"]
    assert queue("harlingen", "?status=submitted") == harlingen
    first = harlingen[0]
    assert (first["agency"], first["supplier"], first["title"]) == (world.agencies["aa"].tenant.name, "De Vries",
                                                                    "Bestrating")
    assert first["contract_id"] == world.ids["a_devries_harlingen"]
    assert (first["period_start"], first["period_end"], first["status"]) == ("2025-01-01", "2025-12-31", "submitted")
    lines = world.get("harlingen", f"/statements/{s['a_harlingen']}").json()["lines"]
    assert first["lines"] == len(lines) >= 2 and first["lines_decided"] == 0
    assert first["submitted_at"] <= harlingen[1]["submitted_at"]

    # One line decided: still awaiting; every line: decided, out of the queue.
    _decide(world, "harlingen", s["a_harlingen"], [lines[0]["line_id"]])
    world.project()
    assert [(name[r["statement_id"]], r["lines_decided"]) for r in queue("harlingen")] == [
        ("a_harlingen", 1), ("z_harlingen", 0)]
    _decide(world, "harlingen", s["a_harlingen"], [x["line_id"] for x in lines[1:]])
    world.project()
    assert [name[r["statement_id"]] for r in queue("harlingen")] == ["z_harlingen"]
    decided = queue("harlingen", "?status=decided")
    assert [(name[r["statement_id"]], r["status"], r["lines_decided"]) for r in decided] == [
        ("a_harlingen", "decided", len(lines))]
    assert queue("utrecht", "?status=decided") == []


def test_the_statement_queue_is_an_authoritys_only_and_its_status_is_checked(world: World) -> None:
    for who in ("aa", "zuid", "devries", "visserij"):
        assert world.get(who, "/authority/statements").status_code == 403, who
    for bad in ("draft", "lost"):
        r = world.get("harlingen", f"/authority/statements?status={bad}")
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["status"]


def test_a_change_in_one_agency_computes_again_only_that_agencys_rows(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The list is kept per agency: a command in Aa reads Aa's rows again, Zuid's are the kept ones."""
    computed: list[str] = []
    row = portfolio._row

    def counted(r: Any, agency: str) -> Any:
        computed.append(str(r["contract_id"]))
        return row(r, agency)

    monkeypatch.setattr(portfolio, "_row", counted)
    portfolio.forget_lists()
    path = "/authority/contracts"  # today: a purchase counts from the day it is reported
    before = world.get("harlingen", path).json()
    assert sorted(computed) == sorted([world.ids["a_devries_harlingen"], world.ids["z_devries_harlingen"]])
    computed.clear()
    assert world.get("harlingen", path).json() == before and computed == []  # nothing moved: all kept
    world.agencies["aa"].create(f"/contracts/{world.ids['a_devries_harlingen']}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Sociale Werkplaats",
        "invoice_amount_eur_excl_vat": "10.00", "register": "registered_social_enterprise",
        "invoice_date": "2025-03-02", "description": "koffie"})
    world.project()
    after = world.get("harlingen", path).json()
    assert computed == [world.ids["a_devries_harlingen"]]
    rows = {c["contract_id"]: c for c in after["contracts"]}
    old = {c["contract_id"]: c for c in before["contracts"]}
    aa, zuid = world.ids["a_devries_harlingen"], world.ids["z_devries_harlingen"]
    assert Decimal(rows[aa]["pending_eur"]) == Decimal(old[aa]["pending_eur"]) + Decimal("10.00")
    assert rows[zuid] == old[zuid]
    assert Decimal(after["totals"]["pending_eur"]) == Decimal(before["totals"]["pending_eur"]) + Decimal("10.00")
    # What is kept is what a fresh computation gives.
    portfolio.forget_lists()
    assert world.get("harlingen", path).json() == after


def test_the_kept_lists_are_bounded_per_agency(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portfolio, "TENANT_ENTRIES", 3)
    portfolio.forget_lists()
    days = [f"2025-06-{d:02d}" for d in range(1, 7)]
    for day in days:
        assert world.get("harlingen", f"/authority/contracts?as_of={day}").status_code == 200
    world.get("devries", f"/employer/contracts?as_of={days[-1]}")
    for agency in ("aa", "zuid"):
        kept = portfolio._kept[world.agencies[agency].tenant.id]
        assert len(kept) == 3
        # The most recently read stay: the employer's list and the authority's last two days.
        assert [(column, day.isoformat()) for column, _, day in kept] == [
            ("authority_org_id", days[-2]), ("authority_org_id", days[-1]), ("employer_org_id", days[-1])]
