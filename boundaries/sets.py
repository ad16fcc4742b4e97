"""Which boundary set answers for a level: the active one, the one valid on a date, the one a
name gives, and the city limit a ward set goes with.

A set is valid from its ``valid_from`` until the next set of its level starts (MapIt's
generations, by date). When several sets of a level start on the same day, the active one
wins, then one scheduled to become active, then the one loaded last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

# The set of level :level valid on :day, as a subquery returning its id.
VALID_ON_SQL = """
    (SELECT vb.id FROM boundary_sets vb
      WHERE vb.level = {level} AND vb.valid_from <= {day}
      ORDER BY vb.valid_from DESC, vb.active DESC,
               EXISTS (SELECT 1 FROM boundary_activations va
                        WHERE va.set_id = vb.id AND va.state = 'scheduled') DESC,
               vb.id DESC
      LIMIT 1)
"""

# The city limit that goes with ward set {ward}: the one its operator named, else the city
# set valid on the ward set's first day.
CITY_FOR_SQL = """
    (SELECT coalesce(wb.city_set_id, {valid_city})
       FROM boundary_sets wb WHERE wb.id = {ward})
""".replace("{valid_city}", VALID_ON_SQL.format(level="'city'", day="wb.valid_from"))

# When a set stops being valid: the next day another set of its level starts.
VALID_TO_SQL = """
    (SELECT min(nb.valid_from) FROM boundary_sets nb
      WHERE nb.level = {b}.level AND nb.valid_from > {b}.valid_from)
"""


@dataclass(frozen=True)
class SetRef:
    id: int
    name: str
    level: str
    valid_from: dt.date
    active: bool


def _ref(row: Any) -> SetRef | None:
    if row is None:
        return None
    return SetRef(row.id, row.name, row.level, row.valid_from, row.active)


_COLUMNS = "SELECT id, name, level, valid_from, active FROM boundary_sets"


def by_name(conn: Connection, name: str) -> SetRef | None:
    return _ref(conn.execute(text(f"{_COLUMNS} WHERE name = :n"), {"n": name}).first())


def by_id(conn: Connection, set_id: int | None) -> SetRef | None:
    if set_id is None:
        return None
    return _ref(conn.execute(text(f"{_COLUMNS} WHERE id = :i"), {"i": set_id}).first())


def active(conn: Connection, level: str) -> SetRef | None:
    sql = f"{_COLUMNS} WHERE level = :l AND active"
    return _ref(conn.execute(text(sql), {"l": level}).first())


def valid_on(conn: Connection, level: str, day: dt.date) -> SetRef | None:
    sql = f"{_COLUMNS} WHERE id = {VALID_ON_SQL.format(level=':l', day=':d')}"
    return _ref(conn.execute(text(sql), {"l": level, "d": day}).first())


def city_for(conn: Connection, ward_set_id: int) -> SetRef | None:
    """The city limit ward set ``ward_set_id`` is checked against and activated with."""
    sql = f"{_COLUMNS} WHERE id = {CITY_FOR_SQL.format(ward=':w')}"
    return _ref(conn.execute(text(sql), {"w": ward_set_id}).first())
