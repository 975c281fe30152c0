"""sampling supervision (draws, sampled cases and their reviews) and data supervision (anomaly hits, runs) (issue 18)

Revision ID: 0019_sampling_anomalies
Revises: 0018_complaints
Create Date: 2026-12-06 16:21:10.451079
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0019_sampling_anomalies"
down_revision = "0018_complaints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_department_accepted", "cases", ["department_id", "accepted_on"], unique=False)
    op.create_index(
        "ix_case_events_type_at", "case_events", ["type", "at", "case_id", "window_id"], unique=False
    )
    op.create_table(
        "anomaly_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("instance", sa.String(length=120), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_runs")),
    )
    with op.batch_alter_table("anomaly_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anomaly_runs_started_at"), ["started_at"], unique=False)

    op.create_table(
        "sample_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("scope_kind", sa.String(length=12), nullable=False),
        sa.Column("scope_code", sa.String(length=80), nullable=False),
        sa.Column("drawn_at", UTCDateTime(), nullable=False),
        sa.Column("drawn_by", sa.String(length=120), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=24), nullable=False),
        sa.Column("profile_key", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("population_digest", sa.String(length=64), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["drawn_by_id"], ["users.id"], name=op.f("fk_sample_draws_drawn_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_draws")),
        sa.UniqueConstraint("month", "scope_code", name=op.f("uq_sample_draws_month")),
    )
    op.create_table(
        "anomaly_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("day_from", sa.Date(), nullable=False),
        sa.Column("day_to", sa.Date(), nullable=False),
        sa.Column("profile_key", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("first_found_at", UTCDateTime(), nullable=False),
        sa.Column("last_found_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_anomaly_hits_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_anomaly_hits_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_anomaly_hits_hall_id_halls")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_anomaly_hits_item_id_items")),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_anomaly_hits_signal_id_signals")
        ),
        sa.ForeignKeyConstraint(
            ["window_id"], ["windows.id"], name=op.f("fk_anomaly_hits_window_id_windows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_hits")),
        sa.UniqueConstraint("key", name=op.f("uq_anomaly_hits_key")),
    )
    with op.batch_alter_table("anomaly_hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anomaly_hits_department_id"), ["department_id"], unique=False)
        batch_op.create_index("ix_anomaly_hits_hall_status", ["hall_id", "status"], unique=False)
        batch_op.create_index("ix_anomaly_hits_rule_day", ["rule", "day_from"], unique=False)

    op.create_table(
        "sample_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(length=80), nullable=False),
        sa.Column("stratum", sa.String(length=16), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("finding", sa.String(length=16), nullable=True),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_sample_cases_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_sample_cases_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["sample_draws.id"], name=op.f("fk_sample_cases_draw_id_sample_draws")
        ),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_sample_cases_hall_id_halls")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_sample_cases_item_id_items")),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_sample_cases_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_sample_cases_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_cases")),
        sa.UniqueConstraint("draw_id", "case_id", name=op.f("uq_sample_cases_draw_id")),
    )
    with op.batch_alter_table("sample_cases", schema=None) as batch_op:
        batch_op.create_index("ix_sample_cases_department", ["department_id", "draw_id"], unique=False)
        batch_op.create_index("ix_sample_cases_reviewer_finding", ["reviewer_id", "finding"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_events_type_at", table_name="case_events")
    op.drop_index("ix_cases_department_accepted", table_name="cases")
    with op.batch_alter_table("sample_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_sample_cases_reviewer_finding")
        batch_op.drop_index("ix_sample_cases_department")

    op.drop_table("sample_cases")
    with op.batch_alter_table("anomaly_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_anomaly_hits_rule_day")
        batch_op.drop_index("ix_anomaly_hits_hall_status")
        batch_op.drop_index(batch_op.f("ix_anomaly_hits_department_id"))

    op.drop_table("anomaly_hits")
    op.drop_table("sample_draws")
    with op.batch_alter_table("anomaly_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anomaly_runs_started_at"))

    op.drop_table("anomaly_runs")
