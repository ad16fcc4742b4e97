"""The officials' API: their queue, a report in full, status transitions (with photos of the
fix), priority and assignee changes, response templates. All scoped to the caller's unit in
SQL; planners and admins see every unit (planners read only)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import queue, staff, workflow
from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.api.bodies import read_with_photos
from geo_service.api.filters import ReportFilterDep
from geo_service.auth import User
from geo_service.config import Settings
from geo_service.photos import stored_uploads
from geo_service.report_query import OPEN_STATUSES, Scope
from geo_service.report_query import filter as rf

router = APIRouter(prefix="/api/v1", tags=["staff"])
ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get(
    "/queue",
    response_class=Response,
    responses={
        200: {"model": queue.QueuePage, "description": "The queue's page and counts"},
        **api_errors.responses(401, 403, 404, 422),
    },
)
async def get_queue(
    filters: ReportFilterDep,
    unit: Annotated[
        str | None, Query(max_length=64, description="unit code (planners and admins)")
    ] = None,
    overdue: bool | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="words in the description or address, or #id")
    ] = None,
    assignee: Annotated[str | None, Query(description="'me' or a user id")] = None,
    sort: queue.Sort = "deadline",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    user: User = Depends(deps.require_roles(*staff.STAFF_ROLES)),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """A unit's reports, most urgent deadline first, with the count per status (and open,
    overdue) under the same filters. Officials get their own unit; planners and admins pick
    one with `unit` (or see all). Without `status`, the open reports."""
    scope = staff.scope_of(user)
    unit_row = None
    if unit is not None:
        unit_row = await queue.unit_for(conn, unit, scope)
        scope = Scope(unit_row["id"])
    elif scope.unit_id is not None:
        unit_row = await queue.unit_for_id(conn, scope.unit_id)
    f = replace(
        filters,
        scope=scope,
        statuses=filters.statuses or OPEN_STATUSES,
        overdue=overdue,
        text=q.strip() if q and q.strip() else None,
        assignee=rf.assignee(assignee, user.id),
    )
    result = await queue.queue_page(conn, f, sort=sort, page=page, page_size=page_size)
    items = result.pop("items_json")
    head = json.dumps({"unit": unit_row, "statuses": list(f.statuses), **result}, default=str)
    return Response(head[:-1] + ',"items":' + items + "}", media_type="application/json")


@router.get("/staff/reports/{report_id}")
async def get_staff_report(
    report_id: ReportId,
    user: User = Depends(deps.require_roles(*staff.STAFF_ROLES)),
    conn: AsyncConnection = Depends(deps.read_connection),
    lang: str = Depends(deps.lang),
) -> dict[str, Any]:
    """A report in full for the unit handling it: contact details, the whole history with
    internal notes, duplicates, the transitions allowed next and the templates to answer with."""
    return await staff.report_detail(conn, report_id, staff.scope_of(user), lang)


@router.post(
    "/staff/reports/{report_id}/transitions",
    status_code=201,
    response_model=workflow.TransitionOut,
    openapi_extra={
        "requestBody": {
            "required": False,  # see api/reports.py: openapi-python-client's issue #1451
            "content": {
                "application/json": {"schema": workflow.TransitionIn.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            **workflow.TransitionIn.model_json_schema()["properties"],
                            "photos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                        "required": ["to", "version"],
                    }
                },
            },
        }
    },
    responses=api_errors.responses(404, 409, 413, 415, 422),
)
async def post_transition(
    report_id: ReportId,
    request: Request,
    user: User = Depends(deps.require_roles(*staff.WRITE_ROLES)),
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
    settings: Settings = Depends(deps.settings),
) -> workflow.TransitionOut:
    """Move a report on: acknowledged, in_progress, resolved, rejected (with a reason;
    `duplicate` with `duplicate_of`), transferred (with a reason and `unit`). Send the
    `version` you saw: if someone changed the report since, this is a 409."""
    change, uploads = await read_with_photos(
        request, workflow.TransitionIn, settings, max_fields=20
    )
    async with stored_uploads(uploads, settings) as photos:
        actor = workflow.Actor("staff", user.id, staff.scope_of(user))
        return await workflow.transition(
            conn,
            report_id,
            change,
            actor,
            transfer_restarts_deadline=settings.transfer_restarts_deadline,
            photos=photos,
        )


@router.patch("/staff/reports/{report_id}", responses=api_errors.responses(409))
async def patch_staff_report(
    report_id: ReportId,
    patch: staff.ReportPatch,
    user: User = Depends(deps.require_roles(*staff.MANAGER_ROLES)),
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
) -> dict[str, Any]:
    """Managers set a report's priority or assignee (a user of the unit; null unassigns)."""
    return await staff.patch_report(conn, report_id, patch, user)


@router.get("/staff/templates")
async def get_templates(
    category: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    user: User = Depends(deps.require_roles(*staff.STAFF_ROLES)),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> list[dict[str, Any]]:
    """Response templates the caller's unit may use (city-wide ones and the unit's own)."""
    return await staff.templates(conn, staff.scope_of(user), category=category, status=status)


@router.post("/staff/templates", status_code=201, responses=api_errors.responses(409))
async def post_template(
    data: staff.TemplateIn,
    user: User = Depends(deps.require_roles(*staff.MANAGER_ROLES)),
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
) -> dict[str, Any]:
    """Managers add a response template for their unit (admins: any unit, or city-wide)."""
    return await staff.create_template(conn, data, user)


@router.patch("/staff/templates/{template_id}")
async def patch_template(
    template_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    patch: staff.TemplatePatch,
    user: User = Depends(deps.require_roles(*staff.MANAGER_ROLES)),
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
) -> dict[str, Any]:
    """Managers edit or retire (active: false) their unit's templates; admins any."""
    return await staff.patch_template(conn, template_id, patch, user)
