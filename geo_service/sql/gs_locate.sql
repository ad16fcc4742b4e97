CREATE OR REPLACE FUNCTION gs_locate(pt geometry, snap_m float8 DEFAULT 50)
RETURNS TABLE (area_id int, set_id int, code text, in_city boolean, snapped_m float8)
LANGUAGE plpgsql STABLE ROWS 1 AS $$
-- The ward that covers pt in the active ward set. A point on a shared edge is covered by
-- both wards; the lowest code wins so the answer never depends on row order. A point that
-- no ward covers is either outside the active city limit (in_city = false) or in a sliver
-- between wards, and then goes to the nearest ward within snap_m metres; farther, no ward.
DECLARE
  ward_set int := (SELECT b.id FROM boundary_sets b WHERE b.level = 'ward' AND b.active);
  city_set int := (SELECT b.id FROM boundary_sets b WHERE b.level = 'city' AND b.active);
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
  -- Index prefilter in degrees, wide enough for snap_m at this latitude, then metres.
  degrees := snap_m / (111320 * greatest(cos(radians(ST_Y(pt))), 0.01));
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
