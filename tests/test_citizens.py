"""A citizen follows their report with its token, rates the handling once it is resolved,
reopens it when it is not fixed, and supports (+1) an open report near them instead of
filing it again."""

from __future__ import annotations

import random

import httpx
from sqlalchemy import Engine, text

from tests.stories import file_report, move, moved, official

SON_TAY = (21.1380, 105.5050)


def near(lat: float, lon: float, metres_north: float) -> dict[str, float]:
    return {"lat": lat + metres_north / 111_320, "lon": lon}


def test_the_reporter_rates_a_resolved_report_once(client: httpx.Client, engine: Engine) -> None:
    created = file_report(client)
    token = created["token"]
    rating = {"satisfied": True, "stars": 5, "comment": "Nhanh lắm, cảm ơn!"}

    early = client.post(f"/api/v1/track/{token}/rating", json=rating)
    assert early.status_code == 409 and "once it is resolved" in early.json()["detail"]
    assert client.get(f"/api/v1/track/{token}").json()["can_rate"] is False

    staff = official(client, engine, "urenco")
    moved(client, staff, created["id"], "resolved")
    assert client.get(f"/api/v1/track/{token}").json()["can_rate"] is True

    bad = client.post(f"/api/v1/track/{token}/rating", json={**rating, "stars": 6})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "stars"
    first = client.post(f"/api/v1/track/{token}/rating", json=rating)
    assert first.status_code == 201, first.text
    twice = client.post(f"/api/v1/track/{token}/rating", json={**rating, "stars": 1})
    assert twice.status_code == 409 and "already been rated" in twice.json()["detail"]
    after = client.get(f"/api/v1/track/{token}").json()
    assert after["can_rate"] is False and after["rated"] is True
    detail = client.get(f"/api/v1/staff/reports/{created['id']}", headers=staff).json()
    assert detail["rating"]["stars"] == 5


def test_an_unknown_token_is_a_404(client: httpx.Client) -> None:
    for path in ("", "/rating", "/reopen"):
        method = client.get if path == "" else client.post
        kwargs = {} if path == "" else {"json": {"satisfied": True, "stars": 3}}
        if path == "/reopen":
            kwargs = {"json": {}}
        response = method(f"/api/v1/track/NoSuchTokenAtAll123{path}", **kwargs)
        assert response.status_code == 404, path
        assert response.json()["detail"] == "no report has this tracking token"
    assert client.get("/api/v1/track/bad%20token!").status_code == 422


