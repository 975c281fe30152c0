"""The monthly report's PDF opened as a person would: its text extracted with pdftotext carries the
API's figures, its first page is rendered with pdftoppm (left in test-artifacts/reports/); a month
without scores says so; the CLI writes a PDF; the closed-month pass stores the leadership's reports."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.cli.common import console as cli_console
from central.cli.main import app as cli
from central.core.config import Settings
from central.reports.figures import NO_SCORES, report_data
from central.reports.models import MonthlyReport
from central.reports.period import report_scope
from central.reports.render import change, hours, percent, score
from central.reports.service import closed_month_hook, generate_closed_month_reports
from central.scores.models import ScoreMonth
from tests.central.reports.conftest import first_page_png, pdf_text
from tests.central.reports.world import MONTH, NOW, World, build_world
from tests.conftest import FakeClock

PDF_URL = "/api/v1/reports/monthly.pdf"
JSON_URL = "/api/v1/reports/monthly"


def kpis(data: dict[str, Any]) -> list[str]:
    """Each headline figure as the report prints it: `label：value`."""
    v, lights, s, i = (
        data["volume"]["total"],
        data["lights"]["total"],
        data["signals"]["total"],
        data["investigations"],
    )
    r, a, p = data["ratings"]["total"], data["absences"]["total"], data["patrols"]
    return [
        f"本月收件：{v['received']}",
        f"本月受理：{v['accepted']}",
        f"本月办结：{v['closed']}",
        f"月末在办：{v['open_at_end']}",
        f"按时办结率：{percent(v['on_time_rate'])}（{v['on_time']}/{v['decided']}）",
        *(
            f"{label}：{lights[key]}"
            for label, key in (("绿灯", "green"), ("黄灯", "yellow"), ("红灯", "red"), ("无期限", "unknown"))
        ),
        f"发出预警纠错：{s['raised']}",
        f"红色纠错：{s['raised_red']}",
        f"已纠正：{s['corrected']}",
        f"已升级：{s['escalated']}",
        f"平均纠正用时：{hours(s['mean_hours_to_correction'])}",
        f"纠正用时中位数：{hours(s['median_hours_to_correction'])}",
        f"本月交办：{i['assigned']}",
        f"按期报告：{i['reported_on_time']}",
        f"逾期报告：{i['reported_late']}",
        f"月末超期未报：{i['open_past_due']}",
        f"评价数：{r['count']}",
        f"满意率：{percent(r['satisfaction_rate'])}",
        f"差评数：{r['bad_count']}",
        f"回访率：{percent(r['callback_rate'])}（{r['called_back']}/{r['followups']}）",
        f"整改率：{percent(r['rectified_rate'])}（{r['rectified']}/{r['followups']}）",
        f"离岗事件：{a['total']}",
        f"已确认：{a['confirmed']}",
        f"待核实：{a['pending']}",
        f"应巡查：{p['required']}",
        f"完成率：{percent(p['rate'])}",
        f"巡查发现：{p['findings_total']}",
    ]


def row_pattern(*cells: object) -> re.Pattern[str]:
    """A table row of the PDF's text: the cells in order, separated by layout spaces."""
    return re.compile(r"\s+".join(re.escape(str(cell)) for cell in cells))


def test_the_pdf_shows_the_apis_figures(client: TestClient, world: World, tmp_path: Path) -> None:
    pdf = client.get(PDF_URL, params={"month": MONTH, "scope": "*"})
    assert pdf.status_code == 200, pdf.text
    data = client.get(JSON_URL, params={"month": MONTH, "scope": "*"}).json()
    text = pdf_text(pdf.content, tmp_path)
    assert "全部辖区电子监察月报" in text and "2026年11月（2026-11-01 至 2026-11-30）" in text
    assert "生成人：user:root" in text
    missing = [kpi for kpi in kpis(data) if kpi not in text]
    assert not missing, missing
    for row in data["volume"]["by_department"]:
        cells = (
            row["name"],
            row["hall_code"],
            row["received"],
            row["accepted"],
            row["closed"],
            row["open_at_end"],
        )
        assert row_pattern(*cells, percent(row["on_time_rate"])).search(text), row
    for row in data["signals"]["by_department"]:
        assert row_pattern(
            row["name"], row["hall_code"], row["raised"], row["raised_yellow"], row["raised_red"]
        ).search(text), row
    for row in data["scores"]["departments"]["rows"]:
        cells = (
            row["rank"],
            row["name"],
            row["hall_code"],
            score(row["score"]),
            score(row["last_month"]),
            change(row["change"]),
        )
        assert row_pattern(*cells).search(text), row
    for row in data["attention"]["rows"]:
        assert row["reasons"][0] in text
    assert data["signals"]["total"]["median_hours_to_correction"] == 24.0  # and so "24.0 小时" above
    image = first_page_png(pdf.content, tmp_path, "monthly-report-first-page")
    assert image.stat().st_size > 10_000 and image.read_bytes().startswith(b"\x89PNG")


