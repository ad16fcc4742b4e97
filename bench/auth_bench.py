"""How long logging in and checking a token take, run by hand (not a test):

    python bench/auth_bench.py [--logins 40] [--requests 2000] [--concurrency 8]

Starts `geo-service serve` on its own database (geo_service_bench_auth, set up with `init`),
creates an official with `geo-service users create`, then measures over keep-alive HTTP:

- POST /api/v1/auth/token one at a time: dominated by argon2id (64 MiB, t=3) on purpose;
- GET /api/v1/auth/me one at a time: the cost every authenticated request pays (a session
  lookup by the token's SHA-256, joined to its user), and the same with `--concurrency`
  clients at once for requests per second.

Prints p50 / p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from harness import GEO_SERVICE, percentile, service_env, serving

PASSWORD = "bench-password-2026"


def percentiles(samples: list[float]) -> str:
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    return f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   (n={len(samples)})"


def timed(call: httpx.Client, method: str, url: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = call.request(method, url, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/geo_service_bench_auth"
    )
    ap.add_argument("--logins", type=int, default=40)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    env = service_env(args.database_url)
    subprocess.run([*GEO_SERVICE, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [
            *GEO_SERVICE,
            "users",
            "create",
            "--username",
            "bench.official",
            "--role",
            "unit_staff",
            "--unit",
            "urenco",
            "--password-stdin",
        ],
        env=env,
        input=PASSWORD,
        text=True,
        capture_output=True,
    )  # no check: on a second run the account is already there

    with serving(env, workers=args.workers) as base:
        form = {"username": "bench.official", "password": PASSWORD}
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(3):  # warm-up
                timed(client, "POST", "/api/v1/auth/token", data=form)
            logins = [
                timed(client, "POST", "/api/v1/auth/token", data=form) for _ in range(args.logins)
            ]
            token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(50):
                timed(client, "GET", "/api/v1/auth/me", headers=headers)
            me = [
                timed(client, "GET", "/api/v1/auth/me", headers=headers)
                for _ in range(args.requests)
            ]

        def one_client(n: int) -> list[float]:
            with httpx.Client(base_url=base, timeout=30) as c:
                return [timed(c, "GET", "/api/v1/auth/me", headers=headers) for _ in range(n)]

        per_client = args.requests // args.concurrency
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            parallel = [
                x for batch in pool.map(one_client, [per_client] * args.concurrency) for x in batch
            ]
        wall = time.perf_counter() - started

        print(f"{args.workers} worker(s); argon2id 64 MiB, t=3, p=4; sessions by SHA-256")
        print(f"POST /api/v1/auth/token       {percentiles(logins)}")
        print(f"GET  /api/v1/auth/me          {percentiles(me)}")
        print(
            f"GET  /api/v1/auth/me x{args.concurrency:<3}     {percentiles(parallel)}"
            f"   {len(parallel) / wall:,.0f} req/s (httpx clients, Python-bound)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
