"""Complaints from a hall's kiosk (issue 18 item 1): the display agent forwards them with its device
key, so central records the kiosk's channel and hall (the audit entry names the device), counts them
per kiosk against a larger number than an address's (everyone in the hall shares the kiosk; a run
of complaints from it still stops), keeps the question, and refuses another hall, attachments, and a
key that is not a display's. The form's choices (the hall's windows and departments). Both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.audit.models import AuditEntry
from central.complaints.models import Complaint
from central.core.actor import Actor
from central.core.config import Settings
from central.devices.keys import issue_key
from central.registry.models import Device
from tests.central.complaints.helpers import PUBLIC, png, send
from tests.conftest import FakeClock


def _device_key(db: Engine, clock: FakeClock, *, hall_id: int, code: str, kind: str = "display") -> str:
    with Session(db) as s:
        device = Device(code=code, kind=kind, name="大厅触摸屏", hall_id=hall_id)
        s.add(device)
        s.flush()
        key = issue_key(s, device=device, now=clock(), issued_by=None, actor=Actor("cli", "tests")).key
        s.commit()
    return key


@pytest.fixture
def kiosk_app(
    db: Engine, settings: Settings, clock: FakeClock, registry: dict[str, int]
) -> Iterator[TestClient]:
    """An address may send 1 complaint in a row, a kiosk 3."""
    clock.set_shanghai(2026, 9, 30, 10)
    tight = settings.model_copy(
        update={"complaint_submissions_per_hour": 1, "complaint_kiosk_submissions_per_hour": 3}
    )
    with TestClient(create_app(tight, engine=db, clock=clock)) as client:
        yield client


def test_a_kiosk_is_counted_as_one_kiosk_not_as_one_address(
    kiosk_app: TestClient, db: Engine, clock: FakeClock, registry: dict[str, int], session: Session
) -> None:
    kiosk = {"X-Device-Key": _device_key(db, clock, hall_id=registry["hall"], code="KIOSK-1")}
    other = {"X-Device-Key": _device_key(db, clock, hall_id=registry["hall"], code="KIOSK-2")}
    # More than one address may send (its number is 1), each with its own answered question.
    assert [send(kiosk_app, headers=kiosk).status_code for _ in range(2)] == [201, 201]
    wrong = send(kiosk_app, headers=kiosk, answer="999")  # refused, and not counted
    assert wrong.status_code == 400 and wrong.json()["detail"] == "验证题答案不正确，请重新作答。"
    assert send(kiosk_app, headers=kiosk).status_code == 201
    fourth = send(kiosk_app, headers=kiosk)  # a run from one kiosk stops, as an address's does
    assert fourth.status_code == 429
    assert re.fullmatch(r"本触摸屏提交过于频繁，请 6[01] 分钟后再试。", fourth.json()["detail"])
    assert int(fourth.headers["Retry-After"]) > 3000
    # Neither the hall's other kiosk nor anyone's address is held by it.
    assert send(kiosk_app, headers=other).status_code == 201
    assert send(kiosk_app).status_code == 201
    assert send(kiosk_app).status_code == 429  # the address's own number (1) still holds
    clock.advance(hours=1, minutes=1)
    assert send(kiosk_app, headers=kiosk).status_code == 201

    rows = session.scalars(select(Complaint).order_by(Complaint.id)).all()
    assert [(r.channel, r.hall.code) for r in rows] == [("kiosk", "510000-ZWFW")] * 4 + [
        ("online", "510000-ZWFW"),
        ("kiosk", "510000-ZWFW"),
    ]
    received = session.scalars(
        select(AuditEntry.actor).where(AuditEntry.action == "complaint.receive").order_by(AuditEntry.seq)
    ).all()
    assert received == ["device:KIOSK-1"] * 3 + ["device:KIOSK-2", "anonymous:complainant", "device:KIOSK-1"]


def test_a_kiosk_speaks_for_its_own_hall_only_and_sends_no_files(
    kiosk_app: TestClient, db: Engine, clock: FakeClock, registry: dict[str, int], session: Session
) -> None:
    kiosk = {"X-Device-Key": _device_key(db, clock, hall_id=registry["hall"], code="KIOSK-1")}
    elsewhere = send(kiosk_app, headers=kiosk, hall="510104-ZWFW", about="hall", staff=None)
    assert elsewhere.status_code == 403
    assert elsewhere.json()["detail"] == "本触摸屏只能提交对本服务中心的投诉。"
    with_file = send(kiosk_app, headers=kiosk, files=[("photo.png", png(), "image/png")])
    assert with_file.status_code == 422 and "不能附带附件" in with_file.json()["detail"]
    camera = {"X-Device-Key": _device_key(db, clock, hall_id=registry["hall"], code="EDGE-1", kind="edge")}
    not_a_display = send(kiosk_app, headers=camera)
    assert not_a_display.status_code == 403 and "触摸屏" in not_a_display.json()["detail"]
    forged = send(kiosk_app, headers={"X-Device-Key": "hwk_nothing_real"})
    assert forged.status_code == 401
    assert session.scalars(select(Complaint)).all() == []
    # Its own hall still goes through (none of the refusals spent its count).
    assert send(kiosk_app, headers=kiosk, about="window", staff=None, window="W01").status_code == 201


def test_the_forms_choices_are_the_halls_windows_and_departments(
    kiosk_app: TestClient, registry: dict[str, int]
) -> None:
    answer = kiosk_app.get(f"{PUBLIC}/choices", params={"hall": "510000-ZWFW"})
    assert answer.status_code == 200
    assert answer.json() == {
        "hall": "510000-ZWFW",
        "hall_name": "四川省政务服务中心",
        "windows": [{"code": "W01", "name": "1号窗口", "department": "省市场监管局"}],
        "departments": [{"code": "SCJGJ", "name": "省市场监管局", "department": None}],
    }
    assert kiosk_app.get(f"{PUBLIC}/choices", params={"hall": "NOWHERE"}).status_code == 404
    assert kiosk_app.get(f"{PUBLIC}/choices").status_code == 422
