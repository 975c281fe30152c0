"""`hallwatch scores …`: the daily scores pass once (cron-style deployments, catching up by hand), and
a recomputation asked for by hand (audited, refused for a closed month: that takes an approval)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import typer
from rich.table import Table

from central.audit.chain import record
from central.calendar.service import load_calendar
from central.cli.common import cli_actor, cli_session, console, fail, option_day
from central.core.clock import shanghai_date, system_clock
from central.jobs.runner import instance_name
from central.reports.service import closed_month_hook
from central.scores.corrections import recompute
from central.scores.daily import last_scored_day, run_scores
from central.scores.lines import month_of
from central.scores.months import is_closed

logger = logging.getLogger(__name__)

app = typer.Typer(help="Performance scores (绩效得分, QTH-3, SZ-16..20).", no_args_is_help=True)


@app.command("run")
def scores_run(
    through: datetime | None = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="Score the days due through this Shanghai date only."
    ),
) -> None:
    """Score every finished day not scored yet (in order, from the last scored), apply corrections
    after approvals and close months: the pass `serve` runs every HALLWATCH_SCORE_INTERVAL_SECONDS.
    Safe to repeat, and beside a running server."""
    day = option_day(through, "--date")
    now = system_clock()
    if day is not None and day >= shanghai_date(now):
        raise fail(f"--date {day.isoformat()} has not ended yet (today is {shanghai_date(now).isoformat()})")
    with cli_session() as (settings, session):
        report = run_scores(
            session,
            now=now,
            default_profile_key=settings.rule_profile,
            instance=f"cli:{instance_name()}",
            delay=timedelta(minutes=settings.score_delay_minutes),
            close_working_day=settings.score_month_close_working_day,
            through=day,
            on_month_closed=closed_month_hook(default_profile=settings.rule_profile),
        )
    table = Table(title="绩效得分 scores")
    table.add_column("day")
    table.add_column("subjects", justify="right")
    table.add_column("lines", justify="right")
    table.add_column("seconds", justify="right")
    for run in report.days:
        if run.computed:
            table.add_row(run.day.isoformat(), str(run.subjects), str(run.lines), f"{run.seconds:.1f}")
        else:
            table.add_row(run.day.isoformat(), "scored by another instance", "", "")
    console.print(table if report.days else "No day due: every finished day is scored.")
    if report.corrections:
        console.print(f"Corrections after approvals: {report.corrections}")
    for month in report.months_closed:
        console.print(f"Month {month} closed.")
    if report.stopped:
        raise fail(report.stopped)


@app.command("recompute")
def scores_recompute(
    first: datetime = typer.Option(
        ..., "--from", formats=["%Y-%m-%d"], help="First day to recompute (through the end of its month)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (kept beside every earlier figure, audited)."),
) -> None:
    """Recompute scored days from --from through the last scored day of its month, with the records as
    they stand now: changed figures get a new row, the earlier one stays visible with the reason."""
    day = option_day(first, "--from")
    assert day is not None
    if not reason.strip():
        raise fail("--reason must say why")
    now = system_clock()
    with cli_session() as (settings, session):
        last = last_scored_day(session)
        if last is None or day > last:
            raise fail(f"{day.isoformat()} is not scored yet: `hallwatch scores run` scores it")
        if is_closed(session, month_of(day)):
            raise fail(f"{month_of(day)} is closed: its scores change only through an approval")
        changed = recompute(
            session,
            hall_ids=None,
            first_day=day,
            now=now,
            calendar=load_calendar(session),
            default_profile_key=settings.rule_profile,
            reason=f"手工重算：{reason.strip()}",
        )
        record(
            session,
            actor=cli_actor(),
            action="score.recompute",
            target_type="score_day",
            target_id=day.isoformat(),
            after={"from": day.isoformat(), "changed": changed, "reason": reason.strip()},
            at=now,
        )
        session.commit()
    console.print(f"Recomputed from {day.isoformat()}: {changed} subject-day(s) changed.")
