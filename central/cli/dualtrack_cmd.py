"""`hallwatch dualtrack run [--date D]`: the daily dual-track judgement by hand (a day missed, a
cron-style deployment). Judges one finished day, or every day due as the signal pass would; a day
already judged is left as it is (idempotent, safe beside a running server)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import typer
from rich.table import Table

from central.calendar.service import load_calendar
from central.cli.common import cli_session, console, fail, option_day
from central.core.clock import shanghai_date, system_clock
from central.dualtrack.judge import DayReport, days_due, judge_day
from central.jobs.runner import instance_name
from common.profiles.loader import get_profile

logger = logging.getLogger(__name__)

app = typer.Typer(help="Dual-track detection (双轨运行研判, 疑似体外循环).", no_args_is_help=True)


@app.command("run")
def dualtrack_run(
    when: datetime | None = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="Judge this Shanghai day (default: every day due)."
    ),
) -> None:
    """Judge each window's visitors against its recorded cases for a finished day; a flagged window
    gets a yellow signal 疑似体外循环. The signal pass `serve` runs does the same each day."""
    day = option_day(when, "--date")
    now = system_clock()
    if day is not None and day >= shanghai_date(now):
        raise fail(f"--date {day.isoformat()} has not ended yet (today is {shanghai_date(now).isoformat()})")
    with cli_session() as (settings, session):
        calendar = load_calendar(session)
        if day is None:
            delay = timedelta(minutes=get_profile(settings.rule_profile).dualtrack.judge_delay_minutes)
            days = days_due(session, now=now, delay=delay)
        else:
            days = [day]
        reports: list[DayReport] = []
        try:
            for each in days:
                reports.append(
                    judge_day(
                        session,
                        day=each,
                        now=now,
                        calendar=calendar,
                        default_profile=settings.rule_profile,
                        instance=f"cli:{instance_name()}",
                    )
                )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    if not reports:
        console.print("No day due: every finished day is judged.")
        return
    table = Table(title="双轨运行研判 dual-track")
    for column in ("day", "windows", "flagged", "too few visitors", "signals", "seconds"):
        table.add_column(column, justify="left" if column == "day" else "right")
    for report in reports:
        if report.judged:
            table.add_row(
                report.day.isoformat(),
                str(report.windows),
                str(report.flagged),
                str(report.low_volume),
                str(report.signals),
                f"{report.seconds:.2f}",
            )
        else:
            table.add_row(report.day.isoformat(), "already judged", "", "", "", "")
    console.print(table)
