"""The officials' queue: one unit's reports, most urgent deadline first, with the counts per
status that the tabs show, all from the same filter (report_query.ReportFilter) so a count
never disagrees with a list, nor with the figures.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import NotFound, field_message
from geo_service.i18n import N_
from geo_service.report_query import (
    OPEN_STATUSES,
    OVERDUE_COUNTED_SQL,
    STATUSES,
    ReportFilter,
    Scope,
    Status,
)
from geo_service.report_query.projections import JOINS_SQL, QUEUE_ITEM_SQL, QueueItem

Sort = Literal["deadline", "-deadline", "created", "-created"]
ORDER_BY: dict[str, str] = {
    "deadline": "r.deadline_at, r.id",
    "-deadline": "r.deadline_at DESC, r.id DESC",
    "created": "r.created_at, r.id",
    "-created": "r.created_at DESC, r.id DESC",
}


class UnitRow(BaseModel):
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    ward_code: str | None


class QueuePage(BaseModel):
    """GET /api/v1/queue: a page of the queue and, under the same filter, the counts."""

    unit: UnitRow | None = Field(description="The unit whose queue this is; null: every unit.")
    statuses: list[Status]
    counts: dict[str, int] = Field(description="Per status, and `open`, `overdue`.")
    total: int = Field(description="Reports matching the statuses and overdue filter.")
    page: int
    page_size: int
    pages: int
    items: list[QueueItem]


UNIT_SQL = """SELECT u.id, u.code, u.name, u.name_en, u.kind, u.ward_code FROM units u"""


async def unit_for(conn: AsyncConnection, code: str, scope: Scope) -> dict[str, Any]:
    """The unit named ``code`` if the caller may see it; another unit is as unknown as a
    unit that does not exist."""
    row = (
        (
            await conn.execute(
                text(
                    f"{UNIT_SQL} WHERE u.code = :code"
                    " AND (CAST(:scope_unit AS int) IS NULL OR u.id = CAST(:scope_unit AS int))"
                ),
                {"code": code, "scope_unit": scope.unit_id},
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(field_message("unit", N_("no unit {code!r}", code=code)), "unit")
    return dict(row)


async def unit_for_id(conn: AsyncConnection, unit_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(f"{UNIT_SQL} WHERE u.id = :id"), {"id": unit_id})).mappings()
    return dict(row.one())


async def status_counts(conn: AsyncConnection, f: ReportFilter) -> dict[str, dict[str, int]]:
    """Reports and overdue reports per status under every filter but status and overdue
    (the tabs break those down themselves). For counted reports only, so the counts come
    from the covering index reports_unit_counts alone (an index-only scan)."""
    where, params = replace(f, statuses=(), overdue=None, duplicates="exclude").where()
    sql = text(
        f"""
        SELECT r.status, count(*) AS n, count(*) FILTER (WHERE {OVERDUE_COUNTED_SQL}) AS overdue
          FROM reports r
         WHERE {where}
         GROUP BY r.status
        """
    )
    counts: dict[str, int] = {s: 0 for s in STATUSES}
    overdue: dict[str, int] = {s: 0 for s in STATUSES}
    for row in await conn.execute(sql, params):
        counts[row.status] += row.n
        overdue[row.status] += row.overdue
    return {"all": counts, "overdue": overdue}


async def page_items(
    conn: AsyncConnection, f: ReportFilter, *, sort: Sort, page: int, page_size: int
) -> str:
    """One page of the queue as a JSON array (QueueItem), built by PostgreSQL."""
    where, params = f.where()
    params.update(limit=page_size, offset=(page - 1) * page_size)
    sql = text(
        f"""
        SELECT coalesce(json_agg(q.item ORDER BY q.rn), '[]'::json)::text
          FROM (SELECT r.rn, {QUEUE_ITEM_SQL} AS item
                  FROM (SELECT p.*, row_number() OVER () AS rn
                          FROM (SELECT r.* FROM reports r
                                 WHERE {where}
                                 ORDER BY {ORDER_BY[sort]}
                                 LIMIT :limit OFFSET :offset) p) r
                  {JOINS_SQL}) q
        """
    )
    return str((await conn.execute(sql, params)).scalar_one())


def matching(counts: dict[str, dict[str, int]], f: ReportFilter) -> int:
    """How many reports the filter's statuses and overdue choice select, from the counts."""
    wanted = f.statuses or STATUSES
    if f.overdue is True:
        return sum(counts["overdue"][s] for s in wanted)
    if f.overdue is False:
        return sum(counts["all"][s] - counts["overdue"][s] for s in wanted)
    return sum(counts["all"][s] for s in wanted)


async def queue_page(
    conn: AsyncConnection,
    f: ReportFilter,
    *,
    sort: Sort = "deadline",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """One page of the queue plus, under the same filters, the count per status, the open
    and overdue counts, and how many match the status/overdue filter (``total``)."""
    f = await f.resolve(conn)
    counts = await status_counts(conn, f)
    total = matching(counts, f)
    items = await page_items(conn, f, sort=sort, page=page, page_size=page_size)
    return {
        "counts": {
            **counts["all"],
            "open": sum(counts["all"][s] for s in OPEN_STATUSES),
            "overdue": sum(counts["overdue"].values()),
        },
        "total": total,
        "page": page,
        "page_size": page_size,
        "pages": max(1, -(-total // page_size)),
        "items_json": items,
    }
