"""Fixtures of the display tests: one headless Chromium per module; the stand-in for the display agent
(page_server.py) serving the sample hall, for the pages' own tests; the fake central
(fake_central.py) for the agent's own tests. End-to-end tests (test_displays_e2e.py) run the real
central and the real agent (harness.py: `display_settings` + `running_agent`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from sqlalchemy.orm import Session

from central.core.actor import Actor
from central.devices.keys import issue_key
from central.registry.models import Device
from tests.browser import chromium, serve
from tests.conftest import FakeClock
from tests.hall_display.fake_central import FakeCentral
from tests.hall_display.hall_data import hall_data, open_cases
from tests.hall_display.page_server import PageServer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def hall() -> Iterator[PageServer]:
    server = PageServer(hall_data(open_cases()))
    yield server
    server.closed = True


@pytest.fixture
def url(hall: PageServer) -> Iterator[str]:
    with serve(hall.app) as base:
        yield base
        hall.closed = True  # ends the open event streams, so the server can stop


@pytest.fixture
def fake_central() -> Iterator[FakeCentral]:
    """A stand-in for central's public feed, serving on a loopback port of its own."""
    central = FakeCentral()
    central.start()
    try:
        yield central
    finally:
        central.close()


@pytest.fixture
def display_key(session: Session, registry: dict[str, int], clock: FakeClock) -> str:
    """A display device of the test registry's provincial hall, and its key (X-Device-Key)."""
    device = Device(code="DISPLAY-TEST", kind="display", name="大厅屏幕", hall_id=registry["hall"])
    session.add(device)
    session.flush()
    key = issue_key(
        session, device=device, now=clock(), issued_by=None, actor=Actor(kind="cli", name="tests")
    )
    session.commit()
    return key.key
