"""Helpers of the multi-server tests (test_tenant_databases.py, test_topology.py):
an agency driven through the API, a page login, the connections a server
holds, and the processes of a deployment (web, worker, HAProxy) started as
subprocesses."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import psycopg

from infra import processes
from infra.bootstrap import System
from infra.database import database_name
from infra.eventstore import Tenant
from tests.api.conftest import candidate_body, contract_body, placement_body, vacancy_body
from tests.web.conftest import PROJECT_ROOT, _subprocess_env, web_process
from tests.web.world import PASSWORD

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
HAPROXY_CFG = PROJECT_ROOT / "infra" / "deploy" / "haproxy.cfg"


def backends(url: str) -> int:
    """Connections to the URL's database, not counting this question's own."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                            " AND pid <> pg_backend_pid()", (database_name(url),)).fetchone()[0]


class Agency:
    """A tenant's agency user, through the API."""

    def __init__(self, system: System, tenant: Tenant, client: httpx.Client):
        self.tenant, self.client = tenant, client
        self.user = system.registry.create_user(tenant, f"agency@{tenant.slug}.test", "agency", password=PASSWORD)
        self.headers = {"Authorization": "Bearer " + system.registry.issue_token(self.user)}

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        r = self.client.post("/api/v1" + path, json=body, headers=self.headers)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get("/api/v1" + path, params=params, headers=self.headers)

    def seed(self, authority_org_id: str | None = None,
             employer_org_id: str | None = None) -> tuple[dict[str, str], int]:
        """Employer (linked to the employer organisation, if given), contract (shared with
        the authority, if given), candidate, vacancy, match, placement; the ids and the
        position of the last command."""
        linked = {"org_id": employer_org_id} if employer_org_id else {}
        ids = {"employer": self.post("/employers", {"name": "Bouwbedrijf De Vries", **linked}).json()["id"]}
        shared = {"authority_org_id": authority_org_id} if authority_org_id else {}
        ids["contract"] = self.post("/contracts", contract_body(ids["employer"], **shared)).json()["id"]
        ids["candidate"] = self.post("/candidates", candidate_body()).json()["id"]
        ids["vacancy"] = self.post("/vacancies", vacancy_body(ids["employer"])).json()["id"]
        self.post(f"/vacancies/{ids['vacancy']}/matches", {"candidate_id": ids["candidate"]})
        r = self.post("/placements", placement_body(ids["candidate"], ids["employer"], ids["contract"],
                                                    ids["vacancy"]))
        ids["placement"] = r.json()["id"]
        return ids, int(r.headers["x-event-position"])


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """check() once it holds (the worker projects behind the commands): its answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def page_login(client: httpx.Client, email: str) -> httpx.Response:
    token = CSRF_RE.search(client.get("/login").text).group(1)
    return client.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": token})


# -- the processes of a deployment --------------------------------------------------------------

def deployment_env(platform_url: str, **settings: str) -> dict[str, str]:
    """The environment of a web or worker process: the test's, DATABASE_URL the
    platform's, and `settings` (BROKER_URL, TENANT_DATABASES, ...)."""
    env = {k: v for k, v in _subprocess_env(platform_url).items() if k not in settings}
    env.update(settings)
    return env


def start_worker(env: dict[str, str], log: Path, threads: int = 2) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "infra.cli", "worker", "--threads", str(threads)],
                                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def start_web(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """`sroi serve` on 127.0.0.1:`port` (not yet answering: see processes.wait_until_serving)."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def served(topology: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """`sroi worker` and `sroi serve` on a topology's databases (test_tenant_databases.py's
    fixture): the web's URL; both stopped on leaving."""
    settings = {k: v for k, v in topology["env"].items() if k != "DATABASE_URL"}
    worker = start_worker(deployment_env(topology["platform_url"], **settings), tmp_path / "worker.log")
    try:
        with web_process(topology["platform_url"], tmp_path / "web.log", **settings) as web:
            yield web.url
    finally:
        processes.stop([worker])


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)


@contextmanager
def haproxy(webs: list[int], log: Path, config: Path = HAPROXY_CFG) -> Iterator[tuple[str, subprocess.Popen]]:
    """HAProxy with the committed configuration in front of web processes on
    127.0.0.1:`webs` ports (two); yields its URL and process, stopped on leaving."""
    binary = haproxy_binary()
    assert binary is not None, "haproxy is missing: `make test` installs it (apt-get install haproxy)"
    port = processes.free_port()
    env = {**os.environ, "SROI_LB_BIND": f"127.0.0.1:{port}",
           **{f"SROI_WEB{i}": f"127.0.0.1:{p}" for i, p in enumerate(webs, start=1)}}
    with open(log, "ab") as out:
        proc = subprocess.Popen([binary, "-f", str(config), "-db"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until_serving(url, [proc], timeout=30, log=log)
        yield url, proc
    finally:
        processes.stop([proc])


@contextmanager
def rabbitmq_vhost(rabbitmq_url: str) -> Iterator[str]:
    """A RabbitMQ virtual host of our own (the queues' names are fixed, and a
    message for this run must not go to another run's worker), made with
    rabbitmqctl where it runs on this machine, deleted on leaving; else the
    given URL's own."""
    ctl = shutil.which("rabbitmqctl")
    parts = urlsplit(rabbitmq_url)
    name = f"sroi_test_{uuid.uuid4().hex[:12]}"
    user = parts.username or "guest"

    def run(*args: str) -> bool:
        try:
            return subprocess.run([ctl, "-q", *args], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    if ctl is None or parts.hostname not in ("127.0.0.1", "localhost") or not run("add_vhost", name):
        yield rabbitmq_url
        return
    try:
        assert run("set_permissions", "-p", name, user, ".*", ".*", ".*"), "rabbitmqctl set_permissions failed"
        yield urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    finally:
        run("delete_vhost", name)
