"""patrol sessions and findings; live views keep the browser's and the edge's counts (issue 15 item 4)

Revision ID: 0012_patrol_sessions
Revises: 0011_live_views
Create Date: 2026-12-06 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0012_patrol_sessions"
down_revision = "0011_live_views"
branch_labels = None
depends_on = None

LIVE_COUNTS = (
    ("browser_frames_decoded", sa.Integer()),
    ("browser_packets_received", sa.Integer()),
    ("browser_reported_at", UTCDateTime()),
    ("edge_first_frame_at", UTCDateTime()),
    ("edge_last_frame_at", UTCDateTime()),
    ("edge_frames_sent", sa.Integer()),
    ("edge_packets_sent", sa.Integer()),
    ("edge_reported_at", UTCDateTime()),
)


def upgrade() -> None:
    op.create_table(
        "patrol_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_note", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("verdict", sa.String(length=1000), nullable=True),
        sa.Column("watched_seconds", sa.Float(), nullable=True),
        sa.Column("judged_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["patrol_tasks.id"], name=op.f("fk_patrol_sessions_task_id_patrol_tasks")
        ),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_patrol_sessions_hall_id_halls")),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["users.id"], name=op.f("fk_patrol_sessions_inspector_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_sessions")),
    )
    op.create_index(op.f("ix_patrol_sessions_task_id"), "patrol_sessions", ["task_id"], unique=False)
    op.create_index(
        op.f("ix_patrol_sessions_inspector_id"), "patrol_sessions", ["inspector_id"], unique=False
    )
    op.create_index("ix_patrol_sessions_day_hall", "patrol_sessions", ["day", "hall_id"], unique=False)
    op.create_index("ix_patrol_sessions_state_ended", "patrol_sessions", ["state", "ended_at"], unique=False)
    op.create_table(
        "patrol_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("camera", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("capture", sa.String(length=64), nullable=False),
        sa.Column("clip_seconds", sa.Integer(), nullable=False),
        sa.Column("capture_command_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["patrol_sessions.id"], name=op.f("fk_patrol_findings_session_id_patrol_sessions")
        ),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_patrol_findings_hall_id_halls")),
        sa.ForeignKeyConstraint(
            ["window_id"], ["windows.id"], name=op.f("fk_patrol_findings_window_id_windows")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["users.id"], name=op.f("fk_patrol_findings_inspector_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_findings")),
        sa.UniqueConstraint("capture", name=op.f("uq_patrol_findings_capture")),
    )
    op.create_index(op.f("ix_patrol_findings_session_id"), "patrol_findings", ["session_id"], unique=False)
    op.create_index(op.f("ix_patrol_findings_window_id"), "patrol_findings", ["window_id"], unique=False)
    op.create_index("ix_patrol_findings_hall_at", "patrol_findings", ["hall_id", "at"], unique=False)
    with op.batch_alter_table("live_views") as batch:
        batch.add_column(sa.Column("patrol_session_id", sa.Integer(), nullable=True))
        for name, type_ in LIVE_COUNTS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.create_foreign_key(
            op.f("fk_live_views_patrol_session_id_patrol_sessions"),
            "patrol_sessions",
            ["patrol_session_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_live_views_patrol_session_id"), ["patrol_session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("live_views") as batch:
        batch.drop_index(op.f("ix_live_views_patrol_session_id"))
        batch.drop_constraint(op.f("fk_live_views_patrol_session_id_patrol_sessions"), type_="foreignkey")
        for name, _ in reversed(LIVE_COUNTS):
            batch.drop_column(name)
        batch.drop_column("patrol_session_id")
    op.drop_table("patrol_findings")
    op.drop_table("patrol_sessions")
