"""Sampling supervision as an inspector lives it, in headless Chromium against the real app under
uvicorn, on both databases: from the console's navigation the inspector draws last month's sample
(the form's defaults: October, their own province), finds a review form on the cases the draw dealt
them only, records 合规 with a note, is told that 不合规 needs the rule broken, records 不合规 citing
the rule broken (SZ-11's 不予许可未说明理由 on a refusal), follows the signal it raised, and finds the draw's counts and their own
task list up to date. Screenshots are left in test-artifacts/sampling/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.app import create_app
from central.core.config import Settings
from central.sampling.models import SampleCase, SampleDraw
from central.signals.models import Signal
from tests.browser import chromium, local_page, serve, shot_per_database, sign_in
from tests.central.sampling.helpers import inspectors, seed_october
from tests.conftest import FakeClock

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery-2026"  # tests.conftest.make_user's default
ARTIFACTS = (
    Path(os.environ.get("HALLWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
    / "sampling"
)


@pytest.fixture
def live_url(
    db: Engine, session: Session, settings: Settings, clock: FakeClock, registry: dict[str, int]
) -> Iterator[str]:
    """October's closed cases at the provincial hall (SZ-9's kinds among them); the clock on 27 November."""
    seed_october(session)
    inspectors(db)
    with serve(create_app(settings, engine=db, clock=clock)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def shot(page: Page, db: Engine, name: str) -> None:
    shot_per_database(page, ARTIFACTS, db.dialect.name, name)


def draw_last_month(page: Page, db: Engine, session: Session) -> SampleDraw:
    """From the console's navigation, the draw form with its defaults (October, my province)."""
    page.get_by_role("navigation").get_by_role("link", name="抽样监察").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("抽样监察")
    expect(page.get_by_text("没有待复核的抽样办件。")).to_be_visible()
    form = page.get_by_role("form", name="新建抽样")
    expect(form.get_by_label("月份")).to_have_value("2026-10")  # the last month that is over
    expect(form.get_by_label("范围（辖区代码）")).to_have_value("region:510000")
    form.get_by_label("说明").fill("十月办结件例行抽样")
    shot(page, db, "01-overview")
    form.get_by_role("button", name="抽样").click()
    expect(page).to_have_url(re.compile(r"/console/sampling/draws/\d+$"))
    draw = session.scalars(select(SampleDraw)).one()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"抽样 #{draw.id}（2026-10")
    expect(page.get_by_text("sichuan、sichuan2（由抽样轮流分配）")).to_be_visible()
    return draw


def review(page: Page, case: SampleCase, finding: str, *, code: str | None = None, note: str = "") -> None:
    form = page.get_by_role("form", name=f"复核办件 {case.case_no}")
    form.get_by_label(finding, exact=True).check()
    if code is not None:
        form.get_by_label("违反的规则（不合规必填）").select_option(code)
    if note:
        form.get_by_label("复核意见").fill(note)
    form.get_by_role("button", name="提交复核").click()


def test_an_inspector_draws_a_sample_and_files_both_findings(
    browser: Browser, live_url: str, db: Engine, session: Session
) -> None:
    with local_page(browser, live_url) as page:
        sign_in(page, live_url, "sichuan", PASSWORD)
        draw = draw_last_month(page, db, session)
        me = session.scalars(select(User.id).where(User.username == "sichuan")).one()
        mine = [c for c in draw.cases if c.reviewer_id == me]
        forms = page.get_by_role("form", name=re.compile("^复核办件 "))
        expect(forms).to_have_count(len(mine))  # a form on my own cases only: nobody picks theirs
        assert len(mine) >= 2, "the draw must deal this inspector two cases to file both findings"
        assert len(mine) < draw.sample_size, "the other reviewers must be dealt the rest"
        shot(page, db, "02-draw")

        # 不合规 cites what fits the case: a refusal without reasons where the draw dealt me a refusal
        refusals = [c for c in mine if "refusal" in c.kinds.split(",")]
        second = refusals[0] if refusals else mine[1]
        first = next(c for c in mine if c.id != second.id)
        code, label = (
            ("refusal_without_reasons", "不予许可未说明理由")
            if refusals
            else ("other_minor", "其他一般违规行为")
        )
        review(page, first, "合规", note="受理、审查、决定均在时限内，材料齐全")
        row = page.locator(f"#case-{first.id}")
        expect(row.locator(".finding")).to_have_text("合规")
        expect(row).to_contain_text("受理、审查、决定均在时限内，材料齐全")
        review(page, second, "不合规")
        expect(page.get_by_role("alert")).to_have_text("认定不合规须选择所违反的规则。")
        shot(page, db, "03-rule-needed")
        review(page, second, "不合规", code=code, note="决定书未载明理由和依据")
        row = page.locator(f"#case-{second.id}")
        expect(row.locator(".finding")).to_have_text("不合规")
        expect(row).to_contain_text(label)
        expect(page.get_by_text("已复核 2 件，不合规 1 件")).to_be_visible()
        shot(page, db, "04-reviewed")

        session.expire_all()
        bad, good = session.get(SampleCase, second.id), session.get(SampleCase, first.id)
        assert good is not None and good.finding == "compliant" and good.signal_id is None
        assert bad is not None and bad.finding == "noncompliant" and bad.signal_id is not None
        row.get_by_role("link", name=f"纠错信号 #{bad.signal_id}").click()
        expect(page).to_have_url(re.compile(rf"/console/signals/{bad.signal_id}$"))
        expect(page.locator("main")).to_contain_text(f"抽样复核认定办件 {second.case_no} 不合规")
        signal = session.get(Signal, bad.signal_id)
        assert signal is not None and (signal.origin, signal.reason_code, signal.case_id) == (
            "sampling",
            code,
            second.case_id,
        )
        shot(page, db, "05-signal")

        page.get_by_role("navigation").get_by_role("link", name="抽样监察").click()
        counts = page.locator(f"table.sample-draws tr[data-draw-id='{draw.id}'] td")
        expect(counts.nth(7)).to_have_text("2")  # 已复核
        expect(counts.nth(8)).to_have_text("1")  # 不合规
        expect(page.locator("table.sample-mine tbody tr")).to_have_count(len(mine) - 2)
        shot(page, db, "06-tasks")
