"""Dutch by default, English on request; Babel formats dates and euros."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.web.conftest import Agency, Browser
from web.pages.i18n import I18N_DIR, LANG_COOKIE, formatters

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def test_every_text_in_the_templates_has_a_dutch_translation() -> None:
    found = {message for _, _, message, _, _ in extract_from_dir(
        str(TEMPLATES), method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}})}
    with (I18N_DIR / "nl.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = sorted(str(m) for m in found if m not in translated)
    assert missing == [], f"add these to web/i18n/nl.po: {missing}"


def test_euros_dates_and_numbers_follow_the_language() -> None:
    nl, en = formatters("nl"), formatters("en")
    assert nl["euro"](Decimal("120000.5")) == "€\xa0120.000,50"
    assert en["euro"](Decimal("120000.5")) == "€120,000.50"
    assert nl["euro"]("2400000", False) == "€\xa02.400.000"
    assert nl["day"](date(2025, 3, 4)) == "4 mrt 2025"
    assert en["day"](date(2025, 3, 4)) == "4 Mar 2025"
    assert nl["percent"]("68.7") == "68,7%" and en["percent"]("68.7") == "68.7%"
    assert nl["euro"](None) == "–"


def test_pages_are_dutch_unless_english_is_asked_for(agency: Agency, pages: Callable[..., Browser]) -> None:
    agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    dutch = me.get("/")
    assert '<html lang="nl">' in dutch.text and "Overzicht" in dutch.text
    english = me.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Dashboard" in english.text and "Overzicht" not in english.text
    assert f"{LANG_COOKIE}=en" in english.headers["set-cookie"]
    # The choice is kept for the next pages.
    later = me.get("/contracts")
    assert "Contracts" in later.text and "€50,000" in later.text
    assert "€\xa050.000" in me.get("/contracts?lang=nl").text
