"""``geo-service boundaries ...``: load a set (or only check it), preview what activating it
would change, activate it now or on the day it becomes valid, and list the sets.

A reform, start to end (docs/boundaries.md): ``load NEW.geojson --set NEW --dry-run``, then
``load`` for real, ``preview NEW --csv plan.csv``, ``activate NEW``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from boundaries import checks
from boundaries.checks import plural
from boundaries.importer import LoadOptions, derive_city, load_boundary_set
from geo_service import db
from geo_service.config import get_settings
from geo_service.errors import DomainError
from geo_service.profile import Profile, load_profile


def _engine() -> Engine:
    return db.sync_engine(get_settings().sqlalchemy_url)


def _profile() -> Profile:
    return load_profile(get_settings().city_profile)


# Options of `load` that override the profile's entry for the file when given.
OVERRIDES = {
    "level": "level",
    "valid_from": "valid_from",
    "attribution": "attribution",
    "licence": "licence",
    "layer": "layer",
    "overlap_tolerance": "overlap_tolerance_m2",
    "gap_tolerance": "gap_tolerance_m2",
    "city": "city_set",
    "derive_city": "derive_city",
    "crs": "crs",
    "code_width": "code_width",
}
FIELDS = ("code_field", "name_field", "full_name_field", "name_en_field")


def load_options(args: argparse.Namespace, profile: Profile) -> tuple[LoadOptions, str]:
    """What to load: the profile's entry for this set or file, overridden by the options
    given; and a line saying which entry applied."""
    from geo_service.seed import load_options as from_profile

    path = Path(args.path)
    entry = profile.boundary_file(args.set, path)
    given = {name: getattr(args, opt) for opt, name in OVERRIDES.items()}
    given = {k: v for k, v in given.items() if v is not None}
    given.update(set_name=args.set, allow_removed=args.allow_removed, swap_xy=args.swap_xy)
    given.update(dry_run=args.dry_run)
    if entry is not None:
        opts = from_profile(profile, entry, **given)
        note = f"using the city profile's entry for {entry.set!r} ({entry.file})"
    else:
        if "level" not in given:
            raise ValueError("--level is needed: the city profile does not list this file")
        given.setdefault("valid_from", dt.date.today())
        opts = LoadOptions(**given, near=profile.city.center)
        note = "the city profile does not list this file: options as given"
    for name in FIELDS:
        value = getattr(args, name)
        if value is not None:
            setattr(opts.fields, name.removesuffix("_field"), value)
    return opts, note


def cmd_load(args: argparse.Namespace) -> int:
    profile = _profile()
    opts, note = load_options(args, profile)
    print(note)
    with _engine().connect() as conn:
        summary = load_boundary_set(conn, Path(args.path), opts)
        if opts.dry_run:
            conn.rollback()
            print("\n".join(summary.lines()))
            return 0 if summary.ok else 2
        print("\n".join(summary.lines()))
        if args.activate:
            _activate(conn, profile, opts.set_name, None)
        conn.commit()
    return 0


def _activate(conn: Any, profile: Profile, name: str, at: dt.datetime | None) -> None:
    from geo_service import reform

    outcome = reform.request_activation(
        conn,
        name,
        profile,
        restart_deadline=get_settings().transfer_restarts_deadline,
        at=at,
        by="cli",
    )
    if outcome.scheduled_at is not None:
        for c in outcome.changes.checks:
            print("\n".join(c.lines()))
        print(
            f"{name!r} is scheduled: it becomes active at {outcome.scheduled_at.isoformat()}"
            " (the service does it; or run `geo-service boundaries activate-due` then)"
        )
        return
    print("\n".join(changes_lines(outcome.changes)))
    done = outcome.changes
    print(
        f"{name!r} is now active ({done.seconds:.1f} s, of which report writers waited "
        f"{done.locked_seconds:.1f} s; {done.replanned} reports planned again under the lock)"
    )


def cmd_activate(args: argparse.Namespace) -> int:
    with _engine().begin() as conn:
        _activate(conn, _profile(), args.set, args.at)
    return 0


def cmd_unschedule(args: argparse.Namespace) -> int:
    from geo_service import reform

    with _engine().begin() as conn:
        at = reform.unschedule(conn, args.set)
    print(f"the activation of {args.set!r} at {at.isoformat()} is cancelled")
    return 0


def cmd_activate_due(args: argparse.Namespace) -> int:
    from geo_service import reform

    profile, settings = _profile(), get_settings()
    now = dt.datetime.now(dt.UTC)
    with _engine().connect() as conn:
        due = reform.due(conn, now)
    if not due:
        print("no activation is due")
    failed = 0
    for activation_id, name in due:
        try:
            with _engine().begin() as conn:
                changes = reform.run_due(
                    conn,
                    activation_id,
                    profile,
                    restart_deadline=settings.transfer_restarts_deadline,
                )
        except (DomainError, ValueError) as exc:  # refused: recorded, not tried again
            failed += 1
            with _engine().begin() as conn:
                reform.mark_failed(conn, activation_id, str(exc))
            print(f"geo-service: {name!r} could not be activated: {exc}", file=sys.stderr)
            continue
        if changes is not None:
            print("\n".join(changes_lines(changes)))
            print(f"{name!r} is now active, as scheduled")
    return 2 if failed else 0


def cmd_preview(args: argparse.Namespace) -> int:
    from geo_service import reform

    profile = _profile()
    with _engine().connect() as conn:
        changes = reform.preview(conn, args.set, profile)
        print("\n".join(changes_lines(changes)))
        if args.csv:
            rows = reform.plan_rows(conn, args.set, profile, changed_only=args.changed_only)
            write_csv(Path(args.csv), rows)
            print(f"{len(rows)} open reports, one a line, in {args.csv}")
        conn.rollback()
    print(f"nothing was changed (preview took {changes.seconds:.1f} s)")
    return 0


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["id"])
        out.writeheader()
        out.writerows(rows)


def changes_lines(c: Any) -> list[str]:
    """A preview's or an activation's changes for a person to read."""
    out = [f"set {c.set!r} ({c.level}) replacing {c.replaces!r}, city limit {c.city!r}"]
    out += [line for check in c.checks for line in check.lines()]
    if c.level != "ward":
        return out
    out.append(
        f"{c.open_reports} open reports: {c.ward_changes} change ward, {c.unit_changes} change "
        f"unit; {c.placed_nearest} lie in no ward of {c.set} and go to the nearest "
        f"(at most {c.farthest_m:,.0f} m); duplicates following their masters: {c.duplicates}"
    )
    if c.flows:
        out.append("reports moving, by unit now -> unit after:")
        out += [
            f"  {f.reports:7} {f.unit_before} -> {f.unit_after}{' (new)' if f.new_unit else ''}"
            for f in c.flows
        ]
    changed = [u for u in c.units if u.now != u.after]
    if changed:
        out.append("open reports by unit, now -> after:")
        out += [f"  {u.code:24} {u.now:7} -> {u.after:7}  {u.name}" for u in changed]
    for title, units in (
        ("units created for new wards", c.units_created),
        ("units brought back (their ward returns)", c.units_restored),
        ("units retired (their ward vanishes; their queues empty)", c.units_retired),
    ):
        if units:
            out.append(f"{title}: {len(units)}")
            out += [_unit_line(u) for u in units]
    for title, rules in (
        ("rules suspended", c.rules_suspended),
        ("rules back in force", c.rules_restored),
    ):
        if rules:
            out.append(f"{title}: {len(rules)}")
            out += [f"  rule {r.id}: {r.category} -> {r.unit}: {r.reason}" for r in rules]
    return out


def _unit_line(u: Any) -> str:
    extra = f", {plural(u.open_reports, 'open report')} now" if u.open_reports else ""
    extra += f", {plural(u.accounts, 'account')}" if u.accounts else ""
    return f"  {u.code:24} ward {u.ward_code}  {u.name}{extra}"


LIST_SQL = """
    SELECT b.name, b.level, b.valid_from, b.active, b.feature_count, b.source,
           c.name AS city, b.gap_tolerance_m2, b.overlap_tolerance_m2,
           (SELECT a.activate_at FROM boundary_activations a
             WHERE a.set_id = b.id AND a.state = 'scheduled') AS scheduled_at,
           (SELECT a.message FROM boundary_activations a WHERE a.set_id = b.id
             AND a.state = 'failed' ORDER BY a.id DESC LIMIT 1) AS failed
      FROM boundary_sets b LEFT JOIN boundary_sets c ON c.id = b.city_set_id
     ORDER BY b.level, b.valid_from, b.name
