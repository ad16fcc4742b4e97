"""What the city offers: categories, units, boundaries, and the service's metadata with the
boundary data's attribution (which its licence requires us to show)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import __version__
from geo_service.api import deps
from geo_service.errors import NotFound, field_message
from geo_service.i18n import N_
from geo_service.profile import Profile

router = APIRouter(prefix="/api/v1", tags=["catalogue"])

CATEGORIES_SQL = text(
    """
    SELECT coalesce(json_agg(json_build_object(
             'code', g.code, 'name', g.name, 'name_en', g.name_en,
             'categories', (SELECT json_agg(json_build_object(
                                'code', c.code, 'name', c.name, 'name_en', c.name_en,
                                'response_hours', c.response_hours, 'keywords', c.keywords)
                                ORDER BY c.sort_order, c.code)
                              FROM categories c WHERE c.group_code = g.code AND c.active))
             ORDER BY g.code), '[]'::json)::text
      FROM category_groups g
     WHERE EXISTS (SELECT 1 FROM categories c WHERE c.group_code = g.code AND c.active)
    """
)

UNITS_SQL = text(
    """
    SELECT coalesce(json_agg(json_build_object(
             'code', u.code, 'kind', u.kind, 'name', u.name, 'name_en', u.name_en,
             'ward_code', u.ward_code)
             ORDER BY u.kind <> 'ward_committee', u.ward_code, u.code), '[]'::json)::text
      FROM units u
     WHERE u.active AND (CAST(:kind AS text) IS NULL OR u.kind = :kind)
    """
)

WARDS_SQL = text(
    """
    SELECT json_build_object(
             'type', 'FeatureCollection',
             'boundary_set', b.name, 'valid_from', b.valid_from,
             'attribution', b.attribution, 'licence', b.licence,
             'features', coalesce(json_agg(json_build_object(
                'type', 'Feature', 'id', a.code,
                'geometry', CAST(ST_AsGeoJSON(
                   CASE WHEN :tolerance > 0
                        THEN ST_SimplifyPreserveTopology(a.geom, :tolerance) ELSE a.geom END,
                   6) AS json),
                'properties', json_build_object(
                   'code', a.code, 'name', a.name, 'full_name', a.full_name,
                   'name_en', a.name_en, 'area_km2', round(CAST(a.area_km2 AS numeric), 3)))
                ORDER BY a.code) FILTER (WHERE a.id IS NOT NULL), '[]'::json))::text
      FROM boundary_sets b
      LEFT JOIN areas a ON a.set_id = b.id
     WHERE b.level = 'ward' AND (b.name = :set OR (CAST(:set AS text) IS NULL AND b.active))
     GROUP BY b.id
    """
)

SETS_SQL = text(
    """
    SELECT coalesce(json_agg(json_build_object(
             'name', name, 'level', level, 'valid_from', valid_from, 'active', active,
             'features', feature_count, 'source', source, 'attribution', attribution,
             'licence', licence) ORDER BY level, valid_from DESC), '[]'::json)::text
      FROM boundary_sets
    """
)


@router.get("/categories")
async def categories(conn: AsyncConnection = Depends(deps.read_connection)) -> Response:
    """Active categories by group, with their response deadline in hours."""
    return Response(
        (await conn.execute(CATEGORIES_SQL)).scalar_one(), media_type="application/json"
    )


@router.get("/units")
async def units(
    kind: Annotated[
        str | None, Query(pattern="^(ward_committee|department|company|police)$")
    ] = None,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """Units that handle reports: each ward's People's Committee and the city's departments."""
    body = (await conn.execute(UNITS_SQL, {"kind": kind})).scalar_one()
    return Response(body, media_type="application/json")


@router.get("/boundaries/wards", responses={200: {"content": {"application/geo+json": {}}}})
async def wards(
    simplify: Annotated[
        float, Query(ge=0, le=1000, description="simplification tolerance in metres (0 = full)")
    ] = 0,
    boundary_set: Annotated[str | None, Query(alias="set", max_length=100)] = None,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """Ward polygons of the active set (or a named one) as GeoJSON."""
    body = (
        await conn.execute(WARDS_SQL, {"tolerance": simplify / 111_320, "set": boundary_set})
    ).scalar()
    if body is None:
        message = N_("no ward boundary set {name!r}", name=boundary_set)
        raise NotFound(field_message("set", message), "set")
    return Response(body, media_type="application/geo+json")


@router.get("/boundaries")
async def boundary_sets(conn: AsyncConnection = Depends(deps.read_connection)) -> Response:
    """Every boundary set loaded, active or not, with source, attribution and licence."""
    return Response((await conn.execute(SETS_SQL)).scalar_one(), media_type="application/json")


@router.get("/meta")
async def meta(
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> dict[str, object]:
    """The service, its city, and the attribution of the boundaries in use."""
    rows = (
        await conn.execute(
            text("SELECT level, name, attribution, licence FROM boundary_sets WHERE active")
        )
    ).mappings()
    return {
        "service": "geo_service",
        "version": __version__,
        "city": profile.city.model_dump(),
        "boundaries": [dict(r) for r in rows],
    }
