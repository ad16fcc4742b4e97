"""A boundary reform, as a city's GIS officer goes through it: load the new set, preview what
it changes, activate it (or schedule it), and go back. On a database of its own with Hanoi's
2025 wards, 3,000 demo reports, and an "old districts" set (the 2025 wards dissolved five by
five, plus a commune the old city had and the new one has not: tests/reform_data.py).

The stories run in order: each starts from where the previous one left the city."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from geo_service import scheduler
from geo_service.config import Settings
from geo_service.db import make_async_engine
from geo_service.demo import generate_demo_reports
from geo_service.profile import load_profile
from geo_service.seed import init_database
from tests.conftest import cli, login, make_user, other_database, serving
from tests.reform_data import HOAN_KIEM, LOST_POINT, WARDS_2025, old_districts
from tests.stories import moved, official

DISTRICTS = Path("/work/shared/data/boundaries/hanoi_districts_pre2025.geojson")
HANOI = load_profile(Settings().city_profile)
OPEN = "status IN ('received', 'acknowledged', 'in_progress')"
# What an activation may change, and what it must not: one fingerprint each.
FINGERPRINTS = {
    "reports": "SELECT md5(string_agg(r::text, '|' ORDER BY r.id)) FROM reports r",
    "closed": f"SELECT md5(string_agg(r::text, '|' ORDER BY r.id)) FROM reports r WHERE NOT {OPEN}",
    "closed_events": f"""SELECT md5(string_agg(e::text, '|' ORDER BY e.id)) FROM report_events e
                         JOIN reports r ON r.id = e.report_id WHERE NOT r.{OPEN}""",
    "events": "SELECT count(*) FROM report_events",
    "units": "SELECT md5(string_agg(u::text, '|' ORDER BY u.id)) FROM units u",
    "rules": "SELECT md5(string_agg(r::text, '|' ORDER BY r.id)) FROM routing_rules r",
    "sets": "SELECT md5(string_agg(b::text, '|' ORDER BY b.id)) FROM boundary_sets b",
}
STATE_SQL = text(
    f"""
    SELECT r.id, r.ward_code, b.name AS boundary_set, u.code AS unit, u.active, r.status,
           r.deadline_at, r.token, r.category_id
      FROM reports r JOIN units u ON u.id = r.unit_id
      JOIN boundary_sets b ON b.id = r.boundary_set_id
     WHERE r.{OPEN} ORDER BY r.id
    """
)


@dataclass
class City:
    url: str
    engine: Engine
    client: httpx.Client
    admin: dict[str, str]
    old_path: Path
    district_of: dict[str, str]
    tmp: Path
    facts: dict[str, Any]

    def cli(self, *args: str) -> Any:
        return cli(self.url, *args)

    def fingerprint(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return {k: conn.execute(text(sql)).scalar() for k, sql in FINGERPRINTS.items()}

    def open_reports(self) -> dict[int, Any]:
        with self.engine.connect() as conn:
            return {r.id: r for r in conn.execute(STATE_SQL)}

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    url = other_database("reform")
    engine = create_engine(url)
    with engine.begin() as conn:
        init_database(conn, HANOI, say=lambda _: None)
    generate_demo_reports(3000, settings=Settings(database_url=url), say=lambda _: None)
    tmp = tmp_path_factory.mktemp("reform")
    old_path, district_of = old_districts(tmp / "old_districts.geojson")
    make_user(engine, "gis-officer", "admin")
    with (
        serving(url, tmp, BOUNDARY_SCHEDULE_CHECK_S="1") as server,
        httpx.Client(base_url=server.url, timeout=300) as client,
    ):
        yield City(
            url, engine, client, login(client, "gis-officer"), old_path, district_of, tmp, {}
        )
    engine.dispose()


def test_a_set_without_the_old_codes_needs_allow_removed_and_its_own_city_limit(
    city: City,
) -> None:
    load = ["boundaries", "load", str(city.old_path), "--set", "old-districts", "--level",
            "ward", "--full-name-field", "fullName", "--valid-from", "2014-04-01"]  # fmt: skip
    refused = city.cli(*load)
    assert refused.returncode == 2
    assert "126 codes of the active set hanoi-wards-2025 are not in this set" in refused.stderr
    loaded = city.cli(*load, "--allow-removed")
    assert loaded.returncode == 0, loaded.stderr
    assert "ok      gaps: the wards cover their own outline" in loaded.stdout

    # No city limit was valid in 2014: against today's, the old set leaves gaps (the new
    # city's outline differs) and reaches beyond it (the commune the city lost).
    before = city.fingerprint()
    activation = city.cli("boundaries", "activate", "old-districts")
    assert activation.returncode == 2
    assert "old-districts cannot be activated: it fails its checks" in activation.stderr
    assert "REFUSED inside the city limit: 1 part of the wards lies outside" in activation.stderr
    assert "m² at lat 21.02000, lon 105.22000" in activation.stderr  # the lost commune
    api = city.client.post(
        "/api/v1/admin/boundaries/old-districts/activation", json={}, headers=city.admin
    )
    assert api.status_code == 409 and api.json()["errors"][0]["field"] == "set"
    assert {c["name"]: c["ok"] for c in api.json()["context"]["checks"]} == {
        "gaps": True,
        "inside the city limit": False,
    }
    assert city.fingerprint() == before

    derived = city.cli("boundaries", "derive-city", "old-districts", "--set", "old-city")
    assert derived.returncode == 0, derived.stderr
    listed = city.cli("boundaries", "list").stdout
    assert "old-districts" in listed and "city old-city" in listed


def _plan_csv(path: Path) -> dict[int, dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return {int(row["id"]): row for row in csv.DictReader(fh)}


def test_the_preview_lists_every_open_report_now_and_after_and_changes_nothing(
    city: City,
) -> None:
    rule = city.cli("rules", "add", "--category", "noise", "--unit", "cong-an",
                    "--ward", "00070", "--precedence", "50")  # fmt: skip
    assert rule.returncode == 0, rule.stderr
    city.facts["rule"] = rule_id = int(rule.stdout.split()[-1])
    # An official hands one report to the police by hand: the reform must not undo that.
    by_hand = next(r for r in city.open_reports().values() if r.unit.startswith("ubnd-"))
    headers = official(city.client, city.engine, by_hand.unit)
    moved(city.client, headers, by_hand.id, "transferred", unit="cong-an", reason="not_competent")
    city.facts["by_hand"] = by_hand.id
    # Another is marked a duplicate of a report of the same committee: it follows its master.
    same_unit = [r for r in city.open_reports().values() if r.unit == "ubnd-00070"]
    master, copy = same_unit[0], same_unit[1]
    headers = official(city.client, city.engine, "ubnd-00070")
    marked = moved(city.client, headers, copy.id, "rejected", reason="duplicate",
                   duplicate_of=master.id)  # fmt: skip
    assert marked["duplicate_of"] == master.id
    city.facts["duplicate"] = (master.id, copy.id)

    before = city.fingerprint()
    now = city.open_reports()
    result = city.cli("boundaries", "preview", "old-districts", "--csv", str(city.tmp / "p.csv"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    plan = _plan_csv(city.tmp / "p.csv")
    assert set(plan) == set(now)  # every open report, once
    for report_id, row in plan.items():
        assert row["ward_now"] == now[report_id].ward_code
        assert row["unit_now"] == now[report_id].unit
        assert row["ward_after"] == city.district_of[row["ward_now"]]
        if report_id == by_hand.id:
            assert row["unit_after"] == "cong-an"
        elif row["unit_now"].startswith("ubnd-"):  # a retired committee: its district's
            assert row["unit_after"] == f"ubnd-{row['ward_after']}"
            assert row["status_after"] == "received"
        else:  # a city unit still covers it
            assert row["unit_after"] == row["unit_now"]
    work = [row for row in plan.values() if not row["duplicate_of"]]  # duplicates follow
    assert len(work) == len(plan) - 1
    assert f"{len(work)} open reports: {len(work)} change ward" in out
    assert "duplicates following their masters: 1" in out
    assert "units retired (their ward vanishes; their queues empty): 126" in out
    assert "units created for new wards: 27" in out
    assert f"rule {rule_id}: noise -> cong-an: ward 00070 is not in old-districts" in out
    assert "nothing was changed" in out
    city.facts["plan"] = plan

    api = city.client.get(
        "/api/v1/admin/boundaries/old-districts/preview", headers=city.admin
    ).json()
    assert api["open_reports"] == len(work) and api["duplicates"] == 1 and api["ok"] is True
    assert [r["id"] for r in api["rules_suspended"]] == [rule_id]
    assert len(api["units_retired"]) == 126 and len(api["units_created"]) == 27
    counts_now = Counter(row["unit_now"] for row in work)
    counts_after = Counter(row["unit_after"] for row in work)
    for unit in api["units"]:
        assert (unit["now"], unit["after"]) == (
            counts_now[unit["code"]],
            counts_after[unit["code"]],
        )
    assert sum(u["open_reports"] for u in api["units_retired"]) == sum(
        n for code, n in counts_now.items() if code.startswith("ubnd-")
    )
    assert len(api["reports"]) == 100 and api["more"] is True
    first = api["reports"][0]
    assert _typed(first) == plan[first["id"]]
    as_csv = city.client.get(
        "/api/v1/admin/boundaries/old-districts/preview.csv", headers=city.admin
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[1:] == (city.tmp / "p.csv").read_text().splitlines()[1:]
    assert city.fingerprint() == before  # nothing changed


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON row's values as the CSV writes them."""
    return {k: "" if v is None else str(v) for k, v in row.items()}


