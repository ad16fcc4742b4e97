"""The report filter as the JSON API reads it from a query string: the same parameters, with
the same names, meanings and errors, on every route that lists, counts, maps or exports
reports (report_query.ReportFilter does the rest)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Query

from geo_service.api import deps
from geo_service.profile import Profile
from geo_service.report_query import CHANNELS, PRIORITIES, STATUSES, Period, ReportFilter
from geo_service.report_query import filter as rf
from geo_service.report_query.vocab import STATUS_SETS

Repeatable = Annotated[list[str] | None, Query()]
STATUS_HELP = f"{', '.join(STATUSES)}, or {', '.join(STATUS_SETS)}; repeat or comma-separate"


async def report_filter(
    profile: Profile = Depends(deps.profile),
    ward: Annotated[
        list[str] | None, Query(description="ward code; repeat or comma-separate")
    ] = None,
    group: Annotated[
        list[str] | None, Query(description="category group code; repeat or comma-separate")
    ] = None,
    category: Annotated[
        list[str] | None, Query(description="category code; repeat or comma-separate")
    ] = None,
    status: Annotated[list[str] | None, Query(description=STATUS_HELP)] = None,
    priority: Annotated[
        list[str] | None, Query(description=f"{', '.join(PRIORITIES)}; repeatable")
    ] = None,
    channel: Annotated[
        list[str] | None, Query(description=f"{', '.join(CHANNELS)}; repeatable")
    ] = None,
    date_from: Annotated[
        dt.date | None, Query(alias="from", description="created on or after this day (city time)")
    ] = None,
    date_to: Annotated[
        dt.date | None, Query(alias="to", description="created on or before this day (city time)")
    ] = None,
    bbox: Annotated[
        str | None,
        Query(description="min_lon,min_lat,max_lon,max_lat", examples=["105.8,21.0,105.9,21.1"]),
    ] = None,
) -> ReportFilter:
    """The filter every report surface shares; each surface adds its own (a unit, words)."""
    return ReportFilter(
        wards=tuple(rf.split(ward)),
        groups=tuple(rf.split(group)),
        categories=tuple(rf.split(category)),
        statuses=rf.statuses(status),
        priorities=rf.priorities(priority),
        channels=rf.channels(channel),
        period=Period.days(date_from, date_to, profile.city.timezone),
        bbox=rf.parse_bbox(bbox) if bbox else None,
    )


ReportFilterDep = Annotated[ReportFilter, Depends(report_filter)]
