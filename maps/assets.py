"""Every script and style sheet a map loads, served by the service itself.

folium links its assets from public CDNs (jsdelivr, cdnjs, code.jquery.com); a map made that
way stays blank on a machine without internet. Each folium element names its assets in
``default_js`` / ``default_css``; ``localise`` replaces those lists on the element with the
copies in ``geo_service/static/vendor/`` (see the README there for versions and licences),
and drops the ones our maps never use (Bootstrap, Font Awesome, awesome-markers).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from folium import Map
from folium.plugins import HeatMap, HeatMapWithTime

from geo_service.config import PACKAGE_DIR

VENDOR_DIR = PACKAGE_DIR / "static" / "vendor"
SERVICE_BASE = "/static/vendor"

# Per folium class: (name, path under vendor/) in load order. The names are folium's own,
# so an element never links the same file twice.
JS: dict[type, list[tuple[str, str]]] = {
    Map: [("leaflet", "leaflet/leaflet.js")],
    HeatMap: [("leaflet-heat.js", "folium-heat/leaflet_heat.min.js")],
    HeatMapWithTime: [
        ("jquery", "jquery/jquery.min.js"),
        ("iso8601", "iso8601-js-period/iso8601.js"),
        ("leaflet.timedimension.min.js", "leaflet-timedimension/leaflet.timedimension.min.js"),
        ("heatmap.min.js", "folium-heat/pa7_hm.min.js"),
        ("leaflet-heatmap.js", "folium-heat/pa7_leaflet_hm.min.js"),
    ],
}
CSS: dict[type, list[tuple[str, str]]] = {
    Map: [("leaflet_css", "leaflet/leaflet.css")],
    HeatMap: [],
    HeatMapWithTime: [
        (
            "leaflet.timedimension.control.min.css",
            "leaflet-timedimension/leaflet.timedimension.control.css",
        )
    ],
}
# What an offline copy of a map needs (leaflet.css loads images/, the slider glyphicons/).
DIRECTORIES = (
    "leaflet",
    "jquery",
    "iso8601-js-period",
    "leaflet-timedimension",
    "glyphicons",
    "folium-heat",
)


@dataclass(frozen=True)
class Assets:
    """Where the map's HTML finds the vendored files: ``/static/vendor`` when the service
    serves the map, a folder next to the file when the CLI writes one."""

    base: str = SERVICE_BASE

    def url(self, path: str) -> str:
        return f"{self.base.rstrip('/')}/{path}"

    def localise(self, element: object) -> None:
        """Point this folium element's assets at our copies instead of a CDN."""
        kind = type(element)
        if kind not in JS:
            raise TypeError(f"no vendored assets listed for {kind.__name__}")
        element.default_js = [(n, self.url(p)) for n, p in JS[kind]]  # type: ignore[attr-defined]
        element.default_css = [(n, self.url(p)) for n, p in CSS[kind]]  # type: ignore[attr-defined]


def offline_assets(html_file: Path) -> Assets:
    """Assets for a map saved as ``html_file``: linked relatively from ``<name>_files/``."""
    return Assets(base=f"{html_file.stem}_files")


def copy_assets(html_file: Path) -> None:
    """Copy the vendored files into ``<name>_files/`` beside ``html_file`` (as a browser's
    "save page" does), so the saved map opens from disk with no server and no internet."""
    folder = html_file.with_name(f"{html_file.stem}_files")
    for name in DIRECTORIES:
        shutil.copytree(VENDOR_DIR / name, folder / name, dirs_exist_ok=True)
