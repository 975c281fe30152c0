"""finding review: a patrol finding is pending until its inspector or a supervisor confirms it (raising
a signal, SC-9) or dismisses it with a reason; a confirmed 离岗 names the camera's absence record

Revision ID: 0015_finding_review
Revises: 0014_patrol_compliance
Create Date: 2026-12-06 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0015_finding_review"
down_revision = "0014_patrol_compliance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patrol_findings", schema=None) as batch_op:
        # Findings recorded so far were never reviewed.
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("signal_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("absence_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_patrol_findings_signal_id_signals"), "signals", ["signal_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_patrol_findings_absence_id_video_absences"),
            "video_absences",
            ["absence_id"],
            ["id"],
        )
        batch_op.create_index("ix_patrol_findings_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("patrol_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_patrol_findings_status")
        batch_op.drop_constraint(
            batch_op.f("fk_patrol_findings_absence_id_video_absences"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_patrol_findings_signal_id_signals"), type_="foreignkey")
        batch_op.drop_column("absence_id")
        batch_op.drop_column("signal_id")
        batch_op.drop_column("review_note")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("status")
