"""A citizen with a phone reports a street problem in a real browser (Debian's Chromium)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect


def test_the_report_page_draws_the_wards_from_our_api_even_without_tiles(
    page: Page, artefacts: Path
) -> None:
    # The city intranet case: no tile server is reachable.
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Gửi phản ánh")
    wards = page.locator("#map path.leaflet-interactive, #map svg path")
    expect(wards.first).to_be_attached()
    assert wards.count() >= 100  # Hanoi has 126 wards and communes
    expect(page.locator("#tiles-notice")).to_be_visible()
    page.screenshot(path=artefacts / "report-no-tiles.png")
