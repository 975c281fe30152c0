"""unattended ratings: the window camera's verdict on each keypad press

Revision ID: 0007_unattended_ratings
Revises: 0006_video
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_unattended_ratings"
down_revision = "0006_video"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("keypad_presses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("citizen_present", sa.Boolean(), nullable=True))
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        # Every rating stored so far was made without a camera verdict: not unattended.
        batch_op.add_column(sa.Column("unattended", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_column("unattended")
    with op.batch_alter_table("keypad_presses", schema=None) as batch_op:
        batch_op.drop_column("citizen_present")
