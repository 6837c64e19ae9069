"""Forms that change records, over HTTP (no JavaScript): changing and closing a
vacancy, reporting contributions, amending and closing a contract, extending
a placement, an employer's page with its contact persons; bad input shown
next to the field in Dutch, roles refused, other employers' records 404."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.placement import Placement
from domain.vacancy import Vacancy
from service import commands as c
from tests.web.conftest import Agency, Browser


def field_error(html: str, field_id: str) -> str:
    """The error text tied to an input by aria-describedby."""
    assert re.search(rf'id="{field_id}"[^>]*aria-describedby="[^"]*{field_id}-error', html), field_id
    found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert found, html[:3000]
    return found.group(1).strip()


def load(agency: Agency, kind: type, ident: object) -> object:
    return agency.system.stores.for_tenant(agency.tenant).repository.get(ident)


def test_a_vacancy_is_changed_and_closed_on_its_page(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    vacancy = agency.run(c.OpenVacancy(employer_id=ids["employer"], title="Magazijnmedewerker",
                                       required_competences=["Orderpicken"], optional_competences=[],
                                       hours_per_week=24, region="Utrecht"))  # type: ignore[arg-type]
    agency.project()
    me = pages(agency.user("agency"))
    form = me.get(f"/vacancies/{vacancy}/edit")
    assert form.status_code == 200 and 'value="Utrecht"' in form.text and 'value="Orderpicken"' in form.text

    # A domain error comes back next to its field, in Dutch.
    bad = me.post(f"/vacancies/{vacancy}/edit", {"title": "Magazijnmedewerker", "required_competences": "Orderpicken",
                                                "optional_competences": "orderpicken", "hours_per_week": "24"})
    assert bad.status_code == 422
    assert field_error(bad.text, "f-optional_competences") == (
        "Een competentie kan niet zowel vereist als optioneel zijn: orderpicken.")
    bad = me.post(f"/vacancies/{vacancy}/edit?lang=en", {"title": "", "required_competences": "Orderpicken",
                                                        "hours_per_week": "61"})
    assert bad.status_code == 422 and field_error(bad.text, "f-title") == "Please fill this in."
    assert load(agency, Vacancy, vacancy).version == 1  # nothing stored  # type: ignore[attr-defined]

    ok = me.post(f"/vacancies/{vacancy}/edit", {"title": "Magazijnmedewerker", "hours_per_week": "32",
                                               "required_competences": "Orderpicken, Heftruck",
                                               "optional_competences": "", "region": "Amersfoort"})
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"/vacancies/{vacancy}")
    changed = load(agency, Vacancy, vacancy)
    assert (changed.required_competences, str(changed.hours_per_week), changed.region) == (  # type: ignore[attr-defined]
        ["Orderpicken", "Heftruck"], "32", "Amersfoort")

    # Closing asks for the tick; without it nothing happens.
    page = me.get(f"/vacancies/{vacancy}")
    assert "Amersfoort" in page.text and f'action="/vacancies/{vacancy}/close"' in page.text
    unticked = me.post(f"/vacancies/{vacancy}/close?lang=nl", {"close_reason": "Intern ingevuld"})
    assert unticked.status_code == 422
    assert field_error(unticked.text, "close-confirm") == "Vink het vakje aan om te bevestigen."
    assert load(agency, Vacancy, vacancy).status == "open"  # type: ignore[attr-defined]
    closed = me.post(f"/vacancies/{vacancy}/close", {"close_reason": "Intern ingevuld", "confirm": "yes"})
    assert closed.status_code == 303 and load(agency, Vacancy, vacancy).status == "closed"  # type: ignore[attr-defined]
    assert me.get(f"/vacancies/{vacancy}/edit").status_code == 409
    assert "Gesloten, reden: Intern ingevuld" in me.get(f"/vacancies/{vacancy}").text


def test_an_employer_changes_its_own_vacancies_only(agency: Agency, pages: Callable[..., Browser]) -> None:
    ours, theirs = agency.seed(), agency.seed(employer_name="Schoonmaakbedrijf Hollandia")
    own = agency.run(c.OpenVacancy(employer_id=ours["employer"], title="Receptionist", required_competences=["Plannen"],
                                   optional_competences=[], hours_per_week=20))  # type: ignore[arg-type]
    other = agency.run(c.OpenVacancy(employer_id=theirs["employer"], title="Schoonmaker",
                                     required_competences=["Schoonmaken"], optional_competences=[],
                                     hours_per_week=20))  # type: ignore[arg-type]
    agency.project()
    boss = pages(agency.user("employer", employer_id=ours["employer"]))
    assert boss.get(f"/vacancies/{own}/edit").status_code == 200
    assert boss.get(f"/vacancies/{other}/edit").status_code == 404
    body = {"title": "Schoonmaker", "required_competences": "Schoonmaken", "hours_per_week": "10"}
    assert boss.post(f"/vacancies/{other}/edit", body).status_code == 404
    assert boss.post(f"/vacancies/{other}/close", {"confirm": "yes"}).status_code == 404
    auditor = pages(agency.user("auditor"))
    assert auditor.get(f"/vacancies/{own}/edit").status_code == 403
    assert auditor.post(f"/vacancies/{own}/close", {"confirm": "yes"}).status_code == 403
    assert 'action="/vacancies/' not in auditor.get(f"/vacancies/{own}").text.split("matches")[0]
    assert load(agency, Vacancy, other).status == "open"  # type: ignore[attr-defined]


def test_contributions_are_reported_on_the_contract_page(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    contract = ids["contract"]
    boss = pages(agency.user("employer", employer_id=ids["employer"]))
    page = boss.get(f"/contracts/{contract}")
    assert f'action="/contracts/{contract}/purchases"' in page.text
    assert f'action="/contracts/{contract}/amend"' not in page.text  # the agency amends, not the employer

    bad = boss.post(f"/contracts/{contract}/purchases", {
        "supplier": "Werkbedrijf Groen", "invoice_amount_eur_excl_vat": "-10", "register": "registered_social_enterprise",
        "invoice_date": "2026-01-15", "description": "Groenonderhoud"})
    assert bad.status_code == 422
    assert field_error(bad.text, "purchase-invoice_amount_eur_excl_vat") == "Geef een bedrag groter dan 0."
    ok = boss.post(f"/contracts/{contract}/purchases", {
        "supplier": "Werkbedrijf Groen", "invoice_amount_eur_excl_vat": "12.500,00",
        "register": "social_enterprise_nl_member", "invoice_date": "2026-01-15", "description": "Groenonderhoud"})
    assert ok.status_code == 303, ok.text

    both = boss.post(f"/contracts/{contract}/other-activities", {
        "description": "Gastles", "activity_date": "2026-02-01", "costs_eur": "500", "hours": "4"})
    assert both.status_code == 422
    assert field_error(both.text, "other-costs_eur") == "Vul de kosten of de uren in, niet allebei."
    ok = boss.post(f"/contracts/{contract}/other-activities", {
        "description": "Gastles", "activity_date": "2026-02-01", "hours": "4"})
    assert ok.status_code == 303
    agency.project()
    shown = boss.get(f"/contracts/{contract}").text
    assert "Groenonderhoud" in shown and "Gastles" in shown and "€\xa06.250,00" in shown and "€\xa0400,00" in shown

    # An authority reads the contract but reports nothing; another employer does not see it.
    authority = pages(agency.user("authority", organisation="Gemeente Utrecht"))
    assert 'action="/contracts/' + str(contract) + '/purchases"' not in authority.get(f"/contracts/{contract}").text
    body = {"description": "Gastles", "activity_date": "2026-02-01", "hours": "4"}
    assert authority.post(f"/contracts/{contract}/other-activities", body).status_code == 403
    theirs = agency.seed(employer_name="Schoonmaakbedrijf Hollandia")
    other_boss = pages(agency.user("employer", employer_id=theirs["employer"]))
    assert other_boss.post(f"/contracts/{contract}/other-activities", body).status_code == 404


def test_the_agency_amends_and_closes_a_contract(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    contract = ids["contract"]
    me = pages(agency.user("agency"))
    terms = load(agency, SocialReturnContract, contract)
    amend = {"title": "Onderhoud openbare ruimte", "contracting_authority": "Gemeente Utrecht",
             "contract_value_eur": "1.200.000", "obligation_percent": "5",
             "starts_on": terms.starts_on.isoformat(), "ends_on": terms.starts_on.isoformat()}  # type: ignore[attr-defined]
    bad = me.post(f"/contracts/{contract}/amend", amend)
    assert bad.status_code == 422
    assert field_error(bad.text, "amend-ends_on") == "De einddatum moet na de begindatum liggen."
    ok = me.post(f"/contracts/{contract}/amend", {**amend, "ends_on": "2030-12-31"})
    assert ok.status_code == 303
    amended = load(agency, SocialReturnContract, contract)
    assert (str(amended.contract_value_eur), amended.ends_on) == ("1200000", date(2030, 12, 31))  # type: ignore[attr-defined]

    unticked = me.post(f"/contracts/{contract}/close", {"closed_on": date.today().isoformat()})
    assert unticked.status_code == 422 and field_error(unticked.text, "close-confirm")
    closed = me.post(f"/contracts/{contract}/close", {"closed_on": date.today().isoformat(), "confirm": "yes"})
    assert closed.status_code == 303 and load(agency, SocialReturnContract, contract).is_closed  # type: ignore[attr-defined]
    again = me.post(f"/contracts/{contract}/close", {"closed_on": date.today().isoformat(), "confirm": "yes"})
    assert again.status_code == 409 and "Het contract is al op" in again.text  # Dutch, with a Dutch date
    boss = pages(agency.user("employer", employer_id=ids["employer"]))
    assert boss.post(f"/contracts/{contract}/amend", amend).status_code == 403


def test_a_placement_is_extended_on_its_page(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    placement = ids["placement"]
    me = pages(agency.user("agency"))
    assert f'action="/placements/{placement}/extend"' in me.get(f"/placements/{placement}").text
    started = load(agency, Placement, placement).starts_on  # type: ignore[attr-defined]
    bad = me.post(f"/placements/{placement}/extend", {"until": (started - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422
    assert field_error(bad.text, "extend-until").startswith("Kies een datum na ")
    later = date.today() + timedelta(days=400)
    assert me.post(f"/placements/{placement}/extend", {"until": later.isoformat()}).status_code == 303
    assert load(agency, Placement, placement).planned_end_on == later  # type: ignore[attr-defined]
    boss = pages(agency.user("employer", employer_id=ids["employer"]))
    assert f'/placements/{placement}/extend"' not in boss.get(f"/placements/{placement}").text
    assert boss.post(f"/placements/{placement}/extend", {"until": later.isoformat()}).status_code == 403


def test_the_employer_page_lists_its_work_and_its_contact_persons(agency: Agency,
                                                                  pages: Callable[..., Browser]) -> None:
    ids, theirs = agency.seed(), agency.seed(employer_name="Schoonmaakbedrijf Hollandia")
    agency.project()
    employer = ids["employer"]
    me = pages(agency.user("agency"))
    assert f'href="/employers/{employer}"' in me.get("/employers").text
    page = me.get(f"/employers/{employer}")
    assert page.status_code == 200
    for link in (f"/contracts/{ids['contract']}", f"/vacancies/{ids['vacancy']}", f"/placements/{ids['placement']}"):
        assert f'href="{link}"' in page.text
    assert f"/contracts/{theirs['contract']}" not in page.text

    bad = me.post(f"/employers/{employer}/contact-persons", {"name": "Pieter de Vries", "email": "pieter@"})
    assert bad.status_code == 422 and field_error(bad.text, "contact-email") == "Dit is geen geldig e-mailadres."
    ok = me.post(f"/employers/{employer}/contact-persons", {"name": "Pieter de Vries", "email": "pieter@devries.nl",
                                                           "role": "HR-adviseur"})
    assert ok.status_code == 303
    assert load(agency, Employer, employer).contact_persons[0]["name"] == "Pieter de Vries"  # type: ignore[attr-defined]
    assert "pieter@devries.nl" in me.get(f"/employers/{employer}").text

    boss = pages(agency.user("employer", employer_id=employer))
    assert "pieter@devries.nl" in boss.get(f"/employers/{employer}").text
    assert boss.get(f"/employers/{theirs['employer']}").status_code == 404
    body = {"name": "Eva Bakker", "email": "eva@hollandia.nl"}
    assert boss.post(f"/employers/{theirs['employer']}/contact-persons", body).status_code == 404
    auditor = pages(agency.user("auditor"))
    seen = auditor.get(f"/employers/{employer}")
    assert seen.status_code == 200 and "pieter@devries.nl" not in seen.text and "Pieter" not in seen.text
    assert auditor.post(f"/employers/{employer}/contact-persons", body).status_code == 403
    employee = pages(agency.user("employee", candidate_id=ids["candidate"]))
    assert employee.get(f"/employers/{employer}").status_code == 403
