"""An official's queue: their unit's reports by deadline, filtered, paged, with counts per
status in the same answer; and nothing of another unit's reports reaches them through any
staff endpoint, not even a count."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.stories import file_report, move, moved, official


def new_unit(engine: Engine) -> str:
    code = f"qa-{secrets.token_hex(3)}"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO units (code, kind, name, name_en)"
                " VALUES (:c, 'department', 'Phòng thử nghiệm', 'Test department')"
            ),
            {"c": code},
        )
    return code


def land_in(client: httpx.Client, admin: dict[str, str], unit: str, report_id: int) -> None:
    """The city's admin hands a report to `unit` (it enters its queue as received)."""
    moved(
        client,
        admin,
        report_id,
        "transferred",
        reason="other",
        unit=unit,
        public_comment="Chuyển đơn vị chuyên trách.",
    )


def queue(client: httpx.Client, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/api/v1/queue", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_official_works_the_queue_by_deadline(client: httpx.Client, engine: Engine) -> None:
    unit = new_unit(engine)
    admin = official(client, engine, "", role="admin", name="city-admin")
    word = secrets.token_hex(4)
    reports = {}
    for category in (
        "road_damage",
        "flooding",
        "garbage_uncollected",
        "fallen_tree",
        "illegal_dumping",
    ):
        created = file_report(client, category, description=f"{category} {word}")
        land_in(client, admin, unit, created["id"])
        reports[category] = created["id"]
    manager = official(client, engine, unit, role="unit_manager")

    page = queue(client, manager)
    assert page["unit"]["code"] == unit
    # Deadlines are working hours per category: 4 (flooding) < 6 < 24 < 48 < 72.
    assert [i["id"] for i in page["items"]] == [
        reports[c]
        for c in (
            "flooding",
            "fallen_tree",
            "garbage_uncollected",
            "illegal_dumping",
            "road_damage",
        )
    ]
    assert page["counts"]["received"] == 5 and page["counts"]["open"] == 5
    assert page["total"] == 5 and page["counts"]["overdue"] == 0
    item = page["items"][0]
    assert {"deadline_at", "overdue", "version", "lat", "lon", "ward_name"} <= item.keys()

    moved(client, manager, reports["road_damage"], "acknowledged")
    moved(client, manager, reports["flooding"], "resolved")
    moved(client, manager, reports["fallen_tree"], "rejected", reason="not_a_problem")
    with engine.begin() as conn:  # garbage has waited too long
        conn.execute(
            text(
                "UPDATE reports SET created_at = now() - interval '3 hours',"
                " deadline_at = now() - interval '2 hours' WHERE id = :id"
            ),
            {"id": reports["garbage_uncollected"]},
        )
    client.patch(
        f"/api/v1/staff/reports/{reports['illegal_dumping']}",
        json={"version": 2, "priority": "urgent"},
        headers=manager,
    ).raise_for_status()

    page = queue(client, manager)
    assert page["counts"] | {} == {
        "received": 2,
        "acknowledged": 1,
        "in_progress": 0,
        "resolved": 1,
        "rejected": 1,
        "open": 3,
        "overdue": 1,
    }
    assert [i["id"] for i in page["items"]] == [
        reports["garbage_uncollected"],
        reports["illegal_dumping"],
        reports["road_damage"],
    ]
    assert page["items"][0]["overdue"] is True
    assert [i["id"] for i in queue(client, manager, overdue="true")["items"]] == [
        reports["garbage_uncollected"]
    ]
    assert queue(client, manager, overdue="false")["total"] == 2
    closed = queue(client, manager, status="closed")
    assert closed["total"] == 2 and closed["counts"]["open"] == 3  # counts ignore status
    assert queue(client, manager, status="all")["total"] == 5
    assert queue(client, manager, status="resolved,rejected")["total"] == 2
    assert [i["id"] for i in queue(client, manager, priority="urgent")["items"]] == [
        reports["illegal_dumping"]
    ]
    by_category = queue(client, manager, category="road_damage,flooding", status="all")
    assert by_category["total"] == 2 and by_category["counts"]["resolved"] == 1
    assert queue(client, manager, q=f"road_damage {word}")["total"] == 1
    assert queue(client, manager, q="100%_no_such")["total"] == 0
    today = dt.datetime.now(dt.UTC).date()
    assert queue(client, manager, **{"from": str(today - dt.timedelta(days=1))})["total"] == 3
    assert queue(client, manager, to=str(today - dt.timedelta(days=2)))["counts"]["open"] == 0

    first = queue(client, manager, status="all", page_size=2)
    assert first["pages"] == 3 and len(first["items"]) == 2
    last = queue(client, manager, status="all", page_size=2, page=3)
    assert len(last["items"]) == 1
    newest = queue(client, manager, status="all", sort="-created")["items"][0]["id"]
    assert newest == reports["illegal_dumping"]


def test_the_queue_refuses_bad_filters(client: httpx.Client, engine: Engine) -> None:
    staff = official(client, engine, "urenco")
    for params, field in (
        ({"status": "lost"}, "status"),
        ({"category": "ufo"}, "category"),
        ({"priority": "asap"}, "priority"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"page": 0}, "page"),
        ({"sort": "random"}, "sort"),
        ({"assignee": "them"}, "assignee"),
    ):
        response = client.get("/api/v1/queue", params=params, headers=staff)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field, params


