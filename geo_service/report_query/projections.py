"""What a report looks like to each reader, built once.

``FIELDS`` is every column a reader may get, as one SQL expression each over a report ``r``
joined as in ``FROM_SQL``. A projection is a typed model (the API's response schema) whose
field names pick expressions from ``FIELDS``; the SQL that PostgreSQL turns into JSON is
generated from the model, so a new field is one line in the model (and one in ``FIELDS`` if it
is new), and a model naming an unknown field fails at import. PostgreSQL builds the JSON:
for a page of 500 reports that is several times faster than Python building it.

Never public: the reporter's name, phone, e-mail and token; internal notes. Only the staff
projection (``staff.DETAIL_SQL``) reads those.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from geo_service.report_query.predicates import OVERDUE_SQL
from geo_service.report_query.vocab import Channel, Priority, Status

# The photos a citizen sent with the report (a fix's photos belong to its event).
PHOTOS_SQL = """coalesce((SELECT json_agg('/media/photos/' || p.file_name ORDER BY p.id)
                            FROM report_photos p WHERE {where}), '[]'::json)"""

# The tables every projection may read from, joined to a report ``r``.
JOINS_SQL = """
      JOIN categories c ON c.id = r.category_id
      JOIN units u ON u.id = r.unit_id
      JOIN boundary_sets b ON b.id = r.boundary_set_id
      LEFT JOIN areas a ON a.set_id = r.boundary_set_id AND a.code = r.ward_code
"""
FROM_SQL = f"FROM reports r {JOINS_SQL}"

FIELDS: dict[str, str] = {
    "id": "r.id",
    "version": "r.version",
    "category": "c.code",
    "category_name": "c.name",
    "category_name_en": "c.name_en",
    "group": "c.group_code",
    "description": "r.description",
    "address": "r.address",
    "lat": "round(CAST(ST_Y(r.geom) AS numeric), 6)",
    "lon": "round(CAST(ST_X(r.geom) AS numeric), 6)",
    "status": "r.status",
    "priority": "r.priority",
    "channel": "r.channel",
    "overdue": OVERDUE_SQL,
    "reopened": "r.reopened",
    # People affected: a duplicate's +1s went to its master, so it shows the master's.
    "plus_ones": """CASE WHEN r.duplicate_of IS NULL THEN r.plus_ones
                         ELSE (SELECT m.plus_ones FROM reports m WHERE m.id = r.duplicate_of)
                    END""",
    "duplicate_of": "r.duplicate_of",
    "ward_code": "r.ward_code",
    "ward_name": "a.name",
    "ward_full_name": "a.full_name",
    "boundary_set": "b.name",
    "unit_code": "u.code",
    "unit_name": "u.name",
    "unit_name_en": "u.name_en",
    "assignee_id": "r.assignee_id",
    "created_at": "r.created_at",
    "updated_at": "r.updated_at",
    "deadline_at": "r.deadline_at",
    "closed_at": "r.closed_at",
    "location_source": "r.location_source",
    "photos": PHOTOS_SQL.format(where="p.report_id = r.id AND p.event_id IS NULL"),
    "first_photo": """(SELECT p.file_name FROM report_photos p
                        WHERE p.report_id = r.id AND p.event_id IS NULL ORDER BY p.id LIMIT 1)""",
    "media_url": "r.media_url",
    "attributes": "r.attributes",
    # The latest public answer on the report's timeline.
    "status_notes": """(SELECT e.public_comment FROM report_events e
                         WHERE e.report_id = r.id AND coalesce(e.public_comment, '') <> ''
                         ORDER BY e.at DESC, e.id DESC LIMIT 1)""",
}


def json_object(names: tuple[str, ...] | list[str]) -> str:
    """``json_build_object('id', r.id, ...)`` for these FIELDS."""
    return "json_build_object(" + ", ".join(f"'{n}', {FIELDS[n]}" for n in names) + ")"


def columns(names: dict[str, str]) -> str:
    """``expr AS alias, ...`` for {alias: field name}."""
    return ", ".join(f"{FIELDS[field]} AS {alias}" for alias, field in names.items())


def field_names(model: type[BaseModel], *, leave_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A projection model's fields, each of which must be one of FIELDS."""
    names = tuple(n for n in model.model_fields if n not in leave_out)
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise KeyError(f"{model.__name__}: no SQL for {unknown} in report_query.FIELDS")
    return names


