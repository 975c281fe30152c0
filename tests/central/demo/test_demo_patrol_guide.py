"""The demo's patrol steps (issue 15 item 6): on a working day the demo inspector finds a task of the
demo hall in today's plan and opens it from the plan page; on a day off (weekend, holiday) there is no
plan and the steps point to the unplanned patrol on the hall's live page. The demo hall's agent config
maps its windows to the camera and offers live view on loopback only."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.app import create_app
from central.core.config import Settings
from central.demo.accounts import DEMO_HALL, DEMO_PASSWORD, DEMO_PATROLLER, create_demo_users
from central.demo.hall_sim import DEMO_CAMERA, SimulatedHall, plan_hall
from central.demo.patrol_guide import (
    MY_TASKS,
    START_TASK,
    START_UNPLANNED,
    PatrolGuide,
    patrol_guide,
    publish_todays_patrols,
)
from central.demo.seed import seed_demo
from central.patrols.models import PatrolSession, PatrolTask
from central.registry.models import Hall
from edge.configfile import load_edge_config
from tests.conftest import FakeClock, with_form_token

PROVINCE_INSPECTORS = {"sichuan", "sichuan2"}


def demo_guide(session: Session, settings: Settings, clock: FakeClock) -> tuple[PatrolGuide, int | None]:
    """What `hallwatch demo` does before it serves, at the clock's day: the guide and the plan's id."""
    plan = publish_todays_patrols(session, settings=settings, now=clock())
    guide = patrol_guide(
        session,
        plan=plan,
        hall_code=DEMO_HALL,
        account=DEMO_PATROLLER,
        password=DEMO_PASSWORD,
        default_profile_key=settings.rule_profile,
    )
    return guide, plan.plan_id


@pytest.fixture
def demo_province(session: Session, clock: FakeClock) -> None:
    clock.set_shanghai(2026, 12, 4)  # the demo's data, seeded as on the Friday before
    seed_demo(session, now=clock(), default_profile_key="sichuan-2011", cases=30)
    create_demo_users(session, now=clock())
    session.commit()


def console(db: Engine, settings: Settings, clock: FakeClock, username: str) -> TestClient:
    client = TestClient(create_app(settings, engine=db, clock=clock))
    signed_in = client.post(
        "/console/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert signed_in.status_code == 303, signed_in.text
    return with_form_token(client)


def hall_tasks(session: Session, plan_id: int) -> dict[str, int]:
    """The demo hall's tasks in the plan, by inspector."""
    rows = session.execute(
        select(User.username)
        .select_from(PatrolTask)
        .join(User, User.id == PatrolTask.inspector_id)
        .join(Hall, Hall.id == PatrolTask.hall_id)
        .where(PatrolTask.plan_id == plan_id, Hall.code == DEMO_HALL)
    )
    counts: dict[str, int] = {}
    for (name,) in rows:
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.usefixtures("demo_province")
def test_on_working_days_the_demo_inspector_finds_the_demo_halls_task_and_opens_it(
    db: Engine, session: Session, settings: Settings, clock: FakeClock
) -> None:
    for day in (7, 8):  # Monday and Tuesday: the hand-round offset moves, each keeps one of the two
        clock.set_shanghai(2026, 12, day, 9)
        guide, plan_id = demo_guide(session, settings, clock)
        assert plan_id is not None and guide.task_id is not None and guide.no_task is None
        assert guide.account == DEMO_PATROLLER and guide.start_path == "/console/patrols"
        # the province's centre is patrolled twice a day, once by each of the province's inspectors
        assert hall_tasks(session, plan_id) == dict.fromkeys(PROVINCE_INSPECTORS, 1)
    text = "\n".join(guide.lines("http://127.0.0.1:8000"))
    assert re.search(r"http://127\.0\.0\.1:8000/console/patrols$", text, re.M) and f"「{START_TASK}」" in text
    assert f"account {DEMO_PATROLLER}" in text and DEMO_PASSWORD in text and "120 秒" in text
    with console(db, settings, clock, guide.account) as page:
        html = page.get(guide.start_path).text
        mine = html[html.index(MY_TASKS) : html.index("本辖区巡查计划")]
        row = next(r for r in mine.split("<tr>") if guide.hall_name in r)
        assert f'name="task" value="{guide.task_id}"' in row and START_TASK in row
        opened = page.post("/console/patrols/start", data={"task": guide.task_id}, follow_redirects=False)
        assert opened.status_code == 303, opened.text
        assert re.fullmatch(r"/console/patrols/sessions/\d+", opened.headers["location"])
        patrol = session.scalars(select(PatrolSession)).one()
        assert patrol.task_id == guide.task_id


@pytest.mark.usefixtures("demo_province")
@pytest.mark.parametrize(
    ("day", "why"), [((2026, 12, 6), "Sunday"), ((2026, 10, 1), "National Day, a Thursday")]
)
def test_on_a_day_off_the_demo_points_to_the_unplanned_patrol_on_the_live_page(
    db: Engine,
    session: Session,
    settings: Settings,
    clock: FakeClock,
    day: tuple[int, int, int],
    why: str,
) -> None:
    clock.set_shanghai(*day)
    guide, plan_id = demo_guide(session, settings, clock)
    assert plan_id is None and guide.task_id is None, why
    assert guide.no_task is not None and "非工作日" in guide.no_task
    assert guide.start_path == f"/console/live/{DEMO_HALL}" and guide.start_button == START_UNPLANNED
    text = "\n".join(guide.lines("http://127.0.0.1:8000"))
    assert "无巡查计划" in text and f"http://127.0.0.1:8000/console/live/{DEMO_HALL}" in text
    with console(db, settings, clock, guide.account) as page:
        assert "非工作日" in page.get("/console/patrols").text
        live = page.get(guide.start_path).text
        assert START_UNPLANNED in live and f'name="hall" value="{DEMO_HALL}"' in live
        opened = page.post("/console/patrols/start", data={"hall": DEMO_HALL}, follow_redirects=False)
        assert opened.status_code == 303, opened.text


@pytest.mark.parametrize("source", ["simulated hall", "camera_configs/demo-hall.yaml"])
def test_the_demo_halls_agent_maps_its_windows_to_the_camera_and_goes_live_on_loopback_only(
    session: Session, clock: FakeClock, tmp_path: Path, repo_root: Path, source: str
) -> None:
    if source == "simulated hall":  # what `hallwatch demo` runs
        seed_demo(session, now=clock(), default_profile_key="sichuan-2011", cases=10)
        plan = plan_hall(session, hall_code=DEMO_HALL, windows=4, now=datetime.now(UTC))
        hall = SimulatedHall(
            plan, base_url="http://127.0.0.1:8000", username="admin", password="-", workdir=tmp_path
        )
        config = hall.edge_config()
    else:  # the same hall's agent run by hand (README: hallwatch edge run)
        config = load_edge_config(repo_root / source)
    assert config.hall == DEMO_HALL
    assert [w.name for w in config.windows] == ["W01", "W02", "W03", "W04"]
    assert {w.camera for w in config.windows} == {DEMO_CAMERA} == {c.name for c in config.cameras}
    assert config.live is not None and config.live.enabled
    assert [str(a) for a in config.live.host_addresses or []] == ["127.0.0.1"]
    assert config.live.clip_buffer_seconds == 10  # a finding's clip: the seconds before it