"""


def cmd_list(args: argparse.Namespace) -> int:
    with _engine().connect() as conn:
        rows = conn.execute(text(LIST_SQL)).all()
    for r in rows:
        mark = "*" if r.active else ("S" if r.scheduled_at else " ")
        extra = f" city {r.city}" if r.city else ""
        if r.scheduled_at:
            extra += f"  scheduled for {r.scheduled_at.isoformat()}"
        if r.failed and not r.active:
            extra += f"  (scheduled activation failed: {r.failed.splitlines()[0]})"
        print(
            f"{mark} {r.level:5} {r.name:30} {r.valid_from} {r.feature_count:5} {r.source}"
            f"  tolerance {r.gap_tolerance_m2:g}/{r.overlap_tolerance_m2:g} m²{extra}"
        )
    return 0


def cmd_derive_city(args: argparse.Namespace) -> int:
    with _engine().begin() as conn:
        derive_city(conn, args.wards, args.set)
        found = checks.coverage(
            conn,
            "SELECT code, geom FROM areas WHERE set_id ="
            " (SELECT id FROM boundary_sets WHERE name = :w)",
            {"w": args.wards},
            tolerance=0,
        )
    print(f"{args.set!r}: the outline of {args.wards!r}, valid from the same day")
    print("\n".join(line for c in found for line in c.lines()))
    return 0


def _add_load(b: Any) -> None:
    s = b.add_parser("load", help="check a boundary file and load it as a new (inactive) set")
    s.add_argument("path")
    s.add_argument("--set", required=True, help="name of the new boundary set")
    s.add_argument("--level", choices=["ward", "city"])
    for name in FIELDS:
        s.add_argument("--" + name.replace("_", "-"))
    s.add_argument("--layer", help="layer name in a GeoPackage")
    s.add_argument("--valid-from", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")
    s.add_argument("--attribution")
    s.add_argument("--licence")
    s.add_argument("--overlap-tolerance", type=float, metavar="M2")
    s.add_argument("--gap-tolerance", type=float, metavar="M2", help="gaps, parts outside")
    city = s.add_mutually_exclusive_group()
    city.add_argument("--city", help="the city limit these wards go with (a city set)")
    city.add_argument("--derive-city", metavar="SET", help="store the wards' outline as SET")
    s.add_argument("--allow-removed", action="store_true", help="codes may vanish (a reform)")
    s.add_argument("--crs", help="CRS of the coordinates when the file does not state it")
    s.add_argument("--swap-xy", action="store_true", help="the file is in lat,lon order")
    s.add_argument("--code-width", type=int, metavar="N", help="pad number codes to N digits")
    s.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    s.add_argument("--activate", action="store_true", help="activate it (or schedule it)")
    s.set_defaults(func=cmd_load)


def add_parser(sub: Any) -> None:
    b = sub.add_parser("boundaries", help="boundary sets and reforms").add_subparsers(
        dest="boundaries_cmd", required=True
    )
    _add_load(b)
    s = b.add_parser("preview", help="what activating a set would change (changes nothing)")
    s.add_argument("set")
    s.add_argument("--csv", metavar="FILE", help="write every open report's plan to FILE")
    s.add_argument("--changed-only", action="store_true", help="CSV: only reports that move")
    s.set_defaults(func=cmd_preview)
    s = b.add_parser("activate", help="activate a set now, or schedule it for its valid_from")
    s.add_argument("set")
    s.add_argument("--at", type=dt.datetime.fromisoformat, help="when, e.g. 2025-07-01T06:00+07:00")
    s.set_defaults(func=cmd_activate)
    s = b.add_parser("unschedule", help="cancel a scheduled activation")
    s.add_argument("set")
    s.set_defaults(func=cmd_unschedule)
    s = b.add_parser("activate-due", help="carry out the scheduled activations that are due")
    s.set_defaults(func=cmd_activate_due)
    s = b.add_parser("derive-city", help="store a ward set's outline as its city limit")
    s.add_argument("wards", help="the ward set")
    s.add_argument("--set", required=True, help="name of the new city set")
    s.set_defaults(func=cmd_derive_city)
    s = b.add_parser("list", help="list boundary sets (* active, S scheduled)")
    s.set_defaults(func=cmd_list)
