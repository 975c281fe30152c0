"""The complaint API end to end on both databases: a named complaint from its receipt to its outcome
(decided, passed down as an investigation, reported, closed), an anonymous one, a refused one with
its reasons; who may read it in full and who masked; who may act on it; every step audited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.audit.models import AuditEntry
from central.audit.verify import verify
from central.complaints.models import Complaint
from tests.central.complaints.helpers import PUBLIC, STAFF, make_users, pdf, png, send, signed_in
from tests.conftest import FakeClock


class People:
    """Each user's Authorization header, signed in again when the test moves the clock."""

    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client, self.clock, self.tokens = client, clock, {}

    def __getitem__(self, name: str) -> dict[str, str]:
        key = (name, self.clock.now.date())
        if key not in self.tokens:
            self.tokens[key] = signed_in(self.client, name)
        return self.tokens[key]


@pytest.fixture
def people(anon: TestClient, db: Engine, registry: dict[str, int], clock: FakeClock) -> People:
    clock.set_shanghai(2026, 9, 30, 10)  # the day before National Day: 1..7 October are holidays
    make_users(db, clock())
    return People(anon, clock)


def _status(client: TestClient, number: str, password: str) -> dict:
    answer = client.post(f"{PUBLIC}/status", json={"number": number, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_named_complaint_from_receipt_to_outcome(
    anon: TestClient, people: People, session: Session, clock: FakeClock
) -> None:
    sent = send(anon, files=[("窗口照片.png", png(), "image/png"), ("receipt.pdf", pdf(), "application/pdf")])
    assert sent.status_code == 201, sent.text
    receipt = sent.json()
    assert re.fullmatch(r"TS20260930\d{6}", receipt["number"]) and re.fullmatch(r"\d{6}", receipt["password"])
    # 5 working days across National Day: 8, 9, 10 (a working Saturday), 12, 13 October.
    assert receipt["decide_by"] == "2026-10-13"
    stored = session.scalars(select(Complaint)).one()
    assert receipt["password"] not in stored.query_password_digest

    listed = anon.get(STAFF, headers=people["inspector"]).json()
    assert listed["total"] == 1
    complaint_id = listed["items"][0]["id"]
    _who_reads_and_acts(anon, people, complaint_id)
    decide = {"accept": True, "reasons": "符合受理条件"}

    clock.set_shanghai(2026, 10, 9, 9)
    accepted = anon.post(f"{STAFF}/{complaint_id}/decision", headers=people["inspector"], json=decide)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = anon.post(f"{STAFF}/{complaint_id}/decision", headers=people["inspector"], json=decide)
    assert again.status_code == 409
    assert _status(anon, receipt["number"], receipt["password"])["status_label"] == "已受理，处理中"

    # Passed down like an investigation (SC-9: 15 working days), reported, then closed.
    assigned = anon.post(
        f"{STAFF}/{complaint_id}/assign",
        headers=people["inspector"],
        json={"assignee_scope": "department:SCJGJ"},
    )
    assert assigned.status_code == 200, assigned.text
    investigation = assigned.json()["investigation"]
    assert investigation["assignee_scope"] == "SCJGJ" and investigation["due_date"] == "2026-10-29"
    close = {"findings": "经调阅录像，情况属实", "reply": "已责成窗口整改并向您致歉", "upheld": True}
    early = anon.post(f"{STAFF}/{complaint_id}/close", headers=people["inspector"], json=close)
    assert early.status_code == 409 and "not reported" in early.text
    report = {"report": "经调阅录像，工作人员未一次性告知补正材料", "finding": "fault"}
    reported = anon.post(
        f"/api/v1/investigations/{investigation['id']}/report", headers=people["inspector"], json=report
    )
    assert reported.status_code == 200, reported.text
    clock.set_shanghai(2026, 10, 20, 15)
    closed = anon.post(f"{STAFF}/{complaint_id}/close", headers=people["inspector"], json=close)
    assert closed.status_code == 200 and closed.json()["outcome_label"] == "投诉属实"

    public = _status(anon, receipt["number"], receipt["password"])
    assert (
        public["status"] == "closed" and public["outcome"] == "投诉属实" and public["reply"] == close["reply"]
    )
    assert "张三明" not in str(public) and "13800138000" not in str(public)

    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_type == "complaint").order_by(AuditEntry.seq)
    ).all()
    assert actions == ["complaint.receive", "complaint.accept", "complaint.assign", "complaint.close"]
    texts = " ".join(str(e.after) for e in session.scalars(select(AuditEntry)).all())
    assert "张三明" not in texts and "13800138000" not in texts  # personal data stays in the row
    assert verify(session).ok


