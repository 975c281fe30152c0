"""Camera observations through the real device endpoint: each kind stored once per device and
observation id (a re-sent batch is all duplicates), bad items rejected with a detail that says what
is wrong, camera outages from health transitions (SC-5(5)), absences (SC-6.1) whose end may arrive
first, visitor counts replaced by a fuller count of the same hour, evidence checked before storing."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.core.clock import to_utc
from central.video.models import (
    AbsenceEvent,
    CameraOutage,
    CameraState,
    Evidence,
    EvidenceImage,
    PresenceInterval,
    VisitorCount,
    WindowCamera,
)
from tests.central.video.helpers import (
    World,
    absence,
    astronaut_jpeg,
    camera_health,
    details,
    edge,
    evidence,
    outcomes,
    presence,
    shanghai,
    upload,
    visitors,
    world,
)
from tests.conftest import FakeClock

__all__ = ["edge", "world"]


def count(session: Session, column: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count(column))) or 0


def a_batch(clock: FakeClock) -> list[dict[str, Any]]:
    return [
        camera_health(shanghai(clock, 9, 0)),
        presence(shanghai(clock, 9, 0), shanghai(clock, 9, 20)),
        absence(shanghai(clock, 9, 20)),
        absence(shanghai(clock, 9, 20), shanghai(clock, 9, 45), evidence=["W01:ev:1"]),
        visitors(shanghai(clock, 9), 4),
        evidence(shanghai(clock, 9, 31)),
    ]


def test_every_kind_is_stored_once_and_a_resent_batch_is_all_duplicates(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    batch = a_batch(clock)
    first = upload(client, world.headers["EDGE-P"], *batch)
    assert outcomes(first) == ["stored"] * 6, first
    again = upload(client, world.headers["EDGE-P"], *batch)
    assert outcomes(again) == ["duplicate"] * 6, again
    assert (again["stored"], again["duplicates"]) == (0, 6)
    for column in (
        CameraState.id,
        PresenceInterval.id,
        AbsenceEvent.id,
        VisitorCount.id,
        Evidence.id,
        EvidenceImage.evidence_id,
        WindowCamera.id,
    ):
        assert count(session, column) == 1, column
    stored = session.scalars(select(AbsenceEvent)).one()
    assert stored.status == "pending"
    assert to_utc(stored.ended_at) - to_utc(stored.started_at) == timedelta(minutes=25)  # type: ignore[operator]
    interval = session.scalars(select(PresenceInterval)).one()
    assert interval.seconds == 20 * 60


def test_unknown_windows_and_another_halls_windows_are_rejected_by_name(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    body = upload(
        client,
        world.headers["EDGE-P"],
        presence(shanghai(clock, 9), shanghai(clock, 9, 5), window="W99"),
        absence(shanghai(clock, 9, 20), window="K01"),  # the county hall's window
        visitors(shanghai(clock, 9), 1, window="W99"),
        evidence(shanghai(clock, 9, 1), window="W99"),
    )
    assert outcomes(body) == ["rejected"] * 4
    assert details(body) == [
        "no window W99 in hall 510000-ZWFW",
        "no window K01 in hall 510000-ZWFW",
        "no window W99 in hall 510000-ZWFW",
        "no window W99 in hall 510000-ZWFW",
    ]


def test_evidence_is_checked_before_it_is_stored(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    jpeg = astronaut_jpeg()
    png = b"\x89PNG\r\n\x1a\n" + jpeg[8:]
    cut = jpeg[: len(jpeg) // 2]
    body = upload(
        client,
        world.headers["EDGE-P"],
        evidence(shanghai(clock, 9, 1), sha256="0" * 64),
        evidence(shanghai(clock, 9, 2), jpeg=png),
        evidence(shanghai(clock, 9, 3), size=(640, 480)),
        evidence(shanghai(clock, 9, 4), jpeg=cut),
        evidence(shanghai(clock, 9, 5)) | {"jpeg_base64": "not base64!"},
        evidence(shanghai(clock, 9, 6)),
    )
    assert outcomes(body) == ["rejected"] * 5 + ["stored"]
    found = details(body)
    assert (
        found[0]
        == f"sha256 mismatch: the bytes hash to {hashlib.sha256(jpeg).hexdigest()}, the item says {'0' * 64}"
    )
    assert found[1] == "not a JPEG: the bytes do not start with the JPEG marker FF D8 FF"
    assert found[2] == "the JPEG is 320x320, the item says 640x480"
    assert found[3] == "the JPEG does not decode (truncated or corrupt)"
    assert found[4] == "jpeg_base64 is not valid base64"
    stored = session.scalars(select(Evidence)).one()
    assert (stored.width, stored.height, stored.size_bytes) == (320, 320, len(jpeg))
    # Kept for the profile's presence.evidence_retention_days (180 by default) after it was taken.
    assert to_utc(stored.expires_at) - to_utc(stored.taken_at) == timedelta(days=180)
    assert session.get(EvidenceImage, stored.id).jpeg == jpeg  # type: ignore[union-attr]


def test_an_absence_ending_before_it_starts_is_refused_with_the_reason(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    item = absence(shanghai(clock, 9, 20), shanghai(clock, 9, 10))
    response = client.post(
        "/api/v1/device/observations", json={"observations": [item]}, headers=world.headers["EDGE-P"]
    )
    assert response.status_code == 422
    assert "ended_at must be after started_at" in response.text
    assert count(session, AbsenceEvent.id) == 0


def test_times_ahead_of_centrals_clock_are_rejected(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    later = clock() + timedelta(hours=2)
    body = upload(
        client,
        world.headers["EDGE-P"],
        camera_health(later),
        presence(clock(), later),
        absence(later),
        visitors(shanghai(clock, 13), 1),
    )
    assert outcomes(body) == ["rejected"] * 4
    assert all("ahead of central's clock" in d or "has not begun" in d for d in details(body) if d)


def test_an_absence_end_arriving_first_creates_it_closed_and_its_start_later_completes_it(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    start, end = shanghai(clock, 9, 20), shanghai(clock, 9, 40)
    assert outcomes(upload(client, world.headers["EDGE-P"], absence(start, end))) == ["stored"]
    row = session.scalars(select(AbsenceEvent)).one()
    assert row.ended_at is not None and row.start_observation_id is None
    assert outcomes(upload(client, world.headers["EDGE-P"], absence(start))) == ["stored"]
    session.expire_all()
    row = session.scalars(select(AbsenceEvent)).one()
    assert row.start_observation_id == absence(start)["id"]
    assert to_utc(row.ended_at) == to_utc(end)  # type: ignore[arg-type]
    # Another end time for the same absence contradicts the stored one.
    other = absence(start, shanghai(clock, 9, 50)) | {"id": "W01:abs:other:end"}
    body = upload(client, world.headers["EDGE-P"], other)
    assert outcomes(body) == ["rejected"]
    assert "already ended at" in (details(body)[0] or "")
    assert count(session, AbsenceEvent.id) == 1


def test_a_cameras_first_report_names_the_windows_it_watches(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    """Before any presence or absence is reported, the window is watched and its camera's outage
    blinds it (SC-5(5)); a window of another hall named by mistake is left out, the health is kept."""

    def windows(seat_taken: bool | None, staffed: bool = True) -> list[dict[str, object]]:
        since = shanghai(clock, 8, 55).isoformat() if seat_taken else None
        return [
            {"code": code, "staffed": staffed, "seat_taken": seat_taken, "taken_since": since}
            for code in ("W01", "K01")
        ]

    def state() -> tuple[str, str | None]:
        found = {w["code"]: w for w in client.get("/api/v1/video/halls/510000-ZWFW/windows").json()}
        return found["W01"]["state"], found["W01"]["camera"]

    upload(client, world.headers["EDGE-P"], camera_health(shanghai(clock, 9, 0), windows=windows(None)))
    clock.now = shanghai(clock, 9, 0, 30)
    assert state() == ("present", "cam-1")  # camera online, in hours, no absence
    upload(client, world.headers["EDGE-P"], camera_health(shanghai(clock, 9, 0, 10), windows=windows(True)))
    day = shanghai(clock, 9).date().isoformat()
    timeline = client.get(f"/api/v1/video/halls/510000-ZWFW/timeline?day={day}").json()
    [w01] = [w for w in timeline["windows"] if w["code"] == "W01"]
    # Seated since 08:55 and not yet up: drawn open up to now (09:00:30).
    assert [(s["kind"], s["open"]) for s in w01["segments"]] == [("presence", True)]
    assert w01["present_seconds"] == 330
    upload(client, world.headers["EDGE-P"], camera_health(shanghai(clock, 9, 0, 20), windows=windows(False)))
    assert state() == ("seat_empty", "cam-1")  # 暂离: empty, not yet past the threshold
    # The edge's hours for the window win (a hall open at the weekend): off hours as it says.
    upload(
        client,
        world.headers["EDGE-P"],
        camera_health(shanghai(clock, 9, 0, 25), windows=windows(True, False)),
    )
    assert state() == ("off_hours", "cam-1")
    down = camera_health(shanghai(clock, 9, 1), online=False, detail="stream stalled", windows=windows(None))
    assert outcomes(upload(client, world.headers["EDGE-P"], down)) == ["stored"]
    clock.now = shanghai(clock, 9, 2)
    assert state() == ("camera_offline", "cam-1")


def test_health_transitions_make_outage_rows(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    down = shanghai(clock, 9, 10)
    upload(
        client,
        world.headers["EDGE-P"],
        camera_health(shanghai(clock, 9, 0)),
        camera_health(
            down, online=False, last_frame_at=down - timedelta(seconds=20), detail="stream stalled"
        ),
        camera_health(shanghai(clock, 9, 11), online=False),  # still down: the same outage
        camera_health(shanghai(clock, 9, 30)),
        camera_health(shanghai(clock, 9, 50), online=False),
    )
    outages = list(session.scalars(select(CameraOutage).order_by(CameraOutage.started_at)))
    assert len(outages) == 2
    first, second = outages
    assert to_utc(first.started_at) == to_utc(down - timedelta(seconds=20))  # from the last frame
    assert to_utc(first.ended_at) == to_utc(shanghai(clock, 9, 30))  # type: ignore[arg-type]
    assert first.detail == "stream stalled"
    assert second.ended_at is None
    state = session.scalars(select(CameraState)).one()
    assert state.online is False and to_utc(state.reported_at) == to_utc(shanghai(clock, 9, 50))
    # A report older than the stored state changes nothing, and makes no outage.
    late = upload(client, world.headers["EDGE-P"], camera_health(shanghai(clock, 9, 40)))
    assert outcomes(late) == ["duplicate"]
    assert count(session, CameraOutage.id) == 2


def test_an_hour_reported_in_parts_after_a_restart_adds_up(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    """The agent stopped at 09:25 (reporting 09:00-09:25) and watched again from 09:27."""
    hour = shanghai(clock, 9)
    first, second = visitors(hour, 3, seated=600), visitors(hour, 2, seated=900, watched_from_second=27 * 60)
    assert outcomes(upload(client, world.headers["EDGE-P"], first)) == ["stored"]
    assert outcomes(upload(client, world.headers["EDGE-P"], second)) == ["stored"]
    assert outcomes(upload(client, world.headers["EDGE-P"], first, second)) == ["duplicate", "duplicate"]
    session.expire_all()
    assert sorted((r.visits, r.watched_from_second) for r in session.scalars(select(VisitorCount))) == [
        (2, 1620),
        (3, 0),
    ]
    day = shanghai(clock, 9).date().isoformat()
    rows = client.get(
        f"/api/v1/video/halls/510000-ZWFW/visitors?date_from={day}&date_to={day}&by=hour"
    ).json()
    assert [(r["visits"], r["seated_seconds"]) for r in rows] == [(5, 1500.0)]


def test_the_same_ids_from_another_hall_are_that_halls_own(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    upload(client, world.headers["EDGE-P"], presence(shanghai(clock, 9), shanghai(clock, 9, 5)))
    body = upload(
        client, world.headers["EDGE-K"], presence(shanghai(clock, 9), shanghai(clock, 9, 5), window="K01")
    )
    assert outcomes(body) == ["stored"]
    assert count(session, PresenceInterval.id) == 2
