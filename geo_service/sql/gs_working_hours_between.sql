CREATE OR REPLACE FUNCTION gs_working_hours_between(p_from timestamptz, p_to timestamptz)
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
