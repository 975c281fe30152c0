"""Patrol compliance (issue 15 item 5): per supervising body, the patrols its plan required against
those complete with proof of viewing; a shortfall raised once after the day ended; the monthly table
through the API, the page and audited CSV / Excel exports, each in the caller's jurisdiction."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.models import AuditEntry
from central.patrols.compliance import check_compliance
from central.patrols.models import PatrolSession, PatrolShortfall, PatrolTask
from central.registry.models import Region
from tests.central.patrols.test_plan_api import app_client, as_user, key_file, people, province

__all__ = ["app_client", "key_file", "people", "province"]
COMPLIANCE = "/api/v1/patrols/compliance"
# The fixture clock is Friday 2026-11-27; its day ends at midnight in Shanghai (16:00 UTC).
NEXT_NIGHT = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 01:30 on Saturday, Shanghai


def complete_a_task(client: TestClient, session: Session, who: str) -> int:
    """The inspector opens a patrol of one of their tasks; it is judged complete (as the proof of
    viewing would: that is tested in test_sessions_api.py)."""
    plan = client.get("/api/v1/patrols/plan").json()
    task = next(t for t in plan["patrols"] if t["inspector"] == who)
    opened = client.post("/api/v1/patrols/sessions", json={"task": task["id"]})
    assert opened.status_code == 201, opened.text
    patrol = session.get(PatrolSession, opened.json()["id"])
    assert patrol is not None
    patrol.state = "complete"
    session.commit()
    return int(task["id"])


def body_row(table: dict[str, object], code: str) -> dict[str, object]:
    rows = [b for b in table["bodies"] if b["code"] == code]  # type: ignore[union-attr, index]
    assert len(rows) == 1, table
    return dict(rows[0])


def test_a_body_short_of_its_quota_is_raised_once_after_the_day_and_shown_in_the_month(
    app_client: TestClient, people: dict[str, str], session: Session
) -> None:
    client = as_user(app_client, people, "prov1")
    complete_a_task(client, session, "prov1")
    required = len(
        session.scalars(
            select(PatrolTask)
            .join(Region, Region.id == PatrolTask.body_region_id)
            .where(Region.code == "510000")
        ).all()
    )
    today = body_row(client.get(COMPLIANCE).json(), "510000")
    assert (today["required"], today["done"], today["short_days"]) == (required, 1, [])  # the day is not over
    assert check_compliance(session, now=NEXT_NIGHT - timedelta(hours=1)) == 0  # not yet: patrols are judged
    raised = check_compliance(session, now=NEXT_NIGHT)
    assert raised >= 1
    assert check_compliance(session, now=NEXT_NIGHT + timedelta(hours=2)) == 0  # checked once
    shortfall = session.scalars(
        select(PatrolShortfall)
        .join(Region, Region.id == PatrolShortfall.body_region_id)
        .where(Region.code == "510000")
    ).one()
    assert (shortfall.required, shortfall.done) == (required, 1)
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "patrol.shortfall.raise")).all()
    assert len(audited) == raised
    month = body_row(client.get(COMPLIANCE, params={"month": "2026-11"}).json(), "510000")
    assert month["short_days"] == [] and month["rate"] == round(1 / required, 4)  # the clock's day is today
    # a city sees its own bodies, not the province's
    city = as_user(app_client, people, "cd1").get(COMPLIANCE).json()
    assert {b["code"] for b in city["bodies"]} <= {"510100", "510104", "510105", "510106"} and city["bodies"]
    assert as_user(app_client, people, "hallinspector").get(COMPLIANCE).status_code == 403
    for bad in ("2026-13", "26-11", "2026-11-01"):
        assert as_user(app_client, people, "prov1").get(COMPLIANCE, params={"month": bad}).status_code == 422


def test_the_month_is_exported_as_csv_and_excel_and_every_export_is_audited(
    app_client: TestClient, people: dict[str, str], session: Session
) -> None:
    client = as_user(app_client, people, "prov1")
    client.get("/api/v1/patrols/plan")  # today's plan is drawn
    text = client.get(f"{COMPLIANCE}/export", params={"format": "csv", "month": "2026-11"})
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["监察机构代码", "监察机构", "层级", "应巡查次数", "已完成次数"]
    assert any(r[0] == "510000" and r[1] == "四川省" and r[5] == "0.0%" for r in rows[1:])
    book = client.get(f"{COMPLIANCE}/export", params={"format": "xlsx", "month": "2026-11"})
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.content))["巡查完成情况"]
    assert sheet.cell(1, 2).value == "监察机构"
    exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "patrol.compliance.export")).all()
    assert len(exports) == 2
    assert client.get(f"{COMPLIANCE}/export", params={"format": "pdf"}).status_code == 422


def test_the_compliance_page_lists_the_bodies(app_client: TestClient, people: dict[str, str]) -> None:
    login = app_client.post(
        "/console/login", data={"username": "prov2", "password": people["prov2"]}, follow_redirects=False
    )
    assert login.status_code == 303
    app_client.get("/console/patrols")  # today's plan is drawn
    html = app_client.get("/console/patrols/compliance").text
    assert "巡查完成情况" in html and "四川省（510000）" in html and "导出 Excel" in html
    bad = app_client.get("/console/patrols/compliance", params={"month": "2026-13"})
    assert bad.status_code == 400 and "月份格式不正确" in bad.text
