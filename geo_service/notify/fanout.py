"""From a report event to messages: who must hear of it, in which words, by which way.

Each message is rendered here, once, in its recipient's language and stored in ``messages``
with a key unique to its cause and recipient, so a fan-out run twice (a retried job) adds
nothing; each new message gets its own delivery job, in the same transaction. A unit that
chose a digest gets its messages held until the digest collects them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.config import Settings
from geo_service.i18n import Message
from geo_service.notify import links, texts
from geo_service.notify.mail import render_body
from geo_service.report_query.projections import FROM_SQL, PUBLIC_PAGE_FIELDS, json_object

EVENT_SQL = text(
    """
    SELECT e.id, e.report_id, e.from_status, e.to_status, e.reason, e.public_comment,
           e.unit_id, r.token
      FROM report_events e JOIN reports r ON r.id = e.report_id
     WHERE e.id = :id
    """
)
# What a message may say about a report: the public projection, never contact details.
REPORT_SQL = text(
    f"SELECT CAST({json_object(PUBLIC_PAGE_FIELDS)} AS text) AS body {FROM_SQL} WHERE r.id = :id"
)
UNIT_SQL = text(
    """
    SELECT c.id, c.email, c.lang, s.digest_hours IS NOT NULL AS digest, u.name, u.name_en
      FROM units u
      JOIN unit_contacts c ON c.unit_id = u.id AND c.active
      LEFT JOIN unit_notify_settings s ON s.unit_id = u.id
     WHERE u.id = :unit
     ORDER BY c.id
    """
)
# A report's followers: its reporter and +1s, and those of its duplicates (which follow it).
FOLLOWERS_SQL = text(
    """
    SELECT s.id, s.address_id, a.email, a.lang, coalesce(f.token, r.token) AS token,
           s.follower_id IS NULL AND r.id = :id AS reporter, s.follower_id IS NULL AS own
      FROM subscriptions s
      JOIN mail_addresses a ON a.id = s.address_id AND a.refused_at IS NULL
      JOIN reports r ON r.id = s.report_id
      LEFT JOIN followers f ON f.id = s.follower_id
     WHERE s.kind = 'report' AND s.ended_at IS NULL AND (r.id = :id OR r.duplicate_of = :id)
     ORDER BY s.id
    """
)
ALERTS_SQL = text(
    """
    SELECT DISTINCT ON (a.id) s.id, s.address_id, a.email, a.lang
      FROM reports r
      JOIN categories c ON c.id = r.category_id
      JOIN subscriptions s ON s.kind = 'area' AND s.ended_at IS NULL
                          AND s.confirmed_at IS NOT NULL
                          AND (s.group_code IS NULL OR s.group_code = c.group_code)
                          AND (s.ward_code = r.ward_code
                               OR ST_DWithin(CAST(s.center AS geography),
                                             CAST(r.geom AS geography), s.radius_m))
      JOIN mail_addresses a ON a.id = s.address_id AND a.refused_at IS NULL
     WHERE r.id = :id
       AND NOT EXISTS (SELECT 1 FROM subscriptions o
                        WHERE o.report_id = r.id AND o.address_id = s.address_id)
     ORDER BY a.id, s.id
    """
)
WEBHOOKS_SQL = text(
    """
    SELECT w.id, w.url FROM webhooks w
     WHERE w.active AND (w.unit_id IS NULL OR w.unit_id = :unit) AND :kind = ANY (w.events)
     ORDER BY w.id
    """
)
STORE_SQL = text(
    """
    WITH m AS (
      INSERT INTO messages (channel, kind, dedupe_key, report_id, address_id, unit_contact_id,
                            webhook_id, recipient, subject, body_text, body_html, headers,
                            payload, status)
      SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
               channel text, kind text, dedupe_key text, report_id bigint, address_id bigint,
               unit_contact_id int, webhook_id int, recipient text, subject text,
               body_text text, body_html text, headers jsonb, payload jsonb, status text)
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id, status)
    SELECT CASE WHEN :queue THEN
             gs_defer('deliver', array_agg(jsonb_build_object('message_id', m.id)
                                           ORDER BY m.id) FILTER (WHERE m.status = 'pending'))
           END AS jobs,
           coalesce(array_agg(m.id ORDER BY m.id) FILTER (WHERE m.status = 'pending'),
                    '{}') AS pending
      FROM m
    """
)


def classify(ev: Any) -> str | None:
    """What an event means to the people around the report (None: nothing to tell)."""
    if ev.from_status is None:
        return "created"
    if ev.to_status == "transferred":
        return "transferred"
    if ev.from_status == "transferred":
        return "transferred_in"
    if ev.from_status == "resolved" and ev.to_status == "received":
        return "reopened"
    if ev.from_status == ev.to_status:
        return None
    if ev.to_status == "in_progress":
        return "in_progress" if ev.public_comment else None
    return ev.to_status if ev.to_status in texts.CITIZEN_KINDS else None


@dataclass
class Cause:
    """Why messages go out: the report, what happened to it, and what the event said."""

    kind: str
    key: str  # unique per cause: "event:123", "alarm:45:deadline_missed"
    report: dict[str, Any]
    unit_id: int
    comment: str | None = None
    reason: str | None = None


def say(message: Message, lang: str, **params: Any) -> str:
    """A text of texts.py in ``lang`` with these values in its placeholders."""
    return Message(message.msgid, {**message.params, **params}).render(lang)


@dataclass(frozen=True)
class To:
    """One recipient of a mail about a report, and the links that mail carries."""

    audience: str  # unit, reporter, follower, alert
    email: str
    lang: str
    link: str  # the tracking page (their own token), or the staff page for a unit
    stop: str  # one click: stop these mails
    manage: str | None = None  # everything this address follows
    unit_name: str | None = None


def mail_row(cause: Cause, to: To, subject: Message, intro: Message) -> dict[str, Any]:
    """One mail, rendered in its recipient's language."""
    report, vi = cause.report, to.lang == "vi"
    names = {
        "id": report["id"],
        "category": report["category_name"] if vi else report["category_name_en"],
        "unit": to.unit_name or (report["unit_name"] if vi else report["unit_name_en"]),
    }
    rate = to.audience == "reporter" and cause.kind == "resolved"
    body = render_body(
        "report",
        to.lang,
        {
            "intro": say(intro, to.lang, **names),
            "why": say(texts.WHY[to.audience], to.lang, **names),
            "report": report,
            "names": names,
            "comment": cause.comment,
            "reason": cause.reason,
            "link": to.link,
            "rate_link": to.link + "#rating-form" if rate else None,
            "stop_link": to.stop,
            "manage_link": to.manage,
        },
    )
    subject_text = say(subject, to.lang, **names)
    return {
        "channel": "mail",
        "kind": cause.kind,
        "report_id": report["id"],
        "recipient": to.email,
        "subject": subject_text,
        "body_text": body.text,
        "body_html": body.html,
        "payload": {"report_id": report["id"], "subject": subject_text, "link": to.link},
        "status": "pending",
        "headers": {
            "List-Unsubscribe": f"<{to.stop}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": to.lang,
            "X-GS-Report": str(report["id"]),
        },
    }


