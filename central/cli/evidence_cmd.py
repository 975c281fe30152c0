"""`hallwatch evidence …`: evidence snapshot retention (SC-18; the profile's `presence.evidence_retention_days`)."""

from __future__ import annotations

import logging

import typer

from central.cli.common import cli_actor, cli_session, console
from central.core.clock import system_clock
from central.video.evidence import purge_expired_evidence

logger = logging.getLogger(__name__)

app = typer.Typer(help="Evidence snapshots (证据快照).", no_args_is_help=True)


@app.command("purge")
def evidence_purge() -> None:
    """Delete the images of snapshots past their retention (metadata stays: they answer 410 Gone).
    `serve` does the same in the background with every signal run; safe to repeat."""
    with cli_session() as (_settings, session):
        purged = purge_expired_evidence(session, now=system_clock(), actor=cli_actor())
        session.commit()
    console.print(f"已删除过期证据快照 {purged} 张 (purged {purged} expired evidence snapshots)")
