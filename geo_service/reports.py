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

from geo_service.errors import ApiError
from geo_service.geolocate import Refusal
from geo_service.photos import StoredPhoto
from geo_service.queue import OVERDUE_SQL

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["received", "acknowledged", "in_progress", "resolved", "rejected", "transferred"]
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


CREATE_SQL = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
         loc AS (SELECT l.* FROM pt, gs_locate(pt.g, :snap) l),
         cat AS (SELECT id, code FROM categories WHERE code = :category AND active),
         new AS (
           INSERT INTO reports (category_id, description, address, geom, location_source,
                                boundary_set_id, ward_code, snapped_m, unit_id, priority,
                                deadline_at, reporter_name, reporter_phone, reporter_email,
                                source, attributes, media_url, open311_key_id)
           SELECT cat.id, :description, :address, pt.g, :location_source, loc.set_id,
                  loc.code, loc.snapped_m, gs_route(cat.id, pt.g, loc.code, :priority),
                  :priority, gs_deadline(now(), cat.id), :name, :phone, :email, :source,
                  CAST(:attributes AS jsonb), :media_url, :open311_key_id
             FROM pt, loc, cat
            WHERE loc.code IS NOT NULL
           RETURNING *),
         ev AS (
           INSERT INTO report_events (report_id, at, actor, to_status, unit_id)
           SELECT id, created_at, 'citizen', status, unit_id FROM new),
         ph AS (
           INSERT INTO report_photos (report_id, file_name, width, height, bytes)
           SELECT new.id, p.file_name, p.width, p.height, p.bytes
             FROM new, unnest(CAST(:photo_files AS text[]), CAST(:photo_widths AS int[]),
                              CAST(:photo_heights AS int[]), CAST(:photo_bytes AS int[]))
                       AS p(file_name, width, height, bytes))
    SELECT loc.in_city, EXISTS (SELECT 1 FROM cat) AS category_ok,
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
    """
)


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
) -> ReportCreated:
    """Store and route one report with its photos and first event, or raise ApiError.

    It is one SQL statement, so it is atomic even on an autocommit connection: a report is
    never stored without its event or photos, nor they without it. Open311 requests come
    through here too, with answers to the category's extra questions (``attributes``, checked
    by the caller), a linked photo and the client's key; a position the caller derived from
    a written address is marked as such."""
    lat, lon, location_source = data.lat, data.lon, "address" if located_by_address else "pin"
    if lat is None or lon is None:
        if lat is not None or lon is not None:
            missing = "lon" if lon is None else "lat"
            raise ApiError(
                422, f"{missing} is required when the other coordinate is given", missing
            )
        located = next((p.gps for p in photos if p.gps), None)
        if located is None:
            raise ApiError(422, "lat and lon are required (no photo carried a GPS position)", "lat")
        (lat, lon), location_source = located, "photo"

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
                "attributes": json.dumps(dict(attributes or {}), ensure_ascii=False),
                "media_url": media_url,
                "open311_key_id": open311_key_id,
                "photo_files": [p.file_name for p in photos],
                "photo_widths": [p.width for p in photos],
                "photo_heights": [p.height for p in photos],
                "photo_bytes": [p.bytes for p in photos],
            },
        )
    ).one()
    if not row.category_ok:
        raise ApiError(422, f"category {data.category!r} is not a known category", "category")
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


# A report as the public sees it: never the reporter's name, phone, e-mail or token.
FEATURE_SQL = f"""
    json_build_object(
      'type', 'Feature',
      'id', r.id,
      'geometry', CAST(ST_AsGeoJSON(r.geom, 6) AS json),
      'properties', json_build_object(
        'id', r.id,
        'category', c.code, 'category_name', c.name, 'category_name_en', c.name_en,
        'group', c.group_code,
        'description', r.description, 'address', r.address,
        'status', r.status, 'priority', r.priority,
        'overdue', {OVERDUE_SQL},
        'reopened', r.reopened, 'plus_ones', r.plus_ones, 'duplicate_of', r.duplicate_of,
        'ward_code', r.ward_code, 'ward_name', a.name, 'boundary_set', b.name,
        'unit_code', u.code, 'unit_name', u.name,
        'created_at', r.created_at, 'updated_at', r.updated_at,
        'deadline_at', r.deadline_at, 'closed_at', r.closed_at,
        'location_source', r.location_source,
        'photos', coalesce((SELECT json_agg('/media/photos/' || p.file_name ORDER BY p.id)
                              FROM report_photos p
                             WHERE p.report_id = r.id AND p.event_id IS NULL), '[]'::json)))