def test_only_admins_and_planners_preview_and_only_admins_activate(city: City) -> None:
    planner = official(city.client, city.engine, "", role="planner", name="planner-reform")
    staff = official(city.client, city.engine, "urenco")
    preview = "/api/v1/admin/boundaries/old-districts/preview"
    assert city.client.get(preview, params={"page_size": 1}, headers=planner).status_code == 200
    assert city.client.get(preview, headers=staff).status_code == 403
    assert city.client.get(preview).status_code == 401
    activation = "/api/v1/admin/boundaries/old-districts/activation"
    assert city.client.post(activation, json={}, headers=planner).status_code == 403
    missing = city.client.get("/api/v1/admin/boundaries/nope/preview", headers=city.admin)
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "set"


def test_activation_reroutes_every_open_report_and_keeps_closed_ones_as_they_were(
    city: City,
) -> None:
    before = city.fingerprint()
    now = city.open_reports()
    started = dt.datetime.now(dt.UTC)
    result = city.cli("boundaries", "activate", "old-districts")
    assert result.returncode == 0, result.stderr
    assert "'old-districts' is now active" in result.stdout
    after = city.fingerprint()
    assert after["closed"] == before["closed"]  # closed reports exactly as they were
    assert after["closed_events"] == before["closed_events"]

    plan, state = city.facts["plan"], city.open_reports()
    assert set(state) == set(now)
    for report_id, report in state.items():
        row = plan[report_id]  # the preview said so
        assert (report.ward_code, report.unit, report.status) == (
            row["ward_after"],
            row["unit_after"],
            row["status_after"],
        )
        assert report.boundary_set == "old-districts" and report.active
        if row["unit_after"] != row["unit_now"]:  # a transfer: its deadline starts again
            assert report.deadline_at > started
    assert state[city.facts["by_hand"]].unit == "cong-an"
    master, copy = city.facts["duplicate"]
    assert state[copy].unit == state[master].unit == f"ubnd-{city.district_of['00070']}"
    assert state[copy].status == state[master].status == "received"
    with city.engine.connect() as conn:
        committees = dict(
            conn.execute(
                text("SELECT active, count(*) FROM units WHERE kind = 'ward_committee' GROUP BY 1")
            ).all()
        )
    assert committees == {False: 126, True: 27}
    rules = city.cli("rules", "list").stdout
    assert "SUSPENDED: ward 00070 is not in old-districts" in rules


