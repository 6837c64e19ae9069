"""Every page of the product, in a real browser, for every role that opens it,
checked with axe-core (WCAG 2.1 A and AA, and its best practices): the pages
from the app's route table on a demo-like world whose free text is full of
script payloads (no dialog may fire), the refusal pages, and every form
submitted once with its fields emptied (as without JavaScript, and the forms
that swap their own section through htmx too), so the errors next to the
fields are checked (and that each is tied to its field); a check-in logged
with the keyboard alone. Each page as each role, and each form, is a test of
its own; one browser page serves the module (class `Sweep`)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from domain.support import PlacementSupport
from infra.bootstrap import System
from tests.web.conftest import Server, login
from tests.web.world import PARAM_RE, ROLES, World, build_world, new_tenant, page_routes

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

PAYLOAD = """<script>alert('sweep')</script>"><img src=x onerror=alert('sweep')>"""
# Files; export jobs (test_audit_pages); the placement's history blocks, which
# without htmx are the placement page again (swept as such); the header bell's
# count, a fragment every page loads (swept inside each).
SKIPPED = (".csv", "/download", "/jobs/", "/feedback", "/timeline", "/notifications/count")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# In the page: the first post form with this action and the fields a person
# fills in; whether it has any; emptied (no browser validation) and posted.
FIELDS = """action => {
  const form = [...document.querySelectorAll('form[method=post]')].find(f => f.getAttribute('action') === action);
  const types = ['text', 'date', 'number', 'email', 'tel', 'textarea', 'radio', 'checkbox'];
  return [form, form ? [...form.elements].filter(e => types.includes(e.type)) : []];
}"""
FILLABLE = f"action => ({FIELDS})(action)[1].length > 0"
SWAPS_ITSELF = f"action => ({FIELDS})(action)[0].hasAttribute('hx-post')"
EMPTY_AND_SUBMIT = f"""action => {{
  const [form, fields] = ({FIELDS})(action);
  for (const e of fields) {{ if (e.type === 'radio' || e.type === 'checkbox') e.checked = false; else e.value = ''; }}
  window.swapSettled = false;
  document.body.addEventListener('htmx:afterSettle', () => {{ window.swapSettled = true; }}, {{once: true}});
  form.noValidate = true;
  form.requestSubmit();
}}"""

# Error messages no field points at with aria-describedby (each error is tied to its field).
UNTIED_ERRORS = """() => [...document.querySelectorAll('p.error[id]')]
  .filter(p => !document.querySelector(`[aria-describedby~="${p.id}"]`)).map(p => p.id)"""


@pytest.fixture(scope="module")
def world(system: System) -> World:
    return build_world(new_tenant(system), text=PAYLOAD)


