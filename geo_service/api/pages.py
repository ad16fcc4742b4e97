"""The public web app's pages: report a problem (``/``), and the language switch.

The pages are server-rendered shells (Jinja2, ``geo_service/templates/``) whose scripts talk
to the same public API as any other client; every asset is served from ``/static``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api import deps
from geo_service.api.catalogue import CATEGORIES_SQL
from geo_service.config import Settings
from geo_service.errors import ApiError
from geo_service.i18n import LANG_COOKIE, LANGUAGES, Lang, messages_for
from geo_service.profile import Profile
from geo_service.queue import CLOSED_STATUSES, OPEN_STATUSES
from geo_service.templating import page_lang, templates

router = APIRouter(include_in_schema=False)

ATTRIBUTIONS_SQL = text(
    "SELECT DISTINCT attribution FROM boundary_sets WHERE active AND attribution <> '' "
    "ORDER BY attribution"
)
ONE_YEAR = 365 * 24 * 3600


async def attributions(conn: AsyncConnection) -> list[str]:
    """The active boundary sets' attributions, which their licences require us to show."""
    return [str(a) for a in (await conn.execute(ATTRIBUTIONS_SQL)).scalars()]


def map_config(
    settings: Settings, profile: Profile, lang: Lang, prefixes: tuple[str, ...]
) -> dict[str, Any]:
    """What a page's script needs: where the city is, the basemap, and its texts."""
    return {
        "lang": lang,
        "center": list(profile.city.center),
        "zoom": profile.city.default_zoom,
        "tiles": {
            "url": settings.tile_url,
            "attribution": settings.tile_attribution,
            "max_zoom": settings.tile_max_zoom,
        },
        "max_photos": settings.max_photos,
        # Photos are made smaller in the browser: quicker on a phone's connection.
        "photo_side": min(1600, settings.photo_max_side),
        "messages": messages_for(lang, ("map.", "status.", *prefixes)),
    }


@router.get("/", response_class=HTMLResponse)
async def report_page(
    request: Request,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> HTMLResponse:
    """The citizen's report page: pin, category, description, photos, send."""
    lang = page_lang(request)
    return templates.TemplateResponse(
        request,
        "report.html",
        {
            "city": profile.city,
            "attributions": await attributions(conn),
            "groups": json.loads((await conn.execute(CATEGORIES_SQL)).scalar_one()),
            "max_photos": settings.max_photos,
            "description_max": settings.description_max_chars,
            "config": map_config(settings, profile, lang, ("report.", "nearby.")),
        },
    )


@router.get("/map", response_class=HTMLResponse)
async def public_map(
    request: Request,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> HTMLResponse:
    """The public map of reports: clustered by the server, filtered by kind and status."""
    lang = page_lang(request)
    config = map_config(settings, profile, lang, ())
    config.update(
        open_statuses=list(OPEN_STATUSES),
        closed_statuses=list(CLOSED_STATUSES),
        statuses=[*OPEN_STATUSES, *CLOSED_STATUSES],
        report_page=None,
    )
    return templates.TemplateResponse(
        request,
        "map.html",
        {
            "city": profile.city,
            "attributions": await attributions(conn),
            "groups": json.loads((await conn.execute(CATEGORIES_SQL)).scalar_one()),
            "statuses": [*OPEN_STATUSES, *CLOSED_STATUSES],
            "config": config,
        },
    )


@router.get("/lang/{lang}")
async def switch_language(
    lang: str, next_path: str = Query("/", alias="next", max_length=2000)
) -> RedirectResponse:
    """Remember the chosen language in a cookie and go back to the page the switch was on."""
    if lang not in LANGUAGES:
        raise ApiError(404, f"lang: {lang!r} is not offered; choose one of {list(LANGUAGES)}")
    # Only a path on this site: never an open redirect to another host.
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        next_path = "/"
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response
