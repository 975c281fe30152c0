"""The one CLI, `hallwatch <command>`."""

from __future__ import annotations

import logging

import typer

from central.cli import (
    audit_cmd,
    calendar_cmd,
    cases_cmd,
    db_cmd,
    demo_cmd,
    devices_cmd,
    edge_cmd,
    evidence_cmd,
    keypad_cmd,
    profiles_cmd,
    registry_cmd,
    serve_cmd,
    signals_cmd,
    users_cmd,
)

app = typer.Typer(
    help="hallwatch — 政务服务中心电子监察 (electronic supervision for service halls)", no_args_is_help=True
)
app.add_typer(db_cmd.app, name="db")
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(calendar_cmd.app, name="calendar")
app.add_typer(profiles_cmd.app, name="profiles")
app.add_typer(registry_cmd.app, name="registry")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(users_cmd.app, name="users")
app.add_typer(signals_cmd.app, name="signals")
app.add_typer(edge_cmd.app, name="edge")
app.add_typer(keypad_cmd.app, name="keypad")
app.add_typer(evidence_cmd.app, name="evidence")
app.add_typer(devices_cmd.app, name="devices")
app.command("serve")(serve_cmd.serve)
app.command("demo")(demo_cmd.demo)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # one line per HTTP request from the edge agent's client drowns everything else
        logging.getLogger("httpx").setLevel(logging.WARNING)
