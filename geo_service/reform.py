"""A boundary reform as a workflow: preview what activating a new set would change, then
activate it in one transaction (or schedule it for the day it becomes valid).

Activating a ward set:

- checks it against the city limit it goes with (gaps, parts outside), and activates that
  city limit with it;
- creates the People's Committee of each new ward, brings back those of wards that return,
  and retires those of wards that vanish (their queues are empty afterwards);
- re-resolves the rules written for a ward code: a rule whose ward is not in the new set is
  suspended (and reported by the preview), one whose ward comes back is in force again;
- re-routes every open report: it is placed in a ward of the new set (a report no ward
  covers goes to the nearest one), and when its unit no longer covers it (a retired
  committee, or a committee whose ward it has left) it is handed to the unit the rules name,
  as a transfer: received in the new queue, deadline restarted unless
  TRANSFER_RESTARTS_DEADLINE=false, with a "boundary reform" event on its public timeline.
  A report keeps a unit that still covers it (a city unit, or its ward's committee), and a
  duplicate follows its master. Closed reports are not touched.

The preview runs the very same plan (``PLAN_SQL``) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from boundaries import checks, sets
from boundaries.checks import Check
from boundaries.importer import AREAS_OF, set_active
from geo_service import gazetteer, seed
from geo_service.errors import Conflict, Invalid, NotFound
from geo_service.i18n import N_
from geo_service.notify.outbox import tell_events_sql
from geo_service.profile import Profile

OPEN = "('received', 'acknowledged', 'in_progress')"

# Where each open report would be, and with whom, once ward set :set is active. A unit that
# still covers the report keeps it: a city unit; a ward's committee whose ward stays and
# holds the report (or that had it by hand from another ward). Otherwise the rules decide
# (gs_route, as if :set were active). Duplicates follow their master (FOLLOW_MASTERS_SQL).
# Reports already in the plan are skipped, so the same statement tops up a plan made before
# the activation took its lock.
PLAN_SQL = f"""
    INSERT INTO reform_plan
    SELECT r.id, r.version, r.duplicate_of, r.category_id, r.status, r.status, r.unit_id,
           CASE WHEN r.duplicate_of IS NOT NULL THEN NULL
                WHEN CASE WHEN u.kind <> 'ward_committee' THEN u.active
                          ELSE EXISTS (SELECT 1 FROM areas k
                                        WHERE k.set_id = :set AND k.code = u.ward_code)
                               AND (u.ward_code = l.code OR u.ward_code <> r.ward_code) END
                THEN r.unit_id
                ELSE gs_route(r.category_id, r.geom, l.code, r.priority, :set) END,
           r.ward_code, l.code, l.snapped_m, r.deadline_at
      FROM reports r
      JOIN units u ON u.id = r.unit_id
     CROSS JOIN LATERAL gs_locate(r.geom, 'Infinity', :set, NULL, false) l
     WHERE r.status IN {OPEN}
       AND NOT EXISTS (SELECT 1 FROM reform_plan q WHERE q.id = r.id)
"""
PLAN_TABLE_SQL = """
    CREATE TEMP TABLE reform_plan (
      id bigint PRIMARY KEY, version int, duplicate_of bigint, category_id int,
      status_before text, status_after text, unit_before int, unit_after int,
      ward_before text, ward_after text, snapped_m float8, deadline_after timestamptz
    ) ON COMMIT DROP
"""
FOLLOW_MASTERS_SQL = """
    UPDATE reform_plan d SET unit_after = m.unit_after
      FROM reform_plan m WHERE d.duplicate_of = m.id
"""
# Under the activation's lock: forget the rows changed since the plan was made (closed,
# transferred, reopened...); PLAN_SQL then plans them again, with the reports sent meanwhile.
STALE_SQL = """
    DELETE FROM reform_plan p USING reports r
     WHERE r.id = p.id AND (r.version <> p.version OR r.status <> p.status_before)
