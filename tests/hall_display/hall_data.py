"""Sample public data of one hall for the page tests, built through the wire models
(common/public_feed.py) so it has exactly the shapes central sends. Names are already masked, as
central's masking leaves them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from common.public_feed import (
    CaseTimeline,
    Catalog,
    CatalogItem,
    FeedSnapshot,
    HallInfo,
    HallRef,
    HallSummary,
    InfoSection,
    Light,
    Notice,
    PublicCase,
    TimelineStep,
)
from tests.hall_display.page_server import HallData

HALL = HallRef(code="WH01", name="武侯区政务服务中心")
TODAY = date(2026, 3, 5)
NOW = datetime(2026, 3, 5, 1, 41, tzinfo=UTC)  # 09:41 in Shanghai
ITEMS = [
    ("不动产登记", "不动产登记中心"),
    ("营业执照核发", "市场监督管理局"),
    ("建设工程规划许可", "规划和自然资源局"),
    ("食品经营许可", "市场监督管理局"),
    ("社会保障卡补办", "人力资源和社会保障局"),
]
APPLICANTS = ["张*明", "李*", "王*华", "成都天**有限公司", "赵*"]
STAGES = ["受理", "承办中", "审核中", "待领证"]
PASSWORD = "246810"


def case(
    number: int,
    *,
    light: Light | None = "green",
    due: date | None = None,
    stage: str | None = None,
    closed_on: date | None = None,
) -> PublicCase:
    item, department = ITEMS[number % len(ITEMS)]
    return PublicCase(
        case_no=f"SC-2026-{number:06d}",
        item=item,
        department=department,
        window=f"{number % 12 + 1}号窗口",
        staff=f"王芳(A{1000 + number % 50})",
        applicant=APPLICANTS[number % len(APPLICANTS)],
        status="closed" if closed_on else "in_progress",
        stage=stage or ("已办结" if closed_on else STAGES[number % len(STAGES)]),
        accepted_on=TODAY - timedelta(days=number % 9),
        due_date=due or TODAY + timedelta(days=number % 20 + 1),
        light=None if closed_on else light,
        closed_on=closed_on,
        updated_at=NOW,
    )


def summary(**counts: Any) -> HallSummary:
    values: dict[str, Any] = {
        "day": TODAY,
        "received": 37,
        "completed": 21,
        "overdue": 2,
        "open": 58,
        "ratings": 16,
        "satisfied": 15,
        "satisfaction": 15 / 16,
    }
    return HallSummary(**(values | counts))


def snapshot(cases: list[PublicCase], *, last_event_id: int = 10) -> FeedSnapshot:
    return FeedSnapshot(
        hall=HALL,
        last_event_id=last_event_id,
        generated_at=NOW,
        cases=cases,
        summary=summary(),
        notices=[
            Notice(id=1, text="本大厅实行延时服务，工作日中午不休息。"),
            Notice(id=2, text="请妥善保管受理回执上的查询密码。"),
        ],
    )


def catalog() -> Catalog:
    return Catalog(
        hall=HALL,
        items=[
            CatalogItem(
                code="510107-001",
                name="不动产登记",
                department="不动产登记中心",
                legal_limit_days=30,
                promised_limit_days=5,
                fee="80.00",
                basis="《不动产登记暂行条例》第二十条",
                conditions="申请人为不动产权利人或其代理人。",
                materials=["不动产登记申请书", "申请人身份证明", "不动产权属证书"],
            ),
            CatalogItem(
                code="510107-002",
                name="营业执照核发",
                department="市场监督管理局",
                legal_limit_days=15,
                promised_limit_days=3,
                fee="0.00",
                basis="《市场主体登记管理条例》",
                conditions=None,
                materials=["登记申请书", "公司章程"],
            ),
            CatalogItem(
                code="510107-003",
                name="食品经营许可",
                department="市场监督管理局",
                legal_limit_days=20,
                promised_limit_days=None,
                fee="0.00",
                materials=[],
            ),
        ],
    )


def info() -> HallInfo:
    return HallInfo(
        hall=HALL,
        address="武侯区大厅路 1 号",
        sections=[
            InfoSection(title="办事须知", text="请按号排队，留意叫号屏。\n办理前请备齐申请材料。"),
            InfoSection(title="投诉方式", text="投诉电话 12345，或到一楼监察室当面投诉。"),
        ],
    )


def timeline(open_case: PublicCase) -> CaseTimeline:
    return CaseTimeline(
        case=open_case,
        legal_due_date=TODAY + timedelta(days=30),
        promised_limit_days=5,
        legal_limit_days=30,
        extension_days=0,
        steps=[
            TimelineStep(at=NOW - timedelta(days=2), label="受理", window="3号窗口", staff="王芳(A1023)"),
            TimelineStep(at=NOW - timedelta(days=1), label="承办", window=None, staff="李强(A1088)"),
        ],
    )


def hall_data(cases: list[PublicCase], *, idle_seconds: int = 60, kind: str = "tv") -> HallData:
    config = {
        "hall": HALL.code,
        "hall_name": HALL.name,
        "kind": kind,
        "led": {"width": 384, "height": 64, "speed_px_per_second": 80, "font_px": 48},
        "kiosk": {"idle_seconds": idle_seconds},
    }
    timelines = {(c.case_no, PASSWORD): timeline(c) for c in cases[:1]}
    return HallData(config, snapshot(cases), catalog(), info(), timelines)


def open_cases() -> list[PublicCase]:
    """Six open cases (one red, one yellow) and one closed today."""
    cases = [case(n) for n in range(1, 5)]
    cases.append(case(5, light="yellow", due=TODAY + timedelta(days=1)))
    cases.append(case(6, light="red", due=TODAY - timedelta(days=1)))
    cases.append(case(7, closed_on=TODAY))
    return cases
