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

from geo_service.errors import ApiError
from geo_service.i18n import N_, Message
from geo_service.photos import StoredPhoto
from geo_service.queue import CLOSED_STATUSES, Scope

Target = Literal["acknowledged", "in_progress", "resolved", "rejected", "transferred"]
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


def _refuse_extra(change: TransitionIn, *fields: str) -> None:
    for name in fields:
        if getattr(change, name) is not None:
            raise ApiError(422, f"{name}: not used when the report goes to {change.to}", name)


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
        raise ApiError(
            422,
            f"template: no template {template_id} for this unit, category and status",
            "template",
        )
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
        raise ApiError(422, f"duplicate_of: no report with id {master_id}", "duplicate_of")
    if row.id == report_id:
        raise ApiError(
            422, "duplicate_of: a report cannot be a duplicate of itself", "duplicate_of"
        )
    return row


async def transition(
    conn: AsyncConnection,
    report_id: int,
    change: TransitionIn,
    actor: Actor,
    *,
    transfer_restarts_deadline: bool,
    photos: list[StoredPhoto] | None = None,
) -> TransitionOut:
    """Apply an official's status change, or raise ApiError (404 unknown or out of scope,
    409 stale version or illegal transition, 422 a missing reason or a bad field)."""
    report = (
        await conn.execute(
            text(
                f"SELECT r.id, r.status, r.version, r.unit_id, r.category_id, r.duplicate_of"
                f" FROM reports r WHERE r.id = :id AND {Scope.SQL}"
            ),
            {"id": report_id, **actor.scope.params},
        )
    ).first()
    if report is None:
        raise ApiError(404, f"no report with id {report_id}", "id")
    if change.version != report.version:
        raise ApiError(
            409,
            f"report {report_id} was changed by someone else meanwhile (it is at version "
            f"{report.version}, you sent {change.version}): reload it and decide again",
            "version",
            extra={"version": report.version, "status": report.status},
        )
    if report.duplicate_of is not None:
        raise ApiError(
            409,
            f"report {report_id} is a duplicate of report {report.duplicate_of} and follows "
            f"its status: change report {report.duplicate_of} instead",
            "to",
            extra={"allowed": [], "duplicate_of": report.duplicate_of},
        )
    allowed = ALLOWED.get(report.status, ())
    if change.to not in allowed:
        listed = ", ".join(allowed) if allowed else "none: the report is closed"
        raise ApiError(
            409,
            f"a report that is {report.status} cannot go to {change.to}; allowed: {listed}",
            "to",
            extra={"allowed": list(allowed), "status": report.status},
        )

    plan = _Change(status=change.to, closed=change.to in CLOSED_STATUSES)
    reason = change.reason
    if change.to == "rejected":
        _refuse_extra(change, "unit")
        if reason not in REJECT_REASONS:
            raise ApiError(
                422, "reason: required for rejected, one of " + ", ".join(REJECT_REASONS), "reason"
            )
        if reason == "duplicate":
            if change.duplicate_of is None:
                raise ApiError(
                    422, "duplicate_of: required when the reason is duplicate", "duplicate_of"
                )
            master = await _master(conn, report_id, change.duplicate_of, actor.scope)
            plan = _Change(
                status=master.status, closed=master.status in CLOSED_STATUSES, master=master.id
            )
        else:
            _refuse_extra(change, "duplicate_of")
    elif change.to == "transferred":
        _refuse_extra(change, "duplicate_of")
        if reason not in TRANSFER_REASONS:
            raise ApiError(
                422,
                "reason: required for transferred, one of " + ", ".join(TRANSFER_REASONS),
                "reason",
            )
        if not change.unit:
            raise ApiError(422, "unit: required for transferred (the new unit's code)", "unit")
        unit_id = (
            await conn.execute(
                text("SELECT id FROM units WHERE code = :code AND active"), {"code": change.unit}
            )
        ).scalar()
        if unit_id is None:
            raise ApiError(422, f"unit: no active unit {change.unit!r}", "unit")
        if unit_id == report.unit_id:
            raise ApiError(422, "unit: the report is already with this unit", "unit")
        plan = _Change(
            status="received",
            closed=False,
            unit_id=unit_id,
            restart_deadline=transfer_restarts_deadline,
        )
    else:
        _refuse_extra(change, "reason", "unit", "duplicate_of")

    public = change.public_comment
    if public is None and change.template is not None:
        public = await _template_text(conn, change.template, report, change.to)
    if reason == "other" and public is None:
        raise ApiError(
            422, "public_comment: explain the reason 'other' to the citizen", "public_comment"
        )

    events: list[dict[str, Any]] = [
        {
            "actor": actor.kind,
            "user_id": actor.user_id,
            "from": report.status,
            "to": "transferred" if change.to == "transferred" else plan.status,
            "unit": report.unit_id,
            "reason": reason,
            "public": public,
            "internal": change.internal_note,
        }
    ]
    if plan.unit_id is not None:
        events.append(
            {
                "actor": "system",
                "user_id": None,
                "from": "transferred",
                "to": "received",
                "unit": plan.unit_id,
                "reason": None,
                "public": None,
                "internal": None,
            }
        )
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


