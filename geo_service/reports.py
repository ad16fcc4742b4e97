"""Reports: validate what a citizen sends, route it in the same statement that stores it, and
read reports back as GeoJSON without the reporter's contact details."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import Invalid, NotFound, field_message
from geo_service.geolocate import Refusal
from geo_service.i18n import DEFAULT_LANG, N_
from geo_service.notify.outbox import address_sql
from geo_service.photos import StoredPhoto
from geo_service.report_query import Channel, Priority, ReportFilter, Status
from geo_service.report_query.projections import FEATURE_SQL, FROM_SQL

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]


class ReportIn(BaseModel):
    """What a citizen sends. Contact fields are optional: anonymous reports are welcome."""

    model_config = ConfigDict(extra="forbid")

    category: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: Annotated[Text, StringConstraints(min_length=1, max_length=4000)]
    lat: Latitude | None = Field(default=None, description="Required unless a photo has GPS.")
    lon: Longitude | None = Field(default=None, description="Required unless a photo has GPS.")
    address: Annotated[Text, StringConstraints(max_length=300)] | None = None
    priority: Priority = "normal"
    channel: Literal["web", "app"] = Field(
        default="web", description="web: our web app; app: another app using this API"
    )
    name: Annotated[Text, StringConstraints(max_length=120)] | None = None
    phone: Annotated[Text, StringConstraints(pattern=r"^\+?[0-9 .()-]{6,20}$")] | None = None
    email: EmailStr | None = None


class ReportCreated(BaseModel):
    id: int
    token: str = Field(description="Secret tracking token: keep it to follow the report.")
    tracking_url: str
    category: str
    status: Status
    ward: dict[str, str]
    unit: dict[str, str]
    deadline_at: dt.datetime
    created_at: dt.datetime
    location_source: Literal["pin", "photo", "address"]
    photos: list[str]
    possible_duplicates: list[dict[str, Any]] = Field(
        default=[],
        description="Open reports of the same kind nearby: the citizen may +1 one of them "
        "(POST /api/v1/reports/{id}/plus-one) instead.",
    )


# The outbox, in the same statement: the reporter's address follows the report, and the
# first event is queued for the worker (geo_service.notify), so a refused report tells nobody.
REPORTER_OUTBOX_SQL = f"""
         addr AS ({address_sql("new")}),
         sub AS (
           INSERT INTO subscriptions (address_id, kind, report_id, confirmed_at)
           SELECT addr.id, 'report', new.id, now() FROM addr, new),
         told AS (
           SELECT gs_defer('fan_out', array_agg(jsonb_build_object('event_id', ev.id)))
             FROM ev)"""

CREATE_SQL = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
         loc AS (SELECT l.* FROM pt, gs_locate(pt.g, :snap) l),
         cat AS (SELECT id, code FROM categories WHERE code = :category AND active),
         new AS (
           INSERT INTO reports (category_id, description, address, geom, location_source,
                                boundary_set_id, ward_code, snapped_m, unit_id, priority,
                                deadline_at, reporter_name, reporter_phone, reporter_email,
                                source, channel, attributes, media_url, open311_key_id)
           SELECT cat.id, :description, :address, pt.g, :location_source, loc.set_id,
                  loc.code, loc.snapped_m, gs_route(cat.id, pt.g, loc.code, :priority),
                  :priority, gs_deadline(now(), cat.id), :name, :phone, :email, :source,
                  :channel, CAST(:attributes AS jsonb), :media_url, :open311_key_id
             FROM pt, loc, cat
            WHERE loc.code IS NOT NULL
           RETURNING *),
         ev AS (
           INSERT INTO report_events (report_id, at, actor, to_status, unit_id)
           SELECT id, created_at, 'citizen', status, unit_id FROM new
           RETURNING id),
         ph AS (
           INSERT INTO report_photos (report_id, file_name, width, height, bytes)
           SELECT new.id, p.file_name, p.width, p.height, p.bytes
             FROM new, unnest(CAST(:photo_files AS text[]), CAST(:photo_widths AS int[]),
                              CAST(:photo_heights AS int[]), CAST(:photo_bytes AS int[]))
                       AS p(file_name, width, height, bytes)),
         {NOTIFY_CTES}
    SELECT (SELECT count(*) FROM told) AS told,
           loc.in_city, EXISTS (SELECT 1 FROM cat) AS category_ok,
           new.id, new.token, new.status, new.deadline_at, new.created_at,
           new.location_source, cat.code AS category,
           a.code AS ward_code, a.name AS ward_name, b.name AS boundary_set,
           u.code AS unit_code, u.name AS unit_name
      FROM loc
      LEFT JOIN new ON true
      LEFT JOIN cat ON cat.id = new.category_id
      LEFT JOIN areas a ON a.id = loc.area_id
      LEFT JOIN boundary_sets b ON b.id = new.boundary_set_id
      LEFT JOIN units u ON u.id = new.unit_id
    """.replace("{NOTIFY_CTES}", REPORTER_OUTBOX_SQL)
)


