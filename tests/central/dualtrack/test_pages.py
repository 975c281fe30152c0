"""The dual-track API, pages and CLI through the real app (zh-CN): judgements listed within each
user's jurisdiction with the counts by hour, a judgement's evidence behind the SC-18 grant, bad
input answered in Chinese (never a 500), and `hallwatch dualtrack run --date D`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html import unescape

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.config import Settings
from central.dualtrack.models import DualTrackJudgement
from central.registry.models import Hall
from central.signals.models import Signal
from tests.central.dualtrack.days import DAY, Window, generate, hour_start, windows, write_day
from tests.central.dualtrack.test_judge import judge
from tests.central.video.helpers import PASSWORD, World, edge, evidence, upload, world
from tests.conftest import FakeClock

__all__ = ["edge", "windows", "world"]

API = "/api/v1/dualtrack/judgements"
FLAGGED = {"W02", "K02"}  # half their served visitors unrecorded: flagged even against the allowance


@pytest.fixture
def judged(client: TestClient, world: World, session: Session, windows: dict[str, Window]) -> int:
    """DAY for every window (W02 and K02 flagged) with a snapshot of W02 at 10:20; its evidence id."""
    rng = np.random.default_rng(11)
    for code, window in windows.items():
        hours = generate(rng, visits=200, enquiry=0.1, unrecorded=0.5 if code in FLAGGED else 0.0)
        write_day(client, world, session, window, DAY, hours)
    shot = evidence(hour_start(DAY, 10).replace(minute=20), window="W02", reason="manual")
    assert upload(client, world.headers["EDGE-P"], shot)["stored"] == 1
    assert judge(session, DAY)
    judgement = session.scalars(
        select(DualTrackJudgement).join(Signal, Signal.id == DualTrackJudgement.signal_id)
    ).all()
    assert len(judgement) == 2
    w02 = next(j for j in judgement if j.evidence_ids)
    return int(w02.evidence_ids[0])


@pytest.fixture
def console(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as browser:
        yield browser


def sign_in(console: TestClient, username: str) -> None:
    r = console.post(
        "/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def listed(client: TestClient, world: World, who: str, **params: str) -> dict[str, str]:
    r = client.get(API, params={"day": DAY.isoformat(), **params}, auth=world.people[who])
    assert r.status_code == 200, r.text
    return {item["window_code"]: item["outcome"] for item in r.json()["items"]}


def test_the_api_keeps_to_each_jurisdiction(client: TestClient, world: World, judged: int) -> None:
    everything = listed(client, world, "inspector")
    assert everything == {
        c: "flagged" if c in FLAGGED else "clear" for c in ("W01", "W02", "W03", "K01", "K02")
    }
    assert set(listed(client, world, "county")) == {"K01", "K02"}
    assert set(listed(client, world, "clerk")) == {"W01", "W02", "W03"}  # department SCJGJ's windows
    assert listed(client, world, "inspector", outcome="flagged") == {"W02": "flagged", "K02": "flagged"}
    assert client.get(API, auth=world.people["admin"]).status_code == 403  # no part in supervision
    page = client.get(API, params={"hall": "510104-ZWFW"}, auth=world.people["inspector"]).json()
    k02 = next(item for item in page["items"] if item["window_code"] == "K02")
    assert k02["signal_id"] and k02["why"] == [] and k02["beyond"] > 0
    assert sum(h["visits"] for h in k02["hours"]) == k02["visits"] and any(h["over"] for h in k02["hours"])
    detail = f"{API}/{k02['id']}"
    assert client.get(detail, auth=world.people["county"]).json()["window_code"] == "K02"
    assert client.get(detail, auth=world.people["clerk"]).status_code == 404  # another jurisdiction
    assert client.get(f"{API}/999999", auth=world.people["inspector"]).status_code == 404
    assert client.get(API, params={"outcome": "maybe"}, auth=world.people["inspector"]).status_code == 422
    assert client.get(API, params={"day": "2026-13-01"}, auth=world.people["inspector"]).status_code == 422
    assert client.get(API, params={"page_size": 100000}, auth=world.people["inspector"]).status_code == 422


def test_the_evidence_stays_behind_the_grant(
    client: TestClient, world: World, judged: int, console: TestClient
) -> None:
    items = client.get(API, params={"outcome": "flagged"}, auth=world.people["inspector"]).json()["items"]
    w02 = next(item for item in items if item["window_code"] == "W02")
    assert [e["id"] for e in w02["evidence"]] == [judged]  # metadata only: no image in the API
    image = f"/api/v1/evidence/{judged}/image"
    assert client.get(image, auth=world.people["inspector"]).status_code == 403
    sign_in(console, "inspector")
    page = console.get(f"/console/dualtrack/judgements/{w02['id']}")
    assert page.status_code == 200, page.text
    assert f'action="/console/video/evidence/{judged}/request"' in page.text and image not in page.text
    asked = client.post(
        "/api/v1/approvals",
        json={"kind": "evidence_view", "target": str(judged), "reason": "核实双轨运行"},
        auth=world.people["inspector"],
    )
    assert asked.status_code == 201, asked.text
    pending = console.get(f"/console/dualtrack/judgements/{w02['id']}")
    assert f"/console/approvals/{asked.json()['id']}" in pending.text and image not in pending.text
    approved = client.post(f"/api/v1/approvals/{asked.json()['id']}/approve", auth=world.people["approver"])
    assert approved.status_code == 200, approved.text
    shown = console.get(f"/console/dualtrack/judgements/{w02['id']}")
    assert f'<img src="{image}"' in shown.text
    assert client.get(image, auth=world.people["inspector"]).status_code == 200
    assert client.get(image, auth=world.people["county"]).status_code == 404  # not in its jurisdiction


def test_the_pages_list_the_day_within_the_jurisdiction(
    world: World, judged: int, console: TestClient, session: Session
) -> None:
    sign_in(console, "county")
    page = console.get("/console/dualtrack", params={"day": DAY.isoformat()})
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "双轨运行研判" in text and "疑似体外循环" in text
    assert 'data-window="K02"' in page.text and 'data-window="K01"' in page.text
    assert 'data-window="W02"' not in page.text  # the provincial hall is not the county's
    assert "hour-over" in page.text and "09时" in text  # the counts by hour, the hours over marked
    flagged = console.get("/console/dualtrack", params={"day": DAY.isoformat(), "outcome": "flagged"})
    assert 'data-window="K02"' in flagged.text and 'data-window="K01"' not in flagged.text
    latest = console.get("/console/dualtrack")  # no day: the latest judged one
    assert 'data-window="K02"' in latest.text
    county_hall = session.scalar(select(Hall.id).where(Hall.code == "510104-ZWFW"))
    foreign = session.scalar(
        select(DualTrackJudgement.id).where(DualTrackJudgement.hall_id != county_hall).limit(1)
    )
    assert foreign is not None
    missing = console.get(f"/console/dualtrack/judgements/{foreign}")
    assert missing.status_code == 404 and "不在您的辖区内" in missing.text
    for bad in ({"day": "26-11-2026"}, {"outcome": "maybe"}, {"page": "0"}):
        refused = console.get("/console/dualtrack", params=bad)
        assert refused.status_code == 400, (bad, refused.status_code)
    assert console.get("/console/dualtrack/judgements/abc").status_code == 404
    sign_in(console, "admin")
    assert console.get("/console/dualtrack").status_code == 403


def test_the_cli_judges_a_day_once(
    client: TestClient, world: World, session: Session, windows: dict[str, Window], settings: Settings
) -> None:
    rng = np.random.default_rng(5)
    for code, window in windows.items():
        hours = generate(rng, visits=200, enquiry=0.1, unrecorded=0.5 if code in FLAGGED else 0.0)
        write_day(client, world, session, window, DAY, hours)
    first = _cli(settings, "run", "--date", DAY.isoformat())
    assert first.returncode == 0, first.stderr
    assert DAY.isoformat() in first.stdout and "already judged" not in first.stdout
    again = _cli(settings, "run", "--date", DAY.isoformat())
    assert again.returncode == 0 and "already judged" in again.stdout
    future = _cli(settings, "run", "--date", "2099-01-01")
    assert future.returncode == 2 and "has not ended" in future.stderr
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Signal)) == 2


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "HALLWATCH_DATABASE_URL": settings.database_url,
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "120",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    return subprocess.run(
        [sys.executable, "-m", "central.cli", "dualtrack", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
