"""patrol plans: one published plan per working day, its tasks, and when regions joined a draw

Revision ID: 0010_patrol_plans
Revises: 0009_accounts_refusals
Create Date: 2026-12-06 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0010_patrol_plans"
down_revision = "0009_accounts_refusals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("drawn", sa.JSON(), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plans")),
        sa.UniqueConstraint("day", name=op.f("uq_patrol_plans_day")),
    )
    op.create_table(
        "patrol_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("body_region_id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["patrol_plans.id"], name=op.f("fk_patrol_tasks_plan_id_patrol_plans")
        ),
        sa.ForeignKeyConstraint(
            ["body_region_id"], ["regions.id"], name=op.f("fk_patrol_tasks_body_region_id_regions")
        ),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_patrol_tasks_hall_id_halls")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_patrol_tasks_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["users.id"], name=op.f("fk_patrol_tasks_inspector_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_tasks")),
        sa.UniqueConstraint("day", "body_region_id", "hall_id", "reason", "seq", name="uq_patrol_tasks_slot"),
    )
    op.create_index(op.f("ix_patrol_tasks_plan_id"), "patrol_tasks", ["plan_id"], unique=False)
    op.create_index(op.f("ix_patrol_tasks_inspector_id"), "patrol_tasks", ["inspector_id"], unique=False)
    op.create_index("ix_patrol_tasks_day_body", "patrol_tasks", ["day", "body_region_id"], unique=False)
    op.create_index(
        "ix_patrol_tasks_drawn",
        "patrol_tasks",
        ["body_region_id", "reason", "region_id", "day"],
        unique=False,
    )
    op.create_table(
        "patrol_pool_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool", sa.String(length=40), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_patrol_pool_members_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_pool_members")),
        sa.UniqueConstraint("pool", "region_id", name="uq_patrol_pool_members"),
    )


def downgrade() -> None:
    op.drop_table("patrol_pool_members")
    op.drop_index("ix_patrol_tasks_drawn", table_name="patrol_tasks")
    op.drop_index("ix_patrol_tasks_day_body", table_name="patrol_tasks")
    op.drop_index(op.f("ix_patrol_tasks_inspector_id"), table_name="patrol_tasks")
    op.drop_index(op.f("ix_patrol_tasks_plan_id"), table_name="patrol_tasks")
    op.drop_table("patrol_tasks")
    op.drop_table("patrol_plans")
