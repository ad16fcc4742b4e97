"""The numbers behind the maps, computed in PostGIS so that a million reports never travel
to Python one row each: weighted grid cells for the heatmap, monthly cells for its time
slider, counts per hexagon for the hotspot analysis, DBSCAN clusters, and per-ward figures.

All functions take a synchronous SQLAlchemy ``Connection`` (the CLI's), and the web app calls
them through ``AsyncConnection.run_sync``: one implementation for both.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from geo_service.errors import Invalid, field_message
from geo_service.i18n import N_
from maps.filters import MapFilters

METRES_PER_DEGREE = 111_320.0
# The filter names categories by id (report_query.ReportFilter): no join needed.
REPORTS_FROM = "reports r"


@dataclass(frozen=True)
class View:
    """The area a map is framed on: a ward, or the whole city. ``area_ids`` are the areas
    (in ``areas``) whose lookup pieces bound it; ``srid`` is the UTM zone of its centre, the
    metric projection the hexagons and DBSCAN distances are measured in."""

    x1: float
    y1: float
    x2: float
    y2: float
    area_ids: tuple[int, ...]
    srid: int

    @property
    def centre(self) -> tuple[float, float]:
        """(lat, lon)"""
        return (self.y1 + self.y2) / 2, (self.x1 + self.x2) / 2

    def size_m(self) -> tuple[float, float]:
        """Width and height in metres (near enough at city scale)."""
        cos = math.cos(math.radians(self.centre[0]))
        return (self.x2 - self.x1) * METRES_PER_DEGREE * cos, (self.y2 - self.y1) * (
            METRES_PER_DEGREE
        )


def utm_srid(lat: float, lon: float) -> int:
    """EPSG code of the WGS 84 / UTM zone containing the point: metres, wherever the city."""
    zone = min(60, int((lon + 180) // 6) + 1)
    return (32600 if lat >= 0 else 32700) + zone


def view_of(conn: Connection, filters: MapFilters) -> View:
    """Frame the map on the filtered (or unit's) ward, else on the active city limit (the
    active ward set when a city has no city-level boundary)."""
    row = conn.execute(
        text(
            """
            WITH chosen AS (
              SELECT a.id, a.geom FROM areas a JOIN boundary_sets b ON b.id = a.set_id
               WHERE b.active AND (
                 (CAST(:ward AS text) IS NOT NULL AND b.level = 'ward' AND a.code = :ward)
                 OR (CAST(:ward AS text) IS NULL AND b.level = (
                   SELECT CASE WHEN bool_or(level = 'city') THEN 'city' ELSE 'ward' END
                     FROM boundary_sets WHERE active))))
            SELECT array_agg(id ORDER BY id) AS ids, ST_XMin(ST_Extent(geom)) AS x1,
                   ST_YMin(ST_Extent(geom)) AS y1, ST_XMax(ST_Extent(geom)) AS x2,
                   ST_YMax(ST_Extent(geom)) AS y2
              FROM chosen
            """
        ),
        {"ward": filters.view_ward},
    ).one_or_none()
    if row is None or row.x1 is None:
        raise LookupError("no active boundary set to frame the map on: run `geo-service init`")
    lat, lon = (row.y1 + row.y2) / 2, (row.x1 + row.x2) / 2
    return View(row.x1, row.y1, row.x2, row.y2, tuple(row.ids), utm_srid(lat, lon))


# --- Heatmap -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    lat: float
    lon: float
    reports: int
    weight: float  # reports / the busiest cell's reports, rounded to 4 places


@dataclass(frozen=True)
class Heat:
    cells: list[HeatCell]
    cell_m: float
    reports: int


def _grid(view: View, cells_across: int) -> tuple[float, float, float]:
    """Square cells in metres, as many across the longer side of the view as asked; returned
    with their width and height in degrees."""
    cell_m = max(*view.size_m(), 1.0) / cells_across
    dy = cell_m / METRES_PER_DEGREE
    dx = dy / math.cos(math.radians(view.centre[0]))
    return cell_m, dx, dy


HEAT_SQL = """
    WITH cells AS (
      SELECT avg(ST_Y(r.geom)) AS lat, avg(ST_X(r.geom)) AS lon, count(*) AS n
        FROM {reports}
       WHERE {where} AND r.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)
       GROUP BY floor((ST_X(r.geom) - :x1) / :dx), floor((ST_Y(r.geom) - :y1) / :dy))
    SELECT round(CAST(lat AS numeric), 5) AS lat, round(CAST(lon AS numeric), 5) AS lon, n,
           round(CAST(n AS numeric) / max(n) OVER (), 4) AS weight
      FROM cells
     ORDER BY n DESC, lat, lon
