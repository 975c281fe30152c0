"""Generated case logs for the anomaly rules: a clean half year of one department (one case accepted
at W01 at 10:00 each working day, done in 4–6 working days, the camera counting visitors in every
hour a case came in, the staff seated every such day), into which a test plants one anomaly.

Cases go in through the real ingest (`central.cases.ingest.ingest_batch`), so the projection the
rules read is the production one; camera rows are written as the video handlers store them."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.anomalies.drafts import HitDraft
from central.anomalies.run import find_hits
from central.calendar.service import load_calendar
from central.cases.ingest import ingest_batch
from central.cases.schemas import CaseEventIn
from central.core.actor import Actor
from central.core.clock import SHANGHAI
from central.registry.models import Device, Hall, ServiceWindow
from central.video.models import PresenceInterval, VisitorCount
from common.worktime import WorkCalendar
from common.worktime.official import official_years

HALL = "510000-ZWFW"
ITEM = "SCJGJ-XK-001"  # promised 10, legal 20 working days (tests/conftest.py registry)
PERIOD = (date(2026, 9, 1), date(2026, 9, 30))
HISTORY_FROM = date(2026, 3, 2)
CALENDAR = WorkCalendar(official_years())
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # the log is recorded before the tests' clock (11-27)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def workdays(first: date, last: date) -> list[date]:
    return [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if CALENDAR.is_workday(first + timedelta(days=n))
    ]


def after(day: date, n: int) -> date:
    return CALENDAR.add_workdays(day, n)


@dataclass
class Log:
    """Events to ingest, camera hours and seated days to write; `case` adds one case's events."""

    events: list[dict[str, Any]] = field(default_factory=list)
    hours: dict[datetime, tuple[int, float]] = field(default_factory=dict)  # hour start → visits, seated s
    staffed: dict[date, float] = field(default_factory=dict)  # day → seconds seated
    count: int = 0

    def case(
        self,
        accepted: datetime,
        *,
        done_after: int | None = 5,
        pauses: Iterable[tuple[str, date, date | None]] = (),
        extension: tuple[date, int] | None = None,
        window: str | None = "W01",
        camera: bool = True,
        closing: str = "completed",
        revoked: date | None = None,
    ) -> str:
        """A case accepted at `accepted`, completed `done_after` working days later (plus its pauses'
        working days), with its pauses (kind, start day, end day) and an extension (day, days); closed
        by `closing` (completed or refused), and revoked on `revoked`."""
        self.count += 1
        case_no = f"GEN{self.count:05d}"
        day = accepted.astimezone(SHANGHAI).date()
        self._event(case_no, "accepted", accepted, window_code=window)
        if extension is not None:
            self._event(case_no, "extended", at(extension[0], 11), days=extension[1], reason="情况复杂")
        paused = 0
        for kind, start, end in pauses:
            self._event(case_no, kind, at(start, 15), reason="依法暂停" if kind == "suspended" else None)
            if end is not None:
                ending = "resumed" if kind == "suspended" else "correction_received"
                self._event(case_no, ending, at(end, 9, 30))
                paused += CALENDAR.workdays_between(start, end)
        if done_after is not None:
            self._event(
                case_no,
                closing,
                at(after(day, done_after + paused), 16),
                reason=None if closing == "completed" else "不符合条件",
            )
        if revoked is not None:
            self._event(case_no, "revoked", at(revoked, 17), reason="依法撤销")
        if camera and window is not None:
            hour = accepted.replace(minute=0, second=0, microsecond=0)
            self.hours[hour] = (self.hours.get(hour, (0, 0.0))[0] + 1, 600.0)
            self.staffed[day] = 6 * 3600.0
        return case_no

    def _event(self, case_no: str, kind: str, moment: datetime, **extra: Any) -> None:
        number = sum(1 for e in self.events if e["case_no"] == case_no) + 1
        self.events.append(
            {
                "event_id": f"{case_no}-{number}",
                "case_no": case_no,
                "type": kind,
                "at": moment,
                "item_code": ITEM,
                "hall_code": HALL,
                **extra,
            }
        )


def clean_log(*, first: date = HISTORY_FROM, last: date = PERIOD[1], seed: int = 7) -> Log:
    """One case every working day at 10:00, done in 4–6 working days: nothing for any rule."""
    rng = random.Random(seed)
    log = Log()
    for day in workdays(first, last):
        log.case(at(day), done_after=rng.choice([4, 5, 6]))
    return log


def store(session: Session, log: Log) -> None:
    events = sorted(log.events, key=lambda e: (e["at"], e["event_id"]))
    for start in range(0, len(events), 2000):
        batch = [CaseEventIn.model_validate(e) for e in events[start : start + 2000]]
        result = ingest_batch(
            session,
            events=batch,
            calendar=load_calendar(session),
            default_profile_key="sichuan-2011",
            now=NOW,
            source="test",
            actor=Actor(kind="cli", name="tests"),
        )
        assert result.accepted, [r.detail for r in result.results if r.outcome.value != "not_applied"]
    window = session.scalars(select(ServiceWindow).where(ServiceWindow.code == "W01")).one()
    hall = session.scalars(select(Hall).where(Hall.code == HALL)).one()
    device = session.scalars(select(Device).where(Device.code == "EDGE-1")).first()
    if device is None:
        device = Device(code="EDGE-1", kind="edge", name="边缘主机", hall_id=hall.id)
        session.add(device)
        session.flush()
    for number, (hour, (visits, seated)) in enumerate(sorted(log.hours.items())):
        session.add(
            VisitorCount(
                window_id=window.id,
                hour_start=hour.astimezone(UTC),
                watched_from_second=0,
                device_id=device.id,
                camera="CAM-1",
                observation_id=f"vc-{log.count}-{number}",
                visits=visits,
                seated_seconds=seated,
                updated_at=NOW,
            )
        )
    for number, (day, seconds) in enumerate(sorted(log.staffed.items())):
        begins = at(day, 9).astimezone(UTC)
        session.add(
            PresenceInterval(
                device_id=device.id,
                observation_id=f"p-{log.count}-{number}",
                window_id=window.id,
                camera="CAM-1",
                started_at=begins,
                ended_at=begins + timedelta(seconds=seconds),
                seconds=seconds,
                received_at=NOW,
            )
        )
    session.commit()


def hits(session: Session, *, rule: str | None = None, period: tuple[date, date] = PERIOD) -> list[HitDraft]:
    found = find_hits(
        session,
        period_from=period[0],
        period_to=period[1],
        calendar=load_calendar(session),
        default_profile_key="sichuan-2011",
    )
    session.rollback()  # the days table lives in the transaction: nothing else was written
    return [h for h in found if rule is None or h.rule == rule]
