"""The officials' queue: one unit's reports, most urgent deadline first, with the counts per
status that the tabs show, all from the same WHERE so a count never disagrees with a list.

What is "open" and "overdue" is defined here once, as SQL on a report aliased ``r``; the
public figures (stats.py), the maps and the report API use the same fragments. A duplicate
follows its master and is not separate work, so it is counted in neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import ApiError
from geo_service.models import PRIORITIES

OPEN_STATUSES: tuple[str, ...] = ("received", "acknowledged", "in_progress")
CLOSED_STATUSES: tuple[str, ...] = ("resolved", "rejected")
STATUSES: tuple[str, ...] = OPEN_STATUSES + CLOSED_STATUSES

# A report that is work of its own (not a duplicate following its master).
COUNTED_SQL = "r.duplicate_of IS NULL"
# Open work. Written exactly like the predicate of the partial index reports_open_queue.
OPEN_SQL = "r.status IN ('received', 'acknowledged', 'in_progress') AND r.duplicate_of IS NULL"
# Open and past its deadline: a query, never a stored flag that could go stale.
OVERDUE_SQL = f"({OPEN_SQL} AND r.deadline_at < now())"

# OVERDUE_SQL for rows already restricted to COUNTED_SQL. Not naming duplicate_of lets the
# counts come from the covering index reports_unit_counts alone (an index-only scan).
_OVERDUE_COUNTED = (
    "(r.status IN ('received', 'acknowledged', 'in_progress') AND r.deadline_at < now())"
)

Sort = Literal["deadline", "-deadline", "created", "-created"]
ORDER_BY: dict[str, str] = {
    "deadline": "r.deadline_at, r.id",
    "-deadline": "r.deadline_at DESC, r.id DESC",
    "created": "r.created_at, r.id",
    "-created": "r.created_at DESC, r.id DESC",
}


@dataclass(frozen=True)
class Scope:
    """Whose reports a caller may see: one unit's, or (unit_id None) every unit's. Every
    staff query puts this in its WHERE, so another unit's report is simply not there."""

    unit_id: int | None

    # For lookups by id: one row either way, so one statement serves every caller.
    SQL = "(CAST(:scope_unit AS int) IS NULL OR r.unit_id = CAST(:scope_unit AS int))"

    @property
    def unit_filter(self) -> str:
        """For lists and counts: a plain ``r.unit_id = ...`` the planner can use an index
        for, even in a generic (prepared) plan, where the OR form above would defeat it."""
        return "true" if self.unit_id is None else "r.unit_id = :scope_unit"

    @property
    def params(self) -> dict[str, Any]:
        return {"scope_unit": self.unit_id}


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = OPEN_STATUSES
    categories: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    overdue: bool | None = None
    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    text: str | None = None
    assignee: int | None = None


def _text_pattern(value: str) -> str:
    """An ILIKE pattern matching the words in order; % and _ typed by the user are literal."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + "%".join(escaped.split()) + "%"


def _where(scope: Scope, f: QueueFilter, params: dict[str, Any]) -> list[str]:
    """The WHERE terms of every filter except status and overdue (the counts break those
    down themselves)."""
    where = [scope.unit_filter, COUNTED_SQL]
    if f.categories:
        # Ids, not a subquery: the planner then knows how many rows match and picks the
        # deadline index for a broad filter (a subquery made it sort 70,000 rows).
        where.append("r.category_id = ANY(:category_ids)")
    if f.priorities:
        where.append("r.priority = ANY(:priorities)")
        params["priorities"] = list(f.priorities)
    if f.date_from:
        # The second term follows from the first (constraint reports_deadline_after_created)
        # and lets the list start the deadline index at that day, not at the oldest report.
        where.append("r.created_at >= :date_from AND r.deadline_at >= :date_from")
        params["date_from"] = f.date_from
    if f.date_to:
        where.append("r.created_at < :date_to")
        params["date_to"] = f.date_to
    if f.assignee is not None:
        where.append("r.assignee_id = :assignee")
        params["assignee"] = f.assignee
    if f.text:
        term = f.text.strip()
        if term.lstrip("#").isdigit() and len(term) < 18:
            where.append("r.id = :text_id")
            params["text_id"] = int(term.lstrip("#"))
        else:
            where.append("(r.description ILIKE :text OR r.address ILIKE :text)")
            params["text"] = _text_pattern(term)
    return where


ITEM_SQL = f"""
    json_build_object(
      'id', r.id, 'version', r.version,
      'category', c.code, 'category_name', c.name, 'category_name_en', c.name_en,
      'description', r.description, 'address', r.address,
      'lat', round(ST_Y(r.geom)::numeric, 6), 'lon', round(ST_X(r.geom)::numeric, 6),
      'status', r.status, 'priority', r.priority,
      'ward_code', r.ward_code, 'ward_name', a.name,
      'created_at', r.created_at, 'updated_at', r.updated_at, 'deadline_at', r.deadline_at,
      'closed_at', r.closed_at,
      'overdue', {OVERDUE_SQL}, 'reopened', r.reopened, 'plus_ones', r.plus_ones,
      'assignee_id', r.assignee_id,
      'photos', (SELECT count(*) FROM report_photos p
                  WHERE p.report_id = r.id AND p.event_id IS NULL))
