"""The demo's live hall: emulated keypads on real ptys, the real edge agent and real HTTP — citizens'
presses arrive at central bound to the cases they were served for, stamped with what the generated
camera saw at the counter."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.app import create_app
from central.core.clock import SHANGHAI, to_utc
from central.core.config import Settings
from central.core.db import make_session_factory
from central.demo.hall_sim import SimulatedHall, plan_hall
from central.demo.seed import seed_demo
from central.ratings.models import KeypadPress, Rating
from central.registry.models import ServiceWindow
from central.video.models import AbsenceEvent
from tests.browser import serve
from tests.conftest import ROOT_PASSWORD, make_user


def _bound(db: Engine) -> int:
    with make_session_factory(db)() as s:
        return int(s.scalar(select(func.count(Rating.id)).where(Rating.case_id.is_not(None))) or 0)


def _seen_by_the_camera(db: Engine) -> int:
    """Presses the edge stamped with a citizen at the counter, as its camera analysis judged."""
    with make_session_factory(db)() as s:
        return int(
            s.scalar(select(func.count(KeypadPress.id)).where(KeypadPress.citizen_present.is_(True))) or 0
        )


def _recorded_absences(db: Engine) -> list[tuple[str, datetime]]:
    with make_session_factory(db)() as s:
        rows = s.execute(
            select(ServiceWindow.code, AbsenceEvent.started_at)
            .join(ServiceWindow, ServiceWindow.id == AbsenceEvent.window_id)
            .where(AbsenceEvent.origin == "recording")
        )
        return [(code, to_utc(at)) for code, at in rows]


def test_citizens_presses_reach_central_bound_to_their_cases(
    db: Engine, session: Session, settings: Settings, clock, tmp_path: Path
) -> None:
    seed_demo(session, now=clock(), default_profile_key="sichuan-2011", cases=50)
    make_user(db, "admin", role=Role.SYSTEM_SUPERVISOR, scope="*", password=ROOT_PASSWORD)
    plan = plan_hall(session, hall_code="510000-ZWFW", windows=2, now=datetime.now(UTC))
    assert [w.window for w in plan.windows] == ["W01", "W02"]
    with serve(create_app(settings, engine=db)) as url:  # the edge stamps real time: central runs on it too
        hall = SimulatedHall(
            plan, base_url=url, username="admin", password=ROOT_PASSWORD, every_seconds=0.5, workdir=tmp_path
        ).start()
        try:
            deadline = time.monotonic() + 180  # the scene seats its first citizens after ~20 s
            while (
                _bound(db) < 2 or not _seen_by_the_camera(db) or not _recorded_absences(db)
            ) and time.monotonic() < deadline:
                time.sleep(0.2)
            with httpx.Client(base_url=url) as console:
                console.post("/console/login", data={"username": "admin", "password": ROOT_PASSWORD})
                page = console.get("/console/ratings").text
        finally:
            hall.stop()
    assert _bound(db) >= 2, (tmp_path / "outbox.db").exists()
    # the generated camera's analysis stamped the presses: citizens are served where it sees them
    assert _seen_by_the_camera(db) >= 1
    # the edge agent reported its keypads' health: the dashboard lists them
    assert "评价器状态" in page and "KP-W01" in page and "KP-W02" in page
    # yesterday's recording, analysed as an inspector would: W01's clerk away 09:01-09:05, marked recorded
    [(window, started_at)] = _recorded_absences(db)
    assert window == "W01" and started_at.astimezone(SHANGHAI).strftime("%H:%M") == "09:01"
