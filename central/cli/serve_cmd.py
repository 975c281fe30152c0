"""`hallwatch serve`: run central (after bringing the schema up to date)."""

from __future__ import annotations

import typer
import uvicorn

from central.app import create_app
from central.audit.signing import SigningKeyError
from central.cli.common import console, fail, migrated_engine
from central.core.config import Settings
from central.core.warmup import warm_up


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Run the central server against HALLWATCH_DATABASE_URL."""
    settings = Settings()
    engine = migrated_engine(settings)
    docs = ", API /docs" if settings.api_docs else ""
    console.print(f"hallwatch central on http://{host}:{port}/  (控制台 /console/cases{docs})")
    try:
        app = create_app(settings, engine=engine)  # builds the periodic jobs: reads the signing key
    except SigningKeyError as exc:
        raise fail(f"审计签名密钥不可用 audit signing key refused: {exc}") from exc
    warm_up(app)  # before the port opens: the first request after a restart is not the slow one
    # Forwarded headers are believed only from HALLWATCH_FORWARDED_ALLOW_IPS, inside the app (create_app).
    # Hall screens hold their change streams open: a stop waits this long for them, then closes them
    # (the screens reconnect, to another instance, and resume where they were).
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, timeout_graceful_shutdown=5)