class _Report(BaseModel):
    """What every reader of a report sees."""

    id: int
    category: str
    category_name: str
    category_name_en: str
    description: str
    address: str | None
    status: Status
    overdue: bool = Field(description="Open and past its deadline.")
    reopened: bool
    plus_ones: int = Field(description="Other people who said 'me too'.")
    ward_code: str
    ward_name: str | None
    unit_code: str
    unit_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    deadline_at: dt.datetime
    closed_at: dt.datetime | None
    photos: list[str]


class PublicReport(_Report):
    """A report as anyone may see it: never who sent it or how to reach them."""

    group: str
    priority: Priority
    channel: Channel
    duplicate_of: int | None
    boundary_set: str
    location_source: str


class Point(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=2, description="[lon, lat]")


class ReportFeature(BaseModel):
    """A report as a GeoJSON Feature."""

    type: Literal["Feature"]
    id: int
    geometry: Point
    properties: PublicReport


class Link(BaseModel):
    rel: str
    href: str


class ReportCollection(BaseModel):
    """A page of reports as a GeoJSON FeatureCollection, with links to the pages around."""

    type: Literal["FeatureCollection"]
    page: int
    page_size: int
    links: list[Link]
    features: list[ReportFeature]


FEATURE_SQL = f"""
    json_build_object(
      'type', 'Feature', 'id', r.id,
      'geometry', CAST(ST_AsGeoJSON(r.geom, 6) AS json),
      'properties', {json_object(field_names(PublicReport))})
"""


class QueueItem(_Report):
    """A report as a row of an official's queue."""

    version: int
    lat: float
    lon: float
    priority: Priority
    channel: Channel
    assignee_id: int | None


QUEUE_ITEM_SQL = json_object(field_names(QueueItem))


class PublicPage(_Report):
    """A report's public page and tracking page: the public report with its place and its
    public timeline (``timeline`` is added by citizens.PUBLIC_REPORT_JSON)."""

    lat: float
    lon: float
    unit_name_en: str
    duplicate_of: int | None


PUBLIC_PAGE_FIELDS = field_names(PublicPage)

# A single report on the public map (a grid cell holding only it).
MAP_POINT_FIELDS = ("id", "lat", "lon", "status", "category", "group")

# Exports for QGIS and spreadsheets: no contact details, and not the free text either
# (citizens write names and phone numbers into descriptions and addresses).
EXPORT_FIELDS: dict[str, str] = {
    "id": "id",
    "category": "category",
    "category_group": "group",
    "status": "status",
    "priority": "priority",
    "channel": "channel",
    "ward_code": "ward_code",
    "ward_name": "ward_name",
    "unit_code": "unit_code",
    "created_at": "created_at",
    "deadline_at": "deadline_at",
    "closed_at": "closed_at",
    "overdue": "overdue",
    "lon": "lon",
    "lat": "lat",
}

# Open311's request: the spec's names for our fields.
OPEN311_FIELDS: dict[str, str] = {
    "id": "id",
    "status": "status",
    "service_code": "category",
    "service_name": "category_name",
    "description": "description",
    "agency": "unit_name",
    "ward_code": "ward_code",
    "ward_name": "ward_full_name",
    "lat": "lat",
    "lon": "lon",
    "media_url": "media_url",
    "photo": "first_photo",
    "status_notes": "status_notes",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "deadline_at": "deadline_at",
}


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")
