"""The checks a boundary set must pass before it can route reports, in PostGIS: its features do
not overlap, together they cover the city limit without gaps and stay inside it, and it keeps
the codes of the set it replaces. The importer runs them on a file before loading it, and an
activation runs the coverage check again against the city limit it will be used with.

Each check says what it found and, when it fails, what to do about it. Areas are geodesic
(m² on the WGS 84 ellipsoid); a gap or an overlap is a single piece of area, and only pieces
larger than the set's tolerance count (slivers of digitising are not gaps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

LISTED = 10  # places named in a message; the API lists them all


@dataclass
class Check:
    name: str
    ok: bool
    summary: str
    advice: str = ""
    places: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> list[str]:
        mark = "ok     " if self.ok else "REFUSED"
        out = [f"{mark} {self.name}: {self.summary}"]
        out += [f"          {_place(p)}" for p in self.places[:LISTED]]
        if len(self.places) > LISTED:
            out.append(f"          … and {len(self.places) - LISTED} more")
        if not self.ok and self.advice:
            out.append(f"          {self.advice}")
        return out


def _place(p: dict[str, Any]) -> str:
    if "lat" in p:
        return f"{p['m2']:,.0f} m² at lat {p['lat']:.5f}, lon {p['lon']:.5f}"
    if "b" in p:
        return f"{p['a']}/{p['b']}: {p['m2']:,.0f} m²"
    return f"{p['code']} {p['name']}"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def failures(checks: list[Check]) -> list[str]:
    return [line for c in checks if not c.ok for line in c.lines()]


OVERLAPS_SQL = """
    SELECT a.code AS a, b.code AS b, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS m2
      FROM ({features}) a
      JOIN ({features}) b ON a.code < b.code AND a.geom && b.geom
     WHERE ST_Relate(a.geom, b.geom, '2********')
     ORDER BY m2 DESC
"""


def overlaps(conn: Connection, features: str, params: dict[str, Any], tolerance: float) -> Check:
    """No two features share more than ``tolerance`` m² (``features``: SQL with code, geom)."""
    rows = conn.execute(text(OVERLAPS_SQL.format(features=features)), params).all()
    big = [{"a": r.a, "b": r.b, "m2": float(r.m2)} for r in rows if r.m2 > tolerance]
    if not big:
        return Check("overlaps", True, f"no two features overlap by more than {tolerance:g} m²")
    return Check(
        "overlaps",
        False,
        f"{plural(len(big), 'pair')} of features overlap by more than {tolerance:g} m²",
        "Fix the file so that each place is in one feature, or raise the tolerance "
        "(--overlap-tolerance M2; overlap_tolerance_m2 in the city profile) if these are "
        "slivers of digitising.",
        big,
    )


COVERAGE_SQL = """
    WITH w AS (SELECT ST_Union(geom) AS g FROM ({wards}) x),
         c AS (SELECT ST_Union(geom) AS g FROM ({city}) y),
         outline AS (
           SELECT coalesce(c.g, (SELECT ST_Collect(ST_MakePolygon(ST_ExteriorRing(d.geom)))
                                   FROM ST_Dump(w.g) d)) AS g
             FROM w, c),
         pieces AS (
           SELECT 'gap' AS kind,
                  (ST_Dump(ST_CollectionExtract(ST_Difference(o.g, w.g), 3))).geom AS g
             FROM outline o, w
           UNION ALL
           SELECT 'outside',
                  (ST_Dump(ST_CollectionExtract(ST_Difference(w.g, c.g), 3))).geom
             FROM w, c WHERE c.g IS NOT NULL)
    SELECT kind, m2, ST_Y(p) AS lat, ST_X(p) AS lon
      FROM (SELECT kind, ST_Area(g::geography) AS m2, ST_PointOnSurface(g) AS p FROM pieces) q
     WHERE m2 > :tolerance
     ORDER BY m2 DESC
"""
NO_CITY = "SELECT NULL::geometry AS geom"


def coverage(
    conn: Connection,
    wards: str,
    params: dict[str, Any],
    *,
    tolerance: float,
    city: str | None = None,
    city_name: str | None = None,
) -> list[Check]:
    """Gaps (parts of the city limit, or of the wards' own outline when there is no city
    limit, that no ward covers) and parts of wards outside the city limit, each piece over
    ``tolerance`` m². ``wards`` and ``city``: SQL giving ``geom`` rows."""
    sql = COVERAGE_SQL.format(wards=wards, city=city or NO_CITY)
    rows = conn.execute(text(sql), {**params, "tolerance": tolerance}).all()
    found = {
        kind: [
            {"m2": float(r.m2), "lat": float(r.lat), "lon": float(r.lon)}
            for r in rows
            if r.kind == kind
        ]
        for kind in ("gap", "outside")
    }
    limit = f"the city limit {city_name}" if city_name else "their own outline"
    checks = [_coverage_check("gaps", found["gap"], tolerance, limit)]
    if city_name:
        checks.append(_coverage_check("inside the city limit", found["outside"], tolerance, limit))
    return checks


def _coverage_check(name: str, places: list[dict[str, Any]], tolerance: float, limit: str) -> Check:
    parts, one = plural(len(places), "part"), len(places) == 1
    if name == "gaps":
        if not places:
            return Check(name, True, f"the wards cover {limit} (no gap over {tolerance:g} m²)")
        what = f"{parts} of {limit} {'is' if one else 'are'} in no ward"
        advice = (
            "Every part of the city must be in one ward: fix the file, or load the city "
            "limit that goes with these wards (--city SET, or --derive-city SET to take the "
            "wards' own outline)"
        )
    else:
        if not places:
            return Check(name, True, f"the wards lie within {limit} (tolerance {tolerance:g} m²)")
        what = f"{parts} of the wards {'lies' if one else 'lie'} outside {limit}"
        advice = "The wards must lie within the city limit: fix the file, or load the city limit "
        advice += "that goes with these wards (--city SET, or --derive-city SET)"
    total_km2 = sum(p["m2"] for p in places) / 1e6
    advice += (
        "; raise the tolerance (--gap-tolerance M2; gap_tolerance_m2 in the city profile) only "
        "for slivers of digitising."
    )
    return Check(name, False, f"{what}, {total_km2:,.3f} km² in all", advice, places)


MISSING_CODES_SQL = """
    SELECT a.code, a.name FROM areas a
     WHERE a.set_id = :replaced AND a.code NOT IN (SELECT code FROM ({features}) f)
     ORDER BY a.code
"""


def codes_kept(
    conn: Connection,
    features: str,
    params: dict[str, Any],
    *,
    replaced_id: int,
    replaced_name: str,
    allow_removed: bool,
) -> Check:
    """Every code of the set this one replaces is still there (a dropped feature is the
    commonest mistake in a file), unless the operator says the reform removes them."""
    sql = MISSING_CODES_SQL.format(features=features)
    rows = conn.execute(text(sql), {**params, "replaced": replaced_id}).all()
    missing = [{"code": r.code, "name": r.name} for r in rows]
    if not missing:
        return Check("codes", True, f"every code of the active set {replaced_name} is kept")
    are = "is" if len(missing) == 1 else "are"
    summary = (
        f"{plural(len(missing), 'code')} of the active set {replaced_name} {are} not in this set"
    )
    if allow_removed:
        return Check("codes", True, summary + " (allowed: --allow-removed)", places=missing)
    return Check(
        "codes",
        False,
        summary,
        "If the reform removes them, load with --allow-removed; otherwise the file lacks features.",
        missing,
    )
