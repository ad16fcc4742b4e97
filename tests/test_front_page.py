"""A visitor opens the service in a browser and finds their way."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Page


def test_the_front_page_credits_every_boundary_source_once(
    page: Page, client: httpx.Client, artefacts: Path
) -> None:
    page.goto("/")
    assert "Hà Nội" in page.title()
    footer = page.locator("footer.site-footer")
    lines = [line.strip() for line in footer.first.inner_text().splitlines() if line.strip()]
    assert lines and len(lines) == len(set(lines)), lines
    # The licence of each boundary set in use asks for its attribution: every one is shown,
    # either on its own line or inside a derived set's longer text (the dissolved outline).
    sets = client.get("/api/v1/meta").json()["boundaries"]
    texts = {s["attribution"] for s in sets if s["attribution"]}
    for attribution in texts:
        assert any(attribution in line for line in lines), (attribution, lines)
    # The city outline is dissolved from the wards and credits their source inside its own
    # text: that source is not repeated on a line of its own.
    assert len(texts) == 2 and len(lines) == 1, lines
    page.screenshot(path=artefacts / "front.png", full_page=True)
