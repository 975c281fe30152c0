"""scores: daily explained lines per subject, runs, corrections, closed months; monthly reports (issue 17)

Revision ID: 0017_scores
Revises: 0016_public_feed
Create Date: 2026-12-06 15:58:58.383847
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0017_scores"
down_revision = "0016_public_feed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monthly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("scope_kind", sa.String(length=12), nullable=False),
        sa.Column("scope_code", sa.String(length=40), nullable=False),
        sa.Column("generated_at", UTCDateTime(), nullable=False),
        sa.Column("generated_by", sa.String(length=120), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_reports")),
        sa.UniqueConstraint("month", "scope_kind", "scope_code", name=op.f("uq_monthly_reports_month")),
    )
    op.create_table(
        "score_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=False),
        sa.Column("closed_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_months")),
        sa.UniqueConstraint("month", name=op.f("uq_score_months_month")),
    )
    op.create_table(
        "score_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("instance", sa.String(length=120), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_runs")),
        sa.UniqueConstraint("day", name=op.f("uq_score_runs_day")),
    )
    op.create_table(
        "score_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("profile_key", sa.String(length=64), nullable=False),
        sa.Column("day_points", sa.Float(), nullable=False),
        sa.Column("month_score", sa.Float(), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("lines_count", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.Column("superseded_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_score_days_hall_id_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_days")),
    )
    with op.batch_alter_table("score_days", schema=None) as batch_op:
        batch_op.create_index("ix_score_days_day_kind", ["day", "subject_kind", "current"], unique=False)
        batch_op.create_index("ix_score_days_hall_day", ["hall_id", "day"], unique=False)
        batch_op.create_index("ix_score_days_subject", ["subject_kind", "subject_id", "day"], unique=False)

    op.create_table(
        "score_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("score_day_id", sa.Integer(), nullable=False),
        sa.Column("rule_code", sa.String(length=60), nullable=False),
        sa.Column("rule_label", sa.String(length=40), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["score_day_id"], ["score_days.id"], name=op.f("fk_score_lines_score_day_id_score_days")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_lines")),
    )
    with op.batch_alter_table("score_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_lines_score_day_id"), ["score_day_id"], unique=False)

    op.create_table(
        "score_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("changed", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approval_requests.id"],
            name=op.f("fk_score_corrections_approval_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_score_corrections_hall_id_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_corrections")),
        sa.UniqueConstraint("approval_id", name=op.f("uq_score_corrections_approval_id")),
    )
    with op.batch_alter_table("score_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_corrections_done_at"), ["done_at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_users_staff_id_staff"), "staff", ["staff_id"], ["id"])
    _keep_username_index()
    # A day's closures and escalations, read by the daily scores and the monthly report.
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_closed_on"), ["closed_on"], unique=False)
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_escalated_at"), ["escalated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_closed_at"), ["closed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_staff_id_staff"), type_="foreignkey")
        batch_op.drop_column("staff_id")
    _keep_username_index()
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_closed_at"))
        batch_op.drop_index(batch_op.f("ix_signals_escalated_at"))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_closed_on"))
    with op.batch_alter_table("score_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_corrections_done_at"))

    op.drop_table("score_corrections")
    with op.batch_alter_table("score_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_lines_score_day_id"))

    op.drop_table("score_lines")
    with op.batch_alter_table("score_days", schema=None) as batch_op:
        batch_op.drop_index("ix_score_days_subject")
        batch_op.drop_index("ix_score_days_hall_day")
        batch_op.drop_index("ix_score_days_day_kind")

    op.drop_table("score_days")
    op.drop_table("score_runs")
    op.drop_table("score_months")
    op.drop_table("monthly_reports")


def _keep_username_index() -> None:
    """SQLite's batch mode rebuilds `users` and cannot reflect the expression index of 0009: make it
    again (a no-op on PostgreSQL, which alters the table in place)."""
    op.execute("CREATE UNIQUE INDEX IF NOT EXISTS uq_users_username_lower ON users (lower(username))")
