"""Realistic demo reports: clustered around the markets, lakes and main roads the city profile
names, weighted by category, spread over the last twelve months with a plausible mix of
statuses and a consistent event history: about 70 % resolved (on time or late, counted in
working hours), some transferred from the ward to a city unit, some reopened by the citizen,
open ones past their deadline, and ratings that are about 62 % satisfied.

Built for volume: numpy draws the points, COPY streams them into a staging table, and one
INSERT ... SELECT routes them all with the same database functions (gs_locate, gs_route,
gs_deadline, gs_add_working_hours) that route a live report. A million reports load in minutes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import Connection, text

from geo_service import db
from geo_service.config import Settings
from geo_service.profile import Profile, load_profile

METRES_PER_DEGREE = 111_320.0
STATUS_MIX = {  # share of reports older than their deadline, by final status
    "resolved": 0.60,
    "rejected": 0.07,
    "in_progress": 0.14,
    "acknowledged": 0.09,
    "received": 0.10,
}
PRIORITY_MIX = {"normal": 0.80, "high": 0.10, "low": 0.07, "urgent": 0.03}
# When a demo report was acknowledged and taken in hand, as SQL over a row aliased {r}: the
# offsets come from created_at's microseconds, so the report row (its updated_at) and its
# event history agree without storing the times anywhere.
MILESTONES = """
    CROSS JOIN LATERAL (
      SELECT extract(microseconds FROM {r}.created_at)::bigint AS jitter,
             coalesce({r}.closed_at, :now) AS horizon) j
    CROSS JOIN LATERAL (
      SELECT greatest({r}.created_at + interval '1 minute',
                      least({r}.created_at + make_interval(mins => (20 + j.jitter % 240)::int),
                            j.horizon - interval '3 minutes')) AS ack_at) a
    CROSS JOIN LATERAL (
      SELECT greatest(a.ack_at + interval '1 minute',
                      least(a.ack_at + make_interval(mins => (30 + j.jitter * 7 % 600)::int),
                            j.horizon - interval '2 minutes')) AS work_at) w
"""
PHRASES = [
    "{name} tại {place}",
    "{name} kéo dài nhiều ngày ở khu vực {place}",
    "Người dân phản ánh: {name_lower} gần {place}",
    "{name}, đề nghị xử lý sớm ({place})",
]


def _offsets(rng: np.random.Generator, n: int, lat: np.ndarray, spread_m: np.ndarray) -> tuple:
    dy = rng.normal(0, 1, n) * spread_m / METRES_PER_DEGREE
    dx = rng.normal(0, 1, n) * spread_m / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
    return dy, dx


def draw_points(
    profile: Profile, n: int, rng: np.random.Generator, bbox: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """n points (lat, lon) and the name of the place each clusters around."""
    demo = profile.demo
    sources: list[tuple[str, float]] = [(p.name, p.weight) for p in demo.places]
    sources += [(r.name, r.weight) for r in demo.roads]
    n_background = round(n * demo.background_share) if sources else n
    n_cluster = n - n_background
    lat = np.empty(n)
    lon = np.empty(n)
    names = np.empty(n, dtype=object)

    x1, y1, x2, y2 = bbox
    lat[:n_background] = rng.uniform(y1, y2, n_background)
    lon[:n_background] = rng.uniform(x1, x2, n_background)
    names[:n_background] = profile.city.name

    if n_cluster:
        weights = np.array([w for _, w in sources], dtype=float)
        pick = rng.choice(len(sources), size=n_cluster, p=weights / weights.sum())
        c_lat, c_lon, spread = np.empty(n_cluster), np.empty(n_cluster), np.empty(n_cluster)
        for i, place in enumerate(demo.places):
            sel = pick == i
            c_lat[sel], c_lon[sel], spread[sel] = place.at[0], place.at[1], place.spread_m
        for j, road in enumerate(demo.roads, start=len(demo.places)):
            sel = np.flatnonzero(pick == j)
            pts = np.array(road.line)
            seg_len = np.hypot(*(np.diff(pts, axis=0).T))
            seg = rng.choice(len(seg_len), size=len(sel), p=seg_len / seg_len.sum())
            t = rng.uniform(0, 1, len(sel))
            c_lat[sel] = pts[seg, 0] + t * (pts[seg + 1, 0] - pts[seg, 0])
            c_lon[sel] = pts[seg, 1] + t * (pts[seg + 1, 1] - pts[seg, 1])
            spread[sel] = road.spread_m
        dy, dx = _offsets(rng, n_cluster, c_lat, spread)
        lat[n_background:] = c_lat + dy
        lon[n_background:] = c_lon + dx
        names[n_background:] = np.array([s for s, _ in sources], dtype=object)[pick]
    return lat, lon, list(names)


def _draw(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = list(mix)
    p = np.array([mix[k] for k in keys])
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


@dataclass
class Draw:
    """Candidate demo reports as columns (numpy arrays and lists), before routing."""

    lat: np.ndarray
    lon: np.ndarray
    places: list[str]
    category: np.ndarray  # index into the categories
    created: list[dt.datetime]
    status: np.ndarray
    priority: np.ndarray
    close_hours: np.ndarray

    def __len__(self) -> int:
        return len(self.lat)


def _city(conn: Connection) -> tuple[tuple[float, float, float, float], list[Any]]:
    """The active wards' extent and the active categories."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
            " ST_Extent(a.geom) AS e FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
            " WHERE b.level = 'ward' AND b.active) x"
        )
    ).one()
    if row[0] is None:
        raise LookupError("no active ward boundary set: run `geo-service init` first")
    cats = conn.execute(
        text("SELECT code, name, response_hours FROM categories WHERE active ORDER BY id")
    ).all()
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3])), list(cats)