def test_no_staff_endpoint_shows_another_units_report(client: httpx.Client, engine: Engine) -> None:
    word = secrets.token_hex(5)
    theirs = file_report(client, description=f"Rác ở ngõ {word}")  # URENCO's
    assert theirs["unit"]["code"] == "urenco"
    unit = new_unit(engine)
    staff = official(client, engine, unit)
    manager = official(client, engine, unit, role="unit_manager")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO response_templates (code, unit_id, title, body)"
                " SELECT 'urenco_only', id, 'URENCO', 'Chỉ URENCO' FROM units WHERE code = 'urenco'"
                " ON CONFLICT DO NOTHING"
            )
        )
    nothing = client.get("/api/v1/staff/reports/999999999", headers=staff)
    assert nothing.status_code == 404

    # Read, transition, patch: the same 404 as a report that does not exist.
    hidden = client.get(f"/api/v1/staff/reports/{theirs['id']}", headers=staff)
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == f"no report with id {theirs['id']}"
    moving = move(client, staff, theirs["id"], "acknowledged", version=1)
    assert moving.status_code == 404
    patch = client.patch(
        f"/api/v1/staff/reports/{theirs['id']}",
        json={"version": 1, "priority": "low"},
        headers=manager,
    )
    assert patch.status_code == 404
    # Nor as the master of a duplicate.
    mine = file_report(client)
    admin = official(client, engine, "", role="admin", name="city-admin")
    land_in(client, admin, unit, mine["id"])
    as_master = move(
        client, staff, mine["id"], "rejected", reason="duplicate", duplicate_of=theirs["id"]
    )
    assert as_master.status_code == 422

    # The queue: not by text, not by id, not in any count, not by naming the unit.
    empty = queue(client, staff, q=word, status="all")
    assert empty["total"] == 0 and empty["items"] == []
    assert all(v == 0 for v in empty["counts"].values())
    assert queue(client, staff, q=f"#{theirs['id']}", status="all")["total"] == 0
    counts = queue(client, staff, status="all")["counts"]
    assert counts["received"] == 1 and counts["open"] == 1  # only its own report
    assert client.get("/api/v1/queue", params={"unit": "urenco"}, headers=staff).json() == (
        client.get("/api/v1/queue", params={"unit": "no-such"}, headers=staff).json()
        | {
            "detail": "unit: no unit 'urenco'",
            "errors": [{"field": "unit", "message": "unit: no unit 'urenco'"}],
        }
    )
    assert client.get("/api/v1/queue", params={"unit": "urenco"}, headers=staff).status_code == 404
    assert queue(client, staff, unit=unit)["total"] == 1  # naming one's own unit is fine
    # Templates: city-wide ones and the unit's own, never another unit's.
    codes = {t["code"] for t in client.get("/api/v1/staff/templates", headers=staff).json()}
    assert "resolved_done" in codes and "urenco_only" not in codes
    urenco = official(client, engine, "urenco")
    codes = {t["code"] for t in client.get("/api/v1/staff/templates", headers=urenco).json()}
    assert "urenco_only" in codes


def test_planners_read_every_unit_but_change_nothing(client: httpx.Client, engine: Engine) -> None:
    created = file_report(client)
    planner = official(client, engine, "", role="planner", name="city-planner")
    assert client.get(f"/api/v1/staff/reports/{created['id']}", headers=planner).status_code == 200
    urenco = queue(client, planner, unit="urenco", q=f"#{created['id']}")
    assert urenco["total"] == 1
    city = queue(client, planner, q=f"#{created['id']}")
    assert city["unit"] is None and city["total"] == 1
    assert move(client, planner, created["id"], "acknowledged").status_code == 403


def test_only_officials_reach_the_queue(client: httpx.Client, engine: Engine) -> None:
    assert client.get("/api/v1/queue").status_code == 401
    citizen = official(client, engine, "", role="citizen", name="citizen-mai")
    assert client.get("/api/v1/queue", headers=citizen).status_code == 403
    assert client.get("/api/v1/staff/reports/1", headers=citizen).status_code == 403
    assert client.get("/api/v1/staff/templates", headers=citizen).status_code == 403
