"""Vietnamese first, English second: the language a citizen sees, catalogs that translate every
text the sources ask for, and a third language that is one new catalog."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po
from babel.util import pathmatch
from jinja2.ext import extract_from_ast
from playwright.sync_api import Page, Request, expect

from geo_service.i18n import (
    DEFAULT_LANG,
    LANG_COOKIE,
    LANGUAGES,
    LOCALE_DIR,
    gettext,
    negotiate,
    read_catalog,
)
from geo_service.templating import env, script_msgids, scripts_html, template_gettext
from tests.conftest import Server

ROOT = Path(__file__).resolve().parent.parent
SOURCE_LANG = "en"  # msgids are English: its catalog only says that English is offered
# {name} or {name:spec}; {{ and }} are literal braces.
PLACEHOLDER = re.compile(r"{{|}}|{(\w+)(?:[:!][^{}]*)?}")

Key = tuple[str | tuple[str, ...], str | None]  # (msgid or (singular, plural), context)


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


# --- The catalogs against the sources ----------------------------------------------------


def mapping() -> tuple[list[tuple[str, str]], dict[str, dict]]:
    with (LOCALE_DIR / "babel.cfg").open() as fh:
        return parse_mapping_cfg(fh)


@cache
def extracted() -> dict[Key, list[str]]:
    """Every text the sources ask for, found exactly as ``pybabel extract -F babel.cfg`` finds
    them (the same mapping, extractors and keywords), with the files asking."""
    method_map, options_map = mapping()
    found: dict[Key, list[str]] = {}
    for filename, _, message, _, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        key = (message if isinstance(message, str) else tuple(message), context)
        found.setdefault(key, []).append(filename)
    return found


def placeholders(text: str) -> set[str]:
    return {m[1] for m in PLACEHOLDER.finditer(text) if m[1]}


def test_the_extraction_finds_the_texts_of_every_kind_of_source() -> None:
    """babel.cfg really reaches each way of writing a text (a wrong keyword or pattern would
    leave a whole kind of source out of the catalogs, silently)."""
    found = extracted()
    expected: dict[Key, str] = {
        ("is required", None): "geo_service/errors.py",  # N_() in domain code
        ("Heatmap of reports", None): "maps/build.py",  # gettext(lang, ...)
        ("Not our competence", None): "geo_service/workflow.py",  # the reasons, N_()
        ("Send the report", None): "geo_service/templates/report.html",  # _() in a template
        (("{n} star", "{n} stars"), None): "geo_service/templates/track.html",  # ngettext
        ("Received", "queue tab"): "geo_service/templates/staff/queue.html",  # pgettext
        ("Please pin the place on the map.", None): "geo_service/static/js/report.js",  # GS.t
        ("Not saved:", None): "geo_service/static/staff.js",
    }
    for key, filename in expected.items():
        assert filename in found.get(key, []), f"{key} not extracted from {filename}"
    # A {% trans %} block: its whitespace folded, its placeholders ours.
    how = next(k for k in found if isinstance(k[0], str) and k[0].startswith("How these"))
    assert "  " not in str(how[0]) and "\n" not in str(how[0])
    assert not any(f.startswith("geo_service/static/vendor/") for fs in found.values() for f in fs)


def test_every_text_has_a_confirmed_translation_with_the_same_placeholders() -> None:
    problems = []
    for lang in LANGUAGES:
        if lang == SOURCE_LANG:
            continue
        catalog = read_catalog(lang)
        for (msgid, context), files in sorted(extracted().items(), key=str):
            ids = (msgid,) if isinstance(msgid, str) else msgid
            message = catalog.get(ids[0], context)
            where = f"{lang}: {msgid!r} ({context or 'no context'}; {files[0]})"
            if message is None:
                problems.append(f"{where}: not in the catalog")
                continue
            strings = (message.string,) if isinstance(message.string, str) else message.string
            if message.fuzzy or not all(s and s.strip() for s in strings):
                problems.append(f"{where}: untranslated or fuzzy")
            elif any(placeholders(s) != placeholders(ids[-1]) for s in strings):
                problems.append(f"{where}: placeholders differ in {strings}")
            if placeholders(ids[0]) - placeholders(ids[-1]):
                problems.append(f"{where}: singular and plural have other placeholders")
    assert not problems, "\n".join(problems)


def test_no_catalog_holds_a_text_that_no_source_uses() -> None:
    used = {(m if isinstance(m, str) else m[0], c) for m, c in extracted()}
    for lang in LANGUAGES:
        catalog = read_catalog(lang)
        held = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalog if m.id}
        assert not held - used, f"{lang}: obsolete, run pybabel update: {held - used}"
        assert not catalog.obsolete, f"{lang}: #~ entries left, use --ignore-obsolete"


def test_english_is_the_source_language_and_still_offered() -> None:
    assert SOURCE_LANG in LANGUAGES and LANGUAGES[0] == DEFAULT_LANG == "vi"
    assert [m.id for m in read_catalog(SOURCE_LANG) if m.id] == []  # the msgids are the texts
    assert gettext("en", "Photos (up to {n})", n=3) == "Photos (up to 3)"
    assert gettext("vi", "Photos (up to {n})", n=3) == "Ảnh (tối đa 3)"
    assert gettext("vi", "A text nobody translated") == "A text nobody translated"


def keywords() -> dict[str, dict[str, object]]:
    """babel.cfg's keywords by extraction method, with Babel's defaults."""
    method_map, options_map = mapping()
    return {
        method: {**DEFAULT_KEYWORDS, **options_map[pattern].get("keywords", {})}
        for pattern, method in method_map
    }


def mapped(method: str) -> Iterator[Path]:
    method_map, _ = mapping()
    patterns = [p for p, m in method_map if m == method]
    for top in sorted(ROOT.iterdir()):
        if top.is_dir() and not top.name.startswith("."):  # not .venv, .git
            for path in sorted(top.rglob("*")):
                if any(pathmatch(p, path.relative_to(ROOT).as_posix()) for p in patterns):
                    yield path


# The code that hands msgids on (Message.render, the template callables) is the exception.
MACHINERY = {"geo_service/i18n.py"}


TEMPLATE_KEYWORDS = ("_", "gettext", "ngettext", "pgettext")


def test_every_msgid_is_written_out_where_it_is_used() -> None:
    """A msgid built at run time ("status." + code) or hidden in an f-string (which Babel does
    not read on Python 3.11) never reaches the catalogs, and shows in English."""
    python_keywords = keywords()["python"]
    problems = []
    for path in mapped("python"):
        relative = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(), relative)
        in_fstrings = {
            id(n) for f in ast.walk(tree) if isinstance(f, ast.JoinedStr) for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            spec = python_keywords.get(node.func.id, False)
            if spec is False:
                continue
            where = f"{relative}:{node.lineno}"
            if id(node) in in_fstrings:
                problems.append(f"{where}: {node.func.id}() inside an f-string")
            elif relative not in MACHINERY:
                for index in spec or (1,):  # type: ignore[union-attr]
                    if isinstance(index, int) and index <= len(node.args):
                        arg = node.args[index - 1]
                        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                            problems.append(f"{where}: {node.func.id}() with a computed msgid")
    for path in mapped("jinja2"):
        template = path.relative_to(ROOT / "geo_service/templates").as_posix()
        tree = env.parse(path.read_text(), template)
        for lineno, func, strings in extract_from_ast(
            tree, ("_", "gettext", "ngettext", "pgettext")
        ):
            needed = 1 if func in ("_", "gettext") else 2
            given = (strings,) if not isinstance(strings, tuple) else strings
            if any(s is None for s in given[:needed]):
                problems.append(f"{template}:{lineno}: {func}() with a computed msgid")
    for path in mapped("javascript"):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bGS\.t\(\s*[^\s\"']", line):
                problems.append(f"{path.name}:{lineno}: GS.t() with a computed msgid")
    assert not problems, "\n".join(problems)


# --- Templates and scripts ---------------------------------------------------------------


def test_templates_translate_fill_and_escape() -> None:
    def render(source: str, lang: str, **values: object) -> str:
        return env.from_string(source).render(**template_gettext(lang), **values)

    assert render('{{ _("Photos (up to {n})", n=3) }}', "vi") == "Ảnh (tối đa 3)"
    # {% trans %} has the same msgid as _(), so the same translation.
    assert render("{% trans n=x %}Photos (up to {{ n }}){% endtrans %}", "vi", x=3) == (
        "Ảnh (tối đa 3)"
    )
    assert render('{{ ngettext("{n} star", "{n} stars", 1) }}', "en") == "1 star"
    assert render('{{ ngettext("{n} star", "{n} stars", 4) }}', "en") == "4 stars"
    assert render('{{ ngettext("{n} star", "{n} stars", 4) }}', "vi") == "4 sao"
    assert render('{{ pgettext("queue tab", "Received") }}', "vi") == "Mới tiếp nhận"
    assert render('{{ _("Received") }}', "vi") == "Đã tiếp nhận"
    # What a person typed is escaped when it fills a placeholder, and only once.
    assert render('{{ _("Photos (up to {n})", n=x) }}', "vi", x="<b>&") == (
        "Ảnh (tối đa &lt;b&gt;&amp;)"
    )
    assert render('<p title="{{ _("Reports for {unit}", unit=x) }}">', "en", x='"x') == (
        '<p title="Reports for &#34;x">'
    )
    assert render("{% trans u=x %}Reports for {{ u }}{% endtrans %}", "en", x="<i>") == (
        "Reports for &lt;i&gt;"
    )


def test_a_page_gives_its_scripts_exactly_the_texts_they_use() -> None:
    html = scripts_html("vi", ("vendor/leaflet/leaflet.js", "js/common.js", "js/track.js"))
    texts = json.loads(re.search(r'id="gs-texts">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert set(texts) == set(script_msgids("js/track.js")) and texts
    assert texts["Please choose the stars."] == "Hãy chọn số sao."
    assert script_msgids("vendor/leaflet/leaflet.js") == ()  # not ours: babel.cfg skips it
    assert html.index("js/texts.js") < html.index("js/common.js") < html.index("js/track.js")


def test_gs_t_translates_fills_and_falls_back_to_english(page: Page) -> None:
    page.goto("/")
    assert page.evaluate('GS.t("Please pin the place on the map.")') == (
        "Hãy ghim vị trí sự việc trên bản đồ."
    )
    assert page.evaluate('GS.t("Photos (up to {n})", {n: 3})') == "Photos (up to 3)"  # not used
    assert page.evaluate('GS.t("No such text, {n} times", {n: 2})') == "No such text, 2 times"


def test_page_scripts_ask_for_answers_in_the_page_language(page: Page, server: Server) -> None:
    """The browser says vi-VN but the switch chose English: the scripts' requests ask for
    English, so an error the server sends shows in the page's language."""
    page.context.add_cookies([{"name": LANG_COOKIE, "value": "en", "url": server.url}])
    asked: dict[str, str | None] = {}

    def seen(request: Request) -> None:
        if "/api/" in request.url:
            asked[request.url] = request.headers.get("accept-language")

    page.on("request", seen)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_load_state("networkidle")  # the ward boundaries have been fetched
    assert asked and set(asked.values()) == {"en"}, asked


