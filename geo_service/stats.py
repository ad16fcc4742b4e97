"""The public figures iHanoi publishes: reports received, resolved, open and overdue, the
share resolved on time, the median time to resolve and how satisfied citizens were; for the
city and per ward, unit, category and channel, from one scan (GROUPING SETS).

They count the reports a ReportFilter selects with the queue's own predicates
(report_query), so a unit's figures and its queue's counts agree exactly: duplicates follow
their master and are counted in neither.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.report_query import OPEN_SQL, OVERDUE_SQL, STATUSES, ReportFilter

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

# Each breakdown: the report's column it groups by.
BREAKDOWNS: dict[str, str] = {
    "ward": "r.ward_code",
    "unit": "r.unit_id",
    "category": "r.category_id",
    "channel": "r.channel",
}
KEYS_SQL = ", ".join(
    [f"GROUPING({col}) = 0 AS by_{name}" for name, col in BREAKDOWNS.items()]
    + [f"{col} AS {name}_key" for name, col in BREAKDOWNS.items()]
)
NO_KEYS_SQL = ", ".join(
    [f"false AS by_{name}" for name in BREAKDOWNS] + [f"NULL AS {name}_key" for name in BREAKDOWNS]
)
GROUPING_SQL = (
    "GROUP BY GROUPING SETS ((), " + ", ".join(f"({c})" for c in BREAKDOWNS.values()) + ")"
)


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


def _group_key(row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, f"by_{n}") for n in BREAKDOWNS) + tuple(
        getattr(row, f"{n}_key") for n in BREAKDOWNS
    )


async def _rows(
    conn: AsyncConnection, f: ReportFilter, breakdowns: bool
) -> tuple[list[Any], dict[tuple[Any, ...], Any]]:
    """The counts per group, and the median per group (resolved reports only)."""
    where, params = f.where()
    keys, group_by = (KEYS_SQL, GROUPING_SQL) if breakdowns else (NO_KEYS_SQL, "")
    counts_sql = f"SELECT {keys}, {COUNTS_SQL} FROM {FIGURES_FROM} WHERE {where} {group_by}"
    rows = list((await conn.execute(text(counts_sql), params)).all())
    median_sql = (
        f"SELECT {keys}, {MEDIAN_SQL} FROM reports r"
        f" WHERE {where} AND r.status = 'resolved' {group_by}"
    )
    medians = {
        _group_key(m): m.median_hours_to_resolve
        for m in await conn.execute(text(median_sql), params)
    }
    return rows, medians


async def figures(
    conn: AsyncConnection, f: ReportFilter, *, breakdowns: bool = True
) -> dict[str, Any]:
    """Figures for the reports the filter selects (duplicates are never counted): ``total``
    and, with ``breakdowns``, ``by_ward``, ``by_unit``, ``by_category`` and ``by_channel``."""
    f = await replace(f, duplicates="exclude").resolve(conn)
    rows, medians = await _rows(conn, f, breakdowns)
    names = await _names(conn)
    out: dict[str, Any] = {"total": None, **{f"by_{n}": [] for n in BREAKDOWNS}}
    for row in rows:
        figures_ = _shape(row, medians.get(_group_key(row)))
        name = next((n for n in BREAKDOWNS if getattr(row, f"by_{n}")), None)
        if name is None:
            out["total"] = figures_
        else:
            out[f"by_{name}"].append({**names[name](getattr(row, f"{name}_key")), **figures_})
    for name in BREAKDOWNS:
        out[f"by_{name}"].sort(key=lambda g: (-g["received"], g["code"]))
        if not breakdowns:
            del out[f"by_{name}"]
    return out


async def _names(conn: AsyncConnection) -> dict[str, Any]:
    """How each breakdown's key is shown: code and names."""
    wards = await conn.execute(
        text(
            "SELECT a.code, a.name FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
            " WHERE b.level = 'ward' ORDER BY b.active, b.valid_from"
        )
    )
    ward = {r.code: r.name for r in wards}  # the active set's name wins (sorted last)
    units = await conn.execute(text("SELECT id, code, name, name_en FROM units"))
    unit = {r.id: {"code": r.code, "name": r.name, "name_en": r.name_en} for r in units}
    categories = await conn.execute(text("SELECT id, code, name, name_en FROM categories"))
    category = {r.id: {"code": r.code, "name": r.name, "name_en": r.name_en} for r in categories}
    return {
        "ward": lambda code: {"code": code, "name": ward.get(code, code)},
        "unit": lambda key: unit[key],
        "category": lambda key: category[key],
        "channel": lambda code: {"code": code},
    }
