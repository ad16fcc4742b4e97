"""Who hears what, as people set it: units' addresses and digests (admins, the CLI), an
official's own copy, area alerts (double opt-in) and their one-click end, webhooks, and the
messages that failed for good (list, retry, discard)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, field_validator
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import Conflict, Invalid, NotFound, field_message
from geo_service.i18n import N_
from geo_service.notify import texts
from geo_service.notify.outbox import DELIVER, WELCOME, address_sql, defer
from geo_service.reports import Latitude, Longitude

Lang = Literal["vi", "en"]
WebhookEvent = Literal[texts.WEBHOOK_EVENTS]  # type: ignore[valid-type]


class UnitAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    lang: Lang = "vi"


class UnitNotifications(BaseModel):
    """A unit's addresses, and each report as it comes (``digest_hours`` null) or a digest
    every N hours."""

    model_config = ConfigDict(extra="forbid")
    addresses: list[UnitAddress] = Field(default=[], max_length=50)
    digest_hours: int | None = Field(default=None, ge=1, le=168)


async def _unit_id(conn: AsyncConnection, code: str) -> int:
    unit = (await conn.execute(text("SELECT id FROM units WHERE code = :c"), {"c": code})).scalar()
    if unit is None:
        raise NotFound(N_("no unit {code!r}", code=code), "unit")
    return int(unit)


async def unit_notifications(conn: AsyncConnection, code: str) -> UnitNotifications:
    unit = await _unit_id(conn, code)
    rows = await conn.execute(
        text(
            "SELECT email, lang FROM unit_contacts WHERE unit_id = :u AND user_id IS NULL"
            " AND active ORDER BY id"
        ),
        {"u": unit},
    )
    hours = await conn.execute(
        text("SELECT digest_hours FROM unit_notify_settings WHERE unit_id = :u"), {"u": unit}
    )
    addresses = [UnitAddress(email=r.email, lang=r.lang) for r in rows]
    return UnitNotifications(addresses=addresses, digest_hours=hours.scalar())


async def set_unit_notifications(
    conn: AsyncConnection, code: str, wanted: UnitNotifications
) -> UnitNotifications:
    """The unit's addresses become exactly these (officials' own copies are theirs)."""
    unit = await _unit_id(conn, code)
    emails = [str(a.email) for a in wanted.addresses]
    await conn.execute(
        text(
            "DELETE FROM unit_contacts WHERE unit_id = :u AND user_id IS NULL"
            " AND NOT (email = ANY (CAST(:emails AS text[])))"
        ),
        {"u": unit, "emails": emails},
    )
    for a in wanted.addresses:
        await conn.execute(
            text(
                "INSERT INTO unit_contacts (unit_id, email, lang) VALUES (:u, :e, :l)"
                " ON CONFLICT (unit_id, email) DO UPDATE SET lang = EXCLUDED.lang, active = true"
            ),
            {"u": unit, "e": str(a.email), "l": a.lang},
        )
    await conn.execute(
        text(
            "INSERT INTO unit_notify_settings (unit_id, digest_hours) VALUES (:u, :h)"
            " ON CONFLICT (unit_id) DO UPDATE SET digest_hours = EXCLUDED.digest_hours"
        ),
        {"u": unit, "h": wanted.digest_hours},
    )
    return await unit_notifications(conn, code)


class MyCopy(BaseModel):
    """An official's own copy of their unit's mail."""

    model_config = ConfigDict(extra="forbid")
    email: EmailStr | None = None
    lang: Lang = "vi"
    enabled: bool


async def my_copy(conn: AsyncConnection, user_id: int) -> MyCopy:
    row = (
        await conn.execute(
            text("SELECT email, lang, active FROM unit_contacts WHERE user_id = :u"), {"u": user_id}
        )
    ).first()
    if row is None:
        return MyCopy(enabled=False)
    return MyCopy(email=row.email, lang=row.lang, enabled=row.active)


async def set_my_copy(
    conn: AsyncConnection, user_id: int, unit_id: int | None, wanted: MyCopy
) -> MyCopy:
    if unit_id is None:
        raise Conflict(N_("only an official of a unit gets the unit's mail"), "enabled")
    current = await my_copy(conn, user_id)
    email = wanted.email or current.email
    if email is None:
        raise Invalid(field_message("email", N_("is required to turn the copy on")), "email")
    await conn.execute(text("DELETE FROM unit_contacts WHERE user_id = :u"), {"u": user_id})
    await conn.execute(
        text(
            "INSERT INTO unit_contacts (unit_id, email, lang, user_id, active)"
            " VALUES (:unit, :e, :l, :u, :on)"
            " ON CONFLICT (unit_id, email) DO UPDATE SET user_id = EXCLUDED.user_id,"
            " lang = EXCLUDED.lang, active = EXCLUDED.active"
        ),
        {"unit": unit_id, "e": str(email), "l": wanted.lang, "u": user_id, "on": wanted.enabled},
    )
    return await my_copy(conn, user_id)


class AlertIn(BaseModel):
    """Alerts for new reports in a ward, or within ``radius_m`` of a point; optionally one
    category group. Nothing is sent before the link in the confirmation mail is followed."""

    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    ward: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    radius_m: float = Field(default=500, ge=50, le=5000)
    group: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @field_validator("ward", "group", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


ALERT_SQL = text(
    f"""
    WITH addr AS ({address_sql("(SELECT 1) AS one")})
    INSERT INTO subscriptions (address_id, kind, ward_code, center, radius_m, group_code)
    SELECT addr.id, 'area', CAST(:ward AS text),
           CASE WHEN CAST(:ward AS text) IS NULL
                THEN ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
           CASE WHEN CAST(:ward AS text) IS NULL THEN CAST(:radius AS float8) END,
           CAST(:group AS text)
      FROM addr
    RETURNING id
    """
)


async def ward_name(conn: AsyncConnection, code: str, field: str) -> str:
    """A ward of the active boundary set by its code, or Invalid naming ``field``."""
    name = (
        await conn.execute(
            text(
                "SELECT a.name FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
                " WHERE b.active AND b.level = 'ward' AND a.code = :c"
            ),
            {"c": code},
        )
    ).scalar()
    if name is None:
        message = N_("{code!r} is not a ward of the city", code=code)
        raise Invalid(field_message(field, message), field)
    return str(name)


async def check_group(conn: AsyncConnection, group: str | None) -> None:
    """Nothing, or a category group that exists (else Invalid naming ``group``)."""
    if group is None:
        return
    found = await conn.execute(text("SELECT 1 FROM category_groups WHERE code = :c"), {"c": group})
    if found.first() is None:
        message = N_("{code!r} is not a category group", code=group)
        raise Invalid(field_message("group", message), "group")


async def _check_alert(conn: AsyncConnection, alert: AlertIn) -> None:
    if alert.ward is None and (alert.lat is None or alert.lon is None):
        field = "ward" if alert.lat is None and alert.lon is None else "lat"
        message = N_("give a ward, or lat and lon with a radius")
        raise Invalid(field_message(field, message), field)
    if alert.ward is not None:
        await ward_name(conn, alert.ward, "ward")
    await check_group(conn, alert.group)


async def subscribe_alert(conn: AsyncConnection, alert: AlertIn, lang: str) -> int:
    """An unconfirmed alert and the job that mails its confirmation link, in one
    transaction; its id."""
    await _check_alert(conn, alert)
    params = {
        "email": str(alert.email),
        "lang": lang,
        "ward": alert.ward,
        "lat": alert.lat,
        "lon": alert.lon,
        "radius": alert.radius_m,
        "group": alert.group,
    }
    sub = int((await conn.execute(ALERT_SQL, params)).scalar_one())
    await defer(conn, WELCOME, [{"subscription_id": sub}])
    return sub


async def confirm_alert(conn: AsyncConnection, token: str, days: int) -> int:
    """Follow the confirmation link: the alert counts from now on. Its address's id."""
    row = (
        await conn.execute(
            text(
                "UPDATE subscriptions SET confirmed_at = coalesce(confirmed_at, now())"
                " WHERE confirm_token = :t AND kind = 'area' AND ended_at IS NULL"
                " AND (confirmed_at IS NOT NULL"
                "      OR created_at >= now() - make_interval(days => :days))"
                " RETURNING address_id"
            ),
            {"t": token, "days": days},
        )
    ).first()
    if row is None:
        raise NotFound(N_("this confirmation link is unknown, used up or expired"), "token")
    return int(row.address_id)


