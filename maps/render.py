"""Drawing the aggregates with folium: a base map with its caption (title, filters, data date,
boundary attribution), legend and layer switcher, and one function per map. A map is drawn in
one language, the caption's (the page's, or the CLI's ``--lang``).

Every asset the page loads comes from ``maps.assets`` (our own copies); the only outside URL
is the tile server's, and that is a setting (``TILE_URL``; empty for no basemap).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import folium
from babel.numbers import format_decimal
from branca.element import Element, Figure, MacroElement
from folium.plugins import HeatMap, HeatMapWithTime
from folium.template import Template

from geo_service.i18n import N_, Message, format_number, gettext
from maps.aggregates import Clusters, Frames, Heat, View
from maps.assets import Assets
from maps.hotspots import HexStat

# Gi* classes, hot to cold (ColorBrewer RdBu); "none" is drawn as a faint outline.
SPOT_COLOURS = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "none": "#999999",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}
SPOT_LABELS: dict[str, Message] = {
    "hot_99": N_("Hot spot {confidence} %", confidence=99),
    "hot_95": N_("Hot spot {confidence} %", confidence=95),
    "hot_90": N_("Hot spot {confidence} %", confidence=90),
    "none": N_("Not significant"),
    "cold_90": N_("Cold spot {confidence} %", confidence=90),
    "cold_95": N_("Cold spot {confidence} %", confidence=95),
    "cold_99": N_("Cold spot {confidence} %", confidence=99),
}
SEQUENTIAL = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]  # YlOrRd, 5 classes
NO_DATA = "#d9d9d9"
CHANGE_BINS = (  # (upper bound of relative change, colour, label); fewer reports is better
    (-0.25, "#1a9641", "≤ −25 %"),
    (-0.05, "#a6d96a", "−25 … −5 %"),
    (0.05, "#ffffbf", "−5 … +5 %"),
    (0.25, "#fdae61", "+5 … +25 %"),
    (float("inf"), "#d7191c", "≥ +25 %"),
)
STYLE = """
<style>
.gs-panel { background: rgba(255,255,255,.93);
  padding: 6px 10px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: 12px/1.4 system-ui, sans-serif; max-width: 26rem; }
