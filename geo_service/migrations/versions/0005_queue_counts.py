"""Queue counts from an index alone: a unit's reports by creation time, carrying what the
per-status counts and their filters read (status, deadline, category, priority), so the
counts of a unit with 180,000 reports are an index-only scan, with or without a date range.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        DROP INDEX reports_unit_status;
        CREATE INDEX reports_unit_counts ON reports (unit_id, created_at)
          INCLUDE (status, deadline_at, category_id, priority) WHERE duplicate_of IS NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX reports_unit_counts;
        CREATE INDEX reports_unit_status ON reports (unit_id, status, deadline_at)
          WHERE duplicate_of IS NULL;
        """
    )
