"""People are told: a real SMTP server (aiosmtpd in this process) and a real HTTP receiver
hear what the real worker (`geo-service worker`, a subprocess) delivers from the outbox that
the service's write paths fill in their own transactions."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import feedparser
import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, text

from geo_service.config import Settings
from geo_service.db import make_async_engine
from geo_service.notify.worker import run_tick
from tests.conftest import _free_port, login, make_user
from tests.stories import HOAN_KIEM, file_report, moved, official

REFUSED_DOMAIN = "refused.example"
T = TypeVar("T")


class Inbox:
    """What the SMTP server received, each mail with the moment it arrived."""

    def __init__(self) -> None:
        self.mails: list[tuple[float, EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.mails.append((time.monotonic(), parsed))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str, report: int | None = None) -> list[EmailMessage]:
        """The mails to this address (about this report only, when one is named: a unit's
        address also hears the worker's deadline warnings about other tests' reports)."""
        with self.lock:
            return [
                m
                for _, m in self.mails
                if m["To"] == address and (report is None or m["X-GS-Report"] == str(report))
            ]

    def wait(
        self, address: str, n: int = 1, timeout: float = 30, report: int | None = None
    ) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.to(address, report)
            if len(got) >= n:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{address} got {len(self.to(address, report))} mails, not {n}")


def in_a_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a worker thread: Playwright's sync API keeps a loop on the main one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@pytest.fixture(scope="session")
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="session")
def worker(
    database_url: str,
    inbox: tuple[Inbox, int],
    server: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    """`geo-service worker` as production runs it, with quick retries for the tests."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SMTP_URL": f"smtp://127.0.0.1:{inbox[1]}",
        "MAIL_FROM": "Hanoi reports <noreply@example.org>",
        "PUBLIC_URL": server.url,
        "NOTIFY_RETRY_BASE_S": "0.3",
        "NOTIFY_MAX_ATTEMPTS": "3",
    }
    log = (tmp_path_factory.mktemp("worker") / "worker.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield env
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture
def admin(client: httpx.Client, engine: Engine) -> dict[str, str]:
    make_user(engine, "notify-admin", "admin")
    return login(client, "notify-admin")


def unit_of_garbage(client: httpx.Client) -> str:
    return str(file_report(client)["unit"]["code"])


def set_unit_addresses(
    client: httpx.Client,
    admin: dict[str, str],
    unit: str,
    *addresses: str,
    digest: int | None = None,
) -> None:
    body = {"addresses": [{"email": a, "lang": "en"} for a in addresses], "digest_hours": digest}
    answer = client.put(f"/api/v1/units/{unit}/notifications", json=body, headers=admin)
    assert answer.status_code == 200, answer.text


def body_text(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link(mail: EmailMessage, pattern: str) -> str:
    found = re.search(pattern, body_text(mail))
    assert found, body_text(mail)
    return found.group(0)


def test_a_new_report_mails_its_unit_and_its_reporter(
    client: httpx.Client, admin: dict[str, str], inbox: tuple[Inbox, int], worker: Any
) -> None:
    box, _ = inbox
    unit = unit_of_garbage(client)
    set_unit_addresses(client, admin, unit, "queue@unit.example")
    created = file_report(client, email="reporter1@example.org", phone="0912345678", name="An")
    unit_mail = box.wait("queue@unit.example", report=created["id"])
    mine = box.wait("reporter1@example.org")[0]
    assert unit_mail and "New report" in unit_mail[0]["Subject"]
    assert f"/staff/reports/{created['id']}" in body_text(unit_mail[0])
    assert mine["Subject"].startswith(f"We received your report #{created['id']}")
    assert f"/r/{created['token']}" in body_text(mine)
    assert mine.get_body(preferencelist=("html",)) is not None
    assert mine["List-Unsubscribe"].startswith("<") and mine["List-Unsubscribe-Post"]
    # One address never learns another's; nobody's contact details travel.
    for mail in (mine, unit_mail[0]):
        raw = mail.as_string()
        assert "0912345678" not in raw and ("queue@unit.example" not in raw or mail is unit_mail[0])
    assert "reporter1@example.org" not in unit_mail[0].as_string()


def test_a_rolled_back_report_tells_nobody(
    engine: Engine, database_url: str, inbox: tuple[Inbox, int], worker: Any, client: httpx.Client
) -> None:
    from geo_service.reports import ReportIn, create_report

    async def create_then_roll_back() -> int:
        async_engine = make_async_engine(Settings(database_url=database_url))
        async with async_engine.connect() as conn:
            trans = await conn.begin()
            data = ReportIn(
                category="garbage_uncollected",
                description="x",
                email="ghost@example.org",
                **HOAN_KIEM,
            )
            created = await create_report(conn, data, [], snap_m=50, city="Hà Nội")
            await trans.rollback()
        await async_engine.dispose()
        return created.id

    in_a_thread(create_then_roll_back)
    file_report(client, email="after-ghost@example.org")
    inbox[0].wait("after-ghost@example.org")  # the worker is busy and well
    assert inbox[0].to("ghost@example.org") == []
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM mail_addresses WHERE email = 'ghost@example.org'")
            ).scalar()
            == 0
        )