"""


def make_plan(conn: Connection, set_id: int) -> None:
    """The temporary table ``reform_plan``: one row per open report (dropped at commit)."""
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.reform_plan"))
    conn.execute(text(PLAN_TABLE_SQL))
    conn.execute(text(PLAN_SQL), {"set": set_id})
    conn.execute(text(FOLLOW_MASTERS_SQL))
    conn.execute(text("ANALYZE reform_plan"))


def refresh_plan(conn: Connection, set_id: int) -> int:
    """Bring a plan made earlier up to date (under the lock); returns the rows planned anew."""
    conn.execute(text(STALE_SQL))
    added = conn.execute(text(PLAN_SQL), {"set": set_id}).rowcount
    conn.execute(text(FOLLOW_MASTERS_SQL))
    return int(added)


@dataclass(frozen=True)
class Target:
    """What an activation switches: a set, and for a ward set the city limit it goes with
    (which is activated with it when it is not active yet)."""

    set: sets.SetRef
    city: sets.SetRef | None
    replaces: sets.SetRef | None


def target(conn: Connection, set_name: str) -> Target:
    found = sets.by_name(conn, set_name)
    if found is None:
        raise NotFound(N_("no boundary set named {name}", name=set_name), "set")
    if found.level == "ward":
        city = sets.city_for(conn, found.id) or sets.active(conn, "city")
    else:
        city = found
    return Target(found, city, sets.active(conn, found.level))


def coverage_checks(conn: Connection, t: Target) -> list[Check]:
    """The wards against the city limit they will be used with."""
    wards = t.set if t.set.level == "ward" else sets.active(conn, "ward")
    if wards is None:
        return []
    tolerance = conn.execute(
        text("SELECT gap_tolerance_m2 FROM boundary_sets WHERE id = :i"), {"i": t.set.id}
    ).scalar_one()
    return checks.coverage(
        conn,
        AREAS_OF.format(set_id=":wards"),
        {"wards": wards.id, "city": t.city.id if t.city else None},
        tolerance=float(tolerance),
        city=AREAS_OF.format(set_id=":city") if t.city else None,
        city_name=t.city.name if t.city else None,
    )


@dataclass
class UnitChange:
    code: str
    name: str
    ward_code: str | None
    open_reports: int = 0
    accounts: int = 0


@dataclass
class RuleChange:
    id: int
    category: str
    unit: str
    ward_code: str | None
    reason: str


@dataclass
class Flow:
    unit_before: str
    unit_after: str
    new_unit: bool
    reports: int


@dataclass
class UnitCount:
    code: str
    name: str
    now: int
    after: int
    new: bool = False


@dataclass
class Changes:
    """What activating a set changes, as the preview shows it and the activation reports."""

    set: str
    level: str
    replaces: str | None
    city: str | None
    checks: list[Check] = field(default_factory=list)
    open_reports: int = 0
    duplicates: int = 0
    ward_changes: int = 0
    unit_changes: int = 0
    placed_nearest: int = 0
    farthest_m: float = 0.0
    flows: list[Flow] = field(default_factory=list)
    units: list[UnitCount] = field(default_factory=list)
    units_created: list[UnitChange] = field(default_factory=list)
    units_restored: list[UnitChange] = field(default_factory=list)
    units_retired: list[UnitChange] = field(default_factory=list)
    rules_suspended: list[RuleChange] = field(default_factory=list)
    rules_restored: list[RuleChange] = field(default_factory=list)
    replanned: int = 0  # reports changed or sent while the plan was being made
    seconds: float = 0.0
    locked_seconds: float = 0.0  # of which report writers waited

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @classmethod
    def of(cls, t: Target, found: list[Check]) -> Changes:
        """What activating ``t`` changes, the counts still to be filled in."""
        replaces, city = t.replaces, t.city
        return cls(
            t.set.name,
            t.set.level,
            replaces.name if replaces else None,
            city.name if city else None,
            checks=found,
        )


def new_committee(profile: Profile, ward: Any) -> tuple[str, str]:
    """The code and name the People's Committee of a ward will get (profile's templates)."""
    values = {
        "code": ward.code,
        "name": ward.name,
        "full_name": ward.full_name,
        "name_en": ward.name_en or ward.name,
    }
    return profile.ward_unit.code.format(**values), profile.ward_unit.name.format(**values)


# Every rule's state once ward set :set is active: a rule for a ward that the set lacks, or
# whose unit is a committee of such a ward, is suspended; the others are in force.
RULES_AFTER_SQL = """
    SELECT r.id, c.code AS category, u.code AS unit, r.ward_code,
           r.suspended_reason AS reason_now,
           CASE WHEN r.ward_code IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM areas a WHERE a.set_id = :set AND a.code = r.ward_code)
                  THEN 'ward ' || r.ward_code || ' is not in ' || :set_name
                WHEN u.kind = 'ward_committee' AND NOT EXISTS (
                       SELECT 1 FROM areas a WHERE a.set_id = :set AND a.code = u.ward_code)
                  THEN 'its unit ' || u.code || ' is retired: ward ' || u.ward_code
                       || ' is not in ' || :set_name
                WHEN u.kind <> 'ward_committee' AND NOT u.active
                  THEN 'its unit ' || u.code || ' is not active'
           END AS reason_after
      FROM routing_rules r
      JOIN categories c ON c.id = r.category_id
      JOIN units u ON u.id = r.unit_id
     WHERE r.active
