"""Reports: create (JSON or multipart with photos), read one, list as GeoJSON."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.datastructures import UploadFile

from geo_service.api import deps
from geo_service.citizens import possible_duplicates
from geo_service.config import Settings
from geo_service.errors import ApiError, describe_validation_errors
from geo_service.photos import stored_uploads
from geo_service.profile import Profile
from geo_service.reports import (
    ReportCreated,
    ReportIn,
    Status,
    create_report,
    get_report_json,
    list_reports_json,
    parse_bbox,
)

router = APIRouter(prefix="/api/v1", tags=["reports"])
GEOJSON = "application/geo+json"

_multipart_schema = {
    "type": "object",
    "properties": {
        **{k: v for k, v in ReportIn.model_json_schema()["properties"].items()},
        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
    "required": ["category", "description"],
}


def _invalid(exc: ValidationError) -> ApiError:
    errors = describe_validation_errors(list(exc.errors()))
    first = errors[0]
    return ApiError(422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), first["field"])


async def _read_submission(
    request: Request, settings: Settings
) -> tuple[ReportIn, list[UploadFile]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = settings.max_photos * settings.photo_max_bytes + 256 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the request is {int(declared):,} bytes; the limit is {limit:,}")
    if content_type == "application/json":
        try:
            return ReportIn.model_validate_json(await request.body()), []
        except ValidationError as exc:
            raise _invalid(exc) from None
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_files=settings.max_photos + 1, max_fields=40)
        fields: dict[str, Any] = {}
        uploads: list[UploadFile] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "photos":
                    raise ApiError(422, f"{key}: only the field 'photos' takes files", key)
                uploads.append(value)
            elif key in fields:
                raise ApiError(422, f"{key}: given more than once", key)
            elif value != "" or key in ("category", "description"):
                fields[key] = value
        if len(uploads) > settings.max_photos:
            raise ApiError(
                422, f"photos: at most {settings.max_photos} photos per report", "photos"
            )
        try:
            return ReportIn.model_validate(fields), uploads
        except ValidationError as exc:
            raise _invalid(exc) from None
    raise ApiError(
        415, "send the report as application/json or multipart/form-data", "content-type"
    )


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportCreated,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ReportIn.model_json_schema()},
                "multipart/form-data": {"schema": _multipart_schema},
            },
        }
    },
    responses={
        413: {"description": "A photo or the request is too large"},
        415: {"description": "Not JSON/multipart, or a file that is not an image"},
        422: {"description": "A field is missing or wrong, or the pin is not in the city"},
    },
)
async def post_report(
    request: Request,
    engine: AsyncEngine = Depends(deps.autocommit_engine),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> ReportCreated:
    """Report a problem at a pin (or where its photo was taken). The report is routed to the
    ward and unit at once; the answer carries the secret tracking token."""
    data, uploads = await _read_submission(request, settings)
    async with stored_uploads(uploads, settings) as photos, engine.connect() as conn:
        # one statement: atomic without BEGIN
        created = await create_report(
            conn, data, photos, snap_m=settings.snap_distance_m, city=profile.city.name
        )
        created.possible_duplicates = await possible_duplicates(
            conn, created.id, days=settings.duplicate_days
        )
        return created


@router.get(
    "/reports/{report_id}", response_class=Response, responses={200: {"content": {GEOJSON: {}}}}
)
async def get_report(
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """One report as a GeoJSON Feature. Reporters' contact details are never shown."""
    return Response(await get_report_json(conn, report_id), media_type=GEOJSON)


@router.get("/reports", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
async def list_reports(
    request: Request,
    bbox: Annotated[
        str | None,
        Query(description="min_lon,min_lat,max_lon,max_lat", examples=["105.8,21.0,105.9,21.1"]),
    ] = None,
    category: Annotated[
        list[str] | None, Query(description="category code; repeat or comma-separate")
    ] = None,
    group: str | None = None,
    status: Annotated[list[Status] | None, Query()] = None,
    ward: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """Reports newest first as a GeoJSON FeatureCollection, filtered and paged."""
    categories = sorted({c for item in category or [] for c in item.split(",") if c})
    features, more = await list_reports_json(
        conn,
        bbox=parse_bbox(bbox) if bbox else None,
        categories=categories,
        group=group,
        statuses=list(status or []),
        ward=ward,
        page=page,
        page_size=page_size,
    )
    links = []
    if more:
        links.append({"rel": "next", "href": str(request.url.include_query_params(page=page + 1))})
    if page > 1:
        links.append({"rel": "prev", "href": str(request.url.include_query_params(page=page - 1))})
    head = json.dumps(
        {"type": "FeatureCollection", "page": page, "page_size": page_size, "links": links}
    )
    body = head[:-1] + ',"features":' + features + "}"
    return Response(body, media_type=GEOJSON)
