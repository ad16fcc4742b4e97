"""A planner opens each map in a real browser (Debian's Chromium): it draws, with no script
errors, and the browser fetches nothing from anywhere but the service (and the basemap's
tile server, which the test answers itself)."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine

from geo_service.i18n import DEFAULT_LANG, gettext
from tests.conftest import DEFAULT_PASSWORD, Server, login, make_user
from tests.maps_data import around, plant

PERIOD = "from=2015-03-01&to=2015-03-31"
# A 1×1 transparent PNG stands in for every basemap tile.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
TILE_HOST = "tile.openstreetmap.org"


def t(msgid: str, **params: object) -> str:
    """A map's text: the browser asks for no language, so the maps are in the default."""
    return gettext(DEFAULT_LANG, msgid, **params)


@pytest.fixture(scope="module")
def token(engine: Engine, server: Server) -> str:
    plant(engine, around(21.0287, 105.8524, 60, 40, seed=21), dt.date(2015, 3, 3))
    plant(engine, around(21.0368, 105.8342, 40, 40, seed=22), dt.date(2015, 2, 3))
    make_user(engine, "map-browser-planner", "planner")
    with httpx.Client(base_url=server.url) as c:
        return login(c, "map-browser-planner")["Authorization"]


class Watch:
    """What the page asked for and complained about."""

    def __init__(self, page: Page, server: Server) -> None:
        self.server = server.url
        self.outside: list[str] = []
        self.tiles = 0
        self.console_errors: list[str] = []
        page.on("request", self._request)
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.route(f"**://{TILE_HOST}/**", self._tile)

    def _request(self, request: object) -> None:
        url: str = request.url  # type: ignore[attr-defined]
        if not url.startswith((self.server, "data:", "blob:")) and TILE_HOST not in url:
            self.outside.append(url)

    def _tile(self, route: Route) -> None:
        self.tiles += 1
        route.fulfill(status=200, content_type="image/png", body=TILE)

    def check(self) -> None:
        assert self.outside == [], f"requests outside the service: {self.outside}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"


@pytest.fixture
def planner_page(page: Page, server: Server, token: str) -> Iterator[tuple[Page, Watch]]:
    page.set_extra_http_headers({"Authorization": token})
    watch = Watch(page, server)
    yield page, watch
    watch.check()


FEATURES_JS = """() => {
  const map = window[document.querySelector('.folium-map').id];
  let n = 0;
  map.eachLayer(layer => { if (layer.feature) n++; });
  return n;
}"""


def test_the_heatmap_draws_and_its_month_slider_steps_through_the_year(
    planner_page: tuple[Page, Watch], artefacts: Path
) -> None:
    page, watch = planner_page
    page.goto(f"/maps/heatmap?{PERIOD}")
    expect(page.locator("#gs-caption h1")).to_contain_text(t("Heatmap of reports"))
    expect(page.locator("#gs-caption")).to_contain_text("2015-03-01 – 2015-03-31")
    expect(page.locator("canvas.leaflet-heatmap-layer")).to_be_attached()
    expect(page.locator("#gs-legend")).to_be_visible()
    control = page.locator(".leaflet-control-layers")
    expect(control).to_contain_text(t("Report density ({n} reports)", n=60))
    control.get_by_text(t("By month (12 months)")).click()
    date = page.locator(".timecontrol-date")
    expect(date).to_have_text("2014-04")
    page.locator(".timecontrol-forward").click()
    expect(date).to_have_text("2014-05")
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
    page.screenshot(path=artefacts / "heatmap.png")
    assert watch.tiles > 0  # the basemap was asked for, from the configured server only


def test_the_hotspot_map_draws_hexagons_clusters_and_their_table(
    planner_page: tuple[Page, Watch], artefacts: Path
) -> None:
    page, _ = planner_page
    page.goto(f"/maps/hotspots?{PERIOD}&hex_size=400&eps=80&min_points=10")
    expect(page.locator("#gs-caption h1")).to_contain_text("Getis-Ord Gi*")
    expect(page.locator("#clusters tbody tr").first).to_contain_text("Hoàn Kiếm")
    assert page.evaluate(FEATURES_JS) > 100  # hexagons over the city
    expect(page.locator("#gs-legend")).to_contain_text(t("Hot spot {confidence} %", confidence=99))
    page.screenshot(path=artefacts / "hotspots.png", full_page=True)


def test_the_ward_map_draws_every_ward_and_the_change_layer(
    planner_page: tuple[Page, Watch], artefacts: Path
) -> None:
    page, _ = planner_page
    page.goto(f"/maps/wards?{PERIOD}")
    expect(page.locator("#gs-legend")).to_contain_text(t("quantiles"))
    assert page.evaluate(FEATURES_JS) == 126
    change = t("Change vs previous period ({period})", period="")
    page.locator(".leaflet-control-layers").get_by_text(change.rstrip(" ()")).click()
    assert page.evaluate(FEATURES_JS) == 2 * 126
    page.screenshot(path=artefacts / "wards.png")


@pytest.mark.parametrize("kind", ["heatmap", "hotspots", "wards"])
def test_a_period_without_reports_draws_an_empty_map_without_errors(
    planner_page: tuple[Page, Watch], kind: str
) -> None:
    page, _ = planner_page
    page.goto(f"/maps/{kind}?from=1990-01-01&to=1990-01-31")
    expect(page.locator("#gs-caption")).to_contain_text(
        t("{n} reports", n=0) if kind != "wards" else "1990-01-01"
    )
    expect(page.locator("#gs-legend")).to_be_visible()


def test_a_planner_not_logged_in_is_asked_to_log_in_and_comes_back_to_the_map(
    page: Page, server: Server, token: str
) -> None:
    watch = Watch(page, server)
    page.goto(f"/maps/wards?{PERIOD}")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=%2Fmaps%2Fwards"))
    page.fill("#username", "map-browser-planner")
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/maps/wards\?{PERIOD}$"))
    expect(page.locator("#gs-legend")).to_contain_text(t("quantiles"))
    # From the staff area the maps are one click away.
    page.goto("/staff")
    page.locator('nav.maps a[href="/maps/hotspots"]').click()
    expect(page).to_have_url(re.compile(r"/maps/hotspots$"))
    expect(page.locator("#gs-caption h1")).to_contain_text("Getis-Ord Gi*")
    watch.check()
