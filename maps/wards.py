"""Figures per ward for the choropleth: reports per km², share overdue, median time to
resolve, satisfaction, and the change against the previous period.

The definitions are the ones ``/api/v1/stats`` uses, so a ward's number on the map and in the
statistics never disagree: this is the only place maps define them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from maps.aggregates import REPORTS_FROM
from maps.filters import MapFilters

# What counts as open and overdue (the workflow's definitions).
OPEN = "r.closed_at IS NULL AND r.status NOT IN ('resolved', 'rejected')"
OVERDUE = f"{OPEN} AND r.deadline_at < now()"

WARD_FIGURES_SQL = """
    SELECT a.code, a.name, a.area_km2,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, :tolerance), 5) AS geojson,
           count(r.id) AS reports,
           count(r.id) FILTER (WHERE {overdue}) AS overdue,
           percentile_cont(0.5) WITHIN GROUP (
             ORDER BY extract(epoch FROM r.closed_at - r.created_at) / 3600)
             FILTER (WHERE r.status = 'resolved') AS median_hours,
           CAST(NULL AS float8) AS satisfaction
      FROM areas a
      JOIN boundary_sets b ON b.id = a.set_id AND b.level = 'ward' AND b.active
      LEFT JOIN ({reports}) ON r.boundary_set_id = a.set_id AND r.ward_code = a.code
                               AND {where}
     WHERE (CAST(:ward AS text) IS NULL OR a.code = :ward)
     GROUP BY a.id
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
    conn: Connection, filters: MapFilters, *, tolerance_deg: float = 0.0001
) -> list[WardFigures]:
    """Every ward of the active set in view (one ward when filtered or for a ward committee),
    with its figures for the filters' period and its count for the period before."""
    where, params = filters.where()
    rows = conn.execute(
        text(WARD_FIGURES_SQL.format(reports=REPORTS_FROM, where=where, overdue=OVERDUE)),
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
