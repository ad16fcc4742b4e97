"""The officials' API: their queue, a report in full, status transitions (with photos of the
fix), priority and assignee changes, response templates. All scoped to the caller's unit in
SQL; planners and admins see every unit (planners read only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import UploadFile

from geo_service import queue, staff, workflow
from geo_service.api import deps
from geo_service.auth import User
from geo_service.config import Settings
from geo_service.errors import ApiError, describe_validation_errors
from geo_service.photos import stored_uploads
from geo_service.profile import Profile

router = APIRouter(prefix="/api/v1", tags=["staff"])
ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]
QueueStatus = queue.STATUSES


def _split(values: list[str] | None) -> list[str]:
    return sorted({v for item in values or [] for v in item.split(",") if v})


@router.get(
    "/queue", response_class=Response, responses={200: {"content": {"application/json": {}}}}
)
async def get_queue(
    unit: Annotated[
        str | None, Query(max_length=64, description="unit code (planners and admins)")
    ] = None,
    status: Annotated[
        list[str] | None,
        Query(
            description="received, acknowledged, in_progress, resolved, rejected, or open "
            "/ closed / all; repeat or comma-separate (default: open)"
        ),
    ] = None,
    category: Annotated[list[str] | None, Query(description="category codes")] = None,
    priority: Annotated[list[str] | None, Query(description="low, normal, high, urgent")] = None,
    overdue: bool | None = None,
    date_from: Annotated[
        dt.date | None, Query(alias="from", description="created on or after (city time)")
    ] = None,
    date_to: Annotated[
        dt.date | None, Query(alias="to", description="created on or before (city time)")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="words in the description or address, or #id")
    ] = None,
    assignee: Annotated[str | None, Query(description="'me' or a user id")] = None,
    sort: queue.Sort = "deadline",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    user: User = Depends(deps.require_roles(*staff.STAFF_ROLES)),
    conn: AsyncConnection = Depends(deps.read_connection),
    profile: Profile = Depends(deps.profile),
) -> Response:
    """A unit's reports, most urgent deadline first, with the count per status (and open,
    overdue) under the same filters. Officials get their own unit; planners and admins pick
    one with `unit` (or see all)."""
    scope = staff.scope_of(user)
    unit_row = None
    if unit is not None:
        unit_row = await queue.unit_for(conn, unit, scope)
        scope = queue.Scope(unit_row["id"])
    elif scope.unit_id is not None:
        unit_row = await queue.unit_for_id(conn, scope.unit_id)
    statuses: set[str] = set()
    for s in _split(status) or ["open"]:
        if s == "open":
            statuses |= set(queue.OPEN_STATUSES)
        elif s == "closed":
            statuses |= set(queue.CLOSED_STATUSES)
        elif s == "all":
            statuses |= set(queue.STATUSES)
        elif s in queue.STATUSES:
            statuses.add(s)
        else:
            raise ApiError(
                422,
                f"status: {s!r} is not one of {', '.join(queue.STATUSES)}, open, closed, all",
                "status",
            )
    f = await queue.build_filter(
        conn,
        user_id=user.id,
        timezone=profile.city.timezone,
        statuses=tuple(statuses),
        categories=_split(category),
        priorities=_split(priority),
        overdue=overdue,
        date_from=date_from,
        date_to=date_to,
        text=q,
        assignee=assignee,
    )
    result = await queue.queue_page(conn, scope, f, sort=sort, page=page, page_size=page_size)
    items = result.pop("items_json")
    head = json.dumps({"unit": unit_row, "statuses": list(f.statuses), **result}, default=str)
    return Response(head[:-1] + ',"items":' + items + "}", media_type="application/json")


@router.get("/staff/reports/{report_id}")
async def get_staff_report(
    report_id: ReportId,
    user: User = Depends(deps.require_roles(*staff.STAFF_ROLES)),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> dict[str, Any]:
    """A report in full for the unit handling it: contact details, the whole history with
    internal notes, duplicates, the transitions allowed next and the templates to answer with."""
    return await staff.report_detail(conn, report_id, staff.scope_of(user))


async def _read_transition(
    request: Request, settings: Settings
) -> tuple[workflow.TransitionIn, list[UploadFile]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            return workflow.TransitionIn.model_validate_json(await request.body()), []
        if content_type == "multipart/form-data":
            form = await request.form(max_files=settings.max_photos + 1, max_fields=20)
            fields: dict[str, Any] = {}
            uploads: list[UploadFile] = []
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if key != "photos":
                        raise ApiError(422, f"{key}: only the field 'photos' takes files", key)
                    uploads.append(value)
                elif key != "csrf_token" and value != "":
                    fields[key] = value
            if len(uploads) > settings.max_photos:
                raise ApiError(422, f"photos: at most {settings.max_photos} photos", "photos")
            return workflow.TransitionIn.model_validate(fields), uploads
    except ValidationError as exc:
        errors = describe_validation_errors(list(exc.errors()))
        raise ApiError(
            422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors[0]["field"]
        ) from None
    raise ApiError(
        415, "send the transition as application/json or multipart/form-data", "content-type"
    )


@router.post(
    "/staff/reports/{report_id}/transitions",
    status_code=201,
    response_model=workflow.TransitionOut,
    openapi_extra={
        "requestBody": {
            "required": True,
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
    responses={
        404: {"description": "No such report in your unit"},
        409: {"description": "Changed meanwhile (version), or a transition not allowed now"},
        422: {"description": "A reason, unit or comment is missing or wrong"},
    },
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
    change, uploads = await _read_transition(request, settings)
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


@router.patch("/staff/reports/{report_id}")
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


@router.post("/staff/templates", status_code=201)
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
