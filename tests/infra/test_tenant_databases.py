"""Tenants on two PostgreSQL servers, served by one web process and one worker.

A second PostgreSQL cluster is started for the test in a temporary folder
(the embedded server's binaries, from the `pgserver` wheel: they are always
here). The platform database (registry, users, sessions, organisations) is a
database of its own on the test's server; TENANT_DATABASES names the second
server as `b`. One tenant is placed on `b`, one on the default database; the
same `sroi serve` and `sroi worker` processes serve both, and everything is
checked through HTTP: commands, figures with read-your-writes
(`min_position`), the list, a page login and its pages, an authority
organisation's view of a contract shared from `b`; and the connections each
process holds on each server (one pool per database, not per tenant).
The organisations' lists across agencies (portfolio, statement queue,
placements, the agency filter) list the tenants on both servers.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from infra import processes
from infra.bootstrap import System, bootstrap
from infra.broker import BROKER_MAXCONN
from infra.database import drop_database, ensure_database_exists, with_database
from infra.settings import Settings
from tests.api.test_organisations import kvk, oin
from tests.conftest import TEST_DATABASE, random_slug
from tests.infra.topology import Agency, backends, eventually, page_login, served
from tests.web.conftest import PROJECT_ROOT, _subprocess_env, web_process
from tests.web.world import PASSWORD

READ_POOL_SIZE = 3
WRITE_POOL_SIZE = 4
# The PostgreSQL broker's own pool (infra/broker.py), on the platform's database.
BROKER_POOL_SIZE = BROKER_MAXCONN


@pytest.fixture(scope="module", params=[2, 1], ids=["two-servers", "one-database"])
def topology(request: pytest.FixtureRequest, database_url: str) -> Iterator[dict[str, Any]]:
    """The platform on a database of its own on the test's server, tenants on
    it and on `b` (the second server); with one database (the baseline of the
    connection figures), `b` is that same database, as a deployment without
    TENANT_DATABASES."""
    platform_url = with_database(database_url, TEST_DATABASE + "_platform")
    drop_database(platform_url)
    ensure_database_exists(platform_url)
    b_url = request.getfixturevalue("second_server") if request.param == 2 else None
    env = {"DATABASE_URL": platform_url, "SECRET_KEY": "test-secret-key-not-for-production",
           "DB_POOL_SIZE": str(WRITE_POOL_SIZE), "DB_READ_POOL_SIZE": str(READ_POOL_SIZE)}
    if b_url is not None:
        env["TENANT_DATABASES"] = json.dumps({"b": b_url})
    system = bootstrap(Settings.from_env(env))
    try:
        yield {"platform_url": platform_url, "b_url": b_url or platform_url, "env": env, "system": system,
               "b": "b" if b_url else "default"}
    finally:
        system.close()
        drop_database(platform_url)


def test_tenants_on_two_servers_are_served_by_the_same_web_and_worker(
        topology: dict[str, Any], tmp_path: Path) -> None:
    system: System = topology["system"]
    platform_url, b_url = topology["platform_url"], topology["b_url"]
    on_b = system.registry.create_tenant(random_slug("b"), "Kansrijk Detachering B.V.", database=topology["b"])
    on_default = system.registry.create_tenant(random_slug("a"), "Werkpad Detachering B.V.")
    org = system.registry.create_organisation("authority", "Gemeente Utrecht", oin="00000001001234567000")
    authority = system.registry.create_org_user(org.id, "inkoop@utrecht.test", "authority", password=PASSWORD)
    authority_headers = {"Authorization": "Bearer " + system.registry.issue_token(authority)}
    two = b_url != platform_url
    # The tenant's history is on b, not on the platform's database.
    with psycopg.connect(b_url) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (f"events.{on_b.events_table}",)).fetchone()[0] is not None
    if two:
        with psycopg.connect(platform_url) as conn:
            assert conn.execute("SELECT to_regclass(%s)",
                                (f"events.{on_b.events_table}",)).fetchone()[0] is None

    before = {"platform": backends(platform_url), "b": backends(b_url)}  # this test's own system
    env = {**_subprocess_env(platform_url), **{k: v for k, v in topology["env"].items() if k != "DATABASE_URL"}}
    with open(tmp_path / "worker.log", "wb") as worker_log:
        worker = subprocess.Popen([sys.executable, "-m", "infra.cli", "worker", "--threads", "2"],
                                  cwd=PROJECT_ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT)
        try:
            with web_process(platform_url, tmp_path / "web.log",
                             **{k: v for k, v in topology["env"].items() if k != "DATABASE_URL"}) as web, \
                    httpx.Client(base_url=web.url, timeout=30) as client:
                figures = {}
                for tenant in (on_b, on_default):
                    agency = Agency(system, tenant, client)
                    ids, position = agency.seed(str(org.id))
                    # Read your writes on the tenant's own database: the figures include the placement.
                    r = agency.get(f"/contracts/{ids['contract']}/compliance", min_position=position)
                    assert r.status_code == 200, (tenant.database, r.status_code, r.headers, r.text)
                    assert r.headers.get("x-projection-stale") != "true"
                    figures[tenant.slug[0]] = body = r.json()
                    # 5% of EUR 1,000,000.00 = EUR 50,000.00 to spend on social return.
                    assert body["obligation_eur"] == "50000.00"
                    listed = agency.get("/compliance", min_position=position).json()
                    assert [c["contract_id"] for c in listed["contracts"]] == [ids["contract"]], listed
                    placement = agency.get(f"/placements/{ids['placement']}").json()
                    assert placement["id"] == ids["placement"]
                    # A page login, the dashboard (the tenant's read models) and the contract's page.
                    with httpx.Client(base_url=web.url, timeout=30) as browser:
                        assert page_login(browser, agency.user.email).status_code in (302, 303)
                        dashboard = browser.get("/")
                        assert dashboard.status_code == 200 and "Onderhoud openbare ruimte" in dashboard.text
                        contract_page = browser.get(f"/contracts/{ids['contract']}")
                        assert contract_page.status_code == 200 and "50.000" in contract_page.text
                    # The authority sees the contract each agency shares with it, on whichever database.
                    shared = client.get(f"/api/v1/contracts/{ids['contract']}/compliance",
                                        params={"min_position": position}, headers=authority_headers)
                    assert shared.status_code == 200, (tenant.database, shared.text)
                    assert shared.json()["obligation_eur"] == "50000.00"
                    # The record lists read the tenant's own database too, for the agency and for the
                    # authority naming the shared contract (its tenant found through the share index).
                    contracts = agency.get("/contracts", min_position=position)
                    assert contracts.headers.get("x-projection-stale") != "true"
                    assert [c["id"] for c in contracts.json()["items"]] == [ids["contract"]], contracts.text
                    under = client.get("/api/v1/placements", params={"contract_id": ids["contract"],
                                                                     "min_position": position},
                                       headers=authority_headers)
                    assert [p["id"] for p in under.json()["items"]] == [ids["placement"]], under.text
                # The same data on either database gives the same figures.
                assert {k: v for k, v in figures["b"].items() if k != "contract_id"} == \
                    {k: v for k, v in figures["a"].items() if k != "contract_id"}
                with httpx.Client(base_url=web.url, timeout=30) as browser:
                    assert page_login(browser, authority.email).status_code in (302, 303)
                    home = browser.get("/")
                    # Both agencies' shares are listed, the one on b included.
                    assert home.status_code == 200
                    assert "Kansrijk Detachering" in home.text and "Werkpad Detachering" in home.text
                both = {"platform": backends(platform_url), "b": backends(b_url)}
            time.sleep(0.5)  # the web process's connections are closed by now
            worker_only = {"platform": backends(platform_url), "b": backends(b_url)}
        finally:
            processes.stop([worker])
    if not two:  # one database: count it once
        both, worker_only, before = ({"platform": c["platform"], "b": 0} for c in (both, worker_only, before))
    web_held = {k: both[k] - worker_only[k] for k in both}
    worker_held = {k: worker_only[k] - before[k] for k in both}
    print(f"\nconnections per database held by the web process: {web_held}, by the worker: {worker_held}")
    # One pool per database in each process, whatever the number of tenants:
    # each process at most its write pool (psycopg) on each server, the web
    # its read pool (asyncpg) too, and on the platform's database the broker's.
    assert int(two) <= web_held["b"] <= WRITE_POOL_SIZE + READ_POOL_SIZE, web_held
    assert 1 <= web_held["platform"] <= WRITE_POOL_SIZE + READ_POOL_SIZE + BROKER_POOL_SIZE, web_held
    assert int(two) <= worker_held["b"] <= WRITE_POOL_SIZE, worker_held
    assert 1 <= worker_held["platform"] <= WRITE_POOL_SIZE + BROKER_POOL_SIZE, worker_held


def test_an_organisations_lists_across_agencies_show_the_tenants_on_every_database(
        topology: dict[str, Any], tmp_path: Path) -> None:
    """The authority's portfolio and statement queue, the employer
    organisation's contracts and placements, and their agency filters, for an
    agency on `b` and one on the default database: one list, one order."""
    system: System = topology["system"]
    on_b = system.registry.create_tenant(random_slug("b"), "Aa Detachering B " + random_slug(""),
                                         database=topology["b"])
    on_default = system.registry.create_tenant(random_slug("a"), "Zuid Werkt A " + random_slug(""))
    authority_org = system.registry.create_organisation("authority", "Gemeente Harlingen",
                                                        oin=oin())
    employer_org = system.registry.create_organisation("employer", "Bouwbedrijf De Vries B.V.", kvk=kvk())
    authority = system.registry.create_org_user(authority_org.id, f"inkoop@{on_b.slug}.test", "authority",
                                                password=PASSWORD)
    employer = system.registry.create_org_user(employer_org.id, f"hr@{on_b.slug}.test", "employer",
                                               password=PASSWORD)
    as_authority = {"Authorization": "Bearer " + system.registry.issue_token(authority)}
    as_employer = {"Authorization": "Bearer " + system.registry.issue_token(employer)}
    with served(topology, tmp_path) as url, httpx.Client(base_url=url, timeout=30) as client:
        seeded = {}
        for tenant in (on_default, on_b):
            agency = Agency(system, tenant, client)
            ids, _ = agency.seed(str(authority_org.id), str(employer_org.id))
            statement = agency.post(f"/contracts/{ids['contract']}/statements",
                                    {"period_start": "2025-01-01", "period_end": "2025-12-31"}).json()["id"]
            agency.post(f"/statements/{statement}/submit", {})
            seeded[tenant.id] = {**ids, "statement": statement}
        # The agencies in name order (Aa on b first), whichever database each is on.
        agencies = [{"id": str(t.id), "name": t.name} for t in (on_b, on_default)]

        def listed(path: str, headers: dict[str, str], key: str, id_key: str, **params: Any) -> list[Any]:
            r = client.get("/api/v1" + path, params=params, headers=headers)
            assert r.status_code == 200, (path, r.status_code, r.text)
            rows = r.json()[key]
            assert len(rows) == params.pop("expect", 2), (path, rows)
            return rows

        def contracts(headers: dict[str, str], path: str) -> list[dict]:
            rows = listed(path, headers, "contracts", "contract_id")
            assert [(r["agency_id"], r["contract_id"]) for r in rows] == [
                (a["id"], seeded[UUID(a["id"])]["contract"]) for a in agencies], rows
            return rows

        by_authority = eventually(lambda: contracts(as_authority, "/authority/contracts"))
        by_employer = eventually(lambda: contracts(as_employer, "/employer/contracts"))
        # The same figures from either database (the same seed), the agency named from the platform.
        for rows in (by_authority, by_employer):
            assert [r["agency"] for r in rows] == [a["name"] for a in agencies]
            assert {r["obligation_eur"] for r in rows} == {"50000.00"}
            assert rows[0]["accepted_eur"] == rows[1]["accepted_eur"]
        # The agency filter offers both agencies and narrows to one, on either database.
        found = client.get("/api/v1/authority/contracts", headers=as_authority).json()
        assert found["agencies"] == agencies
        for agency in agencies:
            only = client.get("/api/v1/authority/contracts", params={"agency": agency["id"]},
                              headers=as_authority).json()["contracts"]
            assert [r["contract_id"] for r in only] == [seeded[UUID(agency["id"])]["contract"]]

        def placements() -> list[dict]:
            rows = listed("/employer/placements", as_employer, "placements", "placement_id", as_of="2025-06-30")
            assert [(r["agency"], r["placement_id"]) for r in rows] == [
                (a["name"], seeded[UUID(a["id"])]["placement"]) for a in agencies], rows
            assert {r["status"] for r in rows} == {"active"}
            return rows

        eventually(placements)

        def queue() -> list[dict]:
            rows = listed("/authority/statements", as_authority, "statements", "statement_id")
            assert {r["statement_id"] for r in rows} == {str(seeded[t.id]["statement"]) for t in (on_b, on_default)}
            assert [r["submitted_at"] for r in rows] == sorted(r["submitted_at"] for r in rows)  # oldest first
            assert {r["agency"] for r in rows} == {a["name"] for a in agencies}
            return rows

        eventually(queue)
        # The pages: the portfolio, its agency filter and the queue; the employer's placements.
        with httpx.Client(base_url=url, timeout=30) as browser:
            assert page_login(browser, authority.email).status_code in (302, 303)
            page = browser.get("/portfolio")
            assert page.status_code == 200
            for agency in agencies:
                assert f'<option value="{agency["id"]}"' in page.text, agency
                assert page.text.count(agency["name"]) >= 3, agency  # filter, row, queue
            narrowed = browser.get("/portfolio", params={"agency": agencies[0]["id"]})
            assert seeded[on_b.id]["contract"] in narrowed.text
            assert seeded[on_default.id]["contract"] not in narrowed.text
        with httpx.Client(base_url=url, timeout=30) as browser:
            assert page_login(browser, employer.email).status_code in (302, 303)
            page = browser.get("/portfolio-placements", params={"as_of": "2025-06-30"})
            assert page.status_code == 200
            for agency in agencies:
                assert f'<option value="{agency["id"]}"' in page.text, agency
                assert page.text.count(agency["name"]) >= 2, agency  # filter, row
