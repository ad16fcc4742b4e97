"""Drawing the aggregates with folium: a base map with its caption (title, filters, data date,
boundary attribution), legend and layer switcher, and one function per map.

Every asset the page loads comes from ``maps.assets`` (our own copies); the only outside URL
is the tile server's, and that is a setting (``TILE_URL``; empty for no basemap).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import folium
from branca.element import Element
from folium.plugins import HeatMap, HeatMapWithTime

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
SPOT_LABELS = {
    "hot_99": "Điểm nóng / Hot spot 99 %",
    "hot_95": "Điểm nóng / Hot spot 95 %",
    "hot_90": "Điểm nóng / Hot spot 90 %",
    "none": "Không có ý nghĩa thống kê / Not significant",
    "cold_90": "Điểm lạnh / Cold spot 90 %",
    "cold_95": "Điểm lạnh / Cold spot 95 %",
    "cold_99": "Điểm lạnh / Cold spot 99 %",
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
.gs-panel { position: absolute; z-index: 1000; background: rgba(255,255,255,.93);
  padding: 6px 10px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: 12px/1.4 system-ui, sans-serif; max-width: 26rem; }
.gs-caption { top: 10px; left: 54px; }
.gs-caption h1 { font-size: 15px; margin: 0 0 4px; }
.gs-caption ul { margin: 0; padding-left: 1.1em; }
.gs-caption .gs-source { color: #555; margin-top: 4px; }
.gs-legend { bottom: 24px; right: 10px; }
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


@dataclass(frozen=True)
class Caption:
    """What every map says about itself."""

    title: str
    filters: list[str]
    data_as_of: str
    attributions: list[str]
    notes: list[str] = field(default_factory=list)

    def html(self) -> str:
        items = "".join(f"<li>{escape(line)}</li>" for line in [*self.filters, *self.notes])
        sources = "<br>".join(escape(a) for a in self.attributions)
        return (
            f'<div class="gs-panel gs-caption" id="gs-caption"><h1>{escape(self.title)}</h1>'
            f"<ul>{items}</ul>"
            f'<div class="gs-source">Dữ liệu đến / Data as of {escape(self.data_as_of)}'
            f"{'<br>' + sources if sources else ''}</div></div>"
        )


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
    m.get_root().header.add_child(Element(f"<title>{escape(caption.title)}</title>"))
    m.get_root().header.add_child(Element(STYLE))
    if tiles.url:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name="Bản đồ nền / Basemap",
            max_zoom=tiles.max_zoom,
            control=False,
        ).add_to(m)
    m.fit_bounds([[view.y1, view.x1], [view.y2, view.x2]])
    m.get_root().html.add_child(Element(caption.html()))
    # The boundary data's attribution belongs on the map itself, next to the basemap's.
    attribution = " · ".join(caption.attributions)
    if attribution:
        m.get_root().script.add_child(
            Element(
                f"{m.get_name()}.attributionControl.addAttribution({json.dumps(escape(attribution))});"
            )
        )
    return m


def _legend(m: folium.Map, title: str, rows: Sequence[tuple[str, str]], extra: str = "") -> None:
    """rows: (colour, label)"""
    body = "".join(
        f'<div><i style="background:{colour}"></i>{escape(label)}</div>' for colour, label in rows
    )
    m.get_root().html.add_child(
        Element(
            f'<div class="gs-panel gs-legend" id="gs-legend"><h2>{escape(title)}</h2>'
            f"{body}{extra}</div>"
        )
    )


def _finish(m: folium.Map, below: str = "") -> str:
    folium.LayerControl(collapsed=False).add_to(m)
    if below:
        m.get_root().html.add_child(Element(f'<div class="gs-below">{below}</div>'))
    return str(m.get_root().render())


# --- Heatmap -------------------------------------------------------------------------------


def heatmap_html(
    heat: Heat, frames: Frames, view: View, caption: Caption, tiles: Tiles, assets: Assets
) -> str:
    """The heat layer (one weighted point per grid cell) and, as a second layer, the last
    twelve months one frame a month with a time slider."""
    m = base_map(view, caption, tiles, assets)
    layer = HeatMap(
        [[c.lat, c.lon, c.weight] for c in heat.cells],
        name=f"Mật độ phản ánh / Report density ({heat.reports:,} reports)",
        radius=14,
        blur=12,
        min_opacity=0.3,
    )
    assets.localise(layer)
    layer.add_to(m)
    timed = HeatMapWithTime(
        [[[c.lat, c.lon, c.weight] for c in frame] for frame in frames.frames],
        index=frames.months,
        name="Theo tháng / By month (12 months)",
        radius=16,
        min_opacity=0.2,
        max_opacity=0.8,
        auto_play=False,
        show=False,
        position="bottomleft",
    )
    assets.localise(timed)
    timed.add_to(m)
    _legend(
        m,
        "Mật độ / Density",
        [],
        '<div class="gs-heat-scale"></div><div>ít / few → nhiều / many</div>'
        f"<div>Ô lưới / Grid cell ≈ {heat.cell_m:,.0f} m (tháng / months ≈ "
        f"{frames.cell_m:,.0f} m)</div>",
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
                    "spot": SPOT_LABELS[s.spot],
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
        name=f"Gi* điểm nóng / hot spots (hexagon {size_m:,.0f} m)",
        tooltip=folium.GeoJsonTooltip(
            ["spot", "reports", "z"], aliases=["Gi*", "Phản ánh / Reports", "z"]
        ),
    ).add_to(m)
    hulls = folium.FeatureGroup(name="Cụm DBSCAN / DBSCAN clusters")
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
        [(SPOT_COLOURS[k], SPOT_LABELS[k]) for k in order],
        '<div><i style="background:none;border:2px solid #542788"></i>'
        "Cụm DBSCAN / DBSCAN cluster</div>",
    )
    return _finish(m, cluster_table(clusters))


def cluster_table(clusters: Clusters) -> str:
    sample = (
        f" Ước tính từ mẫu 1/{clusters.sample_every} / estimated from a 1-in-"
        f"{clusters.sample_every} sample."
        if clusters.sample_every > 1
        else ""
    )
    head = (
        f"<h2>Cụm DBSCAN / DBSCAN clusters</h2><p>ε = {clusters.eps_m:,.0f} m, "
        f"tối thiểu / min. {clusters.min_points} phản ánh / reports.{sample}</p>"
    )
    if not clusters.clusters:
        return head + "<p>Không có cụm / No clusters.</p>"
    rows = "".join(
        f"<tr><td class=num>{c.rank}</td><td class=num>{c.reports:,}</td>"
        f"<td>{escape(c.category_name)} ({c.category_share:.0%})</td>"
        f"<td>{escape(c.ward_name)}</td><td>{c.lat:.5f}, {c.lon:.5f}</td></tr>"
        for c in clusters.clusters
    )
    return (
        f'{head}<table id="clusters"><thead><tr><th>#</th><th>Phản ánh / Reports</th>'
        "<th>Loại chính / Main category</th><th>Phường, xã / Ward</th>"
        f"<th>Tâm / Centre</th></tr></thead><tbody>{rows}</tbody></table>"
    )
