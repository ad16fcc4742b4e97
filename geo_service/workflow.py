"""A report's lifecycle: which status may follow which, and the one way to change it.

received → acknowledged → in_progress → resolved (forward steps may be skipped: a light
fixed within the hour goes straight to resolved); rejected with a reason; transferred to
another unit, where it starts again as received; reopened by its reporter within a few days of
being resolved. A duplicate follows its master's status. Every change is an append-only event
(who, when, from, to, why, public comment, internal note, photos of the fix), written in the
same transaction as the change, and guarded by the report's version: of two officials
changing the same report at once, the second gets a 409 instead of silently winning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import Conflict, Forbidden, Invalid, NotFound, field_message
from geo_service.i18n import N_, Message
from geo_service.notify.outbox import tell_events
from geo_service.photos import StoredPhoto
from geo_service.report_query import CLOSED_STATUSES, Scope, Target

ALLOWED: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged", "in_progress", "resolved", "rejected", "transferred"),
    "acknowledged": ("in_progress", "resolved", "rejected", "transferred"),
    "in_progress": ("resolved", "rejected", "transferred"),
    "resolved": (),
    "rejected": (),
}
REJECT_REASONS: dict[str, Message] = {
    "not_competent": N_("Not our competence"),
    "not_a_problem": N_("Not a real problem"),
    "duplicate": N_("Duplicate of another report"),
    "insufficient_information": N_("Not enough information"),
    "other": N_("Other reason"),
}
TRANSFER_REASONS: dict[str, Message] = {
    "not_competent": REJECT_REASONS["not_competent"],
    "wrong_area": N_("Outside the unit's area"),
    "other": REJECT_REASONS["other"],
}
REOPEN_REASON = "not_fixed"
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@dataclass(frozen=True)
class Actor:
    """Who changes a report: an official (user id, the reports they may touch) or a citizen
    holding a tracking token."""

    kind: Literal["staff", "citizen", "system"]
    user_id: int | None
    scope: Scope


class TransitionIn(BaseModel):
    """A status change asked for by an official. ``version`` is the report's version they saw."""

    model_config = ConfigDict(extra="forbid")

    to: Target
    version: int = Field(ge=1, le=2**31 - 1)
    reason: str | None = Field(
        default=None,
        description="Required for rejected (" + ", ".join(REJECT_REASONS) + ") and "
        "transferred (" + ", ".join(TRANSFER_REASONS) + ").",
    )
    unit: str | None = Field(default=None, max_length=64, description="transferred: unit code")
    duplicate_of: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="rejected as duplicate: the master report"
    )
    template: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="a response template's id"
    )
    public_comment: Comment | None = None
    internal_note: Comment | None = None


class TransitionOut(BaseModel):
    id: int
    status: str
    version: int
    unit: dict[str, str]
    deadline_at: dt.datetime
    closed_at: dt.datetime | None
    duplicate_of: int | None
    event_id: int
    followers_updated: int = Field(description="duplicates that followed this report")


@dataclass
class _Change:
    """What a transition writes: the report's new state and its events."""

    status: str
    closed: bool
    unit_id: int | None = None  # a transfer's new unit
    restart_deadline: bool = False
    master: int | None = None
    reopened: bool = False


@dataclass(frozen=True)
class Event:
    """One line of a report's history."""

    actor: str
    user_id: int | None
    from_status: str | None
    to_status: str
    unit_id: int | None
    reason: str | None = None
    public: str | None = None
    internal: str | None = None


REPORT_SQL = """
    SELECT r.id, r.status, r.version, r.unit_id, r.category_id, r.duplicate_of, r.priority,
           r.assignee_id
      FROM reports r WHERE r.id = :id AND {scope}
"""


async def load_report(conn: AsyncConnection, report_id: int, scope: Scope) -> Any:
    """The report's state as an official may change it, or NotFound: another unit's report
    is as unknown as a report that does not exist."""
    row = (
        await conn.execute(
            text(REPORT_SQL.format(scope=Scope.SQL)), {"id": report_id, **scope.params}
        )
    ).first()
    if row is None:
        raise NotFound(N_("no report with id {id}", id=report_id), "id")
    return row


