"""Latency and throughput of the Open311 endpoints, run by hand (not a test):

    python bench/open311_bench.py [--database-url URL] [--workers 2] [--concurrency 8]

Uses a database of its own (default geo_service_open311_bench) set up with `init`, and fills
it with `demo-data` up to --reports reports (100,000 by default) when it has fewer. Then
starts `geo-service serve` and drives, with --concurrency clients on keep-alive connections:

- GET requests.json and requests.xml: the default query (the last 90 days, newest first,
  1,000 requests, each with its latest public comment and photo);
- GET requests/{id}.json for random report ids;
- POST requests.json: form-encoded, with an api key, routed like any report.

Prints requests/s, p50 and p99 latency and the size of one answer for each (the lists
also gzip-compressed, as the app does when a client accepts it). The client runs on the
same machine: on a small one it takes a good share of the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from geo_service.config import Settings
from harness import GEO_SERVICE, service_env, serving


async def drive(
    base: str,
    make: Callable[[int], tuple[str, str, dict[str, Any] | None]],
    count: int,
    concurrency: int,
    encoding: str,
) -> dict[str, float]:
    """Send ``count`` requests from ``concurrency`` clients; every answer must be a 200."""
    latencies: list[float] = []
    size = 0
    counter = iter(range(count))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal size
        for i in counter:
            method, path, form = make(i)
            t0 = time.perf_counter()
            r = await client.request(method, path, data=form)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
            size = int(r.headers.get("content-length") or len(r.content))

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Accept-Encoding": encoding}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=60, headers=headers
    ) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "rps": count / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "bytes": size,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/geo_service_open311_bench",
    )
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--count", type=int, default=200, help="requests per list scenario")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    env = service_env(args.database_url)

    def cli(*argv: str) -> str:
        done = subprocess.run(
            [*GEO_SERVICE, *argv],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    cli("init")
    engine = create_engine(Settings(database_url=args.database_url).sqlalchemy_url)
    with engine.connect() as conn:
        have = int(conn.execute(text("SELECT count(*) FROM reports")).scalar_one())
    if have < args.reports:
        print(f"loading {args.reports - have:,} demo reports …", flush=True)
        cli("demo-data", "--reports", str(args.reports - have), "--seed", str(args.seed))
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM reports")).scalars())
        in_window = conn.execute(
            text("SELECT count(*) FROM reports WHERE created_at > now() - interval '90 days'")
        ).scalar_one()
        codes = list(conn.execute(text("SELECT code FROM categories WHERE active")).scalars())
        # Pins where reports already are, so inside the city.
        pins = [
            (float(r.lat), float(r.lon))
            for r in conn.execute(
                text("SELECT ST_Y(geom) AS lat, ST_X(geom) AS lon FROM reports LIMIT 500")
            )
        ]
    engine.dispose()
    key = cli("open311", "keys", "create", "--client", "open311 bench").strip().splitlines()[-1]

    rng = random.Random(args.seed)
    # Required questions answered, so every POST is accepted.
    answers = {
        "garbage_uncollected": {"attribute[waste_kind][]": "household"},
        "road_damage": {"attribute[pothole_size]": "small"},
        "broken_street_light": {"attribute[lamp_fault]": "dark"},
        "flooding": {"attribute[water_depth]": "ankle"},
    }

    def post(i: int) -> tuple[str, str, dict[str, Any]]:
        code = codes[i % len(codes)]
        lat, lon = rng.choice(pins)
        form = {
            "api_key": key,
            "service_code": code,
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "description": "Bench: rác thải ven đường, đèn hỏng",
            **answers.get(code, {}),
        }
        return "POST", "/open311/v2/requests.json", form

    def listing(fmt: str) -> Callable[[int], tuple[str, str, None]]:
        return lambda i: ("GET", f"/open311/v2/requests.{fmt}", None)

    scenarios: list[tuple[str, Callable[[int], tuple[str, str, Any]], int, str]] = [
        ("GET requests.json (1000)", listing("json"), args.count, "identity"),
        ("  same, gzip", listing("json"), args.count, "gzip"),
        ("GET requests.xml (1000)", listing("xml"), args.count, "identity"),
        ("  same, gzip", listing("xml"), args.count, "gzip"),
        ("GET requests/{id}.json",
         lambda i: ("GET", f"/open311/v2/requests/{rng.choice(ids)}.json", None),
         args.count * 10, "identity"),
        ("POST requests.json", post, args.count * 5, "identity"),
    ]  # fmt: skip

    with serving(env, workers=args.workers) as base:
        print(
            f"{len(ids):,} reports ({in_window:,} in the last 90 days); {args.workers} workers,"
            f" {args.concurrency} concurrent clients"
        )
        for name, make, count, encoding in scenarios:
            warm = max(count // 10, args.concurrency)
            asyncio.run(drive(base, make, warm, args.concurrency, encoding))
            r = asyncio.run(drive(base, make, count, args.concurrency, encoding))
            print(
                f"{name:26} {r['rps']:8.1f} req/s   p50 {r['p50']:7.1f} ms   "
                f"p99 {r['p99']:7.1f} ms   {r['bytes']:>9,} bytes"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