"""


def heat_cells(
    conn: Connection, filters: MapFilters, view: View, *, cells_across: int = 150
) -> Heat:
    """Reports counted in square cells whose size follows the view (a ward gets fine cells,
    the city coarse ones), each placed at its reports' mean position and weighted by its
    share of the busiest cell."""
    cell_m, dx, dy = _grid(view, cells_across)
    where, params = filters.where()
    rows = conn.execute(
        text(HEAT_SQL.format(reports=REPORTS_FROM, where=where)),
        {**params, "x1": view.x1, "y1": view.y1, "x2": view.x2, "y2": view.y2, "dx": dx, "dy": dy},
    ).all()
    cells = [HeatCell(float(r.lat), float(r.lon), int(r.n), float(r.weight)) for r in rows]
    return Heat(cells, cell_m, sum(c.reports for c in cells))


@dataclass(frozen=True)
class Frames:
    """One list of cells per month, oldest first, weighted against the busiest cell of all
    months so that the frames compare."""

    months: list[str]
    frames: list[list[HeatCell]]
    cell_m: float


MONTHLY_SQL = """
    WITH cells AS (
      SELECT width_bucket(r.created_at, CAST(:bounds AS timestamptz[])) AS month,
             avg(ST_Y(r.geom)) AS lat, avg(ST_X(r.geom)) AS lon, count(*) AS n
        FROM {reports}
       WHERE {where} AND r.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)
       GROUP BY 1, floor((ST_X(r.geom) - :x1) / :dx), floor((ST_Y(r.geom) - :y1) / :dy))
    SELECT month, round(CAST(lat AS numeric), 5) AS lat, round(CAST(lon AS numeric), 5) AS lon,
           n, round(CAST(n AS numeric) / max(n) OVER (), 4) AS weight
      FROM cells
     ORDER BY month, n DESC, lat, lon
"""


def month_starts(last_day: dt.date, months: int) -> list[dt.date]:
    first = last_day.replace(day=1)
    out = []
    for back in range(months - 1, -1, -1):
        y, m = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(dt.date(y, m + 1, 1))
    return out


def monthly_cells(
    conn: Connection,
    filters: MapFilters,
    view: View,
    *,
    months: int = 12,
    cells_across: int = 60,
) -> Frames:
    """The last ``months`` calendar months up to the filters' end date, on a coarser grid
    than the heatmap's (twelve frames must still make a small page)."""
    assert filters.date_to
    starts = month_starts(filters.date_to, months)
    monthly = replace(filters, date_from=starts[0])
    cell_m, dx, dy = _grid(view, cells_across)
    where, params = monthly.where()
    rows = conn.execute(
        text(MONTHLY_SQL.format(reports=REPORTS_FROM, where=where)),
        {
            **params,
            "x1": view.x1,
            "y1": view.y1,
            "x2": view.x2,
            "y2": view.y2,
            "dx": dx,
            "dy": dy,
            # Month starts in city time: width_bucket finds a report's month by binary
            # search, much cheaper than converting each timestamp to the city's time zone.
            "bounds": [
                dt.datetime.combine(d, dt.time(0), tzinfo=ZoneInfo(filters.timezone))
                for d in [*starts, month_starts(starts[-1] + dt.timedelta(days=40), 1)[0]]
            ],
        },
    ).all()
    labels = [s.strftime("%Y-%m") for s in starts]
    frames: list[list[HeatCell]] = [[] for _ in labels]
    for r in rows:  # width_bucket numbers the months from 1
        frames[r.month - 1].append(HeatCell(float(r.lat), float(r.lon), int(r.n), float(r.weight)))
    return Frames(labels, frames, cell_m)


# --- Hexagons ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hexagon:
    i: int
    j: int
    x: float  # centre, metres in the view's UTM zone
    y: float
    geojson: str  # the hexagon in WGS 84, 5 decimals
    reports: int
    coverage: float = 1.0  # share of the hexagon inside the view (edge cells are partial)

    @property
    def density(self) -> float:
        """Reports per whole hexagon: an edge cell half outside the city is not "cold"."""
        return self.reports / self.coverage


def default_hex_size(view: View, hexagons: int = 4000) -> float:
    """An edge length (metres, rounded to 10) giving about ``hexagons`` cells over the view's
    bounding box: roughly 1 km cells for a large city, the 50 m minimum for a small ward."""
    w, h = view.size_m()
    size = math.sqrt(w * h / (hexagons * 1.5 * math.sqrt(3)))
    return max(50.0, round(size / 10) * 10)


