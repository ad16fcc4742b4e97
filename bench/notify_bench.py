"""How quickly people are told, run by hand (not a test):

    python bench/notify_bench.py [--reports 1000] [--rate 10] [--burst 1000] [--concurrency 10]

Creates a fresh database (gs_notify_bench by default, or DATABASE_URL's), gives every unit one
notification address, runs an SMTP server (aiosmtpd) in this process and `geo-service worker`
as a subprocess, then:

1. latency: files ``--reports`` reports through ``reports.create_report`` (the API's own
   code, one autocommit statement each) at ``--rate`` a second, and times each from the
   moment its INSERT returned (committed) to the moment the SMTP server has the unit's mail
   (both clocks in this process): p50, p90, p99, max;
2. throughput: with the worker stopped, files ``--burst`` reports, then starts the worker and
   times how long it takes to fan them out and deliver every unit mail: messages per second.

Prints the machine's load average before and after, since the figures depend on it.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import random
import subprocess
import sys
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import text

from geo_service.config import Settings
from geo_service.db import make_async_engine, sync_engine
from geo_service.reports import ReportIn, create_report
from harness import GEO_SERVICE, free_port, fresh_database, percentile, service_env

CENTRE = (21.0287, 105.8524)


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if str(mail["To"]).startswith("unit-"):
            with self.lock:
                self.at.setdefault(int(str(mail["X-GS-Report"])), now)
        return "250 OK"

    def wait(self, ids: set[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if ids <= self.at.keys():
                    return
            time.sleep(0.05)
        missing = len(ids - self.at.keys())
        raise SystemExit(f"{missing} of {len(ids)} unit mails never arrived")


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*GEO_SERVICE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def file_reports(settings: Settings, n: int, rate: float | None) -> dict[int, float]:
    """Report id -> the moment its statement returned (committed, autocommit)."""
    engine = make_async_engine(settings, autocommit=True)
    committed: dict[int, float] = {}
    rng = random.Random(16)
    started = time.monotonic()
    try:
        async with engine.connect() as conn:
            for i in range(n):
                if rate:
                    await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                lat = CENTRE[0] + rng.uniform(-0.004, 0.004)
                lon = CENTRE[1] + rng.uniform(-0.004, 0.004)
                data = ReportIn(
                    category="garbage_uncollected", description=f"bench {i}", lat=lat, lon=lon
                )
                created = await create_report(conn, data, [], snap_m=50, city="bench")
                committed[created.id] = time.time()
    finally:
        await engine.dispose()
    return committed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="reports a second (latency)")
    parser.add_argument("--burst", type=int, default=1000, help="reports queued (throughput)")
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/gs_notify_bench")
    settings = Settings(database_url=url)
    print(f"load average before: {os.getloadavg()}")
    fresh_database(settings)
    with sync_engine(settings.sqlalchemy_url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit_contacts (unit_id, email, lang)"
                " SELECT id, 'unit-' || code || '@bench.example', 'vi' FROM units"
            )
        )
    arrivals = Arrivals()
    port = free_port()
    smtp = Controller(arrivals, hostname="127.0.0.1", port=port)
    smtp.start()
    env = {
        **service_env(settings.database_url),
        "SMTP_URL": f"smtp://127.0.0.1:{port}",
        "NOTIFY_CONCURRENCY": str(args.concurrency),
    }
    worker = start_worker(env)
    try:
        time.sleep(3)  # the worker connects and listens
        committed = asyncio.run(file_reports(settings, args.reports, args.rate))
        arrivals.wait(set(committed), timeout=120)
        ms = [(arrivals.at[i] - t) * 1000 for i, t in committed.items()]
        print(
            f"commit -> SMTP, {len(ms)} reports at {args.rate:g}/s, worker concurrency "
            f"{args.concurrency}: p50 {percentile(ms, 0.5):.0f} ms, p90 "
            f"{percentile(ms, 0.9):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, "
            f"max {max(ms):.0f} ms"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    queued = asyncio.run(file_reports(settings, args.burst, None))
    started = time.time()
    worker = start_worker(env)
    try:
        arrivals.wait(set(queued), timeout=600)
        spent = max(arrivals.at[i] for i in queued) - started
        print(
            f"throughput: {len(queued)} reports queued, their unit mails delivered in "
            f"{spent:.1f} s (worker start included): {len(queued) / spent:.0f} messages/s"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        smtp.stop()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
