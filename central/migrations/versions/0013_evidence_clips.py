"""evidence clips: a patrol finding's capture (issue 15 item 4) stores a WebM clip beside the snapshot;
each evidence item says its media type, the capture it answers and, for a clip, its duration

Revision ID: 0013_evidence_clips
Revises: 0012_patrol_sessions
Create Date: 2026-12-06 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_evidence_clips"
down_revision = "0012_patrol_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("video_evidence", schema=None) as batch_op:
        # Everything stored so far is a JPEG snapshot. `reason` (String(16)) already fits "patrol_finding".
        batch_op.add_column(
            sa.Column("media_type", sa.String(length=32), server_default="image/jpeg", nullable=False)
        )
        batch_op.add_column(sa.Column("capture", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("duration_ms", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_video_evidence_capture"), ["capture"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("video_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_evidence_capture"))
        batch_op.drop_column("duration_ms")
        batch_op.drop_column("capture")
        batch_op.drop_column("media_type")
