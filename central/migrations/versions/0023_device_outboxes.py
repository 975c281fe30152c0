"""device outboxes: each edge agent's outbox disk as it last reported it (ok, low or full, since when,
observations refused), sent outside the outbox (issue 20: `hallwatch doctor` names the boxes whose
disk is low or full)

Revision ID: 0023_device_outboxes
Revises: 0022_device_clocks
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0023_device_outboxes"
down_revision = "0022_device_clocks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_outboxes",
        sa.Column("device_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("free_bytes", sa.BigInteger(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("refused_by_kind", sa.Text(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_outboxes_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_outboxes")),
    )


def downgrade() -> None:
    op.drop_table("device_outboxes")
