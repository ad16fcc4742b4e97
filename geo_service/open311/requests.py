"""Service requests: our reports as Open311 reads them, and a POSTed request turned into a
report through the very code that stores and routes reports from our own API.

Status is the spec's two-valued one: a report is closed once resolved or rejected, open in
every other state (a duplicate's row carries its master's status: the workflow keeps it so).
``status_notes`` is the latest public comment of the report's timeline;
internal notes and the reporter's contact details are never part of a request.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import gazetteer
from geo_service.errors import describe_validation_errors
from geo_service.open311.formats import Open311Error
from geo_service.profile import Attribute, Profile
from geo_service.queue import CLOSED_STATUSES
from geo_service.reports import ReportIn, create_report, parse_bbox

_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_STRING_MAX = 500
_MEDIA_URL_MAX = 2000
_RADIUS_MAX_M = 50_000.0


# --- reading ---------------------------------------------------------------------------


def w3c_sql(column: str) -> str:
    """SQL for a W3C date-time of a timestamptz in the time zone ``:tz``, to the second, with
    its offset (what formats.w3c_datetime writes). Postgres formats a list's 3,000 dates in
    a fraction of the time Python takes, in its own process."""
    local = f"({column} AT TIME ZONE :tz)"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    return (
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN {offset} < interval '0' THEN '-' ELSE '+' END"
        f" || to_char(abs(extract(epoch FROM {offset})) * interval '1 second', 'HH24:MI')"
    )


REQUEST_COLUMNS = f"""
    r.id, r.status, c.code AS service_code, c.name AS service_name, r.description,
    u.name AS agency, {w3c_sql("r.created_at")} AS requested,
    {w3c_sql("r.updated_at")} AS updated,
    {w3c_sql("r.deadline_at")} AS expected,
    'Đã chuyển đến ' || u.name || '; hạn xử lý '
      || to_char(r.deadline_at AT TIME ZONE :tz, 'HH24:MI DD/MM/YYYY') || '.' AS notice,
    r.ward_code, a.full_name AS ward_name, ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon,
    r.media_url,
    (SELECT p.file_name FROM report_photos p
      WHERE p.report_id = r.id AND p.event_id IS NULL ORDER BY p.id LIMIT 1) AS photo,
    (SELECT e.public_comment FROM report_events e
      WHERE e.report_id = r.id AND coalesce(e.public_comment, '') <> ''
      ORDER BY e.at DESC, e.id DESC LIMIT 1) AS status_notes
"""

REQUEST_FROM = """
      FROM reports r
      JOIN categories c ON c.id = r.category_id
      JOIN units u ON u.id = r.unit_id
      LEFT JOIN areas a ON a.set_id = r.boundary_set_id AND a.code = r.ward_code
"""

NOTES_SQL = text(
    f"""
    SELECT e.report_id, {w3c_sql("e.at")} AS at, e.to_status,
           coalesce(e.public_comment, '') AS comment
      FROM report_events e
     WHERE e.report_id = ANY(:ids)
     ORDER BY e.report_id, e.at, e.id
    """
)


@dataclass(frozen=True)
class Query:
    """GET requests' arguments, checked; empty arguments were already dropped."""

    ids: list[int] | None = None
    service_codes: list[str] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: frozenset[str] = frozenset()
    page: int = 1
    page_size: int = 1000
    near: tuple[float, float, float] | None = None  # lat, lon, radius in metres
    bbox: tuple[float, float, float, float] | None = None
    extensions: bool = False


