"""Bring a database schema up to date with Alembic (used by `hallwatch db upgrade` and `serve`)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)  # "heads": capabilities may add parallel branches
    logger.info("database schema at %s", revision)


def script_directory() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revisions() -> set[str]:
    """The revisions the code's migrations end at (one per branch)."""
    return set(script_directory().get_heads())


def known_revision(revision: str) -> bool:
    """Whether this code has the migration `revision` (a database a newer release migrated: not)."""
    try:
        return script_directory().get_revision(revision) is not None
    except (CommandError, RevisionError):  # unknown, or ambiguous
        return False


def current_revisions(connection: Connection) -> set[str]:
    """The revisions a database is at (empty: never migrated); reads only."""
    return set(MigrationContext.configure(connection).get_current_heads())


def autogenerate(engine: Engine, message: str) -> None:
    """Developer helper: write a new revision from the difference between models and database."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
