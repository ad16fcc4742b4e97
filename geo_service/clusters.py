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
from dataclasses import replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.report_query import STATUSES, ReportFilter
from geo_service.report_query.projections import JOINS_SQL, MAP_POINT_FIELDS, json_object

CELL_PX = 60
TILE_PX = 256
MAX_ZOOM = 22


def cell_degrees(zoom: int) -> float:
    """The grid cell's side in degrees at a zoom level (about CELL_PX pixels on screen)."""
    return 360.0 / (TILE_PX * 2**zoom) * CELL_PX


# Counting each status with FILTER keeps it one hash aggregate over the view's reports
# (grouping by cell and status, then by cell, sorted 100,000 rows and spilled to disk).
STATUS_COUNTS = ",\n".join(f"count(*) FILTER (WHERE r.status = '{s}') AS n_{s}" for s in STATUSES)
STATUS_JSON = ", ".join(f"'{s}', nullif(n_{s}, 0)" for s in STATUSES)

CLUSTERS_SQL = f"""
    WITH cells AS MATERIALIZED (
      SELECT count(*) AS n, avg(ST_X(r.geom)) AS x, avg(ST_Y(r.geom)) AS y,
             min(ST_X(r.geom)) AS x1, min(ST_Y(r.geom)) AS y1,
             max(ST_X(r.geom)) AS x2, max(ST_Y(r.geom)) AS y2, min(r.id) AS id,
             {STATUS_COUNTS}
        FROM reports r
       WHERE {{where}}
       GROUP BY floor(ST_X(r.geom) / :cell), floor(ST_Y(r.geom) / :cell))
    SELECT json_build_object(
             'total', coalesce((SELECT sum(n) FROM cells), 0),
             'clusters', coalesce((
                SELECT json_agg(json_build_object(
                         'lat', round(CAST(y AS numeric), 6), 'lon', round(CAST(x AS numeric), 6),
                         'count', n, 'statuses', json_strip_nulls(json_build_object({STATUS_JSON})),
                         'bbox', json_build_array(round(CAST(x1 AS numeric), 6),
                                                  round(CAST(y1 AS numeric), 6),
                                                  round(CAST(x2 AS numeric), 6),
                                                  round(CAST(y2 AS numeric), 6)))
                         ORDER BY n DESC)
                  FROM cells WHERE n > 1), '[]'::json),
             'reports', coalesce((
                SELECT json_agg({json_object(MAP_POINT_FIELDS)} ORDER BY r.id)
                  FROM cells
                  JOIN reports r ON r.id = cells.id
                  {JOINS_SQL}
                 WHERE cells.n = 1), '[]'::json))::text
"""


async def clusters_json(conn: AsyncConnection, f: ReportFilter, *, zoom: int) -> str:
    """The reports a filter selects in a view (its ``bbox``) as clusters and single reports,
    as a JSON document. A duplicate follows its master: it is not shown."""
    bbox = f.bbox
    assert bbox, "the public map asks for the reports in a view"
    f = await replace(f, duplicates="exclude").resolve(conn)
    cell = cell_degrees(zoom)
    where, params = f.where()
    body = (
        await conn.execute(text(CLUSTERS_SQL.format(where=where)), {**params, "cell": cell})
    ).scalar_one()
    head: dict[str, Any] = {"zoom": zoom, "cell_deg": cell, "bbox": list(bbox)}
    return json.dumps(head)[:-1] + "," + str(body)[1:]
