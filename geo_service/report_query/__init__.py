"""One home for report queries: the vocabularies (vocab), what counted / open / overdue mean
and whose reports a caller sees (predicates), the one filter every surface uses (filter), and
the shapes a report is read in (projections). The queue, the figures, the public list and map,
Open311, the planners' maps and the exports are built on these and nothing else.
"""

from geo_service.report_query.filter import Near, Period, ReportFilter, day_start
from geo_service.report_query.predicates import (
    COUNTED_SQL,
    EVERYTHING,
    OPEN_SQL,
    OVERDUE_COUNTED_SQL,
    OVERDUE_SQL,
    Scope,
)
from geo_service.report_query.vocab import (
    CHANNELS,
    CLOSED_STATUSES,
    EVENT_STATUSES,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    TARGETS,
    Channel,
    Duplicates,
    EventStatus,
    Priority,
    Status,
    Target,
)

__all__ = [
    "CHANNELS",
    "CLOSED_STATUSES",
    "COUNTED_SQL",
    "EVENT_STATUSES",
    "EVERYTHING",
    "OPEN_SQL",
    "OPEN_STATUSES",
    "OVERDUE_COUNTED_SQL",
    "OVERDUE_SQL",
    "PRIORITIES",
    "STATUSES",
    "TARGETS",
    "Channel",
    "Duplicates",
    "EventStatus",
    "Near",
    "Period",
    "Priority",
    "ReportFilter",
    "Scope",
    "Status",
    "Target",
    "day_start",
]
