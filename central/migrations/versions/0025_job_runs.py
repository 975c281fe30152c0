"""job runs: one row per periodic job, claimed by the instance that runs its next pass (issue 20: two
or more `hallwatch serve` instances each ran every job, twice the work, and a restarted instance ran
them all again at start-up while it caught up with its traffic)

Revision ID: 0025_job_runs
Revises: 0024_case_events_recorded_at
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0025_job_runs"
down_revision = "0024_case_events_recorded_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("runner", sa.String(length=200), nullable=True),
        sa.Column("token", sa.String(length=32), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("failed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