class Sweep:
    """One browser page for the whole module, signed in as one role at a time,
    and what it has seen: each (role, url) opened once, each form posted once
    (as the first role whose pages show it), whichever test asks first. The
    tests below ask in order (roles as in ROLES, pages, then forms through
    htmx, then without it), so each page is visited once, as before; a test
    run on its own does the work it needs itself."""

    def __init__(self, page: Any, world: World) -> None:
        self.page, self.world = page, world
        self.role = ""
        self.htmx = True
        self.opened: dict[tuple[str, str], tuple[int, list[Any], list[str]]] = {}
        self.refusals: set[int] = set()  # refusal pages checked with axe (one of each kind is enough)
        self.forms: dict[str, tuple[str, str, str]] = {}  # kind: (role, url, action), first role wins
        self.posted: dict[tuple[str, bool], tuple[str, int, Any]] = {}

    def sign_in(self, role: str) -> None:
        if role != self.role:
            self.page.context.clear_cookies()
            login(self.page, self.world.user(role).email)
            self.role = role

    def with_htmx(self, enabled: bool) -> None:
        if enabled != self.htmx:
            if enabled:
                self.page.unroute("**/static/htmx.min.js")
            else:
                self.page.route("**/static/htmx.min.js", lambda r: r.abort())
            self.htmx = enabled

    def open(self, role: str, url: str) -> tuple[int, list[Any], list[str]]:
        """The page's status, its accessibility violations and its post forms' actions."""
        if (role, url) not in self.opened:
            self.sign_in(role)
            self.with_htmx(True)
            status = self.page.goto(url).status
            actions: list[str] = []
            violations: list[Any] = []
            if status == 200:
                actions = [a for a in self.page.eval_on_selector_all(
                    "form[method=post]", "fs => fs.map(f => f.getAttribute('action'))") if a != "/logout"]
                for action in actions:
                    self.forms.setdefault(UUID_RE.sub("ID", action), (role, url, action))
                violations = self.page.axe()
            elif status not in self.refusals:
                self.refusals.add(status)
                violations = self.page.axe()
            self.opened[(role, url)] = (status, violations, actions)
        return self.opened[(role, url)]

    def forms_of(self, route: str) -> list[tuple[str, str, str]]:
        """The forms posting to `route` (one per kind), found on every role's pages."""
        for role in ROLES:
            for url in _pages(self.world):
                self.open(role, url)
        pattern = re.compile(PARAM_RE.sub("[^/]+", route) + "$")
        return [found for kind, found in sorted(self.forms.items()) if pattern.match(found[2])]

    def post_empty(self, kind: str, htmx: bool) -> tuple[str, int, Any]:
        """Post the form with its fields emptied: (what was posted, the status,
        the problems of the answer). Status 0: nothing to fill in (or, through
        htmx, a form that does not swap a section of its own)."""
        if (kind, htmx) not in self.posted:
            role, url, action = self.forms[kind]
            how = "through htmx" if htmx else "without htmx"
            where = f"{kind} as {role}, posted empty {how}"
            self.sign_in(role)
            self.with_htmx(htmx)
            page = self.page
            page.goto(url)
            problems: Any = None
            status = 0
            if page.evaluate(FILLABLE, action) and (not htmx or page.evaluate(SWAPS_ITSELF, action)):
                if htmx:
                    page.evaluate("window.notReloaded = true")
                    with page.expect_response(lambda r: r.request.method == "POST") as posted:
                        page.evaluate(EMPTY_AND_SUBMIT, action)
                    page.wait_for_function("window.swapSettled === true")
                    assert page.evaluate("window.notReloaded") is True, where
                else:
                    with page.expect_navigation() as posted:
                        page.evaluate(EMPTY_AND_SUBMIT, action)
                status = posted.value.status
                if 400 <= status < 500:  # the errors next to the fields: tied to them, accessible
                    untied = page.evaluate(UNTIED_ERRORS)
                    problems = f"errors not tied to a field: {untied}" if untied else page.axe() or None
            self.posted[(kind, htmx)] = (where, status, problems)
        return self.posted[(kind, htmx)]


