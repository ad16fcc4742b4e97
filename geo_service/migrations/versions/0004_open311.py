"""Open311: API keys for the clients that POST requests, the answers to a category's extra
questions and a linked photo on each report, and the gazetteer of ward names (today's and
the pre-reform ones) that resolves a written address to a ward.

Keys are random and long, so a SHA-256 of the key is enough to find it and a copy of the
database cannot be replayed as keys (a slow password hash would cost every request).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 08:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.add_column(
        "reports",
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column("reports", sa.Column("media_url", sa.Text(), nullable=True))
    op.add_column(
        "reports",
        sa.Column("open311_key_id", sa.Integer(), sa.ForeignKey("open311_keys.id"), nullable=True),
    )
    op.create_table(
        "place_names",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_norm", sa.Text(), nullable=False),
        sa.Column("former", sa.Boolean(), nullable=False),
        sa.Column("typed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["boundary_sets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("area_id", "name_norm", "former"),
    )
    op.create_index("place_names_set", "place_names", ["set_id"])


def downgrade() -> None:
    op.drop_index("place_names_set", table_name="place_names")
    op.drop_table("place_names")
    op.drop_column("reports", "open311_key_id")
    op.drop_column("reports", "media_url")
    op.drop_column("reports", "attributes")
    op.drop_table("open311_keys")
