"""What citizens do with a report after sending it: follow its public timeline with the
secret token, rate the handling once it is resolved, say "me too" (+1) on an open report
instead of filing a duplicate, and find the open reports near a pin before they file one.

The timeline is public: it never holds a name, phone, e-mail or account of anyone, neither
the reporter's nor the officials' (only "citizen", "staff" or "system"), nor internal notes.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import Conflict, Invalid, NotFound, field_message
from geo_service.i18n import DEFAULT_LANG, N_
from geo_service.notify.outbox import address_sql
from geo_service.report_query import OPEN_SQL
from geo_service.report_query.projections import FIELDS, JOINS_SQL, PHOTOS_SQL, PUBLIC_PAGE_FIELDS
from geo_service.workflow import follower_or_unknown

METRES_PER_DEGREE = 111_320.0


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfied: bool
    stars: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class PlusOneIn(BaseModel):
    """Optional: an address to be told, like the reporter, of each public step."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
        | None
    ) = Field(default=None, description="What is still wrong (shown publicly).")


# A report as its public pages show it, with its public timeline (the events whose status
# changed or that carry a reason or an answer): needs ``r`` joined as in JOINS_SQL.
PUBLIC_REPORT_JSON = f"""
    CAST(json_build_object(
             {", ".join(f"'{n}', {FIELDS[n]}" for n in PUBLIC_PAGE_FIELDS)},
             'timeline', coalesce((
               SELECT json_agg(json_build_object(
                        'at', e.at, 'from', e.from_status, 'to', e.to_status, 'by', e.actor,
                        'reason', e.reason, 'comment', e.public_comment,
                        'unit_code', eu.code, 'unit_name', eu.name,
                        'photos', {PHOTOS_SQL.format(where="p.event_id = e.id")})
                      ORDER BY e.at, e.id)
                 FROM report_events e LEFT JOIN units eu ON eu.id = e.unit_id
                WHERE e.report_id = r.id
                  AND (e.from_status IS DISTINCT FROM e.to_status
                       OR e.public_comment IS NOT NULL OR e.reason IS NOT NULL)),
               '[]'::json)) AS text)
"""

TRACK_SQL = text(
    f"""
    WITH who AS (
      SELECT r.id, 'reporter' AS role FROM reports r WHERE r.token = :token
      UNION ALL
      SELECT f.report_id, 'follower' FROM followers f WHERE f.token = :token
      LIMIT 1)
    SELECT who.role, r.status, m.status AS master_status,
           m.closed_at + make_interval(days => :days) AS reopen_until,
           m.closed_at + make_interval(days => :days) >= now() AS reopen_in_time,
           EXISTS (SELECT 1 FROM ratings g WHERE g.report_id = r.id) AS rated,
           {PUBLIC_REPORT_JSON} AS body
      FROM who
      JOIN reports r ON r.id = who.id
      JOIN reports m ON m.id = coalesce(r.duplicate_of, r.id)
      {JOINS_SQL}
    """
)


async def track(conn: AsyncConnection, token: str, *, reopen_days: int) -> dict[str, Any]:
    """The public timeline of the report this token belongs to (a reporter's or a
    follower's token), and what its holder may still do."""
    row = (await conn.execute(TRACK_SQL, {"token": token, "days": reopen_days})).first()
    if row is None:
        raise NotFound(N_("no report has this tracking token"), "token")
    body: dict[str, Any] = json.loads(row.body)
    reporter = row.role == "reporter"
    body["you_are"] = row.role
    body["can_rate"] = reporter and row.status == "resolved" and not row.rated
    body["rated"] = bool(row.rated)
    can_reopen = reporter and row.master_status == "resolved" and bool(row.reopen_in_time)
    body["can_reopen"] = can_reopen
    body["reopen_until"] = row.reopen_until.isoformat() if can_reopen else None
    return body


async def rate(conn: AsyncConnection, token: str, rating: RatingIn) -> dict[str, Any]:
    """Store the reporter's one rating of a resolved report."""
    row = (
        await conn.execute(
            text(
                "SELECT r.id, r.status, EXISTS (SELECT 1 FROM ratings g WHERE g.report_id = r.id)"
                " AS rated FROM reports r WHERE r.token = :token"
            ),
            {"token": token},
        )
    ).first()
    if row is None:
        await follower_or_unknown(conn, token, "rate")
    if row.status != "resolved":
        message = N_(
            "a report can be rated once it is resolved; this one is {status}", status=row.status
        )
        raise Conflict(message, "token")
    stored = (
        await conn.execute(
            text(
                "INSERT INTO ratings (report_id, satisfied, stars, comment)"
                " VALUES (:id, :satisfied, :stars, :comment)"
                " ON CONFLICT (report_id) DO NOTHING RETURNING created_at"
            ),
            {"id": row.id, **rating.model_dump()},
        )
    ).first()
    if row.rated or stored is None:
        raise Conflict(N_("this report has already been rated (once per report)"), "token")
    return {"report_id": row.id, **rating.model_dump(), "created_at": stored.created_at}


