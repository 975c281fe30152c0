"""Generated days for the dual-track tests: hourly Poisson visits with binomial enquiries, recorded as
cases and events straight through the ORM, and the visitor counts uploaded through the real device
endpoint (EDGE-P for the provincial hall, EDGE-K for the county hall).

The world is the video tests' (`tests.central.video.helpers.world`) plus W03 at the provincial hall
and, at the county hall, a department JJSCJG owning K01 and a new K02."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from central.cases.models import Case, CaseEvent
from central.core.clock import SHANGHAI
from central.registry.models import Department, Item, ServiceWindow
from tests.central.video.helpers import World, upload, visitors

HOURS = [9, 10, 11, 13, 14, 15, 16, 17]  # Sichuan's 09:00–12:00 and 13:30–17:30
WEIGHTS = np.array([1.0, 1.25, 1.1, 0.45, 1.0, 1.2, 1.05, 0.45]) / 8.5
DAY = date(2026, 11, 26)  # the judged day (a Thursday); the conftest clock stands on the 27th
_numbers = count(1)


@dataclass(frozen=True)
class Window:
    code: str
    id: int
    hall_id: int
    department_id: int
    item_id: int
    edge: str  # the device header's key in World.headers


@pytest.fixture
def windows(world: World, session: Session) -> dict[str, Window]:
    """W01–W03 (SCJGJ, provincial hall) and K01–K02 (JJSCJG, county hall)."""
    county_hall = session.scalar(select(ServiceWindow.hall_id).where(ServiceWindow.code == "K01"))
    county = Department(code="JJSCJG", name="锦江区市场监管局", hall_id=county_hall)
    session.add(county)
    session.flush()
    session.add(Item(code="JJSCJG-XK-001", name="食品经营许可", department_id=county.id, legal_limit_days=20))
    k01 = session.scalars(select(ServiceWindow).where(ServiceWindow.code == "K01")).one()
    k01.department_id = county.id
    hall = session.scalar(select(ServiceWindow.hall_id).where(ServiceWindow.code == "W01"))
    scjgj = session.scalar(select(Department.id).where(Department.code == "SCJGJ"))
    session.add(ServiceWindow(code="W03", name="3号窗口", hall_id=hall, department_id=scjgj))
    session.add(ServiceWindow(code="K02", name="县2号窗口", hall_id=county_hall, department_id=county.id))
    session.commit()
    items = dict(session.execute(select(Item.department_id, Item.id)).all())
    found = {}
    for row in session.scalars(select(ServiceWindow)):
        assert row.department_id is not None
        edge = "EDGE-K" if row.hall_id == county_hall else "EDGE-P"
        found[row.code] = Window(
            row.code, row.id, row.hall_id, row.department_id, items[row.department_id], edge
        )
    return found


def generate(
    rng: np.random.Generator, *, visits: float, enquiry: float, unrecorded: float = 0.0
) -> list[tuple[int, int, int]]:
    """(hour, visits counted, cases recorded) for one window's day."""
    seen = rng.poisson(visits * WEIGHTS)
    served = seen - rng.binomial(seen, enquiry)
    served -= rng.binomial(served, unrecorded)
    return [(h, int(v), int(c)) for h, v, c in zip(HOURS, seen, served, strict=True)]


def hour_start(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


def record_cases(session: Session, window: Window, day: date, hours: list[tuple[int, int, int]]) -> list[int]:
    """One case per recorded case, its one event at the window a few minutes into the hour; the
    event ids, in order."""
    moments = [
        hour_start(day, hour) + timedelta(minutes=(30 if hour == 13 else 0) + 2 + i % 25)
        for hour, _visits, cases in hours
        for i in range(cases)
    ]
    return insert_cases(session, window, moments)


def insert_cases(session: Session, window: Window, moments: list[datetime]) -> list[int]:
    """One case a moment, its one `accepted` event at the window then; the event ids, in order."""
    if not moments:
        return []
    ids = session.scalars(
        insert(Case).returning(Case.id, sort_by_parameter_order=True),
        [
            {
                "case_no": f"DT-{next(_numbers):07d}",
                "item_id": window.item_id,
                "hall_id": window.hall_id,
                "department_id": window.department_id,
                "window_id": window.id,
                "promised_limit_days": 10,
                "legal_limit_days": 20,
                "status": "accepted",
                "last_event_at": at.astimezone(UTC),
                "event_count": 1,
            }
            for at in moments
        ],
    ).all()
    return list(
        session.scalars(
            insert(CaseEvent).returning(CaseEvent.id, sort_by_parameter_order=True),
            [
                {
                    "event_id": f"dt-{case_id}",
                    "case_id": case_id,
                    "type": "accepted",
                    "at": at.astimezone(UTC),
                    "window_id": window.id,
                    "content_hash": "0" * 64,
                    "source": "tests",
                    "recorded_at": at.astimezone(UTC),
                }
                for case_id, at in zip(ids, moments, strict=True)
            ],
        ).all()
    )


def count_visitors(
    client: TestClient, world: World, window: Window, day: date, hours: list[tuple[int, int, int]]
) -> None:
    """The camera's hourly counts, uploaded as the edge agent does."""
    items = [
        visitors(hour_start(day, hour), v, window=window.code, seated=min(3600.0, v * 90.0))
        for hour, v, _cases in hours
    ]
    body = upload(client, world.headers[window.edge], *items)
    assert {r["outcome"] for r in body["results"]} == {"stored"}, body


def write_day(
    client: TestClient,
    world: World,
    session: Session,
    window: Window,
    day: date,
    hours: list[tuple[int, int, int]],
) -> None:
    count_visitors(client, world, window, day, hours)
    record_cases(session, window, day, hours)
    session.commit()


__all__ = [
    "DAY",
    "HOURS",
    "Window",
    "count_visitors",
    "generate",
    "hour_start",
    "insert_cases",
    "record_cases",
    "windows",
    "write_day",
]
