"""The production topology on one machine, through a real load balancer.

Two PostgreSQL servers (the test's, and a second cluster this module starts:
tests/infra/conftest.py), RabbitMQ with two `sroi worker` processes, two
`sroi serve` processes behind HAProxy with the committed configuration
(infra/deploy/haproxy.cfg, the one docs/deploy.md shows). One tenant on each
server. Through the balancer only:

- commands, and figures read with read-your-writes (`min_position`);
- a page login whose session both web processes serve (X-Served-By);
- while commands are being sent, one web process is killed (SIGKILL): the
  balancer routes around it, clients retry what failed with the same
  Idempotency-Key, and every command is there exactly once afterwards;
- then one worker is killed (SIGKILL) while both are projecting: the other
  catches up and the figures are the exact sums, nothing counted twice;
- an export of each tenant, written by the surviving worker, downloaded
  through the balancer and verified offline.

HAProxy (`make test` installs it, as Chromium) and RabbitMQ are required under
CI (CI=true); elsewhere the test is skipped, saying why.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra import processes
from infra.audit import count_events
from infra.bootstrap import System, bootstrap
from infra.database import drop_database, ensure_database_exists, with_database
from infra.eventstore import Tenant
from infra.export_jobs import recent_jobs
from infra.export_verify import load_public_key, verify_export
from infra.settings import Settings
from tests.conftest import TEST_DATABASE, random_slug
from tests.web.conftest import PROJECT_ROOT
from tests.infra.topology import (
    CSRF_RE,
    HAPROXY_CFG,
    Agency,
    deployment_env,
    haproxy,
    haproxy_binary,
    page_login,
    rabbitmq_vhost,
    start_web,
    start_worker,
)

pytestmark = pytest.mark.timeout(240)

COMMANDS_PER_TENANT = 30
SENDERS = 4  # client threads sending commands at once
RETRY_FOR_S = 60.0  # a client gives up on a command after this long


@pytest.fixture(scope="module")
def need_haproxy() -> None:
    if haproxy_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is missing: `make test` installs it (apt-get install haproxy)")
        pytest.skip("haproxy is missing (`make test` installs it)")


@dataclass
class Deployment:
    system: System
    url: str  # the balancer's
    webs: list[Any]
    workers: list[Any]
    signing_key: str
    logs: Path

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
                         for p in sorted(self.logs.glob("*.log")))


@pytest.fixture
def deployment(need_haproxy: None, rabbitmq_url: str, database_url: str, second_server: str,
               tmp_path: Path) -> Iterator[Deployment]:
    """Platform database on the test's server, tenant database `b` on the second;
    two workers on RabbitMQ (a virtual host of their own), two web processes,
    HAProxy in front. Everything stopped on leaving."""
    platform_url = with_database(database_url, TEST_DATABASE + "_topology")
    drop_database(platform_url)
    ensure_database_exists(platform_url)
    signing_key = base64.b64encode(os.urandom(32)).decode()
    with ExitStack() as stack:
        stack.callback(drop_database, platform_url)
        broker_url = stack.enter_context(rabbitmq_vhost(rabbitmq_url))
        settings = {"TENANT_DATABASES": json.dumps({"b": second_server}), "BROKER_URL": broker_url,
                    "SIGNING_KEY": signing_key, "SROI_DATA_DIR": str(tmp_path / "data"),
                    "TRUSTED_PROXIES": "127.0.0.1", "DB_POOL_SIZE": "4", "DB_READ_POOL_SIZE": "3"}
        system = bootstrap(Settings.from_env({"DATABASE_URL": platform_url,
                                              "SECRET_KEY": "test-secret-key-not-for-production", **settings}))
        stack.callback(system.close)
        env = deployment_env(platform_url, **settings)
        workers = [start_worker(env, tmp_path / f"worker{i}.log") for i in (1, 2)]
        ports = [processes.free_port() for _ in (1, 2)]
        webs = [start_web(env, port, tmp_path / f"web{i}.log") for i, port in enumerate(ports, start=1)]
        stack.callback(processes.stop, workers + webs)
        for i, (port, web) in enumerate(zip(ports, webs), start=1):
            processes.wait_until_serving(f"http://127.0.0.1:{port}", [web], timeout=120,
                                         log=tmp_path / f"web{i}.log")
        url, _ = stack.enter_context(haproxy(ports, tmp_path / "haproxy.log"))
        yield Deployment(system, url, webs, workers, signing_key, tmp_path)


@dataclass
class Sent:
    """One command as its client saw it."""

    tenant: Tenant
    number: int
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    position: int = 0
    served_by: str = ""
    failures: list[str] = field(default_factory=list)  # what the client retried after

    @property
    def cost(self) -> Decimal:
        return Decimal(self.number) + Decimal("0.25")  # distinct: a sum counted twice shows


def activity(number: int, cost: Decimal) -> dict[str, Any]:
    return {"kind": "other_activity", "description": f"Gastles {number}", "activity_date": "2025-03-01",
            "costs_eur": str(cost)}


def send(client: httpx.Client, headers: dict[str, str], contract: str, sent: Sent) -> None:
    """POST until answered 2xx, retrying a failure with the same Idempotency-Key."""
    deadline = time.monotonic() + RETRY_FOR_S
    while True:
        try:
            r = client.post(f"/api/v1/contracts/{contract}/contributions", json=activity(sent.number, sent.cost),
                            headers={**headers, "Idempotency-Key": sent.key})
            if r.status_code < 500:
                assert r.status_code in (200, 201), (r.status_code, r.text)
                sent.status, sent.body = r.status_code, r.json()
                sent.position, sent.served_by = int(r.headers["x-event-position"]), r.headers["x-served-by"]
                return
            sent.failures.append(f"{r.status_code} from {r.headers.get('x-served-by', 'the balancer')}")
        except httpx.TransportError as e:
            sent.failures.append(type(e).__name__)
        assert time.monotonic() < deadline, f"command {sent.number} not accepted within {RETRY_FOR_S} s: " \
                                            f"{sent.failures}"
        time.sleep(0.1)


def fresh(agency: Agency, path: str, position: int, timeout: float = 45.0) -> httpx.Response:
    """GET `path` once the projections reached `position` (read-your-writes; the
    web waits a bounded time, then answers stale: ask again until fresh)."""
    deadline = time.monotonic() + timeout
    while True:
        r = agency.get(path, min_position=position)
        assert r.status_code == 200, (path, r.status_code, r.text)
        if r.headers.get("x-projection-stale") != "true":
            return r
        assert time.monotonic() < deadline, f"{path} still stale at position {position}"


def test_the_topology_survives_a_dead_web_process_and_a_dead_worker(deployment: Deployment,
                                                                    tmp_path: Path) -> None:
    system = deployment.system
    tenants = [system.registry.create_tenant(random_slug("a"), "Werkpad Detachering B.V."),
               system.registry.create_tenant(random_slug("b"), "Kansrijk Detachering B.V.", database="b")]
    assert [t.database for t in tenants] == ["default", "b"]
    with httpx.Client(base_url=deployment.url, timeout=30) as client:
        agencies = [Agency(system, t, client) for t in tenants]
        seeded: dict[str, dict[str, Any]] = {}
        for agency in agencies:
            ids, position = agency.seed()
            figures = fresh(agency, f"/contracts/{ids['contract']}/compliance", position).json()
            # 5% of EUR 1,000,000.00, read on the tenant's own server through either web process.
            assert figures["obligation_eur"] == "50000.00", figures
            seeded[agency.tenant.slug] = {"ids": ids, "reported": Decimal(figures["reported_eur"])}

        # A page login: the session (kept in the platform's database) works on both web processes.
        for agency in agencies:
            with httpx.Client(base_url=deployment.url, timeout=30) as browser:
                assert page_login(browser, agency.user.email).status_code in (302, 303)
                served: set[str] = set()
                deadline = time.monotonic() + 30  # a process the checks took out (load) comes back
                while served != {"web1", "web2"} and time.monotonic() < deadline:
                    page = browser.get("/")
                    assert page.status_code == 200 and "Onderhoud openbare ruimte" in page.text, page.text[:500]
                    served.add(page.headers["x-served-by"])
                assert served == {"web1", "web2"}, served

        # Commands from several clients at once; one web process dies while they are being sent,
        # then one worker, while both workers project them.
        work = [Sent(agency.tenant, n) for n in range(COMMANDS_PER_TENANT) for agency in agencies]
        by_tenant = {a.tenant.id: a for a in agencies}
        queue, lock = list(work), threading.Lock()
        errors: list[BaseException] = []

        def sender() -> None:
            with httpx.Client(base_url=deployment.url, timeout=30) as own:
                while True:
                    with lock:
                        if not queue:
                            return
                        sent = queue.pop(0)
                    agency = by_tenant[sent.tenant.id]
                    try:
                        send(own, agency.headers, seeded[agency.tenant.slug]["ids"]["contract"], sent)
                    except BaseException as e:  # noqa: BLE001
                        errors.append(e)

        def answered() -> int:
            return sum(1 for s in work if s.status is not None)

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        killed_at = {}
        for what, proc, share in (("web1", deployment.webs[0], 1 / 3), ("worker1", deployment.workers[0], 2 / 3)):
            deadline = time.monotonic() + 60
            while answered() < share * len(work) and time.monotonic() < deadline:
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            killed_at[what] = answered()
        for t in threads:
            t.join(timeout=RETRY_FOR_S + 30)
        assert not errors, f"{errors}\n{deployment.output()}"
        # The kills came while commands were still being sent.
        assert 0 < killed_at["web1"] < killed_at["worker1"] < len(work), killed_at
        assert deployment.webs[0].wait(5) == -signal.SIGKILL and deployment.workers[0].wait(5) == -signal.SIGKILL
        assert deployment.webs[1].poll() is None and deployment.workers[1].poll() is None, deployment.output()
        # Every command was answered 2xx, the late ones by the web process left.
        assert all(s.status in (200, 201) for s in work)
        late = sorted(work, key=lambda s: s.position)[-5:]
        assert {s.served_by for s in late} == {"web2"}, [(s.number, s.served_by) for s in late]
        retried = [s for s in work if s.failures]
        print(f"\n{len(work)} commands; web1 killed after {killed_at['web1']} answers, worker1 after "
              f"{killed_at['worker1']}; {len(retried)} retried by their client: "
              f"{[s.failures for s in retried][:6]}")

        # A command retried with its key, its answer lost or not, is one event: the same answer again.
        for sent in work[:3]:
            agency = by_tenant[sent.tenant.id]
            again = client.post(f"/api/v1/contracts/{seeded[agency.tenant.slug]['ids']['contract']}/contributions",
                                json=activity(sent.number, sent.cost),
                                headers={**agency.headers, "Idempotency-Key": sent.key})
            assert again.status_code == sent.status and again.json() == sent.body, again.text
            # Its position: the tenant's head now, at or past the first answer's (read-your-writes).
            assert again.headers["idempotent-replayed"] == "true"
            assert int(again.headers["x-event-position"]) >= sent.position

        # Projected by the worker left: every command exactly once, the figures the exact sums.
        for agency in agencies:
            mine = [s for s in work if s.tenant.id == agency.tenant.id]
            head = max(s.position for s in mine)
            ids = seeded[agency.tenant.slug]["ids"]
            listed = fresh(agency, f"/contracts/{ids['contract']}/contributions", head).json()["contributions"]
            activities = sorted(c["description"] for c in listed if c["kind"] == "other_activity")
            assert activities == sorted(f"Gastles {s.number}" for s in mine), (agency.tenant.database, activities)
            figures = fresh(agency, f"/contracts/{ids['contract']}/compliance", head).json()
            expected = seeded[agency.tenant.slug]["reported"] + sum(s.cost for s in mine)
            assert Decimal(figures["reported_eur"]) == expected, (agency.tenant.database, figures, expected)

        # An export of each tenant: requested on a page, written by the surviving worker,
        # downloaded through the balancer and verified offline with the platform's public key.
        public_key = load_public_key(_public_key(deployment.signing_key))
        platform = system.stores.database("default")
        for agency in agencies:
            with httpx.Client(base_url=deployment.url, timeout=30) as browser:
                assert page_login(browser, agency.user.email).status_code in (302, 303)
                token = CSRF_RE.search(browser.get("/audit/export").text).group(1)
                assert browser.post("/audit/export", data={"_csrf_token": token}).status_code == 303
                deadline = time.monotonic() + 45
                while (job := recent_jobs(platform, agency.tenant)[0]).status not in ("done", "failed"):
                    assert time.monotonic() < deadline, f"export {job} not written\n{deployment.output()}"
                    time.sleep(0.2)
                assert job.status == "done", deployment.output()
                download = browser.get(f"/audit/export/jobs/{job.id}/download")
                assert download.status_code == 200, download.text[:300]
            exported = tmp_path / f"{agency.tenant.database}.jsonl"
            exported.write_bytes(download.content)
            report = verify_export(exported, public_key)
            assert report.ok, report.message
            assert report.events == count_events(system.stores.database(agency.tenant.database), agency.tenant)
            assert report.events >= 6 + COMMANDS_PER_TENANT


def _public_key(signing_key: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from infra.audit import public_key_b64

    return public_key_b64(Ed25519PrivateKey.from_private_bytes(base64.b64decode(signing_key)))


def test_docs_deploy_shows_the_haproxy_configuration_the_test_runs() -> None:
    """docs/deploy.md shows infra/deploy/haproxy.cfg line for line (its comments left out)."""
    def lines(text: str) -> list[str]:
        kept = [line.split(" #")[0].rstrip() for line in text.splitlines() if not line.lstrip().startswith("#")]
        return [line for line in kept if line]

    docs = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
    shown = docs[docs.index("```\nglobal") + 4:]
    assert lines(shown[:shown.index("```")]) == lines(HAPROXY_CFG.read_text())
