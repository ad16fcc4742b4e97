"""The staff area in a real browser on a phone-sized screen, and the rules under it: log in,
see only one's own unit's queue, open a report, move it on, log out. Another unit's report is
a 404 whatever the URL says, because the scoping is in the queries."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from geo_service.i18n import DEFAULT_LANG, gettext
from tests.conftest import DEFAULT_PASSWORD, in_words, make_user

HOAN_KIEM = {"lat": 21.0287, "lon": 105.8524}
MY_DINH = {"lat": 21.0283, "lon": 105.7782}
PHONE = {"width": 360, "height": 740}
LOGIN_FOR_QUEUE = re.compile(r"/staff/login\?next=%2Fstaff$")


def new_report(client: httpx.Client, place: dict[str, float], description: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/reports",
        json={"category": "illegal_dumping", "description": description, **place},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def two_units(client: httpx.Client, engine: Engine) -> dict[str, Any]:
    """A report in each of two units, and an official of the first unit."""
    ours = new_report(client, HOAN_KIEM, "Phế thải xây dựng đổ trộm cạnh hồ")
    theirs = new_report(client, MY_DINH, "Rác thải ở bến xe Mỹ Đình")
    assert ours["unit"]["code"] != theirs["unit"]["code"]
    make_user(engine, "official.hk", "unit_staff", ours["unit"]["code"])
    return {"ours": ours, "theirs": theirs}


def no_tiles(page: Page) -> None:
    """No tile server is reachable from the tests (nor from some city intranets)."""
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())


def log_in(page: Page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_an_official_works_a_report_from_their_phone(
    page: Page, two_units: dict[str, Any], engine: Engine, artefacts: Path
) -> None:
    ours, theirs = two_units["ours"], two_units["theirs"]
    page.set_viewport_size(PHONE)
    no_tiles(page)

    page.goto("/staff")
    expect(page).to_have_url(LOGIN_FOR_QUEUE)  # sent to log in first
    log_in(page, "official.hk", "not my password")
    expect(page.locator("#login-error")).to_be_visible()
    log_in(page, "official.hk")
    page.wait_for_url("**/staff")

    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["gs_session"]["httpOnly"] and cookies["gs_session"]["sameSite"] == "Lax"
    assert not cookies["gs_csrf"]["httpOnly"]  # the page's script echoes it

    queue = page.locator("#queue")
    expect(queue.locator(f"tr[data-id='{ours['id']}']")).to_be_visible()
    assert queue.locator(f"tr[data-id='{theirs['id']}']").count() == 0
    expect(page.locator("#queue-map .leaflet-interactive").first).to_be_attached()
    assert fits_the_screen(page)
    page.screenshot(path=artefacts / "queue-360.png", full_page=True)

    page.click(f"a[href='/staff/reports/{ours['id']}']")
    page.wait_for_url(f"**/staff/reports/{ours['id']}")
    expect(page.locator("h1")).to_contain_text(f"#{ours['id']}")
    expect(page.locator("#report-status")).to_have_text("Đã tiếp nhận")
    assert fits_the_screen(page)

    page.select_option("#to", "acknowledged")
    page.fill("#public_comment", "Tổ công tác sẽ kiểm tra hiện trường trong hôm nay.")
    page.fill("#internal_note", "Giao anh Tuấn")
    page.click("#transition button[type=submit]")
    expect(page.locator("#report-status")).to_have_text("Đã xác nhận")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Tổ công tác sẽ kiểm tra hiện trường trong hôm nay.")
    expect(timeline).to_contain_text("Giao anh Tuấn")
    page.screenshot(path=artefacts / "report-360.png", full_page=True)

    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM reports WHERE id = :id"), {"id": ours["id"]}
        ).scalar_one()
    assert status == "acknowledged"

    response = page.goto(f"/staff/reports/{theirs['id']}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Không có phản ánh này trong đơn vị của bạn.")

    page.goto("/staff")
    page.click("header form.logout button")
    page.wait_for_url("**/staff/login")
    assert page.goto("/staff") is not None
    expect(page).to_have_url(LOGIN_FOR_QUEUE)


def test_a_stale_form_gets_told_someone_else_changed_the_report(
    page: Page, two_units: dict[str, Any], client: httpx.Client
) -> None:
    ours = two_units["ours"]
    page.set_viewport_size(PHONE)
    no_tiles(page)
    page.goto(f"/staff/reports/{ours['id']}")
    log_in(page, "official.hk")
    page.wait_for_url(f"**/staff/reports/{ours['id']}")

    # A colleague moves the report on while this form is open.
    headers = {
        "Authorization": "Bearer "
        + client.post(
            "/api/v1/auth/token", data={"username": "official.hk", "password": DEFAULT_PASSWORD}
        ).json()["access_token"]
    }
    version = client.get(f"/api/v1/staff/reports/{ours['id']}", headers=headers).json()["version"]
    moved = client.post(
        f"/api/v1/staff/reports/{ours['id']}/transitions",
        json={"to": "in_progress", "version": version},
        headers=headers,
    )
    assert moved.status_code == 201, moved.text

    page.select_option("#to", "acknowledged")
    page.click("#transition button[type=submit]")
    expect(page.locator("#transition-error")).to_contain_text("Người khác vừa cập nhật")


def login_with_cookies(client: httpx.Client, username: str) -> httpx.Response:
    return client.post(
        "/staff/login",
        data={"username": username, "password": DEFAULT_PASSWORD, "next": "/staff"},
        follow_redirects=False,
    )


def test_the_session_cookie_needs_the_csrf_value_to_write(
    client: httpx.Client, engine: Engine
) -> None:
    make_user(engine, "cookie.user", "unit_staff", "urenco")
    response = login_with_cookies(client, "cookie.user")
    assert response.status_code == 303 and response.headers["location"] == "/staff"
    assert "httponly" in response.headers.get_list("set-cookie")[0].lower()
    assert client.get("/api/v1/auth/me").json()["username"] == "cookie.user"  # reads: fine

    forged = client.post("/api/v1/auth/logout")  # what another site could make a browser do
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["detail"]
    assert client.get("/api/v1/auth/me").status_code == 200
    csrf = client.cookies["gs_csrf"]
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_the_login_page_never_redirects_off_site(client: httpx.Client, engine: Engine) -> None:
    make_user(engine, "redirected", "unit_staff", "urenco")
    for target in ("//evil.example/staff", "https://evil.example/", "/\\evil.example"):
        response = client.post(
            "/staff/login",
            data={"username": "redirected", "password": DEFAULT_PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/staff", target
        client.cookies.clear()


def test_a_wrong_password_on_the_page_keeps_the_status_the_api_gives(
    bare: httpx.Client, engine: Engine
) -> None:
    make_user(engine, "page.wrong", "unit_staff", "urenco")
    response = bare.post(
        "/staff/login", data={"username": "page.wrong", "password": "nope-nope", "next": "/staff"}
    )
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.text
    assert "gs_session" not in response.headers.get("set-cookie", "")


def test_citizens_are_not_let_into_the_staff_area(bare: httpx.Client, engine: Engine) -> None:
    make_user(engine, "just.a.citizen", "citizen")
    login_with_cookies(bare, "just.a.citizen")
    response = bare.get("/staff")
    assert response.status_code == 403
    assert "chỉ dành cho cán bộ" in response.text


def test_a_planner_reads_any_units_queue_but_gets_no_transition_form(
    client: httpx.Client, engine: Engine, two_units: dict[str, Any]
) -> None:
    ours, theirs = two_units["ours"], two_units["theirs"]
    make_user(engine, "city.planner", "planner")
    login_with_cookies(client, "city.planner")
    page = client.get("/staff", params={"unit": theirs["unit"]["code"]})
    assert page.status_code == 200
    assert f'data-id="{theirs["id"]}"' in page.text
    assert f'data-id="{ours["id"]}"' not in page.text
    report = client.get(f"/staff/reports/{ours['id']}")
    assert report.status_code == 200 and 'id="transition"' not in report.text


def test_an_official_cannot_pick_another_units_queue(
    client: httpx.Client, two_units: dict[str, Any]
) -> None:
    login_with_cookies(client, "official.hk")
    response = client.get("/staff", params={"unit": two_units["theirs"]["unit"]["code"]})
    assert response.status_code == 404
    assert f'data-id="{two_units["theirs"]["id"]}"' not in response.text


def test_an_official_narrows_the_queue_and_the_filters_stay_across_tabs_and_pages(
    page: Page, client: httpx.Client, engine: Engine, two_units: dict[str, Any]
) -> None:
    dumping = two_units["ours"]
    response = client.post(
        "/api/v1/reports",
        json={"category": "open_burning", "description": "Đốt rác ngoài trời", **HOAN_KIEM},
    )
    burning = response.json()
    assert burning["unit"]["code"] == dumping["unit"]["code"]  # both the ward's work
    with engine.begin() as conn:
        me = conn.execute(text("SELECT id FROM users WHERE username = 'official.hk'")).scalar()
        conn.execute(
            text("UPDATE reports SET assignee_id = :me, priority = 'high' WHERE id = :id"),
            {"me": me, "id": dumping["id"]},
        )
    page.set_viewport_size(PHONE)
    no_tiles(page)
    page.goto("/staff")
    log_in(page, "official.hk")
    page.wait_for_url("**/staff")
    rows = page.locator("#queue tbody tr")
    expect(page.locator(f"tr[data-id='{burning['id']}']")).to_be_visible()

    page.click("details.more-filters summary")
    page.select_option("#f-category", "open_burning")
    assert fits_the_screen(page)
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"category=open_burning"))
    expect(page.locator(f"tr[data-id='{burning['id']}']")).to_be_visible()
    assert page.locator(f"tr[data-id='{dumping['id']}']").count() == 0
    for row in rows.all():
        expect(row).to_contain_text("Đốt")  # every row is open burning
    # A tab keeps the filter: the "received" tab shows open burning only, too.
    page.click("nav.tabs a[href*='tab=received']")
    expect(page).to_have_url(re.compile(r"tab=received&.*category=open_burning"))
    expect(page.locator("#f-category")).to_have_value("open_burning")
    page.click("#clear-filters")
    expect(page.locator(f"tr[data-id='{dumping['id']}']")).to_be_visible()

    page.check("input[name=mine]")
    page.click("form.filters button[type=submit]")
    expect(page.locator(f"tr[data-id='{dumping['id']}']")).to_be_visible()
    assert rows.count() == 1  # only what is assigned to this official

    page.goto("/staff?priority=high")
    expect(page.locator(f"tr[data-id='{dumping['id']}']")).to_be_visible()
    assert page.locator(f"tr[data-id='{burning['id']}']").count() == 0

    later = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    page.goto(f"/staff?from={later}")  # sent before that day: none is
    expect(page.locator("#queue-empty")).to_be_visible()
    page.goto(f"/staff?to={later}&category=illegal_dumping")
    expect(page.locator(f"tr[data-id='{dumping['id']}']")).to_be_visible()

    response = page.goto("/staff?from=2026-03-02&to=2026-03-01")
    assert response is not None and response.status == 422
    before = gettext("vi", "must not be before from")  # the page's language
    expect(page.locator("p.error")).to_contain_text(f"to: {before}")
    response = page.goto("/staff?from=yesterday")
    assert response is not None and response.status == 422
    expect(page.locator("p.error")).to_contain_text("YYYY-MM-DD")


def test_a_ward_manager_assigns_a_report_from_their_phone_and_the_official_finds_it(
    page: Page, client: httpx.Client, engine: Engine, two_units: dict[str, Any]
) -> None:
    ours, theirs = two_units["ours"], two_units["theirs"]
    unit = ours["unit"]["code"]
    make_user(engine, "manager.hk", "unit_manager", unit)
    official = make_user(engine, "official.hk", "unit_staff", unit)
    page.set_viewport_size(PHONE)
    no_tiles(page)
    page.goto(f"/staff/reports/{ours['id']}")
    log_in(page, "manager.hk")
    page.wait_for_url(f"**/staff/reports/{ours['id']}")
    expect(page.locator("#assignee")).to_have_text("Chưa giao")
    page.select_option("#assign-to", str(official))
    page.select_option("#assign-priority", "urgent")
    assert fits_the_screen(page)
    page.click("#assign button[type=submit]")
    page.wait_for_url(f"**/staff/reports/{ours['id']}")
    expect(page.locator("#assignee")).to_have_text("official.hk")
    expect(page.locator("p.state")).to_contain_text("Khẩn cấp")
    expect(page.locator("#timeline")).to_contain_text(
        gettext(DEFAULT_LANG, "assigned to {name}", name="official.hk")  # the city's language
    )
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT assignee_id, priority FROM reports WHERE id = :id"), {"id": ours["id"]}
        ).one()
    assert (row.assignee_id, row.priority) == (official, "urgent")

    # The form the manager opened before someone else changed the report is refused.
    page.select_option("#assign-priority", "low")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE reports SET version = version + 1 WHERE id = :id"), {"id": ours["id"]}
        )
    page.click("#assign button[type=submit]")
    stale = "report {id} was changed by someone else meanwhile (it is at version {version}, "
    stale += "you sent {sent}): reload it and decide again"
    expect(page.locator("p.error")).to_contain_text(in_words("vi", stale))

    # Another unit's report cannot be assigned, whatever the form says.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "gs_csrf")
    other = page.request.post(
        f"/staff/reports/{theirs['id']}/assign",
        form={"csrf_token": csrf, "version": "1", "priority": "urgent", "assignee": ""},
    )
    assert other.status == 404

    # The official sees it under "assigned to me", and has no assignment form.
    page.click("header form.logout button")
    page.goto("/staff?mine=true")
    log_in(page, "official.hk")
    page.wait_for_url("**/staff?mine=true")
    expect(page.locator(f"tr[data-id='{ours['id']}']")).to_be_visible()
    page.goto(f"/staff/reports/{ours['id']}")
    assert page.locator("#assign").count() == 0
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "gs_csrf")
    refused = page.request.post(
        f"/staff/reports/{ours['id']}/assign",
        form={"csrf_token": csrf, "version": "9", "priority": "low", "assignee": ""},
    )
    assert refused.status == 403
