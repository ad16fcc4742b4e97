"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from geo_service.api import deps

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (says nothing about the database)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready; the body says why"}})
async def readyz(engine: AsyncEngine = Depends(deps.engine)) -> JSONResponse:
    """Ready to take reports: the database answers, PostGIS is there, and a ward boundary
    set is active."""
    checks: dict[str, object] = {}
    try:
        async with engine.connect() as conn:
            checks["database"] = True
            checks["postgis"] = (
                await conn.execute(
                    text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
                )
            ).scalar()
            if checks["postgis"]:
                checks["ward_boundary_set"] = (
                    await conn.execute(
                        text("SELECT name FROM boundary_sets WHERE level = 'ward' AND active")
                    )
                ).scalar()
    except (OperationalError, DBAPIError, OSError) as exc:
        checks["database"] = False
        checks["error"] = str(exc).splitlines()[0]
    ready = bool(
        checks.get("database") and checks.get("postgis") and checks.get("ward_boundary_set")
    )
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)
