"""Languages: gettext catalogs (one ``.po`` file per language under ``geo_service/locale``)
read by Babel when the process starts, and the choice of language for each request.

Message ids are the English texts, written where they are used: ``_("Send the report")`` in
templates (Jinja2's i18n extension), ``gettext(lang, "...")`` in Python, ``GS.t("...")`` in the
pages' scripts, and ``N_("...")`` for a text that is translated later, when the language of
whoever reads it is known (an error raised deep in domain code, rendered at the HTTP edge).
Placeholders are ``{name}``, filled after translation. A third language is one new catalog:
``pybabel init -D messages -d geo_service/locale -l fr -i <template>`` (see docs/i18n.md).

The language comes from the ``gs_lang`` cookie (set by the switch on each page, ``/lang/vi`` or
``/lang/en``), else from the browser's ``Accept-Language``, else the default (Vietnamese).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LANG = "vi"
LANG_COOKIE = "gs_lang"


def _catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages() -> tuple[str, ...]:
    """Every language with a catalog, the default first."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple(sorted(found, key=lambda code: code != DEFAULT_LANG))


LANGUAGES: tuple[str, ...] = available_languages()
LANGUAGE_NAMES: dict[str, str] = {  # each language in its own words, for the switch
    code: (name := str(Locale.parse(code).get_display_name(code)))[:1].upper() + name[1:]
    for code in LANGUAGES
}


def language_name(code: str, lang: str) -> str:
    """The language ``code`` named in ``lang`` (CLDR's names, so a new catalog needs none):
    ``language_name("en", "vi")`` is "Tiếng Anh"."""
    return str(Locale.parse(lang).languages.get(code, LANGUAGE_NAMES.get(code, code)))


def read_catalog(lang: str) -> Catalog:
    with _catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


@cache
def _compiled(lang: str) -> Translations:
    buf = io.BytesIO()
    write_mo(buf, read_catalog(lang), use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def translations(lang: str) -> Translations:
    """The language's catalog (the default's for a language not offered), compiled in memory
    when first asked: no ``.mo`` files to build or to get out of date. Fuzzy entries are not
    used: a translator has not confirmed them."""
    return _compiled(lang if lang in LANGUAGES else DEFAULT_LANG)


def gettext(lang: str, msgid: str, /, **params: object) -> str:
    """``msgid`` in ``lang`` (the English text if the catalog lacks it), placeholders filled."""
    text = translations(lang).gettext(msgid)
    return text.format(**params) if params else text


def ngettext(lang: str, singular: str, plural: str, n: int, /, **params: object) -> str:
    """The singular or plural form for ``n`` (the catalog's plural rule; Vietnamese has one
    form), placeholders filled; ``n`` is a placeholder too."""
    text = translations(lang).ngettext(singular, plural, n)
    return text.format(n=n, **params)


@dataclass(frozen=True)
class Message:
    """A text to translate once its reader's language is known: an error raised in domain
    code, say, shown at the HTTP edge in the language of the request or the page."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        params = {k: _render(v, lang) for k, v in self.params.items()}
        return gettext(lang, self.msgid, **params)

    def __str__(self) -> str:  # logs and the CLI read English
        return self.render("en")


def _render(value: object, lang: str) -> object:
    return value.render(lang) if isinstance(value, Message) else value


def N_(msgid: str, /, **params: object) -> Message:
    """Mark ``msgid`` for the catalogs and translate it later (see Message)."""
    return Message(msgid, params)


def render(text: str | Message, lang: str) -> str:
    return text.render(lang) if isinstance(text, Message) else text


def format_number(value: float, lang: str, decimals: int = 0) -> str:
    """A number as ``lang`` writes it (CLDR's rules, so a new catalog brings its own): 12.345
    and 1,5 in Vietnamese, 12,345 and 1.5 in English."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, pattern, locale=lang))


def join(parts: Iterable[str | Message], lang: str, sep: str = "; ") -> str:
    return sep.join(render(p, lang) for p in parts)


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """The page language: the cookie the switch set, else the browser's best supported
    choice (``Accept-Language`` q-values; ``vi-VN`` counts as ``vi``), else Vietnamese."""
    if cookie in LANGUAGES:
        return str(cookie)
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        # Highest q wins; on a tie the earlier entry wins (negative position sorts later).
        candidate = (q, -position, primary)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else DEFAULT_LANG
