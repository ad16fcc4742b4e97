"""Public figures: received, resolved, open, overdue, on-time share, median time to resolve,
satisfaction; for the city and per ward, unit, category and channel."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import stats
from geo_service.api import deps
from geo_service.api.filters import ReportFilterDep
from geo_service.report_query import ReportFilter
from geo_service.report_query import filter as rf

router = APIRouter(prefix="/api/v1", tags=["figures"])


@router.get("/stats")
async def get_stats(
    filters: ReportFilterDep,
    unit: Annotated[
        list[str] | None, Query(description="unit code; repeat or comma-separate")
    ] = None,
    breakdowns: Annotated[
        bool, Query(description="include by_ward, by_unit, by_category, by_channel")
    ] = True,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> dict[str, Any]:
    """How the city handles reports. `open` is everything not yet resolved or rejected
    (received, acknowledged or in progress); `overdue` is open past its deadline; on-time
    share and median hours (wall-clock) count resolved reports; the satisfaction rate is the
    share of ratings that said satisfied. Duplicates follow their master and are not counted.
    A unit's figures equal the counts in its queue; the same filters select the same reports
    here as in the queue, the maps, the exports and Open311."""
    f = replace(filters, units=tuple(rf.split(unit)))
    result = await stats.figures(conn, f, breakdowns=breakdowns)
    return {"filters": describe(f), **result}


def describe(f: ReportFilter) -> dict[str, Any]:
    """The filter as the caller gave it, echoed with the answer."""
    start, end = f.period.start, f.period.end
    return {
        "ward": list(f.wards),
        "unit": list(f.units),
        "group": list(f.groups),
        "category": list(f.categories),
        "status": list(f.statuses),
        "priority": list(f.priorities),
        "channel": list(f.channels),
        "from": start.date().isoformat() if start else None,
        "to": (end - dt.timedelta(days=1)).date().isoformat() if end else None,
    }