def draw_reports(
    profile: Profile,
    m: int,
    rng: np.random.Generator,
    bbox: tuple[float, float, float, float],
    cats: list[Any],
    now: dt.datetime,
) -> Draw:
    """``m`` candidate reports: places, kinds, ages and a life each is at."""
    weight_by_code = {c.code: c.demo_weight for c in profile.categories}
    code_w = np.array([weight_by_code.get(c.code, 1.0) for c in cats])
    lat, lon, places = draw_points(profile, m, rng, bbox)
    cat_idx = rng.choice(len(cats), size=m, p=code_w / code_w.sum())
    # More reports in recent months: the app is catching on.
    age_days = 365 * (1 - np.sqrt(rng.uniform(0, 1, m)))
    created = [now - dt.timedelta(days=float(d)) for d in age_days]
    hours = np.array([cats[i].response_hours for i in cat_idx], dtype=float)
    status = _draw(rng, STATUS_MIX, m)
    # Deadlines count working hours: a 40-hour week is about 4.2 hours of wall clock
    # for each working hour. A report still inside its deadline is more likely open.
    wall_hours = hours * 168 / 40
    young = age_days * 24 < wall_hours
    status[young & (rng.uniform(0, 1, m) < 0.7)] = "received"
    # Old reports were mostly dealt with: a few stay open and overdue.
    stale = (age_days * 24 > 3 * wall_hours) & np.isin(
        status, ["received", "acknowledged", "in_progress"]
    )
    status[stale & (rng.uniform(0, 1, m) < 0.45)] = "resolved"
    # Time to close, in working hours: log-normal around the deadline; about one in
    # four or five runs late.
    close_h = hours * rng.lognormal(mean=-0.45, sigma=0.6, size=m)
    priority = _draw(rng, PRIORITY_MIX, m)
    return Draw(lat, lon, places, cat_idx, created, status, priority, close_h)


STAGING_COLUMNS = "seq, lon, lat, category, created_at, status, priority, close_hours, description"


def _copy_staging(conn: Connection, draw: Draw, cats: list[Any]) -> None:
    """The candidates into a temporary table, by COPY."""
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.demo_staging"))
    conn.execute(
        text(
            "CREATE TEMP TABLE demo_staging (seq int, lon float8, lat float8,"
            " category text, created_at timestamptz, status text, priority text,"
            " close_hours float8, description text)"
        )
    )
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY demo_staging ({STAGING_COLUMNS}) FROM STDIN") as copy,
    ):
        for i in range(len(draw)):
            cat = cats[draw.category[i]]
            phrase = PHRASES[i % len(PHRASES)]
            description = phrase.format(
                name=cat.name, name_lower=cat.name.lower(), place=draw.places[i]
            )
            row = (i, float(draw.lon[i]), float(draw.lat[i]), cat.code, draw.created[i])
            copy.write_row(
                (*row, draw.status[i], draw.priority[i], float(draw.close_hours[i]), description)
            )