@pytest.fixture(scope="module")
def sweep(chromium: Any, server: Server, axe_violations: Any, world: World) -> Iterator[Sweep]:
    """A page that may inject axe-core (the CSP bypassed, as `audited_page`),
    recording script errors and any dialog (an injected script would open one)."""
    context = chromium.new_context(base_url=server.url, locale="nl-NL", bypass_csp=True,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    page.axe = lambda: axe_violations(page)  # type: ignore[attr-defined]
    yield Sweep(page, world)
    context.close()


def _pages(world: World) -> list[str]:
    return [_url(world, route) for route in SWEPT]


PAGE_ROUTES = [r for r in page_routes("GET") if not any(s in r for s in SKIPPED)]
# Each page's route as each role, with four more: the vacancy filled beside the
# open one, the draft statement beside the submitted one (its submit form), the
# contract on invoiced turnover (its turnover form), and a guessed id (the 404 page).
SWEPT = [*PAGE_ROUTES, "/vacancies/{vacancy_id:str} (the filled one)", "/statements/{statement_id:str} (the draft)",
         "/contracts/{contract_id:str} (on turnover)", "/placements/{guessed}"]
FORM_ROUTES = page_routes("POST")
# Forms no page of the world shows, and why.
NOT_ON_A_PAGE = {
    "/login": "the page before signing in", "/logout": "the menu's, nothing to fill in",
    "/placements/{placement_id:str}/sickness": "the world's placement is sick: its page asks for the recovery",
    "/tokens/{token_id:str}/revoke": "the world's people hold no API tokens (test_tokens.py revokes one)",
    "/notifications/read": "the world's people are told nothing (test_notification_pages.py marks read)",
    "/rule-sets": "an authority organisation's form (test_rule_set_pages.py publishes)",
    "/rule-sets/preview": "the live preview of that form (test_rule_set_pages.py)",
    "/employments/{employment_id:str}/permanent": "the world's employment is permanent already"
                                                  " (test_outcome_pages.py makes a fixed-term one permanent)",
    "/imports/{import_id:str}/forget-file": "shown once an import is done with its file kept; the world's "
                                            "import the sweep opens is a preview (test_import_pages.py deletes one)",
}


GUESSED = uuid4()


def _url(world: World, swept: str) -> str:
    if swept == "/vacancies/{vacancy_id:str} (the filled one)":
        return f"/vacancies/{world.ids['vacancy']}"
    if swept == "/statements/{statement_id:str} (the draft)":
        return f"/statements/{world.extra['draft_statement_id']}"
    if swept == "/contracts/{contract_id:str} (on turnover)":
        return f"/contracts/{world.ids['turnover_contract']}"
    if swept == "/placements/{guessed}":
        return f"/placements/{GUESSED}"
    return world.fill(swept)


@pytest.mark.parametrize(("role", "route"), [(role, route) for role in ROLES for route in SWEPT])
def test_the_page_passes_axe_for_the_role(role: str, route: str, sweep: Sweep) -> None:
    url = _url(sweep.world, route)
    status, violations, _ = sweep.open(role, url)
    assert status in (200, 403, 404), (url, role, status)
    assert sweep.page.dialogs == [], sweep.page.dialogs
    assert violations == [], f"{url} as {role} ({status}): {violations}"


def test_each_role_reaches_its_pages_and_the_refusals_are_swept(sweep: Sweep) -> None:
    world = sweep.world
    assert sweep.open("agency", "/duties")[0] == 200
    assert sweep.open("employer", f"/employers/{world.ids['employer']}")[0] == 200
    assert sweep.open("employee", f"/placements/{world.ids['placement']}")[0] == 200
    assert sweep.open("employee", "/duties")[0] == 403
    assert sweep.open("agency", f"/placements/{GUESSED}")[0] == 404
    assert sweep.refusals >= {403, 404}


def _form_test(route: str, htmx: bool, sweep: Sweep) -> dict[str, int]:
    found = sweep.forms_of(route)
    assert found or route in NOT_ON_A_PAGE, f"no page shows a form posting to {route}"
    answers = {}
    for role, _, action in found:
        kind = UUID_RE.sub("ID", action)
        where, status, problems = sweep.post_empty(kind, htmx)
        answers[f"{kind} as {role}"] = status
        assert status < 500, (where, status)
        assert problems is None, f"{where} ({status}): {problems}"
    assert sweep.page.dialogs == [], sweep.page.dialogs
    return answers


@pytest.mark.parametrize("route", FORM_ROUTES)
def test_the_form_posted_empty_through_htmx_answers_its_section_with_accessible_errors(
        route: str, sweep: Sweep) -> None:
    """The forms that swap a section of their own through htmx: the fragment
    checked in place."""
    _form_test(route, True, sweep)


@pytest.mark.parametrize("route", FORM_ROUTES)
def test_the_form_posted_empty_without_javascript_answers_the_page_with_accessible_errors(
        route: str, sweep: Sweep) -> None:
    """Every form as without JavaScript: the page that comes back shows the
    errors (a boosted form's htmx answer is that page)."""
    _form_test(route, False, sweep)


def test_most_forms_need_something_filled_in(sweep: Sweep) -> None:
    swapped: dict[str, int] = {}
    answers: dict[str, int] = {}
    for route in FORM_ROUTES:
        for role, _, action in sweep.forms_of(route):
            kind = UUID_RE.sub("ID", action)
            swapped[f"{kind} as {role}"] = sweep.post_empty(kind, True)[1]
    for route in FORM_ROUTES:
        for role, _, action in sweep.forms_of(route):
            kind = UUID_RE.sub("ID", action)
            answers[f"{kind} as {role}"] = sweep.post_empty(kind, False)[1]
    assert len({k for k, v in swapped.items() if v == 422}) >= 5, swapped
    assert len({k for k, v in answers.items() if v == 422}) >= 20, answers


def test_a_check_in_is_logged_with_the_keyboard_alone(world: World, page: Any) -> None:
    """With the Content-Security-Policy enforced, through htmx."""
    def check_ins() -> int:
        return world.agency.system.ledger.get(world.agency.tenant, world.agency.actor, PlacementSupport,
                                              PlacementSupport.id_for(world.ids["placement"])).check_ins

    before = check_ins()
    login(page, world.user("agency").email)
    page.goto(f"/placements/{world.ids['placement']}")
    page.evaluate("window.notReloaded = true")
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "check-in-held_on":
            break
    else:
        pytest.fail("the check-in form could not be reached with Tab")
    # The day is filled in (today); Tab steps through the date's own parts first.
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") != "check-in-held_on":
            break
    assert page.evaluate("document.activeElement.id") == "check-in-with_whom"
    assert page.input_value("#check-in-held_on") == date.today().isoformat()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "check-in-note"
    page.keyboard.type("Gesprek met de toetsenbordtest.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Contactmoment vastleggen"
    page.keyboard.press("Enter")
    expect(page.locator("#support")).to_contain_text("Gesprek met de toetsenbordtest.")
    assert page.evaluate("window.notReloaded") is True
    assert check_ins() == before + 1
    assert page.console_errors == []