def check_version(report: Any, sent: int) -> None:
    """Of two officials changing the same report at once, the second is told, not overruled."""
    if sent != report.version:
        raise Conflict(
            N_(
                "report {id} was changed by someone else meanwhile (it is at version "
                "{version}, you sent {sent}): reload it and decide again",
                id=report.id,
                version=report.version,
                sent=sent,
            ),
            "version",
            context={"version": report.version, "status": report.status},
        )


def changed_meanwhile(report_id: int) -> Conflict:
    """Someone's change committed between our read and our write."""
    message = N_(
        "report {id} was changed by someone else meanwhile: reload it and decide again",
        id=report_id,
    )
    return Conflict(message, "version")


def _refuse_extra(change: TransitionIn, *fields: str) -> None:
    for name in fields:
        if getattr(change, name) is not None:
            message = N_("not used when the report goes to {to}", to=change.to)
            raise Invalid(field_message(name, message), name)


def _invalid(field: str, message: Message) -> Invalid:
    return Invalid(field_message(field, message), field)


async def _template_text(conn: AsyncConnection, template_id: int, report: Any, to: str) -> str:
    row = (
        await conn.execute(
            text(
                "SELECT t.body FROM response_templates t"
                " WHERE t.id = :id AND t.active"
                " AND (t.unit_id IS NULL OR t.unit_id = :unit)"
                " AND (t.category_id IS NULL OR t.category_id = :category)"
                " AND (t.status IS NULL OR t.status = :to)"
            ),
            {"id": template_id, "unit": report.unit_id, "category": report.category_id, "to": to},
        )
    ).first()
    if row is None:
        message = N_("no template {id} for this unit, category and status", id=template_id)
        raise _invalid("template", message)
    return str(row.body)


async def _master(conn: AsyncConnection, report_id: int, master_id: int, scope: Scope) -> Any:
    """The report a duplicate will follow: visible to the caller, itself not a duplicate
    (its own master is taken then), and not the report itself."""
    row = (
        await conn.execute(
            text(
                f"""
                SELECT m.id, m.status, m.closed_at FROM reports r
                  JOIN reports m ON m.id = coalesce(r.duplicate_of, r.id)
                 WHERE r.id = :id AND {Scope.SQL}
                """
            ),
            {"id": master_id, **scope.params},
        )
    ).first()
    if row is None:
        raise _invalid("duplicate_of", N_("no report with id {id}", id=master_id))
    if row.id == report_id:
        raise _invalid("duplicate_of", N_("a report cannot be a duplicate of itself"))
    return row


def _check_allowed(report: Any, to: str) -> None:
    """A duplicate follows its master; otherwise the status must allow the step."""
    if report.duplicate_of is not None:
        raise Conflict(
            N_(
                "report {id} is a duplicate of report {master} and follows its status: "
                "change report {master} instead",
                id=report.id,
                master=report.duplicate_of,
            ),
            "to",
            context={"allowed": [], "duplicate_of": report.duplicate_of},
        )
    allowed = ALLOWED.get(report.status, ())
    if to not in allowed:
        listed: Message | str = ", ".join(allowed) if allowed else N_("none: the report is closed")
        raise Conflict(
            N_(
                "a report that is {status} cannot go to {to}; allowed: {listed}",
                status=report.status,
                to=to,
                listed=listed,
            ),
            "to",
            context={"allowed": list(allowed), "status": report.status},
        )


def _require_reason(change: TransitionIn, reasons: dict[str, Any]) -> None:
    if change.reason not in reasons:
        message = N_(
            "required for {to}, one of {reasons}", to=change.to, reasons=", ".join(reasons)
        )
        raise _invalid("reason", message)


async def _rejection(
    conn: AsyncConnection, report_id: int, change: TransitionIn, scope: Scope
) -> _Change:
    _refuse_extra(change, "unit")
    _require_reason(change, REJECT_REASONS)
    if change.reason != "duplicate":
        _refuse_extra(change, "duplicate_of")
        return _Change(status="rejected", closed=True)
    if change.duplicate_of is None:
        raise _invalid("duplicate_of", N_("required when the reason is duplicate"))
    master = await _master(conn, report_id, change.duplicate_of, scope)
    return _Change(status=master.status, closed=master.status in CLOSED_STATUSES, master=master.id)


