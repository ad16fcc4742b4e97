"""The public figures iHanoi publishes: reports received, resolved, open and overdue, the
share resolved on time, the median time to resolve and how satisfied citizens were; for the
city and per ward, unit and category, from one scan (GROUPING SETS).

They are counted with the queue's own SQL fragments (queue.OPEN_SQL, OVERDUE_SQL,
COUNTED_SQL), so a unit's figures and its queue's counts agree exactly: duplicates follow
their master and are counted in neither.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import ApiError
from geo_service.queue import COUNTED_SQL, OPEN_SQL, OVERDUE_SQL, STATUSES

# Aggregates over reports ``r`` LEFT JOINed to their rating ``g`` (see FIGURES_FROM).
# COUNTS_SQL can be computed by hashing; the median needs a sort, so figures() runs it
# apart, over the resolved reports only.
COUNTS_SQL = f"""
    count(*) AS received,
    {", ".join(f"count(*) FILTER (WHERE r.status = '{s}') AS status_{s}" for s in STATUSES)},
    count(*) FILTER (WHERE {OPEN_SQL}) AS open,
    count(*) FILTER (WHERE {OVERDUE_SQL}) AS overdue,
    count(*) FILTER (WHERE r.status = 'resolved' AND r.closed_at <= r.deadline_at)
      AS resolved_on_time,
    count(g.report_id) AS ratings,
    count(*) FILTER (WHERE g.satisfied) AS satisfied
"""
MEDIAN_SQL = """
    percentile_cont(0.5) WITHIN GROUP (
      ORDER BY extract(epoch FROM r.closed_at - r.created_at) / 3600.0)
      FILTER (WHERE r.status = 'resolved') AS median_hours_to_resolve
"""
FIGURES_SQL = f"{COUNTS_SQL}, {MEDIAN_SQL}"
FIGURES_FROM = "reports r LEFT JOIN ratings g ON g.report_id = r.id"

BREAKDOWNS = ("ward", "unit", "category")


def _shape(row: Any, median: float | None) -> dict[str, Any]:
    """Counts plus the derived rates (None where there is nothing to divide by)."""
    resolved = row.status_resolved
    return {
        "received": row.received,
        "resolved": resolved,
        "rejected": row.status_rejected,
        "open": row.open,
        "overdue": row.overdue,
        "by_status": {s: getattr(row, f"status_{s}") for s in STATUSES},
        "resolved_on_time": row.resolved_on_time,
        "share_resolved_on_time": round(row.resolved_on_time / resolved, 4) if resolved else None,
        "median_hours_to_resolve": round(float(median), 2) if median is not None else None,
        "ratings": row.ratings,
        "satisfied": row.satisfied,
        "satisfaction_rate": round(row.satisfied / row.ratings, 4) if row.ratings else None,
    }


async def _lookup(conn: AsyncConnection, sql: str, code: str, field: str) -> int | str:
    value = (await conn.execute(text(sql), {"code": code})).scalar()
    if value is None:
        raise ApiError(422, f"{field}: no {field} {code!r}", field)
    return value


async def figures(
    conn: AsyncConnection,
    *,
    ward: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    date_from: dt.datetime | None = None,
    date_to: dt.datetime | None = None,
    breakdowns: bool = True,
) -> dict[str, Any]:
    """Figures for reports created in [date_from, date_to) matching the filters: ``total``
    and, with ``breakdowns``, ``by_ward``, ``by_unit`` and ``by_category``."""
    where = [COUNTED_SQL]
    params: dict[str, Any] = {}
    if ward is not None:
        await _lookup(
            conn,
            "SELECT a.code FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
            " WHERE a.code = :code AND b.level = 'ward'"
            " UNION ALL SELECT ward_code FROM reports WHERE ward_code = :code LIMIT 1",
            ward,
            "ward",
        )
        where.append("r.ward_code = :ward")
        params["ward"] = ward
    if unit is not None:
        params["unit"] = await _lookup(
            conn, "SELECT id FROM units WHERE code = :code", unit, "unit"
        )
        where.append("r.unit_id = :unit")
    if category is not None:
        params["category"] = await _lookup(
            conn, "SELECT id FROM categories WHERE code = :code", category, "category"
        )
        where.append("r.category_id = :category")
    if date_from is not None:
        where.append("r.created_at >= :date_from")
        params["date_from"] = date_from
    if date_to is not None:
        where.append("r.created_at < :date_to")
        params["date_to"] = date_to
    if breakdowns:
        keys = """GROUPING(r.ward_code) = 0 AS by_ward, GROUPING(r.unit_id) = 0 AS by_unit,
                  GROUPING(r.category_id) = 0 AS by_category,
                  r.ward_code, r.unit_id, r.category_id"""
        group_by = "GROUP BY GROUPING SETS ((), (r.ward_code), (r.unit_id), (r.category_id))"
    else:
        keys = """false AS by_ward, false AS by_unit, false AS by_category,
                  NULL AS ward_code, NULL AS unit_id, NULL AS category_id"""
        group_by = ""
    rows = (
        await conn.execute(
            text(
                f"""
                SELECT {keys}, {COUNTS_SQL}
                  FROM {FIGURES_FROM}
                 WHERE {" AND ".join(where)}
                 {group_by}
                """
            ),
            params,
        )
    ).all()
    medians = {
        (m.by_ward, m.by_unit, m.by_category, m.ward_code, m.unit_id, m.category_id): (
            m.median_hours_to_resolve
        )
        for m in await conn.execute(
            text(
                f"""
                SELECT {keys}, {MEDIAN_SQL}
                  FROM reports r
                 WHERE {" AND ".join(where)} AND r.status = 'resolved'
                 {group_by}
                """
            ),
            params,
        )
    }
    names = await _names(conn)
    out: dict[str, Any] = {"total": None, "by_ward": [], "by_unit": [], "by_category": []}
    for row in rows:
        median = medians.get(
            (row.by_ward, row.by_unit, row.by_category, row.ward_code, row.unit_id, row.category_id)
        )
        figures_ = _shape(row, median)
        if row.by_ward:
            ward_name = names["ward"].get(row.ward_code, row.ward_code)
            out["by_ward"].append({"code": row.ward_code, "name": ward_name, **figures_})
        elif row.by_unit:
            code, name, name_en = names["unit"][row.unit_id]
            out["by_unit"].append({"code": code, "name": name, "name_en": name_en, **figures_})
        elif row.by_category:
            code, name, name_en = names["category"][row.category_id]
            out["by_category"].append({"code": code, "name": name, "name_en": name_en, **figures_})
        else:
            out["total"] = figures_
    for key in ("by_ward", "by_unit", "by_category"):
        out[key].sort(key=lambda f: (-f["received"], f["code"]))
    if not breakdowns:
        for key in ("by_ward", "by_unit", "by_category"):
            del out[key]
    return out


async def _names(conn: AsyncConnection) -> dict[str, dict[Any, Any]]:
    wards = await conn.execute(
        text(
            "SELECT a.code, a.name FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
            " WHERE b.level = 'ward' ORDER BY b.active, b.valid_from"
        )
    )
    units = await conn.execute(text("SELECT id, code, name, name_en FROM units"))
    categories = await conn.execute(text("SELECT id, code, name, name_en FROM categories"))
    return {
        "ward": {r.code: r.name for r in wards},  # the active set's name wins (sorted last)
        "unit": {r.id: (r.code, r.name, r.name_en) for r in units},
        "category": {r.id: (r.code, r.name, r.name_en) for r in categories},
    }
