"""`sroi tenant move` between two real PostgreSQL servers, with `sroi serve`
and `sroi worker` running: a tenant with events, personal data, a sealed
document and an idempotency record moves from the platform's database to the
second server while commands keep coming; everything reads the same through
HTTP afterwards, the chain verifies there, nothing is left on the source, and
every command was either stored or refused with a 503 naming the move. A move
that fails (a chain that does not verify) leaves the tenant where it was,
writable.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from domain.contribution import Contribution
from infra.bootstrap import System, bootstrap
from infra.database import drop_database, ensure_database_exists, with_database
from infra.eventstore import Tenant
from infra.settings import Settings
from infra.tenant_move import refusing_writes
from tests.api.conftest import candidate_body
from tests.api.document_samples import pdf
from tests.api.test_organisations import oin
from tests.conftest import TEST_DATABASE, random_slug
from tests.infra.topology import CSRF_RE, Agency, deployment_env, page_login, served
from tests.web.conftest import PROJECT_ROOT

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def deployment(database_url: str, second_server: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The platform (and the tenants first) on a database of the test's server,
    `b` on the second server; a web process and a worker over both."""
    platform_url = with_database(database_url, TEST_DATABASE + "_move")
    drop_database(platform_url)
    ensure_database_exists(platform_url)
    env = {"DATABASE_URL": platform_url, "SECRET_KEY": "test-secret-key-not-for-production",
           "TENANT_DATABASES": json.dumps({"b": second_server})}
    system = bootstrap(Settings.from_env(env))
    topology = {"platform_url": platform_url, "b_url": second_server, "env": env, "system": system}
    try:
        with served(topology, tmp_path_factory.mktemp("move")) as url, \
                httpx.Client(base_url=url, timeout=30) as client:
            yield {**topology, "url": url, "client": client}
    finally:
        system.close()
        drop_database(platform_url)


def sroi(deployment: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    env = deployment_env(deployment["platform_url"], **{k: v for k, v in deployment["env"].items()
                                                        if k != "DATABASE_URL"})
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def present(url: str, tenant: Tenant) -> dict[str, int]:
    """What of the tenant is on the database at `url`: its events table, and its rows elsewhere."""
    with psycopg.connect(url) as conn:
        found = {"events table": int(conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                                                  (f"events.{tenant.events_table}",)).fetchone()[0])}
        for table in ("events.idempotency_keys", "events.person_keys", "events.documents", "events.access_log",
                      "events.chain_versions", "rm.live", "rm.c_contracts", "rm.portfolio_contracts"):
            column = "events_table" if table == "events.chain_versions" else "tenant_id"
            value = tenant.events_table if column == "events_table" else tenant.id
            found[table] = conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (value,)).fetchone()[0]
    return found


