"""Dual-track detection as an inspector lives it, in headless Chromium against the real app under
uvicorn, on both databases: a judged day at five windows, two of which (W02, K02) left half their
served citizens unrecorded, W02 with a snapshot in one of its hours. From the video page the
inspector opens the day's judgements (the flagged first), filters them to 疑似体外循环, opens W02's
and reads its visitors and cases hour by hour (as judged), the hours beyond the usual marked, the
signal it raised, and the snapshot behind the SC-18 grant (a request form, no image). Screenshots are
left in test-artifacts/dualtrack/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.config import Settings
from central.dualtrack.models import DualTrackJudgement
from central.registry.models import ServiceWindow
from central.signals.models import Signal
from tests.browser import chromium, local_page, serve, shot_per_database, sign_in
from tests.central.dualtrack.days import DAY, Window, generate, hour_start, windows, write_day
from tests.central.dualtrack.test_judge import judge
from tests.central.video.helpers import PASSWORD, World, edge, evidence, upload, world
from tests.conftest import FakeClock

__all__ = ["edge", "windows", "world"]  # fixtures this module's own fixture builds on

pytestmark = pytest.mark.browser
FLAGGED = {"W02", "K02"}  # half their served visitors unrecorded
ARTIFACTS = (
    Path(os.environ.get("HALLWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
    / "dualtrack"
)


@pytest.fixture
def w02(client: TestClient, world: World, session: Session, windows: dict[str, Window]) -> DualTrackJudgement:
    """DAY judged at every window, with a snapshot of W02 at 10:20; W02's judgement."""
    rng = np.random.default_rng(23)
    for code, window in windows.items():
        hours = generate(rng, visits=200, enquiry=0.1, unrecorded=0.5 if code in FLAGGED else 0.0)
        write_day(client, world, session, window, DAY, hours)
    shot = evidence(hour_start(DAY, 10).replace(minute=20), window="W02", reason="manual")
    assert upload(client, world.headers["EDGE-P"], shot)["stored"] == 1
    assert judge(session, DAY)
    return session.scalars(
        select(DualTrackJudgement)
        .join(ServiceWindow, ServiceWindow.id == DualTrackJudgement.window_id)
        .where(ServiceWindow.code == "W02")
    ).one()


@pytest.fixture
def live_url(db: Engine, settings: Settings, clock: FakeClock, w02: DualTrackJudgement) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def shot(page: Page, db: Engine, name: str) -> None:
    shot_per_database(page, ARTIFACTS, db.dialect.name, name)


def open_flagged_day(page: Page, db: Engine) -> None:
    """From the video page to the day's judgements, filtered to the flagged ones."""
    page.get_by_role("navigation").get_by_role("link", name="视频监察").click()
    page.get_by_role("link", name="双轨运行研判").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("双轨运行研判")
    rows = page.locator("table.dualtrack tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(0)).to_have_attribute("data-outcome", "flagged")  # the flagged come first
    expect(page.locator(".count-flagged")).to_have_text("2")
    shot(page, db, "01-day")
    filters = page.get_by_role("form", name="筛选研判结果")
    filters.get_by_label("结论").select_option(label="疑似体外循环")
    filters.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(2)
    flagged = [rows.nth(n).get_attribute("data-window") for n in range(2)]
    assert sorted(flagged) == sorted(FLAGGED)
    shot(page, db, "02-flagged")


def test_an_inspector_opens_a_flagged_judgement_and_reads_its_hours(
    browser: Browser, live_url: str, db: Engine, session: Session, w02: DualTrackJudgement
) -> None:
    assert w02.outcome == "flagged" and w02.signal_id is not None
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "inspector", PASSWORD)
        open_flagged_day(page, db)
        page.locator("tr[data-window='W02']").get_by_role("link", name="2号窗口").click()
        expect(page).to_have_url(re.compile(rf"/console/dualtrack/judgements/{w02.id}$"))
        expect(page.locator(".judgement-outcome")).to_have_text("疑似体外循环")
        expect(page.locator("dd.visits")).to_have_text(f"{w02.visits} 人次")
        expect(page.locator("dd.cases")).to_have_text(f"{w02.cases} 件")
        table = page.locator("table.dualtrack-hours tbody tr")
        expect(table).to_have_count(len(w02.hours))
        for hour, visits, cases in w02.hours:  # the counts as judged, hour by hour
            cells = page.locator(f"table.dualtrack-hours tr[data-hour='{hour}'] td")
            expect(cells.nth(0)).to_have_text(f"{hour:02d}:00–{hour + 1:02d}:00")
            expect(cells.nth(1)).to_have_text(str(visits))
            expect(cells.nth(2)).to_have_text(str(cases))
            expect(cells.nth(4)).to_have_text("是" if hour in w02.hours_over else "")
        expect(page.get_by_role("heading", name="未判为疑似的原因")).to_have_count(0)
        evidence_id = w02.evidence_ids[0]
        request = page.get_by_role("form", name=f"申请查看证据 #{evidence_id}")
        expect(request.get_by_role("button", name="申请查看")).to_be_visible()  # behind the grant
        expect(page.locator("img")).to_have_count(0)
        shot(page, db, "03-judgement")

        page.locator(".facts").get_by_role("link", name=f"#{w02.signal_id}").click()
        expect(page).to_have_url(re.compile(rf"/console/signals/{w02.signal_id}$"))
        expect(page.locator("main")).to_contain_text(
            f"2号窗口（W02）{DAY.isoformat()}：摄像机计数来访 {w02.visits} 人次"
        )
        shot(page, db, "04-signal")
    signal = session.get(Signal, w02.signal_id)
    assert signal is not None and (signal.origin, signal.reason_code, signal.color) == (
        "dual_track",
        "dual_track",
        "yellow",
    )
