"""Anyone looks at the city's reports on a map: only what is in view, clustered by the server."""

from __future__ import annotations

import math
import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from geo_service.clusters import cell_degrees

# A quiet corner of a rural commune (Xã Tiến Thắng): no landmark or demo hot spot near it.
BASE_LAT, BASE_LON = 21.2003, 105.7003


def cell_centre(zoom: int) -> tuple[float, float]:
    """The middle of the grid cell holding the base point at a zoom, so that a few reports
    around it fall in one cell."""
    cell = cell_degrees(zoom)
    return (
        (math.floor(BASE_LAT / cell) + 0.5) * cell,
        (math.floor(BASE_LON / cell) + 0.5) * cell,
    )


def clusters(client: httpx.Client, bbox: tuple[float, ...], zoom: int, **params: object) -> dict:
    r = client.get(
        "/api/v1/reports/clusters",
        params={"bbox": ",".join(f"{v:.6f}" for v in bbox), "zoom": zoom, **params},
    )
    assert r.status_code == 200, r.text
    return r.json()


def report(client: httpx.Client, lat: float, lon: float, category: str) -> int:
    r = client.post(
        "/api/v1/reports",
        json={"category": category, "description": "Bản đồ công khai", "lat": lat, "lon": lon},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_many_reports_are_one_cluster_from_afar_and_single_reports_up_close(
    client: httpx.Client,
) -> None:
    lat, lon = cell_centre(12)
    box = (lon - 0.005, lat - 0.005, lon + 0.005, lat + 0.005)
    before = clusters(client, box, 12)["total"]
    # Twelve reports on a 4 x 3 grid 40 m apart (0.00036° is ~40 m).
    ids = [
        report(client, lat + 0.00036 * row, lon + 0.00036 * col, "illegal_dumping")
        for row in range(3)
        for col in range(4)
    ]
    far = clusters(client, box, 12)
    assert far["total"] == before + 12
    biggest = far["clusters"][0]
    assert biggest["count"] >= 12
    assert biggest["statuses"]["received"] >= 12
    west, south, east, north = biggest["bbox"]
    assert west <= round(lon, 6) <= east and south <= round(lat, 6) <= north

    close = clusters(client, box, 20)  # cells of ~9 m: every report stands alone
    singles = {r["id"]: r for r in close["reports"]}
    assert set(ids) <= set(singles)
    assert singles[ids[0]]["status"] == "received"
    assert singles[ids[0]]["category"] == "illegal_dumping"
    assert singles[ids[0]]["group"] == "environment"

    # Filters: another group, or closed reports only, leaves ours out.
    other = clusters(client, box, 20, group="infrastructure")
    assert other["total"] <= close["total"] - 12
    assert not set(ids) & {r["id"] for r in other["reports"]}
    closed = clusters(client, box, 20, status=["resolved", "rejected"])
    assert not set(ids) & {r["id"] for r in closed["reports"]}
    mine = clusters(client, box, 20, category="illegal_dumping", status="received")
    assert set(ids) <= {r["id"] for r in mine["reports"]}


def test_the_answer_size_depends_on_the_view_not_on_the_number_of_reports(
    client: httpx.Client,
) -> None:
    city = (105.28, 20.56, 106.02, 21.39)
    answer = clusters(client, city, 10)
    # A 60 px grid over a ~700 px wide view of the whole city: at most a few hundred cells.
    assert len(answer["clusters"]) + len(answer["reports"]) <= 300
    assert answer["total"] == sum(c["count"] for c in answer["clusters"]) + len(answer["reports"])


def test_bad_map_queries_get_a_clear_error_naming_the_field(client: httpx.Client) -> None:
    cases = [
        ({"bbox": "1,2,3", "zoom": 12}, "bbox"),
        ({"bbox": "106,21,105,22", "zoom": 12}, "bbox"),
        ({"bbox": "105,21,106,22", "zoom": 40}, "zoom"),
        ({"bbox": "105,21,106,22"}, "zoom"),
        ({"bbox": "105,21,106,22", "zoom": 12, "group": "nope"}, "group"),
        ({"bbox": "105,21,106,22", "zoom": 12, "status": "lost"}, "status"),
    ]
    for params, field in cases:
        r = client.get("/api/v1/reports/clusters", params=params)
        assert r.status_code == 422, (params, r.text)
        assert field in r.json()["detail"], (params, r.json())


def test_the_public_map_shows_a_new_report_and_opens_it(
    page: Page, client: httpx.Client, artefacts: Path
) -> None:
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    lat, lon = BASE_LAT - 0.004, BASE_LON - 0.004
    page.emulate_media(reduced_motion="reduce")  # no fading: the popup is readable at once
    report_id, *_ = (report(client, lat + 0.0002 * i, lon, "flooding") for i in range(3))
    page.goto("/map")
    expect(page.locator("h1")).to_have_text("Bản đồ phản ánh")
    expect(page.locator("#map-count")).to_contain_text("phản ánh trong vùng nhìn")
    page.screenshot(path=artefacts / "map-city.png")

    # Far out, the three reports are one cluster; selecting it zooms in on them.
    page.evaluate(f"GSMap.map.setView([{lat}, {lon}], 14, {{animate: false}})")
    cluster = page.locator(".cluster").filter(has_text=re.compile(r"^3$"))
    expect(cluster.first).to_be_visible()
    cluster.first.click()
    expect(page.locator(".report-dot").first).to_be_visible()
    assert page.evaluate("GSMap.map.getZoom()") > 14

    page.evaluate(f"GSMap.map.setView([{lat}, {lon}], 19, {{animate: false}})")
    dot = page.locator(f'.report-dot[aria-label^="#{report_id} "]')
    expect(dot).to_be_visible()
    dot.focus()
    page.keyboard.press("Enter")  # keyboard users open it too
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Ngập úng")
    expect(popup).to_contain_text("Đã tiếp nhận")
    page.screenshot(path=artefacts / "map-report.png")

    # Its public page: the timeline, without the tracking token's rights.
    with page.expect_navigation():
        popup.get_by_role("link", name="Xem diễn biến").click()
    expect(page.locator("h1")).to_contain_text(f"Ngập úng #{report_id}")
    expect(page.locator("#timeline")).to_contain_text("Đã tiếp nhận")
    expect(page.locator("#rating-form")).to_have_count(0)
    page.screenshot(path=artefacts / "public-report.png", full_page=True)
    page.go_back()

    # Only closed reports: the new (received) one goes away.
    page.get_by_label("Trạng thái").select_option("closed")
    expect(dot).to_have_count(0)
