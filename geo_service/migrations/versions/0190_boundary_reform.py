"""Boundary reform as a workflow: rules name their ward by code, sets know their city limit
and tolerances, and activations are recorded (and can be scheduled).

A rule written for a ward kept a copy of that ward's polygon, so after a reform it went on
routing inside a ward that no longer existed, and ``rules list`` still named it. Now a rule
states its ward by code (``ward_code``); ``gs_routes`` matches the code of the ward a point
lies in, and an activation whose set lacks the code suspends the rule (``suspended_reason``)
instead of keeping an old polygon. The rules written the old way get their code back from
their label ("ward 00070").

A set carries the tolerances it was checked with (gaps and overlaps, m²) and, when told, the
city limit it goes with (``city_set_id``); ``boundary_activations`` records every switch,
and holds the ones scheduled for a set's ``valid_from``.

The SQL functions gain the set to answer from (history) and lose their old signatures here;
their text is in geo_service/sql/.

Revision ID: 0190
Revises: 0007
Create Date: 2026-12-08 10:00:00
"""

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0190"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SIGNATURES = (
    "gs_route(int, geometry, text, text)",
    "gs_routes(geometry, text, text)",
    "gs_locate(geometry, float8)",
)
NEW_SIGNATURES = (
    "gs_route(int, geometry, text, text, int)",
    "gs_routes(geometry, text, text, int)",
    "gs_locate(geometry, float8, int, int, boolean)",
)


def upgrade() -> None:
    for signature in OLD_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute(
        """
        ALTER TABLE boundary_sets
          ADD COLUMN city_set_id int REFERENCES boundary_sets (id) ON DELETE SET NULL,
          ADD COLUMN overlap_tolerance_m2 float8 NOT NULL DEFAULT 1,
          ADD COLUMN gap_tolerance_m2 float8 NOT NULL DEFAULT 1;

        ALTER TABLE routing_rules
          ADD COLUMN ward_code text,
          ADD COLUMN suspended_reason text,
          ADD COLUMN suspended_at timestamptz;
        UPDATE routing_rules
           SET ward_code = substr(area_label, 6), area = NULL, area_label = NULL
         WHERE area_label LIKE 'ward %';
        ALTER TABLE routing_rules ADD CONSTRAINT routing_rules_ward_or_area
          CHECK (ward_code IS NULL OR area IS NULL);

        CREATE TABLE boundary_activations (
          id serial PRIMARY KEY,
          set_id int NOT NULL REFERENCES boundary_sets (id) ON DELETE CASCADE,
          previous_set_id int REFERENCES boundary_sets (id) ON DELETE SET NULL,
          state text NOT NULL DEFAULT 'scheduled',
          activate_at timestamptz NOT NULL,
          requested_at timestamptz NOT NULL DEFAULT now(),
          requested_by text NOT NULL DEFAULT '',
          done_at timestamptz,
          message text NOT NULL DEFAULT '',
          summary jsonb NOT NULL DEFAULT '{}',
          CONSTRAINT boundary_activations_state
            CHECK (state IN ('scheduled', 'done', 'cancelled', 'failed'))
        );
        CREATE UNIQUE INDEX boundary_activations_one_pending ON boundary_activations (set_id)
          WHERE state = 'scheduled';
        CREATE INDEX boundary_activations_due ON boundary_activations (activate_at)
          WHERE state = 'scheduled';
        """
    )


def downgrade() -> None:
    for signature in NEW_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute(
        """
        DROP TABLE boundary_activations;
        UPDATE routing_rules r
           SET area = (SELECT a.geom FROM areas a JOIN boundary_sets b ON b.id = a.set_id
                        WHERE b.level = 'ward' AND b.active AND a.code = r.ward_code),
               area_label = 'ward ' || r.ward_code
         WHERE r.ward_code IS NOT NULL;
        -- A rule for a ward the active set lacks would otherwise route the whole city.
        UPDATE routing_rules SET active = false WHERE ward_code IS NOT NULL AND area IS NULL;
        ALTER TABLE routing_rules DROP CONSTRAINT routing_rules_ward_or_area,
          DROP COLUMN ward_code, DROP COLUMN suspended_reason, DROP COLUMN suspended_at;
        ALTER TABLE boundary_sets DROP COLUMN city_set_id, DROP COLUMN overlap_tolerance_m2,
          DROP COLUMN gap_tolerance_m2;
        """
    )
    # The functions as they were: their text is the first migration's history.
    initial = importlib.import_module("geo_service.migrations.versions.0001_initial_schema")
    for definition in (initial.LOCATE, initial.ROUTES, initial.ROUTE):
        op.execute(definition)
