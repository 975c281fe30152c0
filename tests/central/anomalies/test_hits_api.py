"""Data supervision's hits through a run, the API, the page and the CLI, on both databases: a run
stores each hit once and a rerun adds nothing and keeps decisions; inspectors see their
jurisdiction's hits with the evidence; a hit becomes a signal or is dismissed with a reason, audited."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.anomalies.models import AnomalyHit, AnomalyRun
from central.anomalies.run import run_anomalies
from central.app import create_app
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.core.actor import Actor
from central.core.config import Settings
from central.signals.models import Signal
from tests.central.anomalies.helpers import PERIOD, at, clean_log, store, workdays
from tests.conftest import FakeClock, SignedIn, make_user, with_form_token

SEPTEMBER = workdays(*PERIOD)


def run(session: Session, clock: FakeClock) -> tuple[int, int]:
    report = run_anomalies(
        session,
        period_from=PERIOD[0],
        period_to=PERIOD[1],
        now=clock(),
        calendar=load_calendar(session),
        default_profile_key="sichuan-2011",
        instance="tests",
        actor=Actor(kind="system", name="anomalies"),
    )
    return report.found, report.added


@pytest.fixture
def world(session: Session, registry: dict[str, int], db: Engine) -> dict[str, str]:
    """September with two acceptances out of hours (20:30 on a working day, and a Sunday)."""
    log = clean_log(first=PERIOD[0], last=PERIOD[1])
    late = log.case(at(SEPTEMBER[3], 20, 30), done_after=5)
    sunday = log.case(at(date(2026, 9, 13), 10), done_after=5)
    store(session, log)
    for name, role, scope in (
        ("sichuan", Role.INSPECTOR, "region:510000"),
        ("chengdu", Role.INSPECTOR, "region:510100"),
        ("clerk", Role.POST_USER, "department:SCJGJ"),
    ):
        make_user(db, name, role=role, scope=scope)
    return {"late": late, "sunday": sunday}


@pytest.fixture
def api(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as client:
        yield client


def as_user(client: TestClient, username: str) -> TestClient:
    client.auth = SignedIn(username, "correct-horse-battery-2026")
    return client


def test_a_run_stores_each_hit_once_and_keeps_decisions(
    session: Session, world: dict[str, str], clock: FakeClock, api: TestClient
) -> None:
    assert run(session, clock) == (2, 2)
    assert session.scalar(select(func.count()).select_from(AnomalyRun)) == 1
    hits = as_user(api, "sichuan").get("/api/v1/anomalies/hits").json()
    assert hits["total"] == 2 and {h["rule"] for h in hits["items"]} == {"outside_hours"}
    sunday = next(h for h in hits["items"] if h["day_from"] == "2026-09-13")
    assert (
        api.post(f"/api/v1/anomalies/hits/{sunday['id']}/dismiss", json={"note": "周末预约服务"}).status_code
        == 200
    )
    clock.advance(hours=1)
    assert run(session, clock) == (2, 0)  # found again, nothing new
    statuses = dict(session.execute(select(AnomalyHit.day_from, AnomalyHit.status)).all())
    assert statuses == {date(2026, 9, 13): "dismissed", SEPTEMBER[3]: "open"}
    refreshed = session.scalars(select(AnomalyHit).where(AnomalyHit.status == "open")).one()
    assert refreshed.last_found_at > refreshed.first_found_at  # the open one's evidence was refreshed
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("anomaly.%"))).all()
    assert sorted(actions) == ["anomaly.dismiss", "anomaly.run"]  # the rerun added nothing to audit


def test_inspectors_see_their_jurisdiction_and_decide(
    session: Session, world: dict[str, str], clock: FakeClock, api: TestClient
) -> None:
    run(session, clock)
    assert as_user(api, "chengdu").get("/api/v1/anomalies/hits").json()["total"] == 0
    assert as_user(api, "clerk").get("/api/v1/anomalies/hits").status_code == 403
    client = as_user(api, "sichuan")
    late = next(
        h for h in client.get("/api/v1/anomalies/hits").json()["items"] if h["case_no"] == world["late"]
    )
    assert late["evidence"]["listed"][0] == {
        "case_no": world["late"],
        "time": "20:30",
        "window_id": late["evidence"]["listed"][0]["window_id"],
    }
    assert "工作时间外受理 1 件" in late["summary"] and late["department_code"] == "SCJGJ"
    assert client.post(f"/api/v1/anomalies/hits/{late['id']}/dismiss", json={"note": ""}).status_code == 422
    signalled = client.post(f"/api/v1/anomalies/hits/{late['id']}/signal", json={"note": "夜间补录，已核实"})
    assert signalled.status_code == 200 and signalled.json()["status"] == "signalled"
    signal = session.get(Signal, signalled.json()["signal_id"])
    assert signal is not None and (signal.origin, signal.reason_code, signal.color) == (
        "data",
        "data_anomaly",
        "yellow",
    )
    assert signal.case_id is not None and "工作时间外受理" in (signal.reason or "")
    again = client.post(f"/api/v1/anomalies/hits/{late['id']}/dismiss", json={"note": "重复处理"})
    assert again.status_code == 409 and again.json()["message"]
    assert (
        as_user(api, "chengdu").post(f"/api/v1/anomalies/hits/{late['id']}/signal", json={}).status_code
        == 404
    )
    counts = as_user(api, "sichuan").get("/api/v1/anomalies/hits/by-hall").json()
    assert counts == [
        {
            "hall_code": "510000-ZWFW",
            "hall_name": "四川省政务服务中心",
            "by_rule": {"outside_hours": 1},
            "total": 1,
        }
    ]
    rules = api.get("/api/v1/anomalies/rules").json()
    assert [r["code"] for r in rules[0]["rules"]][:2] == ["item_pace", "due_date_bunching"]
    assert all(r["enabled"] and r["explanation"] for r in rules[0]["rules"])
    audit = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "anomaly.signal")).one()
    assert audit is not None and json.loads(audit)["signal_id"] == signal.id


def test_the_page_lists_explains_and_decides(
    session: Session, world: dict[str, str], clock: FakeClock, db: Engine, settings: Settings
) -> None:
    run(session, clock)
    with TestClient(create_app(settings, engine=db, clock=clock)) as browser:
        login = browser.post(
            "/console/login",
            data={"username": "sichuan", "password": "correct-horse-battery-2026"},
            follow_redirects=False,
        )
        assert login.status_code == 303
        with_form_token(browser)
        html = browser.get("/console/anomalies").text
        assert "<h1>数据监察</h1>" in html and "共 2 条" in html and world["late"] in html
        assert "规则说明" in html and "窗口有人值守却无办件" in html and "09:00-17:30" in html
        hit_id = session.scalars(select(AnomalyHit.id).where(AnomalyHit.day_from == date(2026, 9, 13))).one()
        refused = browser.post(f"/console/anomalies/hits/{hit_id}/dismiss", data={"note": ""})
        assert refused.status_code == 400 and "排除须填写理由" in refused.text
        done = browser.post(
            f"/console/anomalies/hits/{hit_id}/dismiss", data={"note": "周末预约服务"}, follow_redirects=False
        )
        assert done.status_code == 303
        assert "共 1 条" in browser.get("/console/anomalies").text  # open ones by default
        assert "周末预约服务" in browser.get("/console/anomalies?status=dismissed").text
        assert browser.get("/console/anomalies?rule=nonsense").status_code == 400
        assert browser.get("/console/anomalies?page=0").status_code == 400


def test_the_cli_runs_the_rules(world: dict[str, str], settings: Settings, session: Session) -> None:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    command = [
        sys.executable,
        "-m",
        "central.cli",
        "anomalies",
        "run",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
    ]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "2 hit(s), 2 new" in first.stdout and "outside_hours" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert "2 hit(s), 0 new" in again.stdout
    bad = subprocess.run(
        [*command[:-4], "--from", "2026-09-30", "--to", "2026-09-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "before it starts" in bad.stderr
