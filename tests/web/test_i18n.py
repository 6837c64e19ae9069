"""Dutch by default, English on request; Babel formats dates and euros."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import ast

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.web.conftest import Agency, Browser
from web.pages.i18n import I18N_DIR, LANG_COOKIE, formatters

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def domain_messages() -> tuple[set[str], list[str]]:
    """The message templates of every domain error raised in domain/ (the first
    argument of `raise SomeError(...)` whose class is a DomainError), and the
    places that build one with an f-string (which no translation can match)."""
    import importlib
    import pkgutil

    import domain
    from domain.errors import DomainError

    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")

    def subclasses(cls: type) -> set[str]:
        return {cls.__name__}.union(*(subclasses(sub) for sub in cls.__subclasses__()))

    error_names = subclasses(DomainError) | {"error"}  # `error`: the class a validator is given
    found: set[str] = set()
    built: list[str] = []
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in error_names:
                continue
            first = node.exc.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            else:
                built.append(f"{path.name}:{node.lineno}")
    return found, built


def translated_ids() -> set[str]:
    with (I18N_DIR / "nl.po").open("rb") as fh:
        catalog = read_po(fh)
    return {m.id for m in catalog if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)}


def test_every_text_in_the_templates_has_a_dutch_translation() -> None:
    found = {message for _, _, message, _, _ in extract_from_dir(
        str(TEMPLATES), method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}})}
    translated = translated_ids()
    missing = sorted(str(m) for m in found if m not in translated)
    assert missing == [], f"add these to web/i18n/nl.po: {missing}"


def test_every_domain_error_message_has_a_dutch_translation() -> None:
    """Domain errors reach the Dutch pages next to the field: each message is a
    fixed template (values apart, see domain/errors.py) with a Dutch entry."""
    found, built = domain_messages()
    assert len(found) > 40  # the scan finds the domain's messages
    assert built == [], f"give these raises a fixed message with named values, not an f-string: {built}"
    missing = sorted(m for m in found if m not in translated_ids())
    assert missing == [], f"add these to web/i18n/nl.po: {missing}"


def test_a_domain_error_is_shown_in_the_pages_language_with_its_date_written_that_way() -> None:
    from domain.errors import ExtensionNotLater
    from web.pages.i18n import ErrorMessage, load_translations, message_filter

    error = ExtensionNotLater("until must be after {day}", day=date(2026, 3, 4))
    assert str(error) == "until must be after 2026-03-04"  # the API's text
    shown = ErrorMessage(str(error), error.template, error.params)
    assert message_filter(load_translations("nl"), "nl")(shown) == "Kies een datum na 4 mrt 2026."
    assert message_filter(load_translations("en"), "en")(shown) == "until must be after 4 Mar 2026"
    assert message_filter(load_translations("nl"), "nl")("no such message") == "no such message"


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