def test_a_county_pdf_and_a_month_without_scores(
    client: TestClient, session: Session, clock: FakeClock, tmp_path: Path
) -> None:
    clock.now = NOW
    build_world(session, with_scores=False)
    pdf = client.get(PDF_URL, params={"month": MONTH, "scope": "510104"})
    data = client.get(JSON_URL, params={"month": MONTH, "scope": "510104"}).json()
    text = pdf_text(pdf.content, tmp_path)
    assert "锦江区电子监察月报" in text and NO_SCORES in text.replace("\n", "")
    assert not [kpi for kpi in kpis(data) if kpi not in text]
    assert "省市场监管局" not in text  # the province's departments are not the county's


def test_the_cli_writes_the_pdf(
    settings: Settings, session: Session, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("central.cli.report_cmd.system_clock", lambda: NOW)
    # The CLI's console took its width when first imported (another test's terminal, under xdist).
    monkeypatch.setattr(cli_console, "width", 160)
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "COLUMNS": "160"}
    out = tmp_path / "county.pdf"
    result = CliRunner().invoke(
        cli, ["report", "monthly", "--month", MONTH, "--scope", "510104", "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "锦江区电子监察月报 2026-11" in result.output and str(out) in result.output
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "本月收件：2" in text and "锦江区电子监察月报" in text
    session.expire_all()
    stored = session.scalars(select(MonthlyReport)).one()
    assert stored.generated_by.startswith("cli:") and stored.pdf == out.read_bytes()
    bad = CliRunner().invoke(cli, ["report", "monthly", "--month", "2026-13", "--scope", "510104"], env=env)
    assert bad.exit_code == 2 and "月份格式" in bad.output
    outside = CliRunner().invoke(cli, ["report", "monthly", "--month", MONTH, "--scope", "SCJGJ"], env=env)
    assert outside.exit_code == 2 and "不按部门生成" in outside.output


def test_the_closed_month_pass_writes_the_leaderships_reports(session: Session, world: World) -> None:
    written = generate_closed_month_reports(session, month=MONTH, now=NOW, default_profile="sichuan-2011")
    assert written == 3
    rows = session.scalars(
        select(MonthlyReport).order_by(MonthlyReport.scope_kind, MonthlyReport.scope_code)
    ).all()
    assert [(r.scope_kind, r.scope_code, r.generated_by) for r in rows] == [
        ("deployment", "*", "system:reports"),
        ("region", "510000", "system:reports"),
        ("region", "510100", "system:reports"),  # the city holds 锦江区's hall; counties come on demand
    ]
    for row in rows:
        scope = report_scope(session, "*" if row.scope_code == "*" else f"region:{row.scope_code}")
        own = report_data(
            session,
            month=MONTH,
            scope=scope,
            now=NOW,
            calendar=load_calendar(session),
            default_profile="sichuan-2011",
        )
        assert row.data == own.model_dump(mode="json") and row.pdf.startswith(b"%PDF")
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "report.monthly.generate").order_by(AuditEntry.seq)
    ).all()
    assert [json.loads(e.after or "{}")["scope_code"] for e in entries] == ["*", "510000", "510100"]
    assert {e.actor for e in entries} == {"system:reports"}


def test_the_scores_pass_hook_writes_final_reports_as_of_the_close(
    client: TestClient, session: Session, world: World
) -> None:
    closed_at = NOW - timedelta(hours=1)
    session.add(ScoreMonth(month=MONTH, closed_at=closed_at, closed_by="system:scores"))
    session.commit()
    closed_month_hook(default_profile="sichuan-2011")(session, MONTH)
    rows = session.scalars(select(MonthlyReport)).all()
    assert len(rows) == 3 and {r.generated_at for r in rows} == {closed_at}
    deployment = next(r for r in rows if r.scope_code == "*")
    served = client.get(PDF_URL, params={"month": MONTH, "scope": "*"})
    assert served.content == deployment.pdf  # final: served as stored, not made again
    generated = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "report.monthly.generate")
    ).all()
    assert len(generated) == 3