"""
COMMITTEES_SQL = """
    WITH queue AS (SELECT unit_before AS unit_id, count(*) AS n FROM reform_plan
                    WHERE duplicate_of IS NULL GROUP BY unit_before),
         staff AS (SELECT unit_id, count(*) AS n FROM users WHERE active GROUP BY unit_id)
    SELECT u.code, u.name, u.ward_code, u.active,
           EXISTS (SELECT 1 FROM areas a WHERE a.set_id = :set AND a.code = u.ward_code) AS stays,
           coalesce(q.n, 0) AS open_reports, coalesce(s.n, 0) AS accounts
      FROM units u
      LEFT JOIN queue q ON q.unit_id = u.id
      LEFT JOIN staff s ON s.unit_id = u.id
     WHERE u.kind = 'ward_committee'
     ORDER BY u.ward_code
"""
NEW_WARDS_SQL = """
    SELECT a.code, a.name, a.full_name, a.name_en FROM areas a
     WHERE a.set_id = :set AND NOT EXISTS (
             SELECT 1 FROM units u WHERE u.kind = 'ward_committee' AND u.ward_code = a.code)
     ORDER BY a.code
"""
COUNTS_SQL = """
    SELECT count(*) FILTER (WHERE duplicate_of IS NULL) AS open_reports,
           count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates,
           count(*) FILTER (WHERE duplicate_of IS NULL
                              AND ward_after IS DISTINCT FROM ward_before) AS ward_changes,
           count(*) FILTER (WHERE duplicate_of IS NULL
                              AND unit_after IS DISTINCT FROM unit_before) AS unit_changes,
           count(*) FILTER (WHERE snapped_m > 0) AS placed_nearest,
           coalesce(max(snapped_m), 0) AS farthest_m
      FROM reform_plan
"""
# Open reports (not duplicates) by unit now and after; a NULL unit after is the committee
# the activation will create for that ward.
GROUPS_SQL = """
    SELECT ub.code AS before_code, ub.name AS before_name, ua.code AS after_code,
           ua.name AS after_name, a.code, a.name, a.full_name, a.name_en, count(*) AS n
      FROM reform_plan p
      JOIN units ub ON ub.id = p.unit_before
      LEFT JOIN units ua ON ua.id = p.unit_after
      LEFT JOIN areas a ON p.unit_after IS NULL AND a.set_id = :set AND a.code = p.ward_after
     WHERE p.duplicate_of IS NULL
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""