def test_each_public_step_reaches_the_reporter_and_the_plus_ones(
    client: httpx.Client, engine: Engine, inbox: tuple[Inbox, int], worker: Any
) -> None:
    box, _ = inbox
    created = file_report(client, email="reporter2@example.org")
    plus = client.post(
        f"/api/v1/reports/{created['id']}/plus-one", json={"email": "neighbour@example.org"}
    )
    assert plus.status_code == 201, plus.text
    welcome = box.wait("neighbour@example.org")[0]
    assert f"/r/{plus.json()['token']}" in body_text(welcome)
    assert created["token"] not in welcome.as_string()  # a +1 never gets the reporter's token
    staff = official(client, engine, created["unit"]["code"])
    moved(client, staff, created["id"], "acknowledged")
    moved(client, staff, created["id"], "resolved", public_comment="Đã thu gom xong.")
    mine = box.wait("reporter2@example.org", 3)
    theirs = box.wait("neighbour@example.org", 3)
    assert [m["Subject"] for m in mine[1:]] == [
        f"Report #{created['id']} was acknowledged",
        f"Report #{created['id']} was resolved",
    ]
    assert "Đã thu gom xong." in body_text(mine[2]) and "#rating-form" in body_text(mine[2])
    assert "#rating-form" not in body_text(theirs[2])
    assert "reporter2@example.org" not in theirs[2].as_string()


def test_area_alerts_need_confirmation_and_stop_in_one_click(
    client: httpx.Client, engine: Engine, inbox: tuple[Inbox, int], worker: Any
) -> None:
    box, _ = inbox
    ward = file_report(client)["ward"]["code"]
    asked = client.post(
        "/api/v1/alerts", json={"email": "street@example.org", "ward": ward, "group": "environment"}
    )
    assert asked.status_code == 202, asked.text
    confirm = box.wait("street@example.org")[0]
    confirm_link = link(confirm, r"http://\S+/alerts/confirm/\S+")
    before = file_report(client, email="witness1@example.org")
    box.wait("witness1@example.org")  # its fan-out is committed: no alert was made for it
    with engine.connect() as conn:
        sent = conn.execute(
            text(
                "SELECT count(*) FROM messages"
                " WHERE recipient = 'street@example.org' AND report_id = :r"
            ),
            {"r": before["id"]},
        ).scalar()
    assert sent == 0
    page = httpx.get(confirm_link)
    assert page.status_code == 200 and "street@example.org" in page.text
    after = file_report(client, email="witness2@example.org", name="Bình", phone="0987654321")
    alert = box.wait("street@example.org", 2)[1]
    assert alert["X-GS-Report"] == str(after["id"])
    assert "witness2@example.org" not in alert.as_string() and "0987654321" not in alert.as_string()
    assert after["token"] not in alert.as_string()
    stop = alert["List-Unsubscribe"].strip("<>")
    assert httpx.post(stop).status_code == 200  # RFC 8058 one-click
    with engine.connect() as conn:
        live = conn.execute(
            text(
                "SELECT count(*) FROM subscriptions s JOIN mail_addresses a ON a.id = s.address_id"
                " WHERE a.email = 'street@example.org' AND s.ended_at IS NULL"
            )
        ).scalar()
    assert live == 0