def test_the_reform_shows_on_the_public_timeline_and_empties_the_old_queues(city: City) -> None:
    plan = city.facts["plan"]
    handed = next(r for r in plan.values() if r["unit_now"] == "ubnd-00070")
    token = city.scalar("SELECT token FROM reports WHERE id = :i", i=int(handed["id"]))
    timeline = city.client.get(f"/api/v1/track/{token}").json()["timeline"]
    reform, received = timeline[-2], timeline[-1]
    district = HANOI.ward_unit.name.format(full_name=handed["ward_after_name"])
    assert reform["reason"] == "boundary_reform" and reform["to"] == "transferred"
    assert reform["comment"].startswith(f"Sắp xếp đơn vị hành chính: nay do {district} xử lý")
    assert reform["by"] == "system" and reform["unit_code"] == "ubnd-00070"
    assert (received["to"], received["unit_code"]) == ("received", handed["unit_after"])
    stayed = next(r for r in plan.values() if r["unit_now"] == "urenco")
    token = city.scalar("SELECT token FROM reports WHERE id = :i", i=int(stayed["id"]))
    note = city.client.get(f"/api/v1/track/{token}").json()["timeline"][-1]
    assert note["comment"].startswith("Sắp xếp đơn vị hành chính: nay thuộc Quận cũ số")
    assert note["from"] == note["to"] == stayed["status_now"]  # the same unit goes on

    queue = city.client.get(
        "/api/v1/queue", headers=official(city.client, city.engine, "ubnd-00070")
    )
    assert queue.status_code == 200 and queue.json()["counts"]["open"] == 0


