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

from geo_service import errors, gazetteer
from geo_service.errors import Invalid, NotFound
from geo_service.i18n import N_, Message, gettext
from geo_service.profile import Attribute, Profile
from geo_service.report_query import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Near,
    Period,
    ReportFilter,
    Status,
)
from geo_service.report_query import filter as rf
from geo_service.report_query.projections import FROM_SQL, OPEN311_FIELDS, columns
from geo_service.reports import ReportIn, create_report

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


# The spec's request: our projection's fields under its names (report_query.projections),
# dates as W3C date-times in the city's time zone.
REQUEST_COLUMNS = (
    columns({k: v for k, v in OPEN311_FIELDS.items() if not k.endswith("_at")})
    + ", "
    + ", ".join(
        f"{w3c_sql(f'r.{k}')} AS {name}"
        for k, name in (
            ("created_at", "requested"),
            ("updated_at", "updated"),
            ("deadline_at", "expected"),
        )
    )
    + ", r.deadline_at"
)


def bad(message: Message, field: str) -> Invalid:
    """A request Open311 answers with 400: the field, then what is wrong with it."""
    return Invalid(errors.field_message(field, message), field)


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
    """GET requests' arguments, checked: the report filter they select, and how to page and
    show the result. Empty arguments were already dropped."""

    filter: ReportFilter
    page: int = 1
    page_size: int = 1000
    extensions: bool = False


