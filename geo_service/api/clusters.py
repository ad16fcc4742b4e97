"""GET /api/v1/reports/clusters: the public map's reports in a view, clustered server-side.

Registered before the reports router so that ``/reports/clusters`` is not read as
``/reports/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api import deps
from geo_service.clusters import MAX_ZOOM, clusters_json
from geo_service.reports import Status, parse_bbox

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get(
    "/reports/clusters",
    responses={
        200: {
            "description": "Clusters (count by status, extent) and single reports in the view",
            "content": {"application/json": {}},
        }
    },
)
async def report_clusters(
    bbox: Annotated[
        str,
        Query(
            description="the view: min_lon,min_lat,max_lon,max_lat",
            examples=["105.8,21.0,105.9,21.1"],
        ),
    ],
    zoom: Annotated[int, Query(ge=0, le=MAX_ZOOM, description="the map's zoom level")],
    group: Annotated[str | None, Query(max_length=64, description="category group code")] = None,
    category: Annotated[
        list[str] | None, Query(description="category code; repeat or comma-separate")
    ] = None,
    status: Annotated[list[Status] | None, Query(description="repeat for several")] = None,
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """The reports in a map view: a grid cell (about 60 px on screen at this zoom) holding one
    report gives that report; a cell holding more gives a cluster with its count by status and
    its extent. The answer's size depends on the view, never on how many reports exist."""
    categories = sorted({c for item in category or [] for c in item.split(",") if c})
    body = await clusters_json(
        conn,
        bbox=parse_bbox(bbox),
        zoom=zoom,
        group=group,
        categories=categories,
        statuses=list(status or []),
    )
    return Response(body, media_type="application/json")
