"""One function per map: check the filters, compute the aggregates, draw. The web app and the
CLI both call these, on a synchronous connection inside a transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from boundaries import ATTRIBUTIONS_SQL
from geo_service.errors import Invalid, field_message
from geo_service.i18n import DEFAULT_LANG, N_, format_number, gettext
from maps import aggregates, render
from maps.assets import Assets
from maps.filters import MapFilters, check_filters
from maps.hotspots import HexStat, getis_ord
from maps.wards import WardFigures, ward_figures


@dataclass(frozen=True)
class MapOptions:
    """How to draw, as opposed to what to count (MapFilters)."""

    tiles: render.Tiles
    assets: Assets = field(default_factory=Assets)
    cells_across: int = 150
    hex_size_m: float | None = None  # default: follows the view
    eps_m: float = 100.0
    min_points: int = 30
    false_discovery_rate: bool = True
    metric: str = "per_km2"
    scheme: str = "quantiles"
    classes: int = 5
    lang: str = DEFAULT_LANG  # the one language the map is drawn in


def prepare(conn: Connection) -> None:
    """These are one-off analytical queries over many rows: PostgreSQL's JIT would spend
    1–2 s compiling each (PostGIS functions look expensive to the planner) to save
    milliseconds. Off for this transaction only."""
    conn.execute(text("SET LOCAL jit = off"))


def _caption(
    conn: Connection, title: str, filters: MapFilters, notes: list[str], lang: str
) -> render.Caption:
    now = dt.datetime.now(ZoneInfo(filters.timezone))
    return render.Caption(
        title=title,
        filters=[line.render(lang) for line in filters.describe()],
        data_as_of=f"{now:%Y-%m-%d %H:%M} ({filters.timezone})",
        attributions=[str(a) for a in conn.execute(ATTRIBUTIONS_SQL).scalars()],
        lang=lang,
        notes=notes,
    )


def heatmap(conn: Connection, filters: MapFilters, options: MapOptions) -> str:
    prepare(conn)
    filters = check_filters(conn, filters)
    view = aggregates.view_of(conn, filters)
    heat = aggregates.heat_cells(conn, filters, view, cells_across=options.cells_across)
    frames = aggregates.monthly_cells(conn, filters, view)
    lang = options.lang
    caption = _caption(
        conn,
        gettext(lang, "Heatmap of reports"),
        filters,
        [gettext(lang, "{n} reports", n=format_number(heat.reports, lang))],
        lang,
    )
    return render.heatmap_html(heat, frames, view, caption, options.tiles, options.assets)


@dataclass(frozen=True)
class Hotspots:
    filters: MapFilters
    view: aggregates.View
    size_m: float
    stats: list[HexStat]
    clusters: aggregates.Clusters


def hotspot_analysis(conn: Connection, filters: MapFilters, options: MapOptions) -> Hotspots:
    prepare(conn)
    filters = check_filters(conn, filters)
    view = aggregates.view_of(conn, filters)
    size = options.hex_size_m or aggregates.default_hex_size(view)
    hexagons = aggregates.hex_counts(conn, filters, view, size_m=size)
    stats = getis_ord(hexagons, size, false_discovery_rate=options.false_discovery_rate)
    clusters = aggregates.dbscan_clusters(
        conn,
        filters,
        view,
        total=sum(h.reports for h in hexagons),
        eps_m=options.eps_m,
        min_points=options.min_points,
    )
    return Hotspots(filters, view, size, stats, clusters)


def hotspots(conn: Connection, filters: MapFilters, options: MapOptions) -> str:
    result = hotspot_analysis(conn, filters, options)
    lang = options.lang
    total = sum(s.hexagon.reports for s in result.stats)
    notes = [
        gettext(
            lang,
            "{n} reports, {hexagons} hexagons of {size} m",
            n=format_number(total, lang),
            hexagons=format_number(len(result.stats), lang),
            size=format_number(result.size_m, lang),
        ),
        gettext(lang, "False Discovery Rate thresholds")
        if options.false_discovery_rate
        else gettext(lang, "No multiple-testing correction"),
    ]
    title = gettext(lang, "Hot spots of reports (Getis-Ord Gi*)")
    caption = _caption(conn, title, result.filters, notes, lang)
    return render.hotspots_html(
        result.stats,
        result.clusters,
        result.size_m,
        result.view,
        caption,
        options.tiles,
        options.assets,
    )


def ward_analysis(
    conn: Connection, filters: MapFilters, options: MapOptions
) -> tuple[MapFilters, aggregates.View, list[WardFigures], render.Classes]:
    if options.metric not in render.METRICS:
        message = N_("one of {values}", values=", ".join(render.METRICS))
        raise Invalid(field_message("metric", message), "metric")
    if options.scheme not in ("quantiles", "natural_breaks"):
        message = N_("one of {values}", values="quantiles, natural_breaks")
        raise Invalid(field_message("scheme", message), "scheme")
    prepare(conn)
    filters = check_filters(conn, filters)
    view = aggregates.view_of(conn, filters)
    figures = ward_figures(conn, filters)
    values = [getattr(w, options.metric) for w in figures]
    classes = render.classify(values, options.scheme, options.classes)
    return filters, view, figures, classes


def wards(conn: Connection, filters: MapFilters, options: MapOptions) -> str:
    filters, view, figures, classes = ward_analysis(conn, filters, options)
    previous = filters.previous()
    lang = options.lang
    metric = render.METRICS[options.metric].label.render(lang)
    period = f"{previous.date_from} – {previous.date_to}"
    caption = _caption(
        conn,
        gettext(lang, "Wards: {metric}", metric=metric),
        filters,
        [gettext(lang, "Previous period: {period}", period=period)],
        lang,
    )
    return render.wards_html(
        figures,
        options.metric,
        classes,
        period,
        view,
        caption,
        options.tiles,
        options.assets,
    )


MAPS: dict[str, Callable[[Connection, MapFilters, MapOptions], str]] = {
    "heatmap": heatmap,
    "hotspots": hotspots,
    "wards": wards,
}
