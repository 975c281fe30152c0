"""Feed data for the display tests, in the wire contract's shapes (common.public_feed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from common.public_feed import (
    Catalog,
    CatalogItem,
    FeedSnapshot,
    HallInfo,
    HallRef,
    HallSummary,
    InfoSection,
    Notice,
    PublicCase,
    SnapshotReason,
)

HALL = "510000-ZWFW"
HALL_REF = HallRef(code=HALL, name="四川省政务服务中心")
AT = datetime(2026, 5, 11, 2, 0, tzinfo=UTC)


def case(number: int, *, stage: str = "承办中", light: str | None = "green") -> PublicCase:
    return PublicCase.model_validate(
        {
            "case_no": f"SC2026{number:06d}",
            "item": "个体工商户设立登记",
            "department": "市场监管局",
            "window": "3号窗口",
            "staff": "王芳(A1023)",
            "applicant": "张*明",
            "status": "accepted",
            "stage": stage,
            "accepted_on": "2026-05-11",
            "due_date": "2026-05-18",
            "light": light,
            "updated_at": AT.isoformat(),
        }
    )


def summary(received: int = 3) -> HallSummary:
    return HallSummary(
        day=date(2026, 5, 11),
        received=received,
        completed=1,
        overdue=0,
        open=received - 1,
        ratings=2,
        satisfied=2,
        satisfaction=1.0,
    )


def snapshot(
    last_event_id: int, cases: list[PublicCase], *, reason: SnapshotReason = "start", hall: HallRef = HALL_REF
) -> FeedSnapshot:
    return FeedSnapshot(
        hall=hall,
        last_event_id=last_event_id,
        generated_at=AT,
        reason=reason,
        cases=cases,
        summary=summary(),
        notices=[Notice(id=1, text="本中心周六上午正常办公")],
    )


def catalog(hall: HallRef = HALL_REF) -> Catalog:
    item = CatalogItem(
        code="SC-001",
        name="个体工商户设立登记",
        department="市场监管局",
        legal_limit_days=15,
        promised_limit_days=3,
        fee="0.00",
        materials=["身份证明", "经营场所证明"],
    )
    return Catalog(hall=hall, items=[item])


def info(hall: HallRef = HALL_REF) -> HallInfo:
    return HallInfo(
        hall=hall,
        address="成都市天府大道",
        sections=[InfoSection(title="投诉方式", text="拨打12345或到监察室")],
    )
