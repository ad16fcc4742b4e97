CREATE OR REPLACE FUNCTION gs_add_working_hours(p_start timestamptz, p_hours float8)
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
