"""Atom feeds of new and updated public reports: the city's, a ward's, around a point;
each optionally for one category group. Built with feedgen from the public projection: no
personal data."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from feedgen.feed import FeedGenerator
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.i18n import gettext
from geo_service.labels import label
from geo_service.notify.manage import check_group
from geo_service.report_query.projections import FROM_SQL, PUBLIC_PAGE_FIELDS, json_object

METRES_PER_DEGREE = 111_320.0
FEED_SQL = f"""
    SELECT CAST({json_object((*PUBLIC_PAGE_FIELDS, "group"))} AS text) AS body
      {FROM_SQL}
     WHERE r.duplicate_of IS NULL AND {{where}}
       AND (CAST(:group AS text) IS NULL OR c.group_code = :group)
     ORDER BY r.updated_at DESC, r.id DESC
     LIMIT :limit
"""
NEAR_SQL = """r.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :degrees)
       AND ST_DWithin(CAST(r.geom AS geography),
                      CAST(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geography), :radius)"""


async def reports(
    conn: AsyncConnection,
    *,
    group: str | None,
    ward: str | None = None,
    near: tuple[float, float, float] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The newest updated public reports of the city, a ward or a circle (lat, lon, m)."""
    await check_group(conn, group)
    params: dict[str, Any] = {"group": group, "limit": limit}
    where = "true"
    if ward is not None:
        where, params["ward"] = "r.ward_code = :ward", ward
    elif near is not None:
        lat, lon, radius = near
        degrees = radius / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
        where = NEAR_SQL
        params.update(lat=lat, lon=lon, radius=radius, degrees=degrees)
    rows = await conn.execute(text(FEED_SQL.format(where=where)), params)
    return [json.loads(r.body) for r in rows]


def atom(
    items: list[dict[str, Any]], *, title: str, self_url: str, site_url: str, lang: str
) -> bytes:
    """The reports as an Atom feed, one entry per report, updated when it last moved."""
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(title)
    fg.author({"name": "geo_service"})
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=site_url, rel="alternate", type="text/html")
    fg.language(lang)
    newest = max((i["updated_at"] for i in items), default=None)
    fg.updated(dt.datetime.fromisoformat(newest) if newest else dt.datetime.now(dt.UTC))
    vi = lang == "vi"
    for item in reversed(items):  # feedgen puts the last added first
        link = f"{site_url.rstrip('/')}/reports/{item['id']}"
        category = item["category_name"] if vi else item["category_name_en"]
        status = label("status", item["status"], lang)
        entry = fg.add_entry()
        entry.id(link)
        entry.link(href=link, rel="alternate", type="text/html")
        entry.title(f"#{item['id']} {category} ({status})")
        entry.published(dt.datetime.fromisoformat(item["created_at"]))
        entry.updated(dt.datetime.fromisoformat(item["updated_at"]))
        entry.category(term=item["group"], label=category)
        where = item["ward_name"] or item["ward_code"]
        entry.summary(
            gettext(lang, "{status} · {ward}", status=status, ward=where)
            + "\n\n"
            + item["description"]
        )
    return bytes(fg.atom_str(pretty=True))
