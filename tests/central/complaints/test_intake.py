"""What a complaint may carry and who may send it: attachments checked by their bytes (those that
lie about their type refused with a clear zh-CN 4xx, nothing stored), the signed question (one try
per token, forged and expired ones refused), the per-address count. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.complaints.guard import challenge_secret, new_challenge
from central.complaints.models import Complaint, ComplaintAttachment
from central.core.config import Settings
from tests.central.complaints.helpers import PUBLIC, challenge, form, jpeg, pdf, png, png_claiming, send
from tests.conftest import FakeClock

HTML = b"<!doctype html><script>alert(1)</script>"
GOOD = [
    ("photo.jpg", jpeg(), "image/jpeg"),
    ("screen.png", png(), "image/png"),
    ("letter.pdf", pdf(), "application/pdf"),
]


@pytest.fixture
def hall(registry: dict[str, int], clock: FakeClock) -> None:
    clock.set_shanghai(2026, 9, 30, 10)


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Complaint)) or 0


def test_images_and_pdfs_are_kept_with_their_digest(anon: TestClient, hall: None, session: Session) -> None:
    sent = send(anon, files=GOOD)
    assert sent.status_code == 201, sent.text
    stored = session.scalars(select(ComplaintAttachment).order_by(ComplaintAttachment.id)).all()
    assert [(a.filename, a.media_type) for a in stored] == [
        ("photo.jpg", "image/jpeg"),
        ("screen.png", "image/png"),
        ("letter.pdf", "application/pdf"),
    ]
    assert all(
        a.data == content and a.size_bytes == len(content)
        for a, (_n, content, _t) in zip(stored, GOOD, strict=True)
    )
    assert len({a.sha256 for a in stored}) == 3 and all(len(a.sha256) == 64 for a in stored)


TRUNCATED_JPEG = jpeg(400, 300)[:600]
LIARS = [
    pytest.param("photo.jpg", HTML, "image/jpeg", 415, "类型不受支持", id="html-called-jpeg"),
    pytest.param(
        "photo.png", b"MZ\x90\x00" + b"\0" * 200, "image/png", 415, "类型不受支持", id="exe-called-png"
    ),
    pytest.param(
        "scan.pdf",
        png(),
        "application/pdf",
        415,
        "与其文件名或声明的类型（PDF 文件）不符",
        id="png-called-pdf",
    ),
    pytest.param("photo.jpg", pdf(), "image/jpeg", 415, "不符", id="pdf-called-jpeg"),
    pytest.param("image", png(), "image/jpeg", 415, "不符", id="png-declared-jpeg"),
    pytest.param(
        "photo.jpg", TRUNCATED_JPEG, "image/jpeg", 415, "无法作为JPEG 图片读取", id="truncated-jpeg"
    ),
    pytest.param(
        "a.pdf",
        b"%PDF-1.7\n%fake\nnothing else",
        "application/pdf",
        415,
        "不是完整有效的 PDF",
        id="pdf-no-trailer",
    ),
    pytest.param(
        "a.pdf",
        b"%PDF-1.4\n" + b"x" * 50 + b"\nstartxref\n999999\n%%EOF\n",
        "application/pdf",
        415,
        "PDF",
        id="pdf-xref-outside",
    ),
    pytest.param(
        "big.png", png_claiming(10_000, 10_000), "image/png", 413, "图片过大", id="claims-100-megapixels"
    ),
    pytest.param(
        "bomb.png", png_claiming(100_000, 100_000), "image/png", 413, "图片过大", id="decompression-bomb"
    ),
    pytest.param("empty.png", b"", "image/png", 400, "空文件", id="empty"),
]


@pytest.mark.parametrize(("name", "content", "declared", "status", "message"), LIARS)
def test_attachments_that_lie_about_their_type_are_refused(
    anon: TestClient,
    hall: None,
    session: Session,
    name: str,
    content: bytes,
    declared: str,
    status: int,
    message: str,
) -> None:
    answer = send(anon, files=[("ok.png", png(), "image/png"), (name, content, declared)])
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]
    assert _count(session) == 0  # all or nothing


def test_size_and_count_limits_come_from_the_settings(
    db: Engine, settings: Settings, clock: FakeClock, hall: None, session: Session
) -> None:
    small = settings.model_copy(
        update={"complaint_attachment_max_bytes": 2048, "complaint_attachments_max": 2}
    )
    with TestClient(create_app(small, engine=db, clock=clock)) as client:
        too_big = send(client, files=[("big.jpg", jpeg(400, 300), "image/jpeg")])
        assert too_big.status_code == 413 and "每个附件最大 2 KB" in too_big.json()["detail"]
        too_many = send(client, files=[(f"{i}.png", png(), "image/png") for i in range(3)])
        assert too_many.status_code == 400 and "最多 2 个" in too_many.json()["detail"]
        assert send(client, files=[("a.png", png(), "image/png")] * 2).status_code == 201
    assert _count(session) == 1


def test_the_question_is_answered_once_per_token(anon: TestClient, hall: None, session: Session) -> None:
    asked = challenge(anon)
    wrong = str(int(asked["answer"]) + 1)
    refused = anon.post(PUBLIC, data={**form(), "challenge": asked["challenge"], "answer": wrong})
    assert refused.status_code == 400 and "答案不正确" in refused.json()["detail"]
    # The token is spent: the right answer to it now is refused too (one token, one try).
    again = anon.post(PUBLIC, data={**form(), **asked})
    assert again.status_code == 400 and "已使用" in again.json()["detail"]
    fresh = challenge(anon)
    assert anon.post(PUBLIC, data={**form(), **fresh}).status_code == 201
    replay = anon.post(PUBLIC, data={**form(), **fresh})
    assert replay.status_code == 400 and "已使用" in replay.json()["detail"]
    assert _count(session) == 1


def test_forged_and_expired_questions_are_refused(
    anon: TestClient, settings: Settings, clock: FakeClock, hall: None
) -> None:
    asked = challenge(anon)
    nonce, expires, token_mac, answer_mac = asked["challenge"].split(".")
    forged = f"{nonce}.{int(expires) + 86400}.{token_mac}.{answer_mac}"  # a longer life, unsigned
    for token in (forged, "x", "全角．token", "a" * 24 + ".99999999999.x.y"):
        answer = anon.post(PUBLIC, data={**form(), "challenge": token, "answer": asked["answer"]})
        assert answer.status_code == 400 and "验证题无效" in answer.json()["detail"], token
    old = new_challenge(
        secret=challenge_secret(settings), now=clock() - timedelta(hours=2), ttl=timedelta(minutes=30)
    )
    expired = anon.post(PUBLIC, data={**form(), "challenge": old.token, "answer": "1"})
    assert expired.status_code == 400 and "已过期" in expired.json()["detail"]


def test_one_address_sends_a_few_complaints_then_waits_an_hour(
    db: Engine, settings: Settings, clock: FakeClock, hall: None
) -> None:
    few = settings.model_copy(update={"complaint_submissions_per_hour": 2})
    with TestClient(create_app(few, engine=db, clock=clock)) as client:
        assert [send(client).status_code for _ in range(2)] == [201, 201]
        third = send(client)
        assert third.status_code == 429 and "提交过于频繁" in third.json()["detail"]
        assert int(third.headers["Retry-After"]) > 3000
        clock.advance(hours=1, minutes=1)
        assert send(client).status_code == 201


def test_a_malformed_form_is_a_clear_4xx(anon: TestClient, hall: None) -> None:
    assert (
        anon.post(
            PUBLIC, content=b"garbage", headers={"content-type": "multipart/form-data; boundary=x"}
        ).status_code
        == 400
    )
    unknown = anon.post(PUBLIC, data={**form(), **challenge(anon), "extra": "1"})
    assert unknown.status_code == 422 and "未知字段" in unknown.json()["detail"]
    wrong_field = anon.post(
        PUBLIC, data={**form(), **challenge(anon)}, files=[("photo", ("a.png", png(), "image/png"))]
    )
    assert wrong_field.status_code == 422 and "attachments" in wrong_field.json()["detail"]
