"""A visitor opens the service in a browser and finds their way."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page


def test_the_front_page_opens_in_a_real_browser_with_the_boundary_attribution(
    page: Page, artefacts: Path
) -> None:
    page.goto("/")
    assert "Hà Nội" in page.title()
    footer = page.locator("footer")
    assert footer.count() == 1 and footer.inner_text().strip()
    page.screenshot(path=artefacts / "front.png", full_page=True)
