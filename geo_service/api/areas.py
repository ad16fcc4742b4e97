"""GET /api/v1/areas: the areas of every boundary set at a point (MapIt's
``/point/4326/lon,lat`` with its generations), and one area with its geometry and the areas
of other sets it overlaps."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import areas
from geo_service.api import deps
from geo_service.api.errors import responses
from geo_service.reports import Latitude, Longitude

router = APIRouter(prefix="/api/v1/areas", tags=["areas"])


class AreaAt(BaseModel):
    set: str
    level: Literal["ward", "city"]
    valid_from: dt.date
    valid_to: dt.date | None = Field(description="The day the next set of this level starts")
    active: bool = Field(description="The set routes reports now")
    scheduled_at: dt.datetime | None = Field(description="When the set becomes active")
    code: str
    name: str
    full_name: str
    name_en: str | None
    area_km2: float


class AreasAt(BaseModel):
    lat: float
    lon: float
    areas: list[AreaAt]


@router.get("", response_model=AreasAt, responses=responses(422))
async def areas_at_point(
    lat: Annotated[Latitude, Query(description="WGS 84 latitude")],
    lon: Annotated[Longitude, Query(description="WGS 84 longitude")],
    level: Annotated[Literal["ward", "city"] | None, Query()] = None,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """Every area covering the point in every loaded boundary set (old, active and to
    come), with its level, its set and the days that set is valid. Empty when no set
    covers the point."""
    found = await areas.areas_at(conn, lat, lon, level)
    body = f'{{"lat": {lat!r}, "lon": {lon!r}, "areas": {found}}}'
    return Response(body, media_type="application/json")


Code = Annotated[str, Path(max_length=64)]
SetName = Annotated[str, Path(max_length=100)]


@router.get(
    "/{boundary_set}/{code}",
    responses={
        200: {"content": {"application/geo+json": {}}, "description": "A GeoJSON Feature"},
        **responses(404, 422),
    },
)
async def one_area(
    boundary_set: SetName,
    code: Code,
    simplify: Annotated[
        float, Query(ge=0, le=1000, description="simplification tolerance in metres (0 = full)")
    ] = 0,
    min_share: Annotated[
        float,
        Query(
            ge=0,
            le=1,
            description="leave out overlaps smaller than this share of both areas "
            "(slivers where two sets' outlines differ)",
        ),
    ] = 0.001,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """One area as a GeoJSON Feature: its geometry, its set's validity and attribution, the
    properties of its source file, and `overlaps`: each area of another set sharing ground
    with it, with the shared km² and its share of this area and of the other one."""
    body = await areas.area_json(conn, boundary_set, code, simplify_m=simplify, min_share=min_share)
    return Response(body, media_type="application/geo+json")
