"""The monthly report's API: the JSON is the figures `report_data` computes, the PDF is stored once and
served again, both downloads are audited, a closed month's stale report is made again, every caller
stays inside their jurisdiction (another's scope answers 404 like a missing one), and bad input gets a
4xx that says what was wrong."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.reports.figures import report_data
from central.reports.models import MonthlyReport
from central.reports.period import report_scope
from central.scores.models import ScoreMonth
from tests.central.reports.world import MONTH, NOW, World
from tests.conftest import FakeClock, SignedIn, make_user

URL = "/api/v1/reports/monthly"
PDF_URL = "/api/v1/reports/monthly.pdf"


def audits(session: Session, action: str) -> list[dict[str, object]]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))
    return [json.loads(row.after or "null") for row in rows]


def signed_in(db: Engine, client: TestClient, username: str, *, role: Role, scope: str) -> TestClient:
    password = make_user(db, username, role=role, scope=scope)
    client.auth = SignedIn(username, password)
    return client


def test_the_json_is_the_report_data(client: TestClient, session: Session, world: World) -> None:
    answer = client.get(URL, params={"month": MONTH, "scope": "510104"})
    assert answer.status_code == 200, answer.text
    expected = report_data(
        session,
        month=MONTH,
        scope=report_scope(session, "510104"),
        now=NOW,
        calendar=load_calendar(session),
        default_profile="sichuan-2011",
    )
    assert answer.json() == expected.model_dump(mode="json")
    assert audits(session, "report.monthly.download") == [
        {"month": MONTH, "scope_kind": "region", "scope_code": "510104", "format": "json", "sha256": None}
    ]
    own = client.get(URL)  # last month, the caller's own jurisdiction (the deployment)
    assert (own.json()["month"], own.json()["scope_code"]) == (MONTH, "*")


def test_the_pdf_is_stored_and_served_again(client: TestClient, session: Session, world: World) -> None:
    first = client.get(PDF_URL, params={"month": MONTH, "scope": "510000"})
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf" and first.content.startswith(b"%PDF")
    assert first.headers["content-disposition"] == 'attachment; filename="monthly-report-2026-11-510000.pdf"'
    again = client.get(PDF_URL, params={"month": MONTH, "scope": "region:510000"})
    assert again.content == first.content  # the stored report: generated once
    stored = session.scalars(select(MonthlyReport)).one()
    assert (stored.month, stored.scope_kind, stored.scope_code, stored.generated_by) == (
        MONTH,
        "region",
        "510000",
        "user:root",
    )
    generated = audits(session, "report.monthly.generate")
    assert len(generated) == 1 and generated[0]["pdf_sha256"] == stored.pdf_sha256
    downloads = audits(session, "report.monthly.download")
    assert [d["format"] for d in downloads] == ["pdf", "pdf"] and downloads[0]["sha256"] == stored.pdf_sha256
    # now the JSON is the stored report's figures, those the PDF shows
    data = client.get(URL, params={"month": MONTH, "scope": "510000"}).json()
    assert data == stored.data
    assert audits(session, "report.monthly.download")[-1]["sha256"] == stored.pdf_sha256


def test_a_report_made_before_the_month_closed_is_made_again(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    first = client.get(PDF_URL, params={"month": MONTH, "scope": "*"})
    session.add(ScoreMonth(month=MONTH, closed_at=NOW + timedelta(days=2), closed_by="system:scores"))
    session.commit()
    clock.now = NOW + timedelta(days=3)
    second = client.get(PDF_URL, params={"month": MONTH, "scope": "*"})
    assert second.status_code == 200 and second.content != first.content  # generated after the close
    third = client.get(PDF_URL, params={"month": MONTH, "scope": "*"})
    assert third.content == second.content
    assert len(audits(session, "report.monthly.generate")) == 2
    assert session.scalar(select(func.count()).select_from(MonthlyReport)) == 1  # replaced, not added


def test_the_running_month_is_made_anew_on_each_download(
    client: TestClient, session: Session, world: World
) -> None:
    for _ in range(2):
        assert client.get(PDF_URL, params={"month": "2026-12", "scope": "*"}).status_code == 200
    assert len(audits(session, "report.monthly.generate")) == 2  # not final: the month runs on


def test_a_county_inspector_sees_only_the_county(
    db: Engine, client: TestClient, session: Session, world: World
) -> None:
    county = signed_in(db, client, "jinjiang", role=Role.INSPECTOR, scope="510104")
    assert county.get(URL, params={"month": MONTH}).json()["scope_code"] == "510104"  # their own by default
    assert county.get(URL, params={"month": MONTH, "scope": "510104-ZWFW"}).status_code == 200
    for outside in ("510000", "510100", "*", "510000-ZWFW", "nowhere"):
        answer = county.get(URL, params={"month": MONTH, "scope": outside})
        assert answer.status_code == 404, outside
        assert "in your jurisdiction" in answer.json()["detail"]
        assert county.get(PDF_URL, params={"month": MONTH, "scope": outside}).status_code == 404
    assert session.scalar(select(func.count()).select_from(MonthlyReport)) == 0


def test_a_department_account_has_no_report(db: Engine, client: TestClient, world: World) -> None:
    clerk = signed_in(db, client, "clerk", role=Role.POST_USER, scope="SCJGJ")
    mine = clerk.get(URL, params={"month": MONTH})
    assert mine.status_code == 422 and "not a department" in mine.json()["detail"]
    assert clerk.get(URL, params={"month": MONTH, "scope": "510000-ZWFW"}).status_code == 404


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"month": "2026-13"}, 422, "2026-11"),
        ({"month": "november"}, 422, "2026-11"),
        ({"month": "2027-01"}, 422, "has not begun"),
        ({"month": "1999-12"}, 422, "between"),
        ({"month": "x" * 30}, 422, "at most 20"),
        ({"month": MONTH, "scope": "SCJGJ"}, 422, "not a department"),
        ({"month": MONTH, "scope": "nowhere"}, 404, "no region or hall"),
        ({"month": MONTH, "scope": "street:510000"}, 422, "unknown scope kind"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    client: TestClient, session: Session, world: World, params: dict[str, str], status: int, words: str
) -> None:
    for url in (URL, PDF_URL):
        answer = client.get(url, params=params)
        assert answer.status_code == status, (url, answer.text)
        assert words in json.dumps(answer.json()), answer.text
    assert audits(session, "report.monthly.download") == []


def test_signing_in_is_needed(anon: TestClient) -> None:
    assert anon.get(URL, params={"month": MONTH}).status_code == 401
    assert anon.get(PDF_URL, params={"month": MONTH}).status_code == 401
