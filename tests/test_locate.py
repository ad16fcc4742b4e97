"""A pin becomes a ward and a unit: the stories of GET /api/v1/locate."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.conftest import landmarks

HOAN_KIEM_LAKE = (21.0287, 105.8524)


def locate(client: httpx.Client, lat: object, lon: object, **extra: object) -> httpx.Response:
    return client.get("/api/v1/locate", params={"lat": lat, "lon": lon, **extra})


def test_a_pin_at_hoan_kiem_lake_lands_in_ward_00070(client: httpx.Client) -> None:
    r = locate(client, *HOAN_KIEM_LAKE)
    assert r.status_code == 200
    body = r.json()
    assert body["ward"]["code"] == "00070"
    assert body["ward"]["full_name"] == "Phường Hoàn Kiếm"
    assert body["ward"]["boundary_set"] == "hanoi-wards-2025"
    assert body["city"]["name"] == "Hà Nội"
    routes = {route["category"]: route["unit"]["code"] for route in body["routing"]}
    assert routes["pavement_encroachment"] == "ubnd-00070"  # the ward's People's Committee
    assert routes["flooding"] == "thoat-nuoc"  # a city-wide rule


@pytest.mark.parametrize("place", landmarks(), ids=lambda p: p.name)
def test_every_landmark_lands_in_its_own_ward(client: httpx.Client, place: object) -> None:
    r = locate(client, place.lat, place.lon)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    assert r.json()["ward"]["full_name"] == place.ward_name  # type: ignore[attr-defined]


def test_a_pin_in_the_red_river_still_lands_in_a_ward(client: httpx.Client) -> None:
    # Mid-river under Long Biên bridge: the wards cover the river with no gap.
    r = locate(client, 21.0427, 105.8613)
    assert r.status_code == 200, r.text
    assert r.json()["ward"]["snapped_m"] == 0


def test_a_pin_in_ho_chi_minh_city_is_refused(client: httpx.Client) -> None:
    r = locate(client, 10.7769, 106.7009)
    assert r.status_code == 422
    assert "outside the city limit of Hà Nội" in r.json()["detail"]


def test_every_seeded_category_routes_somewhere_in_every_ward(engine: Engine) -> None:
    with engine.connect() as conn:
        unrouted = conn.execute(
            text(
                """
                SELECT a.code, c.code
                  FROM areas a JOIN boundary_sets b ON b.id = a.set_id AND b.active
                                                   AND b.level = 'ward'
                 CROSS JOIN categories c
                 WHERE gs_route(c.id, ST_PointOnSurface(a.geom), a.code, 'normal') IS NULL
                """
            )
        ).all()
        pairs = conn.execute(
            text(
                "SELECT count(*) FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
                " AND b.active AND b.level = 'ward' CROSS JOIN categories c"
            )
        ).scalar()
    assert unrouted == []
    assert pairs == 126 * 14


def test_a_point_on_a_shared_edge_gets_exactly_one_ward_always_the_same(
    client: httpx.Client, engine: Engine
) -> None:
    with engine.connect() as conn:
        lon, lat, codes = conn.execute(
            text(
                """
                WITH pair AS (
                  SELECT a.code AS ac, b.code AS bc, a.geom AS ag, b.geom AS bg
                    FROM areas a JOIN areas b ON a.set_id = b.set_id AND a.code <> b.code
                   WHERE a.code = '00070' AND ST_Touches(a.geom, b.geom) LIMIT 1),
                shared AS (
                  SELECT (ST_DumpPoints(ST_Intersection(ag, bg))).geom AS p, * FROM pair)
                SELECT ST_X(p), ST_Y(p), array[ac, bc] FROM shared
                 WHERE ST_Covers(ag, p) AND ST_Covers(bg, p) LIMIT 1
                """
            )
        ).one()
    answers = {locate(client, lat, lon).json()["ward"]["code"] for _ in range(5)}
    assert answers == {min(codes)}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 105.85}, "lat"),
        ({"lat": 21.0}, "lon"),
        ({"lat": "north", "lon": 105.85}, "lat"),
        ({"lat": "nan", "lon": 105.85}, "lat"),
        ({"lat": 91, "lon": 105.85}, "lat"),
        ({"lat": 21.0, "lon": 181}, "lon"),
        ({"lat": 21.0, "lon": "inf"}, "lon"),
        ({"lat": 21.0, "lon": 105.85, "priority": "asap"}, "priority"),
    ],
)
def test_bad_coordinates_get_a_422_naming_the_field(
    client: httpx.Client, params: dict[str, object], field: str
) -> None:
    r = client.get("/api/v1/locate", params=params)
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith(f"{field}:")
    assert body["errors"][0]["field"] == field
