"""How long each planner's map and export takes, run by hand (not a test):

    python bench/maps_bench.py [--reports 100000 1000000]

Uses its own database (gs_6_bench by default): `init`, then demo reports are topped up to
each count in turn (`geo-service demo-data`), and at each count every map is built and every
export written as the service does it, printing seconds and sizes. The heatmap's targets at a
million reports: under 2 s and under 2 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from geo_service import db
from geo_service.config import Settings
from geo_service.profile import load_profile
from harness import GEO_SERVICE
from maps import build, export, render
from maps.filters import MapFilters, check_filters


def geo_service(url: str, *args: str) -> None:
    subprocess.run(
        [*GEO_SERVICE, *args],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def timed(label: str, work: Callable[[], int]) -> None:
    """Best of three (the first run also warms the cache): seconds and bytes."""
    best, size = float("inf"), 0
    for _ in range(3):
        started = time.perf_counter()
        size = work()
        best = min(best, time.perf_counter() - started)
    print(f"  {label:28} {best:7.2f} s  {size / 1e6:8.2f} MB", flush=True)


def measure(
    engine: Engine, filters: MapFilters, year: MapFilters, options: build.MapOptions
) -> None:
    """Every map as the service builds it, and every export as it streams."""
    for kind, make in build.MAPS.items():

        def one_map(make: Callable = make) -> int:
            with engine.begin() as conn:
                return len(make(conn, filters, options).encode())

        timed(f"map {kind}", one_map)

    def stream(chunks: Callable) -> Callable[[], int]:
        return lambda: sum(len(c) for c in chunks(engine, year))

    timed("export geojson", stream(export.geojson_chunks))
    timed("export csv", stream(export.csv_chunks))

    def gpkg() -> int:
        path = export.gpkg_file(engine, year)
        try:
            return path.stat().st_size
        finally:
            export.remove_gpkg(path)

    timed("export gpkg", gpkg)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/gs_6_bench")
    ap.add_argument("--reports", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    settings = Settings(database_url=args.database_url)
    url = settings.sqlalchemy_url
    profile = load_profile(settings.city_profile)
    geo_service(args.database_url, "init")
    engine = db.sync_engine(url)
    options = build.MapOptions(
        tiles=render.Tiles(settings.tile_url, settings.tile_attribution, settings.tile_max_zoom)
    )
    for target in sorted(args.reports):
        with engine.connect() as conn:
            have = int(conn.execute(text("SELECT count(*) FROM reports")).scalar_one())
        if have < target:
            print(f"loading {target - have:,} demo reports ...", flush=True)
            geo_service(
                args.database_url,
                "demo-data",
                "--reports",
                str(target - have),
                "--seed",
                str(target),
            )
        with engine.connect() as conn:
            have = int(conn.execute(text("SELECT count(*) FROM reports")).scalar_one())
        filters = MapFilters(timezone=profile.city.timezone)  # the last 365 days
        with engine.begin() as conn:
            year = check_filters(conn, filters)
            where, params = year.where()
            matched = conn.execute(
                text(
                    f"SELECT count(*) FROM reports r JOIN categories c ON c.id = r.category_id"
                    f" WHERE {where}"
                ),
                params,
            ).scalar_one()
        print(f"{have:,} reports ({matched:,} in the last 365 days, the maps' default):")
        measure(engine, filters, year, options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
