"""Planners' maps and analytics: HTML maps (``/maps/...``), the same results as GeoJSON
(``/api/v1/analytics/...``) and report exports (``/api/v1/export``).

Planners and admins see every report; unit staff see their unit's area (the reports their
unit handles, and for a ward's People's Committee its whole ward); others get 403, and
anonymous callers 401 (the HTML maps send a browser to the login page instead). The work is
in ``maps/``; these handlers read the parameters, decide the scope, and run the synchronous
map code in the thread pool (it is CPU work as much as SQL, and must not hold up the event
loop).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from sqlalchemy import Connection
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from geo_service import db
from geo_service.api import deps
from geo_service.api.filters import ReportFilterDep
from geo_service.auth import User
from geo_service.config import Settings
from geo_service.errors import Forbidden
from geo_service.i18n import N_
from geo_service.profile import Profile
from geo_service.report_query import EVERYTHING, Scope
from maps import build, export, render
from maps.filters import MapFilters, check_filters

router = APIRouter(tags=["maps"])
GEOJSON = "application/geo+json"
T = TypeVar("T")


def map_user(user: User = Depends(deps.current_user)) -> User:
    """Planners, admins, and unit staff (for their unit's area)."""
    if user.sees_all:
        return user
    if user.is_staff and user.unit_id is not None:
        return user
    message = N_("maps are for planners, admins and unit staff; you are {role}", role=user.role)
    raise Forbidden(message)


def map_page_user(user: User = Depends(deps.page_user)) -> User:
    """The same rule for the HTML maps, but a browser that is not logged in is sent to the
    login page, which brings the planner back to this map afterwards."""
    return map_user(user)


def _filters_for(who: Callable[..., Any]) -> Callable[..., MapFilters]:
    """The filters dependency, for API callers (``map_user``) or pages (``map_page_user``)."""

    def map_filters(
        filters: ReportFilterDep,
        profile: Profile = Depends(deps.profile),
        user: User = Depends(who),
    ) -> MapFilters:
        """The report filter from the query string, limited to the user's area."""
        tz = profile.city.timezone
        start, end = filters.period.start, filters.period.end
        scope = EVERYTHING if user.sees_all else Scope(user.unit_id)
        return MapFilters(
            report=replace(filters, scope=scope),
            date_from=start.astimezone(ZoneInfo(tz)).date() if start else None,
            date_to=(end.astimezone(ZoneInfo(tz)) - dt.timedelta(days=1)).date() if end else None,
            timezone=tz,
        )

    return map_filters


map_filters = _filters_for(map_user)
page_filters = _filters_for(map_page_user)


def _tiles(settings: Settings) -> render.Tiles:
    return render.Tiles(settings.tile_url, settings.tile_attribution, settings.tile_max_zoom)


async def _run(settings: Settings, work: Callable[[Connection], T]) -> T:
    """Run map code on a synchronous connection in the thread pool, in a transaction
    (``build.prepare`` sets options for it) that is rolled back: maps only read."""

    def call() -> T:
        with db.sync_engine(settings.sqlalchemy_url).connect() as conn:
            try:
                return work(conn)
            finally:
                conn.rollback()

    return await run_in_threadpool(call)


# --- HTML maps -----------------------------------------------------------------------------


@router.get("/maps/heatmap", response_class=HTMLResponse)
async def heatmap_page(
    filters: MapFilters = Depends(page_filters),
    settings: Settings = Depends(deps.settings),
    lang: str = Depends(deps.lang),
    cells: Annotated[int, Query(ge=20, le=400, description="grid cells across the view")] = 150,
) -> HTMLResponse:
    options = build.MapOptions(tiles=_tiles(settings), cells_across=cells, lang=lang)
    return HTMLResponse(await _run(settings, lambda c: build.heatmap(c, filters, options)))


def hotspot_options(
    settings: Settings = Depends(deps.settings),
    hex_size: Annotated[
        float | None, Query(ge=50, le=20_000, description="hexagon edge in metres")
    ] = None,
    eps: Annotated[float, Query(gt=0, le=5_000, description="DBSCAN radius, metres")] = 100.0,
    min_points: Annotated[int, Query(ge=2, le=100_000, description="DBSCAN core size")] = 30,
    fdr: Annotated[bool, Query(description="False Discovery Rate thresholds")] = True,
    lang: str = Depends(deps.lang),
) -> build.MapOptions:
    return build.MapOptions(
        tiles=_tiles(settings),
        lang=lang,
        hex_size_m=hex_size,
        eps_m=eps,
        min_points=min_points,
        false_discovery_rate=fdr,
    )


def ward_options(
    settings: Settings = Depends(deps.settings),
    metric: Literal["per_km2", "share_overdue", "median_hours", "satisfaction"] = "per_km2",
    scheme: Literal["quantiles", "natural_breaks"] = "quantiles",
    classes: Annotated[int, Query(ge=2, le=9)] = 5,
    lang: str = Depends(deps.lang),
) -> build.MapOptions:
    return build.MapOptions(
        tiles=_tiles(settings), metric=metric, scheme=scheme, classes=classes, lang=lang
    )


@router.get("/maps/hotspots", response_class=HTMLResponse)
async def hotspots_page(
    filters: MapFilters = Depends(page_filters),
    options: build.MapOptions = Depends(hotspot_options),
    settings: Settings = Depends(deps.settings),
) -> HTMLResponse:
    return HTMLResponse(await _run(settings, lambda c: build.hotspots(c, filters, options)))


@router.get("/maps/wards", response_class=HTMLResponse)
async def wards_page(
    filters: MapFilters = Depends(page_filters),
    options: build.MapOptions = Depends(ward_options),
    settings: Settings = Depends(deps.settings),
) -> HTMLResponse:
    return HTMLResponse(await _run(settings, lambda c: build.wards(c, filters, options)))


# --- GeoJSON -------------------------------------------------------------------------------


def _meta(filters: MapFilters, **more: Any) -> dict[str, Any]:
    r = filters.report
    return {
        "filters": {
            "group": list(r.groups),
            "category": list(r.categories),
            "status": list(r.statuses),
            "priority": list(r.priorities),
            "channel": list(r.channels),
            "ward": list(r.wards),
            "from": str(filters.date_from),
            "to": str(filters.date_to),
            "unit_id": r.scope.unit_id,
        },
        **more,
    }


@router.get("/api/v1/analytics/hotspots")
async def hotspots_geojson(
    filters: MapFilters = Depends(map_filters),
    options: build.MapOptions = Depends(hotspot_options),
    settings: Settings = Depends(deps.settings),
) -> Response:
    """Gi* per hexagon (``layer: "hexagon"``: reports, z, p, spot) and the DBSCAN clusters
    (``layer: "cluster"``: rank, reports, main category and its share, ward), as on the map."""
    result = await _run(settings, lambda c: build.hotspot_analysis(c, filters, options))
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(s.hexagon.geojson),
            "properties": {
                "layer": "hexagon",
                "i": s.hexagon.i,
                "j": s.hexagon.j,
                "reports": s.hexagon.reports,
                "z": round(s.z, 4),
                "p": round(s.p, 6),
                "spot": s.spot,
            },
        }
        for s in result.stats
    ]
    features += [
        {
            "type": "Feature",
            "geometry": json.loads(c.hull),
            "properties": {
                "layer": "cluster",
                "rank": c.rank,
                "reports": c.reports,
                "category": c.category,
                "category_share": round(c.category_share, 4),
                "ward_code": c.ward_code,
                "ward_name": c.ward_name,
                "centre": [round(c.lon, 6), round(c.lat, 6)],
            },
        }
        for c in result.clusters.clusters
    ]
    body = {
        "type": "FeatureCollection",
        "features": features,
        "meta": _meta(
            result.filters,
            hex_size_m=result.size_m,
            false_discovery_rate=options.false_discovery_rate,
            dbscan={
                "eps_m": result.clusters.eps_m,
                "min_points": result.clusters.min_points,
                "sample_every": result.clusters.sample_every,
            },
        ),
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type=GEOJSON)


