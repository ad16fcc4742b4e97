CREATE OR REPLACE FUNCTION gs_locate(pt geometry, snap_m float8 DEFAULT 50,
                                     p_ward_set int DEFAULT NULL, p_city_set int DEFAULT NULL,
                                     p_check_city boolean DEFAULT true)
RETURNS TABLE (area_id int, set_id int, code text, in_city boolean, snapped_m float8)
LANGUAGE plpgsql STABLE ROWS 1 AS $$
-- The ward that covers pt in a ward set: the active one unless p_ward_set names another (a
-- date's or a named set: history). A point on a shared edge is covered by both wards; the
-- lowest code wins so the answer never depends on row order. A point that no ward covers is
-- either outside the city limit (in_city = false; the active city set unless p_city_set
-- names one, no check when p_check_city is false) or in a sliver between wards, and then
-- goes to the nearest ward within snap_m metres; farther, no ward. snap_m = 'Infinity' finds
-- the nearest ward however far: a boundary reform places every open report somewhere.
DECLARE
  ward_set int := coalesce(p_ward_set,
    (SELECT b.id FROM boundary_sets b WHERE b.level = 'ward' AND b.active));
  city_set int := CASE WHEN p_check_city THEN coalesce(p_city_set,
    (SELECT b.id FROM boundary_sets b WHERE b.level = 'city' AND b.active)) END;
  degrees float8;
BEGIN
  RETURN QUERY
    SELECT a.id, a.set_id, a.code, true, 0::float8
      FROM area_pieces p JOIN areas a ON a.id = p.area_id
     WHERE p.set_id = ward_set AND ST_Covers(p.geom, pt)
     ORDER BY a.code LIMIT 1;
  IF FOUND THEN RETURN; END IF;
  -- Not in a ward: outside the city limit, or in a sliver between wards.
  IF city_set IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM area_pieces p WHERE p.set_id = city_set AND ST_Covers(p.geom, pt)) THEN
    RETURN QUERY SELECT NULL::int, NULL::int, NULL::text, false, NULL::float8;
    RETURN;
  END IF;
  -- Index prefilter in degrees, wide enough for snap_m at this latitude, then metres. With
  -- no limit, the planar nearest piece bounds it: the nearest in metres is at most that far
  -- in degrees divided by cos(latitude).
  IF snap_m = 'Infinity' THEN
    degrees := (SELECT p.geom <-> pt FROM area_pieces p WHERE p.set_id = ward_set
                 ORDER BY p.geom <-> pt LIMIT 1) * 1.01
               / greatest(cos(radians(ST_Y(pt))), 0.01) + 1e-9;
  ELSE
    degrees := snap_m / (111320 * greatest(cos(radians(ST_Y(pt))), 0.01));
  END IF;
  RETURN QUERY
    SELECT a.id, a.set_id, a.code, true, d.metres
      FROM area_pieces p JOIN areas a ON a.id = p.area_id
     CROSS JOIN LATERAL (SELECT ST_Distance(p.geom::geography, pt::geography) AS metres) d
     WHERE p.set_id = ward_set AND ST_DWithin(p.geom, pt, degrees) AND d.metres <= snap_m
     ORDER BY d.metres, a.code LIMIT 1;
  IF FOUND THEN RETURN; END IF;
  RETURN QUERY SELECT NULL::int, NULL::int, NULL::text, city_set IS NOT NULL, NULL::float8;
END
$$;
