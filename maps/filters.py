"""What a map shows: the filters a planner picks (category group or categories, period,
status, ward) and the area a user may see, turned into one SQL condition on reports ``r``
joined with categories ``c``.

Every aggregate in ``maps.aggregates`` and every export uses this one condition, so a heatmap,
a hotspot map, a ward map and an export made with the same filters count the same reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

STATUSES = ("received", "acknowledged", "in_progress", "resolved", "rejected", "transferred")
DEFAULT_DAYS = 365


class FilterError(ValueError):
    """A filter value that names nothing we know; ``field`` is the query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MapFilters:
    """The planner's choice. ``date_to`` is inclusive; both dates are days in the city's
    time zone. ``unit_id`` is not a choice but a limit: unit staff see their unit's area."""

    group: str | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    ward: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    unit_id: int | None = None
    unit_ward: str | None = None
    timezone: str = "UTC"
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def resolved(self, today: dt.date | None = None) -> MapFilters:
        """The same filters with the period filled in: by default the last 365 days."""
        today = today or dt.datetime.now(ZoneInfo(self.timezone)).date()
        date_to = self.date_to or today
        date_from = self.date_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise FilterError("from", f"{date_from} is after to={date_to}")
        return replace(self, date_from=date_from, date_to=date_to)

    @property
    def days(self) -> int:
        assert self.date_from and self.date_to, "call resolved() first"
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> MapFilters:
        """The period of the same length just before this one, for comparisons."""
        assert self.date_from, "call resolved() first"
        end = self.date_from - dt.timedelta(days=1)
        return replace(self, date_from=end - dt.timedelta(days=self.days - 1), date_to=end)

    def where(self) -> tuple[str, dict[str, object]]:
        """The SQL condition on ``reports r JOIN categories c`` and its parameters."""
        f = self.resolved() if self.date_from is None or self.date_to is None else self
        clauses = [
            "r.created_at >= CAST(:f_from AS timestamp) AT TIME ZONE :f_tz",
            "r.created_at < CAST(:f_until AS timestamp) AT TIME ZONE :f_tz",
        ]
        assert f.date_from and f.date_to
        params: dict[str, object] = {
            "f_from": f.date_from,
            "f_until": f.date_to + dt.timedelta(days=1),
            "f_tz": f.timezone,
        }
        if f.group:
            clauses.append("c.group_code = :f_group")
            params["f_group"] = f.group
        if f.categories:
            clauses.append("c.code = ANY(:f_categories)")
            params["f_categories"] = list(f.categories)
        if f.statuses:
            clauses.append("r.status = ANY(:f_statuses)")
            params["f_statuses"] = list(f.statuses)
        if f.ward:
            clauses.append("r.ward_code = :f_ward")
            params["f_ward"] = f.ward
        if f.unit_id is not None:
            clauses.append(UNIT_AREA_SQL)
            params["f_unit"] = f.unit_id
        return " AND ".join(clauses), params

    @property
    def view_ward(self) -> str | None:
        """The ward the map is framed on: the chosen ward, else a ward committee's own."""
        return self.ward or self.unit_ward

    def describe(self) -> list[str]:
        """The filters in words, for the map's caption (Vietnamese / English)."""
        f = self.resolved() if self.date_from is None or self.date_to is None else self
        lines = [f"Thời gian / Period: {f.date_from} – {f.date_to}"]
        lines.append(f"Nhóm / Group: {f.group}" if f.group else "Nhóm / Group: tất cả / all")
        if f.categories:
            lines.append("Loại / Categories: " + ", ".join(f.categories))
        if f.statuses:
            lines.append("Trạng thái / Status: " + ", ".join(f.statuses))
        if f.ward:
            lines.append(f"Phường, xã / Ward: {f.extra.get('ward_name', f.ward)}")
        if f.unit_id is not None:
            lines.append(f"Khu vực của đơn vị / Unit's area: {f.extra.get('unit_name', f.unit_id)}")
        lines += [f"{k}: {v}" for k, v in f.extra.items() if k not in ("ward_name", "unit_name")]
        return lines


# The area a unit sees: the reports it handles, and for a ward's People's Committee every
# report in its ward.
UNIT_AREA_SQL = """(r.unit_id = :f_unit OR r.ward_code = (
    SELECT u.ward_code FROM units u WHERE u.id = :f_unit AND u.kind = 'ward_committee'))"""


def check_filters(conn: Connection, filters: MapFilters) -> MapFilters:
    """Refuse names that match nothing (a typo would otherwise draw an empty map) and add the
    ward's and unit's names for the caption."""
    row = conn.execute(
        text(
            """
            SELECT (SELECT count(*) FROM category_groups WHERE code = :group) AS group_ok,
                   (SELECT array_agg(code) FROM categories WHERE code = ANY(:categories))
                     AS known_categories,
                   (SELECT a.name FROM areas a JOIN boundary_sets b ON b.id = a.set_id
                     WHERE b.level = 'ward' AND b.active AND a.code = :ward) AS ward_name,
                   (SELECT name FROM units WHERE id = :unit) AS unit_name,
                   (SELECT ward_code FROM units WHERE id = :unit AND kind = 'ward_committee')
                     AS unit_ward
            """
        ),
        {
            "group": filters.group,
            "categories": list(filters.categories),
            "ward": filters.ward,
            "unit": filters.unit_id,
        },
    ).one()
    if filters.group and not row.group_ok:
        raise FilterError("group", f"unknown category group {filters.group!r}")
    unknown = sorted(set(filters.categories) - set(row.known_categories or []))
    if unknown:
        raise FilterError("category", f"unknown category {', '.join(unknown)}")
    bad = sorted(set(filters.statuses) - set(STATUSES))
    if bad:
        raise FilterError("status", f"unknown status {', '.join(bad)}")
    if filters.ward and row.ward_name is None:
        raise FilterError("ward", f"no ward with code {filters.ward!r} in the active set")
    extra = dict(filters.extra)
    if row.ward_name:
        extra["ward_name"] = f"{row.ward_name} ({filters.ward})"
    if row.unit_name:
        extra["unit_name"] = row.unit_name
    return replace(filters, extra=extra, unit_ward=row.unit_ward).resolved()
