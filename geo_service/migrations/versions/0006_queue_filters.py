"""Filtered queue pages at a million reports: "sent since" and text search use indexes.

A report's own deadline is never before it was sent (a duplicate takes its master's).
Every deadline is gs_deadline() of the moment a report was sent, transferred or reopened, so
it is later than ``created_at``. Holding that as a constraint lets the queue add
``deadline_at >= from`` to a "sent since" filter: the deadline index then starts at that day
instead of walking every older report first (a 90-day filter on a unit with 180,000 reports:
370 ms -> 25 ms).

Text search looks in the description or the address; the description had a trigram index,
the address none, so the OR could use neither (a search over the same unit: 250 -> 100 ms
for a word in 75,000 reports, under 1 ms for a rare one).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE reports ADD CONSTRAINT reports_deadline_after_created
          CHECK (duplicate_of IS NOT NULL OR deadline_at >= created_at) NOT VALID;
        ALTER TABLE reports VALIDATE CONSTRAINT reports_deadline_after_created;
        CREATE INDEX reports_address_trgm ON reports USING gin (address gin_trgm_ops);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX reports_address_trgm;
        ALTER TABLE reports DROP CONSTRAINT reports_deadline_after_created;
        """
    )
