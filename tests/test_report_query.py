"""One filter, every surface: the queue, the figures, the exports, the planners' analytics, the
public list and map, and Open311 select the same reports for the same filter, because they all
render report_query.ReportFilter; and the vocabularies the filter takes are the database's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from geo_service.auth import ROLES
from geo_service.report_query import (
    CHANNELS,
    EVENT_STATUSES,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    TARGETS,
)
from tests.maps_data import HOAN_KIEM
from tests.stories import official

DONG_DA_WARD = "00190"  # another ward, same group and period: must never be counted


@pytest.mark.parametrize(
    ("constraint", "vocabulary"),
    [
        ("reports_status", STATUSES),
        ("reports_priority", PRIORITIES),
        ("reports_channel", CHANNELS),
        ("routing_rules_priority", PRIORITIES),
        ("report_events_to_status", EVENT_STATUSES),
        ("report_events_from_status", EVENT_STATUSES),
        ("response_templates_status_check", TARGETS),
        ("users_role", ROLES),
    ],
)
def test_each_vocabulary_is_exactly_the_database_check(
    engine: Engine, constraint: str, vocabulary: tuple[str, ...]
) -> None:
    with engine.connect() as conn:
        definition = conn.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
            {"n": constraint},
        ).scalar_one()
    assert sorted(re.findall(r"'([a-z0-9_]+)'", definition)) == sorted(vocabulary)


PLANT_SQL = text(
    """
    INSERT INTO reports (category_id, description, geom, boundary_set_id, ward_code, unit_id,
                         status, priority, channel, created_at, updated_at, deadline_at,
                         closed_at, duplicate_of, source)
    SELECT c.id, 'one filter: ' || p.n, ST_PointOnSurface(a.geom), a.set_id, a.code,
           gs_route(c.id, ST_PointOnSurface(a.geom), a.code, p.priority), p.status,
           p.priority, p.channel, p.at, p.at, gs_deadline(p.at, c.id),
           CASE WHEN p.status IN ('resolved', 'rejected') THEN p.at + interval '2 days' END,
           NULL, 'test'
      FROM unnest(CAST(:categories AS text[]), CAST(:wards AS text[]),
                  CAST(:statuses AS text[]), CAST(:priorities AS text[]),
                  CAST(:channels AS text[]), CAST(:ats AS timestamptz[]))
           WITH ORDINALITY AS p(category, ward, status, priority, channel, at, n)
      JOIN categories c ON c.code = p.category
      JOIN areas a ON a.code = p.ward
      JOIN boundary_sets b ON b.id = a.set_id AND b.active AND b.level = 'ward'
    RETURNING id
    """
)


def plant(engine: Engine, rows: list[dict[str, Any]]) -> list[int]:
    """Reports as given (category, ward, status, priority, channel, at), at their ward's
    centre, routed like real ones."""
    columns = {
        "categories": "category",
        "wards": "ward",
        "statuses": "status",
        "priorities": "priority",
        "channels": "channel",
        "ats": "at",
    }
    params = {key: [r[name] for r in rows] for key, name in columns.items()}
    with engine.begin() as conn:
        return list(conn.execute(PLANT_SQL, params).scalars())


def mark_duplicates(engine: Engine, duplicates: list[int], master: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE reports SET duplicate_of = :m WHERE id = ANY(:ids)"),
            {"m": master, "ids": duplicates},
        )


def city_time(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.timezone(dt.timedelta(hours=7)))


@pytest.fixture(scope="module")
def people(client_module: httpx.Client, engine: Engine) -> dict[str, dict[str, str]]:
    return {
        "admin": official(client_module, engine, "", role="admin", name="rq-admin"),
        "planner": official(client_module, engine, "", role="planner", name="rq-planner"),
    }


@pytest.fixture(scope="module")
def client_module(server: Any) -> Any:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


# March 2009 in city time; reports on its first and last evening test the days' edges
# (7 hours from UTC), and reports just outside it must not count.
FIRST, LAST = dt.date(2009, 3, 1), dt.date(2009, 3, 31)


@pytest.fixture(scope="module")
def march(engine: Engine) -> dict[str, Any]:
    """Reports in Hoan Kiem and Dong Da, environment and other groups, every status, inside
    and just outside the period; two duplicates among the ones the filter selects."""
    rows = []
    statuses = [*STATUSES, "received", "in_progress"]
    for i, status in enumerate(statuses):
        for category in ("garbage_uncollected", "noise", "broken_street_light"):
            for ward in (HOAN_KIEM, DONG_DA_WARD):
                for at in (
                    city_time(FIRST, 0),  # 1 March 00:00 city time is 28 February in UTC
                    city_time(LAST, 23),
                    city_time(FIRST - dt.timedelta(days=1), 23),  # outside: 28 February
                    city_time(LAST + dt.timedelta(days=1), 0),  # outside: 1 April
                ):
                    rows.append(
                        {
                            "category": category,
                            "ward": ward,
                            "status": status,
                            "priority": PRIORITIES[i % len(PRIORITIES)],
                            "channel": CHANNELS[i % len(CHANNELS)],
                            "at": at,
                        }
                    )
    ids = plant(engine, rows)
    selected = [
        report_id
        for report_id, row in zip(ids, rows, strict=True)
        if row["ward"] == HOAN_KIEM
        and row["category"] in ("garbage_uncollected", "noise")  # both "environment"
        and row["status"] in OPEN_STATUSES
        and FIRST <= row["at"].date() <= LAST
    ]
    mark_duplicates(engine, selected[-2:], selected[0])
    return {"selected": selected, "duplicates": selected[-2:]}


FILTER = {
    "ward": HOAN_KIEM,
    "group": "environment",
    "status": "open",
    "from": FIRST.isoformat(),
    "to": LAST.isoformat(),
}


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def counts_everywhere(
    client: httpx.Client, people: dict[str, dict[str, str]], params: dict[str, str]
) -> dict[str, int]:
    """How many reports each surface selects for these filters."""
    admin, planner = people["admin"], people["planner"]
    queue = client.get("/api/v1/queue", params={**params, "page_size": 1}, headers=admin)
    stats = client.get("/api/v1/stats", params={**params, "breakdowns": "false"})
    export = client.get("/api/v1/export", params={**params, "format": "csv"}, headers=planner)
    wards = client.get("/api/v1/analytics/wards", params=params, headers=planner)
    x1, y1, x2, y2 = (105.7, 20.9, 106.0, 21.2)
    clusters = client.get(
        "/api/v1/reports/clusters", params={**params, "bbox": f"{x1},{y1},{x2},{y2}", "zoom": 10}
    )
    public = client.get("/api/v1/reports", params={**params, "page_size": 500})
    for response in (queue, stats, wards, clusters, public):
        assert response.status_code == 200, response.text
    ward_reports = {
        f["properties"]["code"]: f["properties"]["reports"] for f in wards.json()["features"]
    }
    return {
        "queue": queue.json()["total"],
        "figures": stats.json()["total"]["received"],
        "export": len(csv_rows(export)),
        "analytics": sum(ward_reports.values()),
        "public map": clusters.json()["total"],
        "public list (with duplicates)": len(public.json()["features"]),
    }


def open311_count(client: httpx.Client, params: dict[str, str]) -> int:
    """Open311's own names for the same filter: open/closed, W3C date-times, extensions."""
    tz = "+07:00"
    after = dt.date.fromisoformat(params["to"]) + dt.timedelta(days=1)
    response = client.get(
        "/open311/v2/requests.json",
        params={
            "ward": params["ward"],
            "group": params["group"],
            "status": "open",
            "start_date": f"{params['from']}T00:00:00{tz}",
            "end_date": f"{after}T00:00:00{tz}",
            "page_size": "1000",
        },
    )
    assert response.status_code == 200, response.text
    return len(response.json())