def test_under_the_old_set_a_pin_is_placed_routed_and_reported_in_it(city: City) -> None:
    here = city.client.get("/api/v1/locate", params={"lat": HOAN_KIEM[0], "lon": HOAN_KIEM[1]})
    body = here.json()
    district = city.district_of["00070"]
    assert body["ward"]["code"] == district and body["city"]["boundary_set"] == "old-city"
    routes = {r["category"]: r["unit"]["code"] for r in body["routing"]}
    assert routes["noise"] == f"ubnd-{district}"  # the rule for 00070 is suspended
    lost = city.client.get("/api/v1/locate", params={"lat": LOST_POINT[0], "lon": LOST_POINT[1]})
    assert lost.status_code == 200 and lost.json()["ward"]["code"] == "D99"
    filed = city.client.post(
        "/api/v1/reports",
        json={"category": "noise", "description": "Karaoke tới 2 giờ sáng",
              "lat": LOST_POINT[0], "lon": LOST_POINT[1]},
    )  # fmt: skip
    assert filed.status_code == 201 and filed.json()["unit"]["code"] == "ubnd-D99"
    city.facts["lost_report"] = filed.json()["id"]


def test_switching_back_brings_back_the_2025_units_and_rules(city: City) -> None:
    response = city.client.post(
        "/api/v1/admin/boundaries/hanoi-wards-2025/activation", json={}, headers=city.admin
    )
    assert response.status_code == 200, response.text
    changes = response.json()["changes"]
    assert response.json()["state"] == "done"
    assert len(changes["units_restored"]) == 126 and len(changes["units_retired"]) == 27
    assert [r["id"] for r in changes["rules_restored"]] == [city.facts["rule"]]
    assert changes["placed_nearest"] == 1  # the report filed in the commune the city lost
    assert (
        city.scalar(
            f"SELECT count(*) FROM reports r JOIN units u ON u.id = r.unit_id"
            f" WHERE NOT u.active AND r.{OPEN}"
        )
        == 0
    )
    lost = city.scalar("SELECT snapped_m FROM reports WHERE id = :i", i=city.facts["lost_report"])
    assert lost > 5000  # 5 km west of the nearest 2025 ward, and handled there
    here = city.client.get("/api/v1/locate", params={"lat": HOAN_KIEM[0], "lon": HOAN_KIEM[1]})
    routes = {r["category"]: r["unit"]["code"] for r in here.json()["routing"]}
    assert here.json()["ward"]["code"] == "00070" and routes["noise"] == "cong-an"
    assert "SUSPENDED" not in city.cli("rules", "list").stdout
    sets = city.client.get("/api/v1/admin/boundaries", headers=city.admin).json()
    wards_2025 = next(s for s in sets if s["name"] == "hanoi-wards-2025")
    done = wards_2025["activations"][-1]
    assert done["state"] == "done" and done["requested_by"] == "api:gis-officer"
    assert done["summary"]["units_restored"] == 126


def _tomorrow() -> dt.date:
    return dt.datetime.now(ZoneInfo(HANOI.city.timezone)).date() + dt.timedelta(days=1)


def test_a_set_valid_from_tomorrow_is_scheduled_and_becomes_active_at_midnight(
    city: City,
) -> None:
    copy = Path(shutil.copy(WARDS_2025, city.tmp))  # the profile knows the file by its name
    tomorrow = _tomorrow()
    loaded = city.cli("boundaries", "load", str(copy), "--set", "hanoi-wards-next",
                      "--valid-from", tomorrow.isoformat())  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert "using the city profile's entry for 'hanoi-wards-2025'" in loaded.stdout
    before = city.fingerprint()
    scheduled = city.cli("boundaries", "activate", "hanoi-wards-next")
    assert scheduled.returncode == 0, scheduled.stderr
    midnight = dt.datetime.combine(tomorrow, dt.time(), ZoneInfo(HANOI.city.timezone))
    assert f"is scheduled: it becomes active at {midnight.isoformat()}" in scheduled.stdout
    assert "S ward  hanoi-wards-next" in city.cli("boundaries", "list").stdout
    assert city.cli("boundaries", "activate-due").stdout.strip() == "no activation is due"
    after = city.fingerprint()
    assert {k: v for k, v in after.items() if k != "sets"} == {
        k: v for k, v in before.items() if k != "sets"
    }
    assert city.scalar("SELECT name FROM boundary_sets WHERE active AND level = 'ward'") == (
        "hanoi-wards-2025"
    )

    # Midnight in Hanoi: the scheduler finds it due and activates it. (In a thread of its
    # own: the browser tests' Playwright holds an event loop on this one.)
    settings = Settings(database_url=city.url)
    with ThreadPoolExecutor(1) as worker:
        done = worker.submit(
            asyncio.run, _run_due(settings, midnight + dt.timedelta(seconds=1))
        ).result()
    assert done == ["hanoi-wards-next"]
    assert city.scalar("SELECT name FROM boundary_sets WHERE active AND level = 'ward'") == (
        "hanoi-wards-next"
    )
    # Same codes, same units: the open reports moved to the new set without a word.
    assert city.fingerprint()["events"] == before["events"]
    assert (
        city.scalar(
            f"SELECT count(*) FROM reports r JOIN boundary_sets b ON b.id = r.boundary_set_id"
            f" WHERE r.{OPEN} AND b.name <> 'hanoi-wards-next'"
        )
        == 0
    )


