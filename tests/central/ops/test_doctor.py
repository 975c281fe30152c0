"""`hallwatch doctor` (issue 20 item 1) through the real CLI on the real database: a healthy
deployment passes; each problem is found and comes with what to do — an unreachable and an
unmigrated database, a calendar year missing within 60 days, a stale audit checkpoint, an agent whose
clock is off (measured by the edge's own clock sync against the real endpoint), silent devices, an
edge box whose outbox disk is full or low."""

from __future__ import annotations

import json
from copy import copy
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.app import periodic_jobs
from central.audit.checkpoint import write_checkpoint
from central.audit.signing import load_private_key
from central.cli.main import app
from central.core.actor import Actor
from central.core.config import Settings
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.devices.keys import issue_key
from central.jobs.claims import Claimed, JobClaims
from central.registry.models import Device, Hall
from common.device_channel import OutboxReport
from edge.central import ClockSync
from edge.clock import CentralTime
from tests.central.devices.helpers import edge, health, post
from tests.central.ops.conftest import Deployment
from tests.conftest import FakeClock
from tests.edge.contract import free_port

__all__ = ["edge"]

TESTS = Actor(kind="cli", name="tests")
CHECKS = [
    "database",
    "migrations",
    "calendar",
    "audit_checkpoints",
    "clock_skew",
    "devices",
    "edge_outbox",
    "periodic_jobs",
]


# The periodic jobs at production's intervals (the tests' environment turns them off).
JOB_INTERVALS = {
    name: Settings.model_fields[name].default
    for name in (
        "signal_interval_seconds",
        "patrol_plan_interval_seconds",
        "public_feed_interval_seconds",
        "score_interval_seconds",
        "anomaly_interval_seconds",
    )
}
JOBS_ENV = {f"HALLWATCH_{name.upper()}": str(value) for name, value in JOB_INTERVALS.items()}


