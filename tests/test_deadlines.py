"""Deadlines count working hours: office hours on working days, never weekends or the city's
public holidays, in the city's own time zone. Overdue is a query, never a stale flag."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, text

from geo_service.config import Settings
from geo_service.profile import WEEKDAYS, load_profile
from tests.stories import file_report

PROFILE = load_profile(Settings().city_profile)
TZ = ZoneInfo(PROFILE.city.timezone)
HOLIDAYS = {h.day for h in PROFILE.calendar.holidays}


def expected_deadline(start: dt.datetime, hours: float) -> dt.datetime:
    """A plain walk over the calendar, day by day: the reference the SQL must match."""
    remaining = dt.timedelta(hours=hours)
    day = start.astimezone(TZ).date()
    while True:
        if day not in HOLIDAYS:
            for a, b in PROFILE.calendar.periods(WEEKDAYS[day.weekday()]):
                begin = max(dt.datetime.combine(day, a, TZ), start)
                end = dt.datetime.combine(day, b, TZ)
                if begin < end:
                    if remaining <= end - begin:
                        return begin + remaining
                    remaining -= end - begin
        day += dt.timedelta(days=1)


def deadline(engine: Engine, start: dt.datetime, hours: float) -> dt.datetime:
    with engine.connect() as conn:
        value: dt.datetime = conn.execute(
            text("SELECT gs_add_working_hours(:start, :hours)"), {"start": start, "hours": hours}
        ).scalar_one()
    return value


def local(text_: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_).replace(tzinfo=TZ)


def test_a_report_on_friday_afternoon_is_due_after_the_weekend(engine: Engine) -> None:
    # 4 working hours from Friday 16:00: one hour on Friday, three on Monday morning.
    assert deadline(engine, local("2026-12-04 16:00"), 4) == local("2026-12-07 11:00")
    # Filed on Saturday: the clock starts on Monday at 08:00.
    assert deadline(engine, local("2026-12-05 10:00"), 4) == local("2026-12-07 12:00")
    # Lunch does not count: 12:30 + 2 h is 15:00, not 14:30.
    assert deadline(engine, local("2026-12-07 12:30"), 2) == local("2026-12-07 15:00")
    # A deadline ends at the close of a period, not at the next day's opening.
    assert deadline(engine, local("2026-12-07 08:00"), 8) == local("2026-12-07 17:00")


def test_tet_and_national_holidays_do_not_count(engine: Engine) -> None:
    # Friday 13 February 2026, 15:00 + 4 working hours: the Tết break runs to 22 February.
    assert deadline(engine, local("2026-02-13 15:00"), 4) == local("2026-02-23 10:00")
    # 30 April and 1 May: Wednesday 16:00 + 2 h lands on Monday 4 May.
    assert deadline(engine, local("2026-04-29 16:00"), 2) == local("2026-05-04 09:00")


def test_the_sql_matches_a_walk_over_the_calendar(engine: Engine) -> None:
    rng = random.Random(3)
    base = local("2026-01-01 00:00")
    for _ in range(300):
        start = base + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        hours = rng.choice([4, 6, 24, 48, 72, 0.5])
        assert deadline(engine, start, hours) == expected_deadline(start, hours), (start, hours)


def test_the_city_profile_seeds_the_2026_holidays(engine: Engine) -> None:
    with engine.connect() as conn:
        days = set(conn.execute(text("SELECT day FROM holidays")).scalars())
        tz = conn.execute(text("SELECT timezone FROM working_calendar")).scalar()
    assert tz == "Asia/Ho_Chi_Minh"
    assert {dt.date(2026, 1, 1), dt.date(2026, 2, 17), dt.date(2026, 9, 2)} <= days


def test_an_operator_declares_a_holiday_and_deadlines_move_past_it(engine: Engine) -> None:
    start = local("2030-03-04 16:00")  # a Monday, far from the seeded holidays
    assert deadline(engine, start, 2) == local("2030-03-05 09:00")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO holidays (day, name) VALUES ('2030-03-05', 'Test day')"))
    try:
        assert deadline(engine, start, 2) == local("2030-03-06 09:00")
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM holidays WHERE day = '2030-03-05'"))
    assert deadline(engine, start, 2) == local("2030-03-05 09:00")


def test_a_new_report_carries_its_working_hours_deadline(
    client: httpx.Client, engine: Engine
) -> None:
    created = file_report(client, "flooding")  # 4 working hours
    due = dt.datetime.fromisoformat(created["deadline_at"])
    start = dt.datetime.fromisoformat(created["created_at"])
    assert abs(due - expected_deadline(start, 4)) < dt.timedelta(milliseconds=1)
    shown = client.get(f"/api/v1/reports/{created['id']}").json()["properties"]
    assert dt.datetime.fromisoformat(shown["deadline_at"]) == due
    assert shown["overdue"] is False


def test_overdue_is_computed_when_asked_not_stored(client: httpx.Client, engine: Engine) -> None:
    created = file_report(client, "fallen_tree")
    track = client.get(f"/api/v1/track/{created['token']}").json()
    assert track["overdue"] is False
    with engine.begin() as conn:  # time passes: the deadline is now behind us
        conn.execute(
            text(
                "UPDATE reports SET created_at = now() - interval '3 hours',"
                " deadline_at = now() - interval '1 minute' WHERE id = :id"
            ),
            {"id": created["id"]},
        )
    assert client.get(f"/api/v1/track/{created['token']}").json()["overdue"] is True
    assert client.get(f"/api/v1/reports/{created['id']}").json()["properties"]["overdue"] is True
