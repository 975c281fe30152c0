"""device clocks: how far each agent's own clock was from central's when it last asked for the time
(issue 20: `hallwatch doctor` names the boxes whose clock is off)

Revision ID: 0022_device_clocks
Revises: 0021_visit_spans
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0022_device_clocks"
down_revision = "0021_visit_spans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_clocks",
        sa.Column("device_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("skew_seconds", sa.Float(), nullable=False),
        sa.Column("measured_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_clocks_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_clocks")),
    )


def downgrade() -> None:
    op.drop_table("device_clocks")
