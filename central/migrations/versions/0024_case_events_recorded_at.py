"""case events by when central stored them: the public feed's periodic pass re-publishes the cases of
events stored lately, so a case whose publication failed after its events were committed (the
database restarting between the two transactions) still reaches the hall screens within a pass

Revision ID: 0024_case_events_recorded_at
Revises: 0023_device_outboxes
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0024_case_events_recorded_at"
down_revision = "0023_device_outboxes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_events_recorded_at", "case_events", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_case_events_recorded_at", table_name="case_events")
