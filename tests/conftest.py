"""Test fixtures: a real PostGIS database of the tests' own, set up like production with
`init`, and a real uvicorn server on a free port that the tests talk to over HTTP.

TEST_DATABASE_URL names the test database (default: geo_service_test on the local server).
It is dropped and created afresh for each test session; the service's own database is never
touched.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine, create_engine, make_url, text

from geo_service import auth, db
from geo_service.config import Settings
from geo_service.i18n import gettext
from geo_service.profile import load_profile
from geo_service.seed import init_database

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_TEST_URL = "postgresql://postgres@127.0.0.1:5432/geo_service_test"


def _test_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_URL)
    return Settings(database_url=url).sqlalchemy_url


def recreate_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def other_database(suffix: str) -> str:
    """A fresh, migrated database of the tests' own beside the main one (for a test that
    switches the city's boundaries, or sets up another city): TEST_DATABASE_URL's name
    with ``_suffix``."""
    url = make_url(_test_url())
    url = url.set(database=f"{url.database}_{suffix}")
    plain = url.render_as_string(hide_password=False)
    recreate_database(plain)
    db.migrate(plain)
    return plain


@pytest.fixture(scope="session")
def database_url() -> str:
    """A fresh test database at the newest migration with the default city loaded."""
    url = _test_url()
    recreate_database(url)
    db.migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        init_database(conn, load_profile(Settings().city_profile), say=lambda _: None)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    media_dir: Path


@contextmanager
def serving(database_url: str, tmp: Path, **env_vars: str) -> Iterator[Server]:
    """The real service in a uvicorn process, as `geo-service serve` runs it, on a free port;
    ``env_vars`` set more of its environment (CITY_PROFILE...)."""
    port = _free_port()
    media = tmp / "media"
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_DIR": str(media), **env_vars}
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start; see {log.name}")
        time.sleep(0.2)
    try:
        yield Server(url, media)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real service on the test database."""
    with serving(database_url, tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """An API client that reads English, as an integrator's code usually asks; without
    Accept-Language the service answers in the default language, Vietnamese (``bare``)."""
    headers = {"Accept-Language": "en"}
    with httpx.Client(base_url=server.url, timeout=30, headers=headers) as c:
        yield c


@pytest.fixture
def bare(server: Server) -> Iterator[httpx.Client]:
    """A client that names no language."""
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def in_words(lang: str, msgid: str) -> re.Pattern[str]:
    """A message as it reads in ``lang`` with any values in its placeholders: for a test
    that knows the text but not every value the server put in it."""
    parts = re.split(r"{\w+(?:[:!][^{}]*)?}", gettext(lang, msgid))
    return re.compile(".+?".join(re.escape(part) for part in parts))


@dataclass(frozen=True)
class Landmark:
    name: str
    lat: float
    lon: float
    ward_name: str


def landmarks() -> list[Landmark]:
    """52 real Hanoi places with the ward each lies in (tests/data/README.md)."""
    with (TEST_DATA / "hanoi_landmarks.csv").open(encoding="utf-8") as fh:
        return [
            Landmark(r["name"], float(r["lat"]), float(r["lon"]), r["ward_name"])
            for r in csv.DictReader(fh)
        ]


def cli(
    database_url: str, *args: str, stdin: str | None = None, **env_vars: str
) -> subprocess.CompletedProcess[str]:
    """Run `geo-service ARGS` against the test database, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "geo_service.cli", *args],
        input=stdin,
        env={**os.environ, "DATABASE_URL": database_url, **env_vars},
        capture_output=True,
        text=True,
        timeout=120,
    )


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (``playwright install`` cannot download here).

    Playwright's sync API keeps an event loop on the main thread, so tests that need asyncio
    must run it in a worker thread."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run.sh test installs Debian's chromium package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    """Where a test saves its screenshots (test-artifacts/, never committed)."""
    path = ROOT / "test-artifacts" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser tab with the service as its base URL, failing the test on any
    uncaught page error."""
    context = browser.new_context(base_url=server.url, locale="vi-VN")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


DEFAULT_PASSWORD = "correct horse battery staple"


@lru_cache
def _password_hash(password: str) -> str:
    return auth.hash_password(password)  # argon2 is slow on purpose: hash each password once


def make_user(
    engine: Engine,
    username: str,
    role: str,
    unit_code: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> int:
    """An active account with this role, unit and password (created, or reset to that)."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    """
                    INSERT INTO users (username, password_hash, role, unit_id, display_name)
                    VALUES (:username, :hash, :role,
                            (SELECT id FROM units WHERE code = :unit), :username)
                    ON CONFLICT (username) DO UPDATE
                       SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
                           unit_id = EXCLUDED.unit_id, active = true
                    RETURNING id
                    """
                ),
                {
                    "username": username,
                    "hash": _password_hash(password),
                    "role": role,
                    "unit": unit_code,
                },
            ).scalar_one()
        )


def login(client: httpx.Client, username: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    """Log in through the API; returns the headers that authenticate later requests."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