def position(
    data: ReportIn, photos: list[StoredPhoto], located_by_address: bool
) -> tuple[float, float, str]:
    """Where the report is (lat, lon) and how we know: the pin (or the address it was
    derived from), else the first photo's GPS position."""
    if data.lat is not None and data.lon is not None:
        return data.lat, data.lon, "address" if located_by_address else "pin"
    if data.lat is not None or data.lon is not None:
        missing = "lon" if data.lon is None else "lat"
        message = N_("is required when the other coordinate is given")
        raise Invalid(field_message(missing, message), missing)
    located = next((p.gps for p in photos if p.gps), None)
    if located is None:
        message = N_("lat and lon are required (no photo carried a GPS position)")
        raise Invalid(message, "lat")
    return located[0], located[1], "photo"


async def create_report(
    conn: AsyncConnection,
    data: ReportIn,
    photos: list[StoredPhoto],
    *,
    snap_m: float,
    city: str,
    source: str = "api",
    located_by_address: bool = False,
    attributes: Mapping[str, str | list[str]] | None = None,
    media_url: str | None = None,
    open311_key_id: int | None = None,
    channel: Channel | None = None,
    lang: str = DEFAULT_LANG,
) -> ReportCreated:
    """Store and route one report with its photos and first event, or refuse it (Invalid).

    It is one SQL statement, so it is atomic even on an autocommit connection: a report is
    never stored without its event or photos, nor they without it. Open311 requests come
    through here too, with answers to the category's extra questions (``attributes``, checked
    by the caller), a linked photo and the client's key; a position the caller derived from
    a written address is marked as such. A reporter's e-mail address (``lang``: the
    language they wrote in) follows the report from then on."""
    lat, lon, location_source = position(data, photos, located_by_address)
    row = (
        await conn.execute(
            CREATE_SQL,
            {
                "lat": lat,
                "lon": lon,
                "snap": snap_m,
                "category": data.category,
                "description": data.description,
                "address": data.address,
                "location_source": location_source,
                "priority": data.priority,
                "name": data.name,
                "phone": data.phone,
                "email": str(data.email) if data.email else None,
                "source": source,
                "channel": channel or data.channel,
                "attributes": json.dumps(dict(attributes or {}), ensure_ascii=False),
                "media_url": media_url,
                "open311_key_id": open311_key_id,
                "photo_files": [p.file_name for p in photos],
                "photo_widths": [p.width for p in photos],
                "photo_heights": [p.height for p in photos],
                "photo_bytes": [p.bytes for p in photos],
                "lang": lang,
            },
        )
    ).one()
    if not row.category_ok:
        message = N_("{code!r} is not a known category", code=data.category)
        raise Invalid(field_message("category", message), "category")
    if row.id is None:
        raise Refusal(in_city=bool(row.in_city)).error(lat, lon, city, snap_m)
    return ReportCreated(
        id=row.id,
        token=row.token,
        tracking_url=f"/r/{row.token}",
        category=row.category,
        status=row.status,
        ward={"code": row.ward_code, "name": row.ward_name, "boundary_set": row.boundary_set},
        unit={"code": row.unit_code, "name": row.unit_name},
        deadline_at=row.deadline_at,
        created_at=row.created_at,
        location_source=row.location_source,
        photos=[f"/media/photos/{p.file_name}" for p in photos],
    )


GET_SQL = text(f"SELECT CAST({FEATURE_SQL} AS text) AS body {FROM_SQL} WHERE r.id = :id")


async def get_report_json(conn: AsyncConnection, report_id: int) -> str:
    """One report as a GeoJSON Feature (ReportFeature): never its reporter's details."""
    body = (await conn.execute(GET_SQL, {"id": report_id})).scalar()
    if body is None:
        raise NotFound(N_("no report with id {id}", id=report_id), "id")
    return str(body)


LIST_SQL = f"""
    WITH page AS (
      SELECT row_number() OVER () AS rn, feature FROM (
        SELECT {FEATURE_SQL} AS feature {FROM_SQL}
         WHERE {{where}}
         ORDER BY r.created_at DESC, r.id DESC
         LIMIT :limit OFFSET :offset) q)
    SELECT coalesce(json_agg(feature ORDER BY rn) FILTER (WHERE rn <= :page_size),
                    '[]'::json)::text AS features,
           count(*) AS n
      FROM page
"""


async def list_reports_json(
    conn: AsyncConnection, f: ReportFilter, *, page: int, page_size: int
) -> tuple[str, bool]:
    """One page of the reports a filter selects, newest first, as the features of a GeoJSON
    FeatureCollection, and whether more pages follow. Duplicates are listed too (what
    citizens sent), unless the filter says otherwise."""
    f = await f.resolve(conn)
    where, params = f.where()
    params.update(limit=page_size + 1, offset=(page - 1) * page_size, page_size=page_size)
    row = (await conn.execute(text(LIST_SQL.format(where=where)), params)).one()
    return row.features, row.n > page_size
