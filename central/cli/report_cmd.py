"""`hallwatch report monthly`: generate the monthly e-supervision report (电子监察月报) of a scope, store
it (audited, as the CLI's user) and write its PDF; `--all` writes the reports a closed month gets."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.table import Table

from central.cli.common import cli_actor, cli_session, console, fail
from central.core.clock import shanghai_date, system_clock
from central.registry.jurisdiction import ScopeKind
from central.reports.charts import ChartFontMissing
from central.reports.pdf import PdfUnavailable
from central.reports.period import ReportInputError, parse_month, report_scope
from central.reports.router import pdf_filename
from central.reports.schemas import MonthlyReportData
from central.reports.service import generate_closed_month_reports, generate_monthly_report

logger = logging.getLogger(__name__)

app = typer.Typer(help="Reports (电子监察月报).", no_args_is_help=True)


def _summary(data: MonthlyReportData) -> Table:
    table = Table(
        title=f"{data.scope_name}电子监察月报 {data.month}（数据截至 {data.data_until.isoformat()}）"
    )
    table.add_column("")
    table.add_column("", justify="right")
    v, s, r = data.volume.total, data.signals.total, data.ratings.total
    for label, value in (
        ("收件 received", v.received),
        ("办结 closed", v.closed),
        ("月末在办 open at month end", v.open_at_end),
        ("按时办结率 on time", "—" if v.on_time_rate is None else f"{v.on_time_rate:.1%}"),
        ("预警纠错 signals raised", s.raised),
        ("评价 ratings", r.count),
        ("差评 bad ratings", r.bad_count),
        ("需要关注的部门 departments needing attention", len(data.attention.rows)),
    ):
        table.add_row(label, str(value))
    return table


@app.command("monthly")
def report_monthly(
    month: str | None = typer.Option(None, "--month", help="YYYY-MM (default: last month)."),
    scope: str = typer.Option("*", "--scope", help="`*`, a region's code (510100) or a hall's code."),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write the PDF (default: monthly-report-MONTH-SCOPE.pdf here)."
    ),
    all_scopes: bool = typer.Option(
        False, "--all", help="Instead: the reports a closed month gets (the deployment, provinces, cities)."
    ),
) -> None:
    """Generate the month's report as the data stand now, store it (replacing an earlier one of the
    same month and scope; audited) and write its PDF."""
    now = system_clock()
    with cli_session() as (settings, session):
        try:
            wanted = parse_month(month, today=shanghai_date(now))
            if all_scopes:
                with console.status(f"正在生成 {wanted.text} 的月报（全部辖区、省、市）…"):
                    written = generate_closed_month_reports(
                        session, month=wanted.text, now=now, default_profile=settings.rule_profile
                    )
                console.print(f"已生成并保存 {written} 份 {wanted.text} 电子监察月报。")
                return
            within = report_scope(session, scope)
            with console.status(f"正在生成 {wanted.text} {within.code} 的月报…"):
                row = generate_monthly_report(
                    session,
                    month=wanted.text,
                    scope_kind=within.kind.value,
                    scope_code="*" if within.kind is ScopeKind.DEPLOYMENT else within.code,
                    now=now,
                    actor_label=cli_actor().label,
                    default_profile=settings.rule_profile,
                )
            pdf, data = row.pdf, MonthlyReportData.model_validate(row.data)
            session.commit()
        except ReportInputError as exc:
            raise fail(f"{exc.zh} ({exc.detail})") from exc
        except (PdfUnavailable, ChartFontMissing) as exc:
            raise fail(str(exc), 1) from exc
    target = out or Path(pdf_filename(wanted.text, within))
    try:
        target.write_bytes(pdf)
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc}", 1) from exc
    console.print(_summary(data))
    console.print(f"PDF：{target}（{len(pdf) // 1024} KB）", soft_wrap=True)  # a path unbroken, to copy
