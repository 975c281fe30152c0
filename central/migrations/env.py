"""Alembic environment: the engine comes from the caller (`central.core.migrate`)."""

from __future__ import annotations

from alembic import context

from central.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` CLI, which we do not use
    raise RuntimeError("run migrations through `hallwatch db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
