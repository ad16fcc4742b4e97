"""A citizen with a phone reports a street problem in a real browser (Debian's Chromium)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from tests.conftest import in_words, landmarks
from tests.stories import file_report, moved, official

PHONE = {"width": 360, "height": 740}


def no_tiles(page: Page) -> None:
    """The city intranet case, and the tests' own: no tile server is reachable."""
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())


def tap_map_at(page: Page, lat: float, lon: float) -> None:
    """Centre the map on a place, then tap the middle of the map as a person would."""
    page.wait_for_load_state()  # the page's scripts have run
    page.evaluate(
        "([lat, lon]) => GSReport.map.setView([lat, lon], 17, {animate: false})", [lat, lon]
    )
    box = page.locator("#map").bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def jpeg(width: int, height: int, gps: tuple[float, float] | None = None) -> bytes:
    """A phone-sized photo, with the GPS position a phone camera writes when asked."""
    image = Image.new("RGB", (width, height), (90, 140, 60))
    exif = Image.Exif()
    if gps:
        lat, lon = gps

        def dms(value: float) -> tuple[float, float, float]:
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            return (degrees, minutes, round(((value - degrees) * 60 - minutes) * 60, 4))

        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif.tobytes())
    return out.getvalue()


def test_the_report_page_draws_the_wards_from_our_api_even_without_tiles(
    page: Page, artefacts: Path
) -> None:
    no_tiles(page)
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Gửi phản ánh")
    wards = page.locator("#map svg path")
    expect(wards.first).to_be_attached()
    assert wards.count() >= 100  # Hanoi has 126 wards and communes
    expect(page.locator("#tiles-notice")).to_be_visible()
    page.screenshot(path=artefacts / "report-no-tiles.png")


def test_a_citizen_pins_a_problem_sees_the_ward_attaches_a_photo_and_sends_it(
    page: Page, artefacts: Path, engine: Engine
) -> None:
    place = next(m for m in landmarks() if m.ward_name == "Phường Hoàn Kiếm")
    page.set_viewport_size(PHONE)
    no_tiles(page)
    page.goto("/")
    page.screenshot(path=artefacts / "1-empty.png", full_page=True)

    tap_map_at(page, place.lat, place.lon)
    expect(page.locator("#ward-name")).to_have_text(place.ward_name)
    expect(page.locator('#map path[stroke-width="3"]')).to_have_count(1)  # the ward outlined
    page.get_by_label("Loại sự việc").select_option("garbage_uncollected")
    expect(page.locator("#unit-name")).not_to_be_empty()
    page.get_by_label("Mô tả ngắn").fill("Rác để ba ngày chưa thu gom trước cổng.")
    page.set_input_files(
        "#photos", files=[{"name": "rac.jpg", "mimeType": "image/jpeg", "buffer": jpeg(4000, 3000)}]
    )
    expect(page.locator("#photo-list img")).to_have_count(1)
    page.get_by_label("Số điện thoại").fill("0912 345 678")
    page.screenshot(path=artefacts / "2-filled.png", full_page=True)

    page.get_by_role("button", name="Gửi phản ánh").click()
    page.wait_for_url("**/r/*")
    token = page.url.split("/r/")[1].split("?")[0]
    # The tracking page: the link to keep, the report, its timeline so far.
    expect(page.get_by_label("Đường dẫn theo dõi")).to_have_value(re.compile(f"/r/{token}$"))
    expect(page.locator("h1")).to_contain_text("Rác thải không được thu gom")
    expect(page.locator("#timeline li")).to_have_count(1)
    expect(page.locator("#timeline")).to_contain_text("Đã tiếp nhận")
    expect(page.locator(".photo-list img")).to_have_count(1)
    assert "0912" not in page.content()  # the reporter's phone is never shown
    page.screenshot(path=artefacts / "3-sent.png", full_page=True)

    with engine.connect() as conn:
        report = conn.execute(
            text(
                "SELECT r.description, r.reporter_phone, a.full_name AS ward,"
                "       p.width, p.height"
                "  FROM reports r JOIN areas a ON a.set_id = r.boundary_set_id"
                "   AND a.code = r.ward_code JOIN report_photos p ON p.report_id = r.id"
                " WHERE r.token = :token"
            ),
            {"token": token},
        ).one()
    assert report.description == "Rác để ba ngày chưa thu gom trước cổng."
    assert report.reporter_phone == "0912 345 678"
    assert report.ward == place.ward_name
    # Made smaller in the browser before it was sent: 4000x3000 arrives as 1600x1200.
    assert (report.width, report.height) == (1600, 1200)


