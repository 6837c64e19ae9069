"""Suggestions and the match pipeline boards on the pages: ranked candidates
with their reasons in Dutch, proposing, steps forward with clear errors
for steps out of order or a decline without a reason (nothing stored), and
who may see and change which board."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from domain.matching import MatchPipeline
from service import commands as c
from tests.web.conftest import Agency, Browser


def world(agency: Agency) -> dict[str, UUID]:
    ids = agency.seed(employer_name="Bouwbedrijf De Vries B.V.", candidate_name="Sanne Jansen")
    ids["filled"] = ids["vacancy"]  # the seed's vacancy is filled by its placement: a new one
    ids["vacancy"] = agency.run(c.OpenVacancy(
        employer_id=ids["employer"], title="Administratief medewerker", required_competences=["Administratie"],
        optional_competences=["Excel"], hours_per_week=Decimal("24")))
    ids["fatima"] = agency.run(c.RegisterCandidate(
        full_name="Fatima Bakker", date_of_birth=date(1995, 3, 1), target_group="participatiewet",
        competences=["Administratie", "Excel", "Klantcontact"], support_needs="", benefit_since=date(2020, 1, 1)))
    agency.run(c.StateAvailability(candidate_id=ids["fatima"], hours_per_week=Decimal("32"),
                                   available_from=date.today() - timedelta(days=10), region="Utrecht"))
    agency.project()
    return ids


def pipeline_version(agency: Agency, ids: dict[str, UUID], who: str = "fatima") -> int:
    return agency.system.ledger.get(agency.tenant, agency.actor, MatchPipeline,
                                    MatchPipeline.id_for(ids["vacancy"], ids[who])).version


def test_the_agency_sees_ranked_suggestions_with_reasons_and_proposes(agency: Agency,
                                                                      pages: Callable[..., Browser]) -> None:
    ids = world(agency)
    me = pages(agency.user("agency"))
    r = me.get(f"/vacancies/{ids['vacancy']}/suggestions?region=Utrecht")
    assert r.status_code == 200, r.text
    assert "Fatima Bakker" in r.text
    assert "alle 1 vereiste competenties" in r.text          # translated reasons
    assert "zelfde regio: Utrecht" in r.text
    assert "1 van 1 optionele competenties: Excel" in r.text
    assert r.text.index("Fatima Bakker") < r.text.index("Sanne Jansen")  # Fatima is free, in Utrecht
    english = me.get(f"/vacancies/{ids['vacancy']}/suggestions?region=Utrecht&lang=en").text
    assert "same region: Utrecht" in english and "score 100 of 100" in english
    me.get("/?lang=nl")  # back to Dutch (the choice is remembered)
    # Bad filters: named next to the field.
    bad = me.get(f"/vacancies/{ids['vacancy']}/suggestions?limit=7&starts_on=morgen")
    assert bad.status_code == 422
    assert 'id="filter-limit-error"' in bad.text and 'id="filter-starts_on-error"' in bad.text

    r = me.post(f"/vacancies/{ids['vacancy']}/suggestions",
                {"candidate_id": str(ids["fatima"]), "region": "Utrecht", "limit": "20"})
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/vacancies/{ids['vacancy']}/suggestions?region=Utrecht")
    assert pipeline_version(agency, ids) == 1
    agency.project()
    after = me.get(r.headers["location"]).text
    assert "In de pijplijn: voorgesteld" in after
    # Proposing twice: a clear error, nothing stored.
    again = me.post(f"/vacancies/{ids['vacancy']}/suggestions", {"candidate_id": str(ids["fatima"])})
    assert again.status_code == 422 and 'role="alert"' in again.text
    assert pipeline_version(agency, ids) == 1
    board = me.get(f"/vacancies/{ids['vacancy']}/pipeline").text
    column = re.search(r'id="col-proposed".*?</section>', board, re.S).group(0)
    assert "Fatima Bakker" in column


def test_steps_move_forward_and_out_of_order_or_incomplete_steps_are_refused(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = world(agency)
    agency.run(c.RecordMatchStep(vacancy_id=ids["vacancy"], candidate_id=ids["fatima"], step="proposed"))
    agency.project()
    me = pages(agency.user("agency"))
    board = f"/vacancies/{ids['vacancy']}/pipeline"
    today = date.today().isoformat()
    r = me.post(board, {"candidate_id": str(ids["fatima"]), "step": "introduced", "on": today, "form": "advance"})
    assert r.status_code == 303 and r.headers["location"].startswith(board)
    assert pipeline_version(agency, ids) == 2
    # The same step again (a stale board): out of order, shown on the card, nothing stored.
    agency.project()
    r = me.post(board, {"candidate_id": str(ids["fatima"]), "step": "introduced", "on": today, "form": "advance"})
    assert r.status_code == 422
    card = re.search(r'<li class="board-card".*?</li>', r.text, re.S).group(0)
    assert "Fatima Bakker" in card and 'role="alert"' in card and "introduced" in card
    assert pipeline_version(agency, ids) == 2
    # Declining needs who and why.
    r = me.post(board, {"candidate_id": str(ids["fatima"]), "step": "declined", "on": today, "form": "decline"})
    assert r.status_code == 422
    assert 'aria-describedby="c-' in r.text and "-decline-by-error" in r.text and "-decline-reason-error" in r.text
    assert pipeline_version(agency, ids) == 2
    # A date before the last step: named next to the date.
    r = me.post(board, {"candidate_id": str(ids["fatima"]), "step": "trial", "form": "advance",
                        "on": (date.today() - timedelta(days=30)).isoformat()})
    assert r.status_code == 422 and "-advance-on-error" in r.text
    assert pipeline_version(agency, ids) == 2
    # htmx: the board comes back as a fragment, the card in its new column.
    r = me.post(board, {"candidate_id": str(ids["fatima"]), "step": "declined", "on": today, "form": "decline",
                        "by": "employer", "reason": "hours"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="board"') and "<html" not in r.text
    assert pipeline_version(agency, ids) == 3
    agency.project()  # what the worker does (the page waits up to 2 s for it)
    column = re.search(r'id="col-declined".*?</section>', me.get(board).text, re.S).group(0)
    assert "Fatima Bakker" in column and "door de werkgever" in column and "uren" in column


def test_employers_see_their_own_boards_record_their_own_steps_and_auditors_cannot_change(
        agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = world(agency)
    theirs = agency.seed(employer_name="Schoonmaakbedrijf Hollandia", candidate_name="Youssef El Amrani")
    agency.run(c.RecordMatchStep(vacancy_id=ids["vacancy"], candidate_id=ids["fatima"], step="proposed"))
    agency.run(c.RecordMatchStep(vacancy_id=theirs["vacancy"], candidate_id=theirs["candidate"], step="proposed"))
    agency.project()
    employer = pages(agency.user("employer", employer_id=ids["employer"]))
    own = employer.get(f"/vacancies/{ids['vacancy']}/pipeline")
    assert own.status_code == 200 and "Fatima Bakker" in own.text
    assert "Youssef" not in own.text
    # The employer's buttons: the meet and greet and the trial, and its own "no"; never "placed".
    assert 'value="introduced"' in own.text and 'value="trial"' in own.text and 'value="placed"' not in own.text
    assert 'name="by" value="employer"' in own.text and "Kies wie afwees" not in own.text
    mine = employer.get(f"/employers/{ids['employer']}/pipeline")
    assert mine.status_code == 200 and "Fatima Bakker" in mine.text and "Administratief medewerker" in mine.text
    employer_page = employer.get(f"/employers/{ids['employer']}").text
    assert f'href="/employers/{ids["employer"]}/pipeline"' in employer_page and "voorgesteld: 1" in employer_page
    assert employer.get(f"/vacancies/{theirs['vacancy']}/pipeline").status_code == 404
    assert employer.get(f"/employers/{theirs['employer']}/pipeline").status_code == 404
    assert employer.get(f"/vacancies/{ids['vacancy']}/suggestions").status_code == 403  # never compares people
    r = employer.post(f"/vacancies/{ids['vacancy']}/pipeline",
                      {"candidate_id": str(ids["fatima"]), "step": "placed", "on": date.today().isoformat()})
    assert r.status_code == 403
    r = employer.post(f"/vacancies/{theirs['vacancy']}/pipeline",
                      {"candidate_id": str(theirs["candidate"]), "step": "introduced", "on": date.today().isoformat()})
    assert r.status_code == 404
    assert pipeline_version(agency, ids) == 1
    r = employer.post(f"/vacancies/{ids['vacancy']}/pipeline",
                      {"candidate_id": str(ids["fatima"]), "step": "introduced", "on": date.today().isoformat()})
    assert r.status_code == 303
    assert pipeline_version(agency, ids) == 2

    auditor = pages(agency.user("auditor"))
    assert "Youssef El Amrani" in auditor.get(f"/employers/{theirs['employer']}/pipeline").text
    assert auditor.get(f"/vacancies/{ids['vacancy']}/pipeline").status_code == 200
    assert auditor.get(f"/vacancies/{ids['vacancy']}/suggestions").status_code == 403
    r = auditor.post(f"/vacancies/{ids['vacancy']}/pipeline",
                     {"candidate_id": str(ids["fatima"]), "step": "trial", "on": date.today().isoformat()})
    assert r.status_code == 403 and "Niet toegestaan" in r.text
    assert pipeline_version(agency, ids) == 2
