"""GET /api/v1/locate: which ward a point is in and who would handle each category there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from geo_service.api import deps
from geo_service.config import Settings
from geo_service.geolocate import Refusal, locate_json
from geo_service.profile import Profile
from geo_service.reports import Latitude, Longitude, Priority

router = APIRouter(prefix="/api/v1", tags=["locate"])


class WardOut(BaseModel):
    code: str
    name: str
    full_name: str
    name_en: str | None
    boundary_set: str
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
    routing: list[RouteOut]


@router.get(
    "/locate",
    response_model=LocateOut,
    responses={422: {"description": "Bad coordinates, or the point is not in the city"}},
)
async def locate(
    lat: Annotated[Latitude, Query(description="WGS 84 latitude")],
    lon: Annotated[Longitude, Query(description="WGS 84 longitude")],
    priority: Priority = "normal",
    engine: AsyncEngine = Depends(deps.autocommit_engine),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> Response:
    """The ward covering the point, the city, and the unit each category is routed to there.
    A point on the edge between two wards always gets the same one (the lowest code)."""
    async with engine.connect() as conn:
        result = await locate_json(
            conn, lat, lon, snap_m=settings.snap_distance_m, priority=priority
        )
    if isinstance(result, Refusal):
        raise result.error(lat, lon, profile.city.name, settings.snap_distance_m)
    return Response(result, media_type="application/json")