def doctor(deployment: Deployment, clock: FakeClock, *extra: str, **env: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        app,
        ["doctor", "--json", "--at", clock().isoformat(timespec="seconds"), *extra],
        env=deployment.env(**JOBS_ENV, **env),
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def sync_clock(client: TestClient, headers: dict[str, str], box_clock: FakeClock | Any) -> None:
    """The edge agent's own clock sync (edge.central.ClockSync) against the real endpoint."""
    with TestClient(client.app, headers=headers) as agent_client:
        assert ClockSync(agent_client, CentralTime(box_clock), every_seconds=60).sync_once()


def add_display(session: Session, clock: FakeClock, code: str) -> dict[str, str]:
    """A display agent of the provincial hall with its key (an audit entry), not yet heard from."""
    hall = session.scalar(select(Hall.id).where(Hall.code == "510000-ZWFW"))
    display = Device(code=code, kind="display", name="大厅综合屏", hall_id=hall)
    session.add(display)
    session.flush()
    key = issue_key(session, device=display, now=clock(), issued_by=None, actor=TESTS).key
    session.commit()
    return {"X-Device-Key": key}


def heard(
    client: TestClient, clock: FakeClock, edge: dict[str, dict[str, str]], display: dict[str, str]
) -> None:
    """Every agent heard from at the clock's time: both edge agents sync their clocks (on time), the
    display agent shows its key, the provincial edge reports its keypad online."""
    for headers in edge.values():
        sync_clock(client, headers, clock)
    assert client.get("/api/v1/device/me", headers=display).status_code == 200
    assert post(client, edge["EDGE-P"], health(clock()))["stored"] == 1


def sign(deployment: Deployment, engine: Engine, clock: FakeClock) -> None:
    key = load_private_key(deployment.signing_key)
    with Session(engine) as session:
        write_checkpoint(session, key=key, directory=deployment.checkpoints, now=clock())


def ran_jobs(deployment: Deployment, db: Engine, clock: FakeClock) -> None:
    """Each periodic job the deployment's settings turn on has finished a pass at the clock's time,
    unless its last is recent enough (as a running `hallwatch serve` leaves them)."""
    served = Settings(
        database_url=deployment.settings.database_url,
        patrol_key_file=deployment.settings.patrol_key_file,
        **JOB_INTERVALS,
    )
    claims = JobClaims(make_session_factory(db), runner="tests", now=clock)
    for job in periodic_jobs(served):
        claimed = claims.claim(job.name, interval=job.interval)
        if isinstance(claimed, Claimed):
            claims.finish(job.name, claimed.token, succeeded=True)


def healthy(
    client: TestClient,
    session: Session,
    db: Engine,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
) -> dict[str, str]:
    display = add_display(session, clock, "DISP-P1")
    heard(client, clock, edge, display)
    sign(deployment, db, clock)
    ran_jobs(deployment, db, clock)
    return display


def test_a_healthy_deployment_passes_every_check(
    client: TestClient,
    session: Session,
    db: Engine,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
) -> None:
    clock.set_shanghai(2026, 6, 1, 10)  # the official calendar covers the next 60 days
    healthy(client, session, db, clock, edge, deployment)
    code, report = doctor(deployment, clock)
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert {c["name"]: c["status"] for c in report["checks"]} == dict.fromkeys(CHECKS, "ok"), report
    assert code == 0, "a healthy deployment exits 0"
    assert report["ok"] is True
    text = CliRunner().invoke(app, ["doctor", "--at", clock().isoformat()], env=deployment.env(**JOBS_ENV))
    assert text.exit_code == 0, text.output
    lines = [line for line in text.stdout.splitlines() if not line.startswith(" ")]
    assert all(line.startswith("OK ") for line in lines[:-1]), text.stdout
    assert lines[-1].startswith("体检结果 result: 0 个错误"), text.stdout


def test_each_problem_is_named_with_what_to_do(
    client: TestClient,
    session: Session,
    db: Engine,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
) -> None:
    clock.set_shanghai(2026, 11, 27, 10)  # 2027 starts within 60 days; chinesecalendar ends with 2026
    healthy(client, session, db, clock, edge, deployment)
    add_display(session, clock, "DISP-P2")  # keyed (an audit entry after the checkpoint), never connected
    clock.advance(hours=3)  # the checkpoint is now older than twice the hourly interval
    sync_clock(client, edge["EDGE-P"], clock)
    sync_clock(
        client, edge["EDGE-K"], FakeClock(clock() + timedelta(seconds=90))
    )  # its clock runs 90 s ahead
    assert post(client, edge["EDGE-P"], health(clock(), online=False))["stored"] == 1
    code, report = doctor(deployment, clock)
    checks = by_name(report)
    assert code == 1, "errors exit 1"
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"

    calendar = checks["calendar"]
    assert calendar["status"] == "error"
    assert "2027" in calendar["summary"]
    assert "hallwatch calendar import 2027.yaml" in calendar["hint"]

    audit = checks["audit_checkpoints"]
    assert audit["status"] == "error", audit
    assert "3 小时前" in audit["summary"], "the newest checkpoint's age"
    assert "hallwatch audit checkpoint" in audit["hint"]

    skew = checks["clock_skew"]
    assert skew["status"] == "error"
    assert [d.split(" ")[0] for d in skew["details"]] == ["EDGE-K"], "only the box whose clock is off"
    assert "快 90.0 秒" in skew["details"][0]
    assert "NTP" in skew["hint"]

    devices = checks["devices"]
    assert devices["status"] == "error"
    named = {d.split(" ")[0]: d for d in devices["details"]}
    assert set(named) == {"DISP-P1", "DISP-P2", "KP-W01"}, devices["details"]
    assert "3 小时未联系" in named["DISP-P1"], "silent for longer than a display's 120 minutes"
    assert "从未连接" in named["DISP-P2"]
    assert "离线" in named["KP-W01"], "the keypad its agent reported offline"
    assert "hallwatch-display" in devices["hint"]
    assert "串口" in devices["hint"]

    jobs = checks["periodic_jobs"]
    assert jobs["status"] == "error", "3 hours without a pass of jobs due every 1 to 60 minutes"
    late = {d.split(":")[0]: d for d in jobs["details"]}
    assert set(late) == {"signals", "evidence-purge", "device-command-purge", "public-feed", "scores",
                         "anomalies", "patrol-plan"}, jobs  # fmt: skip
    assert "3 小时前" in late["scores"] and "600 秒" in late["scores"]
    assert "hallwatch jobs" in jobs["hint"] and "HALLWATCH_SERVE_RUNS_JOBS" in jobs["hint"]

    text = CliRunner().invoke(app, ["doctor", "--at", clock().isoformat()], env=deployment.env(**JOBS_ENV))
    assert text.exit_code == 1
    errors = [line for line in text.stdout.splitlines() if line.startswith("错误")]
    assert len(errors) == 5, text.stdout
    assert text.stdout.count("      → ") == 5, "a hint under each error"


def test_thresholds_are_options_and_warnings_fail_only_when_strict(
    client: TestClient,
    session: Session,
    db: Engine,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
) -> None:
    clock.set_shanghai(2026, 6, 1, 10)
    healthy(client, session, db, clock, edge, deployment)
    add_display(session, clock, "DISP-P2")  # never connected: a warning
    sign(deployment, db, clock)
    code, report = doctor(deployment, clock)
    assert by_name(report)["devices"]["status"] == "warning"
    assert code == 0, "warnings alone exit 0"
    strict, _ = doctor(deployment, clock, "--strict")
    assert strict == 1, "--strict fails on a warning"
    clock.advance(minutes=30)
    ran_jobs(deployment, db, clock)  # serve kept running them
    lenient, _ = doctor(deployment, clock)
    assert lenient == 1, "edge agents unheard for 30 minutes are silent by default (10)"
    code, report = doctor(deployment, clock, "--edge-silent-minutes", "60", "--keypad-silent-minutes", "60")
    assert by_name(report)["devices"]["status"] == "warning", report
    assert code == 0, "within thresholds given as options"
    bad = CliRunner().invoke(app, ["doctor", "--calendar-days", "0"], env=deployment.env())
    assert bad.exit_code == 2, "an option out of its bounds is a usage error"


def test_an_unmigrated_database_is_named_and_the_rest_waits(
    fresh_database: str, clock: FakeClock, deployment: Deployment
) -> None:
    engine = make_engine(fresh_database)
    upgrade(engine, "0021_visit_spans")  # a release behind
    engine.dispose()
    code, report = doctor(deployment, clock, HALLWATCH_DATABASE_URL=fresh_database)
    checks = by_name(report)
    assert code == 1
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "error"
    assert "0021_visit_spans" in checks["migrations"]["summary"]
    assert "hallwatch db upgrade" in checks["migrations"]["hint"]
    waiting = [name for name in CHECKS[2:] if checks[name]["status"] == "skipped"]
    assert waiting == CHECKS[2:], "nothing else reads a database at an old revision"


def test_an_unreachable_database_is_named(
    engine: Engine, clock: FakeClock, deployment: Deployment, tmp_path: Path
) -> None:
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'nowhere' / 'hallwatch.db'}"
    else:
        url = engine.url.set(port=free_port()).render_as_string(hide_password=False)
    code, report = doctor(deployment, clock, HALLWATCH_DATABASE_URL=url)
    checks = by_name(report)
    assert code == 1
    assert checks["database"]["status"] == "error"
    assert "HALLWATCH_DATABASE_URL" in checks["database"]["hint"]
    assert checks["migrations"]["status"] == "skipped"
    assert not (tmp_path / "nowhere").exists(), "the doctor creates no SQLite file"


