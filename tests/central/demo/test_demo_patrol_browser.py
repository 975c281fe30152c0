"""The demo's video patrol in headless Chromium (issue 15 item 6), built from the demo's own parts as
`hallwatch demo` assembles them: the demo province and accounts, today's plan published at start-up,
the simulated hall's real edge agent with its generated camera live on loopback. The demo inspector
follows the steps the demo prints — today's task from the plan page on a working day, the unplanned
patrol from the live page on a day off — watches the grid, records a finding on a window, and central
receives its snapshot and clip; the patrol ends and is judged on the proof of viewing.

Both paths run whatever today is: central's clock is moved ahead to the next working day and the next
day off (none when today is one); the agent keeps its stamps to central's clock (clock sync), as a
hall box without NTP does.

The profile's minimum viewing time is shortened (tests/central/patrols/test_patrol_browser.py);
yesterday's recording is not analysed here (its own test is test_hall_sim.py). No timing assertions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.calendar.service import load_calendar
from central.core.clock import shanghai_date
from central.core.config import Settings
from central.core.db import make_session_factory
from central.demo.accounts import DEMO_HALL, DEMO_PASSWORD, DEMO_PATROLLER, create_demo_users
from central.demo.hall_sim import DEMO_CAMERA, HallPlan, SimulatedHall, plan_hall
from central.demo.patrol_guide import MY_TASKS, PatrolGuide, patrol_guide, publish_todays_patrols
from central.demo.seed import seed_demo
from central.patrols.models import PatrolFinding, PatrolSession
from central.video.models import CameraState, Evidence
from common.worktime import CalendarMissingError
from tests.browser import chromium, local_page, serve, sign_in
from tests.central.live.test_live_browser import WEBRTC_ARGS
from tests.central.patrols.test_patrol_browser import MIN_VIEWING_S, short_patrols
from tests.edge.contract import wait_until

__all__ = ["short_patrols"]
WAIT_S = 120.0


def camera_online(db: Engine) -> bool:
    with make_session_factory(db)() as session:
        state = session.scalar(select(CameraState).where(CameraState.camera == DEMO_CAMERA))
        return state is not None and state.online


def captured(db: Engine) -> list[str]:
    """The media types central stored for the patrol's finding."""
    with make_session_factory(db)() as session:
        finding = session.scalars(select(PatrolFinding)).one()
        return sorted(session.scalars(select(Evidence.media_type).where(Evidence.capture == finding.capture)))


def judged(db: Engine) -> str:
    with make_session_factory(db)() as session:
        return session.scalars(select(PatrolSession)).one().state


def days_ahead(session: Session, *, working: bool) -> timedelta:
    """How far ahead the next working day (or day off) lies, today counting."""
    calendar, today = load_calendar(session), shanghai_date(datetime.now(UTC))
    try:
        ahead = next(n for n in range(15) if calendar.is_workday(today + timedelta(days=n)) == working)
    except CalendarMissingError as exc:
        pytest.skip(f"the calendar does not cover the coming days yet: {exc}")
    return timedelta(days=ahead)


def demo_start_up(session: Session, settings: Settings, *, now: datetime) -> tuple[HallPlan, PatrolGuide]:
    """What `hallwatch demo` does before it serves (fewer cases): the hall's plan and the patrol steps."""
    seed_demo(session, now=now, default_profile_key="sichuan-2011", cases=30)
    create_demo_users(session, now=now)
    session.commit()
    hall_plan = plan_hall(session, hall_code=DEMO_HALL, windows=4, now=now)
    plan = publish_todays_patrols(session, settings=settings, now=now)
    guide = patrol_guide(
        session,
        plan=plan,
        hall_code=DEMO_HALL,
        account=DEMO_PATROLLER,
        password=DEMO_PASSWORD,
        default_profile_key=settings.rule_profile,
    )
    session.close()
    return hall_plan, guide