def test_a_pin_outside_the_city_is_refused_before_sending_with_the_servers_reason(
    page: Page, artefacts: Path
) -> None:
    no_tiles(page)
    page.goto("/")
    tap_map_at(page, 20.8449, 106.6881)  # Hải Phòng
    refusal = page.locator("#place-refused")
    expect(refusal).to_be_visible()
    outside = in_words("vi", "the point {where} is outside the city limit of {city}")
    expect(refusal).to_contain_text(outside)  # the server's words, in the page's language
    page.get_by_label("Loại sự việc").select_option("flooding")
    page.get_by_label("Mô tả ngắn").fill("Ngập sâu")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="Gửi phản ánh").click()
    expect(page.locator("#form-error")).to_contain_text(outside)
    assert requests == []  # nothing was sent
    page.screenshot(path=artefacts / "refused.png", full_page=True)


def test_a_photo_with_gps_places_the_pin_where_it_was_taken(page: Page) -> None:
    place = next(m for m in landmarks() if m.ward_name == "Phường Kim Liên")
    no_tiles(page)
    page.goto("/")
    page.set_input_files(
        "#photos",
        files=[
            {
                "name": "ga.jpg",
                "mimeType": "image/jpeg",
                "buffer": jpeg(800, 600, gps=(place.lat, place.lon)),
            }
        ],
    )
    expect(page.locator("#ward-name")).to_have_text(place.ward_name)
    pin = page.evaluate("[GSReport.state.lat, GSReport.state.lon]")
    assert abs(pin[0] - place.lat) < 1e-5 and abs(pin[1] - place.lon) < 1e-5


def test_keyboard_only_a_citizen_can_pin_choose_and_is_told_what_is_missing(
    page: Page, artefacts: Path
) -> None:
    no_tiles(page)
    page.goto("/")
    # Skip link first, then the header's links; then the map itself, where Enter pins the centre.
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "map":
            break
    expect(page.locator("#map")).to_be_focused()
    page.keyboard.press("ArrowUp")  # the map pans north a little
    page.keyboard.press("Enter")
    expect(page.locator("#ward-name")).not_to_be_empty()
    page.locator("#send").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#form-error")).to_contain_text("Hãy chọn loại sự việc.")
    expect(page.locator("#category")).to_be_focused()  # focus goes to the first problem
    page.screenshot(path=artefacts / "keyboard.png", full_page=True)


def test_the_tracking_link_shows_the_timeline_and_the_rating_form_once_resolved(
    page: Page, client: httpx.Client, engine: Engine, artefacts: Path
) -> None:
    created = file_report(client)
    staff = official(client, engine, "urenco")
    moved(client, staff, created["id"], "in_progress", public_comment="Đã cử xe đến.")
    page.goto(f"/r/{created['token']}")
    expect(page.locator("#timeline li")).to_have_count(2)
    expect(page.locator("#timeline")).to_contain_text("Đã cử xe đến.")
    expect(page.locator("#rating-form")).to_have_count(0)  # not resolved yet

    moved(client, staff, created["id"], "resolved", public_comment="Đã thu gom xong.")
    page.reload()
    expect(page.locator("#status")).to_have_text("Đã xử lý xong")
    form = page.locator("#rating-form")
    expect(form).to_be_visible()
    form.get_by_role("button", name="Gửi đánh giá").click()  # nothing chosen yet
    expect(page.locator("#rating-error")).to_contain_text("Hãy cho biết")
    form.get_by_label("Rồi").check()
    form.get_by_label("4 sao").check()
    form.get_by_label("Nhận xét (không bắt buộc)").fill("Sạch sẽ rồi, cảm ơn.")
    page.screenshot(path=artefacts / "rating.png", full_page=True)
    form.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("#rated")).to_have_text("Cảm ơn bạn đã đánh giá.")
    rating = client.get(f"/api/v1/track/{created['token']}").json()
    assert rating["rated"] is True and rating["can_rate"] is False
    page.screenshot(path=artefacts / "rated.png", full_page=True)