async def _transfer(
    conn: AsyncConnection, report: Any, change: TransitionIn, restart_deadline: bool
) -> _Change:
    _refuse_extra(change, "duplicate_of")
    _require_reason(change, TRANSFER_REASONS)
    if not change.unit:
        raise _invalid("unit", N_("required for transferred (the new unit's code)"))
    unit_id = (
        await conn.execute(
            text("SELECT id FROM units WHERE code = :code AND active"), {"code": change.unit}
        )
    ).scalar()
    if unit_id is None:
        raise _invalid("unit", N_("no active unit {code!r}", code=change.unit))
    if unit_id == report.unit_id:
        raise _invalid("unit", N_("the report is already with this unit"))
    return _Change(
        status="received", closed=False, unit_id=unit_id, restart_deadline=restart_deadline
    )


async def _plan(
    conn: AsyncConnection,
    report: Any,
    change: TransitionIn,
    scope: Scope,
    transfer_restarts_deadline: bool,
) -> _Change:
    """What the report becomes: checked reasons, the master of a duplicate, a new unit."""
    if change.to == "rejected":
        return await _rejection(conn, report.id, change, scope)
    if change.to == "transferred":
        return await _transfer(conn, report, change, transfer_restarts_deadline)
    _refuse_extra(change, "reason", "unit", "duplicate_of")
    return _Change(status=change.to, closed=change.to in CLOSED_STATUSES)


async def transition(
    conn: AsyncConnection,
    report_id: int,
    change: TransitionIn,
    actor: Actor,
    *,
    transfer_restarts_deadline: bool,
    photos: list[StoredPhoto] | None = None,
) -> TransitionOut:
    """Apply an official's status change, or refuse it (NotFound: unknown or out of scope;
    Conflict: stale version or a step not allowed now; Invalid: a missing reason or a bad
    field)."""
    report = await load_report(conn, report_id, actor.scope)
    check_version(report, change.version)
    _check_allowed(report, change.to)
    plan = await _plan(conn, report, change, actor.scope, transfer_restarts_deadline)
    public = change.public_comment
    if public is None and change.template is not None:
        public = await _template_text(conn, change.template, report, change.to)
    if change.reason == "other" and public is None:
        message = N_("explain the reason 'other' to the citizen")
        raise _invalid("public_comment", message)
    events = [
        Event(
            actor=actor.kind,
            user_id=actor.user_id,
            from_status=report.status,
            to_status="transferred" if change.to == "transferred" else plan.status,
            unit_id=report.unit_id,
            reason=change.reason,
            public=public,
            internal=change.internal_note,
        )
    ]
    if plan.unit_id is not None:  # the new unit receives it
        events.append(Event("system", None, "transferred", "received", plan.unit_id))
    return await _apply(
        conn, report_id, change.version, plan, events, actor.scope, photos=photos or []
    )


UPDATE_SQL = f"""
    UPDATE reports r
       SET status = :status,
           version = r.version + 1,
           updated_at = now(),
           closed_at = CASE WHEN :closed THEN now() END,
           unit_id = coalesce(CAST(:new_unit AS int), r.unit_id),
           assignee_id = CASE WHEN CAST(:new_unit AS int) IS NULL THEN r.assignee_id END,
           deadline_at = CASE WHEN :restart THEN gs_deadline(now(), r.category_id)
                              ELSE r.deadline_at END,
           duplicate_of = CAST(:master AS bigint),
           reopened = r.reopened OR :reopened
     WHERE r.id = :id AND r.version = :version AND {Scope.SQL}
    RETURNING r.id, r.status, r.version, r.unit_id, r.deadline_at, r.closed_at, r.duplicate_of
"""