async def unit_messages(
    conn: AsyncConnection, settings: Settings, key: bytes, cause: Cause
) -> list[dict[str, Any]]:
    """The unit's addresses: each one a mail now, or held for the unit's digest."""
    if cause.kind not in texts.UNIT_KINDS:
        return []
    rows = []
    for c in (await conn.execute(UNIT_SQL, {"unit": cause.unit_id})).all():
        to = To(
            "unit",
            c.email,
            c.lang,
            link=f"{settings.public_url}/staff/reports/{cause.report['id']}",
            stop=settings.public_url + links.unit_stop_path(key, c.id),
            unit_name=c.name if c.lang == "vi" else c.name_en,
        )
        row = mail_row(cause, to, texts.UNIT_SUBJECTS[cause.kind], texts.UNIT_INTROS[cause.kind])
        row.update(dedupe_key=f"{cause.key}:unit:{c.id}", unit_contact_id=c.id)
        if c.digest:
            row["status"] = "held"
        rows.append(row)
    return rows


async def citizen_messages(
    conn: AsyncConnection, settings: Settings, key: bytes, cause: Cause
) -> list[dict[str, Any]]:
    """The report's reporter and followers (its duplicates' too): each public step; the
    confirmation of a new report goes to its reporter alone."""
    if cause.kind not in texts.CITIZEN_KINDS:
        return []
    rows = []
    for s in (await conn.execute(FOLLOWERS_SQL, {"id": cause.report["id"]})).all():
        if cause.kind == "created" and not s.reporter:
            continue
        to = To(
            "reporter" if s.own else "follower",
            s.email,
            s.lang,
            link=f"{settings.public_url}/r/{s.token}",
            stop=settings.public_url + links.stop_path(key, s.address_id, s.id),
            manage=settings.public_url + links.manage_path(key, s.address_id),
        )
        kind = cause.kind
        row = mail_row(cause, to, texts.CITIZEN_SUBJECTS[kind], texts.CITIZEN_INTROS[kind])
        row.update(dedupe_key=f"{cause.key}:sub:{s.id}", address_id=s.address_id)
        rows.append(row)
    return rows


