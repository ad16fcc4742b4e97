"""What "counted", "open" and "overdue" mean, as SQL on a report aliased ``r``, written once,
and whose reports a caller may see (Scope).

A duplicate follows its master and is not separate work, so it is counted in neither the
queue nor the figures nor the maps. Open and overdue are written exactly like the predicates
of the partial indexes that serve them (reports_open_queue, reports_open_geom): a predicate
spelled differently would not use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geo_service.report_query.vocab import OPEN_STATUSES, sql_in

# A report that is work of its own (not a duplicate following its master).
COUNTED_SQL = "r.duplicate_of IS NULL"
OPEN_STATUSES_SQL = sql_in("r.status", OPEN_STATUSES)
# Open work. Written exactly like the predicate of the partial index reports_open_queue.
OPEN_SQL = f"{OPEN_STATUSES_SQL} AND r.duplicate_of IS NULL"
# Open and past its deadline: a query, never a stored flag that could go stale.
OVERDUE_SQL = f"({OPEN_SQL} AND r.deadline_at < now())"
# OVERDUE_SQL for rows already restricted to COUNTED_SQL. Not naming duplicate_of lets the
# queue's counts come from the covering index reports_unit_counts alone (an index-only scan).
OVERDUE_COUNTED_SQL = f"({OPEN_STATUSES_SQL} AND r.deadline_at < now())"
# The partial indexes' own predicate, without the alias (for migrations and models).
OPEN_INDEX_PREDICATE = OPEN_SQL.replace("r.", "")


@dataclass(frozen=True)
class Scope:
    """Whose reports a caller may see: one unit's (the reports it handles), or every unit's
    (``unit_id`` None). ``ward_code`` widens a unit's scope to every report in that ward:
    a ward's People's Committee sees its whole ward on the planners' maps."""

    unit_id: int | None = None
    ward_code: str | None = None

    # For lookups by id: one row either way, so one prepared statement serves every caller.
    SQL = "(CAST(:scope_unit AS int) IS NULL OR r.unit_id = CAST(:scope_unit AS int))"

    @property
    def everything(self) -> bool:
        return self.unit_id is None

    def where(self) -> str:
        """For lists and counts: a plain ``r.unit_id = ...`` the planner can use an index for,
        even in a generic (prepared) plan, where the OR form of ``SQL`` would defeat it."""
        if self.unit_id is None:
            return "true"
        if self.ward_code is None:
            return "r.unit_id = :scope_unit"
        return "(r.unit_id = :scope_unit OR r.ward_code = :scope_ward)"

    @property
    def params(self) -> dict[str, Any]:
        return {"scope_unit": self.unit_id, "scope_ward": self.ward_code}


EVERYTHING = Scope()
