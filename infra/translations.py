"""The product's texts in Dutch and English, for the pages and for what is
sent (the notification digests): one catalogue, `web/i18n/nl.po` (msgid: the
English text), read with Babel, no compile step. The pages
(web/pages/i18n.py) and the composition root (infra/bootstrap.py, for the
mail) both load it from here."""
from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

I18N_DIR = Path(__file__).resolve().parent.parent / "web" / "i18n"
LANGUAGES = {"nl": "nl_NL", "en": "en_GB"}
DEFAULT_LANGUAGE = "nl"


def load_translations(language: str) -> NullTranslations:
    """The catalogue of a language, read anew (English, the msgids: none)."""
    po = I18N_DIR / f"{language}.po"
    if language not in LANGUAGES or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=LANGUAGES[language])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@functools.lru_cache(maxsize=len(LANGUAGES) + 1)
def translations(language: str) -> NullTranslations:
    """The catalogue of a language, read once per process; an unknown
    language is Dutch (the product's)."""
    return load_translations(language if language in LANGUAGES else DEFAULT_LANGUAGE)