async def _run_due(settings: Settings, now: dt.datetime) -> list[str]:
    engine = make_async_engine(settings)
    try:
        return await scheduler.run_due(engine, HANOI, settings, now)
    finally:
        await engine.dispose()


def test_the_service_activates_a_scheduled_set_by_itself_and_a_schedule_can_be_cancelled(
    city: City,
) -> None:
    activation = "/api/v1/admin/boundaries/hanoi-wards-2025/activation"
    past = city.client.post(
        activation, json={"at": "2020-01-01T00:00:00+07:00"}, headers=city.admin
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "at"
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    response = city.client.post(activation, json={"at": at.isoformat()}, headers=city.admin)
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "scheduled"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        active = {s["name"] for s in city.client.get("/api/v1/boundaries").json() if s["active"]}
        if "hanoi-wards-2025" in active:
            break
        time.sleep(0.5)
    assert "hanoi-wards-2025" in active  # the server's own scheduler did it
    sets = city.client.get("/api/v1/admin/boundaries", headers=city.admin).json()
    last = next(s for s in sets if s["name"] == "hanoi-wards-2025")["activations"][-1]
    assert last["state"] == "done" and last["requested_by"] == "api:gis-officer"

    later = city.client.post(
        "/api/v1/admin/boundaries/hanoi-wards-next/activation", json={}, headers=city.admin
    )
    assert later.status_code == 202  # valid from tomorrow: scheduled, not done
    cancelled = city.client.delete(
        "/api/v1/admin/boundaries/hanoi-wards-next/activation", headers=city.admin
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert "S ward" not in city.cli("boundaries", "list").stdout
    again = city.client.delete(
        "/api/v1/admin/boundaries/hanoi-wards-next/activation", headers=city.admin
    )
    assert again.status_code == 404


@pytest.mark.skipif(not DISTRICTS.exists(), reason=f"{DISTRICTS} is not on this machine")
def test_hanois_real_districts_go_through_the_same_reform_and_back(city: City) -> None:
    """The issue's own story: the 30 pre-2025 districts loaded by hand (the city profile
    gives their fields, validity, attribution and city limit), activated and switched back:
    no open report is left with a unit whose ward is gone, and no unit of a vanished ward
    stays active."""
    loaded = city.cli("boundaries", "load", str(DISTRICTS), "--set", "hanoi-districts-2014",
                      "--allow-removed")  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert "its outline is the city set 'hanoi-city-2014'" in loaded.stdout
    preview = city.cli("boundaries", "preview", "hanoi-districts-2014").stdout
    assert "units created for new wards: 30" in preview
    assert "units retired (their ward vanishes; their queues empty): 126" in preview
    for name in ("hanoi-districts-2014", "hanoi-wards-2025"):
        done = city.cli("boundaries", "activate", name)
        assert done.returncode == 0, done.stderr
        assert (
            city.scalar(
                f"SELECT count(*) FROM reports r JOIN units u ON u.id = r.unit_id"
                f" WHERE NOT u.active AND r.{OPEN}"
            )
            == 0
        )
    assert (
        city.scalar(
            "SELECT count(*) FROM units WHERE kind = 'ward_committee' AND active"
            " AND ward_code NOT IN (SELECT code FROM areas a JOIN boundary_sets b"
            " ON b.id = a.set_id WHERE b.active AND b.level = 'ward')"
        )
        == 0
    )
