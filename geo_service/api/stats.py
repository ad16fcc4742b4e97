"""Public figures: received, resolved, open, overdue, on-time share, median time to resolve,
satisfaction; for the city and per ward, unit and category."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import stats
from geo_service.api import deps
from geo_service.errors import ApiError
from geo_service.profile import Profile

router = APIRouter(prefix="/api/v1", tags=["figures"])


@router.get("/stats")
async def get_stats(
    ward: Annotated[str | None, Query(max_length=32, description="ward code")] = None,
    unit: Annotated[str | None, Query(max_length=64, description="unit code")] = None,
    category: Annotated[str | None, Query(max_length=64, description="category code")] = None,
    date_from: Annotated[
        dt.date | None, Query(alias="from", description="reports created on or after (city time)")
    ] = None,
    date_to: Annotated[
        dt.date | None, Query(alias="to", description="reports created on or before (city time)")
    ] = None,
    breakdowns: Annotated[bool, Query(description="include by_ward, by_unit, by_category")] = True,
    conn: AsyncConnection = Depends(deps.read_connection),
    profile: Profile = Depends(deps.profile),
) -> dict[str, Any]:
    """How the city handles reports. `open` is everything not yet resolved or rejected
    (received, acknowledged or in progress); `overdue` is open past its deadline; on-time
    share and median hours (wall-clock) count resolved reports; the satisfaction rate is the
    share of ratings that said satisfied. Duplicates follow their master and are not counted.
    A unit's figures equal the counts in its queue."""
    if date_from and date_to and date_to < date_from:
        raise ApiError(422, "to: must not be before from", "to")
    tz = ZoneInfo(profile.city.timezone)
    start = dt.datetime.combine(date_from, dt.time(0), tzinfo=tz) if date_from else None
    end = (
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        if date_to
        else None
    )
    result = await stats.figures(
        conn,
        ward=ward,
        unit=unit,
        category=category,
        date_from=start,
        date_to=end,
        breakdowns=breakdowns,
    )
    return {
        "filters": {
            "ward": ward,
            "unit": unit,
            "category": category,
            "from": date_from,
            "to": date_to,
        },
        **result,
    }
