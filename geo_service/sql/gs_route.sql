CREATE OR REPLACE FUNCTION gs_route(p_category int, pt geometry, p_ward_code text,
                                    p_priority text, p_ward_set int DEFAULT NULL)
RETURNS int LANGUAGE sql STABLE AS $$
  SELECT r.unit_id FROM gs_routes(pt, p_ward_code, p_priority, p_ward_set) r
   WHERE r.category_id = p_category
$$;