# --- A third language ----------------------------------------------------------------------

THIRD_LANGUAGE = """
import json
from starlette.requests import Request

from geo_service import i18n
from geo_service.templating import templates

request = Request({
    "type": "http", "method": "GET", "path": "/staff/login", "query_string": b"",
    "headers": [(b"accept-language", b"fr-FR,fr;q=0.9,en;q=0.5")],
})
page = templates.TemplateResponse(
    request, "staff/login.html", {"user": None, "csrf": "", "next": "/staff", "error": None}
)
print(json.dumps({
    "languages": i18n.LANGUAGES,
    "names": i18n.LANGUAGE_NAMES,
    "chosen": i18n.negotiate("fr-FR,fr;q=0.9,en;q=0.5"),
    "page": page.body.decode(),
}))
"""


def test_a_third_language_is_one_new_catalog(tmp_path: Path) -> None:
    """A copy of the package with one more file, geo_service/locale/fr/LC_MESSAGES/messages.po:
    French is offered, chosen from the browser's Accept-Language, shown, and the switch of
    every page links it (its missing texts show in English, the source language)."""
    package = tmp_path / "geo_service"
    shutil.copytree(ROOT / "geo_service", package, ignore=shutil.ignore_patterns("__pycache__"))
    catalog = Catalog(locale="fr", domain="messages")
    catalog.add("Staff login", "Connexion du personnel")
    catalog.add("Switch to {language}", "Passer en {language}")
    french = package / "locale/fr/LC_MESSAGES/messages.po"
    french.parent.mkdir(parents=True)
    with french.open("wb") as fh:
        write_po(fh, catalog)

    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(THIRD_LANGUAGE)],
        cwd=tmp_path,  # the copy comes first on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(run.stdout)
    assert result["languages"] == ["vi", "en", "fr"]  # the default first
    assert result["names"]["fr"] == "Français"
    assert result["chosen"] == "fr"
    page = result["page"]
    assert '<html lang="fr">' in page and "<h1>Connexion du personnel</h1>" in page
    assert 'aria-label="Passer en vietnamien"' in page and ">Tiếng Việt</span>" in page
    assert ">English</span>" in page and "Username" in page  # untranslated: English
