"""patrol compliance: shortfalls of supervising bodies, and when each day's plan was checked (issue 15 item 5)

Revision ID: 0014_patrol_compliance
Revises: 0013_evidence_clips
Create Date: 2026-12-06 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0014_patrol_compliance"
down_revision = "0013_evidence_clips"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_shortfalls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_region_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_region_id"], ["regions.id"], name=op.f("fk_patrol_shortfalls_body_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_shortfalls")),
        sa.UniqueConstraint("body_region_id", "day", name="uq_patrol_shortfalls_body_day"),
    )
    op.create_index(op.f("ix_patrol_shortfalls_day"), "patrol_shortfalls", ["day"], unique=False)
    with op.batch_alter_table("patrol_plans") as batch:
        batch.add_column(sa.Column("compliance_checked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patrol_plans") as batch:
        batch.drop_column("compliance_checked_at")
    op.drop_index(op.f("ix_patrol_shortfalls_day"), table_name="patrol_shortfalls")
    op.drop_table("patrol_shortfalls")