def _rules(conn: Connection, changes: Changes, set_id: int) -> None:
    rows = conn.execute(text(RULES_AFTER_SQL), {"set": set_id, "set_name": changes.set})
    for r in rows:
        if r.reason_now is None and r.reason_after is not None:
            changes.rules_suspended.append(
                RuleChange(r.id, r.category, r.unit, r.ward_code, r.reason_after)
            )
        elif r.reason_now is not None and r.reason_after is None:
            changes.rules_restored.append(
                RuleChange(r.id, r.category, r.unit, r.ward_code, r.reason_now)
            )


def _units(conn: Connection, changes: Changes, set_id: int, profile: Profile) -> None:
    for u in conn.execute(text(COMMITTEES_SQL), {"set": set_id}):
        change = UnitChange(u.code, u.name, u.ward_code, u.open_reports, u.accounts)
        if u.active and not u.stays:
            changes.units_retired.append(change)
        elif not u.active and u.stays:
            changes.units_restored.append(change)
    for w in conn.execute(text(NEW_WARDS_SQL), {"set": set_id}):
        code, name = new_committee(profile, w)
        changes.units_created.append(UnitChange(code, name, w.code))


def _groups(conn: Connection, changes: Changes, set_id: int, profile: Profile) -> None:
    counts: dict[str, UnitCount] = {}
    flows: dict[tuple[str, str], Flow] = {}
    for g in conn.execute(text(GROUPS_SQL), {"set": set_id}):
        new = g.after_code is None
        after_code, after_name = new_committee(profile, g) if new else (g.after_code, g.after_name)
        before = counts.setdefault(g.before_code, UnitCount(g.before_code, g.before_name, 0, 0))
        before.now += g.n
        after = counts.setdefault(after_code, UnitCount(after_code, after_name, 0, 0, new))
        after.after += g.n
        if after_code != g.before_code:
            flow = flows.setdefault(
                (g.before_code, after_code), Flow(g.before_code, after_code, new, 0)
            )
            flow.reports += g.n
    changes.units = sorted(counts.values(), key=lambda c: c.code)
    changes.flows = sorted(flows.values(), key=lambda f: (-f.reports, f.unit_before))


def summarize(conn: Connection, t: Target, profile: Profile, found: list[Check]) -> Changes:
    """What activating ``t`` changes (``reform_plan`` made for a ward set)."""
    changes = Changes.of(t, found)
    if t.set.level != "ward":
        return changes
    counts = conn.execute(text(COUNTS_SQL)).one()
    changes.open_reports = counts.open_reports
    changes.duplicates = counts.duplicates
    changes.ward_changes = counts.ward_changes
    changes.unit_changes = counts.unit_changes
    changes.placed_nearest = counts.placed_nearest
    changes.farthest_m = float(counts.farthest_m)
    _groups(conn, changes, t.set.id, profile)
    _units(conn, changes, t.set.id, profile)
    _rules(conn, changes, t.set.id)
    return changes


def preview(conn: Connection, set_name: str, profile: Profile) -> Changes:
    """What activating ``set_name`` would change. Writes nothing that outlives the caller's
    transaction, which the caller rolls back (the plan is a temporary table)."""
    started = time.monotonic()
    t = target(conn, set_name)
    if t.set.level == "ward":
        make_plan(conn, t.set.id)
    changes = summarize(conn, t, profile, coverage_checks(conn, t))
    changes.seconds = time.monotonic() - started
    return changes


PLAN_ROWS_SQL = """
    SELECT p.id, c.code AS category, p.status_before,
           CASE WHEN p.unit_after IS DISTINCT FROM p.unit_before THEN 'received'
                ELSE p.status_before END AS status_after,
           p.ward_before, wb.full_name AS ward_before_name, ub.code AS unit_before,
           p.ward_after, wa.code, wa.name, wa.full_name, wa.name_en,
           ua.code AS unit_after, round(CAST(p.snapped_m AS numeric), 1) AS snapped_m,
           p.duplicate_of
      FROM reform_plan p
      JOIN reports r ON r.id = p.id
      JOIN categories c ON c.id = p.category_id
      JOIN units ub ON ub.id = p.unit_before
      LEFT JOIN units ua ON ua.id = p.unit_after
      LEFT JOIN areas wb ON wb.set_id = r.boundary_set_id AND wb.code = p.ward_before
      LEFT JOIN areas wa ON wa.set_id = :set AND wa.code = p.ward_after
     WHERE (NOT :changed_only OR p.unit_after IS DISTINCT FROM p.unit_before
            OR p.ward_after IS DISTINCT FROM p.ward_before)
     ORDER BY p.id
     LIMIT :limit OFFSET :offset
"""