.gs-caption h1 { font-size: 15px; margin: 0 0 4px; }
.gs-caption ul { margin: 0; padding-left: 1.1em; }
.gs-caption .gs-source { color: #555; margin-top: 4px; }
.gs-legend h2 { font-size: 12px; margin: 0 0 4px; }
.gs-legend i { display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid #777; }
.gs-heat-scale { height: 10px; width: 160px; border: 1px solid #777;
  background: linear-gradient(to right, blue, cyan, lime, yellow, red); }
.gs-below { font: 13px/1.4 system-ui, sans-serif; padding: 8px 12px; }
.gs-below table { border-collapse: collapse; }
.gs-below th, .gs-below td { border-bottom: 1px solid #ddd; padding: 3px 8px;
  text-align: left; }
.gs-below td.num { text-align: right; }
</style>
"""


def _page(m: folium.Map) -> Figure:
    """The HTML document the map is drawn in (header, body, scripts)."""
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


@dataclass(frozen=True)
class Caption:
    """What every map says about itself, in ``lang``: the language the whole map is drawn in."""

    title: str
    filters: list[str]
    data_as_of: str
    attributions: list[str]
    lang: str
    notes: list[str] = field(default_factory=list)

    def html(self) -> str:
        items = "".join(f"<li>{escape(line)}</li>" for line in [*self.filters, *self.notes])
        sources = "<br>".join(escape(a) for a in self.attributions)
        as_of = gettext(self.lang, "Data as of {when}", when=self.data_as_of)
        return (
            f'<div class="gs-panel gs-caption" id="gs-caption"><h1>{escape(self.title)}</h1>'
            f'<ul>{items}</ul><div class="gs-source">{escape(as_of)}'
            f"{'<br>' + sources if sources else ''}</div></div>"
        )


class Panel(MacroElement):
    """Our HTML (caption, legend), written into the page and moved into a Leaflet control,
    so it sits inside the map, stacks with the other controls and never covers the
    attribution."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
          var panel = L.control({position: {{ this.position|tojson }}});
          panel.onAdd = function () {
            var el = document.getElementById({{ this.element_id|tojson }});
            L.DomEvent.disableClickPropagation(el);
            L.DomEvent.disableScrollPropagation(el);
            return el;
          };
          panel.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(self, m: folium.Map, html: str, element_id: str, position: str) -> None:
        super().__init__()
        self._name = "Panel"
        self.element_id = element_id
        self.position = position
        _page(m).html.add_child(Element(html))
        self.add_to(m)


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str
    max_zoom: int = 19


def base_map(
    view: View, caption: Caption, tiles: Tiles, assets: Assets, *, height: str = "100%"
) -> folium.Map:
    """A map framed on the view, with the caption, our assets and the layer-less extras."""
    m = folium.Map(
        location=list(view.centre),
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        height=height,
        position="relative" if height != "100%" else "absolute",
    )
    assets.localise(m)
    _page(m).header.add_child(Element(f"<title>{escape(caption.title)}</title>"))
    _page(m).header.add_child(Element(STYLE))
    if tiles.url:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name=gettext(caption.lang, "Basemap"),
            max_zoom=tiles.max_zoom,
            control=False,
        ).add_to(m)
    m.fit_bounds([[view.y1, view.x1], [view.y2, view.x2]])
    Panel(m, caption.html(), "gs-caption", "topleft")
    return m


def _legend(m: folium.Map, title: str, rows: Sequence[tuple[str, str]], extra: str = "") -> None:
    """rows: (colour, label)"""
    body = "".join(
        f'<div><i style="background:{colour}"></i>{escape(label)}</div>' for colour, label in rows
    )
    Panel(
        m,
        f'<div class="gs-panel gs-legend" id="gs-legend"><h2>{escape(title)}</h2>'
        f"{body}{extra}</div>",
        "gs-legend",
        "bottomright",
    )


def _finish(m: folium.Map, below: str = "") -> str:
    folium.LayerControl(collapsed=False).add_to(m)
    html = str(_page(m).render())
    if below:  # after the map's own element, which folium adds only while rendering
        html = html.replace("</body>", f'<div class="gs-below">{below}</div>\n</body>', 1)
    return html


# --- Heatmap -------------------------------------------------------------------------------


def heatmap_html(
    heat: Heat, frames: Frames, view: View, caption: Caption, tiles: Tiles, assets: Assets
) -> str:
    """The heat layer (one weighted point per grid cell) and, as a second layer, the last
    twelve months one frame a month with a time slider."""
    lang = caption.lang
    m = base_map(view, caption, tiles, assets)
    layer = HeatMap(
        [[c.lat, c.lon, c.weight] for c in heat.cells],
        name=gettext(lang, "Report density ({n} reports)", n=format_number(heat.reports, lang)),
        radius=14,
        blur=12,
        min_opacity=0.3,
    )
    assets.localise(layer)
    layer.add_to(m)
    timed = HeatMapWithTime(
        [[[c.lat, c.lon, c.weight] for c in frame] for frame in frames.frames],
        index=frames.months,
        name=gettext(lang, "By month (12 months)"),
        radius=16,
        min_opacity=0.2,
        max_opacity=0.8,
        auto_play=False,
        show=False,
        position="bottomleft",
    )
    assets.localise(timed)
    timed.add_to(m)
    cells = gettext(
        lang,
        "Grid cell ≈ {cell} m (months ≈ {month_cell} m)",
        cell=format_number(heat.cell_m, lang),
        month_cell=format_number(frames.cell_m, lang),
    )
    scale = gettext(lang, "few → many")
    _legend(
        m,
        gettext(lang, "Density"),
        [],
        f'<div class="gs-heat-scale"></div><div>{escape(scale)}</div><div>{escape(cells)}</div>',
    )
    return _finish(m)


# --- Hotspots ------------------------------------------------------------------------------


def hotspots_html(
    stats: list[HexStat],
    clusters: Clusters,
    size_m: float,
    view: View,
    caption: Caption,
    tiles: Tiles,
    assets: Assets,
) -> str:
    """Gi* classes as coloured hexagons, DBSCAN clusters as outlines, and the cluster table
    under the map."""
    lang = caption.lang
    m = base_map(view, caption, tiles, assets, height="70%")
    features = []
    for s in stats:
        colour = SPOT_COLOURS[s.spot]
        significant = s.spot != "none"
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(s.hexagon.geojson),
                "properties": {
                    "reports": s.hexagon.reports,
                    "z": round(s.z, 2),
                    "spot": SPOT_LABELS[s.spot].render(lang),
                    "style": {
                        "color": colour if significant else "#bbbbbb",
                        "weight": 0.5,
                        "fillColor": colour,
                        "fillOpacity": 0.65 if significant else 0.0,
                    },
                },
            }
        )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=gettext(lang, "Gi* hot spots (hexagon {size} m)", size=format_number(size_m, lang)),
        tooltip=folium.GeoJsonTooltip(
            ["spot", "reports", "z"], aliases=["Gi*", gettext(lang, "Reports"), "z"]
        ),
    ).add_to(m)
    hulls = folium.FeatureGroup(name=gettext(lang, "DBSCAN clusters"))
    for c in clusters.clusters:
        folium.GeoJson(
            json.loads(c.hull),
            style_function=lambda _: {"color": "#542788", "weight": 2, "fillOpacity": 0.05},
            tooltip=f"#{c.rank}: {c.reports:,} · {c.category_name} · {c.ward_name}",
        ).add_to(hulls)
    hulls.add_to(m)
    order = ["hot_99", "hot_95", "hot_90", "cold_90", "cold_95", "cold_99"]
    _legend(
        m,
        "Getis-Ord Gi*",
        [(SPOT_COLOURS[k], SPOT_LABELS[k].render(lang)) for k in order],
        '<div><i style="background:none;border:2px solid #542788"></i>'
        + escape(gettext(lang, "DBSCAN cluster"))
        + "</div>",
    )
    return _finish(m, cluster_table(clusters, lang))


