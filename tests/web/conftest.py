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
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from infra import processes
from infra.bootstrap import System
from infra.registry import User
from tests.conftest import random_slug
# Agency, Browser and PASSWORD are the world's (tests/web/world.py); imported here too by the tests.
from tests.web.world import PASSWORD, Agency, Browser, World, build_world, new_tenant  # noqa: F401
from web.app import create_app

try:
    from playwright.sync_api import expect
    # Assertions on a page wait for their condition; the bound is only there to
    # fail a broken page, so it is generous enough for a machine under load.
    expect.set_options(timeout=20_000)
except ImportError:  # pragma: no cover - the test extra installs it
    expect = None  # type: ignore[assignment]

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


# -- people and data ------------------------------------------------------------------

@pytest.fixture
def new_agency(system: System) -> Callable[..., Agency]:
    def make(name: str = "Werkbedrijf Utrecht B.V.") -> Agency:
        return Agency(system=system, tenant=system.registry.create_tenant(random_slug("web"), name))
    return make


@pytest.fixture
def agency(new_agency: Callable[..., Agency]) -> Agency:
    return new_agency()


# -- in-process pages --------------------------------------------------------------------

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


# -- the sweeps' world: one per test module, a signed-in client per role -------------------

@pytest.fixture(scope="module")
def world(system: System) -> World:
    return build_world(new_tenant(system))


@pytest.fixture(scope="module")
def signed_in(system: System, world: World) -> Iterator[Callable[[str], Browser]]:
    """`signed_in(role, **user)`: a client logged in as that role in `world`, one per
    role and user fields (e.g. `organisation=` for another authority)."""
    clients: dict[tuple[str, tuple[tuple[str, Any], ...]], TestClient] = {}

    def open_(role: str, **user: Any) -> Browser:
        key = (role, tuple(sorted(user.items())))
        if key not in clients:
            client = TestClient(create_app(system))
            client.follow_redirects = False
            client.__enter__()
            clients[key] = client
            assert Browser(client).login(world.user(role, **user).email).status_code == 303
        return Browser(clients[key])

    yield open_
    for client in clients.values():
        client.__exit__(None, None, None)


# -- a real server, a real worker, a real browser -----------------------------------------

def _subprocess_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BROKER_URL",)}
    env.update(DATABASE_URL=database_url, SECRET_KEY="test-secret-key-not-for-production",
               PYTHONUNBUFFERED="1")
    return env


@dataclass
class Server:
    url: str


@contextmanager
def web_process(database_url: str, log: Path, **settings: str) -> Iterator[Server]:
    """One more `sroi serve` process on a free port, with `settings` added to
    its environment (e.g. TRUSTED_PROXIES); stopped on leaving."""
    port = processes.free_port()
    env = {k: v for k, v in _subprocess_env(database_url).items() if k not in settings}
    env.update(settings)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            processes.wait_until_serving(url, [proc], log=log)
            yield Server(url=url)
        finally:
            processes.stop([proc])


@pytest.fixture(scope="package")
def server(database_url: str, system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sroi serve` (uvicorn) on a free port and `sroi worker`, on the test database.

    Started on first use and stopped when the web tests (this package) end:
    its worker (default settings) must not outlive them. Left running into
    the webhook tests, it took their deliveries to a receiver on localhost
    and refused them (no WEBHOOK_ALLOW_PRIVATE), retrying 30 s later."""
    logs = tmp_path_factory.mktemp("web-server")
    env = _subprocess_env(database_url)
    with open(logs / "worker.log", "wb") as worker_log:
        worker = subprocess.Popen([sys.executable, "-m", "infra.cli", "worker", "--threads", "2"],
                                  cwd=PROJECT_ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT)
        try:
            with web_process(database_url, logs / "web.log") as web:
                yield web
        finally:
            processes.stop([worker])


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs it)")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser per test module, closed when its tests are done: Playwright's
    synchronous API keeps an event loop running while it is open, which breaks
    the asyncio tests of any module that runs after it (test_directory.py)."""
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


# WCAG 2.1 A/AA, and axe's best practices (heading order, landmarks, one h1);
# duplicate ids too (WCAG 2.1's 4.1.1, no longer an axe rule).
AXE = """async () => {
  const result = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
                                          resultTypes: ['violations']});
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dup.length) result.violations.push({id: 'duplicate-ids', help: dup.join(' '), nodes: []});
  return result.violations.map(v => ({id: v.id, help: v.help,
                                      nodes: v.nodes.slice(0, 3).map(n => n.html.slice(0, 160))}));
}"""


@pytest.fixture(scope="session")
def axe_violations(axe_script: Path) -> Callable[[Any], list[dict[str, Any]]]:
    """`axe_violations(page)`: axe-core run on a browser page (of a context that
    bypasses the CSP), the violations of AXE's rules (id, help, first nodes)."""
    def run(page: Any) -> list[dict[str, Any]]:
        page.add_script_tag(path=str(axe_script))
        return page.evaluate(AXE)
    return run


# -- pages in the browser: signed in, checked with axe-core ------------------------------------

@pytest.fixture
def audited_page(chromium: Any, server: Server) -> Iterator[Any]:
    """A page in which axe-core may be injected: Playwright adds it as an inline
    script, which our Content-Security-Policy (rightly) refuses, so this
    context bypasses the policy. `page` (CSP enforced) covers the policy."""
    context = chromium.new_context(base_url=server.url, locale="nl-NL", bypass_csp=True,
                                   viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def audit(audited_page: Any, axe_script: Any) -> Callable[[str], None]:
    def check(where: str) -> None:
        audited_page.add_script_tag(path=str(axe_script))
        result = audited_page.evaluate("async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})")
        violations = [{"id": v["id"], "help": v["help"], "nodes": [n["html"][:160] for n in v["nodes"][:3]]}
                      for v in result["violations"]]
        assert violations == [], f"accessibility problems on {where}: {violations}"
    return check


def login(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(re.compile(r"/(placements)?$"))
