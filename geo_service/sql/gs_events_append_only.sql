CREATE OR REPLACE FUNCTION gs_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
    RETURN OLD;  -- cascaded from deleting the report itself
  END IF;
  RAISE EXCEPTION 'report_events is append-only (% refused)', TG_OP;
END
$$;