def parse_datetime(value: str, field: str, tz: dt.tzinfo) -> dt.datetime:
    """A W3C date or date-time. A '+' left unencoded in a URL arrives as a space and is put
    back; a time without an offset is read in the city's time zone."""
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(
            400, f"{field} {value!r} is not a W3C date-time such as 2025-07-01T08:00:00+07:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _float(value: str, field: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{field} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise Open311Error(400, f"{field} must be a finite number")
    return number


def _int(value: str, field: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise Open311Error(400, f"{field} must be a whole number from {low} to {high}")
    return int(value)


def parse_query(
    args: Mapping[str, str],
    *,
    tz: dt.tzinfo,
    max_requests: int,
    max_days: int,
    now: dt.datetime,
) -> Query:
    """Check GET requests' arguments: 400 naming the argument for anything wrong."""
    extensions = args.get("extensions", "false").lower()
    if extensions not in ("true", "false"):
        raise Open311Error(400, "extensions must be true or false")
    page = _int(args["page"], "page", 1, 100_000) if "page" in args else 1
    size = args.get("page_size")
    page_size = _int(size, "page_size", 1, max_requests) if size else max_requests
    common: dict[str, Any] = {
        "extensions": extensions == "true",
        "page": page,
        "page_size": page_size,
    }
    if "service_request_id" in args:  # overrides every other filter
        ids = []
        for part in args["service_request_id"].split(","):
            part = part.strip()
            if not part.isdigit() or not 1 <= int(part) < 2**63:
                raise Open311Error(400, f"service_request_id {part!r} is not a request id")
            ids.append(int(part))
        if len(ids) > max_requests:
            raise Open311Error(400, f"service_request_id: at most {max_requests} ids")
        return Query(ids=ids, **common)

    codes = None
    if "service_code" in args:
        codes = sorted({c.strip() for c in args["service_code"].split(",") if c.strip()})
    statuses: frozenset[str] = frozenset()
    if "status" in args:
        statuses = frozenset(s.strip().lower() for s in args["status"].split(",") if s.strip())
        wrong = statuses - {"open", "closed"}
        if wrong:
            raise Open311Error(400, f"status {sorted(wrong)[0]!r}: use open, closed or both")

    start = parse_datetime(args["start_date"], "start_date", tz) if "start_date" in args else None
    end = parse_datetime(args["end_date"], "end_date", tz) if "end_date" in args else None
    span = dt.timedelta(days=max_days)
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - span
    if end is None:
        end = start + span
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > span:
        raise Open311Error(400, f"start_date and end_date are more than {max_days} days apart")

    near = None
    if "lat" in args or "long" in args:
        if "lat" not in args or "long" not in args:
            raise Open311Error(400, "lat and long go together")
        lat, lon = _float(args["lat"], "lat"), _float(args["long"], "long")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Open311Error(400, "lat must be within -90..90 and long within -180..180")
        radius = _float(args["radius"], "radius") if "radius" in args else 500.0
        if not 0 < radius <= _RADIUS_MAX_M:
            raise Open311Error(400, f"radius must be more than 0 and at most {_RADIUS_MAX_M:.0f}")
        near = (lat, lon, radius)
    elif "radius" in args:
        raise Open311Error(400, "radius needs lat and long")
    bbox = parse_bbox(args["bbox"]) if "bbox" in args else None
    return Query(
        service_codes=codes,
        start=start,
        end=end,
        statuses=statuses,
        near=near,
        bbox=bbox,
        **common,
    )


async def _known_codes(conn: AsyncConnection, codes: Sequence[str]) -> None:
    sql = text("SELECT code FROM categories WHERE code = ANY(:c)")
    known = set((await conn.execute(sql, {"c": codes})).scalars())
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Open311Error(400, f"service_code {unknown[0]!r} not found")


async def find_requests(conn: AsyncConnection, q: Query, tz: str) -> list[Any]:
    """The reports the query selects, newest first, dates in the time zone ``tz``."""
    where: list[str] = []
    params: dict[str, Any] = {
        "limit": q.page_size,
        "offset": (q.page - 1) * q.page_size,
        "tz": tz,
    }
    if q.ids is not None:
        where.append("r.id = ANY(:ids)")
        params["ids"] = q.ids
    else:
        where.append("r.created_at >= :start AND r.created_at < :end")
        params.update(start=q.start, end=q.end)
        if q.service_codes:
            await _known_codes(conn, q.service_codes)
            where.append("c.code = ANY(:codes)")
            params["codes"] = q.service_codes
        if q.statuses == {"open"}:
            where.append("r.status <> ALL(:closed)")
        elif q.statuses == {"closed"}:
            where.append("r.status = ANY(:closed)")
        params["closed"] = list(CLOSED_STATUSES)
        if q.near:
            lat, lon, radius = q.near
            where.append(
                "ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
                "::geography, :radius)"
            )
            params.update(lat=lat, lon=lon, radius=radius)
        if q.bbox:
            where.append("r.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
            params.update(dict(zip(("x1", "y1", "x2", "y2"), q.bbox, strict=True)))
    sql = text(
        f"SELECT {REQUEST_COLUMNS} {REQUEST_FROM} WHERE {' AND '.join(where)}"
        " ORDER BY r.created_at DESC, r.id DESC LIMIT :limit OFFSET :offset"
    )
    params.setdefault("closed", list(CLOSED_STATUSES))
    return list((await conn.execute(sql, params)).all())


async def find_request(conn: AsyncConnection, request_id: int, tz: str) -> Any:
    sql = text(f"SELECT {REQUEST_COLUMNS} {REQUEST_FROM} WHERE r.id = :id")
    row = (await conn.execute(sql, {"id": request_id, "tz": tz})).first()
    if row is None:
        raise Open311Error(404, f"service_request_id {request_id} not found")
    return row


async def find_token(conn: AsyncConnection, token: str) -> int:
    found = (
        await conn.execute(text("SELECT id FROM reports WHERE token = :t"), {"t": token})
    ).scalar()
    if found is None:
        raise Open311Error(404, "token not found")
    return int(found)


def service_notice(unit_name: str, deadline: dt.datetime, tz: dt.tzinfo) -> str:
    """What will happen: who handles the request and by when (GET writes the same in SQL,
    ``notice`` in REQUEST_COLUMNS)."""
    return f"Đã chuyển đến {unit_name}; hạn xử lý {deadline.astimezone(tz):%H:%M %d/%m/%Y}."


def request_document(
    row: Any, *, city: str, media_base: str, notes: list[Any] | None
) -> dict[str, Any]:
    """One report as the spec's request, in the spec's field order."""
    media = row.media_url or (f"{media_base}/{row.photo}" if row.photo else None)
    out: dict[str, Any] = {
        "service_request_id": row.id,
        "status": "closed" if row.status in CLOSED_STATUSES else "open",
        "status_notes": row.status_notes,
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": row.description,
        "agency_responsible": row.agency,
        "service_notice": row.notice,
        "requested_datetime": row.requested,
        "updated_datetime": row.updated,
        "expected_datetime": row.expected,
        "address": f"{row.ward_name}, {city}" if row.ward_name else city,
        "address_id": None,
        "zipcode": None,
        "lat": round(row.lat, 7),
        "long": round(row.lon, 7),
        "media_url": media,
    }
    if notes is not None:  # extensions=true
        out["ward_code"] = row.ward_code
        out["ward"] = row.ward_name
        out["notes"] = [
            {"datetime": n.at, "status": n.to_status, "description": n.comment} for n in notes
        ]
    return out


async def notes_of(conn: AsyncConnection, ids: list[int], tz: str) -> dict[int, list[Any]]:
    """The public timeline of each report: status changes and public comments, oldest first
    (the ``notes`` extension). Internal notes are not selected."""
    timeline: dict[int, list[Any]] = {i: [] for i in ids}
    for row in await conn.execute(NOTES_SQL, {"ids": ids, "tz": tz}):
        timeline[row.report_id].append(row)
    return timeline


# --- writing ---------------------------------------------------------------------------


def parse_attributes(
    form: Sequence[tuple[str, str]], questions: list[Attribute], service_code: str, tz: dt.tzinfo
) -> dict[str, str | list[str]]:
    """``attribute[CODE]`` and ``attribute[CODE][]`` checked against the service definition:
    known codes, required ones present, values of the right type or from the list."""
    by_code = {a.code: a for a in questions}
    given: dict[str, list[str]] = {}
    for key, value in form:
        m = _ATTRIBUTE_KEY.match(key)
        if not m:
            continue
        code = m.group(1)
        if code not in by_code:
            raise Open311Error(400, f"attribute[{code}] is not a question of {service_code}")
        if value.strip():
            given.setdefault(code, []).append(value.strip())
    answers: dict[str, str | list[str]] = {}
    for a in questions:
        values = given.get(a.code, [])
        field = f"attribute[{a.code}]"
        if not values:
            if a.required:
                raise Open311Error(400, f"{field} is required ({a.description})")
            continue
        if a.datatype != "multivaluelist" and len(values) > 1:
            raise Open311Error(400, f"{field} takes one value")
        keys = {v.key for v in a.values}
        if a.datatype in ("singlevaluelist", "multivaluelist"):
            for v in values:
                if v not in keys:
                    raise Open311Error(
                        400, f"{field}: {v!r} is not one of {', '.join(sorted(keys))}"
                    )
            multi = a.datatype == "multivaluelist"
            answers[a.code] = list(dict.fromkeys(values)) if multi else values[0]
            continue
        value = values[0]
        if a.datatype == "number":
            _float(value, field)
        elif a.datatype == "datetime":
            value = parse_datetime(value, field, tz).isoformat()
        elif a.datatype == "string" and len(value) > _STRING_MAX:
            raise Open311Error(400, f"{field} is longer than {_STRING_MAX} characters")
        elif a.datatype == "text" and len(value) > 4000:
            raise Open311Error(400, f"{field} is longer than 4000 characters")
        answers[a.code] = value
    return answers


@dataclass(frozen=True)
class Created:
    id: int
    notice: str
    account_id: str | None


async def create_request(
    conn: AsyncConnection,
    form: Sequence[tuple[str, str]],
    *,
    profile: Profile,
    key_id: int,
    snap_m: float,
    description_max: int,
) -> Created:
    """A POSTed request, checked field by field, then stored and routed by the reports code
    (``create_report``), exactly as a report from our own API."""
    fields: dict[str, str] = {}
    for key, value in form:
        if _ATTRIBUTE_KEY.match(key):
            continue
        if key in fields and value.strip() != fields[key]:
            raise Open311Error(400, f"{key} is given more than once")
        if value.strip():
            fields[key] = value.strip()
    code = fields.get("service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided")
    row = (
        await conn.execute(
            text("SELECT name FROM categories WHERE code = :c AND active"), {"c": code}
        )
    ).first()
    if row is None:
        raise Open311Error(400, f"service_code {code!r} not found")
    tz = ZoneInfo(profile.city.timezone)
    questions = next((c.attributes for c in profile.categories if c.code == code), [])
    answers = parse_attributes(form, questions, code, tz)

    description = fields.get("description", row.name)
    if len(description) > description_max:
        raise Open311Error(
            400, f"description is {len(description):,} characters; at most {description_max:,}"
        )
    media_url = fields.get("media_url")
    if media_url and (
        not re.match(r"^https?://[^\s/]+", media_url) or len(media_url) > _MEDIA_URL_MAX
    ):
        raise Open311Error(400, "media_url must be an http(s) URL of at most 2000 characters")

    lat = lon = None
    by_address = False
    address = fields.get("address_string")
    if "lat" in fields or "long" in fields:
        if "lat" not in fields or "long" not in fields:
            raise Open311Error(400, "lat and long go together")
        lat, lon = _float(fields["lat"], "lat"), _float(fields["long"], "long")
    elif address:
        place = await gazetteer.resolve(conn, address, profile.gazetteer)
        lat, lon, by_address = place.lat, place.lon, True
    elif "address_id" in fields:
        raise Open311Error(
            400, "address_id is not used by this server: send lat and long or address_string"
        )
    else:
        raise Open311Error(400, "location was not provided: send lat and long or address_string")

    name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p) or None
    try:
        data = ReportIn.model_validate(
            {
                "category": code,
                "description": description,
                "lat": lat,
                "lon": lon,
                "address": address,
                "name": name,
                "phone": fields.get("phone"),
                "email": fields.get("email"),
            }
        )
    except ValidationError as exc:
        errors = describe_validation_errors(list(exc.errors()))
        renamed = {"lon": "long", "address": "address_string", "name": "first_name/last_name"}
        raise Open311Error(
            400,
            "; ".join(f"{renamed.get(e['field'], e['field'])}: {e['message']}" for e in errors),
        ) from None
    created = await create_report(
        conn,
        data,
        [],
        snap_m=snap_m,
        city=profile.city.name,
        source="open311",
        located_by_address=by_address,
        attributes=answers,
        media_url=media_url,
        open311_key_id=key_id,
    )
    notice = service_notice(created.unit["name"], created.deadline_at, tz)
    return Created(created.id, notice, fields.get("account_id"))
