"""public feed: each case's query password (as a digest), the hall screens' masked rows, numbered
changes and notices (issue 16)

Revision ID: 0016_public_feed
Revises: 0015_finding_review
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0016_public_feed"
down_revision = "0015_finding_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("query_password_digest", sa.String(length=64), nullable=True))
    op.create_table(
        "public_feed_halls",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("full_sync_on", sa.Date(), nullable=True),
        sa.Column("full_sync_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_public_feed_halls_hall_id_halls")),
        sa.PrimaryKeyConstraint("hall_id", name=op.f("pk_public_feed_halls")),
    )
    op.create_table(
        "public_case_rows",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_public_case_rows_case_id_cases")),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_public_case_rows_hall_id_halls")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_public_case_rows")),
    )
    op.create_index(op.f("ix_public_case_rows_hall_id"), "public_case_rows", ["hall_id"], unique=False)
    op.create_table(
        "public_feed_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_public_feed_events_hall_id_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_feed_events")),
        sa.UniqueConstraint("hall_id", "seq", name="uq_public_feed_events_hall_seq"),
    )
    op.create_index("ix_public_feed_events_at", "public_feed_events", ["at"], unique=False)
    op.create_table(
        "public_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_public_notices_hall_id_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_notices")),
    )
    op.create_index(op.f("ix_public_notices_hall_id"), "public_notices", ["hall_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_public_notices_hall_id"), table_name="public_notices")
    op.drop_table("public_notices")
    op.drop_index("ix_public_feed_events_at", table_name="public_feed_events")
    op.drop_table("public_feed_events")
    op.drop_index(op.f("ix_public_case_rows_hall_id"), table_name="public_case_rows")
    op.drop_table("public_case_rows")
    op.drop_table("public_feed_halls")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("query_password_digest")
