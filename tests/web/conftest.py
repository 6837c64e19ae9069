"""Fixtures for the pages: an in-process TestClient per person (security and
role tests), and a real uvicorn server with a real worker driven by Debian's
Chromium through Playwright (flows, accessibility, keyboard use).

Browser tests need /usr/bin/chromium (`make test` installs it) and axe-core
from the npm registry (fetched once with `npm pack` into .data/vendor). On a
machine without Chromium they are skipped, except under CI=true, where that
fails the run.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar.testing import TestClient

from infra.bootstrap import System
from infra.eventstore import Tenant
from infra.registry import User
from projections.engine import ProjectionRunner
from projections.registry import PROJECTIONS
from service import commands as c
from service.actor import Actor
from tests.conftest import random_slug
from tests.projections.conftest import live_positions, wait_until
from web.app import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# axe-core pinned to one release and the npm registry's integrity hash of
# its tarball: a changed or substituted package fails the run instead of
# silently changing what the accessibility checks check.
AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
VENDOR_DIR = PROJECT_ROOT / ".data" / "vendor"
SCREENSHOTS_DIR = PROJECT_ROOT / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


# -- people and data ------------------------------------------------------------------

@dataclass
class Agency:
    """One tenant with an agency actor that changes things through the ledger."""

    system: System
    tenant: Tenant
    actor: Actor = field(default_factory=lambda: Actor(user_id=uuid.uuid4(), role="agency", organisation="test"))

    def run(self, command: Any, as_: Actor | None = None) -> UUID:
        result = self.system.ledger.execute(self.tenant, as_ or self.actor, command)
        return UUID(result.body["id"]) if "id" in result.body else UUID(int=0)

    def user(self, role: str, **kwargs: Any) -> User:
        return self.system.registry.create_user(self.tenant, f"{uuid.uuid4().hex}@example.org", role,
                                                password=PASSWORD, **kwargs)

    def project(self) -> None:
        """Bring every read model of the tenant up to date (what the worker does)."""
        for projection in PROJECTIONS:
            ProjectionRunner(self.system.stores.database(self.tenant.database), projection).catch_up(
                self.tenant, wait=True)

    def wait_for_worker(self, timeout: float = 120) -> None:
        """Wait until the running worker has projected every event of the
        tenant into every read model: a condition on the read-model positions,
        bounded only so that a dead worker fails the test instead of hanging."""
        head = self.system.stores.for_tenant(self.tenant).recorder.max_notification_id() or 0
        wait_until(lambda: min(live_positions(self.system, self.tenant).values()) >= head, timeout,
                   message=f"the worker to project position {head}")

    # -- a small world: one employer with a contract, a candidate placed there ------
    def seed(self, employer_name: str = "Bouwbedrijf De Vries B.V.",
             candidate_name: str = "Sanne Jansen") -> dict[str, UUID]:
        today = date.today()
        ids: dict[str, UUID] = {}
        ids["employer"] = self.run(c.RegisterEmployer(name=employer_name))
        ids["contract"] = self.run(c.RegisterContract(
            employer_id=ids["employer"], title="Onderhoud openbare ruimte", contracting_authority="Gemeente Utrecht",
            contract_value_eur=Decimal("1000000.00"), obligation_percent=Decimal("5"),
            starts_on=today - timedelta(days=365), ends_on=today + timedelta(days=700),
            awarded_on=today - timedelta(days=400), rule_set="utrecht-2024"))
        ids["candidate"] = self.run(c.RegisterCandidate(
            full_name=candidate_name, date_of_birth=date(1990, 6, 15), target_group="doelgroepregister",
            competences=["Administratie", "Excel"], support_needs="Schriftelijke instructies.",
            benefit_since=date(2015, 1, 1)))
        ids["vacancy"] = self.run(c.OpenVacancy(
            employer_id=ids["employer"], title="Administratief medewerker", required_competences=["Administratie"],
            optional_competences=["Excel"], hours_per_week=Decimal("24")))
        self.run(c.MatchCandidate(vacancy_id=ids["vacancy"], candidate_id=ids["candidate"]))
        ids["placement"] = self.run(c.StartPlacement(
            candidate_id=ids["candidate"], employer_id=ids["employer"], contract_id=ids["contract"],
            vacancy_id=ids["vacancy"], starts_on=today - timedelta(days=60), hours_per_week=Decimal("24"),
            permanent_contract=False))
        return ids


@pytest.fixture
def new_agency(system: System) -> Callable[..., Agency]:
    def make(name: str = "Werkbedrijf Utrecht B.V.") -> Agency:
        return Agency(system=system, tenant=system.registry.create_tenant(random_slug("web"), name))
    return make


@pytest.fixture
def agency(new_agency: Callable[..., Agency]) -> Agency:
    return new_agency()


# -- in-process pages --------------------------------------------------------------------

class Browser:
    """A TestClient with its own cookies: one person using the pages."""

    def __init__(self, client: TestClient):
        self.client = client

    def csrf(self) -> str:
        found = CSRF_RE.search(self.client.get("/login").text)
        if found is None:  # signed in: /login redirects; any page has the token
            found = CSRF_RE.search(self.client.get("/", follow_redirects=True).text)
        assert found is not None
        return found.group(1)

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post("/login", data={"email": email, "password": password,
                                                "_csrf_token": self.csrf(), "next": "/"})

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["_csrf_token"] = self.csrf()
        return self.client.post(path, data=body, **kwargs)


@pytest.fixture
def pages(system: System) -> Iterator[Callable[..., Browser]]:
    """Open a browser-like client (cookies of its own) on the app; `as_user` logs in."""
    opened: list[TestClient] = []

    def open_(as_user: User | None = None, **client_kwargs: Any) -> Browser:
        # An app per client: each TestClient runs the app's lifespan (its own
        # pool on its own event loop).
        client = TestClient(create_app(system), **client_kwargs)
        client.follow_redirects = False
        client.__enter__()
        opened.append(client)
        browser = Browser(client)
        if as_user is not None:
            r = browser.login(as_user.email)
            assert r.status_code == 303, r.text
        return browser

    yield open_
    for client in opened:
        client.__exit__(None, None, None)


# -- a real server, a real worker, a real browser -----------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _subprocess_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BROKER_URL",)}
    env.update(DATABASE_URL=database_url, SECRET_KEY="test-secret-key-not-for-production",
               PYTHONUNBUFFERED="1")
    return env


@dataclass
class Server:
    url: str


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


def _wait_until_serving(url: str, procs: list[subprocess.Popen], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            raise RuntimeError("web server did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.2)


@contextmanager
def web_process(database_url: str, log: Path, **settings: str) -> Iterator[Server]:
    """One more `sroi serve` process on a free port, with `settings` added to
    its environment (e.g. TRUSTED_PROXIES); stopped on leaving."""
    port = _free_port()
    env = {k: v for k, v in _subprocess_env(database_url).items() if k not in settings}
    env.update(settings)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(url, [proc], log)
            yield Server(url=url)
        finally:
            _stop([proc])


@pytest.fixture(scope="session")
def server(database_url: str, system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sroi serve` (uvicorn) on a free port and `sroi worker`, on the test database.

    Session-scoped and started on first use: the web tests run last, so the
    worker does not project other tests' tenants behind their backs."""
    logs = tmp_path_factory.mktemp("web-server")
    env = _subprocess_env(database_url)
    with open(logs / "worker.log", "wb") as worker_log:
        worker = subprocess.Popen([sys.executable, "-m", "infra.cli", "worker", "--threads", "2"],
                                  cwd=PROJECT_ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT)
        try:
            with web_process(database_url, logs / "web.log") as web:
                yield web
        finally:
            _stop([worker])


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs it)")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, server: Server) -> Iterator[Any]:
    context = chromium.new_context(base_url=server.url, locale="nl-NL", viewport={"width": 1280, "height": 900})
    page_ = context.new_page()
    errors: list[str] = []
    page_.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page_.on("pageerror", lambda e: errors.append(str(e)))
    page_.console_errors = errors  # type: ignore[attr-defined]
    yield page_
    context.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's axe.min.js, from the npm registry (npm pack), cached under .data/vendor."""
    target = VENDOR_DIR / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed once to fetch axe-core from the npm registry")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp, "--silent"],
                       check=True, capture_output=True, timeout=180)
        tarball = next(Path(tmp).glob("axe-core-*.tgz"))
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if integrity != AXE_INTEGRITY:
            pytest.fail(f"axe-core {AXE_VERSION} from the registry has integrity {integrity}, "
                        f"not the pinned {AXE_INTEGRITY}")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(member.read())
    return target