FOLLOWED_SQL = text(
    """
    SELECT s.id, s.kind, s.report_id, s.ward_code, s.radius_m, s.confirmed_at,
           round(CAST(ST_Y(s.center) AS numeric), 5) AS lat,
           round(CAST(ST_X(s.center) AS numeric), 5) AS lon,
           s.group_code, w.name AS ward_name, c.name AS category_name,
           c.name_en AS category_name_en, g.name AS group_name, g.name_en AS group_name_en
      FROM subscriptions s
      LEFT JOIN reports r ON r.id = s.report_id
      LEFT JOIN categories c ON c.id = r.category_id
      LEFT JOIN areas w ON w.code = s.ward_code
                       AND w.set_id = (SELECT id FROM boundary_sets
                                        WHERE active AND level = 'ward')
      LEFT JOIN category_groups g ON g.code = s.group_code
     WHERE s.address_id = :a AND s.ended_at IS NULL
     ORDER BY s.id
    """
)


async def followed(conn: AsyncConnection, address_id: int) -> dict[str, Any]:
    """The address (as its owner sees it) and everything it still follows."""
    email = (
        await conn.execute(
            text("SELECT email FROM mail_addresses WHERE id = :a"), {"a": address_id}
        )
    ).scalar()
    if email is None:
        raise NotFound(N_("this link is unknown"), "address")
    rows = (await conn.execute(FOLLOWED_SQL, {"a": address_id})).mappings().all()
    return {"email": email, "subscriptions": [dict(r) for r in rows]}