def test_an_unknown_tracking_code_says_so(page: Page) -> None:
    response = page.goto("/r/not-a-real-token-123")
    assert response is not None and response.status == 404
    expect(page.locator("[role=alert]")).to_have_text("Không tìm thấy phản ánh với mã này.")


def test_a_citizen_sees_the_same_problem_nearby_and_adds_a_plus_one_instead(
    page: Page, client: httpx.Client, engine: Engine, artefacts: Path
) -> None:
    place = next(m for m in landmarks() if m.ward_name == "Phường Hai Bà Trưng")
    first = file_report(
        client, "broken_street_light", lat=place.lat, lon=place.lon, description="Đèn tắt cả tuần"
    )
    no_tiles(page)
    page.goto("/")
    tap_map_at(page, place.lat + 0.0001, place.lon)  # ~11 m away
    expect(page.locator("#ward-name")).to_have_text(place.ward_name)
    page.get_by_label("Loại sự việc").select_option("broken_street_light")
    nearby = page.locator("#nearby")
    expect(nearby).to_be_visible()
    expect(nearby).to_contain_text("Đèn tắt cả tuần")
    page.screenshot(path=artefacts / "nearby.png", full_page=True)
    page.locator("#email").fill("me-too@example.org")  # the +1 hears of each step too
    nearby.get_by_role("button", name=re.compile(f"#{first['id']}$")).click()
    page.wait_for_url("**/r/*?followed=1")
    expect(page.locator(".notice.success")).to_contain_text("Đã ghi nhận")
    expect(page.locator("#alert-form")).to_be_visible()  # "tell me about other reports here"
    assert page.url.split("/r/")[1].split("?")[0] != first["token"]  # a follower's own token
    public = client.get(f"/api/v1/track/{first['token']}").json()
    assert public["plus_ones"] == 1
    with engine.connect() as conn:
        follows = (
            conn.execute(
                text(
                    "SELECT s.report_id FROM subscriptions s JOIN mail_addresses a"
                    " ON a.id = s.address_id WHERE a.email = 'me-too@example.org'"
                )
            )
            .scalars()
            .all()
        )
    assert follows == [first["id"]]


def test_use_my_location_pins_where_the_phone_is(page: Page) -> None:
    place = next(m for m in landmarks() if m.ward_name == "Phường Hoàn Kiếm")
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": place.lat, "longitude": place.lon})
    no_tiles(page)
    page.goto("/")
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    expect(page.locator("#ward-name")).to_have_text(place.ward_name)


def test_the_language_switch_turns_the_whole_app_english_and_back(
    page: Page, artefacts: Path
) -> None:
    no_tiles(page)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.get_by_role("link", name="Chuyển sang tiếng Anh").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Report a problem")
    expect(page.get_by_label("Kind of problem")).to_be_visible()
    # Texts the script writes follow too.
    tap_map_at(page, 20.8449, 106.6881)
    expect(page.locator("#place-refused")).to_contain_text(
        "A report cannot be sent from this place"
    )
    page.screenshot(path=artefacts / "english.png", full_page=True)
    page.goto("/map")  # the choice is remembered on every page
    expect(page.locator("h1")).to_have_text("Reports map")
    page.get_by_role("link", name="Switch to Vietnamese").click()
    expect(page.locator("h1")).to_have_text("Bản đồ phản ánh")


def test_on_a_360_px_phone_nothing_is_wider_than_the_screen(page: Page, artefacts: Path) -> None:
    page.set_viewport_size(PHONE)
    no_tiles(page)
    for path in ("/", "/map"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        box = page.locator("#map").bounding_box()
        assert box and box["width"] == PHONE["width"] and box["height"] >= 250, path
        page.screenshot(path=artefacts / f"phone{path.replace('/', '-')}.png", full_page=True)
