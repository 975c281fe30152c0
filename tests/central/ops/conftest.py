"""Shared by the operations tests: a fresh empty database beside the test one, the deployment's
audit signing key, and the environment a CLI command of this deployment runs with."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from central.audit.signing import generate_key
from central.core.config import Settings
from central.core.db import make_engine


@pytest.fixture
def fresh_database(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database on the test's backend (PostgreSQL: a uniquely named database
    beside the test one, dropped afterwards; SQLite: a file not yet there)."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"{engine.url.database}_fresh_{secrets.token_hex(4)}"
    admin = make_engine(engine.url.render_as_string(hide_password=False)).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield engine.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Deployment:
    """Where this deployment's files outside the database are, and the CLI's environment for it."""

    settings: Settings
    checkpoints: Path
    signing_key: Path

    @property
    def public_key(self) -> Path:
        return self.signing_key.with_name(self.signing_key.name + ".pub")

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "HALLWATCH_DATABASE_URL": self.settings.database_url,
            "HALLWATCH_AUDIT_CHECKPOINT_DIR": str(self.checkpoints),
            "HALLWATCH_AUDIT_SIGNING_KEY": str(self.signing_key),
            "HALLWATCH_PATROL_KEY_FILE": str(self.settings.patrol_key_file),
            **extra,
        }


@pytest.fixture
def deployment(settings: Settings, tmp_path: Path) -> Deployment:
    keys = tmp_path / "keys"
    keys.mkdir()
    generate_key(keys / "audit.key")
    return Deployment(settings, tmp_path / "checkpoints", keys / "audit.key")
