"""Property (issue 16): whatever an applicant's name field holds — generated Chinese names, companies,
ID numbers, mobile numbers, a clerk's mix of them — the hall's screens never show it unmasked: not the
board page in Chromium (its text and its state), not the display agent's answers (snapshot, kiosk
lookup). Real central, real agent, real page; one of each for all the examples."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from central.app import create_app
from central.core.config import Settings
from tests.browser import local_page, serve
from tests.central.cases.helpers import HALL
from tests.central.public.helpers import received
from tests.central.public.test_nothing_unmasked import field_values
from tests.conftest import FakeClock
from tests.hall_display.harness import RunningAgent, display_settings, running_agent, wait_for
from tests.public_data import mobile_numbers

pytestmark = pytest.mark.browser
_numbers = itertools.count(1)


@pytest.fixture
def screens(
    browser: Browser,
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    display_key: str,
    tmp_path: Path,
) -> Iterator[tuple[RunningAgent, Page]]:
    with serve(create_app(settings, engine=db, clock=clock)) as central:
        config = display_settings(tmp_path, central, kind="tv", name="TV-MASK", hall=HALL)
        with running_agent(config, key=display_key) as agent, local_page(browser, agent.url) as page:
            page.set_viewport_size({"width": 1920, "height": 1080})
            page.goto(f"{agent.url}/board?rows=50")
            yield agent, page


def shown(page: Page) -> str:
    state: str = page.evaluate("() => JSON.stringify(window.hallwatchDisplay || {})")
    return page.content() + state


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=field_values, phone=mobile_numbers())
def test_the_screens_never_show_a_name_id_or_phone_unmasked(
    client: TestClient, screens: tuple[RunningAgent, Page], value: tuple[str, list[str]], phone: str
) -> None:
    agent, page = screens
    name, secrets = value
    case_no = f"M-{next(_numbers):04d}"
    event = received(f"{case_no}-r", case_no, "2026-11-27T09:30:00+08:00", applicant=f"{name[:80]} {phone}")
    pushed = client.post("/api/v1/cases/events", json=[event])
    assert pushed.status_code == 200, pushed.text
    password = pushed.json()["results"][0]["query_password"]
    wait_for(lambda: page.evaluate(f"() => '{case_no}' in (window.hallwatchDisplay?.cases || {{}})"), case_no)
    answers: list[Any] = [
        shown(page),
        httpx.get(agent.api("progress"), timeout=10).text,
        httpx.post(
            f"{agent.url}/api/v1/public/cases/lookup",
            json={"case_no": case_no, "password": password},
            timeout=10,
        ).text,
    ]
    for answer in answers:
        for secret in [*secrets, phone]:
            assert secret not in answer, f"{secret!r} shown"