def parse_datetime(value: str, field: str, tz: dt.tzinfo) -> dt.datetime:
    """A W3C date or date-time. A '+' left unencoded in a URL arrives as a space and is put
    back; a time without an offset is read in the city's time zone."""
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        message = N_(
            "{value!r} is not a W3C date-time such as 2025-07-01T08:00:00+07:00", value=value
        )
        raise bad(message, field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _float(value: str, field: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise bad(N_("{value!r} is not a number", value=value), field) from None
    if not math.isfinite(number):
        raise bad(N_("must be a finite number"), field)
    return number


def _int(value: str, field: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise bad(N_("must be a whole number from {low} to {high}", low=low, high=high), field)
    return int(value)


def _ids(value: str, max_requests: int) -> tuple[int, ...]:
    ids = []
    for part in value.split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) < 2**63:
            message = N_("{value!r} is not a request id", value=part)
            raise bad(message, "service_request_id")
        ids.append(int(part))
    if len(ids) > max_requests:
        raise bad(N_("at most {n} ids", n=max_requests), "service_request_id")
    return tuple(ids)


def _statuses(value: str | None) -> tuple[Status, ...]:
    """The spec's two statuses: closed is resolved or rejected, open every other."""
    if value is None:
        return ()
    asked = {s.strip().lower() for s in value.split(",") if s.strip()}
    wrong = sorted(asked - {"open", "closed"})
    if wrong:
        raise bad(N_("{value!r}: use open, closed or both", value=wrong[0]), "status")
    if asked == {"open"}:
        return OPEN_STATUSES
    return CLOSED_STATUSES if asked == {"closed"} else ()


def _period(args: Mapping[str, str], tz: dt.tzinfo, max_days: int, now: dt.datetime) -> Period:
    """start_date and end_date, by default the last ``max_days`` days, at most that long."""
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
        raise bad(N_("is before start_date"), "end_date")
    if end - start > span:
        message = N_("more than {days} days after start_date", days=max_days)
        raise bad(message, "end_date")
    return Period(start, end)


def _near(args: Mapping[str, str]) -> Near | None:
    """The ``lat``, ``long`` and ``radius`` extension (metres, default 500)."""
    if "lat" not in args and "long" not in args:
        if "radius" in args:
            raise bad(N_("needs lat and long"), "radius")
        return None
    if "lat" not in args or "long" not in args:
        raise bad(N_("lat and long go together"), "lat" if "lat" not in args else "long")
    lat, lon = _float(args["lat"], "lat"), _float(args["long"], "long")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad(N_("lat must be within -90..90 and long within -180..180"), "lat")
    radius = _float(args["radius"], "radius") if "radius" in args else 500.0
    if not 0 < radius <= _RADIUS_MAX_M:
        raise bad(N_("must be more than 0 and at most {max:.0f}", max=_RADIUS_MAX_M), "radius")
    return Near(lat, lon, radius)


def parse_query(
    args: Mapping[str, str],
    *,
    tz: dt.tzinfo,
    max_requests: int,
    max_days: int,
    now: dt.datetime,
) -> Query:
    """Check GET requests' arguments (400 naming the argument for anything wrong) and turn
    them into the report filter every other surface uses."""
    extensions = args.get("extensions", "false").lower()
    if extensions not in ("true", "false"):
        raise bad(N_("must be true or false"), "extensions")
    page = _int(args["page"], "page", 1, 100_000) if "page" in args else 1
    size = args.get("page_size")
    page_size = _int(size, "page_size", 1, max_requests) if size else max_requests
    common: dict[str, Any] = {
        "extensions": extensions == "true",
        "page": page,
        "page_size": page_size,
    }
    # A duplicate is a request a citizen sent: it is listed (and says what it duplicates).
    if "service_request_id" in args:  # overrides every other filter
        ids = _ids(args["service_request_id"], max_requests)
        return Query(ReportFilter(ids=ids, duplicates="include"), **common)
    report_filter = ReportFilter(
        categories=tuple(rf.split([args.get("service_code", "")])),
        statuses=_statuses(args.get("status")),
        period=_period(args, tz, max_days, now),
        near=_near(args),
        bbox=rf.parse_bbox(args["bbox"]) if "bbox" in args else None,
        # Extensions: the same filters as the rest of our API.
        wards=tuple(rf.split([args.get("ward", "")])),
        groups=tuple(rf.split([args.get("group", "")])),
        duplicates="include",
    )
    return Query(report_filter, **common)


async def find_requests(conn: AsyncConnection, q: Query, tz: str) -> list[Any]:
    """The reports the query selects, newest first, dates in the time zone ``tz``."""
    f = await q.filter.resolve(conn, fields={"category": "service_code"})
    where, params = f.where()
    params.update(limit=q.page_size, offset=(q.page - 1) * q.page_size, tz=tz)
    sql = text(
        f"SELECT {REQUEST_COLUMNS} {FROM_SQL} WHERE {where}"
        " ORDER BY r.created_at DESC, r.id DESC LIMIT :limit OFFSET :offset"
    )
    return list((await conn.execute(sql, params)).all())


async def find_request(conn: AsyncConnection, request_id: int, tz: str) -> Any:
    sql = text(f"SELECT {REQUEST_COLUMNS} {FROM_SQL} WHERE r.id = :id")
    row = (await conn.execute(sql, {"id": request_id, "tz": tz})).first()
    if row is None:
        raise NotFound(N_("service_request_id {id} not found", id=request_id), "service_request_id")
    return row


async def find_token(conn: AsyncConnection, token: str) -> int:
    found = (
        await conn.execute(text("SELECT id FROM reports WHERE token = :t"), {"t": token})
    ).scalar()
    if found is None:
        raise NotFound(N_("token not found"), "token")
    return int(found)


def service_notice(unit_name: str, deadline: dt.datetime, tz: dt.tzinfo, lang: str) -> str:
    """What will happen: who handles the request and by when, in the caller's language."""
    when = f"{deadline.astimezone(tz):%H:%M %d/%m/%Y}"
    return gettext(lang, "Sent to {unit}; due by {deadline}.", unit=unit_name, deadline=when)


def request_document(
    row: Any, *, city: str, media_base: str, notes: list[Any] | None, tz: dt.tzinfo, lang: str
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
        "service_notice": service_notice(row.agency, row.deadline_at, tz, lang),
        "requested_datetime": row.requested,
        "updated_datetime": row.updated,
        "expected_datetime": row.expected,
        "address": f"{row.ward_name}, {city}" if row.ward_name else city,
        "address_id": None,
        "zipcode": None,
        "lat": float(row.lat),
        "long": float(row.lon),
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


def _attribute_answers(
    form: Sequence[tuple[str, str]], by_code: Mapping[str, Attribute], service_code: str
) -> dict[str, list[str]]:
    """``attribute[CODE]`` and ``attribute[CODE][]`` values by code, each a known question."""
    given: dict[str, list[str]] = {}
    for key, value in form:
        m = _ATTRIBUTE_KEY.match(key)
        if not m:
            continue
        code = m.group(1)
        if code not in by_code:
            message = N_("not a question of {service}", service=service_code)
            raise bad(message, f"attribute[{code}]")
        if value.strip():
            given.setdefault(code, []).append(value.strip())
    return given


def _answer(a: Attribute, values: list[str], tz: dt.tzinfo) -> str | list[str]:
    """One question's answer checked against its datatype and its list of values."""
    field = f"attribute[{a.code}]"
    if a.datatype != "multivaluelist" and len(values) > 1:
        raise bad(N_("takes one value"), field)
    keys = {v.key for v in a.values}
    if a.datatype in ("singlevaluelist", "multivaluelist"):
        for v in values:
            if v not in keys:
                message = N_(
                    "{value!r} is not one of {keys}", value=v, keys=", ".join(sorted(keys))
                )
                raise bad(message, field)
        return list(dict.fromkeys(values)) if a.datatype == "multivaluelist" else values[0]
    value = values[0]
    if a.datatype == "number":
        _float(value, field)
    elif a.datatype == "datetime":
        value = parse_datetime(value, field, tz).isoformat()
    elif a.datatype == "string" and len(value) > _STRING_MAX:
        raise bad(N_("is longer than {n} characters", n=_STRING_MAX), field)
    elif a.datatype == "text" and len(value) > 4000:
        raise bad(N_("is longer than {n} characters", n=4000), field)
    return value


def parse_attributes(
    form: Sequence[tuple[str, str]], questions: list[Attribute], service_code: str, tz: dt.tzinfo
) -> dict[str, str | list[str]]:
    """``attribute[CODE]`` and ``attribute[CODE][]`` checked against the service definition:
    known codes, required ones present, values of the right type or from the list."""
    given = _attribute_answers(form, {a.code: a for a in questions}, service_code)
    answers: dict[str, str | list[str]] = {}
    for a in questions:
        values = given.get(a.code, [])
        if values:
            answers[a.code] = _answer(a, values, tz)
        elif a.required:
            message = N_("is required ({question})", question=a.description)
            raise bad(message, f"attribute[{a.code}]")
    return answers


@dataclass(frozen=True)
class Created:
    id: int
    notice: str
    account_id: str | None


def _fields(form: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The form's plain fields, stripped; a field given twice must say the same twice."""
    fields: dict[str, str] = {}
    for key, value in form:
        if _ATTRIBUTE_KEY.match(key):
            continue
        if key in fields and value.strip() != fields[key]:
            raise bad(N_("is given more than once"), key)
        if value.strip():
            fields[key] = value.strip()
    return fields


async def _location(
    conn: AsyncConnection, fields: Mapping[str, str], profile: Profile
) -> tuple[float, float, bool]:
    """lat and long, or a point in the ward an address names (and that it was by address)."""
    if "lat" in fields or "long" in fields:
        if "lat" not in fields or "long" not in fields:
            raise bad(N_("lat and long go together"), "lat" if "lat" not in fields else "long")
        return _float(fields["lat"], "lat"), _float(fields["long"], "long"), False
    if fields.get("address_string"):
        place = await gazetteer.resolve(conn, fields["address_string"], profile.gazetteer)
        return place.lat, place.lon, True
    if "address_id" in fields:
        message = N_("is not used by this server: send lat and long or address_string")
        raise bad(message, "address_id")
    raise bad(N_("location was not provided: send lat and long or address_string"), "lat")


def _check_media_url(url: str | None) -> None:
    if url and (not re.match(r"^https?://[^\s/]+", url) or len(url) > _MEDIA_URL_MAX):
        message = N_("must be an http(s) URL of at most {n} characters", n=_MEDIA_URL_MAX)
        raise bad(message, "media_url")


def _report_in(fields: Mapping[str, str], description: str, lat: float, lon: float) -> ReportIn:
    """The fields as our own API's report (the same checks), named as Open311 names them."""
    name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p) or None
    data = {
        "category": fields["service_code"],
        "description": description,
        "lat": lat,
        "lon": lon,
        "address": fields.get("address_string"),
        "name": name,
        "phone": fields.get("phone"),
        "email": fields.get("email"),
    }
    try:
        return ReportIn.model_validate(data)
    except ValidationError as exc:
        renamed = {"lon": "long", "address": "address_string", "name": "first_name"}
        raise errors.invalid(list(exc.errors()), rename=renamed) from None


async def create_request(
    conn: AsyncConnection,
    form: Sequence[tuple[str, str]],
    *,
    profile: Profile,
    key_id: int,
    snap_m: float,
    description_max: int,
    lang: str,
) -> Created:
    """A POSTed request, checked field by field, then stored and routed by the reports code
    (``create_report``), exactly as a report from our own API."""
    fields = _fields(form)
    code = fields.get("service_code")
    if not code:
        raise bad(N_("was not provided"), "service_code")
    sql = text("SELECT name FROM categories WHERE code = :c AND active")
    category = (await conn.execute(sql, {"c": code})).first()
    if category is None:
        raise bad(N_("{code!r} not found", code=code), "service_code")
    tz = ZoneInfo(profile.city.timezone)
    questions = next((c.attributes for c in profile.categories if c.code == code), [])
    answers = parse_attributes(form, questions, code, tz)
    description = fields.get("description", category.name)
    if len(description) > description_max:
        message = N_("{n:,} characters; at most {max:,}", n=len(description), max=description_max)
        raise bad(message, "description")
    _check_media_url(fields.get("media_url"))
    lat, lon, by_address = await _location(conn, fields, profile)
    created = await create_report(
        conn,
        _report_in(fields, description, lat, lon),
        [],
        snap_m=snap_m,
        city=profile.city.name,
        source="open311",
        channel="open311",
        located_by_address=by_address,
        attributes=answers,
        media_url=fields.get("media_url"),
        open311_key_id=key_id,
        lang=lang,
    )
    notice = service_notice(created.unit["name"], created.deadline_at, tz, lang)
    return Created(created.id, notice, fields.get("account_id"))
