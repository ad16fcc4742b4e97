"""What officials read and change besides transitions: a report with everything they need to
handle it (contact details, full history with internal notes, duplicates, what may come next),
priority and assignee changes, and the response templates they pick from.

Every query carries the caller's Scope in its WHERE: another unit's report is not found (404),
exactly like a report that does not exist.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.auth import User
from geo_service.errors import Conflict, Invalid, NotFound, field_message
from geo_service.i18n import DEFAULT_LANG, N_, gettext, render
from geo_service.report_query import PRIORITIES, Priority, Scope, Target
from geo_service.report_query.projections import FIELDS, FROM_SQL, PHOTOS_SQL
from geo_service.workflow import (
    ALLOWED,
    REJECT_REASONS,
    TRANSFER_REASONS,
    Event,
    changed_meanwhile,
    check_version,
    load_report,
    write_events,
)

STAFF_ROLES = ("unit_staff", "unit_manager", "planner", "admin")
WRITE_ROLES = ("unit_staff", "unit_manager", "admin")
MANAGER_ROLES = ("unit_manager", "admin")


def scope_of(user: User) -> Scope:
    """Unit officials see their unit; planners and admins every unit."""
    return Scope(None if user.sees_all else (user.unit_id or -1))


# Everything an official needs to handle a report. Only officials of its unit (and planners,
# admins) read this: it holds the reporter's contact details and the internal notes.
DETAIL_FIELDS = (
    "id", "version", "category", "category_name", "category_name_en", "description",
    "address", "lat", "lon", "location_source", "status", "priority", "channel", "ward_code",
    "ward_name", "boundary_set", "created_at", "updated_at", "deadline_at", "closed_at",
    "overdue", "reopened", "plus_ones", "duplicate_of", "photos",
)  # fmt: skip
DETAIL_SQL = f"""
    SELECT r.status, r.duplicate_of, r.unit_id, r.category_id, CAST(json_build_object(
      {", ".join(f"'{n}', {FIELDS[n]}" for n in DETAIL_FIELDS)},
      'snapped_m', r.snapped_m, 'source', r.source,
      'unit', json_build_object('id', u.id, 'code', u.code, 'name', u.name),
      'assignee', (SELECT json_build_object('id', s.id, 'username', s.username,
                                            'display_name', s.display_name)
                     FROM users s WHERE s.id = r.assignee_id),
      'duplicates', coalesce((SELECT json_agg(d.id ORDER BY d.id) FROM reports d
                               WHERE d.duplicate_of = r.id), '[]'::json),
      'reporter', json_build_object('name', r.reporter_name, 'phone', r.reporter_phone,
                                    'email', r.reporter_email),
      'rating', (SELECT json_build_object('satisfied', g.satisfied, 'stars', g.stars,
                                          'comment', g.comment, 'created_at', g.created_at)
                   FROM ratings g WHERE g.report_id = r.id),
      'events', coalesce((
        SELECT json_agg(json_build_object(
                 'id', e.id, 'at', e.at, 'from', e.from_status, 'to', e.to_status,
                 'by', e.actor, 'user', s.display_name, 'username', s.username,
                 'reason', e.reason, 'public_comment', e.public_comment,
                 'internal_note', e.internal_note, 'unit_code', eu.code, 'unit_name', eu.name,
                 'photos', {PHOTOS_SQL.format(where="p.event_id = e.id")})
               ORDER BY e.at, e.id)
          FROM report_events e
          LEFT JOIN users s ON s.id = e.user_id
          LEFT JOIN units eu ON eu.id = e.unit_id
         WHERE e.report_id = r.id), '[]'::json)) AS text) AS body
    {FROM_SQL}
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


async def report_detail(
    conn: AsyncConnection, report_id: int, scope: Scope, lang: str
) -> dict[str, Any]:
    row = (await conn.execute(text(DETAIL_SQL), {"id": report_id, **scope.params})).first()
    if row is None:
        raise NotFound(N_("no report with id {id}", id=report_id), "id")
    body: dict[str, Any] = json.loads(row.body)
    body["allowed"] = [] if row.duplicate_of else list(ALLOWED.get(row.status, ()))
    body["reasons"] = {
        to: {code: render(label, lang) for code, label in reasons.items()}
        for to, reasons in (("rejected", REJECT_REASONS), ("transferred", TRANSFER_REASONS))
    }
    body["templates"] = await _templates(conn, unit=row.unit_id, category=row.category_id)
    return body


async def _templates(
    conn: AsyncConnection, *, unit: int | None, category: int | None, status: str | None = None
) -> list[dict[str, Any]]:
    params = {"unit": unit, "category": category, "status": status}
    out: list[dict[str, Any]] = json.loads(
        (await conn.execute(text(TEMPLATES_SQL), params)).scalar_one()
    )
    return out


async def category_id(conn: AsyncConnection, code: str) -> int:
    found = (
        await conn.execute(text("SELECT id FROM categories WHERE code = :c"), {"c": code})
    ).scalar()
    if found is None:
        message = N_("{code!r} is not a known category", code=code)
        raise Invalid(field_message("category", message), "category")
    return int(found)


async def templates(
    conn: AsyncConnection, scope: Scope, *, category: str | None, status: str | None
) -> list[dict[str, Any]]:
    category_id_ = await category_id(conn, category) if category is not None else None
    return await _templates(conn, unit=scope.unit_id, category=category_id_, status=status)


