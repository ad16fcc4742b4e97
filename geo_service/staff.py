"""What officials read and change besides transitions: a report with everything they need to
handle it (contact details, full history with internal notes, duplicates, what may come next),
priority and assignee changes, and the response templates they pick from.

Every query carries the caller's Scope in its WHERE: another unit's report is not found (404),
exactly like a report that does not exist.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.auth import User
from geo_service.errors import ApiError
from geo_service.queue import OVERDUE_SQL, Scope
from geo_service.reports import Priority
from geo_service.workflow import ALLOWED, REJECT_REASONS, TRANSFER_REASONS

STAFF_ROLES = ("unit_staff", "unit_manager", "planner", "admin")
WRITE_ROLES = ("unit_staff", "unit_manager", "admin")
MANAGER_ROLES = ("unit_manager", "admin")


def scope_of(user: User) -> Scope:
    """Unit officials see their unit; planners and admins every unit."""
    return Scope(None if user.sees_all else (user.unit_id or -1))


PHOTOS = """coalesce((SELECT json_agg('/media/photos/' || p.file_name ORDER BY p.id)
                        FROM report_photos p WHERE {where}), '[]'::json)"""

DETAIL_SQL = f"""
    SELECT r.status, r.duplicate_of, r.unit_id, r.category_id, CAST(json_build_object(
      'id', r.id, 'version', r.version,
      'category', c.code, 'category_name', c.name, 'category_name_en', c.name_en,
      'description', r.description, 'address', r.address,
      'lat', round(ST_Y(r.geom)::numeric, 6), 'lon', round(ST_X(r.geom)::numeric, 6),
      'location_source', r.location_source, 'snapped_m', r.snapped_m,
      'status', r.status, 'priority', r.priority,
      'ward_code', r.ward_code, 'ward_name', a.name, 'boundary_set', b.name,
      'unit', json_build_object('id', u.id, 'code', u.code, 'name', u.name),
      'assignee', (SELECT json_build_object('id', s.id, 'username', s.username,
                                            'display_name', s.display_name)
                     FROM users s WHERE s.id = r.assignee_id),
      'created_at', r.created_at, 'updated_at', r.updated_at,
      'deadline_at', r.deadline_at, 'closed_at', r.closed_at,
      'overdue', {OVERDUE_SQL}, 'reopened', r.reopened, 'plus_ones', r.plus_ones,
      'duplicate_of', r.duplicate_of,
      'duplicates', coalesce((SELECT json_agg(d.id ORDER BY d.id) FROM reports d
                               WHERE d.duplicate_of = r.id), '[]'::json),
      'reporter', json_build_object('name', r.reporter_name, 'phone', r.reporter_phone,
                                    'email', r.reporter_email),
      'source', r.source,
      'photos', {PHOTOS.format(where="p.report_id = r.id AND p.event_id IS NULL")},
      'rating', (SELECT json_build_object('satisfied', g.satisfied, 'stars', g.stars,
                                          'comment', g.comment, 'created_at', g.created_at)
                   FROM ratings g WHERE g.report_id = r.id),
      'events', coalesce((
        SELECT json_agg(json_build_object(
                 'id', e.id, 'at', e.at, 'from', e.from_status, 'to', e.to_status,
                 'by', e.actor, 'user', s.display_name, 'username', s.username,
                 'reason', e.reason, 'public_comment', e.public_comment,
                 'internal_note', e.internal_note, 'unit_code', eu.code, 'unit_name', eu.name,
                 'photos', {PHOTOS.format(where="p.event_id = e.id")})
               ORDER BY e.at, e.id)
          FROM report_events e
          LEFT JOIN users s ON s.id = e.user_id
          LEFT JOIN units eu ON eu.id = e.unit_id
         WHERE e.report_id = r.id), '[]'::json)) AS text) AS body
      FROM reports r
      JOIN categories c ON c.id = r.category_id
      JOIN units u ON u.id = r.unit_id
      JOIN boundary_sets b ON b.id = r.boundary_set_id
      LEFT JOIN areas a ON a.set_id = r.boundary_set_id AND a.code = r.ward_code
     WHERE r.id = :id AND {Scope.SQL}
