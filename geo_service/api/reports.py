"""Reports: create (JSON or multipart with photos), read one, list as GeoJSON."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.api.bodies import read_with_photos
from geo_service.api.filters import ReportFilterDep
from geo_service.citizens import possible_duplicates
from geo_service.config import Settings
from geo_service.photos import stored_uploads
from geo_service.profile import Profile
from geo_service.report_query.projections import ReportCollection, ReportFeature
from geo_service.reports import (
    ReportCreated,
    ReportIn,
    create_report,
    get_report_json,
    list_reports_json,
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


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportCreated,
    openapi_extra={
        "requestBody": {
            # A body is required, but openapi-python-client cannot import the code it makes for
            # a required body with two media types (its issue #1451); without a body the
            # answer is a 415, which the spec declares.
            "required": False,
            "content": {
                "application/json": {"schema": ReportIn.model_json_schema()},
                "multipart/form-data": {"schema": _multipart_schema},
            },
        }
    },
    responses=api_errors.responses(413, 415, 422),
)
async def post_report(
    request: Request,
    engine: AsyncEngine = Depends(deps.autocommit_engine),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    lang: str = Depends(deps.lang),
) -> ReportCreated:
    """Report a problem at a pin (or where its photo was taken). The report is routed to the
    ward and unit at once; the answer carries the secret tracking token."""
    data, uploads = await read_with_photos(
        request, ReportIn, settings, keep_empty=("category", "description")
    )
    async with stored_uploads(uploads, settings) as photos, engine.connect() as conn:
        # one statement: atomic without BEGIN
        created = await create_report(
            conn, data, photos, snap_m=settings.snap_distance_m, city=profile.city.name, lang=lang
        )
        created.possible_duplicates = await possible_duplicates(
            conn, created.id, days=settings.duplicate_days
        )
        return created


@router.get(
    "/reports/{report_id}",
    response_class=Response,
    responses={
        200: {"model": ReportFeature, "content": {GEOJSON: {}}},
        **api_errors.responses(404, 422),
    },
)
async def get_report(
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """One report as a GeoJSON Feature. Reporters' contact details are never shown."""
    return Response(await get_report_json(conn, report_id), media_type=GEOJSON)


@router.get(
    "/reports",
    response_class=Response,
    responses={
        200: {"model": ReportCollection, "content": {GEOJSON: {}}},
        **api_errors.responses(422),
    },
)
async def list_reports(
    request: Request,
    filters: ReportFilterDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """Reports newest first as a GeoJSON FeatureCollection, filtered and paged. Duplicates
    are listed too (each says which report it duplicates)."""
    f = replace(filters, duplicates="include")
    features, more = await list_reports_json(conn, f, page=page, page_size=page_size)
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