INSERT_ROUTED_SQL = f"""
    INSERT INTO reports (category_id, description, geom, location_source,
                         boundary_set_id, ward_code, snapped_m, unit_id, status,
                         priority, created_at, updated_at, deadline_at, closed_at,
                         source)
    SELECT c.id, s.description, s.g, 'pin', l.set_id, l.code, l.snapped_m,
           gs_route(c.id, s.g, l.code, s.priority), s.status, s.priority,
           s.created_at,
           CASE s.status WHEN 'received' THEN s.created_at
                         WHEN 'acknowledged' THEN a.ack_at
                         WHEN 'in_progress' THEN w.work_at
                         ELSE s.closed_at END,
           gs_deadline(s.created_at, c.id), s.closed_at, 'demo'
      FROM (SELECT *, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g,
                   CASE WHEN status IN ('resolved', 'rejected') THEN
                     greatest(created_at + interval '5 minutes',
                              least(gs_add_working_hours(created_at, close_hours),
                                    :now - interval '1 minute'))
                   END AS closed_at
              FROM demo_staging) s
      JOIN categories c ON c.code = s.category
     {MILESTONES.format(r="s")}
     CROSS JOIN LATERAL gs_locate(s.g, :snap) l
     WHERE l.code IS NOT NULL
     ORDER BY s.seq
     LIMIT :n
"""


def generate_demo_reports(
    n: int,
    *,
    settings: Settings,
    seed: int = 2025,
    now: dt.datetime | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Generate, route and store ``n`` demo reports; returns how many were stored."""
    if n <= 0:
        return 0
    started = time.monotonic()
    profile = load_profile(settings.city_profile)
    rng = np.random.default_rng(seed)
    now = now or dt.datetime.now(dt.UTC)
    engine = db.sync_engine(settings.sqlalchemy_url)
    with engine.begin() as conn:
        bbox, cats = _city(conn)
        # Oversample: points that fall outside the city are dropped by routing.
        draw = draw_reports(profile, int(n * 1.15) + 50, rng, bbox, cats, now)
        say(f"drew {len(draw):,} candidate points in {time.monotonic() - started:.1f}s")
        _copy_staging(conn, draw, cats)
        say(f"copied into staging in {time.monotonic() - started:.1f}s")
        first_id = conn.execute(text("SELECT coalesce(max(id), 0) FROM reports")).scalar_one()
        params = {"n": n, "snap": settings.snap_distance_m, "now": now}
        stored = conn.execute(text(INSERT_ROUTED_SQL), params).rowcount
        say(f"routed and stored {stored:,} reports in {time.monotonic() - started:.1f}s")
        _write_histories(conn, first_id, now)
        conn.execute(text("DROP TABLE demo_staging"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("reports", "report_events", "ratings"):
            conn.execute(text(f"ANALYZE {table}"))
    say(f"{stored:,} demo reports with their histories in {time.monotonic() - started:.1f}s")
    return int(stored)


# Which demo reports had a transfer, a reopening or a rating: decided by a hash of the id
# (hashint8extended with a salt per question), so the report row, its events and its
# rating agree without storing the choice anywhere.
def _chance(salt: int) -> str:
    return f"(abs(hashint8extended(r.id, {salt})) % 1000) / 1000.0"


WARD_COMMITTEE = (
    "(SELECT wu.id FROM units wu WHERE wu.kind = 'ward_committee' AND wu.ward_code = r.ward_code)"
)
# About 6 % of reports for a city unit first went to the ward's People's Committee, which
# transferred them ten minutes later (their deadline restarted then).
TRANSFERRED = f"""({_chance(1)} < 0.06 AND r.created_at < :now - interval '1 day'
    AND (r.closed_at IS NULL OR r.closed_at > r.created_at + interval '1 hour')
    AND r.unit_id IS DISTINCT FROM {WARD_COMMITTEE})"""
# Some old reports waiting as received were resolved once and reopened by their reporter.
REOPENED = f"""({_chance(2)} < 0.35 AND r.status = 'received'
    AND r.created_at < :now - interval '3 days')"""
FIRST_CLOSE = "w.work_at + interval '2 hours'"
REOPEN_AT = f"{FIRST_CLOSE} + interval '20 hours'"


def _write_histories(conn: Connection, first_id: int, now: dt.datetime) -> None:
    """Events consistent with each demo report's status: received (perhaps transferred from
    the ward first), then acknowledged and in progress at plausible times, then resolved or
    rejected at closed_at (or resolved and reopened by the citizen); ratings for some of the
    resolved ones, more often satisfied when the unit kept its deadline."""
    params = {"first": first_id, "now": now}
    for sql in (TRANSFERS_SQL, REOPENINGS_SQL, EVENTS_SQL, RATINGS_SQL):
        conn.execute(text(sql), params)


TRANSFERS_SQL = f"""
    UPDATE reports r
       SET deadline_at = gs_deadline(r.created_at + interval '10 minutes', r.category_id),
           updated_at = greatest(r.updated_at, r.created_at + interval '10 minutes'),
           version = r.version + 2
     WHERE r.id > :first AND r.source = 'demo' AND {TRANSFERRED}
