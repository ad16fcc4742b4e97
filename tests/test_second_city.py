"""Another city is a boundary file and a city profile: "Riverton", a small synthetic city in
the southern and western hemispheres (negative latitudes and longitudes), set up from its own
profile with nothing of Hanoi, takes reports and goes through a boundary reform.

Its files are drawn here: six wards on a grid, a city limit digitised apart from them (half a
metre off along one edge: 2,000 m² of sliver that the profile's tolerance allows), and the
reform of 2026 that merges two wards and splits a third."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import Polygon, box, mapping

from tests.conftest import cli, other_database, serving

WEST, SOUTH, STEP = -58.46, -34.62, 0.02
NOT_HANOI = re.compile(r"hanoi|hà nội|ha noi", re.IGNORECASE)


def cell(col: int, row: int, cols: int = 1) -> Polygon:
    x, y = WEST + col * STEP, SOUTH + row * STEP
    return box(x, y, x + cols * STEP, y + STEP)


def centre(code: str) -> tuple[float, float]:
    """(lat, lon) inside a 2024 ward: 001-003 on the north row, 004-006 on the south."""
    n = int(code) - 1
    return SOUTH + (1.5 if n < 3 else 0.5) * STEP, WEST + (n % 3 + 0.5) * STEP


WARDS_2024 = {f"00{n + 1}": cell(n % 3, 1 if n < 3 else 0) for n in range(6)}
WARDS_2026 = {
    "012": cell(0, 1, cols=2),  # 001 and 002 merged
    "031": box(WEST + 2 * STEP, SOUTH + STEP, WEST + 2.5 * STEP, SOUTH + 2 * STEP),
    "032": box(WEST + 2.5 * STEP, SOUTH + STEP, WEST + 3 * STEP, SOUTH + 2 * STEP),
    **{code: WARDS_2024[code] for code in ("004", "005", "006")},
}
# The surveyors' outline ends half a metre east of the wards' eastern edge.
CITY = box(WEST, SOUTH, WEST + 3 * STEP + 0.000005, SOUTH + 2 * STEP)

PROFILE = """
[city]
name = "Riverton"
name_en = "Riverton"
timezone = "America/Argentina/Buenos_Aires"
jurisdiction_id = "riverton.example"
center = [-34.60, -58.43]

[[boundaries]]
set = "riverton-city-2024"
level = "city"
file = "city_2024.geojson"
valid_from = "2024-01-01"
gap_tolerance_m2 = 2500
attribution = "Riverton Survey Office (synthetic test data)"

[[boundaries]]
set = "riverton-wards-2024"
level = "ward"
file = "wards_2024.geojson"
full_name_field = "fullName"
valid_from = "2024-01-01"
gap_tolerance_m2 = 2500
attribution = "Riverton Survey Office (synthetic test data)"

[[boundaries]]
set = "riverton-wards-2026"
level = "ward"
file = "wards_2026.geojson"
full_name_field = "fullName"
valid_from = "2026-01-01"
gap_tolerance_m2 = 2500
city_set = "riverton-city-2024"
autoload = false
attribution = "Riverton Survey Office, 2026 reform (synthetic test data)"

[ward_unit]
code = "council-{code}"
name = "{full_name} Council"
name_en = "{full_name} Council"

[[groups]]
code = "streets"
name = "Streets"
name_en = "Streets"

[[units]]
code = "roads"
kind = "department"
name = "Riverton Roads Department"
name_en = "Riverton Roads Department"

[[categories]]
code = "litter"
group = "streets"
name = "Litter"
name_en = "Litter"
response_hours = 24

