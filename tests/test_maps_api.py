"""Maps, analytics and exports over HTTP: who may see what, the same results as GeoJSON, and
exports QGIS opens, without anyone's personal data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from urllib.parse import quote

import geopandas as gpd
import httpx
import pytest
from sqlalchemy import Engine

from geo_service.i18n import gettext
from tests.conftest import login, make_user
from tests.maps_data import HOAN_KIEM, around, plant

PERIOD = {"from": "2014-06-01", "to": "2014-06-30"}
LAKE = (21.0287, 105.8524)
WEST_LAKE = (21.0580, 105.8190)  # Tây Hồ, another ward
PERSONAL = ("reporter_name", "reporter_phone", "reporter_email", "token", "description")
MAP_LANG = "en"  # the client fixture asks for English: the maps are drawn in it


@pytest.fixture(scope="module")
def planted(engine: Engine) -> dict[str, list[int]]:
    """June 2014: 30 reports by the lake (Hoàn Kiếm), 20 by West Lake (Tây Hồ)."""
    return {
        "lake": plant(
            engine,
            around(*LAKE, 30, 40, seed=11),
            dt.date(2014, 6, 5),
            statuses=["resolved"] * 9 + ["rejected"] + ["received"] * 20,
            hours=[float(h) for h in range(2, 12)] + [0.0] * 20,
        ),
        "west": plant(
            engine,
            around(*WEST_LAKE, 20, 40, seed=12),
            dt.date(2014, 6, 6),
            categories=["noise"] * 20,
        ),
    }


@pytest.fixture(scope="module")
def people(engine: Engine, server: object) -> dict[str, dict[str, str]]:
    make_user(engine, "map-planner", "planner")
    make_user(engine, "map-admin", "admin")
    make_user(engine, "map-ward-staff", "unit_staff", unit_code=f"ubnd-{HOAN_KIEM}")
    make_user(engine, "map-citizen", "citizen")
    with httpx.Client(base_url=server.url) as c:  # type: ignore[attr-defined]
        return {
            name: login(c, f"map-{name}") for name in ("planner", "admin", "ward-staff", "citizen")
        }


PATHS = [
    "/maps/heatmap",
    "/maps/hotspots",
    "/maps/wards",
    "/api/v1/analytics/hotspots",
    "/api/v1/analytics/wards",
    "/api/v1/export",
]


@pytest.mark.parametrize("path", PATHS)
def test_maps_need_a_login_and_a_planning_or_unit_role(
    client: httpx.Client, people: dict[str, dict[str, str]], path: str
) -> None:
    anonymous = client.get(path, params=PERIOD)
    if path.startswith("/maps/"):  # a page: the browser goes to log in, and comes back
        assert anonymous.status_code == 303
        login_page = f"/staff/login?next={quote(path, safe='')}"
        assert anonymous.headers["location"].startswith(login_page)
    else:
        assert anonymous.status_code == 401
    refused = client.get(path, params=PERIOD, headers=people["citizen"])
    assert refused.status_code == 403
    assert "citizen" in refused.json()["detail"]
    assert client.get(path, params=PERIOD, headers=people["admin"]).status_code == 200


def test_a_planner_opens_each_map_with_the_filters_in_the_query(
    client: httpx.Client, people: dict[str, dict[str, str]], planted: dict[str, list[int]]
) -> None:
    heat = client.get(
        "/maps/heatmap", params={**PERIOD, "group": "environment"}, headers=people["planner"]
    )
    assert heat.status_code == 200 and heat.headers["content-type"].startswith("text/html")
    assert (
        "L.heatLayer" in heat.text
        and gettext(MAP_LANG, "Group: {groups}", groups="environment") in heat.text
    )
    assert "2014-06-01 – 2014-06-30" in heat.text
    hot = client.get(
        "/maps/hotspots", params={**PERIOD, "hex_size": 500}, headers=people["planner"]
    )
    assert hot.status_code == 200
    assert 'id="clusters"' in hot.text or gettext(MAP_LANG, "No clusters.") in hot.text
    wards = client.get(
        "/maps/wards",
        params={**PERIOD, "metric": "share_overdue", "scheme": "natural_breaks"},
        headers=people["planner"],
    )
    assert wards.status_code == 200 and gettext(MAP_LANG, "Jenks natural breaks") in wards.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "potholes_on_mars"}, "category"),
        ({"group": "weather"}, "group"),
        ({"status": "lost"}, "status"),
        ({"ward": "99999"}, "ward"),
        ({"from": "2014-13-01"}, "from"),
        ({"from": "2014-07-01", "to": "2014-06-01"}, "to"),
        ({"metric": "happiness"}, "metric"),
        ({"format": "shp"}, "format"),
    ],
)
def test_bad_filters_are_a_422_naming_the_parameter(
    client: httpx.Client, people: dict[str, dict[str, str]], params: dict[str, str], field: str
) -> None:
    path = {"metric": "/maps/wards", "format": "/api/v1/export"}.get(field, "/maps/heatmap")
    response = client.get(path, params=params, headers=people["planner"])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_ward_analytics_as_geojson_and_unit_staff_see_only_their_ward(
    client: httpx.Client, people: dict[str, dict[str, str]], planted: dict[str, list[int]]
) -> None:
    everything = client.get("/api/v1/analytics/wards", params=PERIOD, headers=people["planner"])
    assert everything.headers["content-type"] == "application/geo+json"
    body = everything.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 126
    by_code = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert by_code[HOAN_KIEM]["reports"] == 30
    assert sum(p["reports"] for p in by_code.values()) == 50
    assert body["meta"]["filters"]["from"] == "2014-06-01"

    own = client.get("/api/v1/analytics/wards", params=PERIOD, headers=people["ward-staff"])
    features = own.json()["features"]
    assert [f["properties"]["code"] for f in features] == [HOAN_KIEM]
    assert features[0]["properties"]["reports"] == 30
    # Asking for another ward's area does not widen the view.
    other = client.get(
        "/api/v1/analytics/wards",
        params={**PERIOD, "category": "noise"},
        headers=people["ward-staff"],
    )
    assert sum(f["properties"]["reports"] for f in other.json()["features"]) == 0


def test_ward_figures_agree_with_the_public_statistics(
    client: httpx.Client, people: dict[str, dict[str, str]], planted: dict[str, list[int]]
) -> None:
    wards = client.get("/api/v1/analytics/wards", params=PERIOD, headers=people["planner"])
    stats = client.get("/api/v1/stats", params=PERIOD).json()
    on_map = {f["properties"]["code"]: f["properties"] for f in wards.json()["features"]}
    counted = {w["code"]: w for w in stats["by_ward"]}
    assert set(counted) == {c for c, p in on_map.items() if p["reports"]} and len(counted) >= 2
    for code, figures in counted.items():
        ward = on_map[code]
        assert ward["reports"] == figures["received"]
        assert ward["overdue"] == figures["overdue"]
        assert ward["median_hours"] == pytest.approx(figures["median_hours_to_resolve"], abs=0.01)
        assert ward["satisfaction"] == figures["satisfaction_rate"]
    lake = on_map[HOAN_KIEM]
    assert (lake["reports"], lake["overdue"]) == (30, 20)
    assert lake["median_hours"] == pytest.approx(6.0)  # 2..10 hours for the nine resolved
    assert lake["share_overdue"] == pytest.approx(20 / 30)


def test_hotspot_analytics_as_geojson(
    client: httpx.Client, people: dict[str, dict[str, str]], planted: dict[str, list[int]]
) -> None:
    response = client.get(
        "/api/v1/analytics/hotspots",
        params={**PERIOD, "hex_size": 300, "eps": 80, "min_points": 10},
        headers=people["planner"],
    )
    assert response.status_code == 200
    body = response.json()
    hexagons = [f for f in body["features"] if f["properties"]["layer"] == "hexagon"]
    clusters = [f for f in body["features"] if f["properties"]["layer"] == "cluster"]
    assert sum(h["properties"]["reports"] for h in hexagons) == 50
    assert {h["geometry"]["type"] for h in hexagons} == {"Polygon"}
    assert {c["properties"]["ward_code"] for c in clusters} >= {HOAN_KIEM}
    assert body["meta"]["hex_size_m"] == 300


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_exports_open_in_geopandas_with_every_row_and_no_personal_data(
    client: httpx.Client,
    people: dict[str, dict[str, str]],
    planted: dict[str, list[int]],
    fmt: str,
    tmp_path: object,
) -> None:
    response = client.get(
        "/api/v1/export", params={**PERIOD, "format": fmt}, headers=people["planner"]
    )
    assert response.status_code == 200, response.text
    assert f'.{fmt}"' in response.headers["content-disposition"]
    path = tmp_path / f"reports.{fmt}"  # type: ignore[operator]
    path.write_bytes(response.content)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.text)))
        frame = gpd.GeoDataFrame(
            rows,
            geometry=gpd.points_from_xy(
                [float(r["lon"]) for r in rows], [float(r["lat"]) for r in rows]
            ),
            crs=4326,
        )
        frame["id"] = frame["id"].astype(int)
    else:
        frame = gpd.read_file(path, engine="pyogrio")
    assert sorted(frame["id"]) == sorted(planted["lake"] + planted["west"])
    assert not set(PERSONAL) & set(frame.columns)
    for secret in ("Map Test Reporter", "900 000 001", "map-test@example.org", "Map test:"):
        assert secret.encode() not in response.content
    noise = frame[frame["category"] == "noise"]
    assert len(noise) == 20
    assert noise.geometry.y.between(WEST_LAKE[0] - 0.01, WEST_LAKE[0] + 0.01).all()
    assert set(frame["ward_code"]) >= {HOAN_KIEM}


def test_unit_staff_export_only_their_area(
    client: httpx.Client, people: dict[str, dict[str, str]], planted: dict[str, list[int]]
) -> None:
    response = client.get(
        "/api/v1/export", params={**PERIOD, "format": "geojson"}, headers=people["ward-staff"]
    )
    features = json.loads(response.text)["features"]
    assert sorted(f["id"] for f in features) == sorted(planted["lake"])
