"""One Jinja2 environment for every HTML page, public (templates/*.html) and staff
(templates/staff/*.html), so that they share the layout, the language choice and the
translations.

Render with ``templates.TemplateResponse(request, "name.html", {...})``: every template then
knows ``lang`` ("vi" or "en"), ``other_lang``, ``_`` (the translator: ``_("report.send")``),
``languages`` and ``current_path`` (for the language switch to come back to the same page).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from starlette.templating import Jinja2Templates

from geo_service.config import PACKAGE_DIR
from geo_service.i18n import (
    LANG_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    MESSAGES,
    Lang,
    negotiate,
    translator,
)

TEMPLATE_DIR = PACKAGE_DIR / "templates"


def page_lang(request: Request) -> Lang:
    """The language this request's page is shown in (cookie, then Accept-Language)."""
    return negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))


def _language_context(request: Request) -> dict[str, Any]:
    lang = page_lang(request)
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return {
        "lang": lang,
        "other_lang": next(code for code in LANGUAGES if code != lang),
        "languages": LANGUAGE_NAMES,
        "_": translator(lang),
        # A text for a code that may have none (a reason a later version adds): the code.
        "t_or": lambda key, fallback: MESSAGES[key][lang] if key in MESSAGES else fallback,
        "current_path": path,
    }


env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,  # a misspelt variable fails its test, not silently
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(value: str | dt.datetime | None, timezone: str) -> str:
    """A timestamp as people in the city read it: local time, day/month/year."""
    if value is None:
        return ""
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return at.astimezone(ZoneInfo(timezone)).strftime("%H:%M %d/%m/%Y")


env.filters["when"] = when
templates = Jinja2Templates(env=env, context_processors=[_language_context])
