"""The agent's local web server: each kind's page, its static files, and what the pages read of the
display (central is down here: none of this needs it)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from hall_display.agent import AgentStartError
from tests.hall_display.harness import FAST, display_settings, free_port, running_agent

DOWN = f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    directory = tmp_path / "pages"
    (directory / "static").mkdir(parents=True)
    (directory / "board.html").write_text("<!doctype html><title>办件公示</title>", encoding="utf-8")
    (directory / "static" / "board.js").write_text("console.log('board')", encoding="utf-8")
    return directory


@pytest.mark.parametrize(("kind", "page"), [("tv", "/board"), ("led", "/marquee"), ("kiosk", "/kiosk")])
def test_the_root_leads_to_the_page_of_the_displays_kind(
    tmp_path: Path, pages: Path, kind: str, page: str
) -> None:
    settings = display_settings(tmp_path, DOWN, kind=kind)
    with running_agent(settings, tuning=replace(FAST, pages_dir=pages)) as agent:
        answer = httpx.get(f"{agent.url}/")
        assert (answer.status_code, answer.headers["location"]) == (302, page)
        shown = httpx.get(f"{agent.url}{page}")
        if page == "/board":
            assert shown.status_code == 200 and "办件公示" in shown.text
            assert shown.headers["content-type"].startswith("text/html")
        else:  # not installed yet
            assert shown.status_code == 404 and "尚未安装" in shown.text
        assert httpx.get(f"{agent.url}/static/board.js").text == "console.log('board')"
        assert httpx.get(f"{agent.url}/static/../board.html").status_code == 404


def test_without_static_files_they_are_not_found(tmp_path: Path) -> None:
    (tmp_path / "bare").mkdir()
    settings = display_settings(tmp_path, DOWN)
    with running_agent(settings, tuning=replace(FAST, pages_dir=tmp_path / "bare")) as agent:
        answer = httpx.get(f"{agent.url}/static/app.js")
        assert answer.status_code == 404 and "尚未安装" in answer.json()["detail"]


def test_the_display_config_tells_the_pages_what_they_show(tmp_path: Path) -> None:
    extra = "    led: {width: 768, height: 96, speed_px_per_second: 90, font_px: 80}\n"
    with running_agent(display_settings(tmp_path, DOWN, kind="led", name="LED-9", extra=extra)) as agent:
        config = httpx.get(f"{agent.url}/display-config.json").json()
    assert config == {
        "hall": "510000-ZWFW",
        "hall_name": None,  # not known until central was reached once
        "display": "LED-9",
        "kind": "led",
        "led": {"width": 768, "height": 96, "speed_px_per_second": 90.0, "font_px": 80},
        "kiosk": {
            "idle_seconds": 60,
            "complaints": False,
            "complaint_status_url": f"{DOWN}/complaints/status",
        },
    }


def test_a_kiosk_forwards_complaints_in_its_own_shape_and_says_when_central_is_away(tmp_path: Path) -> None:
    """The end-to-end tests (test_kiosk_complaint_e2e.py) send them to a real central; here central is
    down, and what never reaches it is refused by the agent itself."""
    complaints = "/api/v1/public/complaints"
    shaped = {
        "about": "hall",
        "content": "大厅空调坏了一整天，等候区非常闷热。",
        "anonymous": True,
        "challenge": "t",
        "answer": "3",
    }
    extra = "    kiosk: {idle_seconds: 30, complaint_status_url: https://zwfw.example.cn/complaints/status}\n"
    with running_agent(display_settings(tmp_path, DOWN, kind="kiosk", name="KIOSK-9", extra=extra)) as agent:
        config = httpx.get(f"{agent.url}/display-config.json").json()
        assert config["kiosk"] == {
            "idle_seconds": 30,
            "complaints": True,
            "complaint_status_url": "https://zwfw.example.cn/complaints/status",
        }
        for answer in (
            httpx.post(f"{agent.url}{complaints}", json=shaped),
            httpx.get(f"{agent.url}{complaints}/challenge"),
            httpx.get(f"{agent.url}{complaints}/choices"),
        ):
            assert (answer.status_code, answer.json()["detail"]) == (503, "暂时无法连接中心，请稍后再试")
            assert answer.headers["cache-control"] == "no-store"
        for bad in (
            b"not json",
            b"[]",
            b'{"about": "hall"}',  # fields missing
            json.dumps({**shaped, "hall": "OTHER-HALL"}).encode(),  # the agent names the hall, not the page
            json.dumps({**shaped, "attachments": "x"}).encode(),
            json.dumps({**shaped, "about": "mayor"}).encode(),
        ):
            answer = httpx.post(f"{agent.url}{complaints}", content=bad)
            assert (answer.status_code, answer.json()["detail"]) == (
                422,
                "投诉内容格式不正确，请返回首页重新填写",
            )
        too_big = httpx.post(f"{agent.url}{complaints}", content=b"x" * 70_000)
        assert too_big.status_code == 413


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("tv", ""), ("kiosk", "    kiosk: {complaints: false}\n")],
    ids=["board", "switched-off"],
)
def test_only_a_kiosk_with_complaints_on_takes_them(tmp_path: Path, kind: str, extra: str) -> None:
    with running_agent(display_settings(tmp_path, DOWN, kind=kind, extra=extra)) as agent:
        assert httpx.get(f"{agent.url}/display-config.json").json()["kiosk"]["complaints"] is False
        for answer in (
            httpx.post(f"{agent.url}/api/v1/public/complaints", json={}),
            httpx.get(f"{agent.url}/api/v1/public/complaints/challenge"),
        ):
            assert (answer.status_code, answer.json()["detail"]) == (404, "本显示屏不提供投诉")


def test_a_taken_port_is_said_plainly_and_another_hall_is_not_served(tmp_path: Path) -> None:
    settings = display_settings(tmp_path, DOWN)
    with running_agent(settings) as agent:
        with pytest.raises(
            AgentStartError, match=f"cannot listen on 127.0.0.1:{settings.display.listen_port}"
        ):
            agent.agent.bind()  # a second agent on the same port
        assert httpx.get(agent.api("progress")).status_code == 503
        assert httpx.get(f"{agent.url}/api/v1/public/halls/OTHER-HALL/progress").status_code == 404
