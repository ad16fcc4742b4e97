"""The public figures: what the city received, resolved, has open and overdue, how much was
resolved on time, how long it took and how satisfied citizens were; and a unit's figures
agree exactly with its queue."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.stories import file_report, moved, official
from tests.test_queue import land_in, new_unit, queue


def stats(client: httpx.Client, **params: Any) -> Any:
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_units_figures_are_its_outcomes(client: httpx.Client, engine: Engine) -> None:
    unit = new_unit(engine)
    admin = official(client, engine, "", role="admin", name="city-admin")
    reports = [file_report(client, "road_damage") for _ in range(5)]
    for r in reports:
        land_in(client, admin, unit, r["id"])
    staff = official(client, engine, unit)
    fast, late, rejected, overdue, copy = (r["id"] for r in reports)
    with engine.begin() as conn:
        conn.execute(  # one waited 10 hours and is resolved in time, one waited 20 and is late
            text(
                "UPDATE reports SET created_at = now() - make_interval(hours => h),"
                " deadline_at = now() + make_interval(hours => d)"
                " FROM (VALUES (CAST(:fast AS bigint), 10, 5), (:late, 20, -1), (:overdue, 30, -2))"
                " AS v(id, h, d) WHERE reports.id = v.id"
            ),
            {"fast": fast, "late": late, "overdue": overdue},
        )
    moved(client, staff, fast, "resolved")
    moved(client, staff, late, "resolved")
    moved(client, staff, rejected, "rejected", reason="not_competent")
    moved(client, staff, copy, "rejected", reason="duplicate", duplicate_of=overdue)
    for r, satisfied in ((reports[0], True), (reports[1], False)):
        client.post(
            f"/api/v1/track/{r['token']}/rating", json={"satisfied": satisfied, "stars": 3}
        ).raise_for_status()

    total = stats(client, unit=unit, breakdowns="false")["total"]
    assert total["received"] == 4  # the duplicate follows its master and is not counted
    assert (total["resolved"], total["rejected"], total["open"], total["overdue"]) == (2, 1, 1, 1)
    assert total["share_resolved_on_time"] == 0.5
    assert 14.9 < total["median_hours_to_resolve"] < 15.1  # 10 h and 20 h
    assert total["ratings"] == 2 and total["satisfaction_rate"] == 0.5

    city = stats(client)
    mine = next(u for u in city["by_unit"] if u["code"] == unit)
    assert {k: v for k, v in mine.items() if k not in ("code", "name", "name_en")} == total
    for key in ("by_ward", "by_unit", "by_category"):
        assert sum(f["received"] for f in city[key]) == city["total"]["received"], key
        assert sum(f["overdue"] for f in city[key]) == city["total"]["overdue"], key


def test_figures_agree_exactly_with_the_queue(client: httpx.Client, engine: Engine) -> None:
    for _ in range(3):
        file_report(client)
    staff = official(client, engine, "urenco")
    first = file_report(client)
    moved(client, staff, first["id"], "in_progress")
    for params in ({}, {"category": "garbage_uncollected"}, {"from": "2026-01-01"}):
        counts = queue(client, staff, status="all", **params)["counts"]
        figures = stats(client, unit="urenco", breakdowns="false", **params)["total"]
        assert figures["by_status"] == {
            s: counts[s]
            for s in ("received", "acknowledged", "in_progress", "resolved", "rejected")
        }, params
        assert figures["open"] == counts["open"] and figures["overdue"] == counts["overdue"]
        assert figures["received"] == sum(figures["by_status"].values())


def test_bad_filters_are_named(client: httpx.Client) -> None:
    for params, field in (
        ({"ward": "99999"}, "ward"),
        ({"unit": "nobody"}, "unit"),
        ({"category": "ufo"}, "category"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "to"),
        ({"from": "March"}, "from"),
    ):
        response = client.get("/api/v1/stats", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field, params
    empty = stats(client, **{"from": "2001-01-01", "to": "2001-01-02"})["total"]
    assert empty["received"] == 0 and empty["share_resolved_on_time"] is None