def test_the_unsubscribe_page_lists_everything_the_address_follows(
    client: httpx.Client, inbox: tuple[Inbox, int], worker: Any
) -> None:
    box, _ = inbox
    one = file_report(client, email="many@example.org")
    two = file_report(client, email="many@example.org")
    box.wait("many@example.org", 2)
    stop = box.to("many@example.org")[0]["List-Unsubscribe"].strip("<>")
    page = httpx.get(stop)
    assert page.status_code == 200
    assert f"#{two['id']}" in page.text and f"/reports/{one['id']}" not in page.text
    assert httpx.get(stop.replace(stop.split("/")[-3], "0" * 40)).status_code == 404  # forged


def test_bad_addresses_are_refused_with_the_field_named(client: httpx.Client) -> None:
    answer = client.post("/api/v1/alerts", json={"email": "not an address", "ward": "00070"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "email"
    answer = client.post(
        "/api/v1/reports",
        json={"category": "garbage_uncollected", "description": "x", "email": "@@", **HOAN_KIEM},
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "email"
    answer = client.post("/api/v1/alerts", json={"email": "a@example.org", "ward": "nowhere"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "ward"


def test_a_refused_address_fails_at_once_and_waits_for_an_admin(
    client: httpx.Client, admin: dict[str, str], engine: Engine, worker: Any
) -> None:
    created = file_report(client, email=f"nobody@{REFUSED_DOMAIN}")
    failed: list[Any] = []
    deadline = time.monotonic() + 30
    while not failed and time.monotonic() < deadline:
        listed = client.get("/api/v1/outbox", headers=admin).json()
        failed = [m for m in listed if m["report_id"] == created["id"]]
        time.sleep(0.2)
    assert failed and failed[0]["attempts"] == 1 and "550" in failed[0]["last_error"]
    with engine.connect() as conn:
        refused = conn.execute(
            text("SELECT refused_at FROM mail_addresses WHERE email = :e"),
            {"e": f"nobody@{REFUSED_DOMAIN}"},
        ).scalar()
    assert refused is not None
    message = failed[0]["id"]
    assert client.post(f"/api/v1/outbox/{message}/discard", headers=admin).status_code == 200
    assert client.post(f"/api/v1/outbox/{message}/retry", headers=admin).status_code == 409
    assert client.get("/api/v1/outbox", headers={}).status_code == 401


class Receiver(BaseHTTPRequestHandler):
    """A ticketing system's webhook endpoint that fails twice, then accepts."""

    calls: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append((dict(self.headers), body))
        self.send_response(500 if len(Receiver.calls) <= 2 else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhooks_are_signed_and_retried_with_a_delivery_log(
    client: httpx.Client, admin: dict[str, str], worker: Any
) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    refused = client.post(
        "/api/v1/webhooks",
        json={"url": "http://example.org/x", "events": ["created"]},
        headers=admin,
    )
    assert refused.status_code == 422
    hook = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["created"]}, headers=admin
    ).json()
    try:
        created = file_report(client)
        deadline = time.monotonic() + 30
        while len(Receiver.calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(Receiver.calls) == 3
        headers, body = Receiver.calls[-1]
        expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-GS-Signature-256"], expected)
        assert {h["X-GS-Delivery"] for h, _ in Receiver.calls} == {headers["X-GS-Delivery"]}
        payload = json.loads(body)
        assert payload["event"] == "created" and payload["report"]["id"] == created["id"]
        assert "email" not in json.dumps(payload)
        log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()
        assert log[0]["status"] == "sent" and [a["ok"] for a in log[0]["log"]] == [
            False,
            False,
            True,
        ]
        assert "secret" not in json.dumps(client.get("/api/v1/webhooks", headers=admin).json())
    finally:
        client.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin)
        receiver.shutdown()


def test_feeds_are_valid_atom_with_no_personal_data(client: httpx.Client) -> None:
    created = file_report(client, email="feed-secret@example.org", phone="0911222333", name="Chi")
    ward = created["ward"]["code"]
    for path in (
        "/feeds/reports.atom",
        f"/feeds/wards/{ward}.atom?group=environment",
        "/feeds/near.atom?lat=21.0287&lon=105.8524&radius=300",
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(
            "application/atom+xml"
        )
        feed = feedparser.parse(answer.content)
        assert not feed.bozo, feed.bozo_exception
        assert feed.version == "atom10"
        assert any(e.link.endswith(f"/reports/{created['id']}") for e in feed.entries), path
        assert "feed-secret" not in answer.text and "0911222333" not in answer.text
        assert created["token"] not in answer.text
    assert client.get("/feeds/wards/nowhere.atom").status_code == 404
    assert client.get("/feeds/reports.atom?group=nothing").status_code == 422
    page = client.get("/map").text
    assert 'rel="alternate" type="application/atom+xml" href="/feeds/reports.atom"' in page
    assert 'action="/alerts"' in page


def test_a_digest_unit_hears_once_and_deadlines_warn_once(
    client: httpx.Client,
    admin: dict[str, str],
    engine: Engine,
    database_url: str,
    inbox: tuple[Inbox, int],
    worker: Any,
) -> None:
    box, _ = inbox
    settings = Settings(database_url=database_url, public_url="http://test")
    created = file_report(client, category="broken_street_light", email="lamp@example.org")
    unit = created["unit"]["code"]
    set_unit_addresses(client, admin, unit, "digest@unit.example", digest=4)
    digest_due = text(
        "UPDATE unit_notify_settings SET last_digest_at = now() - CAST(:ago AS interval)"
        " WHERE unit_id = (SELECT id FROM units WHERE code = :unit)"
    )
    with engine.begin() as conn:  # not due yet: the worker's own tick must wait too
        conn.execute(digest_due, {"ago": "0 hours", "unit": unit})
    second = file_report(client, category="broken_street_light", email="lamp2@example.org")
    box.wait("lamp2@example.org")
    assert box.to("digest@unit.example") == []  # held for the digest

    def tick() -> dict[str, int]:
        async def once() -> dict[str, int]:
            e = make_async_engine(settings)
            try:
                return await run_tick(e, settings)
            finally:
                await e.dispose()

        return in_a_thread(once)

    with engine.begin() as conn:
        conn.execute(digest_due, {"ago": "5 hours", "unit": unit})
    tick()  # (or the worker's tick, whichever comes first: one digest either way)
    digest = box.wait("digest@unit.example")[0]  # a digest names no single report
    assert f"#{second['id']}" in body_text(digest)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE reports SET created_at = now() - interval '3 hours',"
                " deadline_at = now() - interval '1 minute' WHERE id = :id"
            ),
            {"id": second["id"]},
        )
    told = text("SELECT count(*) FROM messages WHERE report_id = :id AND kind = 'deadline_missed'")
    tick()
    deadline = time.monotonic() + 30
    with engine.connect() as conn:
        while conn.execute(told, {"id": second["id"]}).scalar() == 0:
            assert time.monotonic() < deadline, "no deadline warning"
            time.sleep(0.2)
            conn.rollback()
    tick()
    time.sleep(2)  # a second warning, if there were one, would be stored by now
    with engine.connect() as conn:
        assert conn.execute(told, {"id": second["id"]}).scalar() == 1  # once, to its one address
    set_unit_addresses(client, admin, unit)


def test_the_worker_command_and_the_unit_cli(database_url: str) -> None:
    from tests.conftest import cli

    shown = cli(
        database_url,
        "units",
        "notify",
        "urenco",
        "--add",
        "cli@unit.example",
        "--digest-hours",
        "2",
    )
    assert shown.returncode == 0, shown.stderr
    assert "cli@unit.example" in shown.stdout and "every 2 hours" in shown.stdout
    shown = cli(database_url, "units", "notify", "urenco", "--remove", "cli@unit.example", "--each")
    assert "cli@unit.example" not in shown.stdout and "each report" in shown.stdout
    assert (
        Path(__file__).parent.parent.joinpath("run.sh").read_text().count("geo-service worker") == 1
    )


def test_transfers_reopenings_and_an_officials_own_copy_reach_the_unit(
    client: httpx.Client,
    admin: dict[str, str],
    engine: Engine,
    inbox: tuple[Inbox, int],
    worker: Any,
) -> None:
    box, _ = inbox
    mine = official(client, engine, "urenco", name="urenco-copy")
    on = {"email": "me@urenco.example", "lang": "en", "enabled": True}
    assert client.put("/api/v1/me/notifications", json=on, headers=mine).json()["enabled"]
    created = file_report(client, email="mover@example.org")
    assert created["unit"]["code"] == "urenco"
    box.wait("me@urenco.example", report=created["id"])
    set_unit_addresses(client, admin, "so-xay-dung", "build@unit.example")
    moved(client, mine, created["id"], "transferred", unit="so-xay-dung", reason="not_competent")
    transferred = box.wait("build@unit.example", report=created["id"])[0]
    assert transferred["Subject"].startswith(f"Report #{created['id']} transferred to your unit")
    told = box.wait("mover@example.org", 2)[1]
    assert told["Subject"] == f"Report #{created['id']} was transferred to another unit"
    builder = official(client, engine, "so-xay-dung", name="builder")
    moved(client, builder, created["id"], "resolved", public_comment="Xong.")
    box.wait("mover@example.org", 3)
    reopened = client.post(f"/api/v1/track/{created['token']}/reopen", json={"comment": "Vẫn còn"})
    assert reopened.status_code == 200, reopened.text
    again = box.wait("build@unit.example", 2, report=created["id"])[1]
    assert again["Subject"].startswith(f"Report #{created['id']} reopened by its reporter")
    off = {"enabled": False}
    assert not client.put("/api/v1/me/notifications", json=off, headers=mine).json()["enabled"]
    later = file_report(client, email="after-off@example.org")
    box.wait("after-off@example.org")
    assert box.to("me@urenco.example", later["id"]) == []
    set_unit_addresses(client, admin, "so-xay-dung")


def test_an_unconfirmed_alert_expires(
    client: httpx.Client, engine: Engine, database_url: str, inbox: tuple[Inbox, int], worker: Any
) -> None:
    box, _ = inbox
    asked = client.post("/api/v1/alerts", json={"email": "late@example.org", "ward": "00070"})
    assert asked.status_code == 202, asked.text
    confirm_link = link(box.wait("late@example.org")[0], r"http://\S+/alerts/confirm/\S+")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE subscriptions SET created_at = now() - interval '8 days' WHERE id = :id"),
            {"id": asked.json()["id"]},
        )
    assert httpx.get(confirm_link).status_code == 404  # too late to confirm
    settings = Settings(database_url=database_url)

    async def tick() -> dict[str, int]:
        e = make_async_engine(settings)
        try:
            return await run_tick(e, settings)
        finally:
            await e.dispose()

    assert in_a_thread(tick)["expired"] >= 1
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM subscriptions WHERE id = :id"), {"id": asked.json()["id"]}
        ).scalar()
    assert left == 0
