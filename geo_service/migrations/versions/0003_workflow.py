"""Workflow: who did what to a report, ratings, followers, duplicates, response templates, a
working calendar for deadlines, and the indexes that keep the officials' queue fast.

Deadlines count working hours only. Rather than walk the calendar day by day for every
report (a million reports, a dozen days each), the calendar is unrolled once into
``working_periods``: every working period from 2000 to 2100 with the working seconds
before and after it. A deadline is then two index probes (see gs_add_working_hours). The
table is rebuilt by a statement trigger whenever the hours, holidays or time zone change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 08:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('received', 'acknowledged', 'in_progress') AND duplicate_of IS NULL"

TABLES = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE report_events
  ADD COLUMN reason text,
  ADD COLUMN user_id int REFERENCES users (id);

ALTER TABLE report_photos
  ADD CONSTRAINT report_photos_event_id_fkey FOREIGN KEY (event_id)
      REFERENCES report_events (id) ON DELETE CASCADE;
CREATE INDEX report_photos_event ON report_photos (event_id) WHERE event_id IS NOT NULL;

ALTER TABLE reports
  ADD COLUMN reopened boolean NOT NULL DEFAULT false,
  ADD COLUMN duplicate_of bigint REFERENCES reports (id),
  ADD COLUMN plus_ones int NOT NULL DEFAULT 0,
  ADD COLUMN assignee_id int REFERENCES users (id),
  ADD CONSTRAINT reports_not_own_duplicate CHECK (duplicate_of <> id),
  ADD CONSTRAINT reports_plus_ones CHECK (plus_ones >= 0);

ALTER TABLE categories
  ADD COLUMN duplicate_radius_m float8 NOT NULL DEFAULT 50,
  ADD CONSTRAINT categories_duplicate_radius CHECK (duplicate_radius_m > 0
                                                    AND duplicate_radius_m <= 1000);

-- The queue: a unit's open reports by deadline. Partial, so it holds only the open work.
CREATE INDEX reports_open_queue ON reports (unit_id, deadline_at, id) WHERE {OPEN};
-- Counts per status (and overdue) for a unit, from the index alone.
CREATE INDEX reports_unit_status ON reports (unit_id, status, deadline_at)
  WHERE duplicate_of IS NULL;
CREATE INDEX reports_duplicate_of ON reports (duplicate_of) WHERE duplicate_of IS NOT NULL;
-- Possible duplicates: open reports near a point.
CREATE INDEX reports_open_geom ON reports USING gist (geom) WHERE {OPEN};
-- Text search in the queue (ILIKE '%words%').
CREATE INDEX reports_description_trgm ON reports USING gin (description gin_trgm_ops);

CREATE TABLE ratings (
  report_id bigint PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
  satisfied boolean NOT NULL,
  stars smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
  comment text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE followers (
  id bigserial PRIMARY KEY,
  report_id bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  token text NOT NULL UNIQUE DEFAULT gs_new_token(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX followers_report ON followers (report_id);

CREATE TABLE response_templates (
  id serial PRIMARY KEY,
  code text NOT NULL,
  unit_id int REFERENCES units (id) ON DELETE CASCADE,
  category_id int REFERENCES categories (id) ON DELETE CASCADE,
  status text CHECK (status IN ('acknowledged', 'in_progress', 'resolved', 'rejected',
                                'transferred')),
  title text NOT NULL,
  body text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (unit_id, category_id, code)
);

CREATE TABLE working_calendar (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  timezone text NOT NULL  -- an unknown zone fails the rebuild below, so the write fails
);
CREATE TABLE working_hours (
  weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  starts time NOT NULL,
  ends time NOT NULL,
  PRIMARY KEY (weekday, starts),
  CHECK (starts < ends)
);
CREATE TABLE holidays (
  day date PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE working_periods (
  starts timestamptz PRIMARY KEY,
  ends timestamptz NOT NULL,
  us_before bigint NOT NULL,
  us_after bigint NOT NULL UNIQUE
);

-- Events are history: never rewritten, never deleted except with their report.
CREATE FUNCTION gs_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
    RETURN OLD;  -- cascaded from deleting the report itself
  END IF;
  RAISE EXCEPTION 'report_events is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER report_events_append_only BEFORE UPDATE OR DELETE ON report_events
  FOR EACH ROW EXECUTE FUNCTION gs_events_append_only();
"""

