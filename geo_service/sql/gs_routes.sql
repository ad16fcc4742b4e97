CREATE OR REPLACE FUNCTION gs_routes(pt geometry, p_ward_code text, p_priority text)
RETURNS TABLE (category_id int, unit_id int) LANGUAGE sql STABLE AS $$
  -- For every category: the matching rule with the highest precedence (then the most
  -- specific) names the unit; with no matching rule, the ward's People's Committee handles
  -- the report. A plain SELECT, so the planner inlines it into the caller's query.
  SELECT c.id, coalesce(
    (SELECT r.unit_id FROM routing_rules r JOIN units u ON u.id = r.unit_id AND u.active
      WHERE r.category_id = c.id AND r.active
        AND (r.area IS NULL OR ST_Covers(r.area, pt))
        AND (r.priority IS NULL OR r.priority = p_priority)
      ORDER BY r.precedence DESC, (r.area IS NOT NULL) DESC, (r.priority IS NOT NULL) DESC, r.id
      LIMIT 1),
    (SELECT u.id FROM units u
      WHERE u.kind = 'ward_committee' AND u.ward_code = p_ward_code AND u.active))
  FROM categories c
$$;