"""


async def unit_for(conn: AsyncConnection, code: str, scope: Scope) -> dict[str, Any]:
    """The unit named ``code`` if the caller may see it; another unit is as unknown as a
    unit that does not exist."""
    row = (
        (
            await conn.execute(
                text(
                    "SELECT u.id, u.code, u.name, u.name_en, u.kind, u.ward_code FROM units u"
                    " WHERE u.code = :code"
                    " AND (CAST(:scope_unit AS int) IS NULL OR u.id = CAST(:scope_unit AS int))"
                ),
                {"code": code, **scope.params},
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ApiError(404, f"unit: no unit {code!r}", "unit")
    return dict(row)


async def unit_for_id(conn: AsyncConnection, unit_id: int) -> dict[str, Any]:
    row = (
        (
            await conn.execute(
                text(
                    "SELECT u.id, u.code, u.name, u.name_en, u.kind, u.ward_code FROM units u"
                    " WHERE u.id = :id"
                ),
                {"id": unit_id},
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def check_categories(conn: AsyncConnection, codes: list[str]) -> None:
    known = set(
        (
            await conn.execute(
                text("SELECT code FROM categories WHERE code = ANY(:c)"), {"c": codes}
            )
        ).scalars()
    )
    unknown = sorted(set(codes) - known)
    if unknown:
        raise ApiError(422, f"category: unknown category {', '.join(unknown)}", "category")


async def build_filter(
    conn: AsyncConnection,
    *,
    user_id: int,
    timezone: str,
    statuses: tuple[str, ...] = OPEN_STATUSES,
    categories: list[str] | None = None,
    priorities: list[str] | None = None,
    overdue: bool | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    text: str | None = None,
    assignee: str | None = None,
) -> QueueFilter:
    """The queue's filters as the API and the staff page receive them: days in city time
    (``date_to`` included), ``assignee`` 'me' or a user id; 422 naming the wrong one."""
    wrong = [p for p in priorities or [] if p not in PRIORITIES]
    if wrong:
        raise ApiError(
            422, f"priority: {wrong[0]!r} is not one of {', '.join(PRIORITIES)}", "priority"
        )
    if categories:
        await check_categories(conn, categories)
    if date_from and date_to and date_to < date_from:
        raise ApiError(422, "to: must not be before from", "to")
    assignee_id = None
    if assignee is not None:
        if assignee == "me":
            assignee_id = user_id
        elif assignee.isdigit() and len(assignee) < 10:
            assignee_id = int(assignee)
        else:
            raise ApiError(422, "assignee: 'me' or a user id", "assignee")
    tz = ZoneInfo(timezone)

    def day_start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=tz)

    return QueueFilter(
        statuses=tuple(s for s in STATUSES if s in statuses),
        categories=tuple(categories or ()),
        priorities=tuple(priorities or ()),
        overdue=overdue,
        date_from=day_start(date_from) if date_from else None,
        date_to=day_start(date_to + dt.timedelta(days=1)) if date_to else None,
        text=text.strip() if text and text.strip() else None,
        assignee=assignee_id,
    )


async def queue_page(
    conn: AsyncConnection,
    scope: Scope,
    f: QueueFilter,
    *,
    sort: Sort = "deadline",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """One page of the queue plus, under the same filters, the count per status, the open
    and overdue counts, and how many match the status/overdue filter (``total``)."""
    params: dict[str, Any] = {**scope.params}
    if f.categories:
        sql = text("SELECT id FROM categories WHERE code = ANY(:codes)")
        ids = await conn.execute(sql, {"codes": list(f.categories)})
        params["category_ids"] = list(ids.scalars())
    where = _where(scope, f, params)
    counts_sql = text(
        f"""
        SELECT r.status, count(*) AS n, count(*) FILTER (WHERE {_OVERDUE_COUNTED}) AS overdue
          FROM reports r
         WHERE {" AND ".join(where)}
         GROUP BY r.status
        """
    )
    by_status = {s: 0 for s in STATUSES}
    overdue_by_status = {s: 0 for s in STATUSES}
    for row in await conn.execute(counts_sql, params):
        by_status[row.status] = by_status.get(row.status, 0) + row.n
        overdue_by_status[row.status] = overdue_by_status.get(row.status, 0) + row.overdue
    wanted = [s for s in f.statuses if s in by_status]
    if f.overdue is True:
        total = sum(overdue_by_status[s] for s in wanted)
    elif f.overdue is False:
        total = sum(by_status[s] - overdue_by_status[s] for s in wanted)
    else:
        total = sum(by_status[s] for s in wanted)

    list_where = [*where, "r.status = ANY(:statuses)"]
    params["statuses"] = list(f.statuses)
    if set(f.statuses) <= set(OPEN_STATUSES):
        # Lets the planner use the partial index of open work (reports_open_queue).
        list_where.append(OPEN_SQL)
    if f.overdue is True:
        list_where.append(OVERDUE_SQL)
    elif f.overdue is False:
        list_where.append(f"NOT {OVERDUE_SQL}")
    params.update(limit=page_size, offset=(page - 1) * page_size)
    items_sql = text(
        f"""
        SELECT coalesce(json_agg(q.item ORDER BY q.rn), '[]'::json)::text
          FROM (SELECT r.rn, {ITEM_SQL} AS item
                  FROM (SELECT p.*, row_number() OVER () AS rn
                          FROM (SELECT r.* FROM reports r
                                 WHERE {" AND ".join(list_where)}
                                 ORDER BY {ORDER_BY[sort]}
                                 LIMIT :limit OFFSET :offset) p) r
                  JOIN categories c ON c.id = r.category_id
                  LEFT JOIN areas a ON a.set_id = r.boundary_set_id AND a.code = r.ward_code) q
        """
    )
    items = (await conn.execute(items_sql, params)).scalar_one()
    return {
        "counts": {
            **by_status,
            "open": sum(by_status[s] for s in OPEN_STATUSES),
            "overdue": sum(overdue_by_status.values()),
        },
        "total": total,
        "page": page,
        "page_size": page_size,
        "pages": max(1, -(-total // page_size)),
        "items_json": items,
    }
