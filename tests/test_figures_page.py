"""Anyone can read how the city handles reports, and the page says what the API says."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from tests.stories import file_report

PHONE = {"width": 360, "height": 740}


def test_a_resident_reads_the_figures_on_a_phone_and_they_match_the_api(
    page: Page, client: httpx.Client, artefacts: Path
) -> None:
    file_report(client, "garbage_uncollected")
    file_report(client, "flooding")
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.click("header nav a[href='/figures']")
    expect(page).to_have_url(re.compile(r"/figures$"))
    expect(page.locator("h1")).to_have_text("Kết quả tiếp nhận và xử lý")

    # The page shows the last 12 months; the API, asked for the same days, agrees.
    city = client.get("/api/v1/meta").json()["city"]
    today = dt.datetime.now(ZoneInfo(city["timezone"])).date()
    first_day = today - dt.timedelta(days=364)
    api = client.get("/api/v1/stats", params={"from": first_day.isoformat()}).json()
    total = api["total"]
    assert total["received"] >= 2
    received = f"{total['received']:,}".replace(",", ".")
    expect(page.locator("#total-received .value")).to_have_text(received)
    expect(page.locator("#total-open .value")).to_have_text(f"{total['open']:,}".replace(",", "."))
    expect(page.locator("#total-overdue .value")).to_have_text(str(total["overdue"]))
    resolved = round(100 * total["resolved"] / total["received"])
    expect(page.locator("#total-resolved .value")).to_have_text(f"{resolved} %")
    expect(page.locator("#range")).to_contain_text(first_day.strftime("%d/%m/%Y"))
    link = page.locator("a[href^='/api/v1/stats']")
    expect(link).to_have_attribute("href", f"/api/v1/stats?from={first_day.isoformat()}")

    # One row per ward, unit and category the API lists, with the same counts.
    for table, key in (
        ("#by-ward", "by_ward"),
        ("#by-unit", "by_unit"),
        ("#by-category", "by_category"),
    ):
        rows = page.locator(f"{table} tbody tr")
        expect(rows).to_have_count(len(api[key]))
        first = api[key][0]
        row = page.locator(f"{table} tr[data-code='{first['code']}'] td").first
        expect(row).to_have_text(f"{first['received']:,}".replace(",", "."))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=artefacts / "figures-360.png", full_page=True)

    # Since the start: the range and the API link follow.
    page.select_option("#period", "all")
    page.click("form.period button[type=submit]")
    expect(page).to_have_url(re.compile(r"/figures\?period=all$"))
    expect(page.locator("a[href^='/api/v1/stats']")).to_have_attribute("href", "/api/v1/stats")
    everything = client.get("/api/v1/stats", params={"breakdowns": "false"}).json()["total"]
    expect(page.locator("#total-received .value")).to_have_text(
        f"{everything['received']:,}".replace(",", ".")
    )

    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("Reports received and handled")
    expect(page.locator("#by-category thead")).to_contain_text("Satisfied")


def test_a_period_that_is_not_offered_is_a_clear_422(client: httpx.Client) -> None:
    response = client.get("/figures", params={"period": "7"})
    assert response.status_code == 422
    assert "period" in response.json()["detail"]
