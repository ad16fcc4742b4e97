"""The public web app as a browser sees it over HTTP: pages, language, assets served locally."""

from __future__ import annotations

import re

import httpx

from geo_service.config import PACKAGE_DIR


def test_the_front_page_is_the_report_app_in_vietnamese_by_default(bare: httpx.Client) -> None:
    page = bare.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in page.text
    assert "Gửi phản ánh" in page.text
    # The ward boundaries' licence wants its attribution shown.
    meta = bare.get("/api/v1/meta").json()
    for boundary in meta["boundaries"]:
        if boundary["attribution"]:
            assert boundary["attribution"] in page.text


def test_an_english_browser_gets_english_and_the_switch_overrides_it(
    client: httpx.Client,
) -> None:
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text
    assert "Report a problem" in english.text

    switch = client.get("/lang/vi", params={"next": "/?x=1"}, follow_redirects=False)
    assert switch.status_code == 303
    assert switch.headers["location"] == "/?x=1"
    assert "gs_lang=vi" in switch.headers["set-cookie"]
    back = client.get(
        "/", headers={"Accept-Language": "en", "Cookie": "gs_lang=vi"}, follow_redirects=False
    )
    assert '<html lang="vi">' in back.text


def test_the_language_switch_never_sends_people_to_another_site(client: httpx.Client) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/"
    unknown = client.get("/lang/fr")
    assert unknown.status_code == 404
    assert "lang" in unknown.json()["detail"]


def test_every_script_and_stylesheet_is_served_by_the_service_itself(
    client: httpx.Client,
) -> None:
    page = client.get("/").text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert any("leaflet.js" in a for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} is not served locally"
        assert client.get(asset).status_code == 200, asset
    licence = client.get("/static/vendor/leaflet/LICENSE")
    assert licence.status_code == 200
    assert "Volodymyr Agafonkin" in licence.text
    vendored = (PACKAGE_DIR / "static/vendor/leaflet/leaflet.js").read_text()
    assert 'version="1.9.4"' in vendored


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_colours_meet_wcag_aa_contrast() -> None:
    """White on every status colour (badges), and the ink, muted, link and error colours on
    white, have a contrast ratio of at least 4.5:1."""
    css = (PACKAGE_DIR / "static/site.css").read_text()
    status = dict(re.findall(r"\.status-(\w+) \{ --status: (#[0-9a-f]{6}); \}", css))
    assert {"received", "in_progress", "resolved", "rejected"} <= set(status)
    text = dict(re.findall(r"--(ink|muted|link|bad|accent): (#[0-9a-f]{6})", css))
    assert len(text) == 5
    for name, colour in {**status, **text}.items():
        ratio = (1.0 + 0.05) / (_luminance(colour) + 0.05)
        assert ratio >= 4.5, f"{name} {colour}: {ratio:.2f}:1 against white"
