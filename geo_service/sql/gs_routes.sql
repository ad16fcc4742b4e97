CREATE OR REPLACE FUNCTION gs_routes(pt geometry, p_ward_code text, p_priority text,
                                     p_ward_set int DEFAULT NULL)
RETURNS TABLE (category_id int, unit_id int) LANGUAGE sql STABLE AS $$
  -- For every category: the matching rule with the highest precedence (then the most
  -- specific) names the unit; with no matching rule, the ward's People's Committee handles
  -- the report. A rule for a ward names it by code, so it matches only while a ward with
  -- that code exists. p_ward_set asks "after activating this set": the People's Committees
  -- of its wards count as active (they will be created or brought back) and those of other
  -- wards as retired. A plain SELECT, so the planner inlines it into the caller's query.
  SELECT c.id, coalesce(
    (SELECT r.unit_id FROM routing_rules r JOIN units u ON u.id = r.unit_id
      WHERE r.category_id = c.id AND r.active
        AND (r.ward_code IS NULL OR r.ward_code = p_ward_code)
        AND (r.area IS NULL OR ST_Covers(r.area, pt))
        AND (r.priority IS NULL OR r.priority = p_priority)
        AND CASE WHEN p_ward_set IS NULL OR u.kind <> 'ward_committee' THEN u.active
                 ELSE EXISTS (SELECT 1 FROM areas a
                               WHERE a.set_id = p_ward_set AND a.code = u.ward_code) END
      ORDER BY r.precedence DESC, (r.area IS NOT NULL OR r.ward_code IS NOT NULL) DESC,
               (r.priority IS NOT NULL) DESC, r.id
      LIMIT 1),
    (SELECT u.id FROM units u
      WHERE u.kind = 'ward_committee' AND u.ward_code = p_ward_code
        AND (u.active OR p_ward_set IS NOT NULL)))
  FROM categories c
$$;
