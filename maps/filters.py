"""What a map shows: the report filter every surface shares (report_query.ReportFilter) for a
period of whole days in the city's time zone, by default the last 365.

Every aggregate in ``maps.aggregates`` and every export renders this one condition, and so do
the queue, the figures and Open311: a heatmap, a hotspot map, a ward map, an export and the
statistics made with the same filters count the same reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from geo_service.i18n import N_, Message
from geo_service.report_query import EVERYTHING, Period, ReportFilter, Scope

DEFAULT_DAYS = 365


@dataclass(frozen=True)
class MapFilters:
    """The planner's choice (``report``, whose period is set from the days) over whole days
    (``date_to`` included). The report filter's scope is not a choice but a limit: unit
    staff see their unit's area."""

    report: ReportFilter = field(default_factory=ReportFilter)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    timezone: str = "UTC"
    notes: tuple[Message, ...] = ()

    def resolved(self, today: dt.date | None = None) -> MapFilters:
        """The same filters with the period filled in: by default the last 365 days."""
        today = today or dt.datetime.now(ZoneInfo(self.timezone)).date()
        date_to = self.date_to or today
        date_from = self.date_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        period = Period.days(date_from, date_to, self.timezone)  # Invalid "to" if reversed
        return replace(
            self, date_from=date_from, date_to=date_to, report=replace(self.report, period=period)
        )

    @property
    def days(self) -> int:
        assert self.date_from and self.date_to, "call resolved() first"
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> MapFilters:
        """The period of the same length just before this one, for comparisons."""
        assert self.date_from, "call resolved() first"
        end = self.date_from - dt.timedelta(days=1)
        start = end - dt.timedelta(days=self.days - 1)
        return replace(self, date_from=start, date_to=end).resolved()

    def where(self) -> tuple[str, dict[str, Any]]:
        """The SQL condition on reports ``r`` and its parameters, for the days chosen."""
        return self.resolved().report.where()

    @property
    def view_ward(self) -> str | None:
        """The ward the map is framed on: the one chosen, else a ward committee's own."""
        wards = self.report.wards
        return wards[0] if len(wards) == 1 else self.report.scope.ward_code

    def describe(self) -> list[Message]:
        """The filters in words, for the map's caption."""
        f = self if self.date_from and self.date_to else self.resolved()
        r = f.report
        lines = [N_("Period: {start} – {end}", start=str(f.date_from), end=str(f.date_to))]
        lines.append(
            N_("Group: {groups}", groups=", ".join(r.groups)) if r.groups else N_("Group: all")
        )
        if r.categories:
            lines.append(N_("Categories: {codes}", codes=", ".join(r.categories)))
        if r.statuses:
            lines.append(N_("Status: {codes}", codes=", ".join(r.statuses)))
        if r.wards:
            names = r.names.get("ward", {})
            shown = ", ".join(f"{names.get(code, code)} ({code})" for code in r.wards)
            lines.append(N_("Ward: {wards}", wards=shown))
        if r.scope.unit_id is not None:
            lines.append(N_("Unit's area: {unit}", unit=r.names.get("scope", {}).get("unit", "")))
        return [*lines, *self.notes]


UNIT_SQL = text(
    "SELECT name, CASE WHEN kind = 'ward_committee' THEN ward_code END AS ward FROM units"
    " WHERE id = :id"
)


def unit_scope(conn: Connection, unit_id: int | None) -> tuple[Scope, str]:
    """The area a unit sees on the maps: the reports it handles, and for a ward's People's
    Committee every report in its ward. With the unit's name for the caption."""
    if unit_id is None:
        return EVERYTHING, ""
    row = conn.execute(UNIT_SQL, {"id": unit_id}).one()
    return Scope(unit_id, ward_code=row.ward), str(row.name)


def check_filters(conn: Connection, filters: MapFilters) -> MapFilters:
    """Refuse codes that match nothing (a typo would otherwise draw an empty map), all in one
    422, and fill in the period and the names the caption shows."""
    report = filters.report.resolve_sync(conn)
    scope, unit_name = unit_scope(conn, report.scope.unit_id)
    names = {**report.names, "scope": {"unit": unit_name}}
    return replace(filters, report=replace(report, scope=scope, names=names)).resolved()