"""
REOPENINGS_SQL = f"""
    UPDATE reports r
       SET reopened = true, updated_at = {REOPEN_AT},
           deadline_at = gs_deadline({REOPEN_AT}, r.category_id),
           version = r.version + 4
      FROM reports r0 {MILESTONES.format(r="r0")}
     WHERE r0.id = r.id AND r.id > :first AND r.source = 'demo' AND {REOPENED}
"""
STEPS_SQL = f"""
    SELECT r.id, r.unit_id, r.status, r.created_at, r.closed_at, a.ack_at, w.work_at,
           r.reopened, {TRANSFERRED} AS transferred, {WARD_COMMITTEE} AS ward_unit,
           {FIRST_CLOSE} AS first_close, {REOPEN_AT} AS reopen_at
      FROM reports r
      {MILESTONES.format(r="r")}
     WHERE r.id > :first AND r.source = 'demo'
"""
TRANSFER_AT = "s.created_at + interval '10 minutes'"
EVENTS_SQL = f"""
    INSERT INTO report_events (report_id, at, actor, from_status, to_status, unit_id,
                               reason, public_comment)
    SELECT s.id, e.at, e.actor, e.from_status, e.to_status,
           CASE WHEN e.step IN (1, 11) AND s.transferred THEN s.ward_unit
                ELSE s.unit_id END,
           e.reason, e.comment
      FROM ({STEPS_SQL}) s
     CROSS JOIN LATERAL (VALUES
        (1, s.created_at, 'citizen', NULL, 'received', NULL, NULL),
        (11, {TRANSFER_AT}, 'staff', 'received', 'transferred', 'not_competent',
         'Chuyển đơn vị có thẩm quyền xử lý.'),
        (12, {TRANSFER_AT}, 'system', 'transferred', 'received', NULL, NULL),
        (2, s.ack_at, 'staff', 'received', 'acknowledged', NULL,
         'Đã tiếp nhận, đang kiểm tra hiện trường.'),
        (3, s.work_at, 'staff', 'acknowledged', 'in_progress', NULL, 'Đang xử lý.'),
        (4, s.closed_at, 'staff', 'in_progress', 'resolved', NULL, 'Đã xử lý xong.'),
        (5, s.closed_at, 'staff', 'received', 'rejected', 'not_competent',
         'Không thuộc thẩm quyền hoặc đã được xử lý trước đó.'),
        (6, s.first_close, 'staff', 'in_progress', 'resolved', NULL, 'Đã xử lý xong.'),
        (7, s.reopen_at, 'citizen', 'resolved', 'received', 'not_fixed',
         'Vẫn chưa được xử lý, đề nghị kiểm tra lại.')
     ) AS e(step, at, actor, from_status, to_status, reason, comment)
     WHERE e.step = 1
        OR (e.step IN (11, 12) AND s.transferred)
        OR (e.step = 2 AND (s.status IN ('acknowledged', 'in_progress', 'resolved')
                            OR s.reopened))
        OR (e.step = 3 AND (s.status IN ('in_progress', 'resolved') OR s.reopened))
        OR (e.step = 4 AND s.status = 'resolved')
        OR (e.step = 5 AND s.status = 'rejected')
        OR (e.step IN (6, 7) AND s.reopened)
     ORDER BY s.id, e.at, e.step
"""
RATINGS_SQL = f"""
    INSERT INTO ratings (report_id, satisfied, stars, comment, created_at)
    SELECT r.id, x.satisfied,
           CASE WHEN x.satisfied THEN 4 + (r.id % 2) ELSE 1 + (r.id % 3) END,
           CASE WHEN x.satisfied THEN 'Cảm ơn, xử lý nhanh.'
                ELSE 'Xử lý chậm, chưa triệt để.' END,
           least(r.closed_at + make_interval(hours => (1 + r.id % 72)::int),
                 :now - interval '1 second')
      FROM reports r
     CROSS JOIN LATERAL (
       SELECT {_chance(4)} < CASE WHEN r.closed_at <= r.deadline_at THEN 0.70
                                  ELSE 0.35 END AS satisfied) x
     WHERE r.id > :first AND r.source = 'demo' AND r.status = 'resolved'
       AND {_chance(3)} < 0.45
"""
