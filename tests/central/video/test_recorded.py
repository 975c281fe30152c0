"""Observations analysed from a recording (`origin: recording`) never count as live and never duplicate
what the live camera already reported (issue #19, item 2), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.video.models import AbsenceEvent, Evidence, PresenceInterval, VisitorCount, WindowCamera
from tests.central.video.helpers import (
    World,
    absence,
    edge,
    evidence,
    outcomes,
    presence,
    shanghai,
    upload,
    visitors,
    world,
)
from tests.central.video.test_pages import PAGE, console, sign_in
from tests.conftest import FakeClock

__all__ = ["console", "edge", "world"]


def recorded(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "origin": "recording"}


def every_kind(hour: Any) -> list[dict[str, Any]]:
    """One item of each kind a recording produces, in the hour from `hour`."""
    t = hour + timedelta(minutes=10)
    return [
        presence(t, t + timedelta(minutes=5)),
        evidence(t + timedelta(minutes=20)),
        absence(
            t + timedelta(minutes=20),
            t + timedelta(minutes=35),
            evidence=[f"W01:ev:{int((t + timedelta(minutes=20)).timestamp() * 1000)}"],
        ),
        visitors(hour, 3),
    ]


def test_in_an_hour_no_live_camera_watched_recorded_items_are_stored_marked_as_recorded(
    client: TestClient, session: Session, clock: FakeClock, world: World
) -> None:
    hour = shanghai(clock, 8)  # the camera was down all morning: only the NVR has it
    body = upload(client, world.headers["EDGE-P"], *[recorded(i) for i in every_kind(hour)])
    assert outcomes(body) == ["stored"] * 4
    session.expire_all()
    for model in (PresenceInterval, Evidence, AbsenceEvent, VisitorCount):
        [row] = session.scalars(select(model)).all()
        assert row.origin == "recording", model
    assert session.scalars(select(WindowCamera)).all() == []  # the live camera mapping is not moved
    [listed] = client.get("/api/v1/video/absences").json()["items"]
    assert listed["origin"] == "recording"
    # Sent again (the same recording analysed twice): nothing twice.
    again = upload(client, world.headers["EDGE-P"], *[recorded(i) for i in every_kind(hour)])
    assert outcomes(again) == ["duplicate"] * 4


def test_in_an_hour_the_live_camera_reported_recorded_items_are_duplicates_and_not_stored(
    client: TestClient, session: Session, clock: FakeClock, world: World
) -> None:
    hour = shanghai(clock, 8)
    live = upload(client, world.headers["EDGE-P"], visitors(hour, 5, watched_from_second=0))
    assert outcomes(live) == ["stored"]
    items = [recorded(i) for i in every_kind(hour)]
    items[-1]["id"] = items[-1]["id"].replace(":0", ":600")  # the recording's own part of the hour
    items[-1]["watched_from_second"] = 600
    body = upload(client, world.headers["EDGE-P"], *items)
    assert outcomes(body) == ["duplicate"] * 4
    assert all("live camera already reported" in r["detail"] for r in body["results"])
    session.expire_all()
    assert session.scalars(select(PresenceInterval)).all() == []
    assert session.scalars(select(AbsenceEvent)).all() == []
    assert session.scalars(select(Evidence)).all() == []
    [count] = session.scalars(select(VisitorCount)).all()
    assert (count.visits, count.origin) == (5, "live")
    # The hour before, which the live camera did not report: the recording fills it.
    earlier = [recorded(i) for i in every_kind(hour - timedelta(hours=1))]
    assert outcomes(upload(client, world.headers["EDGE-P"], *earlier)) == ["stored"] * 4


def test_a_recorded_count_does_not_shadow_the_live_cameras_later_report(
    client: TestClient, session: Session, clock: FakeClock, world: World
) -> None:
    """The live count of an hour arrives when the hour ends: a recording analysed before then is kept
    beside it, each part once, and only live rows decide what counts as covered."""
    hour = shanghai(clock, 9)
    assert outcomes(
        upload(client, world.headers["EDGE-P"], recorded(visitors(hour, 2, watched_from_second=900)))
    ) == ["stored"]
    assert outcomes(upload(client, world.headers["EDGE-P"], visitors(hour, 4))) == ["stored"]
    session.expire_all()
    rows = sorted((r.watched_from_second, r.visits, r.origin) for r in session.scalars(select(VisitorCount)))
    assert rows == [(0, 4, "live"), (900, 2, "recording")]
    day = hour.date().isoformat()
    counted = client.get(f"/api/v1/video/halls/510000-ZWFW/visitors?date_from={day}").json()
    assert [(r["window_code"], r["visits"]) for r in counted] == [("W01", 4)]  # the live figure alone


def test_the_hall_page_marks_an_absence_found_in_a_recording(
    client: TestClient, clock: FakeClock, world: World, console: TestClient
) -> None:
    live = upload(client, world.headers["EDGE-P"], absence(shanghai(clock, 9, 5), shanghai(clock, 9, 30)))
    found = upload(
        client,
        world.headers["EDGE-P"],
        recorded(absence(shanghai(clock, 8, 5), shanghai(clock, 8, 40))),  # an hour no live camera saw
    )
    assert outcomes(live) == outcomes(found) == ["stored"]
    sign_in(console, "inspector")
    page = console.get(PAGE)
    assert page.status_code == 200, page.text
    assert page.text.count("absence-origin") == 1 and "录像分析" in page.text