EVENTS_SQL = """
    INSERT INTO report_events (report_id, actor, user_id, from_status, to_status, unit_id,
                               reason, public_comment, internal_note)
    SELECT :id, e.actor, e.user_id, e.from_status, e.to_status, e.unit_id, e.reason,
           e.public_comment, e.internal_note
      FROM unnest(CAST(:actors AS text[]), CAST(:users AS int[]), CAST(:froms AS text[]),
                  CAST(:tos AS text[]), CAST(:units AS int[]), CAST(:reasons AS text[]),
                  CAST(:publics AS text[]), CAST(:internals AS text[]))
           WITH ORDINALITY AS e(actor, user_id, from_status, to_status, unit_id, reason,
                                public_comment, internal_note, n)
     ORDER BY e.n
    RETURNING id
"""

PHOTOS_SQL = """
    INSERT INTO report_photos (report_id, event_id, file_name, width, height, bytes)
    VALUES (:report, :event, :file_name, :width, :height, :bytes)
"""

# Duplicates follow their master: same status, unit, closing and deadline, one event each.
FOLLOW_SQL = """
    WITH m AS (SELECT * FROM reports WHERE id = :id),
         moved AS (
           UPDATE reports d
              SET status = m.status, unit_id = m.unit_id, closed_at = m.closed_at,
                  deadline_at = m.deadline_at, duplicate_of = m.id, updated_at = now(),
                  version = d.version + 1, assignee_id = NULL
             FROM m
            WHERE d.duplicate_of = coalesce(CAST(:former_master AS bigint), m.id)
           RETURNING d.id, d.unit_id, d.status),
         ev AS (
           INSERT INTO report_events (report_id, actor, from_status, to_status, unit_id,
                                      reason, public_comment)
           SELECT moved.id, 'system', :from_status, moved.status, moved.unit_id,
                  'duplicate', :public
             FROM moved ORDER BY moved.id)
    SELECT count(*) FROM moved
"""


async def write_events(conn: AsyncConnection, report_id: int, events: list[Event]) -> list[int]:
    """Append events to a report's history, in order; their ids."""
    columns = {
        "actors": "actor",
        "users": "user_id",
        "froms": "from_status",
        "tos": "to_status",
        "units": "unit_id",
        "reasons": "reason",
        "publics": "public",
        "internals": "internal",
    }
    params = {key: [getattr(e, attr) for e in events] for key, attr in columns.items()}
    rows = await conn.execute(text(EVENTS_SQL), {"id": report_id, **params})
    return list(rows.scalars().all())


async def _update(
    conn: AsyncConnection, report_id: int, version: int, plan: _Change, scope: Scope
) -> Any:
    row = (
        await conn.execute(
            text(UPDATE_SQL),
            {
                "id": report_id,
                "version": version,
                "status": plan.status,
                "closed": plan.closed,
                "new_unit": plan.unit_id,
                "restart": plan.restart_deadline,
                "master": plan.master,
                "reopened": plan.reopened,
                **scope.params,
            },
        )
    ).first()
    if row is None:
        raise changed_meanwhile(report_id)
    return row


async def _follow(
    conn: AsyncConnection, report_id: int, plan: _Change, first: Event, former: int | None
) -> int:
    """Move the duplicates along: this report's own, or (when it became a duplicate itself)
    its duplicates now follow its new master."""
    master, former_master = (report_id, former) if plan.master is None else (plan.master, report_id)
    params = {
        "id": master,
        "former_master": former_master,
        "from_status": first.from_status,
        "public": first.public,
    }
    return int((await conn.execute(text(FOLLOW_SQL), params)).scalar_one())


async def _apply(
    conn: AsyncConnection,
    report_id: int,
    version: int,
    plan: _Change,
    events: list[Event],
    scope: Scope,
    *,
    photos: list[StoredPhoto],
    former_master: int | None = None,
) -> TransitionOut:
    row = await _update(conn, report_id, version, plan, scope)
    event_ids = await write_events(conn, report_id, events)
    await tell_events(conn, event_ids)  # the outbox: in this transaction
    if photos:
        await conn.execute(
            text(PHOTOS_SQL),
            [
                {"report": report_id, "event": event_ids[0], "file_name": p.file_name,
                 "width": p.width, "height": p.height, "bytes": p.bytes}
                for p in photos
            ],
        )  # fmt: skip
    followed = await _follow(conn, report_id, plan, events[0], former_master)
    unit = (
        await conn.execute(text("SELECT code, name FROM units WHERE id = :id"), {"id": row.unit_id})
    ).one()
    return TransitionOut(
        id=row.id,
        status=row.status,
        version=row.version,
        unit={"code": unit.code, "name": unit.name},
        deadline_at=row.deadline_at,
        closed_at=row.closed_at,
        duplicate_of=row.duplicate_of,
        event_id=event_ids[0],
        followers_updated=followed,
    )


