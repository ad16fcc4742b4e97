"""GET /api/v1/locate: which ward a point is in and who would handle each category there;
or, for a date or a named set, which ward it was (or will be) in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from geo_service.api import deps
from geo_service.api.errors import responses
from geo_service.config import Settings
from geo_service.geolocate import Refusal, choose_sets, locate_json
from geo_service.profile import Profile
from geo_service.reports import Latitude, Longitude, Priority

router = APIRouter(prefix="/api/v1", tags=["locate"])


class WardOut(BaseModel):
    code: str
    name: str
    full_name: str
    name_en: str | None
    boundary_set: str
    valid_from: dt.date
    snapped_m: float


class UnitOut(BaseModel):
    code: str
    name: str
    name_en: str
    kind: str


class RouteOut(BaseModel):
    category: str
    group: str
    unit: UnitOut


class CityOut(BaseModel):
    code: str
    name: str
    full_name: str
    boundary_set: str


class LocateOut(BaseModel):
    lat: float
    lon: float
    ward: WardOut
    city: CityOut | None
    routing: list[RouteOut] | None = Field(
        description="Who handles each category there: only for the active set (the one "
        "that routes reports); null for a history question."
    )


@router.get("/locate", response_model=LocateOut, responses=responses(404, 422))
async def locate(
    lat: Annotated[Latitude, Query(description="WGS 84 latitude")],
    lon: Annotated[Longitude, Query(description="WGS 84 longitude")],
    priority: Priority = "normal",
    at: Annotated[
        dt.date | None,
        Query(description="Answer from the ward set valid on this day (YYYY-MM-DD)"),
    ] = None,
    boundary_set: Annotated[
        str | None, Query(alias="set", max_length=100, description="Answer from this ward set")
    ] = None,
    engine: AsyncEngine = Depends(deps.autocommit_engine),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> Response:
    """The ward covering the point, the city, and the unit each category is routed to there.
    A point on the edge between two wards always gets the same one (the lowest code).
    With `at` or `set`, the ward of that day's (or that named) boundary set and its city
    limit: a question about the past (or a reform to come), so no routing."""
    async with engine.connect() as conn:
        choice = await choose_sets(conn, at, boundary_set)
        result = await locate_json(
            conn, lat, lon, snap_m=settings.snap_distance_m, priority=priority, choice=choice
        )
    if isinstance(result, Refusal):
        raise result.error(lat, lon, profile.city.name, settings.snap_distance_m)
    return Response(result, media_type="application/json")
