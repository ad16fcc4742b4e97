CREATE OR REPLACE FUNCTION gs_deadline(p_start timestamptz, p_category int)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  -- A category's response deadline counts working hours only (see working_periods).
  SELECT gs_add_working_hours(p_start, c.response_hours) FROM categories c
   WHERE c.id = p_category
$$;
