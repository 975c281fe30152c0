"""Fixtures of the display agent's tests: the fake central (see fake_central.py) and, in harness.py,
`display_settings` + `running_agent` to start a real agent against any central URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hall_display.fake_central import FakeCentral


@pytest.fixture
def fake_central() -> Iterator[FakeCentral]:
    """A stand-in for central's public feed, serving on a loopback port of its own."""
    central = FakeCentral()
    central.start()
    try:
        yield central
    finally:
        central.close()
