"""`hallwatch anomalies run`: data supervision's rules over a period once (cron-style deployments,
catching up by hand): the pass `serve` runs every HALLWATCH_ANOMALY_INTERVAL_SECONDS. Idempotent."""

from __future__ import annotations

import logging
from datetime import datetime

import typer
from rich.table import Table

from central.anomalies.explain import LABELS
from central.anomalies.jobs import default_period
from central.anomalies.run import PeriodError, run_anomalies
from central.calendar.service import load_calendar
from central.cli.common import cli_actor, cli_session, console, fail, option_day
from central.core.clock import shanghai_date, system_clock
from central.jobs.runner import instance_name

logger = logging.getLogger(__name__)

app = typer.Typer(help="Data supervision (数据监察, SC-6(2)): anomaly rules.", no_args_is_help=True)


@app.command("run")
def anomalies_run(
    first: datetime | None = typer.Option(
        None, "--from", formats=["%Y-%m-%d"], help="First Shanghai day judged."
    ),
    last: datetime | None = typer.Option(
        None, "--to", formats=["%Y-%m-%d"], help="Last Shanghai day judged."
    ),
) -> None:
    """Run every enabled rule over the period (default: HALLWATCH_ANOMALY_DAYS days through yesterday)
    and store the hits; a hit found again keeps its decision. Safe to repeat, and beside a server."""
    now = system_clock()
    with cli_session() as (settings, session):
        default_from, default_to = default_period(now, settings.anomaly_days)
        period_from, period_to = (
            option_day(first, "--from") or default_from,
            option_day(last, "--to") or default_to,
        )
        if period_to >= shanghai_date(now):
            raise fail(
                f"--to {period_to.isoformat()} has not ended yet (today is {shanghai_date(now).isoformat()})"
            )
        try:
            report = run_anomalies(
                session,
                period_from=period_from,
                period_to=period_to,
                now=now,
                calendar=load_calendar(session),
                default_profile_key=settings.rule_profile,
                instance=f"cli:{instance_name()}",
                actor=cli_actor(),
            )
        except PeriodError as exc:
            raise fail(str(exc)) from exc
    table = Table(title=f"数据监察 {report.period_from.isoformat()} … {report.period_to.isoformat()}")
    table.add_column("rule")
    table.add_column("hits", justify="right")
    for code, count in report.by_rule.items():
        table.add_row(f"{code} {LABELS[code]}", str(count))
    console.print(table)
    console.print(f"{report.found} hit(s), {report.added} new, in {report.seconds:.1f} s")
