"""One filter for every list, count, map and export of reports.

A caller's choice (a ``ReportFilter``) names things by their public codes: wards, units,
category groups, categories, statuses, priorities, channels, a period, words, a place. Before
it runs it is checked against the database in one query (``resolve``): every unknown code is
a 422 naming its field, all at once; category groups and categories become category ids, unit
codes unit ids. Then ``where()`` renders one SQL condition on reports ``r`` with bound
parameters, which the queue, the figures, the public list and map, Open311, the planners'
maps and the exports all put in their WHERE, so the same filter counts the same reports
everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import Invalid, field_message
from geo_service.i18n import N_, Message
from geo_service.report_query.predicates import (
    COUNTED_SQL,
    EVERYTHING,
    OPEN_SQL,
    OVERDUE_SQL,
    Scope,
)
from geo_service.report_query.vocab import (
    CHANNELS,
    OPEN_STATUSES,
    PRIORITIES,
    STATUS_SETS,
    STATUSES,
    Channel,
    Duplicates,
    Priority,
    Status,
)

METRES_PER_DEGREE = 111_320.0
BBox = tuple[float, float, float, float]
V = TypeVar("V", bound=str)


@dataclass(frozen=True)
class Period:
    """Reports created in [start, end); either end open."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @classmethod
    def days(cls, first: dt.date | None, last: dt.date | None, timezone: str) -> Period:
        """Whole days in the city's time zone, ``last`` included: a day is the citizen's
        day, not UTC's (7 hours apart in Hanoi)."""
        if first and last and last < first:
            raise Invalid(field_message("to", N_("must not be before from")), "to")
        return cls(
            start=day_start(first, timezone) if first else None,
            end=day_start(last + dt.timedelta(days=1), timezone) if last else None,
        )


