CREATE OR REPLACE FUNCTION gs_rebuild_working_periods() RETURNS trigger LANGUAGE plpgsql AS $$
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
