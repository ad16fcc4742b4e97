"""GET /api/v1/reports/clusters: the public map's reports in a view, clustered server-side.

Registered before the reports router so that ``/reports/clusters`` is not read as
``/reports/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api import deps
from geo_service.api.filters import ReportFilterDep
from geo_service.clusters import MAX_ZOOM, clusters_json
from geo_service.errors import Invalid, field_message
from geo_service.i18n import N_

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
    filters: ReportFilterDep,
    zoom: Annotated[int, Query(ge=0, le=MAX_ZOOM, description="the map's zoom level")],
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """The reports in a map view (`bbox`, required): a grid cell (about 60 px on screen at
    this zoom) holding one report gives that report; a cell holding more gives a cluster with
    its count by status and its extent. The answer's size depends on the view, never on how
    many reports exist."""
    if filters.bbox is None:
        raise Invalid(field_message("bbox", N_("is required")), "bbox")
    body = await clusters_json(conn, filters, zoom=zoom)
    return Response(body, media_type="application/json")