# A change of priority or assignee is noted in the report's internal history, which the
# city's officials read: in the city's language.
NOTE_LANG = DEFAULT_LANG


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


async def _official_name(conn: AsyncConnection, user_id: int, unit_id: int) -> str:
    name = (
        await conn.execute(
            text(
                "SELECT display_name FROM users WHERE id = :id AND active"
                " AND unit_id = :unit AND role IN ('unit_staff', 'unit_manager')"
            ),
            {"id": user_id, "unit": unit_id},
        )
    ).scalar()
    if name is None:
        message = N_("user {id} is not an official of this unit", id=user_id)
        raise Invalid(field_message("assignee", message), "assignee")
    return str(name)


async def _patch_changes(
    conn: AsyncConnection, report: Any, priority: str, assignee: int | None
) -> list[str]:
    """What the patch changes, in words for the report's internal history."""
    changes = []
    if priority != report.priority:
        changes.append(
            gettext(NOTE_LANG, "priority {old} → {new}", old=report.priority, new=priority)
        )
    if assignee != report.assignee_id:
        if assignee is None:
            changes.append(gettext(NOTE_LANG, "unassigned"))
        else:
            name = await _official_name(conn, assignee, report.unit_id)
            changes.append(gettext(NOTE_LANG, "assigned to {name}", name=name))
    return changes


PATCH_SQL = f"""
    UPDATE reports r SET priority = :priority, assignee_id = :assignee,
           version = r.version + 1, updated_at = now()
     WHERE r.id = :id AND r.version = :version AND {Scope.SQL}
    RETURNING r.version
"""


async def patch_report(
    conn: AsyncConnection, report_id: int, patch: ReportPatch, user: User
) -> dict[str, Any]:
    """Change priority and/or assignee under the same version check as a transition, and
    record it as an event (internal: the status does not change)."""
    scope = scope_of(user)
    report = await load_report(conn, report_id, scope)
    check_version(report, patch.version)
    fields = patch.model_fields_set - {"version", "internal_note"}
    if not fields:
        message = N_("nothing to change: send priority and/or assignee")
        raise Invalid(message, "priority")
    priority = patch.priority if "priority" in fields else report.priority
    if priority is None:
        message = N_("one of {values}", values=", ".join(PRIORITIES))
        raise Invalid(field_message("priority", message), "priority")
    assignee = patch.assignee if "assignee" in fields else report.assignee_id
    changes = await _patch_changes(conn, report, priority, assignee)
    result = {"id": report_id, "version": report.version, "priority": priority}
    if not changes and not patch.internal_note:  # the same values again: nothing to record
        return {**result, "assignee_id": assignee}
    params = {"id": report_id, "version": patch.version, "priority": priority}
    row = (
        await conn.execute(text(PATCH_SQL), {**params, "assignee": assignee, **scope.params})
    ).first()
    if row is None:
        raise changed_meanwhile(report_id)
    note = "; ".join(changes) or gettext(NOTE_LANG, "no change")
    if patch.internal_note:
        note = f"{note}. {patch.internal_note}"
    event = Event("staff", user.id, report.status, report.status, report.unit_id, internal=note)
    await write_events(conn, report_id, [event])
    return {**result, "version": row.version, "assignee_id": assignee}


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


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
    title: Line
    body: Body
    status: Target | None = None
    category: str | None = Field(default=None, max_length=64)
    unit: str | None = Field(
        default=None, max_length=64, description="admins only: a unit code (none: city-wide)"
    )


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line | None = None
    body: Body | None = None
    status: Target | None = None
    active: bool | None = None


async def create_template(conn: AsyncConnection, data: TemplateIn, user: User) -> dict[str, Any]:
    """A manager adds a template for their unit; an admin for any unit or the whole city."""
    unit_id = await _template_unit(conn, data, user)
    category = await category_id(conn, data.category) if data.category is not None else None
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
                "category": category,
                "status": data.status,
                "title": data.title,
                "body": data.body,
            },
        )
    ).first()
    if row is None:
        message = N_("a template {code!r} exists already here", code=data.code)
        raise Conflict(field_message("code", message), "code")
    return {"id": row.id, **data.model_dump()}


async def _template_unit(conn: AsyncConnection, data: TemplateIn, user: User) -> int | None:
    """A manager's templates are their unit's; an admin's any unit's, or city-wide (None)."""
    if not user.sees_all:
        if data.unit is not None:
            message = N_("a manager's templates are for their own unit")
            raise Invalid(field_message("unit", message), "unit")
        return user.unit_id
    if data.unit is None:
        return None
    unit_id = (
        await conn.execute(text("SELECT id FROM units WHERE code = :c"), {"c": data.unit})
    ).scalar()
    if unit_id is None:
        raise Invalid(field_message("unit", N_("no unit {code!r}", code=data.unit)), "unit")
    return int(unit_id)


async def patch_template(
    conn: AsyncConnection, template_id: int, patch: TemplatePatch, user: User
) -> dict[str, Any]:
    """Change one of the caller's templates: a manager their unit's, an admin any. Others are
    not found (404), as in every staff query."""
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid(N_("nothing to change: send title, body, status or active"), "title")
    if any(changes.get(k, "") is None for k in ("title", "body", "active")):
        raise Invalid(N_("title, body and active cannot be null"), "title")
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
        raise NotFound(N_("no template with id {id} that you may edit", id=template_id), "id")
    return dict(row._mapping)
