"""An official moves a report through its lifecycle; every step is an event the public can
follow; illegal steps, stale versions and missing reasons are refused with their own 4xx."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
from sqlalchemy import Engine, text

from tests.stories import DONG_DA, file_report, jpeg, move, moved, official


def test_urenco_takes_a_garbage_report_from_received_to_resolved(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(
        client, name="Nguyễn Văn An", phone="0912 345 678", email="an@example.com"
    )
    assert created["unit"]["code"] == "urenco" and created["status"] == "received"
    staff = official(client, engine, "urenco", name="urenco-lan")

    report = client.get(f"/api/v1/staff/reports/{created['id']}", headers=staff).json()
    assert report["reporter"]["phone"] == "0912 345 678"  # the unit may call the reporter back
    assert report["allowed"] == [
        "acknowledged",
        "in_progress",
        "resolved",
        "rejected",
        "transferred",
    ]
    template = next(t for t in report["templates"] if t["code"] == "ack_checking")

    step = moved(client, staff, created["id"], "acknowledged", version=1, template=template["id"])
    assert step["status"] == "acknowledged" and step["version"] == 2
    moved(
        client,
        staff,
        created["id"],
        "in_progress",
        version=2,
        internal_note="Tổ 3 xử lý, gọi anh An lúc 9h",
    )
    done = client.post(
        f"/api/v1/staff/reports/{created['id']}/transitions",
        data={"to": "resolved", "version": "3", "public_comment": "Đã thu gom xong."},
        files=[("photos", ("after.jpg", jpeg(), "image/jpeg"))],
        headers=staff,
    )
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "resolved" and done.json()["closed_at"]

    public = client.get(f"/api/v1/track/{created['token']}")
    assert public.status_code == 200
    body = public.json()
    steps = [(e["from"], e["to"]) for e in body["timeline"]]
    assert steps == [
        (None, "received"),
        ("received", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
    ]
    assert body["timeline"][1]["comment"] == template["body"]
    assert body["timeline"][3]["comment"] == "Đã thu gom xong."
    assert len(body["timeline"][3]["photos"]) == 1
    assert client.get(body["timeline"][3]["photos"][0]).status_code == 200
    # Nobody's personal data in the public timeline: not the reporter's, not the official's.
    for secret in ("Nguyễn Văn An", "0912", "an@example.com", "urenco-lan", "Tổ 3"):
        assert secret not in public.text

    history = client.get(f"/api/v1/staff/reports/{created['id']}", headers=staff).json()
    assert [e["username"] for e in history["events"]] == [None, *["urenco-lan"] * 3]
    assert history["events"][2]["internal_note"] == "Tổ 3 xử lý, gọi anh An lúc 9h"
    assert history["allowed"] == []


def test_illegal_transitions_are_refused_with_the_allowed_ones(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(client)
    staff = official(client, engine, "urenco")
    moved(client, staff, created["id"], "in_progress")
    back = move(client, staff, created["id"], "acknowledged")
    assert back.status_code == 409
    assert back.json()["context"]["allowed"] == ["resolved", "rejected", "transferred"]
    assert "in_progress cannot go to acknowledged" in back.json()["detail"]

    moved(client, staff, created["id"], "resolved")
    again = move(client, staff, created["id"], "in_progress")
    assert again.status_code == 409 and again.json()["context"]["allowed"] == []
    assert "closed" in again.json()["detail"]

    unknown = move(client, staff, created["id"], "closed")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "to"


def test_a_rejection_needs_a_reason_the_citizen_can_read(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(client)
    staff = official(client, engine, "urenco")
    missing = move(client, staff, created["id"], "rejected")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    wrong = move(client, staff, created["id"], "rejected", reason="lazy")
    assert wrong.status_code == 422 and "not_competent" in wrong.json()["detail"]
    other = move(client, staff, created["id"], "rejected", reason="other")
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "public_comment"
    stray = move(client, staff, created["id"], "resolved", reason="not_a_problem")
    assert stray.status_code == 422 and stray.json()["errors"][0]["field"] == "reason"

    done = moved(
        client,
        staff,
        created["id"],
        "rejected",
        reason="not_a_problem",
        public_comment="Điểm tập kết rác đúng quy định, thu gom lúc 18h.",
    )
    assert done["status"] == "rejected" and done["closed_at"]
    last = client.get(f"/api/v1/track/{created['token']}").json()["timeline"][-1]
    assert last["to"] == "rejected" and last["reason"] == "not_a_problem"


def test_a_transfer_hands_the_report_to_another_units_queue(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(client, "illegal_dumping")  # goes to the ward's People's Committee
    ward = created["unit"]["code"]
    ward_staff = official(client, engine, ward)
    moved(client, ward_staff, created["id"], "acknowledged")
    with engine.begin() as conn:  # it has waited a while: the old deadline is near
        conn.execute(
            text("UPDATE reports SET deadline_at = now() + interval '1 hour' WHERE id = :id"),
            {"id": created["id"]},
        )

    no_reason = move(client, ward_staff, created["id"], "transferred", unit="urenco")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    no_unit = move(client, ward_staff, created["id"], "transferred", reason="not_competent")
    assert no_unit.status_code == 422 and no_unit.json()["errors"][0]["field"] == "unit"
    same = move(
        client,
        ward_staff,
        created["id"],
        "transferred",
        reason="other",
        unit=ward,
        public_comment="x",
    )
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "unit"

    out = moved(
        client,
        ward_staff,
        created["id"],
        "transferred",
        reason="not_competent",
        unit="urenco",
        public_comment="Chuyển URENCO thu gom.",
    )
    assert out["status"] == "received" and out["unit"]["code"] == "urenco"
    # The deadline restarts in the new unit (TRANSFER_RESTARTS_DEADLINE, on by default).
    restarted = dt.datetime.fromisoformat(out["deadline_at"])
    assert restarted > dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)

    # The ward no longer sees it; URENCO has it as received.
    assert (
        client.get(f"/api/v1/staff/reports/{created['id']}", headers=ward_staff).status_code == 404
    )
    urenco = official(client, engine, "urenco")
    mine = client.get("/api/v1/queue", params={"q": f"#{created['id']}"}, headers=urenco).json()
    assert [i["id"] for i in mine["items"]] == [created["id"]]
    assert mine["items"][0]["status"] == "received"

    timeline = client.get(f"/api/v1/track/{created['token']}").json()["timeline"]
    assert [(e["from"], e["to"], e["unit_code"]) for e in timeline[-2:]] == [
        ("acknowledged", "transferred", ward),
        ("transferred", "received", "urenco"),
    ]


def test_two_officials_change_the_same_report_and_the_second_is_told(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(client)
    lan = official(client, engine, "urenco", name="urenco-lan")
    minh = official(client, engine, "urenco", name="urenco-minh")
    seen = client.get(f"/api/v1/staff/reports/{created['id']}", headers=lan).json()["version"]

    moved(client, lan, created["id"], "acknowledged", version=seen)
    late = move(client, minh, created["id"], "rejected", version=seen, reason="not_a_problem")
    assert late.status_code == 409
    assert late.json()["errors"][0]["field"] == "version"
    assert late.json()["context"] == {"version": seen + 1, "status": "acknowledged"}

    # At the very same moment: exactly one wins.
    seen += 1
    results: list[int] = []

    def attempt(headers: dict[str, str], to: str) -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=30) as c:
            results.append(move(c, headers, created["id"], to, version=seen).status_code)

    threads = [
        threading.Thread(target=attempt, args=(lan, "in_progress")),
        threading.Thread(target=attempt, args=(minh, "resolved")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT count(*) FROM report_events WHERE report_id = :id"), {"id": created["id"]}
        ).scalar()
    assert events == 3  # received, acknowledged, and the one winner


def test_a_duplicate_follows_its_master(client: httpx.Client, engine: Engine) -> None:
    master = file_report(client)
    copy = file_report(client, lat=21.02875, lon=105.85245)
    staff = official(client, engine, "urenco")
    moved(client, staff, master["id"], "acknowledged")

    no_master = move(client, staff, copy["id"], "rejected", reason="duplicate")
    assert no_master.status_code == 422
    assert no_master.json()["errors"][0]["field"] == "duplicate_of"
    itself = move(
        client, staff, copy["id"], "rejected", reason="duplicate", duplicate_of=copy["id"]
    )
    assert itself.status_code == 422

    marked = moved(
        client, staff, copy["id"], "rejected", reason="duplicate", duplicate_of=master["id"]
    )
    assert marked["status"] == "acknowledged" and marked["duplicate_of"] == master["id"]
    follows = move(client, staff, copy["id"], "resolved")
    assert follows.status_code == 409 and str(master["id"]) in follows.json()["detail"]

    resolved = moved(client, staff, master["id"], "resolved", public_comment="Đã thu gom.")
    assert resolved["followers_updated"] == 1
    seen = client.get(f"/api/v1/track/{copy['token']}").json()
    assert seen["status"] == "resolved" and seen["duplicate_of"] == master["id"]
    assert seen["timeline"][-1]["comment"] == "Đã thu gom."
    detail = client.get(f"/api/v1/staff/reports/{master['id']}", headers=staff).json()
    assert detail["duplicates"] == [copy["id"]]


def test_a_manager_sets_priority_and_assignee_staff_may_not(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(client)
    manager = official(client, engine, "urenco", role="unit_manager")
    staff = official(client, engine, "urenco", name="urenco-hoa")
    hoa = client.get("/api/v1/auth/me", headers=staff).json()["id"]
    outsider = official(client, engine, "cay-xanh", name="cay-xanh-binh")
    binh = client.get("/api/v1/auth/me", headers=outsider).json()["id"]

    denied = client.patch(
        f"/api/v1/staff/reports/{created['id']}",
        json={"version": 1, "priority": "urgent"},
        headers=staff,
    )
    assert denied.status_code == 403
    foreign = client.patch(
        f"/api/v1/staff/reports/{created['id']}",
        json={"version": 1, "assignee": binh},
        headers=manager,
    )
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "assignee"
    done = client.patch(
        f"/api/v1/staff/reports/{created['id']}",
        json={"version": 1, "priority": "urgent", "assignee": hoa},
        headers=manager,
    )
    assert done.status_code == 200, done.text
    assert done.json()["version"] == 2
    stale = client.patch(
        f"/api/v1/staff/reports/{created['id']}",
        json={"version": 1, "priority": "low"},
        headers=manager,
    )
    assert stale.status_code == 409
    detail = client.get(f"/api/v1/staff/reports/{created['id']}", headers=staff).json()
    assert detail["priority"] == "urgent" and detail["assignee"]["id"] == hoa
    mine = client.get("/api/v1/queue", params={"assignee": "me"}, headers=staff).json()
    assert [i["id"] for i in mine["items"]] == [created["id"]]
    # Not a status change: the public timeline does not show it.
    assert len(client.get(f"/api/v1/track/{created['token']}").json()["timeline"]) == 1


def test_events_are_append_only(client: httpx.Client, engine: Engine) -> None:
    created = file_report(client, **DONG_DA)
    with engine.connect() as conn:
        for sql in (
            "UPDATE report_events SET public_comment = 'rewritten' WHERE report_id = :id",
            "DELETE FROM report_events WHERE report_id = :id",
        ):
            try:
                with conn.begin():
                    conn.execute(text(sql), {"id": created["id"]})
            except Exception as exc:  # the database refuses it
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{sql} was allowed")


def test_a_manager_writes_the_units_own_templates(client: httpx.Client, engine: Engine) -> None:
    manager = official(client, engine, "urenco", role="unit_manager")
    staff = official(client, engine, "urenco")
    other = official(client, engine, "cay-xanh", role="unit_manager")
    body = {
        "code": "night_round",
        "title": "Thu gom ca đêm",
        "body": "Rác sẽ được thu gom trong ca đêm nay.",
        "status": "acknowledged",
        "category": "garbage_uncollected",
    }
    assert client.post("/api/v1/staff/templates", json=body, headers=staff).status_code == 403
    created = client.post("/api/v1/staff/templates", json=body, headers=manager)
    assert created.status_code == 201, created.text
    template = created.json()["id"]
    again = client.post("/api/v1/staff/templates", json=body, headers=manager)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "code"
    foreign = client.post(
        "/api/v1/staff/templates", json={**body, "code": "x", "unit": "cay-xanh"}, headers=manager
    )
    assert foreign.status_code == 422

    report = file_report(client)
    listed = client.get(
        "/api/v1/staff/templates",
        params={"category": "garbage_uncollected", "status": "acknowledged"},
        headers=staff,
    ).json()
    assert template in [t["id"] for t in listed]
    moved(client, staff, report["id"], "acknowledged", template=template)
    timeline = client.get(f"/api/v1/track/{report['token']}").json()["timeline"]
    assert timeline[-1]["comment"] == body["body"]
    # A template for another status or another unit cannot be used.
    wrong = move(client, staff, report["id"], "resolved", template=template)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "template"

    hidden = client.patch(
        f"/api/v1/staff/templates/{template}", json={"active": False}, headers=other
    )
    assert hidden.status_code == 404
    retired = client.patch(
        f"/api/v1/staff/templates/{template}", json={"active": False}, headers=manager
    )
    assert retired.status_code == 200 and retired.json()["active"] is False
    codes = [t["code"] for t in client.get("/api/v1/staff/templates", headers=staff).json()]
    assert "night_round" not in codes