# A +1 who left an address follows the report by mail: the address, its subscription and the
# job that sends its first mail, in the same statement (geo_service.notify).
FOLLOWER_OUTBOX_SQL = f"""
    addr AS ({address_sql("f")}),
    sub AS (
      INSERT INTO subscriptions (address_id, kind, report_id, follower_id, confirmed_at)
      SELECT addr.id, 'report', m.id, f.id, now()
        FROM addr, m, f
      RETURNING id),
    told AS (
      SELECT gs_defer('welcome', array_agg(jsonb_build_object('subscription_id', sub.id)))
        FROM sub)"""

PLUS_ONE_SQL = text(
    f"""
    WITH m AS (
      SELECT m.id, m.status, {OPEN_SQL.replace("r.", "m.")} AS open
        FROM reports r JOIN reports m ON m.id = coalesce(r.duplicate_of, r.id)
       WHERE r.id = :id),
    f AS (INSERT INTO followers (report_id) SELECT id FROM m WHERE open RETURNING id, token),
    u AS (UPDATE reports r SET plus_ones = r.plus_ones + 1
            FROM m WHERE r.id = m.id AND m.open RETURNING r.plus_ones),
    {FOLLOWER_OUTBOX_SQL}
    SELECT m.id, m.status, m.open, f.token, u.plus_ones, (SELECT count(*) FROM told) AS told
      FROM m LEFT JOIN f ON true LEFT JOIN u ON true
    """
)


async def plus_one(
    conn: AsyncConnection, report_id: int, email: str | None = None, lang: str = DEFAULT_LANG
) -> dict[str, Any]:
    """Count one more citizen affected by an open report and give them a token to follow it
    (a duplicate's +1 goes to its master); with an address, mail them each public step. One
    statement: atomic on its own."""
    params = {"id": report_id, "email": email, "lang": lang}
    row = (await conn.execute(PLUS_ONE_SQL, params)).first()
    if row is None:
        raise NotFound(N_("no report with id {id}", id=report_id), "id")
    if not row.open:
        message = N_(
            "report {id} is {status}: only open reports can be supported",
            id=row.id,
            status=row.status,
        )
        raise Conflict(message, "id")
    return {
        "report_id": row.id,
        "token": row.token,
        "tracking_url": f"/r/{row.token}",
        "plus_ones": row.plus_ones,
    }


async def nearby(
    conn: AsyncConnection,
    *,
    lat: float,
    lon: float,
    category: str | None,
    days: int,
    limit: int = 20,
    exclude: int | None = None,
) -> dict[str, Any]:
    """Open reports of the same category group within the category's duplicate radius
    (without a category: any group, the widest radius), filed in the last ``days`` days,
    nearest first: the possible duplicates a citizen may +1 instead of reporting again."""
    if category is not None:
        cat = (
            await conn.execute(
                text(
                    "SELECT group_code, duplicate_radius_m FROM categories"
                    " WHERE code = :code AND active"
                ),
                {"code": category},
            )
        ).first()
        if cat is None:
            message = N_("{code!r} is not a known category", code=category)
            raise Invalid(field_message("category", message), "category")
        group, radius = cat.group_code, float(cat.duplicate_radius_m)
    else:
        group = None
        widest = text("SELECT coalesce(max(duplicate_radius_m), 50) FROM categories")
        radius = float((await conn.execute(widest)).scalar_one())
    degrees = radius / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    rows = (
        await conn.execute(
            text(
                f"""
                WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
                SELECT coalesce(json_agg(x ORDER BY x.distance_m, x.id), '[]'::json)::text
                  FROM (SELECT r.id, c.code AS category, c.name AS category_name,
                               c.name_en AS category_name_en, r.status, r.description,
                               r.address, r.created_at, r.plus_ones,
                               round(ST_Y(r.geom)::numeric, 6) AS lat,
                               round(ST_X(r.geom)::numeric, 6) AS lon,
                               round(ST_Distance(r.geom::geography, pt.g::geography)::numeric, 1)
                                 AS distance_m
                          FROM reports r JOIN categories c ON c.id = r.category_id, pt
                         WHERE {OPEN_SQL}
                           AND r.geom && ST_Expand(pt.g, :degrees)
                           AND ST_DWithin(r.geom::geography, pt.g::geography, :radius)
                           AND r.created_at >= now() - make_interval(days => :days)
                           AND (CAST(:group AS text) IS NULL OR c.group_code = :group)
                           AND r.id IS DISTINCT FROM CAST(:exclude AS bigint)
                         ORDER BY distance_m, r.id
                         LIMIT :limit) x
                """
            ),
            {
                "lat": lat,
                "lon": lon,
                "degrees": degrees,
                "radius": radius,
                "days": days,
                "group": group,
                "limit": limit,
                "exclude": exclude,
            },
        )
    ).scalar_one()
    return {"radius_m": radius, "days": days, "group": group, "reports": json.loads(rows)}


async def possible_duplicates(
    conn: AsyncConnection, report_id: int, *, days: int
) -> list[dict[str, Any]]:
    """For a report just filed: the open reports it may duplicate (see nearby)."""
    row = (
        await conn.execute(
            text(
                "SELECT ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, c.code FROM reports r"
                " JOIN categories c ON c.id = r.category_id WHERE r.id = :id"
            ),
            {"id": report_id},
        )
    ).one()
    found = await nearby(
        conn, lat=row.lat, lon=row.lon, category=row.code, days=days, limit=5, exclude=report_id
    )
    reports: list[dict[str, Any]] = found["reports"]
    return reports