def plan_rows(
    conn: Connection,
    set_name: str,
    profile: Profile,
    *,
    changed_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The plan report by report (after ``preview`` made it in this transaction)."""
    set_id = sets.by_name(conn, set_name)
    if set_id is None or set_id.level != "ward":
        return []
    rows = conn.execute(
        text(PLAN_ROWS_SQL),
        {"set": set_id.id, "changed_only": changed_only, "limit": limit, "offset": offset},
    )
    out = []
    for r in rows:
        new = r.unit_after is None
        unit_after = new_committee(profile, r)[0] if new else r.unit_after
        out.append(
            {
                "id": r.id,
                "category": r.category,
                "duplicate_of": r.duplicate_of,
                "status_now": r.status_before,
                "ward_now": r.ward_before,
                "ward_now_name": r.ward_before_name,
                "unit_now": r.unit_before,
                "status_after": r.status_after,
                "ward_after": r.ward_after,
                "ward_after_name": r.full_name,
                "unit_after": unit_after,
                "unit_after_is_new": new,
                "placed_nearest_m": float(r.snapped_m) if r.snapped_m else 0.0,
            }
        )
    return out


UNITS_SWITCH_SQL = """
    WITH codes AS (SELECT code FROM areas WHERE set_id = :set),
         restored AS (
           UPDATE units SET active = true
            WHERE kind = 'ward_committee' AND NOT active AND ward_code IN (SELECT code FROM codes)
           RETURNING id),
         retired AS (
           UPDATE units SET active = false
            WHERE kind = 'ward_committee' AND active
              AND ward_code NOT IN (SELECT code FROM codes)
           RETURNING id)
    SELECT (SELECT count(*) FROM restored) AS restored, (SELECT count(*) FROM retired) AS retired
"""
# The committees created for new wards take the reports the plan could not name a unit for.
FILL_NEW_UNITS_SQL = """
    UPDATE reform_plan p SET unit_after = u.id
      FROM units u
     WHERE p.unit_after IS NULL AND p.duplicate_of IS NULL
       AND u.kind = 'ward_committee' AND u.ward_code = p.ward_after
"""
RULES_SWITCH_SQL = f"""
    UPDATE routing_rules r
       SET suspended_reason = s.reason_after,
           suspended_at = CASE WHEN s.reason_after IS NULL THEN NULL
                               ELSE coalesce(r.suspended_at, now()) END
      FROM ({RULES_AFTER_SQL}) s
     WHERE s.id = r.id AND s.reason_now IS DISTINCT FROM s.reason_after
"""
# Transfer semantics (docs/workflow.md) for a report that changes unit: received in the new
# queue, no assignee, its deadline restarted unless :restart is false. Duplicates follow.
TRANSFER_PLAN_SQL = """
    WITH d AS MATERIALIZED (SELECT id, gs_deadline(now(), id) AS deadline FROM categories)
    UPDATE reform_plan p
       SET status_after = 'received',
           deadline_after = CASE WHEN :restart THEN d.deadline ELSE p.deadline_after END
      FROM d
     WHERE d.id = p.category_id
       AND p.duplicate_of IS NULL AND p.unit_after IS DISTINCT FROM p.unit_before;
    UPDATE reform_plan d
       SET status_after = m.status_after, deadline_after = m.deadline_after
      FROM reform_plan m WHERE d.duplicate_of = m.id
"""
APPLY_SQL = """
    UPDATE reports r
       SET boundary_set_id = :set, ward_code = p.ward_after, snapped_m = p.snapped_m,
           unit_id = p.unit_after, status = p.status_after, deadline_at = p.deadline_after,
           assignee_id = CASE WHEN p.unit_after = p.unit_before THEN r.assignee_id END,
           updated_at = CASE WHEN c.changed THEN now() ELSE r.updated_at END,
           version = r.version + CASE WHEN c.changed THEN 1 ELSE 0 END
      FROM reform_plan p
     CROSS JOIN LATERAL (SELECT p.unit_after <> p.unit_before
                                OR p.ward_after <> p.ward_before AS changed) c
     WHERE r.id = p.id
"""
COMMENT_SQL = """
    replace(replace(replace(replace(replace(CAST({template} AS text),
      '{{unit}}', ua.name), '{{unit_en}}', ua.name_en), '{{ward}}', wa.full_name),
      '{{ward_en}}', coalesce(wa.name_en, wa.full_name)), '{{set}}', :set_name)
"""
EVENTS_SQL = f"""
    INSERT INTO report_events (report_id, actor, from_status, to_status, unit_id, reason,
                               public_comment)
    SELECT p.id, 'system', e.from_status, e.to_status, e.unit_id, e.reason, e.comment
      FROM reform_plan p
      JOIN units ua ON ua.id = p.unit_after
      JOIN areas wa ON wa.set_id = :set AND wa.code = p.ward_after
     CROSS JOIN LATERAL (VALUES
        (1, p.status_before, 'transferred', p.unit_before, 'boundary_reform',
         {COMMENT_SQL.format(template=":moved")}),
        (2, 'transferred', p.status_after, p.unit_after, NULL, NULL),
        (3, p.status_before, p.status_before, p.unit_before, 'boundary_reform',
         {COMMENT_SQL.format(template=":renamed")})
     ) AS e(n, from_status, to_status, unit_id, reason, comment)
     WHERE (e.n IN (1, 2) AND p.unit_after <> p.unit_before)
        OR (e.n = 3 AND p.unit_after = p.unit_before AND p.ward_after <> p.ward_before)
     ORDER BY p.id, e.n
"""
LEFT_BEHIND_SQL = """
    SELECT u.code, count(*) AS n FROM reports r JOIN units u ON u.id = r.unit_id
     WHERE NOT u.active AND r.status IN ('received', 'acknowledged', 'in_progress')
     GROUP BY u.code ORDER BY u.code LIMIT 5
"""


def _switch_units(conn: Connection, set_id: int, profile: Profile) -> None:
    seed.ensure_ward_units(conn, profile)  # creates the new wards' committees, renames the others
    conn.execute(text(UNITS_SWITCH_SQL), {"set": set_id})
    conn.execute(text(FILL_NEW_UNITS_SQL))
    conn.execute(text(FOLLOW_MASTERS_SQL))
    unplaced = conn.execute(
        text("SELECT count(*) FROM reform_plan WHERE unit_after IS NULL")
    ).scalar_one()
    if unplaced:
        raise Conflict(
            N_("no unit would handle {n} open reports after the activation", n=unplaced), "set"
        )


def _reroute(conn: Connection, t: Target, profile: Profile, *, restart_deadline: bool) -> None:
    params = {"set": t.set.id, "set_name": t.set.name}
    conn.execute(text(RULES_SWITCH_SQL), params)
    for statement in TRANSFER_PLAN_SQL.split(";"):
        conn.execute(text(statement), {"restart": restart_deadline})
    conn.execute(text(APPLY_SQL), {"set": t.set.id})
    conn.execute(
        text(tell_events_sql(EVENTS_SQL)),  # the outbox: in this transaction
        {**params, "moved": profile.reform.moved, "renamed": profile.reform.renamed},
    )
    left = conn.execute(text(LEFT_BEHIND_SQL)).all()
    if left:  # the plan guarantees it; a bug must not leave reports in a retired queue
        listed = ", ".join(f"{r.code} ({r.n})" for r in left)
        raise Conflict(N_("open reports would stay with retired units: {units}", units=listed))


def _refuse_failed_checks(t: Target, found: list[Check]) -> None:
    failed = checks.failures(found)
    if failed:
        raise Conflict(
            N_(
                "{name} cannot be activated: it fails its checks against the city limit:\n"
                "{failures}",
                name=t.set.name,
                failures="\n".join(failed),
            ),
            "set",
            context={"checks": [c.__dict__ for c in found]},
        )


def activate(
    conn: Connection,
    set_name: str,
    profile: Profile,
    *,
    restart_deadline: bool,
    by: str = "",
) -> Changes:
    """Activate ``set_name`` now, in the caller's transaction; returns what changed.

    The plan is made first, without a lock (the slow part: locating every open report).
    Then the reports table is locked against writers (a report sent now waits for the
    commit, rather than being routed by the old set), the plan is brought up to date with
    what changed meanwhile, and applied."""
    started = time.monotonic()
    t = target(conn, set_name)
    if t.replaces is not None and t.replaces.id == t.set.id:
        raise Conflict(N_("{name} is the active set already", name=set_name), "set")
    found = coverage_checks(conn, t)
    _refuse_failed_checks(t, found)
    if t.set.level == "ward":
        make_plan(conn, t.set.id)
    changes = summarize(conn, t, profile, found)
    conn.execute(text("LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE"))
    locked = time.monotonic()
    set_active(conn, t.set.id)
    if t.set.level == "ward":
        changes.replanned = refresh_plan(conn, t.set.id)
        if t.city is not None and not t.city.active:
            set_active(conn, t.city.id)
        _switch_units(conn, t.set.id, profile)
        _reroute(conn, t, profile, restart_deadline=restart_deadline)
        gazetteer.rebuild(conn, profile.gazetteer)
    changes.seconds = time.monotonic() - started
    changes.locked_seconds = time.monotonic() - locked
    _record(conn, t, changes, by)
    return changes


def _record(conn: Connection, t: Target, changes: Changes, by: str) -> None:
    summary = {
        "open_reports": changes.open_reports,
        "unit_changes": changes.unit_changes,
        "ward_changes": changes.ward_changes,
        "units_created": len(changes.units_created),
        "units_retired": len(changes.units_retired),
        "units_restored": len(changes.units_restored),
        "rules_suspended": [r.id for r in changes.rules_suspended],
        "rules_restored": [r.id for r in changes.rules_restored],
        "seconds": round(changes.seconds, 2),
    }
    # A schedule for this set is done now, whether it fell due or the set came early.
    updated = conn.execute(
        text(
            "UPDATE boundary_activations SET state = 'done', done_at = now(),"
            " previous_set_id = :previous, summary = CAST(:summary AS jsonb)"
            " WHERE set_id = :set AND state = 'scheduled'"
        ),
        {
            "set": t.set.id,
            "previous": t.replaces.id if t.replaces else None,
            "summary": json.dumps(summary),
        },
    ).rowcount
    if not updated:
        conn.execute(
            text(
                "INSERT INTO boundary_activations (set_id, previous_set_id, state, activate_at,"
                " requested_by, done_at, summary)"
                " VALUES (:set, :previous, 'done', now(), :by, now(), CAST(:summary AS jsonb))"
            ),
            {
                "set": t.set.id,
                "previous": t.replaces.id if t.replaces else None,
                "by": by,
                "summary": json.dumps(summary),
            },
        )


def takes_effect(set_ref: sets.SetRef, profile: Profile) -> dt.datetime:
    """The first moment of a set's valid_from in the city's time zone."""
    return dt.datetime.combine(set_ref.valid_from, dt.time(), ZoneInfo(profile.city.timezone))


@dataclass
class Outcome:
    """An activation asked for: done now, or scheduled for ``at``."""

    changes: Changes
    scheduled_at: dt.datetime | None = None


def request_activation(
    conn: Connection,
    set_name: str,
    profile: Profile,
    *,
    restart_deadline: bool,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    by: str = "",
) -> Outcome:
    """Activate ``set_name`` now if it is valid now, else schedule it for the first moment of
    its ``valid_from`` (or for ``at``, never before it is valid). A schedule is checked now,
    so that a set that cannot be activated is refused today, not at midnight."""
    now = now or dt.datetime.now(dt.UTC)
    t = target(conn, set_name)
    starts = takes_effect(t.set, profile)
    if at is not None:
        if at.tzinfo is None:
            raise Invalid(N_("at: give a time zone, e.g. 2025-07-01T00:00:00+07:00"), "at")
        if at < now:
            raise Invalid(N_("at: {at} is in the past", at=at.isoformat()), "at")
        if at < starts:
            raise Invalid(
                N_(
                    "at: {name} is valid from {day}; it cannot take effect before",
                    name=set_name,
                    day=t.set.valid_from.isoformat(),
                ),
                "at",
            )
    when = at or starts
    if when <= now:
        return Outcome(activate(conn, set_name, profile, restart_deadline=restart_deadline, by=by))
    if t.replaces is not None and t.replaces.id == t.set.id:
        raise Conflict(N_("{name} is the active set already", name=set_name), "set")
    found = coverage_checks(conn, t)
    _refuse_failed_checks(t, found)
    conn.execute(
        text(
            "INSERT INTO boundary_activations (set_id, activate_at, requested_by)"
            " VALUES (:set, :at, :by) ON CONFLICT (set_id) WHERE state = 'scheduled'"
            " DO UPDATE SET activate_at = excluded.activate_at,"
            " requested_by = excluded.requested_by, requested_at = now()"
        ),
        {"set": t.set.id, "at": when, "by": by},
    )
    return Outcome(Changes.of(t, found), scheduled_at=when)


def unschedule(conn: Connection, set_name: str) -> dt.datetime:
    """Cancel the scheduled activation of ``set_name``; returns when it would have run."""
    at = conn.execute(
        text(
            "UPDATE boundary_activations a SET state = 'cancelled', done_at = now()"
            " FROM boundary_sets b WHERE b.id = a.set_id AND b.name = :n"
            " AND a.state = 'scheduled' RETURNING a.activate_at"
        ),
        {"n": set_name},
    ).scalar()
    if at is None:
        raise NotFound(N_("{name} is not scheduled for activation", name=set_name), "set")
    return at


DUE_SQL = """
    SELECT a.id, b.name FROM boundary_activations a JOIN boundary_sets b ON b.id = a.set_id
     WHERE a.state = 'scheduled' AND a.activate_at <= :now
     ORDER BY a.activate_at, a.id
"""


def due(conn: Connection, now: dt.datetime) -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in conn.execute(text(DUE_SQL), {"now": now})]


def run_due(
    conn: Connection, activation_id: int, profile: Profile, *, restart_deadline: bool
) -> Changes | None:
    """Carry out one due activation in the caller's transaction; None when another process
    took it (or it was cancelled) meanwhile."""
    name = conn.execute(
        text(
            "SELECT b.name FROM boundary_activations a JOIN boundary_sets b ON b.id = a.set_id"
            " WHERE a.id = :id AND a.state = 'scheduled' FOR UPDATE OF a SKIP LOCKED"
        ),
        {"id": activation_id},
    ).scalar()
    if name is None:
        return None
    return activate(conn, name, profile, restart_deadline=restart_deadline, by="schedule")


def mark_failed(conn: Connection, activation_id: int, message: str) -> None:
    """A due activation that could not be done: kept with its reason, not tried again."""
    conn.execute(
        text(
            "UPDATE boundary_activations SET state = 'failed', done_at = now(), message = :m"
            " WHERE id = :id AND state = 'scheduled'"
        ),
        {"id": activation_id, "m": message},
    )