[[categories]]
code = "pothole"
group = "streets"
name = "Pothole"
name_en = "Pothole"
response_hours = 72
unit = "roads"
"""


def write(path: Path, areas: dict[str, Polygon], **props: str) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": code, "fullName": f"Ward {code}", **props},
            "geometry": mapping(geom),
        }
        for code, geom in areas.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


@dataclass
class Riverton:
    url: str
    env: dict[str, str]
    client: httpx.Client
    dir: Path

    def cli(self, *args: str) -> Any:
        return cli(self.url, *args, **self.env)


@pytest.fixture(scope="module")
def riverton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Riverton]:
    folder = tmp_path_factory.mktemp("riverton")
    (folder / "riverton.toml").write_text(PROFILE)
    write(folder / "wards_2024.geojson", WARDS_2024)
    write(folder / "wards_2026.geojson", WARDS_2026)
    write(folder / "city_2024.geojson", {"R": CITY})
    env = {"CITY_PROFILE": str(folder / "riverton.toml")}
    url = other_database("riverton")
    init = cli(url, "init", **env)
    assert init.returncode == 0, init.stderr
    assert not NOT_HANOI.search(init.stdout)
    with (
        serving(url, folder, **env) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield Riverton(url, env, client, folder)


def locate(r: Riverton, code: str, **extra: str) -> httpx.Response:
    lat, lon = centre(code)
    return r.client.get("/api/v1/locate", params={"lat": lat, "lon": lon, **extra})


def test_riverton_is_set_up_from_its_profile_alone(riverton: Riverton) -> None:
    pages = ["/api/v1/meta", "/api/v1/boundaries", "/api/v1/units", "/api/v1/categories", "/"]
    for page in pages:
        response = riverton.client.get(page)
        assert response.status_code == 200
        assert not NOT_HANOI.search(response.text), page
    sets = {s["name"]: s for s in riverton.client.get("/api/v1/boundaries").json()}
    assert set(sets) == {"riverton-city-2024", "riverton-wards-2024"}
    assert all(s["active"] for s in sets.values())
    units = {u["code"] for u in riverton.client.get("/api/v1/units").json()}
    assert units == {"roads"} | {f"council-00{n}" for n in range(1, 7)}
    listed = riverton.cli("boundaries", "list").stdout
    assert "tolerance 2500/1 m²" in listed  # the profile's, for its sliver


def test_a_pin_in_riverton_finds_its_ward_and_unit(riverton: Riverton) -> None:
    body = locate(riverton, "002").json()
    assert body["ward"]["code"] == "002" and body["city"]["name"] == "R"
    routes = {r["category"]: r["unit"]["code"] for r in body["routing"]}
    assert routes == {"litter": "council-002", "pothole": "roads"}
    outside = riverton.client.get(
        "/api/v1/locate", params={"lat": -34.70, "lon": -58.43}, headers={"Accept-Language": "en"}
    )
    assert outside.status_code == 422
    assert "outside the city limit of Riverton" in outside.json()["detail"]


def test_a_riverton_file_in_lat_lon_order_is_caught_though_both_fit_in_range(
    riverton: Riverton,
) -> None:
    swapped = {code: Polygon([(y, x) for x, y in geom.exterior.coords]) for code, geom in
               WARDS_2024.items()}  # fmt: skip
    write(riverton.dir / "swapped.geojson", swapped)
    result = riverton.cli("boundaries", "load", str(riverton.dir / "swapped.geojson"),
                          "--set", "swapped", "--level", "ward", "--dry-run")  # fmt: skip
    assert result.returncode == 2
    assert "would lie on it with x and y exchanged" in result.stderr


def test_riverton_goes_through_its_2026_reform(riverton: Riverton) -> None:
    filed = {}
    for code, category in (("001", "litter"), ("002", "litter"), ("003", "litter"),
                           ("003", "pothole"), ("005", "litter")):  # fmt: skip
        lat, lon = centre(code)
        response = riverton.client.post(
            "/api/v1/reports",
            json={"category": category, "description": f"{category} in {code}",
                  "lat": lat, "lon": lon},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        filed[(code, category)] = response.json()

    # The profile lists the file: its validity, city limit and tolerance apply by hand too.
    path = str(riverton.dir / "wards_2026.geojson")
    refused = riverton.cli("boundaries", "load", path, "--set", "riverton-wards-2026")
    assert refused.returncode == 2
    assert "3 codes of the active set riverton-wards-2024 are not in this set" in refused.stderr
    loaded = riverton.cli(
        "boundaries", "load", path, "--set", "riverton-wards-2026", "--allow-removed"
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "using the city profile's entry for 'riverton-wards-2026'" in loaded.stdout
    preview = riverton.cli("boundaries", "preview", "riverton-wards-2026").stdout
    assert "5 open reports: 4 change ward, 3 change unit" in preview
    assert "council-001 -> council-012 (new)" in preview
    assert "units retired (their ward vanishes; their queues empty): 3" in preview
    activated = riverton.cli("boundaries", "activate", "riverton-wards-2026")
    assert activated.returncode == 0, activated.stderr

    after = {k: riverton.client.get(f"/api/v1/track/{v['token']}").json() for k, v in filed.items()}
    assert after[("001", "litter")]["ward_code"] == "012"
    assert after[("001", "litter")]["unit_code"] == "council-012"
    assert after[("002", "litter")]["unit_code"] == "council-012"
    assert after[("003", "litter")]["unit_code"] == "council-031"  # the west half
    assert after[("003", "pothole")]["unit_code"] == "roads"  # a city unit keeps it
    assert after[("005", "litter")]["unit_code"] == "council-005"  # untouched ward
    note = after[("001", "litter")]["timeline"][-2]
    assert note["comment"] == "Boundary reform: now handled by Ward 012 Council (Ward 012)."
    units = {u["code"] for u in riverton.client.get("/api/v1/units").json()}
    assert units == {"roads", "council-012", "council-031", "council-032"} | {
        f"council-00{n}" for n in (4, 5, 6)
    }
    old = locate(riverton, "001", at="2025-06-01").json()
    assert old["ward"]["boundary_set"] == "riverton-wards-2024" and old["ward"]["code"] == "001"
