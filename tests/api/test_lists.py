"""The list endpoints (web/api/list_routes.py): a partner walks every record
once, syncs exactly what changed since its cursor, filters, and sees only what
its role may see; bad input is a 422 naming the field."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from infra.bootstrap import System
from tests.api.conftest import Org, candidate_body, contract_body, placement_body, vacancy_body
from tests.projections.conftest import catch_up


def walk(org: Org, path: str, token: str | None = None, limit: int = 2,
         between: Any = None) -> tuple[list[dict], str | None]:
    """Every page of a list from the start; `between(n)` runs after page n."""
    items: list[dict] = []
    cursor, n = None, 0
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = org.get(url, token)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor", "has_more"}
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"] or cursor
        n += 1
        if between is not None:
            between(n)
        if not page["has_more"]:
            return items, cursor


def fresh(system: System, org: Org) -> None:
    catch_up(system, org.tenant)


def test_a_walk_sees_every_record_once_while_records_are_added(system: System, org: Org) -> None:
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    first = [org.create("/contracts", contract_body(employer, title=f"Contract {i}")) for i in range(5)]
    fresh(system, org)
    added: list[str] = []

    def add(n: int) -> None:
        if n <= 2:  # after pages 1 and 2 a new contract: it is at the end, so it comes once
            added.append(org.create("/contracts", contract_body(employer, title=f"Nieuw {n}")))
            fresh(system, org)

    items, cursor = walk(org, "/contracts", between=add)
    ids = [i["id"] for i in items]
    # 5 contracts at the start + 2 added during the walk = 7, none twice.
    assert len(ids) == 7 and set(ids) == set(first) | set(added)
    # Each item is what GET /contracts/{id} shows.
    assert items[0] == org.get(f"/contracts/{items[0]['id']}").json()
    # Nothing changed since: the last cursor returns nothing, and keeps its place.
    page = org.get(f"/contracts?cursor={cursor}").json()
    assert page == {"items": [], "next_cursor": cursor, "has_more": False}


def test_the_last_cursor_returns_exactly_what_changed_since(system: System, org: Org) -> None:
    ids = org.seed()
    other = org.create("/employers", {"name": "Schoonmaak Zuid"})
    fresh(system, org)
    _, employers_cursor = walk(org, "/employers")
    _, placements_cursor = walk(org, "/placements")
    # A contact person added to one employer, then feedback given twice on the placement.
    r = org.post(f"/employers/{other}/contact-persons", {"name": "Eva Bakker", "email": "eva@example.org"})
    assert r.status_code == 201, r.text
    for score in (4, 5):
        r = org.post(f"/placements/{ids['placement']}/feedback", {"score": score, "from_role": "coach"})
        assert r.status_code == 201, r.text
    fresh(system, org)

    changed = org.get(f"/employers?cursor={employers_cursor}").json()
    assert [e["id"] for e in changed["items"]] == [other]  # not De Vries: it did not change
    assert changed["items"][0]["contact_persons"][0]["name"] == "Eva Bakker"
    placements = org.get(f"/placements?cursor={placements_cursor}").json()
    # Changed twice, listed once, as it is now: two pieces of feedback.
    assert [p["id"] for p in placements["items"]] == [ids["placement"]]
    assert placements["items"][0]["feedback_count"] == 2
    # And from that cursor on, nothing again.
    assert org.get(f"/placements?cursor={placements['next_cursor']}").json()["items"] == []


def test_updated_since_starts_after_that_moment(system: System, org: Org) -> None:
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    fresh(system, org)
    moment = datetime.now(timezone.utc).isoformat()
    later = org.create("/employers", {"name": "Schoonmaak Zuid"})
    fresh(system, org)
    r = org.client.get("/api/v1/employers", params={"updated_since": moment},
                       headers={"Authorization": f"Bearer {org.agency_token}"})
    assert r.status_code == 200, r.text
    assert [e["id"] for e in r.json()["items"]] == [later]
    assert employer not in {e["id"] for e in r.json()["items"]}


def test_filters(system: System, org: Org) -> None:
    ids = org.seed()
    other = org.create("/employers", {"name": "Schoonmaak Zuid"})
    other_contract = org.create("/contracts", contract_body(other))
    closed = org.create("/contracts", contract_body(ids["employer"], title="Gesloten"))
    assert org.post(f"/contracts/{closed}/close", {"closed_on": "2025-06-30"}).status_code in (200, 201)
    candidate2 = org.create("/candidates", candidate_body(full_name="Noor de Wit"))
    ended = org.create("/placements", placement_body(candidate2, other, other_contract))
    r = org.post(f"/placements/{ended}/end", {"ends_on": "2025-03-01", "reason": "other"})
    assert r.status_code in (200, 201), r.text
    spare = org.create("/vacancies", vacancy_body(other))
    fresh(system, org)

    def ids_of(path: str) -> set[str]:
        r = org.get(path)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert ids_of(f"/contracts?employer_id={ids['employer']}") == {ids["contract"], closed}
    assert ids_of(f"/contracts?employer_id={ids['employer']}&status=closed") == {closed}
    assert ids_of("/contracts?status=open") == {ids["contract"], other_contract}
    assert ids_of("/placements?status=ended") == {ended}
    assert ids_of("/placements?status=active") == {ids["placement"]}
    assert ids_of(f"/placements?contract_id={other_contract}") == {ended}
    assert ids_of(f"/placements?vacancy_id={ids['vacancy']}") == {ids["placement"]}
    assert ids_of(f"/placements?candidate_id={candidate2}") == {ended}
    # The seeded vacancy was filled by its placement; the spare one is open.
    assert ids_of("/vacancies?status=filled") == {ids["vacancy"]}
    assert ids_of(f"/vacancies?status=open&employer_id={other}") == {spare}


def test_each_role_lists_only_what_its_single_reads_show(system: System, org: Org, new_org: Any) -> None:
    ids = org.seed()
    other = org.create("/employers", {"name": "Schoonmaak Zuid"})
    other_contract = org.create("/contracts", contract_body(other, contracting_authority="Gemeente Zeist"))
    candidate2 = org.create("/candidates", candidate_body(full_name="Noor de Wit"))
    theirs = org.create("/placements", placement_body(candidate2, other, other_contract))
    fresh(system, org)

    employer = org.token_for("employer", employer_id=ids["employer"])
    assert {e["id"] for e in walk(org, "/employers", employer)[0]} == {ids["employer"]}
    assert {c["id"] for c in walk(org, "/contracts", employer)[0]} == {ids["contract"]}
    assert {p["id"] for p in walk(org, "/placements", employer)[0]} == {ids["placement"]}
    assert {v["id"] for v in walk(org, "/vacancies", employer)[0]} == {ids["vacancy"]}
    assert walk(org, "/candidates", employer)[0] == []
    # Asking for another employer's records by filter finds nothing.
    assert org.get(f"/contracts?employer_id={other}", employer).json()["items"] == []

    person = org.token_for("employee", candidate_id=ids["candidate"])
    assert [c["id"] for c in walk(org, "/candidates", person)[0]] == [ids["candidate"]]
    assert [p["id"] for p in walk(org, "/placements", person)[0]] == [ids["placement"]]
    assert walk(org, "/contracts", person)[0] == []

    utrecht = org.token_for("authority", organisation="Gemeente Utrecht")
    assert {c["id"] for c in walk(org, "/contracts", utrecht)[0]} == {ids["contract"]}
    assert {p["id"] for p in walk(org, "/placements", utrecht)[0]} == {ids["placement"]}
    assert theirs not in {p["id"] for p in walk(org, "/placements", utrecht)[0]}

    # Support needs: the agency sees them, as on GET /candidates/{id}; an auditor does not.
    agency_items = walk(org, "/candidates")[0]
    assert all("support_needs" in c for c in agency_items) and len(agency_items) == 2
    auditor = org.token_for("auditor")
    assert all("support_needs" not in c for c in walk(org, "/candidates", auditor)[0])

    # Another tenant's agency lists none of these.
    neighbour = new_org("Ander Werkbedrijf")
    neighbour.seed()
    fresh(system, neighbour)
    mine = {*ids.values(), other, other_contract, candidate2, theirs}
    for path in ("/employers", "/contracts", "/candidates", "/vacancies", "/placements"):
        listed = {i["id"] for i in walk(neighbour, path, limit=500)[0]}
        assert listed and not listed & mine


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"),
    ("cursor=not-a-cursor", "cursor"), ("status=sleeping", "status"),
    ("employer_id=not-a-uuid", "employer_id"), ("updated_since=yesterday", "updated_since"),
    ("min_position=-1", "min_position"),
])
def test_bad_input_is_a_422_naming_the_field(org: Org, query: str, field: str) -> None:
    r = org.get(f"/contracts?{query}")
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.text


def test_a_cursor_of_another_list_is_refused(system: System, org: Org) -> None:
    org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    fresh(system, org)
    cursor = org.get("/employers").json()["next_cursor"]
    r = org.get(f"/contracts?cursor={cursor}")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    both = org.get(f"/employers?cursor={cursor}&updated_since=2025-01-01T00:00:00Z")
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "updated_since"


def test_an_erased_person_is_listed_as_their_single_read_shows_them(system: System, org: Org) -> None:
    ids = org.seed()
    erased = org.create("/candidates", candidate_body(full_name="Kees Spaans"))
    fresh(system, org)
    _, cursor = walk(org, "/candidates")
    r = org.post(f"/candidates/{erased}/erase", {})
    assert r.status_code == 200, r.text
    fresh(system, org)
    single = org.get(f"/candidates/{erased}")
    page = org.get(f"/candidates?cursor={cursor}")
    assert page.status_code == 200, page.text
    # The erasure is a change: the record comes back once, as GET by id shows it ("[erased]"), and alone.
    assert single.status_code == 200 and single.json()["full_name"] == "[erased]"
    assert page.json()["items"] == [single.json()] and "Kees Spaans" not in page.text
    assert ids["candidate"] not in {c["id"] for c in page.json()["items"]}


def test_support_needs_read_through_a_list_are_in_the_access_log(system: System, org: Org) -> None:
    ids = org.seed()
    fresh(system, org)
    assert walk(org, "/candidates")[0][0]["support_needs"].startswith("Schriftelijke instructies")
    log = org.get(f"/access-log?subject={ids['candidate']}").json()["entries"]
    assert [e for e in log if "GET /api/v1/candidates" == e.get("via")], log


def test_an_organisations_user_lists_in_the_agency_that_shares_the_record_it_names(system: System, org: Org) -> None:
    ids = org.seed()
    unshared = org.create("/contracts", contract_body(ids["employer"], title="Niet gedeeld"))
    registry = system.registry
    authority = registry.create_organisation("authority", "Gemeente Utrecht",
                                             oin=f"{uuid.uuid4().int % 10**20:020d}")
    r = org.client.patch(f"/api/v1/contracts/{ids['contract']}", json={"authority_org_id": str(authority.id)},
                         headers={"Authorization": f"Bearer {org.agency_token}"})
    assert r.status_code == 200, r.text
    fresh(system, org)
    token = registry.issue_token(registry.create_org_user(authority.id, f"{uuid.uuid4().hex}@example.org",
                                                          "authority"))
    # No record named: no agency to list in.
    assert org.get("/contracts", token).status_code == 403
    # Its contracts across agencies are /authority/contracts; the placements under one it names:
    page = org.get(f"/placements?contract_id={ids['contract']}", token)
    assert page.status_code == 200, page.text
    assert [p["id"] for p in page.json()["items"]] == [ids["placement"]]
    # A contract of the agency not shared with it: as an unknown id.
    assert org.get(f"/placements?contract_id={unshared}", token).status_code == 404
