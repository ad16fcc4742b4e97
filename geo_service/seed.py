"""Idempotent set-up of a database from the city profile: boundaries, units, categories and
the default routing rules. Running it twice changes nothing; changing the profile and running
it again updates names and deadlines but never deletes what operators added."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, text

from boundaries import sets
from boundaries.importer import Fields, LoadOptions, LoadSummary, load_boundary_set
from geo_service import gazetteer, reform
from geo_service.profile import WEEKDAYS, BoundaryFile, Profile


def load_options(profile: Profile, b: BoundaryFile, **overrides: Any) -> LoadOptions:
    """How to load the profile's file ``b``: its fields, validity, attribution, licence and
    tolerances, near the city's centre; ``overrides`` are what an operator said by hand."""
    opts = LoadOptions(
        set_name=b.set,
        level=b.level,
        valid_from=b.valid_from,
        fields=Fields(b.code_field, b.name_field, b.full_name_field, b.name_en_field),
        attribution=b.attribution,
        licence=b.licence,
        overlap_tolerance_m2=b.overlap_tolerance_m2,
        gap_tolerance_m2=b.gap_tolerance_m2,
        city_set=b.city_set,
        derive_city=b.derive_city,
        crs=b.crs,
        code_width=b.code_width,
        near=profile.city.center,
    )
    return replace(opts, **overrides)


def load_default_boundaries(
    conn: Connection, profile: Profile, say: Callable[[str], None] = print
) -> list[LoadSummary]:
    """Load each boundary file of the profile that is not in the database yet (city limits
    first: wards are checked against theirs), and activate one when its level has no
    active set."""
    entries = sorted((b for b in profile.boundaries if b.autoload), key=lambda b: b.level)
    loaded = []
    for b in entries:
        if sets.by_name(conn, b.set):
            say(f"boundary set {b.set!r} already loaded")
            continue
        summary = load_boundary_set(conn, b.path, load_options(profile, b))
        loaded.append(summary)
        for line in summary.lines()[:-1]:
            say(line)
    for b in entries:
        if sets.active(conn, b.level) is None:
            reform.activate(conn, b.set, profile, restart_deadline=True, by="init")
            say(f"activated {b.set!r} as the {b.level} boundary set")
    return loaded


def ensure_ward_units(conn: Connection, profile: Profile) -> int:
    """Every ward of the active ward set gets its People's Committee as a unit."""
    t = profile.ward_unit
    wards = conn.execute(
        text(
            "SELECT a.code, a.name, a.full_name, coalesce(a.name_en, a.name) AS name_en"
            " FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
            " WHERE b.level = 'ward' AND b.active ORDER BY a.code"
        )
    ).mappings()
    rows = [
        {
            "code": t.code.format(**w),
            "name": t.name.format(**w),
            "name_en": t.name_en.format(**w),
            "ward": w["code"],
        }
        for w in wards
    ]
    if rows:
        conn.execute(
            text(
                "INSERT INTO units (code, kind, name, name_en, ward_code)"
                " VALUES (:code, 'ward_committee', :name, :name_en, :ward)"
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
                " name_en = excluded.name_en, ward_code = excluded.ward_code"
            ),
            rows,
        )
    return len(rows)


def seed_catalogue(conn: Connection, profile: Profile) -> None:
    """Groups, city units, categories and one city-wide routing rule per category that names a
    unit in the profile (a rule added by an operator is never touched)."""
    conn.execute(
        text(
            "INSERT INTO category_groups (code, name, name_en) VALUES (:code, :name, :name_en)"
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en"
        ),
        [g.model_dump() for g in profile.groups],
    )
    if profile.units:
        conn.execute(
            text(
                "INSERT INTO units (code, kind, name, name_en) VALUES (:code, :kind, :name,"
                " :name_en) ON CONFLICT (code) DO UPDATE SET kind = excluded.kind,"
                " name = excluded.name, name_en = excluded.name_en"
            ),
            [u.model_dump() for u in profile.units],
        )
    for order, c in enumerate(profile.categories):
        cat_id = conn.execute(
            text(
                "INSERT INTO categories (code, group_code, name, name_en, response_hours,"
                " keywords, sort_order, duplicate_radius_m) VALUES (:code, :group, :name,"
                " :name_en, :hours, :keywords, :order, :radius) ON CONFLICT (code) DO UPDATE"
                " SET group_code = excluded.group_code, name = excluded.name,"
                " name_en = excluded.name_en, response_hours = excluded.response_hours,"
                " keywords = excluded.keywords, sort_order = excluded.sort_order,"
                " duplicate_radius_m = excluded.duplicate_radius_m RETURNING id"
            ),
            {
                "code": c.code,
                "group": c.group,
                "name": c.name,
                "name_en": c.name_en,
                "hours": c.response_hours,
                "keywords": c.keywords,
                "order": order,
                "radius": c.duplicate_radius_m,
            },
        ).scalar_one()
        if c.unit:
            conn.execute(
                text(
                    "INSERT INTO routing_rules (category_id, unit_id, area_label)"
                    " SELECT :cat, u.id, 'city profile default' FROM units u"
                    " WHERE u.code = :unit AND NOT EXISTS (SELECT 1 FROM routing_rules r"
                    "   WHERE r.category_id = :cat AND r.area_label = 'city profile default')"
                ),
                {"cat": cat_id, "unit": c.unit},
            )


