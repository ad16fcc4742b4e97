"""Reports on the public map, clustered in PostGIS so that a browser gets at most a few
hundred markers for any view, whether the database holds a hundred reports or a million.

The view is cut into a grid of square cells about ``CELL_PX`` screen pixels wide at the
requested zoom (Web Mercator tiles are 256 px; a cell is ``360° / 2^zoom / 256 * CELL_PX`` of
longitude). Reports are grouped by cell in one query over the GiST index on ``geom``: a cell
holding one report comes back as that report (id, status, category), a cell holding more as a
cluster at the reports' mean position with its count by status and its extent, so that a
click can zoom to it. The number of cells, hence the payload, is bounded by the view's size
in pixels, not by the number of reports. A duplicate follows its master: it is not shown.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import ApiError
from geo_service.queue import COUNTED_SQL
from geo_service.reports import Status

CELL_PX = 60
TILE_PX = 256
MAX_ZOOM = 22


def cell_degrees(zoom: int) -> float:
    """The grid cell's side in degrees at a zoom level (about CELL_PX pixels on screen)."""
    return 360.0 / (TILE_PX * 2**zoom) * CELL_PX


STATUSES: tuple[str, ...] = get_args(Status)

# Counting each status with FILTER keeps it one hash aggregate over the view's reports
# (grouping by cell and status, then by cell, sorted 100,000 rows and spilled to disk).
STATUS_COUNTS = ",\n".join(f"count(*) FILTER (WHERE r.status = '{s}') AS n_{s}" for s in STATUSES)
STATUS_JSON = ", ".join(f"'{s}', nullif(n_{s}, 0)" for s in STATUSES)

CLUSTERS_SQL = """
    WITH cells AS MATERIALIZED (
      SELECT count(*) AS n, avg(ST_X(r.geom)) AS x, avg(ST_Y(r.geom)) AS y,
             min(ST_X(r.geom)) AS x1, min(ST_Y(r.geom)) AS y1,
             max(ST_X(r.geom)) AS x2, max(ST_Y(r.geom)) AS y2, min(r.id) AS id,
             {status_counts}
        FROM reports r {join}
       WHERE r.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326) AND {counted} {where}
       GROUP BY floor(ST_X(r.geom) / :cell), floor(ST_Y(r.geom) / :cell))
    SELECT json_build_object(
             'total', coalesce((SELECT sum(n) FROM cells), 0),
             'clusters', coalesce((
                SELECT json_agg(json_build_object(
                         'lat', round(CAST(y AS numeric), 6), 'lon', round(CAST(x AS numeric), 6),
                         'count', n, 'statuses', json_strip_nulls(json_build_object({status_json})),
                         'bbox', json_build_array(round(CAST(x1 AS numeric), 6),
                                                  round(CAST(y1 AS numeric), 6),
                                                  round(CAST(x2 AS numeric), 6),
                                                  round(CAST(y2 AS numeric), 6)))
                         ORDER BY n DESC)
                  FROM cells WHERE n > 1), '[]'::json),
             'reports', coalesce((
                SELECT json_agg(json_build_object(
                         'id', r.id, 'lat', round(CAST(ST_Y(r.geom) AS numeric), 6),
                         'lon', round(CAST(ST_X(r.geom) AS numeric), 6),
                         'status', r.status, 'category', c.code, 'group', c.group_code)
                         ORDER BY r.id)
                  FROM cells
                  JOIN reports r ON r.id = cells.id
                  JOIN categories c ON c.id = r.category_id
                 WHERE cells.n = 1), '[]'::json))::text
"""


async def clusters_json(
    conn: AsyncConnection,
    *,
    bbox: tuple[float, float, float, float],
    zoom: int,
    group: str | None = None,
    categories: list[str] | None = None,
    statuses: list[str] | None = None,
) -> str:
    """The reports in a view as clusters and single reports, as a JSON document."""
    if group is not None:
        known = await conn.execute(
            text("SELECT 1 FROM category_groups WHERE code = :g"), {"g": group}
        )
        if known.first() is None:
            raise ApiError(422, f"group: {group!r} is not a known category group", "group")
    cell = cell_degrees(zoom)
    params: dict[str, Any] = dict(zip(("x1", "y1", "x2", "y2"), bbox, strict=True))
    params["cell"] = cell
    where = []
    if group is not None:
        where.append("c.group_code = :group")
        params["group"] = group
    if categories:
        where.append("c.code = ANY(:categories)")
        params["categories"] = categories
    if statuses:
        where.append("r.status = ANY(:statuses)")
        params["statuses"] = statuses
    join = "JOIN categories c ON c.id = r.category_id" if group or categories else ""
    sql = CLUSTERS_SQL.format(
        status_counts=STATUS_COUNTS,
        status_json=STATUS_JSON,
        join=join,
        counted=COUNTED_SQL,
        where="".join(f" AND {w}" for w in where),
    )
    body = (await conn.execute(text(sql), params)).scalar_one()
    head: dict[str, Any] = {"zoom": zoom, "cell_deg": cell, "bbox": list(bbox)}
    return json.dumps(head)[:-1] + "," + str(body)[1:]
