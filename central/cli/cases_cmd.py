"""`hallwatch cases …`: import case events from a JSON Lines file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from central.calendar.service import load_calendar
from central.cases.ingest import ConcurrentWriteError
from central.cases.schemas import EventOutcome
from central.cases.service import submit_raw_events
from central.cli.common import cli_actor, cli_session, console, errors, fail
from central.core.clock import system_clock

app = typer.Typer(help="Cases (办件).", no_args_is_help=True)


def read_jsonl(file: Path) -> list[Any]:
    events: list[Any] = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise fail(f"{file}:{number}: not valid JSON: {exc.msg}") from exc
    return events


@app.command("import")
def cases_import(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSON Lines, one case event per line."
    ),
    batch_size: int = typer.Option(1000, min=1, max=5000, help="Events per transaction."),
) -> None:
    """Import case events (same rules as POST /api/v1/cases/events), batch by batch."""
    events = read_jsonl(file)
    stored = duplicates = 0
    actor = cli_actor()
    with (
        cli_session() as (settings, session),
        Progress(
            TextColumn("导入办件事件"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("import", total=len(events))
        for start in range(0, len(events), batch_size):
            batch = events[start : start + batch_size]
            try:
                result = submit_raw_events(
                    session,
                    raw_events=batch,
                    calendar=load_calendar(session),
                    default_profile_key=settings.rule_profile,
                    now=system_clock(),
                    source=f"import:{file.name}",
                    actor=actor,
                )
            except ConcurrentWriteError as exc:
                raise fail(f"lines near {start + 1}: {exc}") from exc
            if not result.accepted:
                for r in result.results:
                    if r.outcome in (EventOutcome.INVALID, EventOutcome.CONFLICT):
                        errors.print(
                            f"{file} event #{start + r.index + 1} ({r.event_id}): {r.outcome}: {r.detail}",
                            highlight=False,
                        )
                raise fail(f"batch starting at event #{start + 1} rejected; {stored} events stored before it")
            stored += result.stored
            duplicates += result.duplicates
            progress.advance(task, len(batch))
    console.print(f"完成: {stored} stored, {duplicates} duplicates (already stored)")
