"""The sampling pages (zh-CN) through the real app, and `hallwatch sampling draw|verify`, on both
databases: a draw from the form, the reviewer's form on their own cases only, the recomputation,
coverage; the CLI's draw verifies, and a tampered record does not (exit 1)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from central.access.models import User
from central.app import create_app
from central.core.config import Settings
from central.sampling.models import SampleCase, SampleDraw
from tests.central.sampling.helpers import inspectors, seed_october
from tests.conftest import FakeClock, with_form_token


@pytest.fixture
def world(session: Session, registry: dict[str, int], db: Engine) -> None:
    seed_october(session)
    inspectors(db)


def browser_for(db: Engine, settings: Settings, clock: FakeClock, username: str) -> TestClient:
    client = TestClient(create_app(settings, engine=db, clock=clock))
    login = client.post(
        "/console/login",
        data={"username": username, "password": "correct-horse-battery-2026"},
        follow_redirects=False,
    )
    assert login.status_code == 303
    return with_form_token(client)


def test_draw_review_and_verify_on_the_pages(
    world: None, db: Engine, settings: Settings, clock: FakeClock, session: Session
) -> None:
    with browser_for(db, settings, clock, "sichuan") as browser:
        page = browser.get("/console/sampling").text
        assert "<h1>抽样监察</h1>" in page and 'value="2026-10"' in page and "region:510000" in page
        assert "辖区内还没有抽样" in page and "<td>60</td>" in page  # October's closed cases, covered 0 %
        refused = browser.post("/console/sampling/draws", data={"month": "2026-11", "scope": ""})
        assert refused.status_code == 409 and "尚未结束" in refused.text
        made = browser.post(
            "/console/sampling/draws", data={"month": "2026-10", "scope": ""}, follow_redirects=False
        )
        assert made.status_code == 303
        detail = browser.get(made.headers["location"]).text
        assert "抽样 #" in detail and "sichuan、sichuan2" in detail and "随机种子" in detail
        draw = session.scalars(select(SampleDraw)).one()
        forms = re.findall(r'action="/console/sampling/cases/(\d+)/review"', detail)
        own = {c.id for c in draw.cases if c.reviewer_id == user_id(session, "sichuan")}
        assert {int(f) for f in forms} == own  # a review form on my own cases only
        target = next(iter(own))
        missing = browser.post(
            f"/console/sampling/cases/{target}/review",
            data={"draw_id": str(draw.id), "finding": "noncompliant"},
        )
        assert missing.status_code == 400 and "须选择所违反的规则" in missing.text
        reviewed = browser.post(
            f"/console/sampling/cases/{target}/review",
            data={
                "draw_id": str(draw.id),
                "finding": "noncompliant",
                "reason_code": "refusal_without_reasons",
            },
            follow_redirects=False,
        )
        assert reviewed.status_code == 303
        again = browser.get(f"/console/sampling/draws/{draw.id}").text
        assert "不合规" in again and "纠错信号 #" in again and "不予许可未说明理由" in again
        checked = browser.get(f"/console/sampling/draws/{draw.id}?verify=1").text
        assert "复算结果一致" in checked
    with browser_for(db, settings, clock, "chengdu") as other:
        assert other.get(f"/console/sampling/draws/{draw.id}").status_code == 404
    with browser_for(db, settings, clock, "clerk") as clerk:
        assert clerk.get("/console/sampling").status_code == 403


def user_id(session: Session, username: str) -> int:
    return session.scalars(select(User.id).where(User.username == username)).one()


def test_the_cli_draws_and_verifies(world: None, settings: Settings, session: Session) -> None:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin", "COLUMNS": "160"}

    def cli(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "central.cli", "sampling", *words],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    drawn = cli("draw", "--month", "2026-10", "--scope", "region:510000", "--note", "季度抽查")
    assert drawn.returncode == 0, drawn.stderr
    draw_id = int(re.search(r"抽样 #(\d+)", drawn.stdout).group(1))  # type: ignore[union-attr]
    assert "of 60 case(s)" in drawn.stdout
    verified = cli("verify", str(draw_id))
    assert verified.returncode == 0 and "verified" in verified.stdout
    assert cli("draw", "--month", "2026-10", "--scope", "region:510000").returncode == 2  # once per month
    session.execute(update(SampleCase).where(SampleCase.position == 1).values(case_no="TAMPERED"))
    session.commit()
    tampered = cli("verify", str(draw_id))
    assert tampered.returncode == 1 and "does not recompute" in tampered.stderr
    assert cli("verify", "99999").returncode == 2
