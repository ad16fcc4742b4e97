"""The public map's clusters endpoint with many reports, run by hand (not a test):

    python bench/map_bench.py [--reports 100000] [--database-url URL] [--repeat 20]

Sets up its own database (default geo_service_map_bench) with `geo-service init`, tops it up
to --reports demo reports with `geo-service demo-data`, starts `geo-service serve`, then asks
GET /api/v1/reports/clusters for a 1280 x 800 px browser view at each zoom from the whole
city (10) to a street (18), centred on the city centre and on four points around it, as the
public map does when someone pans and zooms. Prints per zoom: the server time (p50, p95,
max over all requests), the answer's size raw and gzipped (what a phone downloads), and how
many clusters and single reports it holds; then the same with the "open only" filter.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import time
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from geo_service.config import Settings
from geo_service.profile import load_profile
from geo_service.queue import OPEN_STATUSES
from harness import GEO_SERVICE, service_env, serving

VIEW_PX = (1280, 800)
ZOOMS = range(10, 19)


def view_bbox(lat: float, lon: float, zoom: int) -> str:
    """The bbox a VIEW_PX browser window shows at a zoom (Web Mercator, 256 px tiles)."""
    degrees_per_px = 360 / (256 * 2**zoom)
    half_w = VIEW_PX[0] / 2 * degrees_per_px
    half_h = VIEW_PX[1] / 2 * degrees_per_px  # close enough at 21° N for a benchmark
    return f"{lon - half_w:.6f},{lat - half_h:.6f},{lon + half_w:.6f},{lat + half_h:.6f}"


def run(cli_env: dict[str, str], *args: str) -> None:
    subprocess.run([*GEO_SERVICE, *args], env=cli_env, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/geo_service_map_bench"
    )
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20, help="requests per zoom and centre")
    args = ap.parse_args()

    env = service_env(args.database_url)
    run(env, "init")
    settings = Settings(database_url=args.database_url)
    engine = create_engine(settings.sqlalchemy_url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
    if have < args.reports:
        run(env, "demo-data", "--reports", str(args.reports - have))
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
    engine.dispose()

    lat0, lon0 = load_profile(settings.city_profile).city.center
    with serving(env) as base, httpx.Client(base_url=base, timeout=30) as client:
        print(f"{total:,} reports; view {VIEW_PX[0]}x{VIEW_PX[1]} px; {args.repeat} requests")
        filters: list[tuple[str, dict[str, Any]]] = [
            ("all reports", {}),
            ("open only", {"status": list(OPEN_STATUSES)}),
        ]
        for label, extra in filters:
            print(f"\n{label}")
            print("zoom  p50 ms  p95 ms  max ms  raw kB  gzip kB  clusters  singles  in view")
            for zoom in ZOOMS:
                step = 200 * 360 / (256 * 2**zoom)  # centres 200 px apart: panning
                centres = [(lat0, lon0)] + [
                    (lat0 + dy * step, lon0 + dx * step)
                    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
                ]
                times, raw, packed = [], [], []
                last: dict[str, Any] = {}
                for lat, lon in centres:
                    params = {"bbox": view_bbox(lat, lon, zoom), "zoom": zoom, **extra}
                    client.get("/api/v1/reports/clusters", params=params)  # warm
                    for _ in range(args.repeat):
                        started = time.perf_counter()
                        r = client.get("/api/v1/reports/clusters", params=params)
                        times.append((time.perf_counter() - started) * 1000)
                        r.raise_for_status()
                    raw.append(len(r.content))
                    packed.append(len(gzip.compress(r.content, 6)))
                    if (lat, lon) == centres[0]:
                        last = r.json()
                times.sort()
                print(
                    f"{zoom:>4}  {statistics.median(times):6.1f}  "
                    f"{times[int(len(times) * 0.95) - 1]:6.1f}  {times[-1]:6.1f}  "
                    f"{max(raw) / 1024:6.1f}  {max(packed) / 1024:7.1f}  "
                    f"{len(last['clusters']):8}  {len(last['reports']):7}  "
                    f"{last['total']:7,}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