async def stop(conn: AsyncConnection, address_id: int, which: int | None) -> int:
    """End one subscription of the address (``None``: all of them); how many ended."""
    result = await conn.execute(
        text(
            "UPDATE subscriptions SET ended_at = now() WHERE address_id = :a"
            " AND ended_at IS NULL AND (CAST(:s AS bigint) IS NULL OR id = :s)"
        ),
        {"a": address_id, "s": which},
    )
    return result.rowcount


async def stop_unit_copy(conn: AsyncConnection, contact_id: int) -> str:
    """A unit's address that asked to stop (one click in a mail); the address."""
    email = (
        await conn.execute(
            text("UPDATE unit_contacts SET active = false WHERE id = :c RETURNING email"),
            {"c": contact_id},
        )
    ).scalar()
    if email is None:
        raise NotFound(N_("this link is unknown"), "address")
    return str(email)


class WebhookIn(BaseModel):
    """Another system to tell: an HTTPS URL (plain HTTP only to this machine, for a relay),
    the unit whose reports it hears of (none: the whole city's) and the events it wants."""

    model_config = ConfigDict(extra="forbid")
    url: HttpUrl
    unit: str | None = Field(default=None, max_length=64)
    events: list[WebhookEvent] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _https(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https" and value.host not in ("127.0.0.1", "localhost", "[::1]"):
            raise ValueError("must be an https:// URL")
        return value


async def create_webhook(conn: AsyncConnection, hook: WebhookIn) -> dict[str, Any]:
    """Register a webhook; the answer shows its signing secret, this once."""
    unit = await _unit_id(conn, hook.unit) if hook.unit else None
    secret = secrets.token_urlsafe(32)
    row = (
        await conn.execute(
            text(
                "INSERT INTO webhooks (unit_id, url, secret, events)"
                " VALUES (:u, :url, :s, CAST(:e AS text[])) RETURNING id, created_at"
            ),
            {"u": unit, "url": str(hook.url), "s": secret, "e": list(dict.fromkeys(hook.events))},
        )
    ).one()
    return {"id": row.id, **hook.model_dump(mode="json"), "secret": secret, "active": True}


WEBHOOKS_SQL = """
    SELECT w.id, w.url, u.code AS unit, w.events, w.active, w.created_at
      FROM webhooks w LEFT JOIN units u ON u.id = w.unit_id
"""


async def webhooks(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(text(WEBHOOKS_SQL + " ORDER BY w.id"))
    return [dict(r) for r in rows.mappings()]


async def disable_webhook(conn: AsyncConnection, hook_id: int) -> None:
    done = await conn.execute(
        text("UPDATE webhooks SET active = false WHERE id = :id"), {"id": hook_id}
    )
    if done.rowcount == 0:
        raise NotFound(N_("no webhook with id {id}", id=hook_id), "id")


MESSAGES_SQL = """
    SELECT m.id, m.channel, m.kind, m.report_id, m.webhook_id, m.recipient, m.subject,
           m.status, m.attempts, m.last_error, m.created_at, m.next_at, m.sent_at,
           coalesce((SELECT json_agg(json_build_object('at', t.at, 'ok', t.ok,
                                                       'detail', t.detail,
                                                       'duration_ms', t.duration_ms)
                                     ORDER BY t.id)
                       FROM message_attempts t WHERE t.message_id = m.id), '[]') AS log
      FROM messages m
"""


async def messages(
    conn: AsyncConnection, *, status: str | None, webhook: int | None, limit: int
) -> list[dict[str, Any]]:
    """The delivery log, newest first, with every attempt."""
    rows = await conn.execute(
        text(
            MESSAGES_SQL + " WHERE (CAST(:s AS text) IS NULL OR m.status = :s)"
            " AND (CAST(:w AS int) IS NULL OR m.webhook_id = :w) ORDER BY m.id DESC LIMIT :n"
        ),
        {"s": status, "w": webhook, "n": limit},
    )
    return [dict(r) for r in rows.mappings()]


async def retry(conn: AsyncConnection, message_id: int) -> None:
    """A failed message gets a fresh set of attempts, starting now."""
    row = (
        await conn.execute(
            text(
                "UPDATE messages SET status = 'pending', attempts = 0, next_at = NULL"
                " WHERE id = :id AND status = 'failed' RETURNING address_id"
            ),
            {"id": message_id},
        )
    ).first()
    if row is None:
        raise Conflict(N_("message {id} has not failed: nothing to retry", id=message_id), "id")
    if row.address_id is not None:  # an admin vouches for the address again
        await conn.execute(
            text("UPDATE mail_addresses SET refused_at = NULL WHERE id = :a"), {"a": row.address_id}
        )
    await defer(conn, DELIVER, [{"message_id": message_id}])


async def discard(conn: AsyncConnection, message_id: int) -> None:
    done = await conn.execute(
        text("UPDATE messages SET status = 'discarded' WHERE id = :id AND status = 'failed'"),
        {"id": message_id},
    )
    if done.rowcount == 0:
        raise Conflict(N_("message {id} has not failed: nothing to discard", id=message_id), "id")
