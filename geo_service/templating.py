"""One Jinja2 environment for every HTML page, public (templates/*.html) and staff
(templates/staff/*.html), so that they share the layout, the language choice and the
translations.

Render with ``templates.TemplateResponse(request, "name.html", {...})``: every template then
knows ``lang`` (the page's language), ``languages`` (every language offered, in its own
words), ``current_path`` (for the language switch to come back to the same page), and the
request's language's translations through Jinja2's i18n extension:

- ``{{ _("Send the report") }}``, ``{{ _("Photos (up to {n})", n=3) }}``,
  ``{{ ngettext("{n} star", "{n} stars", n) }}``, ``{{ pgettext("person", "Name") }}``;
- ``{% trans %}…{% endtrans %}`` for a longer text, with ``{{ name }}`` placeholders;
- ``{{ text(message) }}`` for a text decided in Python (``N_("...")``, an error, say) and
  ``{{ label("status", code) }}`` for a stored code (geo_service.labels);
- ``{{ scripts("js/common.js", "js/map.js") }}`` for the page's scripts and the texts they
  show (``GS.t`` in ``static/js/texts.js``).

Translations are escaped like any other value; placeholders are filled after translation and
escaped too (unless already markup, such as a macro's output).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.util import pathmatch
from fastapi import Request
from jinja2 import nodes
from jinja2.ext import InternationalizationExtension
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from geo_service.api.errors import request_lang
from geo_service.config import PACKAGE_DIR
from geo_service.i18n import (
    LANGUAGE_NAMES,
    LOCALE_DIR,
    format_number,
    language_name,
    render,
    translations,
)
from geo_service.labels import label

TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
ROOT_DIR = PACKAGE_DIR.parent  # where babel.cfg's paths start


# The language a page is shown in: the same choice as the API's answers (cookie, then
# Accept-Language, then the default), so a page's script gets its page's language.
page_lang = request_lang


# --- {% trans %} with our placeholders ------------------------------------------------------

_JINJA_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|[{}]")


class I18n(InternationalizationExtension):
    """Jinja2's i18n extension, whose ``{% trans %}`` blocks write placeholders as the rest of
    the project does: ``{% trans n=3 %}Photos (up to {{ n }}){% endtrans %}`` has the msgid
    ``Photos (up to {n})`` (the stock extension writes ``%(n)s``), so a text is the same
    msgid whether a template, Python or a script asks for it. babel.cfg names this class for
    the extraction; its priority puts its ``trans`` tag after the stock extension's, which
    Babel's extractor always loads too."""

    priority = 101

    def _make_node(
        self,
        singular: str,
        plural: str | None,
        context: str | None,
        variables: dict[str, nodes.Expr],
        plural_expr: nodes.Expr | None,
        vars_referenced: bool,
        num_called_num: bool,
    ) -> nodes.Output:
        formatted = bool(variables) or plural_expr is not None  # then str.format runs

        def braces(text: str) -> str:
            def one(m: re.Match[str]) -> str:
                if m[1]:
                    return "{" + m[1] + "}"
                if m[0] == "%%":
                    return "%"
                return m[0] * 2 if formatted else m[0]

            return _JINJA_PLACEHOLDER.sub(one, text)

        return super()._make_node(
            braces(singular),
            braces(plural) if plural is not None else None,
            context,
            variables,
            plural_expr,
            vars_referenced,
            num_called_num,
        )


def _fill(eval_ctx: nodes.EvalContext, text: str, params: dict[str, Any]) -> str:
    """Placeholders filled after translation; with autoescaping (every page) the text and
    the values are escaped here and the result is markup, so nothing is escaped twice."""
    if eval_ctx.autoescape:
        return escape(text).format(**params) if params else escape(text)
    return text.format(**params) if params else text


