"""Point -> ward -> units. The hot path of the service: one SQL statement that asks the
database's ``gs_locate`` (indexed ST_Covers over subdivided wards) and ``gs_route`` for every
category, and returns the finished JSON, so Python only passes bytes through."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import Invalid
from geo_service.i18n import N_

LOCATE_SQL = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
         loc AS (SELECT l.* FROM pt, gs_locate(pt.g, :snap) l)
    SELECT loc.in_city,
           CASE WHEN loc.code IS NOT NULL THEN json_build_object(
             'lat', CAST(:lat AS float8), 'lon', CAST(:lon AS float8),
             'ward', json_build_object(
                'code', a.code, 'name', a.name, 'full_name', a.full_name,
                'name_en', a.name_en, 'boundary_set', b.name,
                'snapped_m', round(CAST(loc.snapped_m AS numeric), 1)),
             'city', (SELECT json_build_object('code', c.code, 'name', c.name,
                                               'full_name', c.full_name, 'boundary_set', cb.name)
                        FROM areas c JOIN boundary_sets cb ON cb.id = c.set_id
                       WHERE cb.level = 'city' AND cb.active
                       ORDER BY c.code LIMIT 1),
             'routing', (SELECT json_agg(json_build_object(
                                  'category', cat.code, 'group', cat.group_code,
                                  'unit', json_build_object('code', u.code, 'name', u.name,
                                                            'name_en', u.name_en, 'kind', u.kind))
                                  ORDER BY cat.sort_order, cat.code)
                           FROM pt, gs_routes(pt.g, loc.code, :priority) r
                           JOIN categories cat ON cat.id = r.category_id
                           JOIN units u ON u.id = r.unit_id
                          WHERE cat.active)
           )::text END AS body
      FROM loc
      LEFT JOIN areas a ON a.id = loc.area_id
      LEFT JOIN boundary_sets b ON b.id = loc.set_id
    """
)


@dataclass(frozen=True)
class Refusal:
    """Why a point has no ward: outside the city limit, or in a gap wider than the snap."""

    in_city: bool

    def error(self, lat: float, lon: float, city: str, snap_m: float) -> Invalid:
        where = f"({lat:.6f}, {lon:.6f})"
        if not self.in_city:
            message = N_(
                "the point {where} is outside the city limit of {city}", where=where, city=city
            )
            return Invalid(message, "lat")
        message = N_(
            "the point {where} is not in any ward of {city} nor within {snap:g} m of one",
            where=where,
            city=city,
            snap=snap_m,
        )
        return Invalid(message, "lat")


async def locate_json(
    conn: AsyncConnection, lat: float, lon: float, *, snap_m: float, priority: str = "normal"
) -> str | Refusal:
    row = (
        await conn.execute(
            LOCATE_SQL, {"lat": lat, "lon": lon, "snap": snap_m, "priority": priority}
        )
    ).one()
    if row.body is None:
        return Refusal(in_city=bool(row.in_city))
    return str(row.body)
