"""The complaint pages through the real app, without a browser: who may open and act on what
(a Chinese 403 or 404 page, never a 500), the forms' refusals in Chinese, the public pages' answers
to bad input, and nothing personal on the masked pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.complaints.models import Complaint
from tests.central.complaints.helpers import HALL, PASSWORD, make_users, send
from tests.conftest import FakeClock, with_form_token


@pytest.fixture
def sent(
    anon: TestClient, db: Engine, registry: dict[str, int], clock: FakeClock, session: Session
) -> dict[str, int]:
    clock.set_shanghai(2026, 9, 30, 10)
    make_users(db, clock())
    assert send(anon).status_code == 201
    assert send(anon, anonymous="true", about="hall", staff=None).status_code == 201
    named, anonymous = session.scalars(select(Complaint.id).order_by(Complaint.id)).all()
    return {"named": named, "anonymous": anonymous}


def console(client: TestClient, username: str) -> TestClient:
    answer = client.post(
        "/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303
    return with_form_token(client)


def test_the_clerk_reads_it_masked_and_may_not_act(anon: TestClient, sent: dict[str, int]) -> None:
    clerk = console(anon, "clerk")
    listing = clerk.get("/console/complaints")
    assert listing.status_code == 200 and "张*明" in listing.text and "张三明" not in listing.text
    page = clerk.get(f"/console/complaints/{sent['named']}")
    assert page.status_code == 200 and "已脱敏" in page.text and "13800138000" not in page.text
    assert "提交决定" not in page.text  # no forms for a reader who does not handle it
    refused = clerk.post(f"/console/complaints/{sent['named']}/decision", data={"decision": "accept"})
    assert refused.status_code == 403 and "电子监察员" in refused.text
    assert clerk.get(f"/console/complaints/{sent['named']}/notice").status_code == 403
    # The hall-wide complaint has no department: a department's clerk does not see it.
    assert clerk.get(f"/console/complaints/{sent['anonymous']}").status_code == 404


def test_the_inspectors_forms_refuse_in_chinese(anon: TestClient, sent: dict[str, int]) -> None:
    inspector = console(anon, "inspector")
    url = f"/console/complaints/{sent['named']}"
    assert "请选择受理或不予受理" in inspector.post(f"{url}/decision", data={}).text
    refused = inspector.post(f"{url}/decision", data={"decision": "refuse", "reasons": "不"})
    assert refused.status_code == 400 and "不予受理须写明理由" in refused.text
    early = inspector.post(f"{url}/close", data={"findings": "xx", "reply": "yy", "upheld": "true"})
    assert early.status_code == 409
    assert inspector.post(f"{url}/notice", data={}).status_code == 404
    assert inspector.get(f"{url}/notice").status_code == 404  # not decided yet: no notice
    ok = inspector.post(f"{url}/decision", data={"decision": "accept"}, follow_redirects=False)
    assert ok.status_code == 303
    outside = inspector.post(f"{url}/assign", data={"assignee_scope": "department:NOPE"})
    assert outside.status_code == 400 and "NOPE" in outside.text
    assert inspector.get(f"{url}/notice").status_code == 200
    anonymous = f"/console/complaints/{sent['anonymous']}"
    inspector.post(f"{anonymous}/decision", data={"decision": "accept"})
    assert inspector.get(f"{anonymous}/notice").status_code == 404  # nobody to write to
    for bad in ("x", "99999999", "1" * 30):
        assert inspector.get(f"/console/complaints/{bad}").status_code == 404
    assert inspector.get("/console/complaints?status=purple").status_code == 400


def test_the_public_pages_answer_bad_input_in_chinese(anon: TestClient, sent: dict[str, int]) -> None:
    chooser = anon.get("/complaints/new")
    assert (
        chooser.status_code == 200
        and "四川省政务服务中心" in chooser.text
        and "锦江区政务服务中心" in chooser.text
    )
    form = anon.get(f"/complaints/new?hall={HALL}")
    assert "1号窗口" in form.text and "省市场监管局" in form.text
    bad = anon.post("/complaints/status", data={"number": "x", "password": "1"})
    assert bad.status_code == 400 and "TS 开头" in bad.text
    unknown = anon.post("/complaints/status", data={"number": "TS20260930000000", "password": "123456"})
    assert unknown.status_code == 404 and "投诉编号或查询密码不正确" in unknown.text
    nothing = anon.post("/complaints/new", data={"hall": HALL})
    assert nothing.status_code == 422 and "请填写" in nothing.text and 'role="alert"' in nothing.text
