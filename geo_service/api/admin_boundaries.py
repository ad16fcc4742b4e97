"""The boundary reform for administrators, over HTTP: the sets and their state, the preview
of what activating one would change (every open report now and after, counts per unit, the
units and rules it leaves without a ward), and the activation itself, now or scheduled.
The same functions as ``geo-service boundaries preview|activate`` (geo_service.reform)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from boundaries.sets import VALID_TO_SQL
from geo_service import reform
from geo_service.api import deps
from geo_service.api.errors import responses
from geo_service.auth import User
from geo_service.config import Settings
from geo_service.profile import Profile

router = APIRouter(prefix="/api/v1/admin/boundaries", tags=["boundary reform"])
admins = deps.require_roles("admin")
readers = deps.require_roles("admin", "planner")
SetName = Annotated[str, Path(max_length=100)]

SETS_SQL = text(
    f"""
    SELECT coalesce(json_agg(json_build_object(
             'name', b.name, 'level', b.level, 'valid_from', b.valid_from,
             'valid_to', {VALID_TO_SQL.format(b="b")},
             'active', b.active, 'features', b.feature_count, 'source', b.source,
             'city_set', c.name, 'gap_tolerance_m2', b.gap_tolerance_m2,
             'overlap_tolerance_m2', b.overlap_tolerance_m2, 'loaded_at', b.loaded_at,
             'activations', (SELECT coalesce(json_agg(json_build_object(
                                'state', a.state, 'activate_at', a.activate_at,
                                'requested_by', a.requested_by, 'done_at', a.done_at,
                                'message', a.message, 'summary', a.summary)
                                ORDER BY a.id), '[]'::json)
                               FROM boundary_activations a WHERE a.set_id = b.id))
             ORDER BY b.level, b.valid_from, b.name), '[]'::json)::text
      FROM boundary_sets b LEFT JOIN boundary_sets c ON c.id = b.city_set_id
    """
)


@router.get("", responses=responses(401, 403))
async def list_sets(
    _: User = Depends(readers), engine: AsyncEngine = Depends(deps.engine)
) -> Response:
    """Every boundary set: validity, active or scheduled, its city limit, tolerances, and
    its activations (done, scheduled, cancelled or failed, with what they changed)."""
    async with engine.connect() as conn:
        body = (await conn.execute(SETS_SQL)).scalar_one()
    return Response(body, media_type="application/json")


async def _preview(
    engine: AsyncEngine,
    set_name: str,
    profile: Profile,
    *,
    changed_only: bool,
    limit: int | None,
    offset: int,
) -> tuple[reform.Changes, list[dict[str, Any]]]:
    """The preview, in a transaction that is rolled back: nothing changes."""

    def run(conn: Connection) -> tuple[reform.Changes, list[dict[str, Any]]]:
        changes = reform.preview(conn, set_name, profile)
        rows = reform.plan_rows(
            conn, set_name, profile, changed_only=changed_only, limit=limit, offset=offset
        )
        return changes, rows

    async with engine.connect() as conn:
        try:
            return await conn.run_sync(run)
        finally:
            await conn.rollback()


@router.get("/{boundary_set}/preview", responses=responses(401, 403, 404, 422))
async def preview(
    boundary_set: SetName,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=5000)] = 100,
    changed_only: Annotated[
        bool, Query(description="list only the reports that change ward or unit")
    ] = False,
    _: User = Depends(readers),
    engine: AsyncEngine = Depends(deps.engine),
    profile: Profile = Depends(deps.profile),
) -> dict[str, Any]:
    """What activating the set would change, and nothing changes: the checks against its
    city limit, every open report's ward and unit now and after (a page of them; all of them
    as CSV at `preview.csv`), open reports per unit now and after, the reports moving from
    each unit to each other, the units created, brought back and retired, and the rules
    suspended (their ward is not in the set) or back in force."""
    changes, rows = await _preview(
        engine,
        boundary_set,
        profile,
        changed_only=changed_only,
        limit=page_size + 1,
        offset=(page - 1) * page_size,
    )
    return {
        **dataclasses.asdict(changes),
        "ok": changes.ok,
        "page": page,
        "page_size": page_size,
        "more": len(rows) > page_size,
        "reports": rows[:page_size],
    }


@router.get(
    "/{boundary_set}/preview.csv",
    responses={200: {"content": {"text/csv": {}}}, **responses(401, 403, 404)},
)
async def preview_csv(
    boundary_set: SetName,
    changed_only: bool = False,
    _: User = Depends(readers),
    engine: AsyncEngine = Depends(deps.engine),
    profile: Profile = Depends(deps.profile),
) -> Response:
    """Every open report's ward and unit now and after activating the set, one a line."""
    _changes, rows = await _preview(
        engine, boundary_set, profile, changed_only=changed_only, limit=None, offset=0
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"])
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="preview-{boundary_set}.csv"'},
    )


class ActivationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: dt.datetime | None = Field(
        default=None,
        description="When to activate (with its time zone). Default: now if the set is "
        "valid today, else the first moment of its valid_from in the city's time zone.",
    )


@router.post("/{boundary_set}/activation", responses=responses(401, 403, 404, 409, 422))
async def activate(
    boundary_set: SetName,
    body: ActivationIn,
    user: User = Depends(admins),
    engine: AsyncEngine = Depends(deps.engine),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> JSONResponse:
    """Activate the set in one transaction (200, with what changed), or schedule it for
    the day it becomes valid (202). A set that fails its checks is refused (409)."""
    async with engine.begin() as conn:
        outcome = await conn.run_sync(
            lambda c: reform.request_activation(
                c,
                boundary_set,
                profile,
                restart_deadline=settings.transfer_restarts_deadline,
                at=body.at,
                by=f"api:{user.username}",
            )
        )
    changes = {**dataclasses.asdict(outcome.changes), "ok": outcome.changes.ok}
    if outcome.scheduled_at is not None:
        state = {"state": "scheduled", "activate_at": outcome.scheduled_at.isoformat()}
        return JSONResponse({**state, "changes": changes}, status_code=202)
    return JSONResponse({"state": "done", "changes": changes}, status_code=200)


@router.delete("/{boundary_set}/activation", responses=responses(401, 403, 404))
async def unschedule(
    boundary_set: SetName,
    _: User = Depends(admins),
    engine: AsyncEngine = Depends(deps.engine),
) -> dict[str, Any]:
    """Cancel the set's scheduled activation."""
    async with engine.begin() as conn:
        at = await conn.run_sync(lambda c: reform.unschedule(c, boundary_set))
    return {"state": "cancelled", "activate_at": at.isoformat()}