def follow_the_steps(tab: Page, url: str, db: Engine, guide: PatrolGuide) -> None:
    """Steps 1–5 as the demo prints them: sign in, open the patrol, watch, record a finding, end."""
    tab.set_default_timeout(WAIT_S * 1000)  # a loaded machine (CI) is slow to load pages with video
    sign_in(tab, url, guide.account, guide.password)
    tab.goto(f"{url}{guide.start_path}")
    start = tab.get_by_role("button", name=guide.start_button, exact=True)
    if guide.task_id is not None:  # a working day: the task's row under 我的巡查任务
        mine = tab.locator("section", has=tab.get_by_role("heading", name=MY_TASKS))
        start = mine.locator("tr", has_text=guide.hall_name).get_by_role(
            "button", name=guide.start_button, exact=True
        )
    start.click()
    tab.wait_for_url("**/console/patrols/sessions/*")
    tab.wait_for_function(
        "() => Number(document.querySelector('.live-tile').dataset.framesDecoded || 0) >= 5",
        timeout=WAIT_S * 1000,
    )
    tab.locator(".live-tile").first.click()  # focus: the stream whose ring holds the clip
    tab.wait_for_function(
        "() => (document.querySelector('.live-state').textContent || '').startsWith('放大')"
        " && Number(document.querySelector('.live-tile').dataset.framesDecoded || 0) >= 20",
        timeout=WAIT_S * 1000,
    )
    tab.get_by_label("窗口").select_option("W01")
    tab.get_by_label("类别").select_option(label="玩手机")
    tab.get_by_label("说明", exact=True).fill("演示：低头玩手机")
    tab.get_by_role("button", name="记录", exact=True).click()
    tab.get_by_text("已记录：玩手机（1号窗口）").wait_for(timeout=WAIT_S * 1000)
    wait_until(
        lambda: captured(db) == ["image/jpeg", "video/webm"],
        what="the finding's snapshot and clip at central",
        timeout=WAIT_S,
    )
    tab.wait_for_timeout(MIN_VIEWING_S * 1000 + 1500)  # watch past the (shortened) minimum
    tab.get_by_role("button", name="结束巡查").click()
    tab.wait_for_function("() => !document.getElementById('end-form')", timeout=WAIT_S * 1000)
    findings = tab.locator("#findings tbody tr")  # reloaded: the finding with its evidence links
    assert findings.count() == 1
    assert findings.first.get_by_role("link", name="截图").count() == 1
    assert findings.first.get_by_role("link", name="视频片段").count() == 1


@pytest.mark.parametrize("working", [True, False], ids=["working-day-task", "day-off-unplanned"])
def test_the_demo_inspector_patrols_the_demo_hall_in_chromium_as_the_demo_prints_it(
    db: Engine, session: Session, settings: Settings, tmp_path: Path, short_patrols: None, working: bool
) -> None:
    ahead = days_ahead(session, working=working)
    now = datetime.now(UTC) + ahead  # central's "today"; the agent follows central's clock
    hall_plan, guide = demo_start_up(session, settings, now=now)
    assert (guide.task_id is not None) == working, guide.no_task
    app = create_app(settings, engine=db, clock=lambda: datetime.now(UTC) + ahead)
    try:
        with serve(app) as url:
            hall = SimulatedHall(
                hall_plan,
                base_url=url,
                username="admin",
                password=DEMO_PASSWORD,
                every_seconds=20,
                workdir=tmp_path,
                recording=False,
            ).start()
            try:
                wait_until(
                    lambda: camera_online(db), what="the demo camera online at central", timeout=WAIT_S
                )
                with (
                    chromium(*WEBRTC_ARGS) as browser,
                    local_page(browser, url, permissions=["camera", "microphone"]) as tab,
                ):
                    follow_the_steps(tab, url, db, guide)
                wait_until(
                    lambda: judged(db) in ("complete", "incomplete"), what="the patrol judged", timeout=WAIT_S
                )
            finally:
                hall.stop()
    finally:
        app.state.notifier.stop()
    with make_session_factory(db)() as check:
        patrol = check.scalars(select(PatrolSession)).one()
        assert patrol.state == "complete", patrol.verdict
        assert patrol.task_id == guide.task_id  # the plan's task on a working day, unplanned on a day off
        assert patrol.day == shanghai_date(now)