def test_not_fixed_the_reporter_reopens_within_seven_days(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(client)
    token = created["token"]
    staff = official(client, engine, "urenco")

    too_soon = client.post(f"/api/v1/track/{token}/reopen", json={})
    assert too_soon.status_code == 409 and "only a resolved report" in too_soon.json()["detail"]

    moved(client, staff, created["id"], "resolved", public_comment="Đã thu gom.")
    assert client.get(f"/api/v1/track/{token}").json()["can_reopen"] is True
    again = client.post(f"/api/v1/track/{token}/reopen", json={"comment": "Rác vẫn còn nguyên."})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "received"

    queue = client.get("/api/v1/queue", params={"q": f"#{created['id']}"}, headers=staff).json()
    assert queue["items"][0]["reopened"] is True and queue["items"][0]["status"] == "received"
    assert queue["items"][0]["overdue"] is False  # a fresh deadline
    last = client.get(f"/api/v1/track/{token}").json()["timeline"][-1]
    assert (last["from"], last["to"], last["by"], last["reason"]) == (
        "resolved",
        "received",
        "citizen",
        "not_fixed",
    )
    assert last["comment"] == "Rác vẫn còn nguyên."

    moved(client, staff, created["id"], "resolved")
    with engine.begin() as conn:  # eight days pass
        conn.execute(
            text("UPDATE reports SET closed_at = closed_at - interval '8 days' WHERE id = :id"),
            {"id": created["id"]},
        )
    assert client.get(f"/api/v1/track/{token}").json()["can_reopen"] is False
    late = client.post(f"/api/v1/track/{token}/reopen")
    assert late.status_code == 409 and "7 days" in late.json()["detail"]


def test_possible_duplicates_near_a_pin_and_a_plus_one(
    client: httpx.Client, engine: Engine
) -> None:
    lat, lon = SON_TAY[0] + random.uniform(-0.002, 0.002), SON_TAY[1]
    first = file_report(client, "illegal_dumping", **near(lat, lon, 0))
    close = file_report(client, "open_burning", **near(lat, lon, 30))  # same group: environment
    other_group = file_report(client, "illegal_parking", **near(lat, lon, 10))
    far = file_report(client, "illegal_dumping", **near(lat, lon, 400))
    # Filing shows what is already reported nearby, so the citizen could +1 instead.
    assert [r["id"] for r in close["possible_duplicates"]] == [first["id"]]
    assert far["possible_duplicates"] == [] and other_group["possible_duplicates"] == []

    found = client.get(
        "/api/v1/reports/nearby", params={"lat": lat, "lon": lon, "category": "illegal_dumping"}
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["radius_m"] == 50 and body["group"] == "environment"
    ids = [r["id"] for r in body["reports"]]
    assert ids == [first["id"], close["id"]]
    assert other_group["id"] not in ids and far["id"] not in ids
    assert 25 < body["reports"][1]["distance_m"] < 35
    assert "token" not in found.text and "reporter" not in found.text

    plus = client.post(f"/api/v1/reports/{first['id']}/plus-one")
    assert plus.status_code == 201, plus.text
    follower = plus.json()["token"]
    assert plus.json()["plus_ones"] == 1
    assert client.post(f"/api/v1/reports/{first['id']}/plus-one").json()["plus_ones"] == 2

    seen = client.get(f"/api/v1/track/{follower}").json()
    assert seen["id"] == first["id"] and seen["you_are"] == "follower"
    assert seen["plus_ones"] == 2
    # Following is not owning: a follower can neither rate nor reopen.
    assert (
        client.post(
            f"/api/v1/track/{follower}/rating", json={"satisfied": False, "stars": 1}
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/track/{follower}/reopen").status_code == 403

    ward = official(client, engine, first["unit"]["code"])
    moved(client, ward, first["id"], "resolved")
    closed = client.post(f"/api/v1/reports/{first['id']}/plus-one")
    assert closed.status_code == 409 and "only open reports" in closed.json()["detail"]
    assert client.post("/api/v1/reports/999999999/plus-one").status_code == 404
    gone = client.get("/api/v1/reports/nearby", params={"lat": lat, "lon": lon}).json()
    assert first["id"] not in [r["id"] for r in gone["reports"]]


def test_nearby_refuses_bad_input(client: httpx.Client) -> None:
    bad = client.get("/api/v1/reports/nearby", params={"lat": 95, "lon": 105.8})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lat"
    unknown = client.get(
        "/api/v1/reports/nearby", params={"lat": 21.0, "lon": 105.8, "category": "ufo"}
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "category"
    missing = client.get("/api/v1/reports/nearby", params={"lat": 21.0})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "lon"


def test_the_citizen_of_a_duplicate_reopens_the_master(
    client: httpx.Client, engine: Engine
) -> None:
    master = file_report(client)
    copy = file_report(client)
    staff = official(client, engine, "urenco")
    moved(client, staff, copy["id"], "rejected", reason="duplicate", duplicate_of=master["id"])
    moved(client, staff, master["id"], "resolved")
    assert client.get(f"/api/v1/track/{copy['token']}").json()["status"] == "resolved"
    reopened = client.post(f"/api/v1/track/{copy['token']}/reopen", json={"comment": "Chưa xong"})
    assert reopened.status_code == 200 and reopened.json()["id"] == master["id"]
    assert client.get(f"/api/v1/track/{copy['token']}").json()["status"] == "received"
    assert move(client, staff, master["id"], "acknowledged").status_code == 201
