"""The words a report is described with, defined once: statuses, priorities, channels, and
the duplicates policy of a query. The database's CHECK constraints are built from these
(migration 0007) and a test holds them equal (tests/test_report_query.py)."""

from __future__ import annotations

from typing import Literal, get_args

# What a report can be. "transferred" is not among them: a transfer is an event, after
# which the report is received again in its new unit's queue.
Status = Literal["received", "acknowledged", "in_progress", "resolved", "rejected"]
STATUSES: tuple[Status, ...] = get_args(Status)
OPEN_STATUSES: tuple[Status, ...] = ("received", "acknowledged", "in_progress")
CLOSED_STATUSES: tuple[Status, ...] = ("resolved", "rejected")

# What an event records a report went to (its to_status): a status, or a transfer.
EventStatus = Literal[
    "received", "acknowledged", "in_progress", "resolved", "rejected", "transferred"
]
EVENT_STATUSES: tuple[EventStatus, ...] = get_args(EventStatus)

# Where an official may move a report (a response template is written for one of these).
Target = Literal["acknowledged", "in_progress", "resolved", "rejected", "transferred"]
TARGETS: tuple[Target, ...] = get_args(Target)

# Words a status filter also takes: several statuses at once.
STATUS_SETS: dict[str, tuple[Status, ...]] = {
    "open": OPEN_STATUSES,
    "closed": CLOSED_STATUSES,
    "all": STATUSES,
}

Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)

# How a report reached us: our web app or another app through the API, Open311, or an
# official who took it by phone (Hanoi's 1022 hotline), at the counter, by letter or e-mail.
Channel = Literal["web", "app", "open311", "phone", "walk_in", "letter", "email"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)

# A duplicate follows its master and is not separate work: counts leave it out ("exclude");
# lists of what citizens sent show it ("include"); "only" finds the duplicates themselves.
Duplicates = Literal["exclude", "include", "only"]
DUPLICATES: tuple[Duplicates, ...] = get_args(Duplicates)


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """``column IN ('a', 'b')``: a CHECK constraint or predicate from a vocabulary."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
