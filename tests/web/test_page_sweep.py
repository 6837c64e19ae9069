"""Every page of the product, in a real browser, for every role that opens it,
checked with axe-core (WCAG 2.1 A and AA, and its best practices): the pages
from the app's route table on a demo-like world whose free text is full of
script payloads (no dialog may fire), the refusal pages, and every form
submitted once with its fields emptied (as without JavaScript, and the forms
that swap their own section through htmx too), so the errors next to the
fields are checked (and that each is tied to its field). One browser context for all of it; a check-in
logged with the keyboard alone."""
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
from tests.web.world import ROLES, World, build_world, new_tenant, page_routes

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

PAYLOAD = """<script>alert('sweep')</script>"><img src=x onerror=alert('sweep')>"""
# Files; export jobs (test_audit_pages); the placement's history blocks, which
# without htmx are the placement page again (swept as such).
SKIPPED = (".csv", "/download", "/jobs/", "/feedback", "/timeline")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

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


@pytest.fixture
def swept_page(chromium: Any, server: Server, axe_script: Any) -> Iterator[Any]:
    """A page that may inject axe-core (the CSP bypassed, as `audited_page`),
    recording script errors and any dialog (an injected script would open one)."""
    context = chromium.new_context(base_url=server.url, locale="nl-NL", bypass_csp=True,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    page.axe = lambda: (page.add_script_tag(path=str(axe_script)), page.evaluate(AXE))[1]  # type: ignore[attr-defined]
    yield page
    context.close()


def _sign_in(page: Any, world: World, role: str) -> None:
    page.context.clear_cookies()
    login(page, world.user(role).email)


def _pages(world: World) -> list[str]:
    urls = [world.fill(r) for r in page_routes("GET") if not any(s in r for s in SKIPPED)]
    # The filled vacancy beside the open one; a guessed id (the 404 page).
    return [*urls, f"/vacancies/{world.ids['vacancy']}", f"/placements/{uuid4()}"]


def test_every_page_and_form_error_passes_axe_for_every_role(world: World, swept_page: Any) -> None:
    page = swept_page
    problems: dict[str, Any] = {}
    opened: dict[str, list[str]] = {role: [] for role in ROLES}
    refusals: set[int] = set()
    forms: dict[str, list[str]] = {role: [] for role in ROLES}  # the pages a role's forms are on
    for role in ROLES:
        _sign_in(page, world, role)
        for url in _pages(world):
            status = page.goto(url).status
            if status == 200:
                opened[role].append(url)
                for action in page.eval_on_selector_all("form[method=post]",
                                                        "fs => fs.map(f => f.getAttribute('action'))"):
                    if action != "/logout":
                        forms[role].append(f"{url} {action}")
            elif status in refusals:
                continue  # one refusal page of each kind is enough
            else:
                refusals.add(status)
            violations = page.axe()
            if violations:
                problems[f"{url} as {role} ({status})"] = violations
    assert "/duties" in opened["agency"] and f"/employers/{world.ids['employer']}" in opened["employer"]
    assert f"/placements/{world.ids['placement']}" in opened["employee"] and refusals >= {403, 404}

    # Each form once (as the first role that has it) with its fields emptied:
    # the forms that swap a section of their own through htmx (the fragment
    # checked in place), then every form as without JavaScript (the page that
    # comes back shows the errors; a boosted form's htmx answer is that page).
    swapped = _post_each_form_empty(page, world, forms, problems, htmx=True)
    page.route("**/static/htmx.min.js", lambda r: r.abort())
    answers = _post_each_form_empty(page, world, forms, problems, htmx=False)
    assert len({k for k, v in swapped.items() if v == 422}) >= 5, swapped
    assert len({k for k, v in answers.items() if v == 422}) >= 20, answers  # most forms need something filled in
    assert page.dialogs == [], page.dialogs  # type: ignore[attr-defined]
    assert problems == {}, "accessibility problems:\n" + "\n".join(f"{k}: {v}" for k, v in problems.items())


def _post_each_form_empty(page: Any, world: World, forms: dict[str, list[str]], problems: dict[str, Any], *,
                          htmx: bool) -> dict[str, int]:
    how = "through htmx" if htmx else "without htmx"
    answers: dict[str, int] = {}
    done: set[str] = set()
    for role in ROLES:
        if all(UUID_RE.sub("ID", e.split(" ")[1]) in done for e in forms[role]):
            continue
        _sign_in(page, world, role)
        for entry in forms[role]:
            url, action = entry.split(" ")
            kind = UUID_RE.sub("ID", action)
            if kind in done:
                continue
            done.add(kind)
            page.goto(url)
            if not page.evaluate(FILLABLE, action) or (htmx and not page.evaluate(SWAPS_ITSELF, action)):
                continue  # nothing to fill in; through htmx, a boosted form's answer is the page without it
            where = f"{kind} as {role}, posted empty {how}"
            if htmx:
                page.evaluate("window.notReloaded = true")
                with page.expect_response(lambda r: r.request.method == "POST") as posted:
                    page.evaluate(EMPTY_AND_SUBMIT, action)
                page.wait_for_function("window.swapSettled === true")
                assert page.evaluate("window.notReloaded") is True, where
            else:
                with page.expect_navigation() as posted:
                    page.evaluate(EMPTY_AND_SUBMIT, action)
            answers[f"{kind} as {role}"] = status = posted.value.status
            assert status < 500, (where, status)
            if status < 400:
                continue  # nothing was required: back on a page swept above
            untied = page.evaluate(UNTIED_ERRORS)
            if untied:
                problems[where] = f"errors not tied to a field: {untied}"
            violations = page.axe()
            if violations:
                problems[f"{where} ({status})"] = violations
    return answers


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
