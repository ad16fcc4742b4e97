"""Figures per ward for the choropleth: reports per km², share overdue, median time to
resolve, satisfaction, and the change against the previous period.

The counts are ``geo_service.stats.FIGURES_SQL``, the SQL behind ``/api/v1/stats``, so a
ward's number on the map and in the statistics never disagree. Share overdue is overdue
(open past its deadline) over received; satisfaction is the share of ratings that said
satisfied.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo_service.stats import FIGURES_FROM, FIGURES_SQL
from maps.aggregates import REPORTS_FROM
from maps.filters import MapFilters

# The statistics' own aggregates (geo_service.stats, behind /api/v1/stats), summed per ward
# first and then joined to the wards: joining first would drag every ward's geometry through
# the sort of every report (hundreds of MB at 100,000 reports).
WARD_FIGURES_SQL = f"""
    WITH figures AS (
      SELECT r.ward_code, {FIGURES_SQL}
        FROM {FIGURES_FROM}
       WHERE {{where}}
       GROUP BY r.ward_code)
    SELECT a.code, a.name, a.area_km2,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, :tolerance), 5) AS geojson,
           coalesce(f.received, 0) AS reports, coalesce(f.overdue, 0) AS overdue,
           f.median_hours_to_resolve AS median_hours,
           CAST(f.satisfied AS float8) / nullif(f.ratings, 0) AS satisfaction
      FROM areas a
      JOIN boundary_sets b ON b.id = a.set_id AND b.level = 'ward' AND b.active
      LEFT JOIN figures f ON f.ward_code = a.code
     WHERE (CAST(:ward AS text) IS NULL OR a.code = :ward)
     ORDER BY a.code
"""

WARD_COUNTS_SQL = """
    SELECT r.ward_code, count(*) AS n FROM {reports} WHERE {where} GROUP BY r.ward_code
"""


@dataclass(frozen=True)
class WardFigures:
    code: str
    name: str
    area_km2: float
    geojson: str
    reports: int
    overdue: int
    median_hours: float | None
    satisfaction: float | None
    previous: int = 0  # reports in the previous period of the same length

    @property
    def per_km2(self) -> float:
        return self.reports / self.area_km2 if self.area_km2 else 0.0

    @property
    def share_overdue(self) -> float | None:
        return self.overdue / self.reports if self.reports else None

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (+0.25 = a quarter more reports)."""
        return (self.reports - self.previous) / self.previous if self.previous else None


def ward_figures(
    conn: Connection, filters: MapFilters, *, tolerance_deg: float = 0.0002
) -> list[WardFigures]:
    """Every ward of the active set in view (one ward when filtered or for a ward committee),
    with its figures for the filters' period and its count for the period before."""
    where, params = filters.where()
    rows = conn.execute(
        text(WARD_FIGURES_SQL.format(where=where)),
        {**params, "tolerance": tolerance_deg, "ward": filters.view_ward},
    ).all()
    prev_where, prev_params = filters.previous().where()
    previous: dict[str, int] = dict(
        conn.execute(
            text(WARD_COUNTS_SQL.format(reports=REPORTS_FROM, where=prev_where)), prev_params
        ).all()
    )
    return [
        WardFigures(
            code=r.code,
            name=r.name,
            area_km2=float(r.area_km2),
            geojson=r.geojson,
            reports=int(r.reports),
            overdue=int(r.overdue),
            median_hours=None if r.median_hours is None else float(r.median_hours),
            satisfaction=None if r.satisfaction is None else float(r.satisfaction),
            previous=int(previous.get(r.code, 0)),
        )
        for r in rows
    ]
