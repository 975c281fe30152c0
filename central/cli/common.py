"""What every CLI command shares: settings, an engine with an up-to-date schema, a session."""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.core.config import Settings
from central.core.db import make_session_factory, settings_engine
from central.core.migrate import upgrade
from central.core.types import DateOutOfRange, check_day

logger = logging.getLogger(__name__)
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # errors stay one line each: grep-able FILE:LINE: messages


def migrated_engine(settings: Settings) -> Engine:
    engine = settings_engine(settings)
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


def cli_actor() -> Actor:
    """The operating-system user running the command: whom the audit trail names for CLI writes."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment and no passwd entry (containers)
        name = f"uid{os.getuid()}"
    return Actor(kind="cli", name=name)


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]错误[/]: {message}", highlight=False)
    return typer.Exit(code)


def option_day(value: datetime | None, option: str) -> date | None:
    """A `--date`-like option's Shanghai day, checked against the system's range (exit 2 saying which)."""
    if value is None:
        return None
    try:
        return check_day(value.date())
    except DateOutOfRange as exc:
        raise fail(f"{option}: {exc}") from exc
