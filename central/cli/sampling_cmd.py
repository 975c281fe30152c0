"""`hallwatch sampling …`: draw a month's sample from the command line, and an auditor's check that a
recorded draw recomputes exactly from its seed (exit 1 if not)."""

from __future__ import annotations

import logging

import typer
from rich.table import Table

from central.cli.common import cli_actor, cli_session, console, fail
from central.core.clock import system_clock
from central.registry.jurisdiction import ScopeKind, jurisdiction_of
from central.sampling.models import SampleDraw
from central.sampling.schemas import SamplingError
from central.sampling.service import create_draw, verify_draw

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Sampling supervision (抽样监察, SC-6(4)): draws and their verification.", no_args_is_help=True
)


@app.command("draw")
def sampling_draw(
    month: str = typer.Option(..., "--month", help="The finished month to draw (YYYY-MM)."),
    scope: str = typer.Option(..., "--scope", help="region:CODE, hall:CODE or department:CODE."),
    note: str | None = typer.Option(None, "--note", help="Why, kept with the draw."),
) -> None:
    """Draw the month's closed cases in the scope (audited as the OS user); prints the sample."""
    now = system_clock()
    with cli_session() as (settings, session):
        everything = jurisdiction_of(session, kind=ScopeKind.DEPLOYMENT, scope_id=0)
        try:
            draw = create_draw(
                session,
                month=month,
                scope_code=scope,
                within=everything,
                actor=cli_actor(),
                drawn_by_id=None,
                now=now,
                default_profile=settings.rule_profile,
                note=note,
            )
        except SamplingError as exc:
            raise fail(exc.detail) from exc
        session.commit()
        console.print(
            f"抽样 #{draw.id}: {draw.month} {draw.scope_code}, {draw.sample_size} of {draw.population} case(s); "
            f"seed {draw.seed}"
        )
        table = Table(title=f"sample #{draw.id}")
        for heading in ("#", "case", "stratum", "kinds"):
            table.add_column(heading)
        for case in draw.cases:
            table.add_row(str(case.position), case.case_no, case.stratum, case.kinds or "—")
        console.print(table)


@app.command("verify")
def sampling_verify(draw_id: int = typer.Argument(..., help="The draw's number.")) -> None:
    """Recompute the draw from its recorded seed, rates and reviewers, as the case log stood when it
    was drawn; exit 1 naming the differences if anything differs."""
    with cli_session() as (_settings, session):
        draw = session.get(SampleDraw, draw_id)
        if draw is None:
            raise fail(f"no sample draw #{draw_id}")
        result = verify_draw(session, draw=draw)
    if result.ok:
        console.print(
            f"抽样 #{draw_id} verified: {result.population_recomputed} closed case(s) as drawn, "
            "the same sample and reviewers from the recorded seed."
        )
        return
    for line in result.differences:
        console.print(f"  {line}", highlight=False)
    raise fail(f"抽样 #{draw_id} does not recompute: {len(result.differences)} difference(s)", code=1)