REOPEN_SQL = """
    SELECT m.id, m.status, m.version, m.unit_id, m.closed_at,
           m.closed_at + make_interval(days => :days) AS until,
           m.closed_at + make_interval(days => :days) >= now() AS in_time,
           NOT EXISTS (SELECT 1 FROM boundary_sets b
                        WHERE b.id = m.boundary_set_id AND b.active) AS reformed
      FROM reports r JOIN reports m ON m.id = coalesce(r.duplicate_of, r.id)
     WHERE r.token = :token
"""
# A report closed before a boundary reform and reopened after it: placed in today's wards
# (the nearest, as the reform placed open reports), and routed anew if its unit was retired.
REPLACE_SQL = """
    UPDATE reports r
       SET boundary_set_id = q.set_id, ward_code = q.code, snapped_m = q.snapped_m,
           unit_id = CASE WHEN q.unit_active THEN r.unit_id
                          ELSE gs_route(r.category_id, r.geom, q.code, r.priority) END,
           assignee_id = CASE WHEN q.unit_active THEN r.assignee_id END
      FROM (SELECT x.id, l.set_id, l.code, l.snapped_m, u.active AS unit_active
              FROM reports x JOIN units u ON u.id = x.unit_id,
                   gs_locate(x.geom, CAST('Infinity' AS float8), p_check_city => false) l
             WHERE x.id = :id) q
     WHERE r.id = q.id AND q.code IS NOT NULL
    RETURNING r.unit_id
"""


async def reopen(
    conn: AsyncConnection, token: str, comment: str | None, *, reopen_days: int
) -> TransitionOut:
    """The reporter says a resolved report is not fixed: within ``reopen_days`` of its
    resolution it goes back to its unit's queue as received, flagged reopened, with a fresh
    deadline. A duplicate's reporter reopens the master (the same problem)."""
    row = (await conn.execute(text(REOPEN_SQL), {"token": token, "days": reopen_days})).first()
    if row is None:
        await follower_or_unknown(conn, token, "reopen")
    if row.status != "resolved":
        message = N_(
            "only a resolved report can be reopened; this one is {status}", status=row.status
        )
        raise Conflict(message, "token")
    if not row.in_time:
        raise Conflict(
            N_(
                "a report can be reopened for {days} days after it was resolved; that "
                "ended at {until}",
                days=reopen_days,
                until=row.until.isoformat(),
            ),
            "token",
            context={"reopen_until": row.until.isoformat()},
        )
    unit_id = row.unit_id
    if row.reformed:
        unit_id = (await conn.execute(text(REPLACE_SQL), {"id": row.id})).scalar() or unit_id
    plan = _Change(status="received", closed=False, restart_deadline=True, reopened=True)
    event = Event("citizen", None, "resolved", "received", unit_id, REOPEN_REASON, comment)
    return await _apply(conn, row.id, row.version, plan, [event], Scope(None), photos=[])


async def follower_or_unknown(conn: AsyncConnection, token: str, what: str) -> NoReturn:
    """Refuse a token that is not a reporter's: a follower's (Forbidden) or nobody's."""
    follower = (
        await conn.execute(text("SELECT 1 FROM followers WHERE token = :t"), {"t": token})
    ).first()
    if follower is not None:
        if what == "rate":
            message = N_("only the person who made the report can rate it; you follow it")
        else:
            message = N_("only the person who made the report can reopen it; you follow it")
        raise Forbidden(message, "token")
    raise NotFound(N_("no report has this tracking token"), "token")
