"""Delivering one message: at least once, and at most once per success (its row is locked
while it is sent and marked sent in the same transaction). A failure is logged as an attempt
and retried later with a doubling wait; a permanent refusal (an SMTP 5xx, a webhook's 410)
or the last attempt leaves it failed, for an admin to retry or discard."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.config import Settings
from geo_service.notify import mail
from geo_service.notify.outbox import DELIVER, defer

LOCK_SQL = text(
    """
    SELECT m.*, a.refused_at, w.secret, w.active AS webhook_active
      FROM messages m
      LEFT JOIN mail_addresses a ON a.id = m.address_id
      LEFT JOIN webhooks w ON w.id = m.webhook_id
     WHERE m.id = :id
       FOR UPDATE OF m
    """
)
# The attempt and its outcome in one round trip.
ATTEMPT_SQL = text(
    """
    WITH attempt AS (
      INSERT INTO message_attempts (message_id, ok, detail, duration_ms)
      VALUES (:id, :ok, :detail, :ms))
    UPDATE messages SET status = :status, attempts = attempts + 1, last_error = :error,
                        sent_at = CASE WHEN :status = 'sent' THEN now() END,
                        next_at = CAST(:next_at AS timestamptz)
     WHERE id = :id
    """
)
DONE_SQL = text(
    """
    UPDATE messages SET status = :status, attempts = attempts + :tried, last_error = :error,
                        sent_at = CASE WHEN :status = 'sent' THEN now() END,
                        next_at = CAST(:next_at AS timestamptz)
     WHERE id = :id
    """
)
REFUSED_SQL = text(
    "UPDATE mail_addresses SET refused_at = now(), refused_reason = :reason WHERE id = :id"
)


class Permanent(Exception):
    """Trying again would not help."""


def sign(secret: str, body: bytes) -> str:
    """The X-GS-Signature-256 header: HMAC-SHA256 of the exact body with the hook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(settings: Settings, message: Any) -> str:
    body = message.body_text.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "geo_service-webhooks",
        "X-GS-Event": message.kind,
        "X-GS-Delivery": str(message.id),
        "X-GS-Signature-256": sign(message.secret, body),
    }
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_s) as client:
        answer = await client.post(message.recipient, content=body, headers=headers)
    if answer.status_code == 410:
        raise Permanent("HTTP 410: the receiver is gone")
    if not answer.is_success:
        raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
    return f"HTTP {answer.status_code}"


async def _send(settings: Settings, message: Any) -> str:
    if message.channel == "webhook":
        return await post_webhook(settings, message)
    try:
        return await mail.send(settings, mail.compose(settings, message))
    except mail.Refused as exc:
        raise Permanent(str(exc)) from exc


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` tries: base, 2×base, 4×base..."""
    return float(
        min(settings.notify_retry_max_s, settings.notify_retry_base_s * 2 ** (attempts - 1))
    )


async def deliver(conn: AsyncConnection, settings: Settings, message_id: int) -> str:
    """Send one message if it still waits to be sent; what became of it."""
    m = (await conn.execute(LOCK_SQL, {"id": message_id})).first()
    if m is None or m.status != "pending":
        return "gone" if m is None else m.status
    if m.refused_at is not None or (m.channel == "webhook" and not m.webhook_active):
        await conn.execute(DONE_SQL, _done(m.id, "skipped", 0, "no longer wanted"))
        return "skipped"
    started = time.perf_counter()
    try:
        detail, ok, permanent = await _send(settings, m), True, False
    except Permanent as exc:
        detail, ok, permanent = str(exc), False, True
    except Exception as exc:  # a network error, a 4xx, a timeout: try again later
        detail, ok, permanent = f"{type(exc).__name__}: {exc}", False, False
    attempt = {"ok": ok, "detail": detail[:1000], "ms": (time.perf_counter() - started) * 1000}
    if ok:
        await conn.execute(ATTEMPT_SQL, {**_done(m.id, "sent", 1, None), **attempt})
        return "sent"
    tried = m.attempts + 1
    if permanent or tried >= settings.notify_max_attempts:
        await conn.execute(ATTEMPT_SQL, {**_done(m.id, "failed", 1, detail[:1000]), **attempt})
        if permanent and m.address_id is not None:
            await conn.execute(REFUSED_SQL, {"id": m.address_id, "reason": detail[:500]})
        return "failed"
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=backoff(settings, tried))
    await conn.execute(ATTEMPT_SQL, {**_done(m.id, "pending", 1, detail[:1000], at), **attempt})
    await defer(conn, DELIVER, [{"message_id": m.id}], at)
    return "retry"


def _done(
    message_id: int, status: str, tried: int, error: str | None, at: dt.datetime | None = None
) -> dict[str, Any]:
    return {"id": message_id, "status": status, "tried": tried, "error": error, "next_at": at}