def test_one_filter_counts_the_same_reports_on_every_surface(
    client_module: httpx.Client, people: dict[str, dict[str, str]], march: dict[str, Any]
) -> None:
    counted = len(march["selected"]) - len(march["duplicates"])
    assert counted > 10
    counts = counts_everywhere(client_module, people, FILTER)
    with_duplicates = counts.pop("public list (with duplicates)")
    assert counts == {name: counted for name in counts}, counts
    # What citizens sent, duplicates included, is the same set plus the duplicates.
    assert with_duplicates == len(march["selected"])
    assert open311_count(client_module, FILTER) == len(march["selected"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", s) for s in STATUSES]
    + [("priority", p) for p in PRIORITIES]
    + [("channel", c) for c in CHANNELS],
)
def test_every_value_of_every_vocabulary_reaches_every_surface(
    client_module: httpx.Client,
    people: dict[str, dict[str, str]],
    march: dict[str, Any],
    engine: Engine,
    field: str,
    value: str,
) -> None:
    """A value added to a vocabulary (and to the CHECK constraint, test above) is accepted
    and counted alike everywhere, with nothing else to edit: this test takes its values from
    the vocabularies themselves."""
    params = {
        "ward": HOAN_KIEM,
        "from": FIRST.isoformat(),
        "to": LAST.isoformat(),
        "status": "all",
        field: value,
    }
    with engine.connect() as conn:
        expected = conn.execute(
            text(
                f"SELECT count(*) FROM reports WHERE ward_code = :ward AND {field} = :value"
                " AND duplicate_of IS NULL AND created_at >= :start AND created_at < :end"
            ),
            {
                "ward": HOAN_KIEM,
                "value": value,
                "start": city_time(FIRST, 0),
                "end": city_time(LAST + dt.timedelta(days=1), 0),
            },
        ).scalar_one()
    counts = counts_everywhere(client_module, people, params)
    counts.pop("public list (with duplicates)")
    assert counts == {name: expected for name in counts}, counts


@pytest.mark.parametrize("field", ["status", "priority", "channel", "ward", "group", "category"])
def test_a_value_no_vocabulary_knows_is_refused_alike_everywhere(
    client_module: httpx.Client, people: dict[str, dict[str, str]], field: str
) -> None:
    planner, admin = people["planner"], people["admin"]
    params = {field: "no_such_value"}
    for path, headers in [
        ("/api/v1/queue", admin),
        ("/api/v1/stats", {}),
        ("/api/v1/export", planner),
        ("/api/v1/analytics/wards", planner),
        ("/api/v1/reports", {}),
        ("/maps/heatmap", planner),
    ]:
        response = client_module.get(path, params=params, headers=headers)
        assert response.status_code == 422, (path, response.text)
        body = response.json()
        assert body["code"] == "invalid"
        assert [e["field"] for e in body["errors"]] == [field], (path, body)
        assert "no_such_value" in body["detail"]
