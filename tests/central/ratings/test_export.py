"""The national 好差评 export (RULES "Satisfaction ratings"): CSV (UTF-8 with BOM, formulas defused)
and Excel read back with the right fields, inside the caller's jurisdiction, audited."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.audit.models import AuditEntry
from central.ratings.export import HEADERS
from tests.central.ratings.followup_world import World, add_november, build_world

URL = "/api/v1/ratings/export"
NATIONAL = [
    "办件编号",
    "事项编码",
    "部门编码",
    "行政区划代码",
    "评价渠道",
    "评价等级",
    "评价内容",
    "被评价人员工号",
    "评价时间（北京时间）",
]


@pytest.fixture
def world(client: TestClient, db: Engine, session: Session, registry: dict[str, int]) -> World:
    return build_world(client, db, session, registry)


@pytest.fixture
def ratings(client: TestClient, session: Session, world: World) -> dict[str, int]:
    return add_november(client, session, world)


def test_csv_has_the_national_fields(client: TestClient, session: Session, ratings: dict[str, int]) -> None:
    response = client.get(f"{URL}?format=csv&from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="ratings-20261101-20261130.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese right
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == HEADERS and all(name in HEADERS for name in NATIONAL)
    assert [int(row["评价编号"]) for row in rows] == [
        ratings[n] for n in ("r1", "r2", "r3", "r4", "r5", "c1", "c2", "p")
    ]
    first = rows[0]
    assert (first["办件编号"], first["事项编码"], first["事项名称"]) == (
        "HW-F1",
        "SCJGJ-XK-001",
        "食品经营许可",
    )
    assert (first["部门编码"], first["部门名称"], first["行政区划代码"]) == (
        "SCJGJ",
        "省市场监管局",
        "510000",
    )
    assert (first["评价渠道代码"], first["评价渠道"], first["评价等级"], first["评价等级名称"]) == (
        "window_device",
        "窗口评价器",
        "5",
        "非常满意",
    )
    assert first["评价内容"] == "'=很好"  # a leading = never runs as a formula
    assert (first["被评价人员工号"], first["被评价人员姓名"], first["评价时间（北京时间）"]) == (
        "S001",
        "张三",
        "2026-11-02 09:00:00",
    )
    county = rows[6]
    assert (county["行政区划代码"], county["部门编码"], county["权重"], county["突发连按"]) == (
        "510104",
        "JJSJ",
        "0.25",
        "是",
    )
    nowhere = rows[7]
    assert (nowhere["办件编号"], nowhere["部门编码"], nowhere["被评价人员工号"]) == ("", "", "")

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ratings.export")).one()
    assert entry.actor == "user:root" and entry.target_id == "ratings-20261101-20261130.csv"
    assert '"rows":8' in (entry.after or "")


def test_xlsx_reads_back_and_excluded_ratings_are_marked_or_left_out(
    client: TestClient, world: World, ratings: dict[str, int]
) -> None:
    asked = client.post(
        f"/api/v1/ratings/{ratings['r5']}/exclusion", json={"reason": "恶意差评"}, auth=world.people["clerk"]
    )
    approved = client.post(f"/api/v1/approvals/{asked.json()['id']}/approve", auth=world.people["inspector"])
    assert approved.status_code == 200

    response = client.get(f"{URL}?format=xlsx&from=2026-11-01&to=2026-11-30", auth=world.people["clerk"])
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["好差评记录"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    rows = [
        dict(zip(HEADERS, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert [row["评价编号"] for row in rows] == [
        ratings[n] for n in ("r1", "r2", "r3", "r4", "r5")
    ]  # the clerk's
    assert rows[0]["评价等级"] == 5 and rows[0]["评价内容"] == "=很好"  # a text cell, not a formula
    assert sheet.cell(row=2, column=HEADERS.index("评价内容") + 1).data_type == "s"
    assert isinstance(sheet.cell(row=2, column=HEADERS.index("评价时间（北京时间）") + 1).value, datetime)
    assert rows[4]["已剔除"] == "是" and rows[4]["剔除审批编号"] == asked.json()["id"]
    assert rows[2]["权重"] == 0.25 and rows[2]["突发连按"] == "是"
    info = {str(row[0].value): str(row[1].value) for row in book["导出说明"].iter_rows(min_row=2)}
    assert info["导出人"].startswith("clerk") and info["评价日期"] == "2026-11-01 至 2026-11-30"

    omitted = client.get(
        f"{URL}?format=csv&from=2026-11-01&to=2026-11-30&include_excluded=false", auth=world.people["clerk"]
    )
    ids = [int(row["评价编号"]) for row in csv.DictReader(io.StringIO(omitted.content.decode("utf-8-sig")))]
    assert ids == [ratings[n] for n in ("r1", "r2", "r3", "r4")]


def test_bad_export_parameters_are_422(client: TestClient, ratings: dict[str, int]) -> None:
    for bad in ("format=pdf", "", "format=csv&from=2026-12-01&to=2026-11-01", "format=csv&to=2026-13-01"):
        assert client.get(f"{URL}?{bad}").status_code == 422, bad