async def alert_messages(
    conn: AsyncConnection, settings: Settings, key: bytes, cause: Cause
) -> list[dict[str, Any]]:
    """A new report, to everyone with a confirmed alert for its place (and group)."""
    if cause.kind != "created":
        return []
    rows = []
    for s in (await conn.execute(ALERTS_SQL, {"id": cause.report["id"]})).all():
        alert = Cause("alert", cause.key, cause.report, cause.unit_id)
        to = To(
            "alert",
            s.email,
            s.lang,
            link=f"{settings.public_url}/reports/{cause.report['id']}",
            stop=settings.public_url + links.stop_path(key, s.address_id, s.id),
            manage=settings.public_url + links.manage_path(key, s.address_id),
        )
        row = mail_row(alert, to, texts.CITIZEN_SUBJECTS["alert"], texts.CITIZEN_INTROS["alert"])
        row.update(dedupe_key=f"{cause.key}:alert:{s.address_id}", address_id=s.address_id)
        rows.append(row)
    return rows


async def webhook_messages(conn: AsyncConnection, cause: Cause) -> list[dict[str, Any]]:
    """The webhooks of the report's unit and the city's that asked for this kind."""
    params = {"unit": cause.unit_id, "kind": cause.kind}
    rows = []
    for w in (await conn.execute(WEBHOOKS_SQL, params)).all():
        body = {
            "event": cause.kind,
            "report": cause.report,
            "comment": cause.comment,
            "reason": cause.reason,
        }
        rows.append(
            {
                "channel": "webhook",
                "kind": cause.kind,
                "dedupe_key": f"{cause.key}:webhook:{w.id}",
                "report_id": cause.report["id"],
                "webhook_id": w.id,
                "recipient": w.url,
                "body_text": json.dumps(body, ensure_ascii=False, default=str),
                "payload": {"report_id": cause.report["id"]},
                "status": "pending",
                "headers": {},
            }
        )
    return rows


async def store(
    conn: AsyncConnection, rows: list[dict[str, Any]], *, queue: bool = True
) -> list[int]:
    """Keep the new messages (a repeat of one already kept is dropped); the ids of those to
    send now (not held for a digest), each queued for a ``deliver`` job unless ``queue`` is
    false: then the caller sends them itself once this transaction commits, and the worker's
    sweep (scheduled.SWEEP_SQL) queues any that a crash left unsent."""
    if not rows:
        return []
    params = {"rows": json.dumps(rows, default=str), "queue": queue}
    return list((await conn.execute(STORE_SQL, params)).one().pending)


async def report_public(conn: AsyncConnection, report_id: int) -> dict[str, Any] | None:
    body = (await conn.execute(REPORT_SQL, {"id": report_id})).scalar()
    return None if body is None else dict(json.loads(body))


async def tell(conn: AsyncConnection, settings: Settings, cause: Cause) -> list[int]:
    """Everything a cause must make known, kept; the messages to send now (the caller sends
    them once this commits: one job per event, not one more per message)."""
    key = await links.signing_key(conn)
    rows = await unit_messages(conn, settings, key, cause)
    rows += await citizen_messages(conn, settings, key, cause)
    rows += await alert_messages(conn, settings, key, cause)
    rows += await webhook_messages(conn, cause)
    return await store(conn, rows, queue=False)


async def fan_out(conn: AsyncConnection, settings: Settings, event_id: int) -> list[int]:
    """A report event, told to whoever must hear of it (see classify)."""
    ev = (await conn.execute(EVENT_SQL, {"id": event_id})).first()
    kind = None if ev is None else classify(ev)
    if ev is None or kind is None:
        return []
    report = await report_public(conn, ev.report_id)
    if report is None:
        return []
    cause = Cause(kind, f"event:{ev.id}", report, ev.unit_id, ev.public_comment, ev.reason)
    return await tell(conn, settings, cause)


async def alarm(conn: AsyncConnection, settings: Settings, report_id: int, kind: str) -> list[int]:
    """A deadline close or missed, told to the report's unit (and its webhooks)."""
    report = await report_public(conn, report_id)
    if report is None:
        return []
    unit = (
        await conn.execute(text("SELECT unit_id FROM reports WHERE id = :id"), {"id": report_id})
    ).scalar_one()
    return await tell(conn, settings, Cause(kind, f"alarm:{report_id}:{kind}", report, unit))
