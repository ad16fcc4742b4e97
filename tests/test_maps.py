"""A planner's maps, built from aggregates PostGIS computes: the heatmap shows what the SQL
counted, Gi* tells a real hot spot from noise, DBSCAN names the cluster, and the CLI writes a
map that opens without the service or the internet."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.config import Settings
from geo_service.errors import Invalid
from geo_service.i18n import gettext
from geo_service.report_query import ReportFilter
from geo_service.report_query import filter as rf
from maps import aggregates, build, render
from maps.filters import MapFilters, check_filters
from maps.wards import ward_figures
from tests.conftest import cli
from tests.maps_data import HOAN_KIEM, TZ, around, plant, uniform, ward_bbox

OPTIONS = build.MapOptions(
    tiles=render.Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap")
)
LAKE = (21.0287, 105.8524)  # Hoàn Kiếm lake's west shore
URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


def month(year: int, m: int) -> MapFilters:
    first = dt.date(year, m, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return MapFilters(date_from=first, date_to=last, timezone=TZ)


def outside_urls(html: str) -> set[str]:
    """Every absolute or protocol-relative URL in the page except those of the basemap
    setting (its tile URL, and the link in its attribution): no CDN, no other server."""
    tiles = Settings()
    allowed = f"{tiles.tile_url} {tiles.tile_attribution}"
    return {u.rstrip("\\") for u in URL.findall(html)} - set(URL.findall(allowed))


def heat_data(html: str) -> list[list[float]]:
    match = re.search(r"L\.heatLayer\(\s*(\[\[.*?\]\])\s*,", html, re.S)
    assert match, "no heat layer in the page"
    return json.loads(match.group(1))


def test_the_heat_layer_carries_exactly_the_weights_the_database_aggregated(
    engine: Engine,
) -> None:
    busy = around(*LAKE, 400, 60, seed=1)
    quiet = around(21.0368, 105.8342, 100, 60, seed=2)  # Ba Đình square
    ids = plant(engine, busy + quiet, dt.date(2011, 3, 14))
    filters = month(2011, 3)
    with engine.begin() as conn:
        checked = check_filters(conn, filters)
        view = aggregates.view_of(conn, checked)
        heat = aggregates.heat_cells(conn, checked, view)
        frames = aggregates.monthly_cells(conn, checked, view)
        html = build.heatmap(conn, filters, OPTIONS)

    assert heat.reports == len(ids) == 500
    assert max(c.weight for c in heat.cells) == 1.0
    assert heat.cells[0].reports == max(c.reports for c in heat.cells)
    # Aggregated, not one point per report; and the page holds exactly those cells.
    assert len(heat.cells) < 100
    assert heat_data(html) == [[c.lat, c.lon, c.weight] for c in heat.cells]
    # The busiest cell is at the lake, where 400 of the 500 reports are.
    top = heat.cells[0]
    assert abs(top.lat - LAKE[0]) < 0.005 and abs(top.lon - LAKE[1]) < 0.005
    # Twelve monthly frames ending with March 2011, all the reports in the last one.
    assert frames.months[0] == "2010-04" and frames.months[-1] == "2011-03"
    assert [sum(c.reports for c in f) for f in frames.frames] == [0] * 11 + [500]
    assert "2010-04" in html and "2011-03" in html
    assert gettext(OPTIONS.lang, "Heatmap of reports") in html
    assert "2011-03-01 – 2011-03-31" in html  # the filters it was made with
    assert gettext(OPTIONS.lang, "Data as of {when}", when="") in html
    assert "sapnhap.bando.com.vn" in html or "vietnamese-provinces-database" in html
    assert outside_urls(html) == set()
    assert "/static/vendor/leaflet/leaflet.js" in html


def test_a_finer_grid_for_a_ward_than_for_the_city(engine: Engine) -> None:
    with engine.begin() as conn:
        city = aggregates.view_of(conn, check_filters(conn, month(2011, 3)))
        ward = aggregates.view_of(
            conn, check_filters(conn, MapFilters(ReportFilter(wards=(HOAN_KIEM,)), timezone=TZ))
        )
        city_heat = aggregates.heat_cells(conn, month(2011, 3), city)
        ward_heat = aggregates.heat_cells(conn, month(2011, 3), ward)
    assert ward_heat.cell_m < city_heat.cell_m / 10
    assert city.srid == ward.srid == 32648  # WGS 84 / UTM 48N


def test_gi_star_finds_a_planted_hot_spot_and_no_spot_in_uniform_noise(engine: Engine) -> None:
    bbox = ward_bbox(engine, HOAN_KIEM)
    plant(engine, uniform(bbox, 3000, seed=3), dt.date(2012, 1, 10))
    plant(engine, uniform(bbox, 3000, seed=4), dt.date(2012, 2, 10))
    plant(engine, around(*LAKE, 250, 40, seed=5), dt.date(2012, 2, 11))
    options = build.MapOptions(tiles=OPTIONS.tiles, hex_size_m=100)

    def spots(filters: MapFilters) -> list:
        filters = MapFilters(
            ReportFilter(wards=(HOAN_KIEM,)), filters.date_from, filters.date_to, timezone=TZ
        )
        with engine.begin() as conn:
            return build.hotspot_analysis(conn, filters, options).stats

    noise = spots(month(2012, 1))
    assert len(noise) > 50 and sum(s.hexagon.reports for s in noise) > 1000
    assert {s.spot for s in noise} == {"none"}

    planted = spots(month(2012, 2))
    hot = [s for s in planted if s.spot.startswith("hot")]
    assert hot and any(s.spot == "hot_99" for s in hot)
    assert not any(s.spot.startswith("cold") for s in planted)
    # The hot spot is at the lake: the hottest hexagon is the one the cluster fell in.
    hottest = max(planted, key=lambda s: s.z)
    centre = json.loads(hottest.hexagon.geojson)["coordinates"][0]
    lon = sum(p[0] for p in centre[:-1]) / 6
    lat = sum(p[1] for p in centre[:-1]) / 6
    assert abs(lat - LAKE[0]) < 0.003 and abs(lon - LAKE[1]) < 0.003


def test_dbscan_names_the_cluster_its_main_category_and_ward(engine: Engine) -> None:
    bbox = ward_bbox(engine, HOAN_KIEM)
    plant(engine, uniform(bbox, 300, seed=6), dt.date(2012, 5, 3))
    plant(
        engine,
        around(*LAKE, 120, 25, seed=7),
        dt.date(2012, 5, 4),
        categories=["illegal_parking"] * 90 + ["garbage_uncollected"] * 30,
    )
    with engine.begin() as conn:
        filters = check_filters(conn, month(2012, 5))
        view = aggregates.view_of(conn, filters)
        found = aggregates.dbscan_clusters(conn, filters, view, total=420, eps_m=60, min_points=15)
        sampled = aggregates.dbscan_clusters(
            conn, filters, view, total=420, eps_m=60, min_points=15, max_points=100
        )
    top = found.clusters[0]
    assert top.category == "illegal_parking" and top.category_share == pytest.approx(0.75, 0.1)
    assert top.ward_code == HOAN_KIEM and top.ward_name == "Hoàn Kiếm"
    assert 100 <= top.reports <= 140
    assert abs(top.lat - LAKE[0]) < 0.001 and abs(top.lon - LAKE[1]) < 0.001
    # Over max_points DBSCAN runs on a sample and scales the sizes back.
    assert sampled.sample_every == 5
    assert sampled.clusters and sampled.clusters[0].reports % 5 == 0


def test_ward_figures_count_the_reports_in_each_ward(engine: Engine) -> None:
    day = dt.date(2013, 2, 20)
    plant(
        engine,
        around(*LAKE, 40, 30, seed=8),
        day,
        statuses=["resolved"] * 10 + ["received"] * 30,
        hours=[float(h) for h in range(10, 20)] + [0.0] * 30,
    )
    # The same month a year before, for the comparison.
    plant(engine, around(*LAKE, 20, 30, seed=9), dt.date(2013, 1, 20))
    filters = MapFilters(date_from=day, date_to=day, timezone=TZ)
    with engine.begin() as conn:
        wards = {w.code: w for w in ward_figures(conn, check_filters(conn, filters))}
        week = ward_figures(
            conn,
            MapFilters(date_from=dt.date(2013, 1, 21), date_to=dt.date(2013, 2, 20), timezone=TZ),
        )
    lake = wards[HOAN_KIEM]
    assert lake.reports == 40 and lake.overdue == 30  # received in 2013: long overdue
    assert lake.share_overdue == pytest.approx(0.75)
    assert lake.median_hours == pytest.approx(14.5)
    assert lake.per_km2 == pytest.approx(40 / lake.area_km2)
    assert sum(w.reports for w in wards.values()) == 40
    assert len(wards) == 126
    month_before = {w.code: w for w in week}[HOAN_KIEM]
    assert month_before.previous == 20 and month_before.change == pytest.approx(1.0)


def test_the_cli_writes_a_map_that_opens_from_disk(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "maps" / "heat.html"
    result = cli(
        database_url,
        "map",
        "heatmap",
        "--out",
        str(out),
        "--from",
        "2011-03-01",
        "--to",
        "2011-03-31",
        "--group",
        "environment",
    )
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert gettext("vi", "Group: {groups}", groups="environment") in html
    # One language, Vietnamese unless asked otherwise.
    assert gettext("vi", "Heatmap of reports") in html and "Heatmap of reports" not in html
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "heat_files/leaflet/leaflet.js" in links
    for link in links:
        assert (out.parent / link).is_file(), link
    assert (out.parent / "heat_files/glyphicons/glyphicons-halflings-regular.woff2").is_file()
    assert outside_urls(html) == set()

    for kind, title in (("hotspots", "Hot spots of reports"), ("wards", "Wards: ")):
        page = tmp_path / f"{kind}.html"
        result = cli(database_url, "map", kind, "--out", str(page), "--lang", "en")
        assert result.returncode == 0, result.stderr
        assert title in page.read_text(encoding="utf-8")


def test_the_cli_names_a_filter_that_matches_nothing(database_url: str, tmp_path: Path) -> None:
    result = cli(
        database_url,
        "map",
        "wards",
        "--out",
        str(tmp_path / "x.html"),
        "--category",
        "potholes_on_mars",
    )
    assert result.returncode == 2
    assert "category: no such code: potholes_on_mars" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_filters_refuse_unknown_names(engine: Engine) -> None:
    with engine.connect() as conn:
        for field, filters in [
            ("group", MapFilters(ReportFilter(groups=("weather",)))),
            ("ward", MapFilters(ReportFilter(wards=("99999",)))),
            ("to", MapFilters(date_from=dt.date(2020, 2, 1), date_to=dt.date(2020, 1, 1))),
        ]:
            with pytest.raises(Invalid) as err:
                check_filters(conn, filters)
            assert err.value.field == field
        with pytest.raises(Invalid) as err:
            rf.statuses(["lost"])
        assert err.value.field == "status"
        assert conn.execute(text("SELECT 1")).scalar() == 1
