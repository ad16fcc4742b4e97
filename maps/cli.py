"""``geo-service map heatmap|hotspots|wards --out FILE.html [--lang vi|en] [filters]``: the same
maps the service serves, written to a file for reports and offline use, in one language.

The file links its scripts and styles from ``FILE_files/`` (copied beside it, as a browser's
"save page" does), so it opens from disk with no server and no internet; ``--asset-url``
links a running service's ``/static/vendor`` instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from geo_service.i18n import DEFAULT_LANG, LANGUAGES
from geo_service.report_query import ReportFilter
from geo_service.report_query import filter as rf
from maps.assets import Assets, copy_assets, offline_assets
from maps.filters import MapFilters

KINDS = ("heatmap", "hotspots", "wards")


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--group", help="category group code")
    p.add_argument("--category", action="append", default=[], help="category code (repeat)")
    p.add_argument("--status", action="append", default=[], help="status (repeat)")
    p.add_argument("--ward", help="ward code (active boundary set)")
    p.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("map", help="write a heatmap, hotspot or ward map as an HTML file")
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--out", required=True, type=Path, metavar="FILE.html")
    add_filter_arguments(s)
    s.add_argument("--hex-size", type=float, metavar="METRES", help="hotspots: hexagon edge")
    s.add_argument("--eps", type=float, default=100.0, metavar="METRES", help="DBSCAN radius")
    s.add_argument("--min-points", type=int, default=30, help="DBSCAN: reports per cluster")
    s.add_argument("--no-fdr", action="store_true", help="hotspots: no FDR correction")
    s.add_argument(
        "--metric",
        default="per_km2",
        choices=["per_km2", "share_overdue", "median_hours", "satisfaction"],
    )
    s.add_argument("--scheme", default="quantiles", choices=["quantiles", "natural_breaks"])
    s.add_argument(
        "--lang",
        default=DEFAULT_LANG,
        choices=LANGUAGES,
        help=f"the map's language (default {DEFAULT_LANG})",
    )
    s.add_argument("--asset-url", help="link assets from here (e.g. https://host/static/vendor)")
    s.set_defaults(func=cmd_map)


def cmd_map(args: argparse.Namespace) -> int:
    from geo_service import db
    from geo_service.config import get_settings
    from geo_service.profile import load_profile
    from maps import build, render

    settings = get_settings()
    profile = load_profile(settings.city_profile)
    report = ReportFilter(
        groups=(args.group,) if args.group else (),
        categories=tuple(args.category),
        statuses=rf.statuses(args.status),
        wards=(args.ward,) if args.ward else (),
    )
    filters = MapFilters(report, args.date_from, args.date_to, profile.city.timezone)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    options = build.MapOptions(
        tiles=render.Tiles(settings.tile_url, settings.tile_attribution, settings.tile_max_zoom),
        assets=Assets(args.asset_url) if args.asset_url else offline_assets(out),
        hex_size_m=args.hex_size,
        eps_m=args.eps,
        min_points=args.min_points,
        false_discovery_rate=not args.no_fdr,
        metric=args.metric,
        scheme=args.scheme,
        lang=args.lang,
    )
    with db.sync_engine(settings.sqlalchemy_url).begin() as conn:
        html = build.MAPS[args.kind](conn, filters, options)
    if not args.asset_url:
        copy_assets(out)
    out.write_text(html, encoding="utf-8")
    print(f"wrote {out} ({len(html.encode()) / 1e6:.2f} MB)")
    return 0
