"""Each agent's own clock as central measures it (`GET /device/time` with X-Device-Clock, sent by the
edge's clock sync): the latest difference per device is kept for `hallwatch doctor`; a reading without
its zone or not a time is refused, and an agent that sends none is answered as before."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.devices.models import DeviceClock
from central.registry.models import Device
from edge.central import CLOCK_HEADER, TIME_PATH
from tests.central.devices.helpers import edge
from tests.conftest import FakeClock

__all__ = ["edge"]


def skews(session: Session) -> dict[str, float]:
    session.expire_all()
    rows = session.execute(
        select(Device.code, DeviceClock.skew_seconds).join(Device, Device.id == DeviceClock.device_id)
    )
    return {code: skew for code, skew in rows}


def test_the_latest_reading_of_each_agent_is_kept(
    client: TestClient, session: Session, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    for offset in (timedelta(seconds=-42.5), timedelta(seconds=3)):  # a slow box, then fixed by NTP
        box = (clock() + offset).isoformat()
        answer = client.get(TIME_PATH, headers={**edge["EDGE-P"], CLOCK_HEADER: box})
        assert answer.status_code == 200, answer.text
    assert client.get(TIME_PATH, headers=edge["EDGE-K"]).status_code == 200, "no reading: answered as before"
    assert skews(session) == {"EDGE-P": 3.0}, "one row per agent, the latest reading"


def test_a_reading_that_is_not_an_aware_time_is_refused(
    client: TestClient, session: Session, clock: FakeClock, edge: dict[str, dict[str, str]]
) -> None:
    naive = client.get(TIME_PATH, headers={**edge["EDGE-P"], CLOCK_HEADER: "2026-11-27T10:00:00"})
    assert naive.status_code == 422
    assert "zone" in naive.text
    garbage = client.get(TIME_PATH, headers={**edge["EDGE-P"], CLOCK_HEADER: "yesterday"})
    assert garbage.status_code == 422
    assert skews(session) == {}
