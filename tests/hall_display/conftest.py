"""Fixtures of the display tests: one headless Chromium per module; the stand-in for the display agent
(page_server.py) serving the sample hall, for the pages' own tests; the fake central
(fake_central.py) for the agent's own tests. End-to-end tests (test_displays_e2e.py) run the real
central and the real agent (harness.py: `display_settings` + `running_agent`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser import chromium, serve
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
