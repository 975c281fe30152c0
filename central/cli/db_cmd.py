"""`hallwatch db …`: schema migrations."""

from __future__ import annotations

import typer

from central.cli.common import console, migrated_engine
from central.core.config import Settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema of HALLWATCH_DATABASE_URL up to date."""
    settings = Settings()
    migrated_engine(settings).dispose()
    console.print(f"schema up to date: {settings.database_url.split('@')[-1]}")