"""

FROM_SQL = """
      FROM reports r
      JOIN categories c ON c.id = r.category_id
      JOIN units u ON u.id = r.unit_id
      JOIN boundary_sets b ON b.id = r.boundary_set_id
      LEFT JOIN areas a ON a.set_id = r.boundary_set_id AND a.code = r.ward_code
"""

GET_SQL = text(f"SELECT CAST({FEATURE_SQL} AS text) AS body {FROM_SQL} WHERE r.id = :id")


async def get_report_json(conn: AsyncConnection, report_id: int) -> str:
    body = (await conn.execute(GET_SQL, {"id": report_id})).scalar()
    if body is None:
        raise ApiError(404, f"no report with id {report_id}", "id")
    return str(body)


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    parts = value.split(",")
    try:
        x1, y1, x2, y2 = (float(p) for p in parts)
    except ValueError:
        raise ApiError(
            422, "bbox must be four numbers: min_lon,min_lat,max_lon,max_lat", "bbox"
        ) from None
    if any(v != v for v in (x1, y1, x2, y2)):
        raise ApiError(422, "bbox must not contain NaN", "bbox")
    if not (-180 <= x1 < x2 <= 180 and -90 <= y1 < y2 <= 90):
        raise ApiError(
            422, "bbox must be min_lon,min_lat,max_lon,max_lat within -180..180, -90..90", "bbox"
        )
    return x1, y1, x2, y2


async def list_reports_json(
    conn: AsyncConnection,
    *,
    bbox: tuple[float, float, float, float] | None,
    categories: list[str],
    group: str | None,
    statuses: list[str],
    ward: str | None,
    page: int,
    page_size: int,
) -> tuple[str, bool]:
    """One page of reports as a GeoJSON FeatureCollection, newest first, and whether more
    pages follow."""
    where = ["true"]
    params: dict[str, object] = {"limit": page_size + 1, "offset": (page - 1) * page_size}
    if bbox:
        where.append("r.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        params.update(dict(zip(("x1", "y1", "x2", "y2"), bbox, strict=True)))
    if categories:
        known = (
            await conn.execute(
                text("SELECT code FROM categories WHERE code = ANY(:c)"), {"c": categories}
            )
        ).scalars()
        unknown = sorted(set(categories) - set(known))
        if unknown:
            raise ApiError(422, f"unknown category {', '.join(unknown)}", "category")
        where.append("c.code = ANY(:categories)")
        params["categories"] = categories
    if group:
        where.append("c.group_code = :group")
        params["group"] = group
    if statuses:
        where.append("r.status = ANY(:statuses)")
        params["statuses"] = statuses
    if ward:
        where.append("r.ward_code = :ward")
        params["ward"] = ward
    sql = text(
        f"""
        WITH page AS (
          SELECT row_number() OVER () AS rn, feature FROM (
            SELECT {FEATURE_SQL} AS feature {FROM_SQL}
             WHERE {" AND ".join(where)}
             ORDER BY r.created_at DESC, r.id DESC
             LIMIT :limit OFFSET :offset) q)
        SELECT coalesce(json_agg(feature ORDER BY rn) FILTER (WHERE rn <= :page_size),
                        '[]'::json)::text AS features,
               count(*) AS n
          FROM page
        """
    )
    params["page_size"] = page_size
    row = (await conn.execute(sql, params)).one()
    return row.features, row.n > page_size
