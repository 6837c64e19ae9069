"""Outcomes beyond euros on the pages (issue 16): the person's own check-in
filled in by keyboard alone in a real browser (Chromium, CSP enforced, no
JavaScript needed), who sees what of it on the placement page, progression
recorded through the forms with a salary amount refused at the field, and the
employer page withholding figures from fewer than 5 people."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.voice import EmployeeVoice
from service import commands as c
from service.actor import Actor
from tests.web.conftest import Agency, Browser, login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

SCORES = {"supported": 4, "work_suits": 5, "can_ask": 3, "want_to_stay": 4}


def _voice(agency: Agency, placement: Any) -> EmployeeVoice:
    return agency.system.ledger.get(agency.tenant, agency.actor, EmployeeVoice, EmployeeVoice.id_for(placement))


def test_the_employee_fills_in_their_check_in_with_the_keyboard_alone(agency: Agency, page: Any) -> None:
    ids = agency.seed()  # placed 60 days ago: the 1-month check-in is open (overdue)
    person = agency.user("employee", candidate_id=ids["candidate"])
    agency.project()
    login(page, person.email)
    page.goto("/placements")  # where the person lands: told that a check-in is open
    page.get_by_role("link", name="Vul je check-in na 1 maand in").click()
    expect(page.get_by_role("heading", name="Mijn check-in", level=2)).to_be_visible()
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "check-in-1-supported-1":
            break
    else:
        raise AssertionError("the check-in could not be reached with Tab")
    # Each statement is a radio group: arrows choose, Tab goes to the next group.
    for question, score in SCORES.items():
        assert page.evaluate("document.activeElement.id") == f"check-in-1-{question}-1"
        for _ in range(score - 1):
            page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.id") == f"check-in-1-{question}-{score}"
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "check-in-1-remark"
    page.keyboard.type("Fijne collega's, de toetsenbordtest.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Mijn antwoorden versturen"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Mijn antwoorden", level=3)).to_be_visible()
    expect(page.locator("#check-ins")).to_contain_text("Fijne collega's, de toetsenbordtest.")
    assert _voice(agency, ids["placement"]).answered == {1: date.today()}
    assert page.console_errors == []


def test_who_sees_what_of_the_check_in_on_the_placement_page(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    person = agency.user("employee", candidate_id=ids["candidate"])
    me = Actor(user_id=person.id, role="employee", organisation="", candidate_id=ids["candidate"])
    agency.run(c.AnswerCheckIn(placement_id=ids["placement"], moment=1, answers=SCORES,
                               remark="Graag minder lawaai"), as_=me)
    agency.project()
    path = f"/placements/{ids['placement']}"
    coach = pages(agency.user("agency")).get(path).text
    assert "Graag minder lawaai" in coach and "alleen totalen" in coach
    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    html = employer.get(path).text
    assert "Graag minder lawaai" not in html and "4 / 5" not in html
    assert "alleen als totalen van 5 of meer mensen" in html
    # The person shares their scores: the employer sees them, never the remark.
    browser = pages(person)
    r = browser.post(f"{path}/check-ins/sharing", {"sharing": "individual"})
    assert r.status_code == 303, r.text
    employer.forget_cached_viewers()
    html = employer.get(path).text
    assert "5 / 5" in html and "Graag minder lawaai" not in html
    # Nobody answers for the person.
    r = pages(agency.user("agency")).post(f"{path}/check-ins", {"moment": "3", **{q: "3" for q in SCORES}})
    assert r.status_code == 403


def test_progression_through_the_forms_and_a_salary_refused_at_the_field(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    browser = pages(agency.user("agency"))
    path = f"/placements/{ids['placement']}"
    today = date.today().isoformat()
    r = browser.post(f"{path}/role", {"scale": "€ 2.800", "effective_on": today})
    assert r.status_code == 422
    assert 'id="role-scale-error"' in r.text and "nooit een salarisbedrag" in r.text
    assert browser.post(f"{path}/role", {"scale": "schaal 6", "role": "Teamleider", "effective_on": today}
                        ).status_code == 303
    assert browser.post(f"{path}/trainings", {"training": "VCA basis", "completed_on": today}).status_code == 303
    assert browser.post(f"{path}/permanent", {"on": today}).status_code == 303
    agency.project()
    html = browser.get(path).text
    assert "Nieuwe schaal: schaal 6" in html and "VCA basis" in html and "Contract vast gemaakt" in html


def test_the_employer_page_withholds_figures_from_fewer_than_five_people(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    for n in range(3):
        person = agency.run(c.RegisterCandidate(
            full_name=f"Persoon {n}", date_of_birth=date(1990, 1, 1), target_group="participatiewet",
            competences=["Plannen"], support_needs="", benefit_since=date(2020, 1, 1)))
        agency.run(c.StartPlacement(candidate_id=person, employer_id=ids["employer"], contract_id=ids["contract"],
                                    vacancy_id=None, starts_on=date.today() - timedelta(days=40),
                                    hours_per_week=Decimal("20"), permanent_contract=False))
    agency.project()
    html = pages(agency.user("employer", employer_id=ids["employer"])).get(f"/employers/{ids['employer']}").text
    assert "Resultaten naast euro" in html and "niet getoond (minder dan 5 mensen)" in html
    assert "4 mensen" not in html


def test_a_fixed_term_employment_is_made_permanent_on_the_persons_page(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    employment = agency.run(c.StartEmployment(candidate_id=ids["candidate"], starts_on=date.today() - timedelta(days=30),
                                              kind="fixed_term", ends_on=date.today() + timedelta(days=300)))
    agency.project()
    browser = pages(agency.user("agency"))
    path = f"/candidates/{ids['candidate']}"
    assert f'action="/employments/{employment}/permanent"' in browser.get(path).text
    r = browser.post(f"/employments/{employment}/permanent", {"on": "1899-01-01"})
    assert r.status_code == 422 and f'id="permanent-{employment}-on-error"' in r.text
    r = browser.post(f"/employments/{employment}/permanent", {"on": date.today().isoformat()})
    assert r.status_code == 303, r.text[:300]
    agency.project()
    html = browser.get(path).text
    assert f'action="/employments/{employment}/permanent"' not in html
    assert "<strong>Onbepaalde tijd</strong>" in html