def cluster_table(clusters: Clusters, lang: str) -> str:
    sample = (
        " " + gettext(lang, "Estimated from a 1-in-{n} sample.", n=clusters.sample_every)
        if clusters.sample_every > 1
        else ""
    )
    settings = gettext(
        lang,
        "ε = {eps} m, min. {n} reports.",
        eps=format_number(clusters.eps_m, lang),
        n=format_number(clusters.min_points, lang),
    )
    title = gettext(lang, "DBSCAN clusters")
    head = f"<h2>{escape(title)}</h2><p>{escape(settings + sample)}</p>"
    if not clusters.clusters:
        return head + "<p>" + escape(gettext(lang, "No clusters.")) + "</p>"
    rows = "".join(
        f"<tr><td class=num>{c.rank}</td><td class=num>{format_number(c.reports, lang)}</td>"
        f"<td>{escape(c.category_name)} ({c.category_share:.0%})</td>"
        f"<td>{escape(c.ward_name)}</td><td>{c.lat:.5f}, {c.lon:.5f}</td></tr>"
        for c in clusters.clusters
    )
    columns = [
        gettext(lang, "Reports"),
        gettext(lang, "Main category"),
        gettext(lang, "Ward"),
        gettext(lang, "Centre"),
    ]
    heads = "".join(f"<th>{escape(c)}</th>" for c in columns)
    return (
        f'{head}<table id="clusters"><thead><tr><th>#</th>{heads}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


# --- Ward choropleth -----------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A figure a ward map can show: its name, and how a value is written (a CLDR number
    pattern, so 1.234,5 in Vietnamese and 1,234.5 in English)."""

    label: Message
    pattern: str

    def show(self, value: float | None, lang: str) -> str:
        return "–" if value is None else str(format_decimal(value, self.pattern, locale=lang))


METRICS = {
    "per_km2": Metric(N_("Reports per km²"), "#,##0.0"),
    "share_overdue": Metric(N_("Share overdue"), "#,##0%"),
    "median_hours": Metric(N_("Median hours to resolve"), "#,##0 h"),
    "satisfaction": Metric(N_("Satisfied (share of ratings)"), "#,##0%"),
}
METRIC_FIELDS = ["name", "reports", *METRICS]
CHANGE = Metric(N_("Change in reports"), "+#,##0%;-#,##0%")


@dataclass(frozen=True)
class Classes:
    """mapclassify's classes for one metric: a class index per ward (None: no value)."""

    scheme: str
    bins: list[float]  # upper bounds
    lower: float
    index: list[int | None]

    def legend(self, metric: Metric, lang: str) -> list[tuple[str, str]]:
        rows, low = [], self.lower
        for i, high in enumerate(self.bins):
            colour = SEQUENTIAL[round(i * (len(SEQUENTIAL) - 1) / max(len(self.bins) - 1, 1))]
            rows.append((colour, f"{metric.show(low, lang)} – {metric.show(high, lang)}"))
            low = high
        return rows

    def colour(self, i: int | None) -> str:
        if i is None:
            return NO_DATA
        return SEQUENTIAL[round(i * (len(SEQUENTIAL) - 1) / max(len(self.bins) - 1, 1))]


