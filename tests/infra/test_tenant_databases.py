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
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from infra import processes
from infra.bootstrap import System, bootstrap
from infra.database import drop_database, ensure_database_exists, with_database
from infra.settings import Settings
from tests.conftest import TEST_DATABASE, random_slug
from tests.infra.topology import Agency, backends, page_login
from tests.web.conftest import PROJECT_ROOT, _subprocess_env, web_process
from tests.web.world import PASSWORD

READ_POOL_SIZE = 3
WRITE_POOL_SIZE = 4
# The PostgreSQL broker's own pool (infra/broker.py: maxconn=4), on the platform's database.
BROKER_POOL_SIZE = 4


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
