"""`hallwatch signals …`: run the signal scheduler once (for cron-style deployments)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time

import typer
from rich.table import Table

from central.calendar.service import load_calendar
from central.cli.common import cli_session, console, fail
from central.complaints.jobs import COMPLAINT_OVERDUE, COMPLAINT_SIGNAL_SOURCES
from central.core.clock import SHANGHAI, shanghai_date, system_clock
from central.core.types import DateOutOfRange, check_day
from central.dualtrack.judge import DUAL_TRACK, DUALTRACK_SIGNAL_SOURCES
from central.jobs.runner import instance_name
from central.ratings.overdue import RATINGS_SIGNAL_SOURCES
from central.signals.scheduler import run_signals

logger = logging.getLogger(__name__)

app = typer.Typer(help="Signals (预警纠错, SZ-10..13).", no_args_is_help=True)


def _moment(as_of: datetime | None) -> datetime:
    """Now, or the end of an earlier Shanghai day; a later day would issue tomorrow's signals today."""
    now = system_clock()
    if as_of is None or as_of.date() == shanghai_date(now):
        return now
    day: date = as_of.date()
    try:
        check_day(day)  # the system's range (central.core.types): 0001-01-01 would overflow below
    except DateOutOfRange as exc:
        raise fail(f"--as-of: {exc}") from exc
    if day > shanghai_date(now):
        raise fail(f"--as-of {day.isoformat()} is in the future (today is {shanghai_date(now).isoformat()})")
    return datetime.combine(day, time(23, 59, 59), SHANGHAI)


@app.command("run")
def signals_run(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Shanghai date to compute signals for (default: today)."
    ),
) -> None:
    """Issue light signals and green warnings, judge finished days for dual-track, auto-correct and
    escalate: the same pass `serve` runs every HALLWATCH_SIGNAL_INTERVAL_SECONDS. Safe to repeat,
    and beside a running server."""
    moment = _moment(as_of)
    with cli_session() as (settings, session):
        summary = run_signals(
            session,
            now=moment,
            calendar=load_calendar(session),
            default_profile=settings.rule_profile,
            instance=f"cli:{instance_name()}",
            sources={**RATINGS_SIGNAL_SOURCES, **COMPLAINT_SIGNAL_SOURCES, **DUALTRACK_SIGNAL_SOURCES},
        )
    table = Table(title=f"预警纠错 as of {summary.as_of.isoformat()} (run #{summary.run_id})")
    table.add_column("")
    table.add_column("count", justify="right")
    for label, value in (
        ("黄色纠错 yellow (light)", summary.light_yellow),
        ("红色纠错 red (light)", summary.light_red),
        ("绿色预警 green (due date)", summary.green),
        ("差评整改超期 follow-up overdue", summary.followup_overdue),
        ("投诉逾期未受理 complaint overdue", summary.sourced.get(COMPLAINT_OVERDUE, 0)),
        ("疑似体外循环 dual track", summary.sourced.get(DUAL_TRACK, 0)),
        ("转为红色 escalated", summary.escalated),
        ("已纠正 auto-corrected", summary.corrected),
    ):
        table.add_row(label, str(value))
    console.print(table)
