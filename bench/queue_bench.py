"""How fast the officials' queue and the public figures are, run by hand (not a test):

    python bench/queue_bench.py [--reports 100000] [--keep]

Creates a fresh database (geo_service_bench_queue by default), runs `init` and loads demo
reports (skipped with --keep when the database already holds that many), then times, through
the same functions the API calls (queue.queue_page, stats.figures), on the async engine:

- the default queue page (open reports by deadline, with counts per status) of the biggest
  unit and of a ward's People's Committee; a city-wide page as an admin sees it;
- a filtered page (category, priority, date range, not overdue, all statuses);
- a text search; a deep page (page 20);
- the public figures for the city with breakdowns, for one unit and for one ward.

Prints the median and 95th percentile of each, and EXPLAIN ANALYZE of the default page.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import db, queue, stats
from geo_service.config import Settings
from geo_service.demo import generate_demo_reports
from harness import fresh_database, percentile


def prepare(settings: Settings, reports: int, keep: bool) -> None:
    url = settings.sqlalchemy_url
    if keep:
        try:
            with create_engine(url).connect() as conn:
                have = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
            if have >= reports:
                print(f"using the {have:,} reports already in {make_url(url).database}")
                db.migrate(url)  # new indexes, if any
                with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
                    conn.execute(text("VACUUM ANALYZE reports"))
                return
        except Exception:  # no database yet: build it
            pass
    fresh_database(settings)
    started = time.monotonic()
    generate_demo_reports(reports, settings=settings, say=lambda _: None)
    print(f"loaded {reports:,} demo reports in {time.monotonic() - started:.0f} s")
    with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("VACUUM ANALYZE reports"))


async def timed(
    conn: AsyncConnection, name: str, run: Callable[[], Awaitable[Any]], repeat: int
) -> None:
    await run()  # warm the cache and psycopg's prepared statements
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    median, p95 = statistics.median(samples), percentile(samples, 0.95)
    print(f"  {name:58} median {median:7.1f} ms   p95 {p95:7.1f} ms")


async def bench(settings: Settings, repeat: int) -> None:
    engine = db.make_async_engine(settings, autocommit=True)
    async with engine.connect() as conn:
        total = (await conn.execute(text("SELECT count(*) FROM reports"))).scalar_one()
        big = (
            await conn.execute(
                text(
                    "SELECT u.id, u.code, count(*) AS n FROM reports r JOIN units u"
                    " ON u.id = r.unit_id GROUP BY u.id, u.code ORDER BY n DESC LIMIT 1"
                )
            )
        ).one()
        ward = (
            await conn.execute(
                text(
                    "SELECT u.id, u.code, u.ward_code, count(*) AS n FROM reports r"
                    " JOIN units u ON u.id = r.unit_id WHERE u.kind = 'ward_committee'"
                    " GROUP BY u.id ORDER BY n DESC LIMIT 1"
                )
            )
        ).one()
        print(
            f"{total:,} reports; biggest unit {big.code} has {big.n:,}, busiest ward "
            f"committee {ward.code} has {ward.n:,}"
        )
        big_scope, ward_scope = queue.Scope(big.id), queue.Scope(ward.id)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=90)
        filtered = queue.QueueFilter(
            statuses=queue.STATUSES,
            categories=("garbage_uncollected",),
            priorities=("normal", "high"),
            overdue=False,
            date_from=since,
        )
        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            (
                f"queue page: {big.code}, open by deadline + counts",
                lambda: queue.queue_page(conn, big_scope, queue.QueueFilter()),
            ),
            (
                f"queue page: {ward.code}, open by deadline + counts",
                lambda: queue.queue_page(conn, ward_scope, queue.QueueFilter()),
            ),
            (
                "queue page: whole city (admin), open by deadline",
                lambda: queue.queue_page(conn, queue.Scope(None), queue.QueueFilter()),
            ),
            (
                f"filtered page: {big.code}, category+priority+90 days",
                lambda: queue.queue_page(conn, big_scope, filtered),
            ),
            (
                f"text search: {big.code}, 'Đồng Xuân', all statuses",
                lambda: queue.queue_page(
                    conn, big_scope, queue.QueueFilter(statuses=queue.STATUSES, text="Đồng Xuân")
                ),
            ),
            (
                f"deep page: {big.code}, page 20 of all by deadline",
                lambda: queue.queue_page(
                    conn, big_scope, queue.QueueFilter(statuses=queue.STATUSES), page=20
                ),
            ),
            ("stats: city, per ward/unit/category", lambda: stats.figures(conn)),
            (
                f"stats: unit {big.code}, no breakdowns",
                lambda: stats.figures(conn, unit=big.code, breakdowns=False),
            ),
            (
                f"stats: ward {ward.ward_code}, with breakdowns",
                lambda: stats.figures(conn, ward=ward.ward_code),
            ),
        ]
        for name, run in cases:
            await timed(conn, name, run, repeat)

        plan = await conn.execute(
            text(
                f"""
                EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
                SELECT r.id FROM reports r
                 WHERE {big_scope.unit_filter} AND {queue.OPEN_SQL}
                 ORDER BY r.deadline_at, r.id LIMIT 50
                """
            ),
            big_scope.params,
        )
        print("\nEXPLAIN ANALYZE of the default page's list query:")
        for line in plan.scalars():
            print("  " + line)
    await engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/geo_service_bench_queue"
    )
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="reuse the database if it is loaded")
    args = ap.parse_args()
    settings = Settings(database_url=args.database_url)
    prepare(settings, args.reports, args.keep)
    asyncio.run(bench(settings, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