def seed_calendar(conn: Connection, profile: Profile) -> None:
    """The working calendar deadlines count in: the city's time zone and office hours (as the
    profile says: they replace what was there) and its holidays (added or renamed; a holiday
    an operator added is kept). A change rebuilds working_periods by trigger, so nothing is
    written when nothing changed."""
    tz = conn.execute(text("SELECT timezone FROM working_calendar")).scalar()
    if tz != profile.city.timezone:
        conn.execute(
            text(
                "INSERT INTO working_calendar (timezone) VALUES (:tz) ON CONFLICT (singleton)"
                " DO UPDATE SET timezone = excluded.timezone"
            ),
            {"tz": profile.city.timezone},
        )
    cal = profile.calendar
    rows = [
        {"weekday": i, "starts": a, "ends": b}
        for i, day in enumerate(WEEKDAYS, start=1)
        for a, b in cal.periods(day)
    ]
    current = conn.execute(
        text("SELECT weekday, starts, ends FROM working_hours ORDER BY weekday, starts")
    ).all()
    if [tuple(r) for r in current] != [(r["weekday"], r["starts"], r["ends"]) for r in rows]:
        conn.execute(text("DELETE FROM working_hours"))
        conn.execute(
            text(
                "INSERT INTO working_hours (weekday, starts, ends)"
                " SELECT * FROM unnest(CAST(:w AS int[]), CAST(:s AS time[]), CAST(:e AS time[]))"
            ),
            {
                "w": [r["weekday"] for r in rows],
                "s": [r["starts"] for r in rows],
                "e": [r["ends"] for r in rows],
            },
        )
    known: dict[dt.date, str] = {
        r.day: r.name for r in conn.execute(text("SELECT day, name FROM holidays"))
    }
    if any(known.get(h.day) != h.name for h in cal.holidays):
        conn.execute(
            text(
                "INSERT INTO holidays (day, name)"
                " SELECT * FROM unnest(CAST(:d AS date[]), CAST(:n AS text[]))"
                " ON CONFLICT (day) DO UPDATE SET name = excluded.name"
            ),
            {"d": [h.day for h in cal.holidays], "n": [h.name for h in cal.holidays]},
        )


def seed_templates(conn: Connection, profile: Profile) -> None:
    """The profile's city-wide response templates (units add their own later)."""
    for t in profile.templates:
        conn.execute(
            text(
                "INSERT INTO response_templates (code, category_id, status, title, body)"
                " VALUES (:code, (SELECT id FROM categories WHERE code = :category), :status,"
                " :title, :body) ON CONFLICT (unit_id, category_id, code) DO UPDATE SET"
                " status = excluded.status, title = excluded.title, body = excluded.body"
            ),
            t.model_dump(),
        )


def init_database(conn: Connection, profile: Profile, say: Callable[[str], None] = print) -> None:
    load_default_boundaries(conn, profile, say)
    seed_catalogue(conn, profile)
    seed_calendar(conn, profile)
    seed_templates(conn, profile)
    n = ensure_ward_units(conn, profile)
    say(f"{len(profile.categories)} categories, {len(profile.units)} city units, {n} ward units")
    names = gazetteer.rebuild(conn, profile.gazetteer)
    say(f"gazetteer: {names} ward names")