def template_gettext(lang: str) -> dict[str, Callable[..., str]]:
    """The callables Jinja2's i18n extension looks up in the context (newstyle: they fill the
    placeholders themselves), in ``lang``."""
    t = translations(lang)

    @jinja2.pass_eval_context
    def gettext(eval_ctx: nodes.EvalContext, msgid: str, **params: Any) -> str:
        return _fill(eval_ctx, t.gettext(msgid), params)

    @jinja2.pass_eval_context
    def ngettext(
        eval_ctx: nodes.EvalContext, singular: str, plural: str, n: int, **params: Any
    ) -> str:
        return _fill(eval_ctx, t.ngettext(singular, plural, n), {"n": n, "num": n, **params})

    @jinja2.pass_eval_context
    def pgettext(eval_ctx: nodes.EvalContext, context: str, msgid: str, **params: Any) -> str:
        return _fill(eval_ctx, str(t.pgettext(context, msgid)), params)

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "pgettext": pgettext}


# --- The pages' scripts and their texts ----------------------------------------------------


@cache
def _mapping() -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
    with (LOCALE_DIR / "babel.cfg").open() as fh:
        return parse_mapping_cfg(fh)


@cache
def script_msgids(name: str) -> tuple[str, ...]:
    """The msgids ``GS.t`` asks for in ``static/<name>``, found as babel.cfg has Babel find
    them for the catalogs (a file it does not map, such as a vendor's, asks for none)."""
    relative = (STATIC_DIR / name).relative_to(ROOT_DIR).as_posix()
    methods, options = _mapping()
    pattern, method = next(((p, m) for p, m in methods if pathmatch(p, relative)), ("", ""))
    if method != "javascript":
        return ()
    keywords = {**DEFAULT_KEYWORDS, **options[pattern].get("keywords", {})}
    found = extract_from_file(method, STATIC_DIR / name, keywords, options=options[pattern])
    return tuple(dict.fromkeys(msgid for _, msgid, _, _ in found if isinstance(msgid, str)))


def script_texts(lang: str, names: tuple[str, ...]) -> dict[str, str]:
    """Exactly the texts these scripts show, in ``lang``: msgid → translation."""
    t = translations(lang)
    return {msgid: t.gettext(msgid) for name in names for msgid in script_msgids(name)}


def scripts_html(lang: str, names: tuple[str, ...]) -> Markup:
    """The page's scripts after ``static/js/texts.js`` (``GS.t``), and their texts as JSON."""
    texts = htmlsafe_json_dumps(script_texts(lang, names))
    tags = [Markup('<script type="application/json" id="gs-texts">{}</script>').format(texts)]
    tags += [
        Markup('<script src="/static/{}"></script>').format(name)
        for name in ("js/texts.js", *names)
    ]
    return Markup("\n").join(tags)


# --- The context every page gets -----------------------------------------------------------


def _language_context(request: Request) -> dict[str, Any]:
    lang = page_lang(request)
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return {
        "lang": lang,
        "languages": LANGUAGE_NAMES,
        "language_name": lambda code: language_name(code, lang),
        **template_gettext(lang),
        "text": lambda message: render(message, lang),
        "label": lambda kind, code: label(kind, code, lang),
        "scripts": lambda *names: scripts_html(lang, names),
        "current_path": path,
    }


env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,  # a misspelt variable fails its test, not silently
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=[I18n],
)
# As babel.cfg says for the extraction: a {% trans %} block's whitespace is folded, and the
# callables above fill its placeholders.
env.policies["ext.i18n.trimmed"] = True
env.newstyle_gettext = True  # type: ignore[attr-defined]


def when(value: str | dt.datetime | None, timezone: str) -> str:
    """A timestamp as people in the city read it: local time, day/month/year."""
    if value is None:
        return ""
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return at.astimezone(ZoneInfo(timezone)).strftime("%H:%M %d/%m/%Y")


@jinja2.pass_context
def number(context: jinja2.runtime.Context, value: float, decimals: int = 0) -> str:
    """``{{ 12345 | number }}``: as the page's language writes numbers."""
    return format_number(value, context["lang"], decimals)


env.filters["when"] = when
env.filters["number"] = number
templates = Jinja2Templates(env=env, context_processors=[_language_context])
