"""The front page: what this service is, where to start, and the boundary attribution."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api import deps
from geo_service.profile import Profile

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def index(
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> HTMLResponse:
    attributions = (
        await conn.execute(text("SELECT DISTINCT attribution FROM boundary_sets WHERE active"))
    ).scalars()
    footer = "<br>".join(escape(a) for a in attributions if a)
    city = escape(profile.city.name)
    return HTMLResponse(
        f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Phản ánh hiện trường – {city}</title>
<link rel="stylesheet" href="/static/site.css"></head>
<body><main>
<h1>Phản ánh hiện trường – {city}</h1>
<p lang="en">Street problem reports for {escape(profile.city.name_en)}: a pin becomes a report
routed to the ward or department that must fix it.</p>
<ul>
<li><a href="/docs">API documentation (OpenAPI)</a></li>
<li><a href="/api/v1/categories">Categories</a> ·
    <a href="/api/v1/units">Units</a> ·
    <a href="/api/v1/boundaries/wards?simplify=20">Ward boundaries (GeoJSON)</a></li>
<li><a href="/api/v1/reports">Latest reports (GeoJSON)</a></li>
</ul>
</main>
<footer><small>{footer}</small></footer>
</body></html>"""
    )
