"""Routing rules as data: operators add and retire them from the CLI; the database function
``gs_routes`` (geo_service/sql/gs_routes.sql) applies them. A rule for a ward states the
ward's code, never a copy of its polygon: a boundary reform that removes the code suspends the
rule (geo_service.reform), and one that brings it back puts it in force again."""

from __future__ import annotations

import json

from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import Connection, text

from geo_service.errors import Invalid, NotFound
from geo_service.i18n import N_


def _lookup(conn: Connection, table: str, code: str) -> int:
    found = conn.execute(text(f"SELECT id FROM {table} WHERE code = :c"), {"c": code}).scalar()
    if found is None and table == "categories":
        raise NotFound(N_("no category with code {code!r}", code=code), "category")
    if found is None:
        raise NotFound(N_("no unit with code {code!r}", code=code), "unit")
    return int(found)


def _area_from_geojson(document: str) -> str:
    """WKT of the (Multi)Polygon in a GeoJSON geometry, Feature or one-feature collection."""
    data = json.loads(document)
    if data.get("type") == "FeatureCollection":
        if len(data.get("features", [])) != 1:
            raise Invalid(N_("the area file must hold exactly one feature"), "area")
        data = data["features"][0]
    if data.get("type") == "Feature":
        data = data["geometry"]
    geom = shape(data)
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
        raise Invalid(N_("the area must be a Polygon or MultiPolygon"), "area")
    return geom.wkt


# Where a ward code is known: the active ward set, else the newest ward set that has it (a
# rule may be written for a ward of a set that is not active yet: it waits, suspended).
WARD_SQL = """
    SELECT a.code, a.full_name, b.name AS set_name, b.active FROM areas a
      JOIN boundary_sets b ON b.id = a.set_id
     WHERE b.level = 'ward' AND a.code = :ward
     ORDER BY b.active DESC, b.valid_from DESC LIMIT 1
"""


def _ward(conn: Connection, code: str) -> tuple[str | None, str]:
    """(why a rule for this ward is suspended now or None, how to name the ward)."""
    ward = conn.execute(text(WARD_SQL), {"ward": code}).first()
    if ward is None:
        raise NotFound(N_("no ward {code!r} in any ward boundary set", code=code), "ward")
    if ward.active:
        return None, f"{ward.full_name}"
    active = conn.execute(
        text("SELECT name FROM boundary_sets WHERE level = 'ward' AND active")
    ).scalar()
    return f"ward {code} is not in {active}", f"{ward.full_name} ({ward.set_name})"


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
    """Route ``category`` (inside a ward or an area / of a priority, if given) to ``unit``.
    A rule for a ward names it by code: it follows the ward through boundary reforms, and
    is suspended while no ward with that code exists."""
    params: dict[str, object] = {
        "cat": _lookup(conn, "categories", category),
        "unit": _lookup(conn, "units", unit),
        "priority": priority,
        "precedence": precedence,
        "label": None,
        "wkt": None,
        "ward": ward,
        "suspended": None,
    }
    if area_geojson:
        params["wkt"], params["label"] = _area_from_geojson(area_geojson), "area file"
    if ward:
        params["suspended"], _ = _ward(conn, ward)
    rule_id = conn.execute(
        text(
            """
            INSERT INTO routing_rules (category_id, unit_id, ward_code, area, area_label,
                                       priority, precedence, suspended_reason, suspended_at)
            SELECT :cat, :unit, :ward,
                   CASE WHEN CAST(:wkt AS text) IS NOT NULL THEN
                          ST_Multi(ST_MakeValid(ST_GeomFromText(:wkt, 4326))) END,
                   :label, :priority, :precedence, CAST(:suspended AS text),
                   CASE WHEN CAST(:suspended AS text) IS NOT NULL THEN now() END
            RETURNING id
            """
        ),
        params,
    ).scalar_one()
    return int(rule_id)


def list_rules(conn: Connection) -> list[str]:
    rows = conn.execute(
        text(
            """
            SELECT r.id, c.code AS category, u.code AS unit, r.priority, r.precedence,
                   r.ward_code, r.suspended_reason,
                   coalesce(r.area_label, CASE WHEN r.area IS NULL THEN 'city-wide'
                                               ELSE 'area' END) AS area
              FROM routing_rules r JOIN categories c ON c.id = r.category_id
              JOIN units u ON u.id = r.unit_id
             WHERE r.active ORDER BY c.code, r.precedence DESC, r.id
            """
        )
    ).all()
    out = []
    for r in rows:
        area = r.area
        if r.ward_code:
            area = f"ward {r.ward_code} ({_ward_name(conn, r.ward_code)})"
        state = f"  SUSPENDED: {r.suspended_reason}" if r.suspended_reason else ""
        out.append(
            f"{r.id:5} {r.category:24} -> {r.unit:16} area={area} "
            f"priority={r.priority or 'any'} precedence={r.precedence}{state}"
        )
    return out


def _ward_name(conn: Connection, code: str) -> str:
    ward = conn.execute(text(WARD_SQL), {"ward": code}).first()
    if ward is None:
        return "in no loaded set"
    return ward.full_name if ward.active else f"{ward.full_name}, set {ward.set_name}"


def deactivate_rule(conn: Connection, rule_id: int) -> None:
    done = conn.execute(
        text("UPDATE routing_rules SET active = false WHERE id = :id AND active"), {"id": rule_id}
    ).rowcount
    if not done:
        raise NotFound(N_("no active routing rule {id}", id=rule_id), "id")
