"""Vocabularies the database holds the code to: a report's channel (how it reached us), the
five statuses a report can be in ("transferred" is an event, never a report's status), and the
statuses an event records. geo_service/report_query/vocab.py defines them once; a test holds
these CHECK constraints equal to it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE reports ADD COLUMN channel text NOT NULL DEFAULT 'web';
        UPDATE reports SET channel = 'open311' WHERE source = 'open311';
        ALTER TABLE reports
          ADD CONSTRAINT reports_channel CHECK (channel IN ('web', 'app', 'open311', 'phone',
                                                           'walk_in', 'letter', 'email')),
          DROP CONSTRAINT reports_status,
          ADD CONSTRAINT reports_status CHECK (status IN ('received', 'acknowledged',
                                                         'in_progress', 'resolved', 'rejected'));
        ALTER TABLE report_events
          ADD CONSTRAINT report_events_to_status CHECK (to_status IN (
            'received', 'acknowledged', 'in_progress', 'resolved', 'rejected', 'transferred')),
          ADD CONSTRAINT report_events_from_status CHECK (from_status IN (
            'received', 'acknowledged', 'in_progress', 'resolved', 'rejected', 'transferred'));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE report_events DROP CONSTRAINT report_events_from_status,
                                  DROP CONSTRAINT report_events_to_status;
        ALTER TABLE reports DROP CONSTRAINT reports_status,
          ADD CONSTRAINT reports_status CHECK (status IN ('received', 'acknowledged',
            'in_progress', 'resolved', 'rejected', 'transferred')),
          DROP CONSTRAINT reports_channel,
          DROP COLUMN channel;
        """
    )