def day_start(day: dt.date, timezone: str) -> dt.datetime:
    """The first instant of ``day`` in the city's time zone."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone))


@dataclass(frozen=True)
class Near:
    """Within ``radius_m`` metres of a point."""

    lat: float
    lon: float
    radius_m: float

    @property
    def degrees(self) -> float:
        """An index prefilter in degrees, wide enough for the radius at this latitude."""
        return self.radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(self.lat)), 0.01))


@dataclass(frozen=True)
class ReportFilter:
    """Which reports: every field narrows the set, an empty one does not. Codes are checked
    and turned into ids by ``resolve``; ``where`` needs a resolved filter."""

    scope: Scope = EVERYTHING
    ids: tuple[int, ...] = ()
    bbox: BBox | None = None
    near: Near | None = None
    wards: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[Status, ...] = ()
    priorities: tuple[Priority, ...] = ()
    channels: tuple[Channel, ...] = ()
    assignee: int | None = None
    period: Period = Period()
    text: str | None = None
    overdue: bool | None = None
    duplicates: Duplicates = "exclude"
    # Filled by resolve(): None = no restriction, () = nothing matches.
    category_ids: tuple[int, ...] | None = field(default=None, compare=False)
    unit_ids: tuple[int, ...] | None = field(default=None, compare=False)
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)

    @property
    def resolved(self) -> bool:
        return (self.category_ids is not None or not (self.groups or self.categories)) and (
            self.unit_ids is not None or not self.units
        )

    def where(self, prefix: str = "f") -> tuple[str, dict[str, Any]]:
        """The SQL condition on reports ``r`` and its bound parameters (named ``prefix_*``
        so that two filters can share a statement, as a period and the one before it)."""
        assert self.resolved, "resolve() the filter first: its codes are not checked"
        terms = _Terms(prefix)
        terms.add(self.scope.where(), **self.scope.params)
        self._identity_terms(terms)
        self._place_terms(terms)
        self._code_terms(terms)
        self._state_terms(terms)
        self._time_terms(terms)
        self._text_terms(terms)
        return terms.sql(), terms.params

    def _identity_terms(self, t: _Terms) -> None:
        if self.duplicates == "exclude":
            t.add(COUNTED_SQL)
        elif self.duplicates == "only":
            t.add("r.duplicate_of IS NOT NULL")
        if self.ids:
            t.add("r.id = ANY(:{p}ids)", ids=list(self.ids))
        if self.assignee is not None:
            t.add("r.assignee_id = :{p}assignee", assignee=self.assignee)

    def _place_terms(self, t: _Terms) -> None:
        if self.bbox:
            t.add(
                "r.geom && ST_MakeEnvelope(:{p}x1, :{p}y1, :{p}x2, :{p}y2, 4326)",
                **dict(zip(("x1", "y1", "x2", "y2"), self.bbox, strict=True)),
            )
        if self.near:
            # The envelope lets the GiST index find candidates; the geography test is exact.
            t.add(
                "r.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:{p}lon, :{p}lat), 4326), :{p}deg)"
                " AND ST_DWithin(r.geom::geography,"
                " ST_SetSRID(ST_MakePoint(:{p}lon, :{p}lat), 4326)::geography, :{p}radius)",
                lat=self.near.lat,
                lon=self.near.lon,
                deg=self.near.degrees,
                radius=self.near.radius_m,
            )
        if self.wards:
            t.add("r.ward_code = ANY(:{p}wards)", wards=list(self.wards))

    def _code_terms(self, t: _Terms) -> None:
        if self.unit_ids is not None:
            t.add("r.unit_id = ANY(:{p}units)", units=list(self.unit_ids))
        if self.category_ids is not None:
            # Ids, not a join or a subquery: the planner then knows how many rows match and
            # picks the deadline index for a broad filter (a subquery made the queue sort
            # 70,000 rows).
            t.add("r.category_id = ANY(:{p}categories)", categories=list(self.category_ids))
        if self.priorities:
            t.add("r.priority = ANY(:{p}priorities)", priorities=list(self.priorities))
        if self.channels:
            t.add("r.channel = ANY(:{p}channels)", channels=list(self.channels))

    def _state_terms(self, t: _Terms) -> None:
        if self.statuses and set(self.statuses) != set(STATUSES):
            t.add("r.status = ANY(:{p}statuses)", statuses=list(self.statuses))
            if set(self.statuses) <= set(OPEN_STATUSES) and self.duplicates == "exclude":
                t.add(OPEN_SQL)  # lets the planner use the partial index of open work
        if self.overdue is True:
            t.add(OVERDUE_SQL)
        elif self.overdue is False:
            t.add(f"NOT {OVERDUE_SQL}")

    def _time_terms(self, t: _Terms) -> None:
        if self.period.start:
            if self.duplicates == "exclude":
                # The deadline term follows from the first (constraint
                # reports_deadline_after_created holds for reports that are not duplicates)
                # and lets the queue start the deadline index at that day, not at the
                # oldest report (a 90-day filter on 180,000 reports: 370 ms -> 25 ms).
                t.add(
                    "r.created_at >= :{p}from AND r.deadline_at >= :{p}from",
                    **{"from": self.period.start},
                )
            else:
                t.add("r.created_at >= :{p}from", **{"from": self.period.start})
        if self.period.end:
            t.add("r.created_at < :{p}until", until=self.period.end)

    def _text_terms(self, t: _Terms) -> None:
        if not self.text:
            return
        term = self.text.strip()
        if term.lstrip("#").isdigit() and len(term) < 18:
            t.add("r.id = :{p}text_id", text_id=int(term.lstrip("#")))
        else:
            t.add("(r.description ILIKE :{p}text OR r.address ILIKE :{p}text)", text=ilike(term))

    # --- checking the codes --------------------------------------------------------------

    def _resolution_params(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "categories": list(self.categories),
            "wards": list(self.wards),
            "units": list(self.units),
        }

    def _resolved_by(self, row: Any, fields: Mapping[str, str]) -> ReportFilter:
        """The filter with ids from RESOLVE_SQL's row, or Invalid naming every unknown code
        (under the caller's name for the field, if it has its own: Open311's service_code)."""
        problems: list[tuple[str, Message]] = []
        for name, asked, known in (
            ("group", self.groups, row.groups),
            ("category", self.categories, row.categories),
            ("ward", self.wards, row.wards),
            ("unit", self.units, row.units),
        ):
            unknown = [code for code in asked if code not in set(known or ())]
            if unknown:
                message = N_("no such code: {codes}", codes=", ".join(unknown))
                problems.append((fields.get(name, name), message))
        if problems:
            first_field, first = problems[0]
            raise Invalid(field_message(first_field, first), first_field, errors=problems)
        return replace(
            self,
            category_ids=tuple(row.category_ids) if self.groups or self.categories else None,
            unit_ids=tuple(row.unit_ids) if self.units else None,
            names={"ward": dict(row.ward_names or {}), "unit": dict(row.unit_names or {})},
        )

    async def resolve(
        self, conn: AsyncConnection, fields: Mapping[str, str] | None = None
    ) -> ReportFilter:
        """Check the codes in one query; their ids and names filled in."""
        if self.resolved and not self.wards:
            return self
        row = (await conn.execute(RESOLVE_SQL, self._resolution_params())).one()
        return self._resolved_by(row, fields or {})

    def resolve_sync(
        self, conn: Connection, fields: Mapping[str, str] | None = None
    ) -> ReportFilter:
        if self.resolved and not self.wards:
            return self
        row = conn.execute(RESOLVE_SQL, self._resolution_params()).one()
        return self._resolved_by(row, fields or {})


# Every code of a filter checked in one round trip. A ward is known if any ward set has it
# (the figures of a ward that a reform renamed remain askable); its name is the active set's.
RESOLVE_SQL = text(
    """
    SELECT
      (SELECT array_agg(code) FROM category_groups WHERE code = ANY(:groups)) AS groups,
      (SELECT array_agg(code) FROM categories WHERE code = ANY(:categories)) AS categories,
      (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM categories
        WHERE (cardinality(CAST(:categories AS text[])) = 0 OR code = ANY(:categories))
          AND (cardinality(CAST(:groups AS text[])) = 0 OR group_code = ANY(:groups)))
        AS category_ids,
      (SELECT array_agg(DISTINCT a.code) FROM areas a JOIN boundary_sets b ON b.id = a.set_id
        WHERE b.level = 'ward' AND a.code = ANY(:wards)) AS wards,
      (SELECT json_object_agg(w.code, w.name) FROM (
         SELECT DISTINCT ON (a.code) a.code, a.name FROM areas a
           JOIN boundary_sets b ON b.id = a.set_id
          WHERE b.level = 'ward' AND a.code = ANY(:wards)
          ORDER BY a.code, b.active DESC, b.valid_from DESC) w) AS ward_names,
      (SELECT array_agg(code) FROM units WHERE code = ANY(:units)) AS units,
      (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM units WHERE code = ANY(:units))
        AS unit_ids,
      (SELECT json_object_agg(code, name) FROM units WHERE code = ANY(:units)) AS unit_names
    """
)


class _Terms:
    """WHERE terms with their parameters, named under a prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.terms: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, sql: str, **params: Any) -> None:
        p = f"{self.prefix}_"
        self.terms.append(sql.replace("{p}", p))
        for name, value in params.items():
            key = name if name.startswith("scope_") else p + name
            self.params[key] = value

    def sql(self) -> str:
        return " AND ".join(t for t in self.terms if t != "true") or "true"


