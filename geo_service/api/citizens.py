"""Citizens' side of a report after it is sent: the public timeline by tracking token,
rating, reopening, possible duplicates near a pin, and +1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import citizens, workflow
from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.config import Settings
from geo_service.reports import Latitude, Longitude

router = APIRouter(prefix="/api/v1", tags=["citizens"])
Token = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/track/{token}")
async def track(
    token: Token,
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
) -> dict[str, Any]:
    """The public timeline of a report: states, public comments, photos of the fix. No
    personal data of anyone. The token is the reporter's or a follower's (+1)."""
    return await citizens.track(conn, token, reopen_days=settings.reopen_days)


@router.post("/track/{token}/rating", status_code=201, responses=api_errors.responses(403, 409))
async def rate(
    token: Token,
    rating: citizens.RatingIn,
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
) -> dict[str, Any]:
    """The reporter rates the handling of a resolved report, once."""
    return await citizens.rate(conn, token, rating)


@router.post("/track/{token}/reopen", responses=api_errors.responses(403, 409))
async def reopen(
    token: Token,
    body: Annotated[citizens.ReopenIn | None, Body()] = None,
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
    settings: Settings = Depends(deps.settings),
) -> workflow.TransitionOut:
    """The reporter says it is not fixed: a report resolved less than REOPEN_DAYS (7) days
    ago goes back to its unit's queue, flagged reopened, with a new deadline."""
    comment = body.comment if body else None
    return await workflow.reopen(conn, token, comment, reopen_days=settings.reopen_days)


@router.get("/reports/nearby")
async def nearby(
    lat: Annotated[Latitude, Query()],
    lon: Annotated[Longitude, Query()],
    category: Annotated[str | None, Query(max_length=64)] = None,
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
) -> dict[str, Any]:
    """Open reports of the same category group near a pin from the last DUPLICATE_DAYS (30)
    days, nearest first: possible duplicates to +1 instead of reporting again."""
    return await citizens.nearby(
        conn, lat=lat, lon=lon, category=category, days=settings.duplicate_days
    )


@router.post("/reports/{report_id}/plus-one", status_code=201, responses=api_errors.responses(409))
async def plus_one(
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: Annotated[citizens.PlusOneIn | None, Body()] = None,
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
    lang: str = Depends(deps.lang),
) -> dict[str, Any]:
    """ "Me too": one more citizen affected by an open report. The answer carries a token to
    follow it on /track/{token}; with an ``email``, each public step is mailed there too."""
    email = str(body.email) if body and body.email else None
    return await citizens.plus_one(conn, report_id, email, lang)
