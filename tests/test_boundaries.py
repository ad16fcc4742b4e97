"""Boundary sets: importing, checking, repairing, versioning, and what a sliver does."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import Engine, text

from boundaries.importer import BoundaryError, Fields, LoadOptions, load_boundary_set, set_active
from tests.conftest import cli

JULY_2025 = dt.date(2025, 7, 1)


def options(name: str, fields: Fields | None = None, **extra: object) -> LoadOptions:
    """A ward set valid from July 2025, far from the city's real wards: it keeps none of
    their codes, and its outline is its own city limit."""
    given: dict[str, object] = {"derive_city": f"{name}-city", **extra}
    return LoadOptions(
        set_name=name,
        level="ward",
        valid_from=JULY_2025,
        fields=fields or Fields(),
        allow_removed=True,
        **given,  # type: ignore[arg-type]
    )


def write_geojson(path: Path, features: list[tuple[dict[str, object], Polygon]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": geom.__geo_interface__}
                    for props, geom in features
                ],
            }
        )
    )
    return path


def test_the_importer_rejects_overlapping_polygons_and_leaves_nothing_behind(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    path = write_geojson(
        tmp_path / "overlap.geojson",
        [
            ({"code": "A", "name": "A"}, box(105.80, 21.00, 105.81, 21.01)),
            ({"code": "B", "name": "B"}, box(105.805, 21.00, 105.815, 21.01)),
        ],
    )
    result = cli(
        database_url, "boundaries", "load", str(path), "--set", "bad", "--level", "ward",
        "--allow-removed",
    )  # fmt: skip
    assert result.returncode == 2
    assert "1 pair of features overlap by more than 1 m²" in result.stderr
    assert "A/B: 575,546 m²" in result.stderr  # half of a 0.01° square at 21° N
    assert "--overlap-tolerance" in result.stderr  # what to do about it
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM boundary_sets WHERE name = 'bad'")).scalar()
            == 0
        )


def test_the_importer_rejects_features_without_codes(tmp_path: Path, engine: Engine) -> None:
    path = write_geojson(
        tmp_path / "nocode.geojson",
        [
            ({"code": "A", "name": "A"}, box(0, 0, 1, 1)),
            ({"code": "", "name": "B"}, box(1, 0, 2, 1)),
        ],
    )
    with engine.connect() as conn, pytest.raises(BoundaryError, match="1 features lack a code"):
        load_boundary_set(conn, path, options("nocode"))


def test_the_importer_names_missing_fields(tmp_path: Path, engine: Engine) -> None:
    path = write_geojson(tmp_path / "x.geojson", [({"ma": "A", "ten": "A"}, box(0, 0, 1, 1))])
    with engine.connect() as conn, pytest.raises(BoundaryError, match="missing code field 'code'"):
        load_boundary_set(conn, path, options("x"))


def test_the_importer_repairs_a_bow_tie_and_says_so(tmp_path: Path, engine: Engine) -> None:
    bow_tie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    path = write_geojson(tmp_path / "bowtie.geojson", [({"ma": "T1", "ten": "Nơ"}, bow_tie)])
    with engine.connect() as conn, conn.begin():
        summary = load_boundary_set(conn, path, options("bowtie", Fields(code="ma", name="ten")))
        assert [code for code, _ in summary.repaired] == ["T1"]
        assert "Self-intersection" in summary.repaired[0][1]
        valid = conn.execute(
            text("SELECT bool_and(ST_IsValid(geom)) FROM areas WHERE set_id = :s"),
            {"s": summary.set_id},
        ).scalar()
        assert valid is True
        conn.rollback()


def test_a_geopackage_with_other_field_names_loads(tmp_path: Path, engine: Engine) -> None:
    frame = gpd.GeoDataFrame(
        {"ma_xa": ["X1", "X2"], "ten": ["Một", "Hai"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=4326,
    )
    path = tmp_path / "wards.gpkg"
    frame.to_file(path, layer="xa", driver="GPKG")
    with engine.connect() as conn:
        summary = load_boundary_set(
            conn, path, options("gpkg", Fields(code="ma_xa", name="ten"), layer="xa")
        )
        assert summary.features == 2 and summary.pieces >= 2
        conn.rollback()


def test_loading_does_not_activate_until_asked_and_one_set_per_level_is_active(
    tmp_path: Path, engine: Engine
) -> None:
    path = write_geojson(tmp_path / "w.geojson", [({"code": "W", "name": "W"}, box(0, 0, 1, 1))])
    with engine.connect() as conn:
        summary = load_boundary_set(conn, path, options("next"))
        active = "SELECT name FROM boundary_sets WHERE level = 'ward' AND active"
        assert conn.execute(text(active)).scalars().all() == ["hanoi-wards-2025"]
        assert summary.set_id is not None
        set_active(conn, summary.set_id)
        assert conn.execute(text(active)).scalars().all() == ["next"]
        conn.rollback()


def test_a_pin_in_a_sliver_snaps_to_the_nearest_ward_within_50_m(
    tmp_path: Path, engine: Engine
) -> None:
    # Two wards with a 40 m gap between them (at the equator 1e-5 degrees is about 1.1 m),
    # inside a city limit that covers the gap.
    west, east = box(0, 0, 0.01, 0.01), box(0.01036, 0, 0.02, 0.01)
    wards = write_geojson(
        tmp_path / "wards.geojson",
        [({"code": "W", "name": "West"}, west), ({"code": "E", "name": "East"}, east)],
    )
    city = write_geojson(
        tmp_path / "city.geojson", [({"code": "C", "name": "City"}, box(0, 0, 0.02, 0.01))]
    )
    with engine.connect() as conn:
        # A gap of 40 m (44,000 m²) is what the snap is for: the set tolerates it.
        city_set = load_boundary_set(
            conn, city, replace(options("gap-city", derive_city=None), level="city")
        )
        ward_set = load_boundary_set(
            conn, wards, options("gap", gap_tolerance_m2=5e4, derive_city=None, city_set="gap-city")
        )
        assert ward_set.set_id and city_set.set_id
        set_active(conn, ward_set.set_id)
        set_active(conn, city_set.set_id)

        def locate(lon: float, lat: float, snap: float = 50) -> tuple[object, ...]:
            return tuple(
                conn.execute(
                    text(
                        "SELECT code, in_city, round(snapped_m)"
                        " FROM gs_locate(ST_SetSRID(ST_MakePoint(:x, :y), 4326), :s)"
                    ),
                    {"x": lon, "y": lat, "s": snap},
                ).one()
            )

        assert locate(0.005, 0.005) == ("W", True, 0)
        assert locate(0.01010, 0.005) == ("W", True, 11)  # 11 m from West, 29 m from East
        assert locate(0.01030, 0.005) == ("E", True, 7)
        assert locate(0.01018, 0.005, snap=5) == (None, True, None)  # gap wider than the snap
        assert locate(0.03, 0.005) == (None, False, None)  # outside the city limit
        conn.rollback()


def test_the_ward_boundaries_are_served_as_geojson_with_attribution(client: httpx.Client) -> None:
    full = client.get("/api/v1/boundaries/wards")
    simple = client.get("/api/v1/boundaries/wards", params={"simplify": 20})
    assert full.status_code == simple.status_code == 200
    data = simple.json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 126
    assert "sapnhap.bando.com.vn" in data["attribution"]
    hoan_kiem = next(f for f in data["features"] if f["id"] == "00070")
    assert hoan_kiem["properties"]["full_name"] == "Phường Hoàn Kiếm"
    assert len(simple.content) < len(full.content) / 3
    assert client.get("/api/v1/boundaries/wards", params={"set": "nope"}).status_code == 404
    assert client.get("/api/v1/boundaries/wards", params={"simplify": -1}).status_code == 422


def test_the_service_says_what_it_is_and_credits_its_data(client: httpx.Client) -> None:
    meta = client.get("/api/v1/meta").json()
    assert meta["city"]["name"] == "Hà Nội"
    assert any("sapnhap.bando.com.vn" in b["attribution"] for b in meta["boundaries"])
    sets = client.get("/api/v1/boundaries").json()
    assert {s["name"] for s in sets if s["active"]} == {"hanoi-wards-2025", "hanoi-city-2025"}
    page = client.get("/")
    assert page.status_code == 200 and "sapnhap.bando.com.vn" in page.text


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["ward_boundary_set"] == "hanoi-wards-2025"


def test_categories_and_units_are_listed(client: httpx.Client) -> None:
    groups = client.get("/api/v1/categories").json()
    codes = {c["code"] for g in groups for c in g["categories"]}
    assert {"uncollected_garbage", "flooding"} & codes == {"flooding"}
    assert len(codes) == 14 and {g["code"] for g in groups} == {
        "environment",
        "infrastructure",
        "urban_order",
    }
    units = client.get("/api/v1/units").json()
    assert sum(u["kind"] == "ward_committee" for u in units) == 126
    assert {u["code"] for u in client.get("/api/v1/units", params={"kind": "company"}).json()} >= {
        "urenco",
        "thoat-nuoc",
    }
    assert client.get("/api/v1/units", params={"kind": "aliens"}).status_code == 422