"""

TEMPLATES_SQL = """
    SELECT coalesce(json_agg(json_build_object(
             'id', t.id, 'code', t.code, 'status', t.status, 'title', t.title, 'body', t.body,
             'category', c.code, 'unit', u.code)
             ORDER BY t.status NULLS FIRST, t.category_id NULLS FIRST, t.unit_id NULLS FIRST,
                      t.title), '[]'::json)::text
      FROM response_templates t
      LEFT JOIN categories c ON c.id = t.category_id
      LEFT JOIN units u ON u.id = t.unit_id
     WHERE t.active
       AND (t.unit_id IS NULL OR CAST(:unit AS int) IS NULL OR t.unit_id = CAST(:unit AS int))
       AND (t.category_id IS NULL OR CAST(:category AS int) IS NULL
            OR t.category_id = CAST(:category AS int))
       AND (t.status IS NULL OR CAST(:status AS text) IS NULL OR t.status = :status)
"""


async def report_detail(conn: AsyncConnection, report_id: int, scope: Scope) -> dict[str, Any]:
    row = (await conn.execute(text(DETAIL_SQL), {"id": report_id, **scope.params})).first()
    if row is None:
        raise ApiError(404, f"no report with id {report_id}", "id")
    body: dict[str, Any] = json.loads(row.body)
    body["allowed"] = [] if row.duplicate_of else list(ALLOWED.get(row.status, ()))
    body["reasons"] = {"rejected": REJECT_REASONS, "transferred": TRANSFER_REASONS}
    body["templates"] = json.loads(
        (
            await conn.execute(
                text(TEMPLATES_SQL),
                {"unit": row.unit_id, "category": row.category_id, "status": None},
            )
        ).scalar_one()
    )
    return body


async def templates(
    conn: AsyncConnection, scope: Scope, *, category: str | None, status: str | None
) -> list[dict[str, Any]]:
    category_id = None
    if category is not None:
        category_id = (
            await conn.execute(text("SELECT id FROM categories WHERE code = :c"), {"c": category})
        ).scalar()
        if category_id is None:
            raise ApiError(422, f"category {category!r} is not a known category", "category")
    out: list[dict[str, Any]] = json.loads(
        (
            await conn.execute(
                text(TEMPLATES_SQL),
                {"unit": scope.unit_id, "category": category_id, "status": status},
            )
        ).scalar_one()
    )
    return out


class ReportPatch(BaseModel):
    """A manager's change to who handles a report and how urgent it is."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=2**31 - 1)
    priority: Priority | None = None
    assignee: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="a user id of the unit; null unassigns"
    )
    internal_note: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
        | None
    ) = None


async def patch_report(
    conn: AsyncConnection, report_id: int, patch: ReportPatch, user: User
) -> dict[str, Any]:
    """Change priority and/or assignee under the same version check as a transition, and
    record it as an event (internal: the status does not change)."""
    scope = scope_of(user)
    report = (
        await conn.execute(
            text(
                "SELECT r.id, r.status, r.version, r.unit_id, r.priority, r.assignee_id,"
                " r.duplicate_of"
                f" FROM reports r WHERE r.id = :id AND {Scope.SQL}"
            ),
            {"id": report_id, **scope.params},
        )
    ).first()
    if report is None:
        raise ApiError(404, f"no report with id {report_id}", "id")
    if patch.version != report.version:
        raise ApiError(
            409,
            f"report {report_id} was changed by someone else meanwhile (it is at version "
            f"{report.version}, you sent {patch.version}): reload it and decide again",
            "version",
            extra={"version": report.version},
        )
    fields = patch.model_fields_set - {"version", "internal_note"}
    if not fields:
        raise ApiError(422, "nothing to change: send priority and/or assignee", "priority")
    priority = patch.priority if "priority" in fields else report.priority
    if priority is None:
        raise ApiError(422, "priority: one of low, normal, high, urgent", "priority")
    assignee = patch.assignee if "assignee" in fields else report.assignee_id
    changes = []
    if priority != report.priority:
        changes.append(f"priority {report.priority} → {priority}")
    if assignee != report.assignee_id:
        if assignee is not None:
            name = (
                await conn.execute(
                    text(
                        "SELECT display_name FROM users WHERE id = :id AND active"
                        " AND unit_id = :unit AND role IN ('unit_staff', 'unit_manager')"
                    ),
                    {"id": assignee, "unit": report.unit_id},
                )
            ).scalar()
            if name is None:
                raise ApiError(
                    422, f"assignee: user {assignee} is not an official of this unit", "assignee"
                )
            changes.append(f"assigned to {name}")
        else:
            changes.append("unassigned")
    if not changes and not patch.internal_note:  # the same values again: nothing to record
        return {
            "id": report_id,
            "version": report.version,
            "priority": priority,
            "assignee_id": assignee,
        }
    note = "; ".join(changes) or "no change"
    if patch.internal_note:
        note = f"{note}. {patch.internal_note}"
    row = (
        await conn.execute(
            text(
                f"""
                UPDATE reports r SET priority = :priority, assignee_id = :assignee,
                       version = r.version + 1, updated_at = now()
                 WHERE r.id = :id AND r.version = :version AND {Scope.SQL}
                RETURNING r.version
                """
            ),
            {
                "id": report_id,
                "version": patch.version,
                "priority": priority,
                "assignee": assignee,
                **scope.params,
            },
        )
    ).first()
    if row is None:
        raise ApiError(409, f"report {report_id} was changed by someone else meanwhile", "version")
    await conn.execute(
        text(
            "INSERT INTO report_events (report_id, actor, user_id, from_status, to_status,"
            " unit_id, internal_note) VALUES (:id, 'staff', :user, :status, :status, :unit,"
            " :note)"
        ),
        {
            "id": report_id,
            "user": user.id,
            "status": report.status,
            "unit": report.unit_id,
            "note": note,
        },
    )
    return {"id": report_id, "version": row.version, "priority": priority, "assignee_id": assignee}