async def _apply(
    conn: AsyncConnection,
    report_id: int,
    version: int,
    plan: _Change,
    events: list[dict[str, Any]],
    scope: Scope,
    *,
    photos: list[StoredPhoto],
    former_master: int | None = None,
) -> TransitionOut:
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
    if row is None:  # someone else's change committed between our read and our write
        raise ApiError(
            409,
            f"report {report_id} was changed by someone else meanwhile: reload it and decide again",
            "version",
        )
    event_ids = (
        (
            await conn.execute(
                text(EVENTS_SQL),
                {
                    "id": report_id,
                    "actors": [e["actor"] for e in events],
                    "users": [e["user_id"] for e in events],
                    "froms": [e["from"] for e in events],
                    "tos": [e["to"] for e in events],
                    "units": [e["unit"] for e in events],
                    "reasons": [e["reason"] for e in events],
                    "publics": [e["public"] for e in events],
                    "internals": [e["internal"] for e in events],
                },
            )
        )
        .scalars()
        .all()
    )
    if photos:
        await conn.execute(
            text(
                "INSERT INTO report_photos (report_id, event_id, file_name, width, height, bytes)"
                " VALUES (:report, :event, :file_name, :width, :height, :bytes)"
            ),
            [
                {
                    "report": report_id,
                    "event": event_ids[0],
                    "file_name": p.file_name,
                    "width": p.width,
                    "height": p.height,
                    "bytes": p.bytes,
                }
                for p in photos
            ],
        )
    followed = 0
    if plan.master is None:
        followed = (
            await conn.execute(
                text(FOLLOW_SQL),
                {
                    "id": report_id,
                    "former_master": former_master,
                    "from_status": events[0]["from"],
                    "public": events[0]["public"],
                },
            )
        ).scalar_one()
    else:  # this report's own duplicates now follow its new master
        followed = (
            await conn.execute(
                text(FOLLOW_SQL),
                {
                    "id": plan.master,
                    "former_master": report_id,
                    "from_status": events[0]["from"],
                    "public": events[0]["public"],
                },
            )
        ).scalar_one()
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
        followers_updated=int(followed),
    )


async def reopen(
    conn: AsyncConnection, token: str, comment: str | None, *, reopen_days: int
) -> TransitionOut:
    """The reporter says a resolved report is not fixed: within ``reopen_days`` of its
    resolution it goes back to its unit's queue as received, flagged reopened, with a fresh
    deadline. A duplicate's reporter reopens the master (the same problem)."""
    row = (
        await conn.execute(
            text(
                """
                SELECT m.id, m.status, m.version, m.unit_id, m.closed_at,
                       m.closed_at + make_interval(days => :days) AS until,
                       m.closed_at + make_interval(days => :days) >= now() AS in_time
                  FROM reports r JOIN reports m ON m.id = coalesce(r.duplicate_of, r.id)
                 WHERE r.token = :token
                """
            ),
            {"token": token, "days": reopen_days},
        )
    ).first()
    if row is None:
        await follower_or_unknown(conn, token, "reopen")
    if row.status != "resolved":
        raise ApiError(
            409, f"only a resolved report can be reopened; this one is {row.status}", "token"
        )
    if not row.in_time:
        raise ApiError(
            409,
            f"a report can be reopened for {reopen_days} days after it was resolved; that "
            f"ended at {row.until.isoformat()}",
            "token",
            extra={"reopen_until": row.until.isoformat()},
        )
    plan = _Change(status="received", closed=False, restart_deadline=True, reopened=True)
    event = {
        "actor": "citizen",
        "user_id": None,
        "from": "resolved",
        "to": "received",
        "unit": row.unit_id,
        "reason": REOPEN_REASON,
        "public": comment,
        "internal": None,
    }
    return await _apply(conn, row.id, row.version, plan, [event], Scope(None), photos=[])


async def follower_or_unknown(conn: AsyncConnection, token: str, what: str) -> NoReturn:
    """Refuse a token that is not a reporter's: a follower's (403) or nobody's (404)."""
    follower = (
        await conn.execute(text("SELECT 1 FROM followers WHERE token = :t"), {"t": token})
    ).first()
    if follower is not None:
        raise ApiError(
            403, f"only the person who made the report can {what} it; you follow it", "token"
        )
    raise ApiError(404, "no report has this tracking token", "token")
