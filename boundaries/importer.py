"""Load a boundary file (GeoJSON, GeoPackage, Shapefile: anything pyogrio reads) into PostGIS
as a new, inactive boundary set.

The file is read and checked in Python first: fields present, codes present, unique and kept
as text, coordinates that are longitude and latitude near the city (not projected without a
CRS, not in lat,lon order). Then all geometry work happens in PostGIS inside the caller's
transaction: ST_MakeValid repairs, the checks of ``boundaries.checks`` (overlaps, gaps and the
city limit, codes the active set had), geodesic areas, and ST_Subdivide'd pieces for fast
point lookups. A file that fails a check leaves nothing behind; a dry run only reports.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely import to_wkb
from sqlalchemy import Connection, text

from boundaries import checks, sets
from boundaries.checks import Check

SUBDIVIDE_MAX_VERTICES = 64
LEVELS = ("ward", "city")
FAR_KM = 500  # a file whose nearest point is farther from the city's centre is not its map


class BoundaryError(ValueError):
    """The file cannot become a boundary set; the message says why and what to do."""


@dataclass
class Fields:
    code: str = "code"
    name: str = "name"
    full_name: str | None = None
    name_en: str | None = None


@dataclass
class LoadOptions:
    """What the operator (or the city profile) says about a file."""

    set_name: str
    level: str
    valid_from: dt.date
    fields: Fields = field(default_factory=Fields)
    attribution: str = ""
    licence: str = ""
    layer: str | None = None
    overlap_tolerance_m2: float = 1.0
    gap_tolerance_m2: float = 1.0
    city_set: str | None = None  # check a ward set against this city limit, and pair them
    derive_city: str | None = None  # also store the wards' outline as this city set
    allow_removed: bool = False
    crs: str | None = None  # the coordinates' CRS when the file does not say
    swap_xy: bool = False
    code_width: int | None = None  # pad codes with zeros to this width
    near: tuple[float, float] | None = None  # the city's centre (lat, lon)
    dry_run: bool = False


@dataclass
class LoadSummary:
    set_id: int | None
    name: str
    level: str
    features: int
    pieces: int
    area_km2: float
    repaired: list[tuple[str, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    derived_city: str | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        head = "dry run: " if self.dry_run else ""
        pieces = "" if self.dry_run else f"{self.pieces} lookup pieces, "
        out = [
            f"{head}boundary set {self.name!r} ({self.level}): {self.features} features, "
            f"{pieces}{self.area_km2:,.2f} km²",
            f"repaired {len(self.repaired)} invalid geometries" + (":" if self.repaired else ""),
        ]
        out += [f"  {code}: {reason}" for code, reason in self.repaired]
        out += [line for c in self.checks for line in c.lines()]
        if self.derived_city:
            out.append(f"its outline is the city set {self.derived_city!r}")
        if self.dry_run:
            out.append("nothing was written" + ("" if self.ok else "; the load would be refused"))
        else:
            out.append("loaded, not active (preview it, then activate it to use it)")
        return out


def _read(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise BoundaryError(f"{path}: no such file")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable input
        raise BoundaryError(f"{path}: cannot read as a vector file: {exc}") from exc
    if frame.empty:
        raise BoundaryError(f"{path}: no features")
    return frame


def _check_fields(frame: gpd.GeoDataFrame, path: Path, fields: Fields) -> None:
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


def _codes(column: pd.Series, path: Path, name: str, width: int | None) -> pd.Series:
    """Codes as text, exactly as written: a code field the file stores as numbers has lost
    its leading zeros already, so it is refused unless the operator gives their width."""
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.dropna()
        if width is None or not (numbers == numbers.round()).all():
            shown = ", ".join(str(v) for v in numbers.head(3).tolist())
            raise BoundaryError(
                f"{path}: the code field {name!r} holds numbers ({shown}, …): codes are text, "
                "and leading zeros are lost in numbers. Store the codes as text in the file, "
                "or give --code-width N (code_width in the city profile) to pad them with "
                "zeros to N digits."
            )
        codes = column.astype("Int64").astype("string")
    else:
        codes = column.astype("string").str.strip()
    if width:
        codes = codes.str.zfill(width)
    blank = column.index[codes.isna() | (codes == "")].tolist()
    if blank:
        raise BoundaryError(f"{path}: {len(blank)} features lack a code (rows {blank[:10]})")
    dupes = sorted(set(codes[codes.duplicated()]))
    if dupes:
        raise BoundaryError(f"{path}: duplicate codes {dupes[:10]}")
    return codes


def _check_geometry(frame: gpd.GeoDataFrame, path: Path) -> None:
    if frame.geometry.isna().any() or frame.geometry.is_empty.any():
        raise BoundaryError(f"{path}: some features have no geometry")
    kinds = set(frame.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise BoundaryError(f"{path}: only polygons can be boundaries, found {sorted(kinds)}")


def _km_from(lat: float, lon: float, bounds: np.ndarray) -> float:
    """Great-circle km from (lat, lon) to the nearest point of a lon/lat box."""
    x1, y1, x2, y2 = bounds
    near_lat, near_lon = min(max(lat, y1), y2), min(max(lon, x1), x2)
    p1, p2 = math.radians(lat), math.radians(near_lat)
    dl = math.radians(near_lon - lon)
    cos_c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(max(-1.0, min(1.0, cos_c)))


def _to_wgs84(frame: gpd.GeoDataFrame, path: Path, opts: LoadOptions) -> gpd.GeoDataFrame:
    """Longitude/latitude on WGS 84, or a refusal that says what is wrong with the
    coordinates and how to load them."""
    if opts.crs:
        frame = frame.set_crs(opts.crs, allow_override=True)
    elif frame.crs is None:
        frame = frame.set_crs(4326)
    if frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    if opts.swap_xy:
        frame = frame.set_geometry(shapely.transform(frame.geometry.values, lambda c: c[:, ::-1]))
    bounds = np.asarray(frame.total_bounds, dtype=float)
    x1, y1, x2, y2 = bounds
    if not np.isfinite(bounds).all():
        raise BoundaryError(f"{path}: coordinates cannot be converted to longitude/latitude")
    if x1 < -180 or x2 > 180 or y1 < -90 or y2 > 90:
        if max(abs(x1), abs(x2)) <= 90 and max(abs(y1), abs(y2)) <= 180:
            raise BoundaryError(
                f"{path}: latitudes reach {max(abs(y1), abs(y2)):.2f}, beyond ±90, while every "
                "longitude is within ±90: the coordinates look swapped (lat,lon order). Write "
                "them in lon,lat order (GeoJSON's) or load with --swap-xy."
            )
        raise BoundaryError(
            f"{path}: coordinates reach x {max(abs(x1), abs(x2)):,.0f}, y "
            f"{max(abs(y1), abs(y2)):,.0f}: not longitude/latitude. The file looks projected "
            "but does not say in which CRS (GeoJSON without a crs member is read as WGS 84): "
            "give it with --crs (e.g. --crs EPSG:3857, or crs in the city profile), or "
            "reproject the file to EPSG:4326."
        )
    if opts.near is not None:
        _check_near(bounds, path, opts.near)
    return frame


def _check_near(bounds: np.ndarray, path: Path, near: tuple[float, float]) -> None:
    lat, lon = near
    km = _km_from(lat, lon, bounds)
    if km <= FAR_KM:
        return
    x1, y1, x2, y2 = bounds
    if _km_from(lat, lon, np.array([y1, x1, y2, x2])) <= FAR_KM:
        raise BoundaryError(
            f"{path}: the file lies {km:,.0f} km from the city's centre, but would lie on it "
            "with x and y exchanged: the coordinates look swapped (lat,lon order). Write them "
            "in lon,lat order (GeoJSON's) or load with --swap-xy."
        )
    raise BoundaryError(
        f"{path}: the file lies {km:,.0f} km from the city's centre ({lat:g}, {lon:g} in the "
        "city profile): it is not this city's map, or its CRS is wrong (give it with --crs)."
    )


def read_features(path: Path, opts: LoadOptions) -> gpd.GeoDataFrame:
    """Read a file and check it can be a boundary set (everything but the geometry checks
    PostGIS makes)."""
    frame = _read(path, opts.layer)
    _check_fields(frame, path, opts.fields)
    frame[opts.fields.code] = _codes(
        frame[opts.fields.code], path, opts.fields.code, opts.code_width
    )
    _check_geometry(frame, path)
    return _to_wgs84(frame, path, opts)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is pd.NA or value != value:  # NaN
        return None
    return value


def _text(value: Any) -> str | None:
    value = _jsonable(value)
    return None if value is None or str(value).strip() == "" else str(value)


def stage(conn: Connection, frame: gpd.GeoDataFrame, fields: Fields) -> None:
    """The features in a temporary table, ``boundary_staging``."""
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
        code = str(rec[fields.code])
        name = _text(rec[fields.name]) or code
        rows.append(
            {
                "code": code,
                "name": name,
                "full_name": (_text(rec[fields.full_name]) if fields.full_name else None) or name,
                "name_en": _text(rec[fields.name_en]) if fields.name_en else None,
                "properties": json.dumps(
                    {c: _jsonable(rec[c]) for c in props_cols}, ensure_ascii=False
                ),
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


def repair(conn: Connection, path: Path) -> list[tuple[str, str]]:
    """Make every staged geometry valid; returns what was repaired and why."""
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
    return repaired


STAGED = "SELECT code, geom FROM boundary_staging"
AREAS_OF = "SELECT code, geom FROM areas WHERE set_id = {set_id}"


def _city_limit(conn: Connection, opts: LoadOptions) -> sets.SetRef | None:
    """The city limit a ward set is checked against: the one named, else the city set valid
    on the wards' first day; none when the wards will make their own (--derive-city). A city
    set is checked against wards when they are loaded, and when either is activated."""
    if opts.city_set:
        named = sets.by_name(conn, opts.city_set)
        if named is None or named.level != "city":
            raise BoundaryError(f"--city: no city boundary set named {opts.city_set!r}")
        return named
    if opts.derive_city:
        return None
    return sets.valid_on(conn, "city", opts.valid_from)


def run_checks(conn: Connection, opts: LoadOptions) -> list[Check]:
    """Every check of the staged features, failed or not."""
    found = [checks.overlaps(conn, STAGED, {}, opts.overlap_tolerance_m2)]
    if opts.level == "ward":
        city = _city_limit(conn, opts)
        found += checks.coverage(
            conn,
            STAGED,
            {"city": city.id if city else None},
            tolerance=opts.gap_tolerance_m2,
            city=AREAS_OF.format(set_id=":city") if city else None,
            city_name=city.name if city else None,
        )
    replaced = sets.active(conn, opts.level)
    if replaced is not None:
        found.append(
            checks.codes_kept(
                conn,
                STAGED,
                {},
                replaced_id=replaced.id,
                replaced_name=replaced.name,
                allow_removed=opts.allow_removed,
            )
        )
    return found


INSERT_SET_SQL = """
    INSERT INTO boundary_sets (name, level, valid_from, source, attribution, licence,
                               feature_count, city_set_id, overlap_tolerance_m2,
                               gap_tolerance_m2)
    VALUES (:name, :level, :valid_from, :source, :attribution, :licence, :n,
            (SELECT id FROM boundary_sets WHERE name = CAST(:city AS text)),
            :overlap, :gap)
    RETURNING id
