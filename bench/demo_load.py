"""How long loading demo reports takes, run by hand (not a test):

    python bench/demo_load.py [--reports 1000000]

Creates a fresh database (geo_service_bench_demo by default), runs `init`, then times
`generate_demo_reports` (COPY into staging, one INSERT ... SELECT routed by gs_locate /
gs_route / gs_deadline, the event histories) and prints reports per second and table sizes.
"""

from __future__ import annotations

import argparse
import sys
import time

from sqlalchemy import text

from geo_service import db
from geo_service.config import Settings
from geo_service.demo import generate_demo_reports
from harness import fresh_database


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/geo_service_bench_demo"
    )
    ap.add_argument("--reports", type=int, default=1_000_000)
    args = ap.parse_args()
    settings = Settings(database_url=args.database_url)
    fresh_database(settings)

    started = time.monotonic()
    stored = generate_demo_reports(args.reports, settings=settings)
    elapsed = time.monotonic() - started
    with db.sync_engine(settings.sqlalchemy_url).connect() as conn:
        sizes = conn.execute(
            text(
                "SELECT pg_size_pretty(pg_total_relation_size('reports')),"
                " pg_size_pretty(pg_total_relation_size('report_events')),"
                " (SELECT count(*) FROM report_events)"
            )
        ).one()
    print(
        f"{stored:,} reports in {elapsed:.0f} s ({stored / elapsed:,.0f} reports/s); "
        f"reports table {sizes[0]}, {sizes[2]:,} events ({sizes[1]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
