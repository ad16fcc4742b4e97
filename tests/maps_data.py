"""Synthetic reports for the map tests, planted in a month of their own long ago (no other
test writes reports dated before 2020), so each test counts exactly what it planted."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from sqlalchemy import Engine, text

HOAN_KIEM = "00070"  # a small central ward
TZ = "Asia/Ho_Chi_Minh"

PLANT_SQL = text(
    """
    INSERT INTO reports (category_id, description, geom, boundary_set_id, ward_code, snapped_m,
                         unit_id, status, created_at, updated_at, deadline_at, closed_at,
                         reporter_name, reporter_phone, reporter_email, source)
    SELECT c.id, 'Map test: ' || c.name, q.g, l.set_id, l.code, l.snapped_m,
           gs_route(c.id, q.g, l.code, 'normal'), p.status, p.created_at, p.created_at,
           gs_deadline(p.created_at, c.id),
           CASE WHEN p.status IN ('resolved', 'rejected')
                THEN p.created_at + p.hours * interval '1 hour' END,
           'Map Test Reporter', '+84 900 000 001', 'map-test@example.org', 'test'
      FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:cats AS text[]),
                  CAST(:statuses AS text[]), CAST(:created AS timestamptz[]),
                  CAST(:hours AS float8[]))
             AS p(lon, lat, category, status, created_at, hours)
     CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS g) q
      JOIN categories c ON c.code = p.category
     CROSS JOIN LATERAL gs_locate(q.g, 50) l
     WHERE l.code IS NOT NULL
    RETURNING id
    """
)


def plant(
    engine: Engine,
    points: list[tuple[float, float]],
    day: dt.date,
    *,
    categories: list[str] | None = None,
    statuses: list[str] | None = None,
    hours: list[float] | None = None,
) -> list[int]:
    """Store reports at (lat, lon) points on ``day`` (noon, city time), routed like real
    ones; returns the ids of those inside the city."""
    n = len(points)
    noon = dt.datetime.combine(day, dt.time(12), dt.timezone(dt.timedelta(hours=7)))
    with engine.begin() as conn:
        return list(
            conn.execute(
                PLANT_SQL,
                {
                    "lats": [p[0] for p in points],
                    "lons": [p[1] for p in points],
                    "cats": categories or ["garbage_uncollected"] * n,
                    "statuses": statuses or ["received"] * n,
                    "created": [noon + dt.timedelta(minutes=i % 600) for i in range(n)],
                    "hours": hours or [24.0] * n,
                },
            ).scalars()
        )


def ward_bbox(engine: Engine, code: str) -> tuple[float, float, float, float]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom)"
                " FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
                " WHERE b.active AND b.level = 'ward' AND a.code = :code"
            ),
            {"code": code},
        ).one()
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def uniform(
    bbox: tuple[float, float, float, float], n: int, seed: int
) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    x1, y1, x2, y2 = bbox
    return list(zip(rng.uniform(y1, y2, n), rng.uniform(x1, x2, n), strict=True))


def around(lat: float, lon: float, n: int, spread_m: float, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    dy = rng.normal(0, spread_m, n) / 111_320
    dx = rng.normal(0, spread_m, n) / (111_320 * math.cos(math.radians(lat)))
    return list(zip(lat + dy, lon + dx, strict=True))
