"""What every CLI command shares: settings, an engine with an up-to-date schema, a session."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.core.config import Settings
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade

logger = logging.getLogger(__name__)
console = Console()
errors = Console(stderr=True)


def migrated_engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    upgrade(engine)
    return engine


@contextmanager
def cli_session(settings: Settings | None = None) -> Iterator[tuple[Settings, Session]]:
    settings = settings or Settings()
    engine = migrated_engine(settings)
    try:
        with make_session_factory(engine)() as session:
            yield settings, session
    finally:
        engine.dispose()


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]错误[/]: {message}", highlight=False)
    return typer.Exit(code)
