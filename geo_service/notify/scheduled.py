"""What the worker does on its own, every minute: deadline warnings (2 working hours before,
and once missed), the units' digests, confirmation mails, and dropping alerts nobody
confirmed."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.config import Settings
from geo_service.notify import links, texts
from geo_service.notify.fanout import Cause, To, mail_row, report_public, say, store
from geo_service.notify.mail import render_body
from geo_service.report_query import OPEN_SQL

# Deadlines missed more than a day ago are history (the queue shows them overdue): turning
# notifications on must not mail a unit its whole backlog.
ALARMS_SQL = text(
    f"""
    WITH due AS (
      SELECT r.id, CASE WHEN r.deadline_at <= now() THEN 'deadline_missed'
                        ELSE 'deadline_soon' END AS kind
        FROM reports r
       WHERE {OPEN_SQL}
         AND r.deadline_at > now() - interval '1 day'
         AND r.deadline_at <= gs_add_working_hours(now(), 2)),
    new AS (
      INSERT INTO report_alarms (report_id, kind) SELECT id, kind FROM due
      ON CONFLICT DO NOTHING RETURNING report_id, kind)
    SELECT gs_defer('alarm', array_agg(jsonb_build_object('report_id', report_id,
                                                          'kind', kind))),
           count(*) AS n
      FROM new
    """
)
DIGESTS_DUE_SQL = text(
    """
    UPDATE unit_notify_settings s SET last_digest_at = now()
     WHERE s.digest_hours IS NOT NULL
       AND (s.last_digest_at IS NULL
            OR s.last_digest_at + make_interval(hours => s.digest_hours) <= now())
    RETURNING s.unit_id
    """
)
HELD_SQL = text(
    """
    UPDATE messages m SET status = 'digested'
      FROM unit_contacts c JOIN units u ON u.id = c.unit_id
     WHERE m.unit_contact_id = c.id AND c.unit_id = :unit AND m.status = 'held'
    RETURNING m.id, m.unit_contact_id, m.recipient, m.payload, c.lang, u.name, u.name_en
    """
)
# Messages a crash left unsent (their sender died between the commit that kept them and
# the send) or whose retry job is long overdue: queued again; deliver() skips what was sent.
SWEEP_SQL = text(
    """
    SELECT count(*) AS n,
           gs_defer('deliver', array_agg(jsonb_build_object('message_id', id) ORDER BY id))
      FROM (SELECT id FROM messages
             WHERE status = 'pending'
               AND coalesce(next_at, created_at) < now() - interval '2 minutes'
             ORDER BY id LIMIT 10000) m
    """
)
EXPIRE_SQL = text(
    """
    DELETE FROM subscriptions
     WHERE kind = 'area' AND confirmed_at IS NULL
       AND created_at < now() - make_interval(days => :days)
    """
)
SUBSCRIPTION_SQL = text(
    """
    SELECT s.id, s.kind, s.report_id, s.address_id, s.confirm_token, s.confirmed_at,
           s.ward_code, s.radius_m, ST_Y(s.center) AS lat, ST_X(s.center) AS lon,
           s.group_code, a.email, a.lang, f.token, w.name AS ward_name,
           g.name AS group_name, g.name_en AS group_name_en
      FROM subscriptions s
      JOIN mail_addresses a ON a.id = s.address_id
      LEFT JOIN followers f ON f.id = s.follower_id
      LEFT JOIN areas w ON w.code = s.ward_code
                       AND w.set_id = (SELECT id FROM boundary_sets
                                        WHERE active AND level = 'ward')
      LEFT JOIN category_groups g ON g.code = s.group_code
     WHERE s.id = :id AND s.ended_at IS NULL AND a.refused_at IS NULL
    """
)


async def raise_alarms(conn: AsyncConnection) -> int:
    """Deadline warnings due now, each once per report, queued for the worker."""
    return int((await conn.execute(ALARMS_SQL)).one().n)


async def send_digests(conn: AsyncConnection, settings: Settings) -> int:
    """One mail per address of each unit whose digest is due, listing what was held."""
    rows: list[dict[str, Any]] = []
    for unit_id in (await conn.execute(DIGESTS_DUE_SQL)).scalars().all():
        held = (await conn.execute(HELD_SQL, {"unit": unit_id})).all()
        for contact, items in groupby(sorted(held, key=lambda h: (h.unit_contact_id, h.id)),
                                      key=lambda h: h.unit_contact_id):  # fmt: skip
            rows.append(_digest(settings, contact, list(items)))
    return len(await store(conn, rows))


def _digest(settings: Settings, contact: int, items: list[Any]) -> dict[str, Any]:
    first = items[0]
    lang = first.lang
    unit = first.name if lang == "vi" else first.name_en
    subject = say(texts.DIGEST_SUBJECT, lang, unit=unit, n=len(items))
    body = render_body(
        "digest",
        lang,
        {
            "unit": unit,
            "items": [i.payload for i in items],
            "queue": settings.public_url + "/staff",
        },
    )
    return {
        "channel": "mail",
        "kind": "digest",
        "dedupe_key": f"digest:{contact}:{items[-1].id}",
        "unit_contact_id": contact,
        "recipient": first.recipient,
        "subject": subject,
        "body_text": body.text,
        "body_html": body.html,
        "payload": {"items": [i.id for i in items]},
        "status": "pending",
        "headers": {"Content-Language": lang},
    }


async def sweep(conn: AsyncConnection) -> int:
    """Queue again what should have been sent by now (see SWEEP_SQL)."""
    return int((await conn.execute(SWEEP_SQL)).one().n)


async def expire_unconfirmed(conn: AsyncConnection, settings: Settings) -> int:
    """Alerts never confirmed are dropped after ALERT_CONFIRM_DAYS."""
    return (await conn.execute(EXPIRE_SQL, {"days": settings.alert_confirm_days})).rowcount


async def welcome(conn: AsyncConnection, settings: Settings, subscription_id: int) -> list[int]:
    """The first mail of a new subscription: a +1's "you follow it", an alert's confirmation
    link (nothing else is sent to that alert until it is followed)."""
    s = (await conn.execute(SUBSCRIPTION_SQL, {"id": subscription_id})).first()
    if s is None or (s.confirmed_at is not None and s.kind == "area"):
        return []
    key = await links.signing_key(conn)
    stop = settings.public_url + links.stop_path(key, s.address_id, s.id)
    manage = settings.public_url + links.manage_path(key, s.address_id)
    if s.kind == "report":
        report = await report_public(conn, s.report_id)
        if report is None or s.token is None:
            return []
        to = To("follower", s.email, s.lang, f"{settings.public_url}/r/{s.token}", stop, manage)
        cause = Cause("follow", f"welcome:{s.id}", report, 0)
        row = mail_row(cause, to, texts.FOLLOW_SUBJECT, texts.FOLLOW_INTRO)
        row.update(dedupe_key=f"welcome:{s.id}", address_id=s.address_id)
        return await store(conn, [row], queue=False)
    return await store(conn, [_confirmation(settings, s, stop)], queue=False)


def _confirmation(settings: Settings, s: Any, stop: str) -> dict[str, Any]:
    vi = s.lang == "vi"
    group = (s.group_name if vi else s.group_name_en) if s.group_code else None
    context = {
        "confirm_link": f"{settings.public_url}/alerts/confirm/{s.confirm_token}",
        "ward": s.ward_name or s.ward_code,
        "radius_m": s.radius_m,
        "lat": s.lat,
        "lon": s.lon,
        "group": group,
        "days": settings.alert_confirm_days,
    }
    body = render_body("alert_confirm", s.lang, context)
    subject = say(texts.CONFIRM_SUBJECT, s.lang)
    return {
        "channel": "mail",
        "kind": "alert_confirm",
        "dedupe_key": f"welcome:{s.id}",
        "address_id": s.address_id,
        "recipient": s.email,
        "subject": subject,
        "body_text": body.text,
        "body_html": body.html,
        "payload": json.loads(json.dumps(context)),
        "status": "pending",
        "headers": {"Content-Language": s.lang},
    }