def test_an_edge_outbox_full_is_an_error_a_low_one_a_warning_and_a_retired_box_is_not_looked_at(
    client: TestClient,
    session: Session,
    clock: FakeClock,
    edge: dict[str, dict[str, str]],
    deployment: Deployment,
) -> None:
    """Reported by the edge's own clock sync (its X-Device-Outbox header) to the real endpoint; the
    real disk-full runs are tests/edge/test_outbox_report.py."""
    since = (clock() - timedelta(minutes=30)).timestamp()
    full = OutboxReport(
        state="full", since=since, free_bytes=0, refused=7, refused_by_kind={"keypad_press": 5, "presence": 2}
    )
    low = OutboxReport(state="low", since=since, free_bytes=100 * 2**20)
    for code, report in (("EDGE-P", full), ("EDGE-K", low)):
        with TestClient(client.app, headers=edge[code]) as agent_client:
            sync = ClockSync(agent_client, CentralTime(clock), every_seconds=60, outbox=partial(copy, report))
            assert sync.sync_once()
    check = by_name(doctor(deployment, clock)[1])["edge_outbox"]
    assert check["status"] == "error", check
    assert "1 台发件箱已满, 1 台空间不足" in check["summary"]
    full_line, low_line = check["details"]
    assert full_line.startswith("EDGE-P 省中心边缘盒 (510000-ZWFW): 已满"), "the full box first"
    assert "自 since 2026-11-27 09:30" in full_line, "since when, in Shanghai time"
    assert "已拒收 7 条 refused (keypad_press 5, presence 2)" in full_line
    assert low_line.startswith("EDGE-K 锦江区边缘盒"), low_line
    assert "空间不足" in low_line
    assert "100.0 MB" in low_line
    assert "hallwatch edge outbox" in check["hint"]

    key_id = edge["EDGE-P"]["X-Device-Key"].split("_")[1]
    assert client.delete(f"/api/v1/devices/EDGE-P/keys/{key_id}").status_code == 204  # the box retired
    check = by_name(doctor(deployment, clock)[1])["edge_outbox"]
    assert check["status"] == "warning", check
    assert [d.split(" ")[0] for d in check["details"]] == ["EDGE-K"], "a retired box is not looked at"