"""


def store(conn: Connection, path: Path, opts: LoadOptions, features: int) -> tuple[int, int]:
    """The staged features as a new set with its lookup pieces: (set id, pieces)."""
    set_id = conn.execute(
        text(INSERT_SET_SQL),
        {
            "name": opts.set_name,
            "level": opts.level,
            "valid_from": opts.valid_from,
            "source": path.name,
            "attribution": opts.attribution,
            "licence": opts.licence,
            "n": features,
            "city": opts.city_set if opts.level == "ward" else None,
            "overlap": opts.overlap_tolerance_m2,
            "gap": opts.gap_tolerance_m2,
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
    return int(set_id), add_pieces(conn, set_id)


def add_pieces(conn: Connection, set_id: int) -> int:
    return int(
        conn.execute(
            text(
                """
                INSERT INTO area_pieces (area_id, set_id, geom)
                SELECT a.id, a.set_id, ST_Subdivide(a.geom, :max_vertices)
                  FROM areas a WHERE a.set_id = :set_id
                """
            ),
            {"set_id": set_id, "max_vertices": SUBDIVIDE_MAX_VERTICES},
        ).rowcount
    )


def load_boundary_set(conn: Connection, path: Path, opts: LoadOptions) -> LoadSummary:
    """Import ``path`` as boundary set ``opts.set_name`` inside the caller's transaction, or
    raise BoundaryError naming every check it fails. A dry run checks and writes nothing
    (the staging table is dropped; the caller rolls back)."""
    if opts.level not in LEVELS:
        raise BoundaryError(f"level must be 'ward' or 'city', not {opts.level!r}")
    for name in (opts.set_name, opts.derive_city):
        if name and sets.by_name(conn, name):
            raise BoundaryError(f"a boundary set named {name!r} exists already")
    frame = read_features(path, opts)
    stage(conn, frame, opts.fields)
    repaired = repair(conn, path)
    found = run_checks(conn, opts)
    staged_km2 = conn.execute(
        text("SELECT sum(ST_Area(geom::geography)) / 1e6 FROM boundary_staging")
    ).scalar_one()
    summary = LoadSummary(
        None, opts.set_name, opts.level, len(frame), 0, float(staged_km2), repaired, found
    )
    if opts.dry_run or not summary.ok:
        conn.execute(text("DROP TABLE boundary_staging"))
        summary.dry_run = opts.dry_run
        if not summary.ok and not opts.dry_run:
            raise BoundaryError(
                "\n".join([f"{path}: refused, nothing was loaded:", *checks.failures(found)])
            )
        return summary
    summary.set_id, summary.pieces = store(conn, path, opts, len(frame))
    conn.execute(text("DROP TABLE boundary_staging"))
    if opts.level == "ward" and opts.derive_city:
        derive_city(conn, opts.set_name, opts.derive_city)
        summary.derived_city = opts.derive_city
    return summary


CITY_OUTLINE_SQL = """
    WITH w AS (SELECT ST_Union(geom) AS g FROM areas WHERE set_id = :wards),
         filled AS (SELECT ST_Multi(ST_Union(ST_MakePolygon(ST_ExteriorRing(d.geom)))) AS g
                      FROM w, ST_Dump(w.g) d)
    INSERT INTO areas (set_id, code, name, full_name, name_en, properties, area_km2, geom)
    SELECT :city, :code, :name, :full_name, :name_en,
           jsonb_build_object('dissolved_from', CAST(:ward_name AS text)),
           ST_Area(g::geography) / 1e6, g
      FROM filled
