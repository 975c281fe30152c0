"""complaints: online complaints (SZ-14/15), their attachments, the form questions answered (issue 18)

Revision ID: 0018_complaints
Revises: 0017_scores
Create Date: 2026-12-06 16:16:58.512506
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0018_complaints"
down_revision = "0017_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_challenge_uses",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_complaint_challenge_uses")),
    )
    with op.batch_alter_table("complaint_challenge_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_challenge_uses_used_at"), ["used_at"], unique=False)

    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("query_password_digest", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("about", sa.String(length=12), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("complainant_name", sa.String(length=60), nullable=True),
        sa.Column("complainant_phone", sa.String(length=20), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("decide_by", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("investigation_id", sa.Integer(), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_complaints_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_complaints_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_complaints_hall_id_halls")),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_complaints_investigation_id_investigations"),
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_complaints_staff_id_staff")),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"], name=op.f("fk_complaints_window_id_windows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("investigation_id", name=op.f("uq_complaints_investigation_id")),
        sa.UniqueConstraint("number", name=op.f("uq_complaints_number")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_department_id"), ["department_id"], unique=False)
        batch_op.create_index("ix_complaints_hall_status", ["hall_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_received_on"), ["received_on"], unique=False)
        batch_op.create_index("ix_complaints_status_decide_by", ["status", "decide_by"], unique=False)

    op.create_table(
        "complaint_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_attachments_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_attachments")),
    )
    with op.batch_alter_table("complaint_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_attachments_complaint_id"), ["complaint_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("complaint_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_attachments_complaint_id"))

    op.drop_table("complaint_attachments")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status_decide_by")
        batch_op.drop_index(batch_op.f("ix_complaints_received_on"))
        batch_op.drop_index("ix_complaints_hall_status")
        batch_op.drop_index(batch_op.f("ix_complaints_department_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_closed_at"))

    op.drop_table("complaints")
    with op.batch_alter_table("complaint_challenge_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_challenge_uses_used_at"))

    op.drop_table("complaint_challenge_uses")
