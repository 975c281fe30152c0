"""live views: who watched which camera of which hall, relayed by central (issue 15 item 3)

Revision ID: 0011_live_views
Revises: 0010_patrol_plans
Create Date: 2026-12-06 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0011_live_views"
down_revision = "0010_patrol_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("viewer", sa.String(length=64), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("camera", sa.String(length=40), nullable=False),
        sa.Column("profile", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("command_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_live_views_hall_id_halls")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_live_views_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_views")),
        sa.UniqueConstraint("viewer", name=op.f("uq_live_views_viewer")),
    )
    op.create_index("ix_live_views_hall_started", "live_views", ["hall_id", "started_at"], unique=False)
    op.create_index(op.f("ix_live_views_user_id"), "live_views", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_live_views_user_id"), table_name="live_views")
    op.drop_index("ix_live_views_hall_started", table_name="live_views")
    op.drop_table("live_views")