CALENDAR_FUNCTIONS = """
CREATE FUNCTION gs_rebuild_working_periods() RETURNS trigger LANGUAGE plpgsql AS $$
-- Unroll the calendar: every working period from 2000 to 2100 in the city's time zone,
-- with the working microseconds before it and after it.
DECLARE
  tz text := coalesce((SELECT timezone FROM working_calendar), 'UTC');
BEGIN
  DELETE FROM working_periods;
  INSERT INTO working_periods (starts, ends, us_before, us_after)
  SELECT s, e, total - len, total
    FROM (SELECT s, e, len, sum(len) OVER (ORDER BY s) AS total
            FROM (SELECT (d::date + w.starts) AT TIME ZONE tz AS s,
                         (d::date + w.ends) AT TIME ZONE tz AS e,
                         (extract(epoch FROM w.ends - w.starts) * 1000000)::bigint AS len
                    FROM generate_series(date '2000-01-01', date '2100-12-31',
                                         interval '1 day') d
                    JOIN working_hours w ON w.weekday = extract(isodow FROM d)
                   WHERE NOT EXISTS (SELECT 1 FROM holidays h WHERE h.day = d::date)) p) q;
  RETURN NULL;
END
$$;
CREATE TRIGGER working_hours_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON working_hours FOR EACH STATEMENT EXECUTE FUNCTION gs_rebuild_working_periods();
CREATE TRIGGER holidays_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON holidays FOR EACH STATEMENT EXECUTE FUNCTION gs_rebuild_working_periods();
CREATE TRIGGER working_calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON working_calendar FOR EACH STATEMENT EXECUTE FUNCTION gs_rebuild_working_periods();

CREATE FUNCTION gs_add_working_hours(p_start timestamptz, p_hours float8)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  -- The moment p_hours of working time after p_start: the working time already spent
  -- before p_start (up to the period p_start falls in or follows), plus p_hours, found in
  -- the period where the running total reaches it.
  SELECT (SELECT q.ends - (q.us_after - t.target) * interval '1 microsecond'
            FROM working_periods q WHERE q.us_after >= t.target
           ORDER BY q.us_after LIMIT 1)
    FROM (SELECT coalesce(
                   (SELECT p.us_before + least(
                             (extract(epoch FROM p_start - p.starts) * 1000000)::bigint,
                             p.us_after - p.us_before)
                      FROM working_periods p WHERE p.starts <= p_start
                     ORDER BY p.starts DESC LIMIT 1), 0)
                 + (p_hours * 3600000000)::bigint AS target) t
$$;

CREATE FUNCTION gs_working_hours_between(p_from timestamptz, p_to timestamptz)
RETURNS float8 LANGUAGE sql STABLE AS $$
  -- Working hours from p_from to p_to (negative if p_to is earlier).
  SELECT (b.us - a.us) / 3600000000.0
    FROM (SELECT coalesce((SELECT p.us_before + least(
                             (extract(epoch FROM p_from - p.starts) * 1000000)::bigint,
                             p.us_after - p.us_before)
                             FROM working_periods p WHERE p.starts <= p_from
                            ORDER BY p.starts DESC LIMIT 1), 0) AS us) a,
         (SELECT coalesce((SELECT p.us_before + least(
                             (extract(epoch FROM p_to - p.starts) * 1000000)::bigint,
                             p.us_after - p.us_before)
                             FROM working_periods p WHERE p.starts <= p_to
                            ORDER BY p.starts DESC LIMIT 1), 0) AS us) b
$$;

CREATE OR REPLACE FUNCTION gs_deadline(p_start timestamptz, p_category int)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  -- A category's response deadline counts working hours only (see working_periods).
  SELECT gs_add_working_hours(p_start, c.response_hours) FROM categories c
   WHERE c.id = p_category
$$;

-- Until the city profile is seeded: Monday to Friday, 08:00-12:00 and 13:00-17:00 UTC.
INSERT INTO working_calendar (timezone) VALUES ('UTC');
INSERT INTO working_hours (weekday, starts, ends)
SELECT d, s, e FROM generate_series(1, 5) d,
       (VALUES (time '08:00', time '12:00'), (time '13:00', time '17:00')) v(s, e);
"""

OLD_DEADLINE = """
CREATE OR REPLACE FUNCTION gs_deadline(p_start timestamptz, p_category int) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT p_start + make_interval(hours => c.response_hours) FROM categories c
   WHERE c.id = p_category
$$
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(CALENDAR_FUNCTIONS)


def downgrade() -> None:
    op.execute(OLD_DEADLINE)
    op.execute(
        """
        DROP FUNCTION gs_working_hours_between(timestamptz, timestamptz);
        DROP FUNCTION gs_add_working_hours(timestamptz, float8);
        DROP TABLE working_periods, holidays, working_hours, working_calendar;
        DROP FUNCTION gs_rebuild_working_periods();
        DROP TRIGGER report_events_append_only ON report_events;
        DROP FUNCTION gs_events_append_only();
        DROP TABLE response_templates, followers, ratings;
        DROP INDEX reports_description_trgm, reports_open_geom, reports_duplicate_of,
                   reports_unit_status, reports_open_queue, report_photos_event;
        ALTER TABLE categories DROP COLUMN duplicate_radius_m;
        ALTER TABLE reports DROP COLUMN reopened, DROP COLUMN duplicate_of,
                            DROP COLUMN plus_ones, DROP COLUMN assignee_id;
        ALTER TABLE report_photos DROP CONSTRAINT report_photos_event_id_fkey;
        ALTER TABLE report_events DROP COLUMN reason, DROP COLUMN user_id;
        """
    )
