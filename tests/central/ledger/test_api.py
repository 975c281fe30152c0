"""Ledger API (SC-7): filters as query parameters (422 on bad ones), jurisdiction, and audited
CSV / Excel exports (SC-18) read back with the csv module and openpyxl."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.app import create_app
from central.audit.chain import verify
from central.audit.models import AuditEntry
from central.core.config import Settings
from central.ledger.export import HEADERS
from tests.central.ledger.conftest import World
from tests.conftest import FakeClock, login, make_user

NEWEST_FIRST = ["K1", "P3", "P2", "P1", "K2"]


@pytest.fixture
def as_user(db: Engine, settings: Settings, clock: FakeClock, world: World) -> Iterator[TestClient]:
    """A client that the test signs in as whoever it needs (`sign_in(client, username, role, scope)`)."""
    with TestClient(create_app(settings, engine=db, clock=clock)) as c:
        yield c


def sign_in(client: TestClient, db: Engine, username: str, role: Role, scope: str) -> None:
    password = make_user(db, username, role=role, scope=scope)
    client.headers.update(login(client, username, password))


def names(world: World, body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return world.names([item["id"] for item in items])


def test_list_with_filters(client: TestClient, world: World) -> None:
    response = client.get("/api/v1/ledger")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["page"], body["as_of"]) == (5, 1, "2026-11-27")
    assert names(world, body) == NEWEST_FIRST
    first = body["items"][0]
    assert first["kind"] == "signal" and first["color_label"] == "红色纠错"
    assert first["status_label"] == "已办结" and first["finding"] == "fault"

    cases = {
        "color=red": ["K1", "P2"],
        "status=corrected": ["K2"],
        "origin=due_date": ["P3"],
        "reason_code=late_decision": ["P1"],
        "hall=510104-ZWFW": ["K1", "K2"],
        "department=SCGAT": ["P3"],
        "case_no=HW-": ["P2", "P1"],
        "issued_from=2026-11-10&issued_to=2026-11-20": ["P3", "P2"],
        "overdue_investigation=true": ["P2"],
        "color=red&hall=": ["K1", "P2"],  # an empty value is no filter
    }
    for params, expected in cases.items():
        response = client.get(f"/api/v1/ledger?{params}")
        assert response.status_code == 200, (params, response.text)
        assert names(world, response.json()) == expected, params

    paged = client.get("/api/v1/ledger?page=2&page_size=2").json()
    assert (paged["total"], names(world, paged)) == (5, ["P2", "P1"])
    overdue = client.get("/api/v1/ledger?overdue_investigation=true").json()["items"][0]
    assert overdue["investigation_overdue"] is True and overdue["investigation_due"] == "2026-11-20"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("color=purple", "color"),
        ("status=lost", "status"),
        ("origin=rumour", "origin"),
        ("reason_code=no_such_reason", "reason_code"),
        ("issued_from=2026-13-01", "issued_from"),
        ("issued_from=2026-11-20&issued_to=2026-11-01", None),
        ("case_no=HW%25", "case_no"),
        ("case_no=" + "A" * 65, "case_no"),
        ("hall=" + "H" * 41, "hall"),
        ("overdue_investigation=maybe", "overdue_investigation"),
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("colour=red", "colour"),  # a typo is an error, not a silently ignored filter
    ],
)
def test_bad_filters_are_422(client: TestClient, world: World, params: str, field: str | None) -> None:
    for path in ("/api/v1/ledger", "/api/v1/ledger/export?format=csv&"):
        url = f"{path}?{params}" if "?" not in path else f"{path}{params}"
        response = client.get(url)
        assert response.status_code == 422, (url, response.text)
        if field:
            assert any(field in problem["loc"] for problem in response.json()["detail"]), response.text


def test_page_size_limited_by_settings(client: TestClient, world: World, settings: Settings) -> None:
    assert client.get(f"/api/v1/ledger?page_size={settings.page_size_max}").status_code == 200
    response = client.get(f"/api/v1/ledger?page_size={settings.page_size_max + 1}")
    assert response.status_code == 422
    assert str(settings.page_size_max) in response.json()["detail"]


def test_export_needs_a_format_and_a_signed_in_user(
    client: TestClient, anon: TestClient, world: World
) -> None:
    assert client.get("/api/v1/ledger/export").status_code == 422
    assert client.get("/api/v1/ledger/export?format=pdf").status_code == 422
    assert anon.get("/api/v1/ledger/export?format=csv").status_code == 401
    assert anon.get("/api/v1/ledger").status_code == 401


@pytest.mark.parametrize(
    ("username", "role", "scope", "expected"),
    [
        ("county1", Role.INSPECTOR, "region:510104", ["K1", "K2"]),
        ("scgat1", Role.POST_USER, "department:SCGAT", ["P3"]),
        ("hall1", Role.INSPECTOR, "hall:510000-ZWFW", ["P3", "P2", "P1"]),
        ("admin1", Role.SYSADMIN, "region:510000", NEWEST_FIRST),
    ],
)
def test_each_user_sees_only_their_jurisdiction(
    as_user: TestClient, db: Engine, world: World, username: str, role: Role, scope: str, expected: list[str]
) -> None:
    sign_in(as_user, db, username, role, scope)
    assert names(world, as_user.get("/api/v1/ledger").json()) == expected
    # Another jurisdiction's hall or department answers like one with no entries.
    for params in ("hall=510000-ZWFW", "hall=510104-ZWFW", "department=SCJGJ", "department=JJSJ"):
        shown = names(world, as_user.get(f"/api/v1/ledger?{params}").json())
        assert set(shown) <= set(expected), params
    exported = as_user.get("/api/v1/ledger/export?format=csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))[1:]
    assert world.names([int(row[1]) for row in rows]) == expected


def test_csv_export_round_trip(client: TestClient, session: Session, world: World) -> None:
    response = client.get("/api/v1/ledger/export?format=csv&hall=510000-ZWFW")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="ledger-20261127.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM, so Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADERS
    assert rows[0][:5] == ["类别", "编号", "发出时间（北京时间）", "颜色", "原因"]
    body = [dict(zip(HEADERS, row, strict=True)) for row in rows[1:]]
    assert world.names([int(r["编号"]) for r in body]) == ["P3", "P2", "P1"]
    p2 = body[1]
    assert p2["类别"] == "预警纠错"
    assert p2["发出时间（北京时间）"] == "2026-11-10 09:00:00"
    assert (p2["颜色"], p2["原因"], p2["原因代码"]) == ("红色纠错", "超过办理时限（红灯）", "light_red")
    assert (p2["来源"], p2["状态"], p2["办件编号"]) == ("办件亮灯", "调查中", "HW-P2")
    assert (p2["大厅"], p2["部门"]) == ("四川省政务服务中心", "省市场监管局")
    assert (p2["升级时间"], p2["办结时间"]) == ("2026-11-10 09:30:00", "")
    assert (p2["调查报告期限"], p2["调查超期"]) == ("2026-11-20", "是")
    assert (p2["最后动作"], p2["最后动作时间"]) == ("立案调查", "2026-11-10 10:00:00")
    p1 = body[2]
    assert (p1["纠正期限"], p1["调查超期"], p1["调查报告期限"]) == ("2026-11-03", "否", "")


def test_xlsx_export_opens_with_real_dates(client: TestClient, world: World, tmp_path) -> None:
    response = client.get("/api/v1/ledger/export?format=xlsx&color=red")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == 'attachment; filename="ledger-20261127.xlsx"'
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(response.content)
    book = load_workbook(path)
    assert book.sheetnames == ["监察台帐", "导出说明"]
    sheet = book["监察台帐"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["A1"].font.bold
    assert sheet.max_row == 3  # header + K1 + P2
    k1 = {h: c for h, c in zip(HEADERS, sheet[2], strict=True)}
    assert world.names([k1["编号"].value]) == ["K1"]
    issued = k1["发出时间（北京时间）"]
    assert issued.is_date and issued.value == datetime(2026, 11, 25, 9, 0)
    assert k1["办结时间"].value == datetime(2026, 11, 26, 16, 0)
    due = k1["调查报告期限"]
    assert due.is_date and due.value.date() == date(2026, 11, 20) and due.number_format == "yyyy-mm-dd"
    assert (k1["颜色"].value, k1["处理结论"].value, k1["调查超期"].value) == ("红色纠错", "有过错", "否")
    assert k1["升级时间"].value is None
    info = {row[0].value: row[1].value for row in book["导出说明"].iter_rows(min_row=2)}
    assert info["导出人"].startswith("root")
    assert info["导出时间"] == "2026-11-27 10:00:00（北京时间）"
    assert info["辖区"] == "*" and info["筛选：颜色"] == "红色纠错" and info["记录条数"] == "2"


def test_exports_are_audited(client: TestClient, session: Session, world: World) -> None:
    assert client.get("/api/v1/ledger?color=red").status_code == 200  # reading a page is not an export
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.export")).all() == []
    client.get("/api/v1/ledger/export?format=xlsx&color=red&overdue_investigation=1")
    client.get("/api/v1/ledger/export?format=csv")
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ledger.export").order_by(AuditEntry.seq)
    ).all()
    assert [(e.actor, e.target_type, e.target_id) for e in entries] == [
        ("user:root", "ledger", "ledger-20261127.xlsx"),
        ("user:root", "ledger", "ledger-20261127.csv"),
    ]
    assert [json.loads(e.after or "null") for e in entries] == [
        {
            "format": "xlsx",
            "filters": {"jurisdiction": "*", "color": "red", "overdue_investigation": True},
            "rows": 1,
        },
        {"format": "csv", "filters": {"jurisdiction": "*"}, "rows": 5},
    ]
    assert verify(session).ok


def test_text_that_looks_like_a_formula_is_not_run(
    client: TestClient, session: Session, world: World, tmp_path
) -> None:
    from central.registry.models import Hall

    hall = session.scalar(select(Hall).where(Hall.code == "510104-ZWFW"))
    assert hall is not None
    hall.name = '=HYPERLINK("http://evil")'
    session.commit()
    csv_text = client.get("/api/v1/ledger/export?format=csv&hall=510104-ZWFW").content.decode("utf-8-sig")
    assert {row[9] for row in list(csv.reader(io.StringIO(csv_text)))[1:]} == {'\'=HYPERLINK("http://evil")'}
    path = tmp_path / "l.xlsx"
    path.write_bytes(client.get("/api/v1/ledger/export?format=xlsx&hall=510104-ZWFW").content)
    cell = load_workbook(path)["监察台帐"]["J2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil")'
