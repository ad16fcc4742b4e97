"""Routing rules as data: operators add and retire them from the CLI; the database function
``gs_route`` applies them (see the first migration)."""

from __future__ import annotations

import json

from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import Connection, text


def _lookup(conn: Connection, table: str, code: str) -> int:
    found = conn.execute(text(f"SELECT id FROM {table} WHERE code = :c"), {"c": code}).scalar()
    if found is None:
        raise LookupError(f"no {table[:-1].replace('ie', 'y')} with code {code!r}")
    return int(found)


def _area_from_geojson(document: str) -> str:
    """WKT of the (Multi)Polygon in a GeoJSON geometry, Feature or one-feature collection."""
    data = json.loads(document)
    if data.get("type") == "FeatureCollection":
        if len(data.get("features", [])) != 1:
            raise ValueError("the area file must hold exactly one feature")
        data = data["features"][0]
    if data.get("type") == "Feature":
        data = data["geometry"]
    geom = shape(data)
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
        raise ValueError("the area must be a Polygon or MultiPolygon")
    return geom.wkt


def add_rule(
    conn: Connection,
    *,
    category: str,
    unit: str,
    ward: str | None = None,
    area_geojson: str | None = None,
    priority: str | None = None,
    precedence: int = 10,
) -> int:
    """Route ``category`` (inside an area / of a priority, if given) to ``unit``."""
    params: dict[str, object] = {
        "cat": _lookup(conn, "categories", category),
        "unit": _lookup(conn, "units", unit),
        "priority": priority,
        "precedence": precedence,
        "label": None,
        "wkt": None,
        "ward": ward,
    }
    if area_geojson:
        params["wkt"], params["label"] = _area_from_geojson(area_geojson), "area file"
    if ward:
        params["label"] = f"ward {ward}"
    rule_id = conn.execute(
        text(
            """
            INSERT INTO routing_rules (category_id, unit_id, area, area_label, priority,
                                       precedence)
            SELECT :cat, :unit,
                   CASE WHEN CAST(:ward AS text) IS NOT NULL THEN
                          (SELECT a.geom FROM areas a JOIN boundary_sets b ON b.id = a.set_id
                            WHERE b.level = 'ward' AND b.active AND a.code = :ward)
                        WHEN CAST(:wkt AS text) IS NOT NULL THEN
                          ST_Multi(ST_MakeValid(ST_GeomFromText(:wkt, 4326)))
                   END,
                   :label, :priority, :precedence
            RETURNING id, (area IS NULL) AS city_wide
            """
        ),
        params,
    ).one()
    if ward and rule_id.city_wide:
        raise LookupError(f"no ward {ward!r} in the active ward boundary set")
    return int(rule_id.id)


def list_rules(conn: Connection) -> list[str]:
    rows = conn.execute(
        text(
            """
            SELECT r.id, c.code AS category, u.code AS unit, r.priority, r.precedence,
                   coalesce(r.area_label, CASE WHEN r.area IS NULL THEN 'city-wide'
                                               ELSE 'area' END) AS area
              FROM routing_rules r JOIN categories c ON c.id = r.category_id
              JOIN units u ON u.id = r.unit_id
             WHERE r.active ORDER BY c.code, r.precedence DESC, r.id
            """
        )
    ).all()
    return [
        f"{r.id:5} {r.category:24} -> {r.unit:16} area={r.area} "
        f"priority={r.priority or 'any'} precedence={r.precedence}"
        for r in rows
    ]


def deactivate_rule(conn: Connection, rule_id: int) -> None:
    done = conn.execute(
        text("UPDATE routing_rules SET active = false WHERE id = :id AND active"), {"id": rule_id}
    ).rowcount
    if not done:
        raise LookupError(f"no active routing rule {rule_id}")
