"""What inspectors read: each window's state now (在岗/离岗/未知/摄像机离线 — a silent or offline camera is
never shown as live, SC-5(5)), the day's timeline with totals, visitor counts per hour and day, and
the dual-track cross-check of camera visits against recorded cases (RULES, last section)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.registry.models import Department, ServiceWindow
from tests.central.cases.helpers import ev
from tests.central.video.helpers import (
    HALL,
    World,
    absence,
    camera_health,
    edge,
    presence,
    shanghai,
    upload,
    visitors,
    world,
)
from tests.conftest import FakeClock

__all__ = ["edge", "world"]

BASE = f"/api/v1/video/halls/{HALL}"


def four_windows(client: TestClient, world: World, session: Session, clock: FakeClock) -> None:
    """At 10:00 (Shanghai, a Friday): W01 absent since 09:50, W02's camera offline since 09:30,
    W03 staffed, W04 (no department) never seen by a camera."""
    department = session.scalar(select(Department.id).where(Department.code == "SCJGJ"))
    hall = session.scalar(select(ServiceWindow.hall_id).where(ServiceWindow.code == "W01"))
    session.add_all(
        [
            ServiceWindow(code="W03", name="3号窗口", hall_id=hall, department_id=department),
            ServiceWindow(code="W04", name="4号窗口", hall_id=hall),
        ]
    )
    session.commit()
    body = upload(
        client,
        world.headers["EDGE-P"],
        camera_health(shanghai(clock, 9, 58)),
        camera_health(shanghai(clock, 9, 0), camera="cam-2"),
        camera_health(
            shanghai(clock, 9, 30), camera="cam-2", online=False, last_frame_at=shanghai(clock, 9, 30)
        ),
        camera_health(shanghai(clock, 9, 59), camera="cam-3"),
        presence(shanghai(clock, 9, 0), shanghai(clock, 9, 50)),
        absence(shanghai(clock, 9, 50)),
        presence(shanghai(clock, 9, 0), shanghai(clock, 9, 25), window="W02", camera="cam-2"),
        presence(shanghai(clock, 9, 0), shanghai(clock, 9, 40), window="W03", camera="cam-3"),
    )
    assert body["rejected"] == 0, body


def states(client: TestClient, world: World, who: str = "inspector") -> dict[str, tuple[str, str | None]]:
    r = client.get(f"{BASE}/windows", auth=world.people[who])
    assert r.status_code == 200, r.text
    return {w["code"]: (w["state"], w["note"]) for w in r.json()}


def test_window_states_now(client: TestClient, world: World, session: Session, clock: FakeClock) -> None:
    four_windows(client, world, session, clock)
    found = states(client, world)
    assert found == {
        "W01": ("absent", None),
        "W02": ("camera_offline", None),
        "W03": ("present", None),
        "W04": ("unknown", "尚无视频数据"),
    }
    windows = {w["code"]: w for w in client.get(f"{BASE}/windows", auth=world.people["inspector"]).json()}
    assert windows["W01"]["state_label"] == "离岗" and windows["W01"]["since"].startswith("2026-11-27T01:50")
    assert windows["W02"]["state_label"] == "摄像机离线" and windows["W02"]["since"].startswith(
        "2026-11-27T01:30"
    )
    # The department sees its own windows only (W04 has none).
    assert set(states(client, world, "clerk")) == {"W01", "W02", "W03"}
    assert client.get(f"{BASE}/windows", auth=world.people["county"]).status_code == 404


def test_a_silent_camera_is_offline_and_breaks_are_not_staffed(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    four_windows(client, world, session, clock)
    clock.advance(minutes=6)  # cam-3 last reported at 09:59
    assert states(client, world)["W03"] == ("camera_offline", "超过 5 分钟未收到摄像机状态")
    cameras = {c["camera"]: c for c in client.get(f"{BASE}/cameras", auth=world.people["inspector"]).json()}
    assert cameras["cam-3"]["silent"] and not cameras["cam-3"]["online"]
    assert cameras["cam-2"]["outage_since"].startswith("2026-11-27T01:30")
    clock.set_shanghai(2026, 11, 27, 12, 30)  # the profile's break, 12:00-13:30
    upload(client, world.headers["EDGE-P"], camera_health(shanghai(clock, 12, 29), camera="cam-3"))
    assert states(client, world)["W03"] == ("off_hours", None)


def test_todays_timeline_with_totals(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    four_windows(client, world, session, clock)
    r = client.get(f"{BASE}/timeline", auth=world.people["inspector"])
    assert r.status_code == 200, r.text
    windows = {w["code"]: w for w in r.json()["windows"]}
    assert [(s["kind"], s["open"]) for s in windows["W01"]["segments"]] == [
        ("presence", False),
        ("absence", True),
    ]
    assert (windows["W01"]["present_seconds"], windows["W01"]["absent_seconds"]) == (3000, 600)
    assert [s["kind"] for s in windows["W02"]["segments"]] == ["presence", "camera_offline"]
    assert windows["W02"]["camera_offline_seconds"] == 1800  # 09:30 until now, 10:00
    assert windows["W04"]["segments"] == []
    yesterday = (clock() - timedelta(days=1)).date().isoformat()
    earlier = client.get(f"{BASE}/timeline", params={"day": yesterday}, auth=world.people["inspector"]).json()
    assert all(w["segments"] == [] for w in earlier["windows"])


def cases_at(client: TestClient, window: str, day: str, *numbers: str) -> None:
    events = []
    for n, case_no in enumerate(numbers):
        events.append(
            ev(
                f"{case_no}-r-{n}-{day}",
                case_no,
                "received",
                f"{day}T09:{10 + n:02d}:00+08:00",
                window_code=window,
            )
        )
    r = client.post("/api/v1/cases/events", json=events)
    assert r.status_code == 200, r.text


def test_visitor_counts_and_the_dual_track_cross_check(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    upload(
        client,
        world.headers["EDGE-P"],
        visitors(shanghai(clock, 8), 2),
        visitors(shanghai(clock, 9), 4),
        visitors(shanghai(clock, 9), 1, window="W02"),
    )
    cases_at(client, "W01", "2026-11-27", "A1", "A2", "A3")
    accepted = ev("A1-accepted", "A1", "accepted", "2026-11-27T09:40:00+08:00", window_code="W01")
    assert client.post("/api/v1/cases/events", json=[accepted]).status_code == 200  # A1 counts once
    cases_at(client, "W02", "2026-11-27", "B1")
    cases_at(client, "W01", "2026-11-26", "C1", "C2")
    who = world.people["inspector"]
    hourly = client.get(f"{BASE}/visitors", auth=who).json()
    assert [(r["window_code"], r["hour_start"][11:16], r["visits"]) for r in hourly] == [
        ("W01", "00:00", 2),
        ("W01", "01:00", 4),
        ("W02", "01:00", 1),
    ]
    daily = client.get(f"{BASE}/visitors", params={"by": "day"}, auth=who).json()
    assert [(r["window_code"], r["day"], r["visits"]) for r in daily] == [
        ("W01", "2026-11-27", 6),
        ("W02", "2026-11-27", 1),
    ]
    checks = client.get(
        f"{BASE}/dual-track", params={"date_from": "2026-11-26", "date_to": "2026-11-27"}, auth=who
    )
    assert checks.status_code == 200, checks.text
    assert [
        (r["day"], r["window_code"], r["visits_counted"], r["cases_recorded"], r["difference"])
        for r in checks.json()
    ] == [
        ("2026-11-26", "W01", None, 2, None),  # no camera count that day: no difference, not a fake zero
        ("2026-11-27", "W01", 6, 3, 3),  # three visits without a case: off-system work?
        ("2026-11-27", "W02", 1, 1, 0),
    ]
    too_long = client.get(
        f"{BASE}/dual-track", params={"date_from": "2026-01-01", "date_to": "2026-11-27"}, auth=who
    )
    assert too_long.status_code == 422
    backwards = client.get(
        f"{BASE}/visitors", params={"date_from": "2026-11-27", "date_to": "2026-11-20"}, auth=who
    )
    assert backwards.status_code == 422


def test_halls_of_the_jurisdiction(
    client: TestClient, world: World, session: Session, clock: FakeClock
) -> None:
    four_windows(client, world, session, clock)
    halls = {h["code"]: h for h in client.get("/api/v1/video/halls", auth=world.people["inspector"]).json()}
    assert set(halls) == {HALL, "510104-ZWFW"}
    ours = halls[HALL]
    assert (ours["windows"], ours["windows_with_camera"], ours["cameras"], ours["cameras_offline"]) == (
        4,
        3,
        3,
        1,
    )
    assert ours["pending_absences"] == 1
    assert [h["code"] for h in client.get("/api/v1/video/halls", auth=world.people["county"]).json()] == [
        "510104-ZWFW"
    ]