"""


def derive_city(conn: Connection, ward_set: str, city_set: str) -> int:
    """Store the outline of ward set ``ward_set`` (its wards dissolved, holes filled) as the
    city set ``city_set`` valid from the same day: the city limit of a set that came
    without one (an old set kept for history). Returns the new set's id."""
    wards = sets.by_name(conn, ward_set)
    if wards is None or wards.level != "ward":
        raise BoundaryError(f"no ward boundary set named {ward_set!r}")
    if sets.by_name(conn, city_set):
        raise BoundaryError(f"a boundary set named {city_set!r} exists already")
    like = conn.execute(
        text(
            "SELECT a.code, a.name, a.full_name, a.name_en FROM areas a"
            " JOIN boundary_sets b ON b.id = a.set_id WHERE b.level = 'city'"
            " ORDER BY b.active DESC, b.valid_from DESC LIMIT 1"
        )
    ).first()
    city_id = conn.execute(
        text(
            "INSERT INTO boundary_sets (name, level, valid_from, source, attribution, licence,"
            " feature_count, overlap_tolerance_m2, gap_tolerance_m2)"
            " SELECT :name, 'city', valid_from, 'dissolved from ' || name,"
            " CASE WHEN attribution = '' THEN '' ELSE attribution || '; dissolved from '"
            " || name END, licence, 1, overlap_tolerance_m2, gap_tolerance_m2"
            " FROM boundary_sets WHERE id = :wards RETURNING id"
        ),
        {"name": city_set, "wards": wards.id},
    ).scalar_one()
    conn.execute(
        text(CITY_OUTLINE_SQL),
        {
            "wards": wards.id,
            "city": city_id,
            "code": like.code if like else city_set,
            "name": like.name if like else city_set,
            "full_name": like.full_name if like else city_set,
            "name_en": like.name_en if like else None,
            "ward_name": ward_set,
        },
    )
    add_pieces(conn, city_id)
    conn.execute(
        text("UPDATE boundary_sets SET city_set_id = :c WHERE id = :w"),
        {"c": city_id, "w": wards.id},
    )
    return int(city_id)


def set_active(conn: Connection, set_id: int) -> None:
    """Make the set the one active set of its level (no more: see geo_service.reform for
    what an activation of a ward set does to reports, units and rules)."""
    conn.execute(
        text(
            "UPDATE boundary_sets SET active = false WHERE active AND id <> :id"
            " AND level = (SELECT level FROM boundary_sets WHERE id = :id)"
        ),
        {"id": set_id},
    )
    conn.execute(text("UPDATE boundary_sets SET active = true WHERE id = :id"), {"id": set_id})
    conn.execute(text("ANALYZE area_pieces"))