# A report's hexagon by arithmetic instead of a point-in-polygon join (ten times faster):
# ST_HexagonGrid's cells have centres at (w i, h j), odd columns raised by h / 2 (s = edge,
# w = 1.5 s, h = s * sqrt(3)); a point lies in the cell with the nearest centre, which is in
# column floor(x / w) or the next one. All float8: numeric arithmetic is much slower.
HEX_SQL = """
    WITH pts AS MATERIALIZED (
      SELECT ST_X(p) AS x, ST_Y(p) AS y
        FROM (SELECT ST_Transform(r.geom, :srid) AS p FROM {reports} WHERE {where}
              OFFSET 0) q),
    placed AS (
      SELECT CASE WHEN d.d0 <= d.d1 THEN a.i0 ELSE a.i0 + 1 END AS i,
             CASE WHEN d.d0 <= d.d1 THEN c.j0 ELSE c.j1 END AS j
        FROM pts
        CROSS JOIN LATERAL (SELECT CAST(floor(pts.x / :w) AS int) AS i0) a
        CROSS JOIN LATERAL (
          SELECT CAST(CASE WHEN a.i0 % 2 <> 0 THEN 0.5 ELSE 0 END AS float8) AS o0,
                 CAST(CASE WHEN a.i0 % 2 <> 0 THEN 0 ELSE 0.5 END AS float8) AS o1) b
        CROSS JOIN LATERAL (SELECT CAST(round(pts.y / :h - b.o0) AS int) AS j0,
                                   CAST(round(pts.y / :h - b.o1) AS int) AS j1) c
        CROSS JOIN LATERAL (
          SELECT (pts.x - :w * a.i0) ^ 2 + (pts.y - :h * (c.j0 + b.o0)) ^ 2 AS d0,
                 (pts.x - :w * (a.i0 + 1)) ^ 2 + (pts.y - :h * (c.j1 + b.o1)) ^ 2 AS d1) d),
    counts AS MATERIALIZED (SELECT i, j, count(*) AS n FROM placed GROUP BY i, j),
    grid AS (
      SELECT h.i, h.j, h.geom, ST_Transform(h.geom, 4326) AS geom_ll
        FROM ST_HexagonGrid(:size, ST_Transform(
               ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326), :srid)) h),
    covered AS (
      SELECT g.*,
             CASE WHEN EXISTS (SELECT 1 FROM area_pieces p WHERE p.area_id = ANY(:areas)
                                  AND ST_Contains(p.geom, g.geom_ll)) THEN 1.0
                  ELSE (SELECT sum(ST_Area(ST_Intersection(p.geom, g.geom_ll)))
                          FROM area_pieces p
                         WHERE p.area_id = ANY(:areas) AND ST_Intersects(p.geom, g.geom_ll))
                       / ST_Area(g.geom_ll) END AS coverage
        FROM grid g),
    hex AS (SELECT * FROM covered WHERE coverage >= :min_coverage)
    SELECT h.i, h.j, ST_X(ST_Centroid(h.geom)) AS x, ST_Y(ST_Centroid(h.geom)) AS y,
           ST_AsGeoJSON(h.geom_ll, 5) AS geojson, least(h.coverage, 1.0) AS coverage,
           coalesce(k.n, 0) AS n
      FROM hex h LEFT JOIN counts k ON k.i = h.i AND k.j = h.j
     ORDER BY h.i, h.j
"""


def hex_counts(
    conn: Connection,
    filters: MapFilters,
    view: View,
    *,
    size_m: float,
    min_coverage: float = 0.5,
) -> list[Hexagon]:
    """Reports per hexagon (ST_HexagonGrid, edge ``size_m`` metres, in the view's UTM zone)
    for every hexagon at least ``min_coverage`` inside the view, empty ones included: Gi*
    needs the zeros. Slivers at the edge are left out: a few reports in a cell mostly outside
    the city would look like a hot spot once scaled to a whole cell."""
    if not 10 <= size_m <= 20_000:
        message = N_("must be between 10 and 20,000 metres")
        raise Invalid(field_message("hex_size", message), "hex_size")
    where, params = filters.where()
    rows = conn.execute(
        text(HEX_SQL.format(reports=REPORTS_FROM, where=where)),
        {
            **params,
            "size": size_m,
            "h": size_m * math.sqrt(3),
            "w": size_m * 1.5,
            "min_coverage": min_coverage,
            "srid": view.srid,
            "areas": list(view.area_ids),
            "x1": view.x1,
            "y1": view.y1,
            "x2": view.x2,
            "y2": view.y2,
        },
    ).all()
    return [Hexagon(r.i, r.j, r.x, r.y, r.geojson, int(r.n), float(r.coverage)) for r in rows]


