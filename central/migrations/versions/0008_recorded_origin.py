"""recorded footage: presence, absences, visitor counts and evidence say whether a live camera or a
recording analysed afterwards (hallwatch edge analyse) reported them

Revision ID: 0008_recorded_origin
Revises: 0007_unattended_ratings
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_recorded_origin"
down_revision = "0007_unattended_ratings"
branch_labels = None
depends_on = None

TABLES = ("video_presence", "video_absences", "video_visitor_counts", "video_evidence")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # Everything stored so far came from live cameras.
            batch_op.add_column(sa.Column("origin", sa.String(10), server_default="live", nullable=False))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("origin")
