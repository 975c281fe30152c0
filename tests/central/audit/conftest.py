"""The `attacker` fixture: the audit tables without their append-only guards, restored afterwards."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, text

from tests.central.audit.helpers import ENTRIES, HEAD

migration = importlib.import_module("central.migrations.versions.0002_audit")


@pytest.fixture
def attacker(db: Engine) -> Iterator[Engine]:
    """Someone with database access: drops the append-only triggers and the seq index first.
    Put back afterwards, since the schema is shared by the whole test session."""
    with db.begin() as conn:
        if db.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        conn.execute(text("DROP INDEX ix_audit_entries_seq"))
    yield db
    with db.begin() as conn:
        conn.execute(delete(HEAD))
        conn.execute(delete(ENTRIES))
        conn.execute(text("CREATE UNIQUE INDEX ix_audit_entries_seq ON audit_entries (seq)"))
        if db.dialect.name == "postgresql":
            conn.execute(text(migration.PG_TRIGGER))
        else:
            conn.execute(text(migration.SQLITE_NO_UPDATE))
            conn.execute(text(migration.SQLITE_NO_DELETE))