@router.get("/api/v1/analytics/wards")
async def wards_geojson(
    filters: MapFilters = Depends(map_filters),
    options: build.MapOptions = Depends(ward_options),
    settings: Settings = Depends(deps.settings),
) -> Response:
    """Per ward: reports, per km², overdue and their share, median hours to resolve,
    satisfaction, reports in the previous period and the change, and the choropleth class."""
    checked, _, figures, classes = await _run(
        settings, lambda c: build.ward_analysis(c, filters, options)
    )
    previous = checked.previous()
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(w.geojson),
            "properties": {
                "code": w.code,
                "name": w.name,
                "area_km2": round(w.area_km2, 4),
                "reports": w.reports,
                "per_km2": round(w.per_km2, 4),
                "overdue": w.overdue,
                "share_overdue": w.share_overdue,
                "median_hours": w.median_hours,
                "satisfaction": w.satisfaction,
                "previous": w.previous,
                "change": w.change,
                "class": cls,
            },
        }
        for w, cls in zip(figures, classes.index, strict=True)
    ]
    body = {
        "type": "FeatureCollection",
        "features": features,
        "meta": _meta(
            checked,
            metric=options.metric,
            scheme=options.scheme,
            bins=classes.bins,
            previous={"from": str(previous.date_from), "to": str(previous.date_to)},
        ),
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type=GEOJSON)


# --- Export --------------------------------------------------------------------------------


@router.get("/api/v1/export", response_model=None)
async def export_reports(
    filters: MapFilters = Depends(map_filters),
    settings: Settings = Depends(deps.settings),
    format: Literal["geojson", "gpkg", "csv"] = "geojson",
) -> Response:
    """The filtered reports without personal data, streamed (GeoJSON, CSV) or as a
    GeoPackage file for QGIS."""
    checked = await _run(settings, lambda c: check_filters(c, filters))
    engine = db.sync_engine(settings.sqlalchemy_url)
    media_type, suffix = export.FORMATS[format]
    name = f"reports-{checked.date_from}-{checked.date_to}.{suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "gpkg":
        path: Path = await run_in_threadpool(export.gpkg_file, engine, checked)
        return FileResponse(
            path,
            media_type=media_type,
            headers=headers,
            background=BackgroundTask(export.remove_gpkg, path),
        )
    chunks = export.geojson_chunks if format == "geojson" else export.csv_chunks
    return StreamingResponse(chunks(engine, checked), media_type=media_type, headers=headers)
