"""Load a boundary file (GeoJSON, GeoPackage, Shapefile: anything pyogrio reads) into PostGIS
as a new, inactive boundary set.

The file is read and checked in Python (fields present, codes present and unique), then all
geometry work happens in PostGIS inside one transaction: ST_MakeValid repairs, an overlap check
between neighbours, geodesic areas, and ST_Subdivide'd pieces for fast point lookups. A file that
fails a check leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from shapely import to_wkb
from sqlalchemy import Connection, text

SUBDIVIDE_MAX_VERTICES = 64


class BoundaryError(ValueError):
    """The file cannot become a boundary set; the message says why."""


@dataclass
class Fields:
    code: str = "code"
    name: str = "name"
    full_name: str | None = None
    name_en: str | None = None


@dataclass
class LoadSummary:
    set_id: int
    name: str
    level: str
    features: int
    pieces: int
    area_km2: float
    repaired: list[tuple[str, str]] = field(default_factory=list)
    activated: bool = False

    def lines(self) -> list[str]:
        out = [
            f"boundary set {self.name!r} ({self.level}): {self.features} features, "
            f"{self.pieces} lookup pieces, {self.area_km2:,.2f} km²",
            f"repaired {len(self.repaired)} invalid geometries" + (":" if self.repaired else ""),
        ]
        out += [f"  {code}: {reason}" for code, reason in self.repaired]
        out.append("active" if self.activated else "loaded, not active (activate it to use it)")
        return out


def read_features(path: Path, fields: Fields, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a file and check it has the fields we need, with a code on every feature."""
    if not path.exists():
        raise BoundaryError(f"{path}: no such file")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable input
        raise BoundaryError(f"{path}: cannot read as a vector file: {exc}") from exc
    if frame.empty:
        raise BoundaryError(f"{path}: no features")
    wanted = {
        "code": fields.code,
        "name": fields.name,
        "full name": fields.full_name,
        "English name": fields.name_en,
    }
    missing = [f"{role} field {col!r}" for role, col in wanted.items() if col and col not in frame]
    if missing:
        raise BoundaryError(
            f"{path}: missing {', '.join(missing)}; fields are {', '.join(map(str, frame.columns))}"
        )
    codes = frame[fields.code].astype("string").str.strip()
    blank = frame.index[codes.isna() | (codes == "")].tolist()
    if blank:
        raise BoundaryError(f"{path}: {len(blank)} features lack a code (rows {blank[:10]})")
    dupes = sorted(set(codes[codes.duplicated()]))
    if dupes:
        raise BoundaryError(f"{path}: duplicate codes {dupes[:10]}")
    if frame.geometry.isna().any() or frame.geometry.is_empty.any():
        raise BoundaryError(f"{path}: some features have no geometry")
    kinds = set(frame.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise BoundaryError(f"{path}: only polygons can be boundaries, found {sorted(kinds)}")
    if frame.crs is None:
        frame = frame.set_crs(4326)
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame[fields.code] = codes
    return frame


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value != value:  # NaN
        return None
    return value


def load_boundary_set(
    conn: Connection,
    path: Path,
    *,
    set_name: str,
    level: str,
    fields: Fields,
    valid_from: dt.date,
    attribution: str = "",
    licence: str = "",
    layer: str | None = None,
    overlap_tolerance_m2: float = 1.0,
    activate: bool = False,
) -> LoadSummary:
    """Import ``path`` as boundary set ``set_name``. Runs inside the caller's transaction."""
    if level not in ("ward", "city"):
        raise BoundaryError(f"level must be 'ward' or 'city', not {level!r}")
    if conn.execute(text("SELECT 1 FROM boundary_sets WHERE name = :n"), {"n": set_name}).first():
        raise BoundaryError(f"a boundary set named {set_name!r} exists already")
    frame = read_features(path, fields, layer)

    conn.execute(text("DROP TABLE IF EXISTS pg_temp.boundary_staging"))
    conn.execute(
        text(
            "CREATE TEMP TABLE boundary_staging (code text, name text, full_name text,"
            " name_en text, properties jsonb, geom geometry)"
        )
    )
    props_cols = [c for c in frame.columns if c != frame.geometry.name]
    rows = []
    for (_, rec), wkb in zip(frame.iterrows(), to_wkb(frame.geometry.values), strict=True):
        props = {c: _jsonable(rec[c]) for c in props_cols}
        name = str(rec[fields.name] or rec[fields.code])
        rows.append(
            {
                "code": rec[fields.code],
                "name": name,
                "full_name": str(rec[fields.full_name]) if fields.full_name else name,
                "name_en": str(rec[fields.name_en]) if fields.name_en else None,
                "properties": json.dumps(props, ensure_ascii=False),
                "wkb": wkb,
            }
        )
    conn.execute(
        text(
            "INSERT INTO boundary_staging VALUES (:code, :name, :full_name, :name_en,"
            " CAST(:properties AS jsonb), ST_SetSRID(ST_GeomFromWKB(:wkb), 4326))"
        ),
        rows,
    )

    repaired = [
        (r.code, r.reason)
        for r in conn.execute(
            text(
                "SELECT code, ST_IsValidReason(geom) AS reason FROM boundary_staging"
                " WHERE NOT ST_IsValid(geom) ORDER BY code"
            )
        )
    ]
    conn.execute(
        text(
            "UPDATE boundary_staging"
            " SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))"
        )
    )
    empty = conn.execute(
        text("SELECT code FROM boundary_staging WHERE ST_IsEmpty(geom) ORDER BY code")
    ).scalars()
    if empty_codes := list(empty):
        raise BoundaryError(f"{path}: geometries empty after repair: {empty_codes[:10]}")

    conn.execute(text("CREATE INDEX ON boundary_staging USING gist (geom)"))
    conn.execute(text("ANALYZE boundary_staging"))
    overlaps = conn.execute(
        text(
            """
            SELECT a.code AS a, b.code AS b,
                   ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS m2
              FROM boundary_staging a
              JOIN boundary_staging b ON a.code < b.code AND a.geom && b.geom
             WHERE ST_Relate(a.geom, b.geom, '2********')
            """
        )
    ).all()
    too_big = [o for o in overlaps if o.m2 > overlap_tolerance_m2]
    if too_big:
        listed = ", ".join(f"{o.a}/{o.b} {o.m2:,.0f} m²" for o in too_big[:10])
        raise BoundaryError(
            f"{path}: {len(too_big)} pairs of features overlap by more than "
            f"{overlap_tolerance_m2:g} m²: {listed}"
        )

    set_id = conn.execute(
        text(
            "INSERT INTO boundary_sets (name, level, valid_from, source, attribution, licence,"
            " feature_count) VALUES (:name, :level, :valid_from, :source, :attribution,"
            " :licence, :n) RETURNING id"
        ),
        {
            "name": set_name,
            "level": level,
            "valid_from": valid_from,
            "source": path.name,
            "attribution": attribution,
            "licence": licence,
            "n": len(frame),
        },
    ).scalar_one()
    conn.execute(
        text(
            """
            INSERT INTO areas (set_id, code, name, full_name, name_en, properties, area_km2, geom)
            SELECT :set_id, code, name, full_name, name_en, properties,
                   ST_Area(geom::geography) / 1e6, geom
              FROM boundary_staging
            """
        ),
        {"set_id": set_id},
    )
    pieces = conn.execute(
        text(
            """
            INSERT INTO area_pieces (area_id, set_id, geom)
            SELECT a.id, a.set_id, ST_Subdivide(a.geom, :max_vertices)
              FROM areas a WHERE a.set_id = :set_id
            """
        ),
        {"set_id": set_id, "max_vertices": SUBDIVIDE_MAX_VERTICES},
    ).rowcount
    conn.execute(text("DROP TABLE boundary_staging"))
    total_km2 = conn.execute(
        text("SELECT sum(area_km2) FROM areas WHERE set_id = :s"), {"s": set_id}
    ).scalar_one()
    if activate:
        activate_set(conn, set_name)
    return LoadSummary(
        set_id=set_id,
        name=set_name,
        level=level,
        features=len(frame),
        pieces=pieces,
        area_km2=float(total_km2),
        repaired=repaired,
        activated=activate,
    )


def activate_set(conn: Connection, set_name: str) -> None:
    """Make ``set_name`` the one active set of its level."""
    level = conn.execute(
        text("SELECT level FROM boundary_sets WHERE name = :n"), {"n": set_name}
    ).scalar()
    if level is None:
        raise BoundaryError(f"no boundary set named {set_name!r}")
    conn.execute(
        text("UPDATE boundary_sets SET active = false WHERE level = :l AND active"), {"l": level}
    )
    conn.execute(text("UPDATE boundary_sets SET active = true WHERE name = :n"), {"n": set_name})
    conn.execute(text("ANALYZE area_pieces"))
