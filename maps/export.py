"""Reports for QGIS and spreadsheets: GeoJSON, GeoPackage or CSV, with the map filters.

No personal data leaves this way: never the reporter's name, phone, e-mail or tracking token,
and not the free-text description or address either (citizens write names and phone numbers
into them). Rows stream from a server-side cursor in batches, so a million reports never sit
in memory at once; a GeoPackage is a SQLite file, written batch by batch with pyogrio to a
temporary file that is then streamed back.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, text

from geo_service.report_query.projections import EXPORT_FIELDS, FIELDS, FROM_SQL
from maps.build import prepare
from maps.filters import MapFilters

FORMATS = {
    "geojson": ("application/geo+json", "geojson"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}
COLUMNS = tuple(EXPORT_FIELDS)
BATCH = 10_000
UTC_TEXT = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
# Timestamps as UTC text (what QGIS and spreadsheets read alike); the rest as projected.
EXPORT_SQL = (
    "SELECT "
    + ", ".join(
        f"{UTC_TEXT.format(FIELDS[field])} AS {name}"
        if field.endswith("_at")
        else f"{FIELDS[field]} AS {name}"
        for name, field in EXPORT_FIELDS.items()
    )
    + f" {FROM_SQL} WHERE {{where}} ORDER BY r.id"
)


def _rows(engine: Engine, filters: MapFilters) -> Iterator[tuple]:
    """The filtered reports in id order, fetched in batches from a server-side cursor."""
    with engine.connect() as conn:
        prepare(conn)
        where, params = filters.where()
        result = conn.execution_options(stream_results=True, max_row_buffer=BATCH).execute(
            text(EXPORT_SQL.format(where=where)),
            params,
        )
        for partition in result.partitions(BATCH):
            yield from (tuple(row) for row in partition)


def _plain(value: object) -> object:
    """Decimal (numeric columns) to float, so json can write it."""
    return float(value) if isinstance(value, Decimal) else value


def geojson_chunks(engine: Engine, filters: MapFilters) -> Iterator[bytes]:
    yield b'{"type": "FeatureCollection", "features": [\n'
    first = True
    buf = io.StringIO()
    for n, row in enumerate(_rows(engine, filters), start=1):
        props = {k: _plain(v) for k, v in zip(COLUMNS, row, strict=True) if k not in ("lon", "lat")}
        feature = {
            "type": "Feature",
            "id": row[0],
            "geometry": {"type": "Point", "coordinates": [float(row[-2]), float(row[-1])]},
            "properties": props,
        }
        buf.write(("" if first else ",\n") + json.dumps(feature, ensure_ascii=False))
        first = False
        if n % BATCH == 0:
            yield buf.getvalue().encode()
            buf = io.StringIO()
    yield (buf.getvalue() + "\n]}\n").encode()


def csv_chunks(engine: Engine, filters: MapFilters) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for n, row in enumerate(_rows(engine, filters), start=1):
        writer.writerow(["" if v is None else v for v in row])
        if n % BATCH == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def write_gpkg(engine: Engine, filters: MapFilters, path: Path) -> int:
    """Write the reports as layer ``reports`` of a GeoPackage, a batch at a time; returns
    how many rows were written."""
    import geopandas as gpd
    import pandas as pd
    from shapely import points

    written = 0
    batch: list[tuple] = []

    def flush() -> None:
        nonlocal written, batch
        frame = pd.DataFrame(batch, columns=list(COLUMNS))
        for col in ("lon", "lat"):
            frame[col] = frame[col].astype(float)
        for col in ("created_at", "deadline_at", "closed_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        geo = gpd.GeoDataFrame(frame, geometry=points(frame["lon"], frame["lat"]), crs="EPSG:4326")
        geo.to_file(path, layer="reports", driver="GPKG", engine="pyogrio", append=written > 0)
        written += len(batch)
        batch = []

    for row in _rows(engine, filters):
        batch.append(row)
        if len(batch) >= BATCH * 5:
            flush()
    if batch or not written:
        flush()
    return written


def gpkg_file(engine: Engine, filters: MapFilters) -> Path:
    """A temporary GeoPackage of the reports; the caller deletes it once sent."""
    path = Path(tempfile.mkdtemp(prefix="geo-service-export-")) / "reports.gpkg"
    try:
        write_gpkg(engine, filters, path)
    except BaseException:
        remove_gpkg(path)
        raise
    return path


def remove_gpkg(path: Path) -> None:
    """Delete a file from gpkg_file and its temporary directory."""
    path.unlink(missing_ok=True)
    path.parent.rmdir()
