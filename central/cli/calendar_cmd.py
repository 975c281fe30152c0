"""`hallwatch calendar …`: administrator-entered years and coverage."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from pydantic import ValidationError

from central.calendar.schemas import CalendarYearIn
from central.calendar.service import CalendarConflictError, check_coverage, import_year
from central.cases.service import describe_validation
from central.cli.common import cli_actor, cli_session, console, fail
from central.core.clock import shanghai_date, system_clock
from common.yamlio import load_plain_yaml

app = typer.Typer(help="Working-day calendar (LAW art. 82).", no_args_is_help=True)


@app.command("import")
def calendar_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML: year, holidays, workdays."),
) -> None:
    """Enter a year the official data does not cover (e.g. 2027, once the State Council publishes it)."""
    try:
        raw = load_plain_yaml(file.read_text(encoding="utf-8"))
        entry = CalendarYearIn.model_validate(raw)
    except yaml.YAMLError as exc:
        raise fail(f"{file}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise fail(f"{file}: {describe_validation(exc)}") from exc
    with cli_session() as (settings, session):
        try:
            stored = import_year(
                session,
                entry=entry,
                default_key=settings.rule_profile,
                now=system_clock(),
                actor=cli_actor(),
            )
        except CalendarConflictError as exc:
            raise fail(str(exc)) from exc
    console.print(
        f"{stored.year} 年工作日历已录入：{len(stored.holidays)} 个节假日，{len(stored.workdays)} 个调休上班日"
    )


@app.command("check")
def calendar_check() -> None:
    """List covered and missing years; exits 1 when a year up to next year is missing."""
    with cli_session() as (_settings, session):
        report = check_coverage(session, today=shanghai_date(system_clock()))
    console.print(f"官方数据 official: {_years(report.official)}")
    console.print(f"管理员录入 administrator: {_years(report.administrator) or '—'}")
    if report.missing:
        console.print(
            f"[bold red]缺失 missing[/]: {_years(report.missing)} — 请录入 (hallwatch calendar import)"
        )
        raise typer.Exit(1)
    console.print("日历完整 no year missing")


def _years(years: list[int]) -> str:
    if not years:
        return ""
    spans: list[str] = []
    start = prev = years[0]
    for year in [*years[1:], None]:
        if year is not None and year == prev + 1:
            prev = year
            continue
        spans.append(str(start) if start == prev else f"{start}–{prev}")
        if year is not None:
            start = prev = year
    return ", ".join(spans)