# --- DBSCAN clusters -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    rank: int
    reports: int  # estimated from the sample when ``sample_every`` > 1
    category: str
    category_name: str
    category_share: float
    ward_code: str
    ward_name: str
    lat: float
    lon: float
    hull: str  # GeoJSON, WGS 84


@dataclass(frozen=True)
class Clusters:
    clusters: list[Cluster]
    eps_m: float
    min_points: int
    sample_every: int  # 1 = every report; n = one report in n (deterministic, by id)


DBSCAN_SQL = """
    WITH pts AS (
      SELECT r.category_id, r.ward_code, r.boundary_set_id,
             ST_Transform(r.geom, :srid) AS g
        FROM {reports}
       WHERE {where} AND r.id % :every = 0),
    labelled AS (
      SELECT *, ST_ClusterDBSCAN(g, eps => :eps, minpoints => :minpts) OVER () AS cid
        FROM pts),
    clusters AS (
      SELECT cid, count(*) AS n, ST_Collect(g) AS g FROM labelled
       WHERE cid IS NOT NULL GROUP BY cid ORDER BY n DESC LIMIT :limit),
    cats AS (
      SELECT DISTINCT ON (cid) cid, category_id, count(*) AS n FROM labelled
       WHERE cid IN (SELECT cid FROM clusters)
       GROUP BY cid, category_id ORDER BY cid, count(*) DESC, category_id),
    wards AS (
      SELECT DISTINCT ON (cid) cid, ward_code, boundary_set_id FROM labelled
       WHERE cid IN (SELECT cid FROM clusters)
       GROUP BY cid, ward_code, boundary_set_id
       ORDER BY cid, count(*) DESC, ward_code)
    SELECT k.n, c.code AS category, c.name AS category_name,
           CAST(ct.n AS float8) / k.n AS category_share,
           w.ward_code, coalesce(a.name, w.ward_code) AS ward_name,
           ST_Y(ST_Transform(ST_Centroid(k.g), 4326)) AS lat,
           ST_X(ST_Transform(ST_Centroid(k.g), 4326)) AS lon,
           ST_AsGeoJSON(ST_Transform(ST_Buffer(ST_ConvexHull(k.g), :eps / 2, 4), 4326), 5)
             AS hull
      FROM clusters k
      JOIN cats ct ON ct.cid = k.cid JOIN categories c ON c.id = ct.category_id
      JOIN wards w ON w.cid = k.cid
      LEFT JOIN areas a ON a.set_id = w.boundary_set_id AND a.code = w.ward_code
     ORDER BY k.n DESC, lat, lon
"""


def dbscan_clusters(
    conn: Connection,
    filters: MapFilters,
    view: View,
    *,
    total: int,
    eps_m: float = 100.0,
    min_points: int = 30,
    max_points: int = 50_000,
    limit: int = 25,
) -> Clusters:
    """Dense groups of reports (ST_ClusterDBSCAN: at least ``min_points`` reports within
    ``eps_m`` metres of each other), biggest first, with their main category and ward.

    DBSCAN over every report of a big city is slow and adds nothing: above ``max_points``
    (``total`` is how many reports the filters match) it runs on one report in n, picked by
    id so the same data gives the same clusters, with ``min_points`` scaled down alike; the
    sizes shown are scaled back up."""
    if eps_m <= 0 or min_points < 2:
        message = N_("DBSCAN needs eps > 0 metres and at least 2 points")
        raise Invalid(field_message("eps", message), "eps")
    every = max(1, math.ceil(total / max_points))
    minpts = max(4, round(min_points / every)) if every > 1 else min_points
    where, params = filters.where()
    rows = conn.execute(
        text(DBSCAN_SQL.format(reports=REPORTS_FROM, where=where)),
        {
            **params,
            "srid": view.srid,
            "eps": eps_m,
            "minpts": minpts,
            "every": every,
            "limit": limit,
        },
    ).all()
    clusters = [
        Cluster(
            rank=i,
            reports=int(r.n) * every,
            category=r.category,
            category_name=r.category_name,
            category_share=float(r.category_share),
            ward_code=r.ward_code,
            ward_name=r.ward_name,
            lat=float(r.lat),
            lon=float(r.lon),
            hull=r.hull,
        )
        for i, r in enumerate(rows, start=1)
    ]
    return Clusters(clusters, eps_m, min_points, every)