async def unit_officials(conn: AsyncConnection, unit_id: int) -> list[dict[str, Any]]:
    """Who a report of this unit can be assigned to: its active officials."""
    rows = await conn.execute(
        text(
            "SELECT id, username, display_name FROM users WHERE unit_id = :unit AND active"
            " AND role IN ('unit_staff', 'unit_manager')"
            " ORDER BY coalesce(nullif(display_name, ''), username)"
        ),
        {"unit": unit_id},
    )
    return [dict(r) for r in rows.mappings()]


TemplateStatus = Literal["acknowledged", "in_progress", "resolved", "rejected", "transferred"]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
    title: Line
    body: Body
    status: TemplateStatus | None = None
    category: str | None = Field(default=None, max_length=64)
    unit: str | None = Field(
        default=None, max_length=64, description="admins only: a unit code (none: city-wide)"
    )


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line | None = None
    body: Body | None = None
    status: TemplateStatus | None = None
    active: bool | None = None


async def create_template(conn: AsyncConnection, data: TemplateIn, user: User) -> dict[str, Any]:
    """A manager adds a template for their unit; an admin for any unit or the whole city."""
    if user.sees_all:
        unit_id = None
        if data.unit is not None:
            unit_id = (
                await conn.execute(text("SELECT id FROM units WHERE code = :c"), {"c": data.unit})
            ).scalar()
            if unit_id is None:
                raise ApiError(422, f"unit: no unit {data.unit!r}", "unit")
    else:
        if data.unit is not None:
            raise ApiError(422, "unit: a manager's templates are for their own unit", "unit")
        unit_id = user.unit_id
    category_id = None
    if data.category is not None:
        category_id = (
            await conn.execute(
                text("SELECT id FROM categories WHERE code = :c"), {"c": data.category}
            )
        ).scalar()
        if category_id is None:
            raise ApiError(422, f"category {data.category!r} is not a known category", "category")
    row = (
        await conn.execute(
            text(
                "INSERT INTO response_templates (code, unit_id, category_id, status, title, body)"
                " VALUES (:code, :unit, :category, :status, :title, :body)"
                " ON CONFLICT (unit_id, category_id, code) DO NOTHING RETURNING id"
            ),
            {
                "code": data.code,
                "unit": unit_id,
                "category": category_id,
                "status": data.status,
                "title": data.title,
                "body": data.body,
            },
        )
    ).first()
    if row is None:
        raise ApiError(409, f"code: a template {data.code!r} exists already here", "code")
    return {"id": row.id, **data.model_dump()}


async def patch_template(
    conn: AsyncConnection, template_id: int, patch: TemplatePatch, user: User
) -> dict[str, Any]:
    """Change one of the caller's templates: a manager their unit's, an admin any. Others are
    not found (404), as in every staff query."""
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        raise ApiError(422, "nothing to change: send title, body, status or active", "title")
    if any(changes.get(k, "") is None for k in ("title", "body", "active")):
        raise ApiError(422, "title, body and active cannot be null", "title")
    sets = ", ".join(f"{k} = :{k}" for k in changes)
    row = (
        await conn.execute(
            text(
                f"UPDATE response_templates t SET {sets}, updated_at = now()"
                " WHERE t.id = :id AND (CAST(:all AS boolean)"
                "       OR t.unit_id = CAST(:unit AS int))"
                " RETURNING t.id, t.code, t.title, t.body, t.status, t.active"
            ),
            {**changes, "id": template_id, "all": user.role == "admin", "unit": user.unit_id},
        )
    ).first()
    if row is None:
        raise ApiError(404, f"no template with id {template_id} that you may edit", "id")
    return dict(row._mapping)
