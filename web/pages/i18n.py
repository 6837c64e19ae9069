"""Languages of the pages: Dutch (the default) and English.

Templates are written in English with `_()`/`{% trans %}`; Dutch comes from
`web/i18n/nl.po`, read with Babel when the app starts (no compile step, so a
translator edits one text file; infra/translations.py loads it, for the
mail too). Dates, numbers and euro amounts are formatted by Babel for the
page's locale.

The language is chosen by `?lang=nl|en` (remembered in a cookie), else the
cookie, else Dutch.
"""
from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations
from litestar.connection import ASGIConnection

from infra.translations import DEFAULT_LANGUAGE, I18N_DIR, LANGUAGES, load_translations  # noqa: F401  (re-exported)

LANG_COOKIE = "sroi_lang"


def language_of(connection: ASGIConnection) -> str:
    asked = connection.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = connection.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


@functools.lru_cache(maxsize=8)
def _babel_locale(name: str) -> Any:
    return Locale.parse(name)  # parsed once: Babel would re-parse the string on every call


def formatters(language: str) -> dict[str, Any]:
    """Jinja filters that format for one locale."""
    locale = _babel_locale(LANGUAGES[language])

    def euro(value: Any, cents: bool = True) -> str:
        amount = _decimal(value)
        if amount is None:
            return "–"
        if cents:
            return format_currency(amount, "EUR", locale=locale)
        return format_currency(amount, "EUR", locale=locale, format="¤\u00a0#,##0" if language == "nl" else "¤#,##0",
                               currency_digits=False)

    def day(value: Any, fmt: str = "medium") -> str:
        if value in (None, ""):
            return "–"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            value = value.date()
        return babel_format_date(value, format=fmt, locale=locale)

    def number(value: Any, digits: int | None = None) -> str:
        amount = _decimal(value)
        if amount is None:
            return "–"
        if digits is not None:
            return format_decimal(amount, format="#,##0." + "0" * digits if digits else "#,##0", locale=locale)
        return format_decimal(amount, locale=locale)

    def percent(value: Any) -> str:
        amount = _decimal(value)
        if amount is None:
            return "–"
        return format_decimal(amount, format="#,##0.0", locale=locale) + "%"

    return {"euro": euro, "day": day, "number": number, "percent": percent}


class ErrorMessage(str):
    """An error text as the service gave it: in English (the str itself), with
    its gettext msgid and values apart so that a page can show it in its own
    language (the `message` filter)."""

    template: str
    params: dict[str, Any]

    def __new__(cls, text: str, template: str | None = None, params: dict[str, Any] | None = None) -> "ErrorMessage":
        obj = super().__new__(cls, text)
        obj.template, obj.params = template or text, dict(params or {})
        return obj


def message_filter(translations: NullTranslations, language: str) -> Any:
    """A Jinja filter: an error message (an `ErrorMessage` or plain text) in the
    page's language, its dates and numbers written the page's way. A message
    without a translation is shown as it is."""
    fmt = formatters(language)

    def value(v: Any) -> str:
        if isinstance(v, date):
            return fmt["day"](v)
        if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
            return fmt["number"](v)
        return str(v)

    def message(text: Any) -> str:
        template = getattr(text, "template", None) or str(text)
        params = getattr(text, "params", None) or {}
        translated = translations.gettext(template)
        if not params:
            return translated
        try:
            return translated.format(**{k: value(v) for k, v in params.items()})
        except (KeyError, IndexError, ValueError):
            return str(text)  # a broken translation: the English text rather than nothing

    return message


def language_cookie_middleware(app: Any) -> Any:
    """`?lang=` switches the language; a cookie keeps the choice for later pages."""
    from litestar.connection import ASGIConnection as Connection
    from litestar.datastructures import Cookie, MutableScopeHeaders

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        connection = Connection(scope)
        asked = connection.query_params.get("lang")
        if asked not in LANGUAGES or connection.cookies.get(LANG_COOKIE) == asked:
            await app(scope, receive, send)
            return

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                cookie = Cookie(key=LANG_COOKIE, value=asked, max_age=365 * 86400, path="/",
                                samesite="lax", httponly=True)
                MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))
            await send(message)

        await app(scope, receive, send_with_cookie)

    return middleware
