"""A report's public page by its number, for anyone who finds it on the public map.

It shows what the tracking page shows (``citizens.track``) without the token holder's
rights: state, place, unit, deadline and the public timeline; never anyone's name or
contact, nor internal notes. Both use ``citizens.PUBLIC_REPORT_JSON``, so the two pages can
never differ in what they make public.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.citizens import PUBLIC_REPORT_JSON
from geo_service.errors import NotFound
from geo_service.i18n import N_
from geo_service.report_query.projections import FROM_SQL

PUBLIC_REPORT_SQL = text(
    f"""
    SELECT {PUBLIC_REPORT_JSON} AS body {FROM_SQL} WHERE r.id = :id
    """
)


async def public_report(conn: AsyncConnection, report_id: int) -> dict[str, Any]:
    """One report's public view with its timeline: the shape ``citizens.track`` returns,
    without the token holder's ``you_are``, ``can_rate`` and ``can_reopen``."""
    body = (await conn.execute(PUBLIC_REPORT_SQL, {"id": report_id})).scalar()
    if body is None:
        raise NotFound(N_("no report with id {id}", id=report_id), "id")
    result: dict[str, Any] = json.loads(body)
    return result
