"""Atom feeds of public reports: the city's, a ward's, around a point; ``group`` narrows
any of them to one category group. The pages link them with <link rel="alternate">."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.config import Settings
from geo_service.errors import Invalid, NotFound
from geo_service.i18n import N_, gettext
from geo_service.notify import feeds
from geo_service.notify.manage import ward_name
from geo_service.profile import Profile
from geo_service.reports import Latitude, Longitude

router = APIRouter(prefix="/feeds", tags=["feeds"])
ATOM = "application/atom+xml"
Group = Annotated[str | None, Query(max_length=64, description="a category group's code")]
RESPONSES = {200: {"content": {ATOM: {}}}, **api_errors.responses(404, 422)}


def _answer(
    request: Request, items: list[dict[str, Any]], title: str, settings: Settings, lang: str
) -> Response:
    body = feeds.atom(
        items, title=title, self_url=str(request.url), site_url=settings.public_url, lang=lang
    )
    return Response(body, media_type=ATOM, headers={"Cache-Control": "public, max-age=60"})


@router.get("/reports.atom", response_class=Response, responses=RESPONSES)
async def city_feed(
    request: Request,
    group: Group = None,
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    lang: str = Depends(deps.lang),
) -> Response:
    """New and updated reports of the whole city."""
    items = await feeds.reports(conn, group=group)
    city = profile.city.name if lang == "vi" else profile.city.name_en
    title = gettext(lang, "Reports in {place}", place=city)
    return _answer(request, items, title, settings, lang)


@router.get("/wards/{code}.atom", response_class=Response, responses=RESPONSES)
async def ward_feed(
    request: Request,
    code: Annotated[str, Path(max_length=64)],
    group: Group = None,
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
    lang: str = Depends(deps.lang),
) -> Response:
    """New and updated reports of one ward (of the active boundary set)."""
    try:
        name = await ward_name(conn, code, "code")
    except Invalid:
        raise NotFound(N_("no ward {code!r}", code=code), "code") from None
    items = await feeds.reports(conn, group=group, ward=code)
    title = gettext(lang, "Reports in {place}", place=name)
    return _answer(request, items, title, settings, lang)


@router.get("/near.atom", response_class=Response, responses=RESPONSES)
async def near_feed(
    request: Request,
    lat: Annotated[Latitude, Query()],
    lon: Annotated[Longitude, Query()],
    radius: Annotated[float, Query(ge=50, le=5000, description="metres")] = 500,
    group: Group = None,
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
    lang: str = Depends(deps.lang),
) -> Response:
    """New and updated reports within ``radius`` metres of a point."""
    items = await feeds.reports(conn, group=group, near=(lat, lon, radius))
    title = gettext(lang, "Reports within {m} m of {lat}, {lon}", m=round(radius), lat=lat, lon=lon)
    return _answer(request, items, title, settings, lang)