def classify(values: Sequence[float | None], scheme: str, k: int) -> Classes:
    """Quantiles or natural breaks (Jenks) of the wards that have a value."""
    import mapclassify
    import numpy as np

    have = np.array([v for v in values if v is not None], dtype=float)
    if have.size == 0:
        return Classes(scheme, [], 0.0, [None] * len(values))
    k = max(1, min(k, len(np.unique(have))))
    if k < 2:
        bins, yb = [float(have.max())], np.zeros(have.size, dtype=int)
    elif scheme == "natural_breaks":
        c = mapclassify.NaturalBreaks(have, k=k)
        bins, yb = [float(b) for b in c.bins], c.yb
    else:
        c = mapclassify.Quantiles(have, k=k)
        bins, yb = [float(b) for b in c.bins], c.yb
    it = iter(int(i) for i in yb)
    index = [None if v is None else next(it) for v in values]
    return Classes(scheme, bins, float(have.min()), index)


def change_colour(change: float | None) -> str:
    if change is None:
        return NO_DATA
    return next(colour for bound, colour, _ in CHANGE_BINS if change <= bound)


def _feature(geometry: object, props: dict[str, str], fill: str) -> dict[str, object]:
    style = {"color": "#555555", "weight": 0.6, "fillColor": fill, "fillOpacity": 0.7}
    return {"type": "Feature", "geometry": geometry, "properties": {**props, "style": style}}


def _ward_features(
    wards: list,  # list[WardFigures]
    classes: Classes,
    lang: str,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Each ward twice: coloured by its class, and by its change against the previous period;
    the tooltips' values written in ``lang``."""
    features, changes = [], []
    for w, cls in zip(wards, classes.index, strict=True):
        props = {
            "name": w.name,
            "reports": format_number(w.reports, lang),
            **{name: metric.show(getattr(w, name), lang) for name, metric in METRICS.items()},
            "previous": format_number(w.previous, lang),
            "change": CHANGE.show(w.change, lang),
        }
        geometry = json.loads(w.geojson)
        features.append(_feature(geometry, props, classes.colour(cls)))
        changes.append(_feature(geometry, props, change_colour(w.change)))
    return features, changes


def wards_html(
    wards: list,  # list[WardFigures]
    metric: str,
    classes: Classes,
    previous_period: str,
    view: View,
    caption: Caption,
    tiles: Tiles,
    assets: Assets,
) -> str:
    """The chosen figure per ward in mapclassify classes, and the change in report numbers
    against the previous period as a second layer."""
    lang = caption.lang
    label = METRICS[metric].label.render(lang)
    m = base_map(view, caption, tiles, assets)
    features, changes = _ward_features(wards, classes, lang)
    ward, reports = gettext(lang, "Ward"), gettext(lang, "Reports")
    aliases = [
        ward,
        reports,
        "/ km²",
        gettext(lang, "Overdue"),
        gettext(lang, "Median to resolve"),
        gettext(lang, "Satisfied"),
        gettext(lang, "± vs previous"),
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=label,
        tooltip=folium.GeoJsonTooltip([*METRIC_FIELDS, "change"], aliases=aliases),
    ).add_to(m)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": changes},
        name=gettext(lang, "Change vs previous period ({period})", period=previous_period),
        show=False,
        tooltip=folium.GeoJsonTooltip(
            ["name", "reports", "previous", "change"],
            aliases=[ward, gettext(lang, "This period"), gettext(lang, "Previous"), "±"],
        ),
    ).add_to(m)
    scheme = (
        gettext(lang, "quantiles")
        if classes.scheme == "quantiles"
        else gettext(lang, "Jenks natural breaks")
    )
    change_rows = "".join(
        f'<div><i style="background:{colour}"></i>{escape(text)}</div>'
        for _, colour, text in CHANGE_BINS
    )
    _legend(
        m,
        f"{label} ({scheme})",
        [*classes.legend(METRICS[metric], lang), (NO_DATA, gettext(lang, "no data"))],
        f"<h2>{escape(CHANGE.label.render(lang))}</h2>{change_rows}",
    )
    return _finish(m)
