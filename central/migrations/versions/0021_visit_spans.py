"""visit spans: each visit's start and length from the edge, and the dual-track judgement's method

Revision ID: 0021_visit_spans
Revises: 0020_dualtrack
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_visit_spans"
down_revision = "0020_dualtrack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("video_visitor_counts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spans", sa.JSON(), nullable=True))
    with op.batch_alter_table("dualtrack_judgements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=8), server_default="counts", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("dualtrack_judgements", schema=None) as batch_op:
        batch_op.drop_column("method")
    with op.batch_alter_table("video_visitor_counts", schema=None) as batch_op:
        batch_op.drop_column("spans")
