"""Throughput and latency of the hot paths, run by hand (not a test):

    python bench/http_bench.py [--workers 2] [--connections 32] [--duration 20]

Starts `geo-service serve` on its own database (geo_service_bench, set up with `init`), then
drives GET /api/v1/locate and POST /api/v1/reports with wrk (Debian package `wrk`): keep-alive
connections cycling through a fixed list of 10,000 random points in the city's bounding box
(seeded, so every run sends the same requests). Prints requests/s, p50, p99 and the share of
answers that were 2xx (points in the bounding box but outside the city get a 422).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from geo_service.config import Settings
from harness import GEO_SERVICE, service_env, serving

LUA = """
local lines = {}
for line in io.lines("%(paths)s") do lines[#lines + 1] = line end
local bodies = {}
%(bodies)s
local counter = 0
request = function()
  counter = counter + 1
  local i = (counter %% #lines) + 1
  %(request)s
end
"""


def run_wrk(
    url: str, script: Path, connections: int, duration: int, threads: int
) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise RuntimeError(f"no {label} in wrk output:\n{out}")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": ms("50%"),
        "p99": ms("99%"),
        "requests": total,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/geo_service_bench"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--only", choices=["locate", "reports"])
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    env = service_env(args.database_url)
    subprocess.run([*GEO_SERVICE, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
    engine = create_engine(Settings(database_url=args.database_url).sqlalchemy_url)
    with engine.connect() as conn:
        x1, y1, x2, y2 = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                " FROM (SELECT ST_Extent(a.geom) e FROM areas a"
                "       JOIN boundary_sets b ON b.id = a.set_id"
                "      WHERE b.level = 'ward' AND b.active) x"
            )
        ).one()
        categories = list(conn.execute(text("SELECT code FROM categories WHERE active")).scalars())
    engine.dispose()
    rng = random.Random(args.seed)
    points = [(rng.uniform(y1, y2), rng.uniform(x1, x2)) for _ in range(args.points)]

    with serving(env, workers=args.workers) as base:
        work = Path(tempfile.mkdtemp())
        locate_paths = work / "locate.txt"
        locate_paths.write_text(
            "".join(f"/api/v1/locate?lat={lat:.6f}&lon={lon:.6f}\n" for lat, lon in points)
        )
        bodies = work / "bodies.txt"
        bodies.write_text(
            "".join(
                json.dumps(
                    {
                        "category": rng.choice(categories),
                        "description": "Bench: rác thải ven đường",
                        "lat": round(lat, 6),
                        "lon": round(lon, 6),
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for lat, lon in points
            )
        )
        scripts = {
            "locate": LUA
            % {
                "paths": locate_paths,
                "bodies": "",
                "request": "return wrk.format('GET', lines[i])",
            },
            "reports": LUA
            % {
                "paths": bodies,
                "bodies": "",
                "request": "return wrk.format('POST', '/api/v1/reports',"
                " {['Content-Type']='application/json'}, lines[i])",
            },
        }
        print(
            f"{len(points):,} points in {x1:.3f}..{x2:.3f} E, {y1:.3f}..{y2:.3f} N; "
            f"{args.workers} workers, {args.connections} connections, {args.duration}s each"
        )
        for name, lua in scripts.items():
            if args.only and name != args.only:
                continue
            script = work / f"{name}.lua"
            script.write_text(lua)
            run_wrk(base, script, args.connections, 3, args.threads)  # warm-up
            r = run_wrk(base, script, args.connections, args.duration, args.threads)
            ok = 100 * (1 - r["non2xx"] / r["requests"])
            print(
                f"{name:8} {r['rps']:8.0f} req/s   p50 {r['p50']:6.2f} ms   "
                f"p99 {r['p99']:6.2f} ms   {r['requests']:,} requests, "
                f"{ok:.0f}% 2xx (the rest: points outside the city, 422)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
