"""History questions, as MapIt answers them: which ward a point was in on a day or in a named
set, every area covering a point in every set with when each was valid, and how an old area
maps onto the new ones. On a database of its own holding Hanoi's 2025 wards (active), the
"old districts" valid from 2014 (tests/reform_data.py) and a set to come in 2030."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine

from geo_service.config import Settings
from geo_service.profile import load_profile
from geo_service.seed import init_database
from tests.conftest import cli, other_database, serving
from tests.reform_data import HOAN_KIEM, LOST_POINT, WARDS_2025, old_districts


@dataclass
class History:
    client: httpx.Client
    district_of: dict[str, str]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    url = other_database("history")
    engine = create_engine(url)
    with engine.begin() as conn:
        init_database(conn, load_profile(Settings().city_profile), say=lambda _: None)
    engine.dispose()
    tmp = tmp_path_factory.mktemp("history")
    old, district_of = old_districts(tmp / "old.geojson")
    loads = [
        [str(old), "--set", "old-districts", "--level", "ward", "--full-name-field", "fullName",
         "--valid-from", "2014-04-01", "--allow-removed", "--derive-city", "old-city"],
        [shutil.copy(WARDS_2025, tmp), "--set", "hanoi-wards-2030", "--valid-from", "2030-01-01"],
    ]  # fmt: skip
    for args in loads:
        loaded = cli(url, "boundaries", "load", *map(str, args))
        assert loaded.returncode == 0, loaded.stderr
    with serving(url, tmp) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield History(client, district_of)


def locate(h: History, lat: float, lon: float, **extra: str) -> httpx.Response:
    return h.client.get("/api/v1/locate", params={"lat": lat, "lon": lon, **extra})


def test_a_date_answers_from_the_set_valid_that_day_with_its_city_limit(history: History) -> None:
    then = locate(history, *HOAN_KIEM, at="2020-01-01").json()
    assert then["ward"]["code"] == history.district_of["00070"]
    assert then["ward"]["boundary_set"] == "old-districts"
    assert then["ward"]["valid_from"] == "2014-04-01"
    assert then["city"]["boundary_set"] == "old-city"
    assert then["routing"] is None  # only the active set routes reports
    now = locate(history, *HOAN_KIEM).json()
    assert now["ward"]["code"] == "00070" and now["ward"]["boundary_set"] == "hanoi-wards-2025"
    assert now["routing"] and now["city"]["boundary_set"] == "hanoi-city-2025"
    assert locate(history, *HOAN_KIEM, at="2025-07-01").json()["ward"]["code"] == "00070"
    assert locate(history, *HOAN_KIEM, at="2025-06-30").json()["ward"]["code"].startswith("D")
    to_come = locate(history, *HOAN_KIEM, at="2030-06-01").json()
    assert to_come["ward"]["boundary_set"] == "hanoi-wards-2030"


def test_a_named_set_answers_from_that_set(history: History) -> None:
    named = locate(history, *HOAN_KIEM, set="old-districts").json()
    assert named["ward"]["code"] == history.district_of["00070"]
    assert named["city"]["boundary_set"] == "old-city"


def test_the_city_limit_of_the_day_decides_whether_a_point_was_in_the_city(
    history: History,
) -> None:
    today = locate(history, *LOST_POINT)
    assert today.status_code == 422
    assert today.json()["errors"][0]["field"] == "lat"
    then = locate(history, *LOST_POINT, at="2020-01-01")
    assert then.status_code == 200 and then.json()["ward"]["code"] == "D99"
    later = history.client.get(
        "/api/v1/locate",
        params={"lat": LOST_POINT[0], "lon": LOST_POINT[1], "at": "2026-01-01"},
        headers={"Accept-Language": "en"},
    )
    assert later.status_code == 422
    assert "was outside the city limit of Hà Nội on 2026-01-01" in later.json()["detail"]


@pytest.mark.parametrize(
    ("params", "status", "field", "words"),
    [
        ({"at": "1990-01-01"}, 404, "at", "no ward boundary set is valid on 1990-01-01"),
        ({"at": "2020-13-01"}, 422, "at", ""),
        ({"set": "nope"}, 404, "set", "no boundary set named nope"),
        ({"set": "hanoi-city-2025"}, 422, "set", "is a city set; name a ward set"),
        ({"set": "old-districts", "at": "2020-01-01"}, 422, "set", "either at or set"),
    ],
)
def test_a_question_with_no_answer_says_which_field(
    history: History, params: dict[str, str], status: int, field: str, words: str
) -> None:
    response = history.client.get(
        "/api/v1/locate",
        params={"lat": HOAN_KIEM[0], "lon": HOAN_KIEM[1], **params},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == status
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert words in body["detail"]


def test_every_area_at_a_point_in_every_set_with_its_validity(history: History) -> None:
    body = history.client.get("/api/v1/areas", params={"lat": HOAN_KIEM[0], "lon": HOAN_KIEM[1]})
    assert body.status_code == 200
    found = [(a["level"], a["set"], a["code"], a["valid_from"], a["valid_to"], a["active"])
             for a in body.json()["areas"]]  # fmt: skip
    assert found == [
        ("city", "hanoi-city-2025", "01", "2025-07-01", None, True),
        ("city", "old-city", "01", "2014-04-01", "2025-07-01", False),
        ("ward", "hanoi-wards-2030", "00070", "2030-01-01", None, False),
        ("ward", "hanoi-wards-2025", "00070", "2025-07-01", "2030-01-01", True),
        ("ward", "old-districts", history.district_of["00070"], "2014-04-01", "2025-07-01", False),
    ]
    lost = history.client.get("/api/v1/areas", params={"lat": LOST_POINT[0], "lon": LOST_POINT[1]})
    assert [(a["set"], a["code"]) for a in lost.json()["areas"]] == [
        ("old-city", "01"),
        ("old-districts", "D99"),
    ]
    wards_only = history.client.get(
        "/api/v1/areas", params={"lat": LOST_POINT[0], "lon": LOST_POINT[1], "level": "ward"}
    )
    assert [a["code"] for a in wards_only.json()["areas"]] == ["D99"]
    sea = history.client.get("/api/v1/areas", params={"lat": 10.0, "lon": 110.0})
    assert sea.json() == {"lat": 10.0, "lon": 110.0, "areas": []}


def test_an_old_district_maps_onto_the_wards_that_replaced_it_with_shares_of_area(
    history: History,
) -> None:
    district = history.district_of["00070"]
    response = history.client.get(f"/api/v1/areas/old-districts/{district}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == f"old-districts/{district}"
    assert feature["geometry"]["type"] == "MultiPolygon"
    props = feature["properties"]
    assert props["valid_to"] == "2025-07-01" and props["full_name"].startswith("Quận cũ số")
    wards = [o for o in props["overlaps"] if o["set"] == "hanoi-wards-2025"]
    made_of = {c for c, d in history.district_of.items() if d == district}
    assert {o["code"] for o in wards} == made_of  # the five wards it was dissolved from
    assert all(o["share_of_other"] > 0.999 for o in wards)  # each wholly inside it
    assert abs(sum(o["share_of_this"] for o in wards) - 1) < 0.001  # and they fill it
    cities = {o["set"] for o in props["overlaps"] if o["level"] == "city"}
    assert cities == {"old-city", "hanoi-city-2025"}

    ward = history.client.get("/api/v1/areas/hanoi-wards-2025/00070").json()["properties"]
    old = next(o for o in ward["overlaps"] if o["set"] == "old-districts")
    assert old["code"] == district and old["share_of_this"] > 0.999
    simplified = history.client.get(
        f"/api/v1/areas/old-districts/{district}", params={"simplify": 100}
    )
    assert len(simplified.content) < len(response.content)


def test_an_unknown_area_is_a_404_naming_the_field(history: History) -> None:
    no_set = history.client.get("/api/v1/areas/nope/00070")
    assert no_set.status_code == 404 and no_set.json()["errors"][0]["field"] == "set"
    no_code = history.client.get("/api/v1/areas/hanoi-wards-2025/99999")
    assert no_code.status_code == 404 and no_code.json()["errors"][0]["field"] == "code"
