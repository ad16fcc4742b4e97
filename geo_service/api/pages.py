"""The public web app's pages: report a problem (``/``), follow it (``/r/{token}``), the public
map (``/map``) and a report's public page (``/reports/{id}``), and the language switch.

The pages are server-rendered shells (Jinja2, ``geo_service/templates/``) whose scripts talk
to the same public API as any other client; every asset is served from ``/static``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from boundaries import ATTRIBUTIONS_SQL
from geo_service import citizens, stats
from geo_service.api import deps
from geo_service.api.catalogue import CATEGORIES_SQL
from geo_service.api.notify_pages import ward_choices
from geo_service.config import Settings
from geo_service.errors import NotFound, field_message
from geo_service.i18n import LANG_COOKIE, LANGUAGES, N_, Message
from geo_service.labels import labels
from geo_service.profile import Profile
from geo_service.report_query import CLOSED_STATUSES, OPEN_STATUSES, Period, ReportFilter
from geo_service.templating import page_lang, templates
from geo_service.timeline import public_report

router = APIRouter(include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")  # as /api/v1/track/{token} accepts


async def attributions(conn: AsyncConnection) -> list[str]:
    """The active boundary sets' attributions, which their licences require us to show."""
    return [str(a) for a in (await conn.execute(ATTRIBUTIONS_SQL)).scalars()]


def map_config(settings: Settings, profile: Profile, lang: str) -> dict[str, Any]:
    """What a page's script needs: where the city is, the basemap, the statuses' names (its
    other texts come with the scripts, see templating.scripts_html)."""
    return {
        "lang": lang,
        "center": list(profile.city.center),
        "zoom": profile.city.default_zoom,
        "timezone": profile.city.timezone,
        "tiles": {
            "url": settings.tile_url,
            "attribution": settings.tile_attribution,
            "max_zoom": settings.tile_max_zoom,
        },
        "max_photos": settings.max_photos,
        # Photos are made smaller in the browser: quicker on a phone's connection.
        "photo_side": min(1600, settings.photo_max_side),
        "status_names": labels("status", lang),
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
            "config": map_config(settings, profile, lang),
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
    config = map_config(settings, profile, page_lang(request))
    config.update(
        open_statuses=list(OPEN_STATUSES),
        closed_statuses=list(CLOSED_STATUSES),
        statuses=[*OPEN_STATUSES, *CLOSED_STATUSES],
        report_page="/reports/{id}",
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
            "alert_wards": await ward_choices(conn),  # the alert form (api/notify_pages)
        },
    )


# The periods the figures page offers, in days back from today (city time); None: all.
PERIODS: dict[str, tuple[int | None, Message]] = {
    "30": (30, N_("Last 30 days")),
    "90": (90, N_("Last 90 days")),
    "365": (365, N_("Last 12 months")),
    "all": (None, N_("Since the start")),
}


@router.get("/figures", response_class=HTMLResponse)
async def figures_page(
    request: Request,
    period: Literal["30", "90", "365", "all"] = "365",
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> HTMLResponse:
    """The city's published figures (those of GET /api/v1/stats), for everyone: how many
    reports came in, how many were resolved and on time, what is overdue, how satisfied
    people were; by ward, unit and category."""
    tz = ZoneInfo(profile.city.timezone)
    today = dt.datetime.now(tz).date()
    days = PERIODS[period][0]
    first_day = today - dt.timedelta(days=days - 1) if days else None
    start = dt.datetime.combine(first_day, dt.time(0), tzinfo=tz) if first_day else None
    return templates.TemplateResponse(
        request,
        "figures.html",
        {
            "city": profile.city,
            "attributions": await attributions(conn),
            "figures": await stats.figures(conn, ReportFilter(period=Period(start=start))),
            "period": period,
            "periods": {p: name for p, (_, name) in PERIODS.items()},
            "first_day": first_day,
            "today": today,
            "api_url": "/api/v1/stats" + (f"?from={first_day.isoformat()}" if first_day else ""),
        },
    )


@router.get("/r/{token}", response_class=HTMLResponse)
async def tracking_page(
    request: Request,
    token: Annotated[str, Path(max_length=64)],
    sent: bool = False,
    followed: bool = False,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> HTMLResponse:
    """The secret tracking page: the report's timeline (the data of /api/v1/track/{token}),
    the rating form once it is resolved, and reopening while that is allowed."""
    report: dict[str, Any] | None = None
    if TOKEN.fullmatch(token):
        try:
            report = await citizens.track(conn, token, reopen_days=settings.reopen_days)
        except NotFound:
            report = None
    return templates.TemplateResponse(
        request,
        "track.html",
        {
            "city": profile.city,
            "report": report,
            "token": token if report else None,
            "tracking_url": str(request.base_url) + f"r/{token}",
            "sent": sent,
            "followed": followed,
            "config": {"lang": page_lang(request)},
            "groups": json.loads((await conn.execute(CATEGORIES_SQL)).scalar_one()),
        },
        status_code=200 if report else 404,
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
async def public_report_page(
    request: Request,
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> HTMLResponse:
    """A report's public page, opened from the public map: its state and timeline."""
    report: dict[str, Any] | None
    try:
        report = await public_report(conn, report_id)
    except NotFound:
        report = None
    return templates.TemplateResponse(
        request,
        "track.html",
        {"city": profile.city, "report": report, "token": None, "sent": False, "followed": False},
        status_code=200 if report else 404,
    )


@router.get("/lang/{lang}")
async def switch_language(
    lang: str, next_path: str = Query("/", alias="next", max_length=2000)
) -> RedirectResponse:
    """Remember the chosen language in a cookie and go back to the page the switch was on."""
    if lang not in LANGUAGES:
        message = N_(
            "{lang!r} is not offered; choose one of {languages}",
            lang=lang,
            languages=", ".join(LANGUAGES),
        )
        raise NotFound(field_message("lang", message), "lang")
    # Only a path on this site: never an open redirect to another host.
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        next_path = "/"
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response
