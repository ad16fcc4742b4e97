"""Areas across boundary sets, as MapIt answers them: every area covering a point in every
loaded set (its level, its set and when that set was valid), and one area with its geometry
and how it overlaps the areas of the other sets: how a pre-2025 district maps onto the wards
that replaced it, with shares of area.

Both are one query over the subdivided pieces (``area_pieces``): the point lookup is the
same GiST probe as ``gs_locate``, and overlaps intersect small pieces rather than whole
wards (a district against the 2025 wards: tens of milliseconds).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from boundaries.sets import VALID_TO_SQL
from geo_service.errors import NotFound
from geo_service.i18n import N_

SET_FIELDS = f"""
    'set', b.name, 'level', b.level, 'valid_from', b.valid_from,
    'valid_to', {VALID_TO_SQL.format(b="b")}, 'active', b.active,
    'scheduled_at', (SELECT s.activate_at FROM boundary_activations s
                      WHERE s.set_id = b.id AND s.state = 'scheduled')
"""
AREA_FIELDS = """
    'code', a.code, 'name', a.name, 'full_name', a.full_name, 'name_en', a.name_en,
    'area_km2', round(CAST(a.area_km2 AS numeric), 3)
"""

AT_POINT_SQL = text(
    f"""
    SELECT coalesce(json_agg(json_build_object({SET_FIELDS}, {AREA_FIELDS})
                             ORDER BY b.level, b.valid_from DESC, b.name), '[]'::json)::text
      FROM (SELECT DISTINCT p.area_id FROM area_pieces p
             WHERE ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))) hit
      JOIN areas a ON a.id = hit.area_id
      JOIN boundary_sets b ON b.id = a.set_id
     WHERE CAST(:level AS text) IS NULL OR b.level = :level
    """
)

# The area's pieces against every other set's pieces: square metres shared with each area.
OVERLAPS_SQL = """
    SELECT q.area_id,
           sum(ST_Area(ST_CollectionExtract(ST_Intersection(p.geom, q.geom), 3)::geography))
             AS m2
      FROM area_pieces p
      JOIN area_pieces q ON q.geom && p.geom AND q.set_id <> p.set_id
     WHERE p.area_id = a.id AND ST_Intersects(p.geom, q.geom)
     GROUP BY q.area_id
"""

AREA_SQL = text(
    f"""
    SELECT json_build_object(
      'type', 'Feature', 'id', b.name || '/' || a.code,
      'geometry', CAST(ST_AsGeoJSON(
          CASE WHEN :tolerance > 0 THEN ST_SimplifyPreserveTopology(a.geom, :tolerance)
               ELSE a.geom END, 6) AS json),
      'properties', json_build_object(
          {SET_FIELDS}, {AREA_FIELDS},
          'attribution', b.attribution, 'licence', b.licence, 'source', b.source,
          'properties', a.properties,
          'overlaps', coalesce((
            SELECT json_agg(json_build_object(
                     'set', ob.name, 'level', ob.level, 'valid_from', ob.valid_from,
                     'code', oa.code, 'name', oa.name, 'full_name', oa.full_name,
                     'overlap_km2', round(CAST(o.m2 / 1e6 AS numeric), 4),
                     'share_of_this', round(CAST(o.m2 / (a.area_km2 * 1e6) AS numeric), 4),
                     'share_of_other', round(CAST(o.m2 / (oa.area_km2 * 1e6) AS numeric), 4))
                     ORDER BY ob.level, ob.valid_from DESC, ob.name, o.m2 DESC)
              FROM ({OVERLAPS_SQL}) o
              JOIN areas oa ON oa.id = o.area_id
              JOIN boundary_sets ob ON ob.id = oa.set_id
             WHERE o.m2 >= :min_share * least(a.area_km2, oa.area_km2) * 1e6),
            '[]'::json)))::text
      FROM areas a JOIN boundary_sets b ON b.id = a.set_id
     WHERE b.name = :set AND a.code = :code
    """
)


async def areas_at(conn: AsyncConnection, lat: float, lon: float, level: str | None) -> str:
    """Every area covering the point, in every loaded set, as a JSON list."""
    body = await conn.execute(AT_POINT_SQL, {"lat": lat, "lon": lon, "level": level})
    return str(body.scalar_one())


async def area_json(
    conn: AsyncConnection, set_name: str, code: str, *, simplify_m: float, min_share: float
) -> str:
    """One area as a GeoJSON Feature with the areas of other sets it overlaps."""
    body = (
        await conn.execute(
            AREA_SQL,
            {
                "set": set_name,
                "code": code,
                "tolerance": simplify_m / 111_320,
                "min_share": min_share,
            },
        )
    ).scalar()
    if body is None:
        known = (
            await conn.execute(text("SELECT 1 FROM boundary_sets WHERE name = :s"), {"s": set_name})
        ).first()
        if known is None:
            raise NotFound(N_("no boundary set named {name}", name=set_name), "set")
        raise NotFound(N_("no area {code} in set {name}", code=code, name=set_name), "code")
    return str(body)
