"""The approval console forms without a browser: requests and decisions through the real pages,
and every refusal answered by a Chinese page, never a 500 or the API's JSON (SC-18)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.central.approvals.helpers import PASSWORD, URL
from tests.conftest import SignedIn, with_form_token


def sign_in(anon: TestClient, username: str) -> TestClient:
    anon.cookies.clear()
    r = anon.post("/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return with_form_token(anon)


def test_a_post_user_asks_through_the_form_and_an_inspector_approves(
    client: TestClient, anon: TestClient, people: dict[str, SignedIn]
) -> None:
    page = sign_in(anon, "clerk")
    case_page = page.get("/console/cases/K1")
    assert "申请更正/作废" in case_page.text
    form = page.get("/console/approvals/new", params={"kind": "case_event_void", "event_id": "k3"})
    assert form.status_code == 200 and "提交申请" in form.text
    empty = page.post(
        "/console/approvals/new", data={"kind": "case_event_void", "event_id": "k3", "reason": " "}
    )
    assert empty.status_code == 422 and "请填写申请理由" in empty.text
    r = page.post(
        "/console/approvals/new",
        data={"kind": "case_event_void", "event_id": "k3", "reason": "重复录入"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    detail_url = r.headers["location"]
    mine = page.get("/console/approvals")
    assert "我的申请（1）" in mine.text and "待审批" in mine.text
    own = page.post(f"{detail_url}/approve", data={"note": ""})
    assert own.status_code == 403 and "无权审批" in own.text  # a post user has no right to decide

    page = sign_in(anon, "prov")
    inbox = page.get("/console/approvals")
    assert "待我审批（1）" in inbox.text and "作废办件事件" in inbox.text and "省级审批" in inbox.text
    done = page.post(f"{detail_url}/approve", data={"note": "同意"})
    assert done.status_code == 200 and "已批准" in done.text
    timeline = page.get("/console/cases/K1").text
    assert "已作废" in timeline


def test_correction_form_stores_the_replacement(
    client: TestClient, anon: TestClient, people: dict[str, SignedIn]
) -> None:
    page = sign_in(anon, "clerk")
    form = page.get("/console/approvals/new", params={"kind": "case_event_correct", "event_id": "k2"})
    assert 'value="k2-corr"' in form.text and 'value="2026-11-02T09:30"' in form.text
    data = {
        "kind": "case_event_correct",
        "event_id": "k2",
        "reason": "受理时间录错",
        "new_event_id": "k2-corr",
        "new_type": "accepted",
        "new_at": "2026-11-03T09:00",
        "new_days": "",
    }
    r = page.post("/console/approvals/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    approval_id = int(r.headers["location"].rsplit("/", 1)[1])
    stored = client.get(f"{URL}/{approval_id}").json()
    assert stored["payload"]["replacement"]["at"] == "2026-11-03T09:00:00"
    detail = page.get(r.headers["location"]).text
    assert "替代事件" in detail and "k2-corr" in detail
    bad = page.post(
        "/console/approvals/new", data={**data, "new_event_id": "k9", "new_at": "2026-11-09T09:00"}
    )
    assert bad.status_code == 409 and "不成立" in bad.text  # accepted after undertaken cannot be


def test_refusals_are_chinese_pages(
    client: TestClient, anon: TestClient, people: dict[str, SignedIn]
) -> None:
    page = sign_in(anon, "prov")
    cases = [
        (page.get("/console/approvals/abc"), 400, "申请编号"),
        (page.get("/console/approvals/99999999999"), 400, "申请编号"),
        (page.get("/console/approvals/424242"), 404, "没有编号为"),
        (page.get("/console/approvals/new", params={"kind": "evil", "event_id": "k3"}), 400, "只能申请"),
        (page.get("/console/approvals/new", params={"kind": "case_event_void"}), 400, "请从办件详情页"),
        (page.get("/console/approvals/new", params={"event_id": "nope"}), 404, "没有事件"),
        (page.post("/console/approvals/1/explode"), 404, "没有这个操作"),
        (page.post("/console/approvals/x/approve"), 400, "申请编号"),
        (page.post("/console/approvals/1/reject", data={"note": ""}), 422, "驳回时请填写"),
    ]
    for response, status, needle in cases:
        assert response.status_code == status, response.text
        assert needle in response.text
        assert response.headers["content-type"].startswith("text/html")


def test_deciding_your_own_request_shows_why(
    client: TestClient, anon: TestClient, people: dict[str, SignedIn]
) -> None:
    r = client.post(URL, json={"kind": "case_event_void", "target": "k3", "reason": "x"}, auth=people["prov"])
    approval_id = r.json()["id"]
    page = sign_in(anon, "prov")
    refused = page.post(f"/console/approvals/{approval_id}/approve", data={"note": ""})
    assert refused.status_code == 403 and "不能审批自己的申请" in refused.text
    withdrawn = page.post(f"/console/approvals/{approval_id}/withdraw")
    assert withdrawn.status_code == 200 and "已撤回" in withdrawn.text
    again = page.post(f"/console/approvals/{approval_id}/withdraw")
    assert again.status_code == 409 and "不能撤回" in again.text
