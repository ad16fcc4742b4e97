"""Routing rules are data an operator edits from the command line, not code."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import cli

TAY_HO_LAKE = (21.0560, 105.8200)  # Phường Tây Hồ


def unit_for(client: httpx.Client, category: str, lat: float, lon: float, **extra: str) -> str:
    body = client.get("/api/v1/locate", params={"lat": lat, "lon": lon, **extra}).json()
    return next(r["unit"]["code"] for r in body["routing"] if r["category"] == category)


def test_an_operator_routes_urgent_flooding_in_one_ward_to_the_police(
    client: httpx.Client, database_url: str
) -> None:
    ward = client.get("/api/v1/locate", params={"lat": TAY_HO_LAKE[0], "lon": TAY_HO_LAKE[1]})
    code = ward.json()["ward"]["code"]
    assert unit_for(client, "flooding", *TAY_HO_LAKE) == "thoat-nuoc"

    added = cli(
        database_url, "rules", "add", "--category", "flooding", "--unit", "cong-an",
        "--ward", code, "--priority", "urgent", "--precedence", "50",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    rule_id = added.stdout.split()[-1]
    try:
        assert unit_for(client, "flooding", *TAY_HO_LAKE, priority="urgent") == "cong-an"
        assert unit_for(client, "flooding", *TAY_HO_LAKE, priority="normal") == "thoat-nuoc"
        assert unit_for(client, "flooding", 21.0287, 105.8524, priority="urgent") == "thoat-nuoc"
        created = client.post(
            "/api/v1/reports",
            json={
                "category": "flooding",
                "description": "Ngập sâu, xe chết máy hàng loạt",
                "lat": TAY_HO_LAKE[0],
                "lon": TAY_HO_LAKE[1],
                "priority": "urgent",
            },
        )
        assert created.json()["unit"]["code"] == "cong-an"
        listed = cli(database_url, "rules", "list").stdout
        assert f"{rule_id} flooding" in " ".join(listed.split())
    finally:
        removed = cli(database_url, "rules", "remove", rule_id)
    assert removed.returncode == 0
    assert unit_for(client, "flooding", *TAY_HO_LAKE, priority="urgent") == "thoat-nuoc"


def test_a_rule_can_cover_an_area_drawn_in_a_file(
    client: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    lat, lon = TAY_HO_LAKE
    square = {
        "type": "Polygon",
        "coordinates": [
            [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01],
             [lon - 0.01, lat + 0.01], [lon - 0.01, lat - 0.01]]
        ],
    }  # fmt: skip
    area = tmp_path / "lake.geojson"
    area.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": square}))
    added = cli(
        database_url, "rules", "add", "--category", "water_pollution", "--unit", "urenco",
        "--area-file", str(area),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    try:
        assert unit_for(client, "water_pollution", lat, lon) == "urenco"
        assert unit_for(client, "water_pollution", 21.0287, 105.8524) == "so-nnmt"
    finally:
        cli(database_url, "rules", "remove", added.stdout.split()[-1])


def test_bad_rules_are_refused_with_a_reason(database_url: str) -> None:
    unknown_unit = cli(database_url, "rules", "add", "--category", "noise", "--unit", "nobody")
    assert unknown_unit.returncode == 2 and "no unit with code 'nobody'" in unknown_unit.stderr
    unknown_ward = cli(
        database_url, "rules", "add", "--category", "noise", "--unit", "cong-an", "--ward", "99999"
    )
    assert unknown_ward.returncode == 2 and "no ward '99999'" in unknown_ward.stderr
    unknown_rule = cli(database_url, "rules", "remove", "987654")
    assert unknown_rule.returncode == 2 and "no active routing rule 987654" in unknown_rule.stderr
