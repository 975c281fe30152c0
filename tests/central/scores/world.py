"""Records written straight through the ORM for score tests: the conftest registry's provincial hall
(department SCJGJ, window W01 with its one clerk S001) plus a window W02 shared by two clerks on
shifts, and the county hall with a department, window and clerk of its own (two halls, two
jurisdictions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.models import User
from central.cases.models import Case
from central.complaints.models import Complaint
from central.core.clock import SHANGHAI
from central.investigations.models import Investigation
from central.patrols.models import PatrolFinding, PatrolSession
from central.ratings.models import FollowUp, Rating
from central.registry.models import Department, Device, Item, ServiceWindow, Staff
from central.signals.models import Signal
from central.video.models import AbsenceEvent

_ids = count(1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class World:
    session: Session
    hall: int
    county_hall: int
    dept: int
    county_dept: int
    w01: int
    w02: int
    county_window: int
    s001: int  # alone at W01
    s002: int  # W02, morning shift
    s003: int  # W02, afternoon shift
    county_staff: int
    item: int
    county_item: int
    user: int
    device: int

    def case(
        self,
        *,
        staff: int | None,
        window: int | None,
        closed_on: date | None = None,
        due: date | None = None,
        county: bool = False,
    ) -> int:
        n = next(_ids)
        row = Case(
            case_no=f"SC-{n:05d}",
            item_id=self.county_item if county else self.item,
            hall_id=self.county_hall if county else self.hall,
            department_id=self.county_dept if county else self.dept,
            window_id=window,
            staff_id=staff,
            promised_limit_days=10,
            legal_limit_days=20,
            status="closed" if closed_on else "accepted",
            accepted_on=date(2026, 10, 20),
            closed_on=closed_on,
            promised_due_date=due,
            legal_due_date=due,
            last_event_at=at(closed_on or date(2026, 10, 20)),
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def signal(
        self,
        *,
        reason: str,
        colour: str,
        day: date,
        case: int | None = None,
        escalated: date | None = None,
        closed: date | None = None,
        finding: str | None = None,
        county: bool = False,
    ) -> int:
        row = Signal(
            color="red" if escalated else colour,
            initial_color=colour,
            origin="light" if reason.startswith("light") else "manual",
            reason_code=reason,
            case_id=case,
            hall_id=self.county_hall if county else self.hall,
            department_id=self.county_dept if county else self.dept,
            status="closed" if closed else "issued",
            issued_at=at(day),
            issued_on=day,
            issued_by="system:test",
            escalated_at=at(escalated, 11) if escalated else None,
            closed_at=at(closed, 15) if closed else None,
            finding=finding,
            updated_at=at(day),
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def rating(
        self, *, level: int, day: date, staff: int | None, window: int | None, excluded: bool = False
    ) -> int:
        row = Rating(
            channel="window_device",
            level=level,
            hall_id=self.hall,
            department_id=self.dept,
            window_id=window,
            staff_id=staff,
            rated_at=at(day),
            rated_on=day,
            weight=1.0,
            excluded=excluded,
            updated_at=at(day),
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def follow_up(self, *, rating: int, due: date, rectified: date | None = None) -> int:
        row = FollowUp(
            rating_id=rating,
            hall_id=self.hall,
            department_id=self.dept,
            status="rectified" if rectified else "open",
            opened_at=at(due - timedelta(days=20)),
            rectify_due=due,
            rectified_at=at(rectified) if rectified else None,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def absence(
        self, *, window: int, day: date, status: str = "confirmed", reviewed: date | None = None
    ) -> int:
        row = AbsenceEvent(
            hall_id=self.hall,
            window_id=window,
            department_id=self.dept,
            device_id=self.device,
            camera="cam-1",
            started_at=at(day, 10),
            ended_at=at(day, 11),
            status=status,
            reviewed_at=at(reviewed or day, 16),
            reviewed_by="user:inspector",
            received_at=at(day, 11),
            updated_at=at(reviewed or day, 16),
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def patrol_finding(self, *, window: int, day: date, category: str, status: str = "confirmed") -> int:
        patrol = PatrolSession(
            hall_id=self.hall, inspector_id=self.user, day=day, started_at=at(day, 9), state="complete"
        )
        self.session.add(patrol)
        self.session.flush()
        row = PatrolFinding(
            session_id=patrol.id,
            hall_id=self.hall,
            window_id=window,
            camera="cam-1",
            category=category,
            note="巡查发现",
            at=at(day, 9),
            inspector_id=self.user,
            capture=f"cap-{next(_ids)}",
            clip_seconds=10,
            status=status,
            reviewed_at=at(day, 12),
            reviewed_by="user:inspector",
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def investigation(self, *, due: date, reported: date | None = None, finding: str | None = None) -> int:
        row = Investigation(
            subject="核查",
            assigned_by_id=self.user,
            assignee_scope_kind="department",
            assignee_scope_id=self.dept,
            assignee_scope_code="SCJGJ",
            hall_id=self.hall,
            department_id=self.dept,
            assigned_at=at(due - timedelta(days=20)),
            assigned_on=due - timedelta(days=20),
            due_date=due,
            status="reported" if reported else "open",
            reported_at=at(reported) if reported else None,
            finding=finding,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def complaint(
        self,
        *,
        received: date,
        decide_by: date,
        decided: date | None = None,
        closed: date | None = None,
        upheld: bool | None = None,
        staff: int | None = None,
        window: int | None = None,
    ) -> int:
        """A complaint about the provincial department (its clerk and window when given): decided on
        `decided` (accepted), closed with `upheld` on `closed`."""
        status = "closed" if closed else ("accepted" if decided else "received")
        row = Complaint(
            number=f"TS{received:%Y%m%d}{next(_ids):06d}",
            query_password_digest="0" * 64,
            channel="online",
            about="staff" if staff else "department",
            hall_id=self.hall,
            department_id=self.dept,
            window_id=window,
            staff_id=staff,
            anonymous=True,
            content="投诉内容投诉内容",
            received_at=at(received),
            received_on=received,
            decide_by=decide_by,
            status=status,
            decided_at=at(decided, 11) if decided else None,
            decided_by="user:inspector" if decided else None,
            upheld=upheld,
            closed_at=at(closed, 15) if closed else None,
            updated_at=at(closed or decided or received),
        )
        self.session.add(row)
        self.session.flush()
        return row.id


def build_world(session: Session, registry: dict[str, int]) -> World:
    dept = session.scalars(select(Department).where(Department.code == "SCJGJ")).one()
    w01 = session.scalars(select(ServiceWindow).where(ServiceWindow.code == "W01")).one()
    s001 = session.scalars(select(Staff).where(Staff.code == "S001")).one()
    item = session.scalars(select(Item).where(Item.code == "SCJGJ-XK-001")).one()
    w02 = ServiceWindow(code="W02", name="2号窗口", hall_id=registry["hall"], department_id=dept.id)
    county_dept = Department(code="JJSCJ", name="锦江区市场监管局", hall_id=registry["county_hall"])
    session.add_all([w02, county_dept])
    session.flush()
    county_window = ServiceWindow(
        code="JJ-W01", name="1号窗口", hall_id=registry["county_hall"], department_id=county_dept.id
    )
    session.add(county_window)
    session.flush()
    s002 = Staff(code="S002", name="李四", department_id=dept.id, window_id=w02.id)
    s003 = Staff(code="S003", name="王五", department_id=dept.id, window_id=w02.id)
    county_staff = Staff(
        code="JJ-S001", name="赵六", department_id=county_dept.id, window_id=county_window.id
    )
    county_item = Item(
        code="JJSCJ-XK-001", name="食品经营许可", department_id=county_dept.id, legal_limit_days=20
    )
    user = User(
        username="scores-inspector",
        password_hash="x",
        role="inspector",
        scope_kind="region",
        scope_id=registry["county_region"],
        created_at=at(date(2026, 1, 5)),
        confirmed_at=at(date(2026, 1, 5)),
    )
    device = Device(code="EDGE-SC", kind="edge", name="边缘", hall_id=registry["hall"])
    session.add_all([s002, s003, county_staff, county_item, user, device])
    session.commit()
    return World(
        session=session,
        hall=registry["hall"],
        county_hall=registry["county_hall"],
        dept=dept.id,
        county_dept=county_dept.id,
        w01=w01.id,
        w02=w02.id,
        county_window=county_window.id,
        s001=s001.id,
        s002=s002.id,
        s003=s003.id,
        county_staff=county_staff.id,
        item=item.id,
        county_item=county_item.id,
        user=user.id,
        device=device.id,
    )