class Writer(threading.Thread):
    """Registers candidates one after another, each with an Idempotency-Key,
    sending a refused one again after its Retry-After (shortened): what was
    stored, what was refused, and anything else that came back."""

    def __init__(self, url: str, headers: dict[str, str]):
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.stored: list[str] = []
        self.refused: list[httpx.Response] = []
        self.other: list[tuple[int, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                key = str(uuid.uuid4())
                while True:
                    r = client.post("/api/v1/candidates", json=candidate_body(full_name=f"Kandidaat {key[:8]}"),
                                    headers={**self.headers, "Idempotency-Key": key})
                    if r.status_code == 503:
                        self.refused.append(r)
                        time.sleep(0.2)
                        continue
                    if r.status_code == 201:
                        self.stored.append(r.json()["id"])
                    else:
                        self.other.append((r.status_code, r.text))
                    break
                time.sleep(0.02)


def snapshot(client: httpx.Client, agency: Agency, authority: dict[str, str], ids: dict[str, str],
             document: str) -> dict[str, Any]:
    """What the tenant's users and the authority read through HTTP."""
    def ok(r: httpx.Response) -> httpx.Response:
        assert r.status_code == 200, (r.request.url, r.status_code, r.text)
        return r

    portfolio = ok(client.get("/api/v1/authority/contracts", params={"as_of": "2025-06-30"},
                              headers=authority)).json()
    return {
        "compliance": ok(agency.get(f"/contracts/{ids['contract']}/compliance", as_of="2025-06-30")).json(),
        "summary": ok(agency.get("/compliance", as_of="2025-06-30")).json(),
        "candidate": ok(agency.get(f"/candidates/{ids['candidate']}")).json(),
        "placement": ok(agency.get(f"/placements/{ids['placement']}")).json(),
        "document": ok(agency.get(f"/documents/{document}")).content,
        "portfolio": [{k: v for k, v in row.items()} for row in portfolio["contracts"]],
        "by_authority": ok(client.get(f"/api/v1/contracts/{ids['contract']}/compliance",
                                      params={"as_of": "2025-06-30"}, headers=authority)).json(),
    }


def test_a_tenant_moves_to_the_other_server_with_everything_while_commands_come_in(
        deployment: dict[str, Any]) -> None:
    system: System = deployment["system"]
    client: httpx.Client = deployment["client"]
    tenant = system.registry.create_tenant(random_slug("m"), "Kansrijk Detachering B.V.")
    org = system.registry.create_organisation("authority", "Gemeente Harlingen", oin=oin())
    authority = {"Authorization": "Bearer " + system.registry.issue_token(
        system.registry.create_org_user(org.id, f"inkoop@{tenant.slug}.test", "authority"))}
    agency = Agency(system, tenant, client)
    ids, _ = agency.seed(str(org.id))
    # A person's sealed document (a payslip under the placement's contribution), and a command with a key.
    payslip = pdf("Loonstrook juni 2025")
    r = client.post(f"/api/v1/contributions/{Contribution.id_for_placement(uuid.UUID(ids['placement']))}/documents",
                    files={"file": ("loonstrook.pdf", payslip, "application/pdf")}, data={"kind": "payslip"},
                    headers=agency.headers)
    assert r.status_code == 201, r.text
    document = r.json()["id"]
    keyed = {**agency.headers, "Idempotency-Key": "move-" + tenant.slug}
    first = client.post("/api/v1/candidates", json=candidate_body(full_name="Pieter de Boer"), headers=keyed)
    assert first.status_code == 201, first.text
    position = int(first.headers["x-event-position"])
    assert agency.get("/compliance", min_position=position).headers.get("x-projection-stale") != "true"
    time.sleep(1)  # the worker's other projections (portfolio) catch up too
    before = snapshot(client, agency, authority, ids, document)
    assert before["document"] == payslip and before["candidate"]["full_name"] == "Sanne Jansen"
    assert [row["contract_id"] for row in before["portfolio"]] == [ids["contract"]]
    on_source = present(deployment["platform_url"], tenant)
    assert on_source["events table"] == 1 and on_source["events.person_keys"] >= 2, on_source
    assert on_source["events.documents"] == 1 and on_source["events.idempotency_keys"] >= 1, on_source

    writer = Writer(deployment["url"], agency.headers)
    writer.start()
    try:
        time.sleep(0.5)
        moved = sroi(deployment, "tenant", "move", tenant.slug, "--to", "b")
        time.sleep(1.0)  # and a few commands after the switch
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert f"moved tenant {tenant.slug} from default to b" in moved.stdout, moved.stdout
    print(f"\n{moved.stdout}commands stored meanwhile: {len(writer.stored)}, refused: {len(writer.refused)}")

    # Every command was stored or refused clearly; nothing else came back.
    assert writer.other == []
    assert len(writer.stored) >= 5
    for refusal in writer.refused:
        assert refusal.headers["retry-after"].isdigit(), refusal.headers
        assert "moving to another database" in refusal.json()["detail"]
    # The registry names b; nothing of the tenant is left on the source; all of it is on b.
    assert system.registry.tenant_by_slug(tenant.slug).database == "b"
    left = present(deployment["platform_url"], tenant)
    assert set(left.values()) == {0}, left
    on_b = present(deployment["b_url"], tenant)
    assert on_b["events table"] == 1 and on_b["events.documents"] == 1 and on_b["rm.live"] > 0, on_b
    assert on_b["events.person_keys"] >= on_source["events.person_keys"] + len(writer.stored), on_b

    # Every command stored, before or during the move, is there (read your writes on b).
    for candidate in writer.stored:
        r = agency.get(f"/candidates/{candidate}")
        assert r.status_code == 200, (candidate, r.status_code, r.text)
    # The same figures, personal data, document and portfolio row as before, read on b.
    after = snapshot(client, agency, authority, ids, document)
    assert after == before
    # The idempotency record moved: the same request again answers the same, stores nothing.
    again = client.post("/api/v1/candidates", json=candidate_body(full_name="Pieter de Boer"), headers=keyed)
    assert again.status_code == 201 and again.json() == first.json()
    # The chain verifies on b (a warning only about heads not signed: the test runs no signing key).
    verified = sroi(deployment, "verify", "--tenant", tenant.slug)
    assert verified.returncode in (0, 3) and "OK:" in verified.stdout, verified.stdout + verified.stderr
    # Writable on b: a new command is stored and counted.
    r = agency.post("/candidates", candidate_body(full_name="Na de verhuizing"))
    assert agency.get(f"/candidates/{r.json()['id']}").json()["full_name"] == "Na de verhuizing"
    # Run again, the move does nothing but say so.
    again_moved = sroi(deployment, "tenant", "move", tenant.slug, "--to", "b")
    assert again_moved.returncode == 0 and "is on database b already" in again_moved.stdout, again_moved.stdout


def test_a_move_that_fails_leaves_the_tenant_on_its_database_and_writable(deployment: dict[str, Any]) -> None:
    system: System = deployment["system"]
    client: httpx.Client = deployment["client"]
    tenant = system.registry.create_tenant(random_slug("f"), "Werkpad Detachering B.V.")
    agency = Agency(system, tenant, client)
    ids, _ = agency.seed()
    # Someone rewrote a stored event's hash: the chain no longer verifies, so the copy would not either.
    with psycopg.connect(deployment["platform_url"]) as conn:
        conn.execute(f'UPDATE events."{tenant.events_table}" SET chain_hash = %s WHERE notification_id = 2',
                     (b"\x00" * 32,))
    failed = sroi(deployment, "tenant", "move", tenant.slug, "--to", "b")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "the chain does not verify on the target, at position 2" in failed.stderr, failed.stderr
    assert f"{tenant.slug} stays on default, writable" in failed.stdout, failed.stdout
    # Where it was, writable, nothing refused; nothing of it on b.
    assert system.registry.tenant_by_slug(tenant.slug).database == "default"
    r = agency.post("/candidates", candidate_body(full_name="Na de mislukte verhuizing"))
    assert agency.get(f"/candidates/{r.json()['id']}").json()["full_name"] == "Na de mislukte verhuizing"
    assert agency.get(f"/placements/{ids['placement']}").status_code == 200
    assert set(present(deployment["b_url"], tenant).values()) == {0}
    with psycopg.connect(deployment["platform_url"]) as conn:
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = 'tenant_moving'",
                            (f"events.{tenant.events_table}",)).fetchone()[0] == 0
    # A refusal an interrupted switch left behind (committed, the registry not switched): commands
    # are answered 503 with Retry-After, on the API and on a page form; moving the tenant to where
    # it is takes the refusal back.
    with refusing_writes(system.stores.database("default"), tenant):
        pass
    r = client.post("/api/v1/candidates", json=candidate_body(), headers=agency.headers)
    assert r.status_code == 503 and r.headers["retry-after"] == "5", (r.status_code, r.headers, r.text)
    assert "moving to another database: nothing was stored" in r.json()["detail"]
    with httpx.Client(base_url=deployment["url"], timeout=30) as browser:
        assert page_login(browser, agency.user.email).status_code in (302, 303)
        token = CSRF_RE.search(browser.get(f"/employers/{ids['employer']}").text).group(1)
        r = browser.post(f"/employers/{ids['employer']}/contact-persons",
                         data={"name": "Jan Visser", "email": "jan@example.org", "_csrf_token": token})
        assert r.status_code == 503 and r.headers["retry-after"] == "5", (r.status_code, r.text[:500])
        assert "verhuizen naar een andere database" in r.text
    back = sroi(deployment, "tenant", "move", tenant.slug, "--to", "default")
    assert back.returncode == 0 and "is on database default already" in back.stdout, back.stdout + back.stderr
    assert agency.post("/candidates", candidate_body()).status_code == 201
    # An unknown database is refused before anything is copied.
    unknown = sroi(deployment, "tenant", "move", tenant.slug, "--to", "nowhere")
    assert unknown.returncode == 1 and "'nowhere' is not configured" in unknown.stderr, unknown.stderr
