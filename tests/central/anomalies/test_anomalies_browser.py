"""Data supervision as an inspector lives it, in headless Chromium against the real app under
uvicorn, on both databases: September's log has two acceptances out of hours (20:30 on a working
day, and a Sunday), which the rules' run found. From the console's navigation the inspector reads
both hits with their evidence, turns the evening one into a signal with a note (and follows it to the
signal), cannot dismiss the other without a reason (the form says so before anything is sent),
dismisses it with one, and finds each under its status. Screenshots are left in
test-artifacts/anomalies/."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.anomalies.models import AnomalyHit
from central.anomalies.run import run_anomalies
from central.app import create_app
from central.audit.models import AuditEntry
from central.calendar.service import load_calendar
from central.cases.models import Case
from central.core.actor import Actor
from central.core.config import Settings
from central.signals.models import Signal
from tests.browser import chromium, local_page, serve, shot_per_database, sign_in
from tests.central.anomalies.helpers import PERIOD, at, clean_log, store, workdays
from tests.conftest import FakeClock, make_user

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery-2026"  # tests.conftest.make_user's default
ARTIFACTS = (
    Path(os.environ.get("HALLWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
    / "anomalies"
)


@pytest.fixture
def hits(session: Session, registry: dict[str, int], db: Engine, clock: FakeClock) -> dict[str, int]:
    """The two out-of-hours acceptances, found by a run of the rules: hit ids by name."""
    log = clean_log(first=PERIOD[0], last=PERIOD[1])
    evening = log.case(at(workdays(*PERIOD)[3], 20, 30), done_after=5)
    sunday = log.case(at(date(2026, 9, 13), 10), done_after=5)
    store(session, log)
    make_user(db, "sichuan", role=Role.INSPECTOR, scope="region:510000")
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
    assert report.by_rule["outside_hours"] == report.found == 2
    found = {}
    for name, case_no in (("evening", evening), ("sunday", sunday)):
        case_id = session.scalars(select(Case.id).where(Case.case_no == case_no)).one()
        found[name] = session.scalars(select(AnomalyHit.id).where(AnomalyHit.case_id == case_id)).one()
    return found


@pytest.fixture
def live_url(db: Engine, settings: Settings, clock: FakeClock, hits: dict[str, int]) -> Iterator[str]:
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def shot(page: Page, db: Engine, name: str) -> None:
    shot_per_database(page, ARTIFACTS, db.dialect.name, name)


def show_status(page: Page, label: str) -> None:
    filters = page.get_by_role("form", name="筛选线索")
    filters.get_by_label("状态").select_option(label=label)
    filters.get_by_role("button", name="筛选").click()


def test_an_inspector_signals_one_hit_and_dismisses_another_with_a_reason(
    browser: Browser, live_url: str, db: Engine, session: Session, hits: dict[str, int]
) -> None:
    evening, sunday = hits["evening"], hits["sunday"]
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "sichuan", PASSWORD)
        page.get_by_role("navigation").get_by_role("link", name="数据监察").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("数据监察")
        expect(page.get_by_role("status")).to_have_text("共 2 条")
        first = page.locator(f"#hit-{evening}")
        expect(first.get_by_role("heading", level=3)).to_contain_text("工作时间外受理")
        expect(first).to_contain_text("20:30")  # the evidence lists the case and its time
        shot(page, db, "01-hits")

        signal_form = page.get_by_role("form", name=f"将线索 #{evening} 转为纠错信号")
        signal_form.get_by_label("核实意见").fill("夜间补录，已向窗口核实")
        signal_form.get_by_role("button", name="转为纠错信号").click()
        expect(page.get_by_role("status")).to_have_text("共 1 条")  # open ones are left
        expect(page.locator(f"#hit-{evening}")).to_have_count(0)

        dismiss = page.get_by_role("form", name=f"排除线索 #{sunday}")
        dismiss.get_by_role("button", name="排除").click()  # no reason: the browser keeps the form
        reason = dismiss.get_by_label("排除理由")
        assert reason.evaluate("input => input.validity.valueMissing") is True
        expect(page.get_by_role("status")).to_have_text("共 1 条")
        shot(page, db, "02-reason-needed")
        reason.fill("周末预约服务，已向中心报备")
        dismiss.get_by_role("button", name="排除").click()
        expect(page.get_by_role("status")).to_have_text("共 0 条")
        expect(page.get_by_text("没有符合条件的线索。")).to_be_visible()

        show_status(page, "已排除")
        dismissed = page.locator(f"#hit-{sunday}")
        expect(dismissed).to_have_attribute("data-status", "dismissed")
        expect(dismissed).to_contain_text("周末预约服务，已向中心报备")
        shot(page, db, "03-dismissed")
        show_status(page, "已转纠错信号")
        signalled = page.locator(f"#hit-{evening}")
        expect(signalled).to_contain_text("夜间补录，已向窗口核实")
        session.expire_all()
        hit = session.get(AnomalyHit, evening)
        assert hit is not None and hit.status == "signalled" and hit.signal_id is not None
        signalled.get_by_role("link", name=f"纠错信号 #{hit.signal_id}").click()
        expect(page).to_have_url(re.compile(rf"/console/signals/{hit.signal_id}$"))
        expect(page.locator("main")).to_contain_text("工作时间外受理")
        shot(page, db, "04-signal")

    signal = session.get(Signal, hit.signal_id)
    assert signal is not None and (signal.origin, signal.reason_code, signal.case_id) == (
        "data",
        "data_anomaly",
        hit.case_id,
    )
    other = session.get(AnomalyHit, sunday)
    assert other is not None and (other.status, other.decision_note) == (
        "dismissed",
        "周末预约服务，已向中心报备",
    )
    audited = {
        entry.action: json.loads(entry.after or "{}")
        for entry in session.scalars(select(AuditEntry).where(AuditEntry.action.like("anomaly.%")))
    }
    assert audited["anomaly.signal"]["signal_id"] == signal.id and "anomaly.dismiss" in audited
