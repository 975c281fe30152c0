"""dualtrack: a daily judgement per window of visitors counted against cases recorded (issue 18 item 4)

Revision ID: 0020_dualtrack
Revises: 0019_sampling_anomalies
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0020_dualtrack"
down_revision = "0019_sampling_anomalies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dualtrack_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("instance", sa.String(length=120), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("windows", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("low_volume", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dualtrack_runs")),
        sa.UniqueConstraint("day", name=op.f("uq_dualtrack_runs_day")),
    )
    op.create_table(
        "dualtrack_judgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("profile_key", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("excess", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("baseline_share", sa.Float(), nullable=False),
        sa.Column("baseline_spread", sa.Float(), nullable=False),
        sa.Column("baseline_source", sa.String(length=12), nullable=False),
        sa.Column("baseline_days", sa.Integer(), nullable=False),
        sa.Column("z", sa.Float(), nullable=True),
        sa.Column("critical", sa.Float(), nullable=True),
        sa.Column("z_rest", sa.Float(), nullable=True),
        sa.Column("hours_counted", sa.Integer(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("hours_over", sa.JSON(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_dualtrack_judgements_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["hall_id"], ["halls.id"], name=op.f("fk_dualtrack_judgements_hall_id_halls")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["dualtrack_runs.id"], name=op.f("fk_dualtrack_judgements_run_id_dualtrack_runs")
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_dualtrack_judgements_signal_id_signals")
        ),
        sa.ForeignKeyConstraint(
            ["window_id"], ["windows.id"], name=op.f("fk_dualtrack_judgements_window_id_windows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dualtrack_judgements")),
        sa.UniqueConstraint("window_id", "day", name=op.f("uq_dualtrack_judgements_window_id")),
    )
    with op.batch_alter_table("dualtrack_judgements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dualtrack_judgements_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index("ix_dualtrack_judgements_day_outcome", ["day", "outcome"], unique=False)
        batch_op.create_index("ix_dualtrack_judgements_hall_day", ["hall_id", "day"], unique=False)
    # A day's case events across all windows are read by a range on `at`.
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index("ix_case_events_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_at")
    with op.batch_alter_table("dualtrack_judgements", schema=None) as batch_op:
        batch_op.drop_index("ix_dualtrack_judgements_hall_day")
        batch_op.drop_index("ix_dualtrack_judgements_day_outcome")
        batch_op.drop_index(batch_op.f("ix_dualtrack_judgements_department_id"))
    op.drop_table("dualtrack_judgements")
    op.drop_table("dualtrack_runs")
