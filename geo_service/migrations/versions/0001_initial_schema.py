"""Initial schema: versioned boundaries, units, categories, routing rules, reports.

The SQL functions at the end are the one place where a point becomes a ward and a unit:
live reports, the locate endpoint and bulk demo data all call them, so they cannot disagree.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:10:50.469702
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NEW_TOKEN = """
CREATE FUNCTION gs_new_token() RETURNS text LANGUAGE sql VOLATILE AS $$
  -- 122 random bits, URL-safe, 22 characters: the public tracking token.
  SELECT rtrim(translate(encode(decode(replace(gen_random_uuid()::text, '-', ''), 'hex'),
                                'base64'), '+/', '-_'), '=')
$$
"""

LOCATE = """
CREATE FUNCTION gs_locate(pt geometry, snap_m float8 DEFAULT 50)
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
$$
"""

ROUTES = """
CREATE FUNCTION gs_routes(pt geometry, p_ward_code text, p_priority text)
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
$$
"""

ROUTE = """
CREATE FUNCTION gs_route(p_category int, pt geometry, p_ward_code text, p_priority text)
RETURNS int LANGUAGE sql STABLE AS $$
  SELECT r.unit_id FROM gs_routes(pt, p_ward_code, p_priority) r
   WHERE r.category_id = p_category
$$
"""

DEADLINE = """
CREATE FUNCTION gs_deadline(p_start timestamptz, p_category int) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT p_start + make_interval(hours => c.response_hours) FROM categories c
   WHERE c.id = p_category
$$
"""

FUNCTIONS = [LOCATE, ROUTES, ROUTE, DEADLINE]
DROP_FUNCTIONS = [
    "gs_deadline(timestamptz, int)",
    "gs_route(int, geometry, text, text)",
    "gs_routes(geometry, text, text)",
    "gs_locate(geometry, float8)",
]


def upgrade() -> None:
    op.execute(NEW_TOKEN)
    op.create_table(
        "boundary_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("attribution", sa.Text(), server_default="", nullable=False),
        sa.Column("licence", sa.Text(), server_default="", nullable=False),
        sa.Column("feature_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("level IN ('ward', 'city')", name="boundary_sets_level"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index(
        "boundary_sets_one_active",
        "boundary_sets",
        ["level"],
        unique=True,
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "category_groups",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("ward_code", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('ward_committee', 'department', 'company', 'police')", name="units_kind"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(
        "units_one_committee_per_ward",
        "units",
        ["ward_code"],
        unique=True,
        postgresql_where=sa.text("kind = 'ward_committee'"),
    )
    op.create_geospatial_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column(
            "properties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["set_id"], ["boundary_sets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("set_id", "code"),
    )
    op.create_geospatial_index(
        "idx_areas_geom",
        "areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("group_code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("response_hours", sa.Integer(), nullable=False),
        sa.Column("keywords", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["category_groups.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_table(
        "area_pieces",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_area_pieces_geom",
        "area_pieces",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_area_pieces_area_id"), "area_pieces", ["area_id"], unique=False)
    op.create_geospatial_table(
        "reports",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.Text(), server_default=sa.text("gs_new_token()"), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("location_source", sa.Text(), server_default="pin", nullable=False),
        sa.Column("boundary_set_id", sa.Integer(), nullable=False),
        sa.Column("ward_code", sa.Text(), nullable=False),
        sa.Column("snapped_m", sa.Float(), server_default="0", nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), server_default="received", nullable=False),
        sa.Column("priority", sa.Text(), server_default="normal", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reporter_name", sa.Text(), nullable=True),
        sa.Column("reporter_phone", sa.Text(), nullable=True),
        sa.Column("reporter_email", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), server_default="api", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name="reports_priority"
        ),
        sa.CheckConstraint(
            "status IN ('received', 'acknowledged', 'in_progress', 'resolved', 'rejected', 'transferred')",
            name="reports_status",
        ),
        sa.ForeignKeyConstraint(
            ["boundary_set_id"],
            ["boundary_sets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_geospatial_index(
        "idx_reports_geom",
        "reports",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "reports_category_created", "reports", ["category_id", "created_at"], unique=False
    )
    op.create_index("reports_created", "reports", ["created_at"], unique=False)
    op.create_index("reports_unit_deadline", "reports", ["unit_id", "deadline_at"], unique=False)
    op.create_index("reports_ward_created", "reports", ["ward_code", "created_at"], unique=False)
    op.create_geospatial_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "area",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("area_label", sa.Text(), nullable=True),
        sa.Column("priority", sa.Text(), nullable=True),
        sa.Column("precedence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "priority IS NULL OR priority IN ('low', 'normal', 'high', 'urgent')",
            name="routing_rules_priority",
        ),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_routing_rules_area",
        "routing_rules",
        ["area"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "report_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("public_comment", sa.Text(), nullable=True),
        sa.Column("internal_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_report_events_report_id"), "report_events", ["report_id"], unique=False
    )
    op.create_table(
        "report_photos",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_report_photos_report_id"), "report_photos", ["report_id"], unique=False
    )
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    for name in DROP_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
    op.drop_index(op.f("ix_report_photos_report_id"), table_name="report_photos")
    op.drop_table("report_photos")
    op.drop_index(op.f("ix_report_events_report_id"), table_name="report_events")
    op.drop_table("report_events")
    op.drop_geospatial_index(
        "idx_routing_rules_area",
        table_name="routing_rules",
        postgresql_using="gist",
        column_name="area",
    )
    op.drop_geospatial_table("routing_rules")
    op.drop_index("reports_ward_created", table_name="reports")
    op.drop_index("reports_unit_deadline", table_name="reports")
    op.drop_index("reports_created", table_name="reports")
    op.drop_index("reports_category_created", table_name="reports")
    op.drop_geospatial_index(
        "idx_reports_geom", table_name="reports", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("reports")
    op.drop_index(op.f("ix_area_pieces_area_id"), table_name="area_pieces")
    op.drop_geospatial_index(
        "idx_area_pieces_geom",
        table_name="area_pieces",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("area_pieces")
    op.drop_table("categories")
    op.drop_geospatial_index(
        "idx_areas_geom", table_name="areas", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("areas")
    op.drop_index(
        "units_one_committee_per_ward",
        table_name="units",
        postgresql_where=sa.text("kind = 'ward_committee'"),
    )
    op.drop_table("units")
    op.drop_table("category_groups")
    op.drop_index(
        "boundary_sets_one_active", table_name="boundary_sets", postgresql_where=sa.text("active")
    )
    op.drop_table("boundary_sets")
    op.execute("DROP FUNCTION IF EXISTS gs_new_token()")
