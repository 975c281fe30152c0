"""accounts and refusals: usernames unique ignoring case, sign-in failures per source and per
account, refused requests counted in the database

Revision ID: 0009_accounts_refusals
Revises: 0008_recorded_origin
Create Date: 2026-12-06 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.core.types import UTCDateTime

revision = "0009_accounts_refusals"
down_revision = "0008_recorded_origin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    clashes = op.get_bind().execute(
        sa.text("SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1")
    )
    names = [row[0] for row in clashes]
    if names:  # say which, rather than the index's bare integrity error
        raise RuntimeError(f"usernames differing only in case must be renamed first: {', '.join(names)}")
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
        sa.UniqueConstraint("username_key", "source", name="uq_sign_in_failures_key"),
    )
    op.create_index(
        op.f("ix_sign_in_failures_last_failure_at"), "sign_in_failures", ["last_failure_at"], unique=False
    )
    op.create_table(
        "refusal_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("last_detail", sa.String(length=500), nullable=True),
        sa.Column("carried", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refusal_tallies")),
        sa.UniqueConstraint("caller", "action", "target", "window_start", name="uq_refusal_tallies_key"),
    )
    op.create_index(op.f("ix_refusal_tallies_last_at"), "refusal_tallies", ["last_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refusal_tallies_last_at"), table_name="refusal_tallies")
    op.drop_table("refusal_tallies")
    op.drop_index(op.f("ix_sign_in_failures_last_failure_at"), table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index("uq_users_username_lower", table_name="users")