def _who_reads_and_acts(anon: TestClient, people: People, complaint_id: int) -> None:
    """The inspectors over the hall read it in full and open its attachments; the clerk of the
    department complained about and the administrator read it masked; outside the jurisdiction it
    does not exist; inside, only the inspectors over the hall act on it."""
    full = anon.get(f"{STAFF}/{complaint_id}", headers=people["inspector"]).json()
    assert (full["complainant_name"], full["complainant_phone"], full["masked"]) == (
        "张三明",
        "13800138000",
        False,
    )
    assert (
        full["staff"] == "张三(S001)"
        and full["department_code"] == "SCJGJ"
        and full["working_days_left"] == 5
    )
    assert [a["filename"] for a in full["attachments"]] == ["窗口照片.png", "receipt.pdf"]
    for reader in ("clerk", "admin"):
        masked = anon.get(f"{STAFF}/{complaint_id}", headers=people[reader]).json()
        assert (masked["complainant_name"], masked["complainant_phone"], masked["masked"]) == (
            "张*明",
            "138****8000",
            True,
        )
        assert [a["filename"] for a in masked["attachments"]] == ["附件 1", "附件 2"]
    first = full["attachments"][0]["id"]
    image = anon.get(f"{STAFF}/{complaint_id}/attachments/{first}", headers=people["inspector"])
    assert (
        image.status_code == 200 and image.content == png() and image.headers["content-type"] == "image/png"
    )
    assert anon.get(f"{STAFF}/{complaint_id}/attachments/{first}", headers=people["clerk"]).status_code == 403
    assert anon.get(f"{STAFF}/{complaint_id}", headers=people["county-inspector"]).status_code == 404
    decide = {"accept": True, "reasons": "符合受理条件"}
    assert (
        anon.post(f"{STAFF}/{complaint_id}/decision", headers=people["clerk"], json=decide).status_code == 403
    )
    assert (
        anon.post(
            f"{STAFF}/{complaint_id}/decision", headers=people["county-inspector"], json=decide
        ).status_code
        == 404
    )


def test_an_anonymous_complaint_keeps_no_name(anon: TestClient, people: People, session: Session) -> None:
    sent = send(
        anon, anonymous="true", name="李四", phone="13900139000", about="window", window="W01", staff=None
    )
    assert sent.status_code == 201, sent.text
    stored = session.scalars(select(Complaint)).one()
    assert stored.anonymous and stored.complainant_name is None and stored.complainant_phone is None
    assert stored.window_id is not None and stored.staff_id is None
    read = anon.get(f"{STAFF}/{stored.id}", headers=people["inspector"]).json()
    assert read["anonymous"] and read["complainant_name"] is None
    status = _status(anon, sent.json()["number"], sent.json()["password"])
    assert status["status"] == "received" and status["decide_by"] == "2026-10-13"


def test_a_refused_complaint_gives_its_reasons(anon: TestClient, people: People) -> None:
    sent = send(anon, about="department", department="SCJGJ", staff=None)
    assert sent.status_code == 201, sent.text
    complaint_id = anon.get(STAFF, headers=people["inspector"]).json()["items"][0]["id"]
    bare = anon.post(f"{STAFF}/{complaint_id}/decision", headers=people["inspector"], json={"accept": False})
    assert bare.status_code == 422 and "理由" in bare.text
    reasons = "投诉事项已进入行政复议程序，依法不属于电子监察投诉受理范围"
    refused = anon.post(
        f"{STAFF}/{complaint_id}/decision",
        headers=people["inspector"],
        json={"accept": False, "reasons": reasons},
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    public = _status(anon, sent.json()["number"], sent.json()["password"])
    assert public["status_label"] == "不予受理" and public["refusal_reasons"] == reasons
    closing = anon.post(
        f"{STAFF}/{complaint_id}/close",
        headers=people["inspector"],
        json={"findings": "xx", "reply": "yy", "upheld": False},
    )
    assert closing.status_code == 409


def test_a_wrong_password_and_an_unknown_number_are_the_same_404(anon: TestClient, people: People) -> None:
    receipt = send(anon).json()
    wrong = "000000" if receipt["password"] != "000000" else "111111"
    a = anon.post(f"{PUBLIC}/status", json={"number": receipt["number"], "password": wrong})
    b = anon.post(f"{PUBLIC}/status", json={"number": "TS20260930999999", "password": wrong})
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    for _ in range(4):  # five failures from one address lock it out of that number
        anon.post(f"{PUBLIC}/status", json={"number": receipt["number"], "password": wrong})
    locked = anon.post(
        f"{PUBLIC}/status", json={"number": receipt["number"], "password": receipt["password"]}
    )
    assert locked.status_code == 429 and "Retry-After" in locked.headers


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"about": "case", "staff": None}, "办件编号"),
        ({"about": "case", "case_no": "NO-SUCH-CASE"}, "没有编号为“NO-SUCH-CASE”的办件"),
        ({"staff": "S999"}, "没有工号为“S999”"),
        ({"hall": "510104-ZWFW"}, "没有工号为“S001”"),  # the clerk works in another hall
        ({"name": None}, "实名投诉请填写姓名"),
        ({"content": "太慢"}, "投诉内容至少 10 个字"),
        ({"phone": "call me"}, "联系电话格式不正确"),
        ({"hall": "NOPE"}, "没有编号为“NOPE”的服务中心"),
    ],
)
def test_bad_complaints_are_refused_in_chinese(
    anon: TestClient, people: People, session: Session, fields: dict, message: str
) -> None:
    answer = send(anon, **fields)
    assert answer.status_code == 422 and message in answer.json()["detail"], answer.text
    assert session.scalars(select(Complaint)).first() is None
