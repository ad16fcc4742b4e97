"""Vietnamese first, English second: the language a citizen sees and the texts' completeness."""

from __future__ import annotations

import re

import pytest

from geo_service.i18n import LANGUAGES, MESSAGES, negotiate, translate
from geo_service.templating import TEMPLATE_DIR

# `_("report.send")` in templates, `GS.t("report.send")` in scripts.
USES = re.compile(r"""\b(?:_|GS\.t)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")


@pytest.mark.parametrize(
    ("accept", "cookie", "expected"),
    [
        (None, None, "vi"),  # nothing said: Vietnamese
        ("en-US,en;q=0.9", None, "en"),
        ("vi-VN,vi;q=0.9,en;q=0.8", None, "vi"),
        ("fr-FR,fr;q=0.9,en;q=0.5", None, "en"),  # French is not offered; English is next
        ("de, ja", None, "vi"),  # nothing offered: the default
        ("en;q=0.3, vi;q=0.7", None, "vi"),  # q-values, not order, decide
        ("vi;q=0, en", None, "en"),  # q=0 means "not this one"
        ("en;q=abc, vi;q=0.1", None, "vi"),  # a broken q-value counts as refused
        ("en-US", "vi", "vi"),  # the switch's cookie beats the browser
        ("vi", "en", "en"),
        ("en", "klingon", "en"),  # an unknown cookie value is ignored
    ],
)
def test_the_page_language_follows_the_switch_then_the_browser(
    accept: str | None, cookie: str | None, expected: str
) -> None:
    assert negotiate(accept, cookie) == expected


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        placeholders = {lang: set(re.findall(r"{(\w+)}", texts[lang])) for lang in LANGUAGES}
        assert placeholders["vi"] == placeholders["en"], key
        assert all(t.strip() for t in texts.values()), key


def test_every_key_a_template_or_script_uses_exists() -> None:
    used: set[str] = set()
    sources = [*TEMPLATE_DIR.rglob("*.html"), *(TEMPLATE_DIR.parent / "static/js").glob("*.js")]
    for path in sources:
        used |= set(USES.findall(path.read_text()))
    assert used, "no translated texts found: the pattern is wrong"
    missing = used - set(MESSAGES)
    assert not missing, f"keys used but missing from i18n.MESSAGES: {missing}"


def test_translate_fills_placeholders() -> None:
    assert translate("en", "report.photos", n=3) == "Photos (up to 3)"
    assert translate("vi", "report.photos", n=3) == "Ảnh (tối đa 3)"
    with pytest.raises(KeyError):
        translate("vi", "no.such.key")