def ilike(value: str) -> str:
    """An ILIKE pattern matching the words in order; % and _ typed by the user are literal."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + "%".join(escaped.split()) + "%"


# --- reading a filter from a request ---------------------------------------------------------


def split(values: Iterable[str] | None) -> list[str]:
    """Repeated and comma-separated values, in order, without blanks or repeats."""
    out: list[str] = []
    for item in values or ():
        for value in item.split(","):
            value = value.strip()
            if value and value not in out:
                out.append(value)
    return out


def vocabulary(
    field_name: str,
    values: Iterable[str] | None,
    allowed: Sequence[V],
    sets: Mapping[str, Sequence[V]] | None = None,
) -> tuple[V, ...]:
    """Values from a vocabulary (and the words for several at once, like ``open``), in the
    vocabulary's order; anything else is Invalid naming the field and what is allowed."""
    chosen: set[str] = set()
    for value in split(values):
        if sets and value in sets:
            chosen |= set(sets[value])
        elif value in allowed:
            chosen.add(value)
        else:
            words = ", ".join([*allowed, *(sets or {})])
            message = N_("{value!r} is not one of {allowed}", value=value, allowed=words)
            raise Invalid(field_message(field_name, message), field_name)
    return tuple(v for v in allowed if v in chosen)


def statuses(values: Iterable[str] | None, field_name: str = "status") -> tuple[Status, ...]:
    return vocabulary(field_name, values, STATUSES, STATUS_SETS)


def priorities(values: Iterable[str] | None, field_name: str = "priority") -> tuple[Priority, ...]:
    return vocabulary(field_name, values, PRIORITIES)


def channels(values: Iterable[str] | None, field_name: str = "channel") -> tuple[Channel, ...]:
    return vocabulary(field_name, values, CHANNELS)


def parse_bbox(value: str, field_name: str = "bbox") -> BBox:
    """``min_lon,min_lat,max_lon,max_lat`` within the world's bounds."""
    try:
        x1, y1, x2, y2 = (float(p) for p in value.split(","))
    except ValueError:
        message = N_("must be four numbers: min_lon,min_lat,max_lon,max_lat")
        raise Invalid(field_message(field_name, message), field_name) from None
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)) or not (
        -180 <= x1 < x2 <= 180 and -90 <= y1 < y2 <= 90
    ):
        message = N_("must be min_lon,min_lat,max_lon,max_lat within -180..180 and -90..90")
        raise Invalid(field_message(field_name, message), field_name)
    return x1, y1, x2, y2


def assignee(value: str | None, user_id: int | None) -> int | None:
    """'me' (the caller) or a user id."""
    if value is None or value == "":
        return None
    if value == "me" and user_id is not None:
        return user_id
    if value.isdigit() and len(value) < 10:
        return int(value)
    raise Invalid(field_message("assignee", N_("'me' or a user id")), "assignee")
