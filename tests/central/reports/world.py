"""A small hand-built November 2026 for the monthly report, written straight through the ORM so every
figure is known: two halls (the province's and 锦江区's), five departments, ten cases, six signals,
five investigations, eight ratings, five absences, a patrol day with three findings and score rows.

The expected figures (`EXPECTED_*`) are counted by hand from the records below; the comments say why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from central.access.models import User
from central.cases.models import Case
from central.core.clock import SHANGHAI
from central.investigations.models import Investigation
from central.patrols.models import PatrolFinding, PatrolPlan, PatrolSession, PatrolTask
from central.ratings.models import FollowUp, Rating
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff
from central.scores.models import ScoreDay
from central.signals.models import Signal, SignalEvent
from central.video.models import AbsenceEvent

MONTH = "2026-11"
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, after November ended


def sh(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


@dataclass
class World:
    ids: dict[str, int]


EXPECTED_VOLUME = {"received": 8, "accepted": 7, "closed": 4, "open_at_end": 5, "decided": 4, "on_time": 3}
EXPECTED_LIGHTS = {"green": 1, "yellow": 2, "red": 1, "unknown": 1}
EXPECTED_SIGNALS = {
    "raised": 5,
    "raised_green": 1,
    "raised_yellow": 3,
    "raised_red": 1,
    "corrected": 3,
    "escalated": 1,
    "mean_hours_to_correction": 49.3,  # (4 + 24 + 120) / 3
    "median_hours_to_correction": 24.0,
}
EXPECTED_INVESTIGATIONS = {
    "assigned": 4,
    "reported": 3,
    "reported_on_time": 1,
    "reported_late": 2,
    "open_past_due": 1,
    "open_within_due": 1,
}
EXPECTED_RATINGS = {"count": 6, "bad_count": 2, "followups": 2, "called_back": 1, "rectified": 1}
EXPECTED_ABSENCES = {"confirmed": 2, "dismissed": 1, "pending": 1, "total": 4}
# 锦江区 (510104): its hall's cases i and j, investigations v3 and v4, its ratings and absence.
EXPECTED_COUNTY_VOLUME = {
    "received": 2,
    "accepted": 2,
    "closed": 1,
    "open_at_end": 1,
    "decided": 1,
    "on_time": 1,
}


def _case(no: str, item: Item, dept: Department, hall: Hall, **fields: object) -> Case:
    received = fields.pop("received")
    accepted = fields.pop("accepted", None)
    closed = fields.pop("closed", None)
    due = fields.pop("due", None)
    assert isinstance(received, date)
    return Case(
        case_no=no,
        item_id=item.id,
        hall_id=hall.id,
        department_id=dept.id,
        promised_limit_days=10,
        legal_limit_days=20,
        status=fields.pop("status"),
        received_at=sh(received),
        accepted_on=accepted,
        closed_on=closed,
        promised_due_date=due,
        legal_due_date=due,
        last_event_at=sh(received),
        event_count=1,
        **fields,
    )


def build_registry(session: Session) -> dict[str, object]:
    province = Region(code="510000", name="四川省", level="province")
    session.add(province)
    session.flush()
    city = Region(code="510100", name="成都市", level="city", parent_id=province.id)
    session.add(city)
    session.flush()
    county = Region(code="510104", name="锦江区", level="county", parent_id=city.id)
    session.add(county)
    session.flush()
    hall_p = Hall(code="510000-ZWFW", name="四川省政务服务中心", region_id=province.id, level="provincial")
    hall_c = Hall(code="510104-ZWFW", name="锦江区政务服务中心", region_id=county.id, level="county")
    session.add_all([hall_p, hall_c])
    session.flush()
    depts = {
        "P1": Department(code="SCJGJ", name="省市场监管局", hall_id=hall_p.id),
        "P2": Department(code="SGAT", name="省公安厅", hall_id=hall_p.id),
        "P3": Department(code="SSWJ", name="省税务局", hall_id=hall_p.id),
        "P4": Department(code="SWJW", name="省卫健委", hall_id=hall_p.id),
        "C1": Department(code="JJSCJG", name="锦江区市场监管局", hall_id=hall_c.id),
    }
    session.add_all(depts.values())
    session.flush()
    items = {
        key: Item(
            code=f"{dept.code}-XK-001",
            name=f"{dept.name}许可",
            department_id=dept.id,
            legal_limit_days=20,
            promised_limit_days=10,
            fee=Decimal("0"),
        )
        for key, dept in depts.items()
    }
    session.add_all(items.values())
    session.flush()
    windows = {
        "P1": ServiceWindow(code="W01", name="1号窗口", hall_id=hall_p.id, department_id=depts["P1"].id),
        "C1": ServiceWindow(code="W01", name="1号窗口", hall_id=hall_c.id, department_id=depts["C1"].id),
    }
    session.add_all(windows.values())
    session.flush()
    staff = {
        "S1": Staff(code="S001", name="张三", department_id=depts["P1"].id, window_id=windows["P1"].id),
        "S2": Staff(code="S002", name="李四", department_id=depts["P2"].id),
        "S3": Staff(code="S003", name="王五", department_id=depts["C1"].id, window_id=windows["C1"].id),
    }
    session.add_all(staff.values())
    session.flush()
    return {
        "regions": (province, city, county),
        "halls": (hall_p, hall_c),
        "depts": depts,
        "items": items,
        "windows": windows,
        "staff": staff,
    }


def build_cases(session: Session, reg: dict[str, object]) -> None:
    hall_p, hall_c = reg["halls"]  # type: ignore[misc]
    depts, items = reg["depts"], reg["items"]
    assert isinstance(depts, dict) and isinstance(items, dict)

    def at(key: str) -> tuple[Item, Department, Hall]:
        return items[key], depts[key], hall_c if key == "C1" else hall_p

    session.add_all(
        [
            # P1: a on time, b late, c open and red, d received in October and open (green), e all October
            _case(
                "A",
                *at("P1"),
                received=d(11, 2),
                accepted=d(11, 2),
                closed=d(11, 10),
                due=d(11, 16),
                status="completed",
            ),
            _case(
                "B",
                *at("P1"),
                received=d(11, 3),
                accepted=d(11, 3),
                closed=d(11, 20),
                due=d(11, 17),
                status="completed",
            ),
            _case("C", *at("P1"), received=d(11, 5), accepted=d(11, 5), due=d(11, 25), status="accepted"),
            _case("D", *at("P1"), received=d(10, 20), accepted=d(10, 20), due=d(12, 20), status="undertaken"),
            _case(
                "E",
                *at("P1"),
                received=d(10, 10),
                accepted=d(10, 10),
                closed=d(10, 30),
                due=d(10, 24),
                status="completed",
            ),
            # P2: f refused on time, g open and yellow (due 12-02 within 3 working days of 11-30), h only received
            _case(
                "F",
                *at("P2"),
                received=d(11, 10),
                accepted=d(11, 10),
                closed=d(11, 12),
                due=d(11, 20),
                status="refused",
            ),
            _case("G", *at("P2"), received=d(11, 28), accepted=d(11, 28), due=d(12, 2), status="accepted"),
            _case("H", *at("P2"), received=d(11, 30), status="received"),
            # C1: i closed on 12-01, so open at November's end (yellow: due that day); j closed the same day
            _case(
                "I",
                *at("C1"),
                received=d(11, 4),
                accepted=d(11, 4),
                closed=d(12, 1),
                due=d(11, 30),
                status="completed",
            ),
            _case(
                "J",
                *at("C1"),
                received=d(11, 6),
                accepted=d(11, 6),
                closed=d(11, 6),
                due=d(11, 20),
                status="completed",
            ),
        ]
    )
    session.flush()


def _signal(session: Session, dept: Department, colour: str, issued: datetime, **fields: object) -> Signal:
    signal = Signal(
        color=fields.pop("color", colour),
        initial_color=colour,
        origin="manual",
        reason_code="manual",
        hall_id=dept.hall_id,
        department_id=dept.id,
        status=fields.pop("status", "issued"),
        issued_at=issued,
        issued_on=issued.astimezone(SHANGHAI).date(),
        issued_by="user:root",
        updated_at=issued,
        **fields,
    )
    session.add(signal)
    session.flush()
    return signal


def _corrected(session: Session, signal: Signal, at: datetime) -> None:
    session.add(
        SignalEvent(
            signal_id=signal.id,
            at=at,
            action="correct",
            from_status="issued",
            to_status="corrected",
            actor="user:x",
        )
    )


def build_signals(session: Session, reg: dict[str, object]) -> None:
    depts = reg["depts"]
    assert isinstance(depts, dict)
    _signal(session, depts["P1"], "red", sh(d(11, 5)))
    s2 = _signal(session, depts["P1"], "yellow", sh(d(11, 10)), status="corrected")
    _corrected(session, s2, sh(d(11, 10), 13))  # 4 hours
    s3 = _signal(session, depts["P2"], "yellow", sh(d(11, 12)), status="corrected")
    _corrected(session, s3, sh(d(11, 13)))  # 24 hours
    _signal(
        session,
        depts["C1"],
        "yellow",
        sh(d(11, 20)),
        color="red",
        status="escalated",
        escalated_at=sh(d(11, 25)),
    )
    _signal(session, depts["C1"], "green", sh(d(11, 30)))
    s6 = _signal(session, depts["P1"], "yellow", sh(d(10, 28)), status="corrected")  # raised in October
    _corrected(session, s6, sh(d(11, 2)))  # 120 hours, corrected in November


def build_investigations(session: Session, reg: dict[str, object], user_id: int) -> None:
    hall_p, hall_c = reg["halls"]  # type: ignore[misc]

    def inv(hall: Hall, assigned: date, due: date, reported: date | None) -> Investigation:
        return Investigation(
            subject="核实",
            assigned_by_id=user_id,
            assignee_scope_kind="hall",
            assignee_scope_id=hall.id,
            assignee_scope_code=hall.code,
            hall_id=hall.id,
            assigned_at=sh(assigned),
            assigned_on=assigned,
            due_date=due,
            status="reported" if reported else "open",
            reported_at=sh(reported, 17) if reported else None,
        )

    session.add_all(
        [
            inv(hall_p, d(11, 3), d(11, 10), d(11, 9)),  # reported on time
            inv(hall_p, d(11, 5), d(11, 12), d(11, 16)),  # late
            inv(hall_c, d(11, 20), d(11, 27), None),  # open past due at the month's end
            inv(hall_c, d(11, 25), d(12, 4), None),  # open, not yet due
            inv(hall_p, d(10, 20), d(10, 30), d(11, 2)),  # assigned in October, reported late in November
        ]
    )


def build_ratings(session: Session, reg: dict[str, object]) -> None:
    depts = reg["depts"]
    assert isinstance(depts, dict)

    def rating(key: str, level: int, day: date, *, excluded: bool = False) -> Rating:
        dept = depts[key]
        found = Rating(
            channel="pad",
            level=level,
            hall_id=dept.hall_id,
            department_id=dept.id,
            rated_at=sh(day),
            rated_on=day,
            weight=1.0,
            excluded=excluded,
            updated_at=sh(day),
        )
        session.add(found)
        session.flush()
        return found

    rating("P1", 5, d(11, 3))
    rating("P1", 4, d(11, 4))
    bad_p1 = rating("P1", 1, d(11, 5))
    rating("P2", 5, d(11, 6))
    bad_p2 = rating("P2", 2, d(11, 7))
    rating("C1", 3, d(11, 8))
    rating("C1", 1, d(11, 9), excluded=True)  # an approved exclusion: counted nowhere
    rating("P1", 1, d(10, 31))  # October
    session.add_all(
        [
            FollowUp(
                rating_id=bad_p1.id,
                hall_id=bad_p1.hall_id,
                department_id=bad_p1.department_id,
                status="rectified",
                opened_at=sh(d(11, 5)),
                callback_at=sh(d(11, 6)),
                rectified_at=sh(d(11, 8)),
            ),
            FollowUp(
                rating_id=bad_p2.id,
                hall_id=bad_p2.hall_id,
                department_id=bad_p2.department_id,
                status="open",
                opened_at=sh(d(11, 7)),
            ),
        ]
    )


def build_absences(session: Session, reg: dict[str, object]) -> None:
    hall_p, hall_c = reg["halls"]  # type: ignore[misc]
    windows = reg["windows"]
    assert isinstance(windows, dict)
    cameras = {
        "P1": Device(code="CAM-P", kind="camera", name="摄像机", hall_id=hall_p.id),
        "C1": Device(code="CAM-C", kind="camera", name="摄像机", hall_id=hall_c.id),
    }
    session.add_all(cameras.values())
    session.flush()
    for index, (key, status, day) in enumerate(
        [
            ("P1", "confirmed", d(11, 2)),
            ("P1", "confirmed", d(11, 3)),
            ("P1", "dismissed", d(11, 4)),
            ("C1", "pending", d(11, 5)),
            ("P1", "confirmed", d(10, 29)),
        ]
    ):
        window = windows[key]
        session.add(
            AbsenceEvent(
                hall_id=window.hall_id,
                window_id=window.id,
                department_id=window.department_id,
                device_id=cameras[key].id,
                camera="CAM",
                started_at=sh(day, 10 + index),
                status=status,
                received_at=sh(day, 10 + index),
                updated_at=sh(day, 10 + index),
            )
        )


def build_patrols(session: Session, reg: dict[str, object], user_id: int) -> None:
    province = reg["regions"][0]  # type: ignore[index]
    hall_p, hall_c = reg["halls"]  # type: ignore[misc]
    windows = reg["windows"]
    assert isinstance(windows, dict)
    plan = PatrolPlan(day=d(11, 2), published_at=sh(d(11, 2), 8), key_id="0" * 16, drawn={}, gaps=[])
    session.add(plan)
    session.flush()
    tasks = [
        PatrolTask(
            plan_id=plan.id,
            day=plan.day,
            body_region_id=province.id,
            hall_id=hall.id,
            region_id=hall.region_id,
            reason="own",
            seq=seq,
            inspector_id=user_id,
        )
        for seq, hall in enumerate((hall_p, hall_c))
    ]
    session.add_all(tasks)
    session.flush()
    patrol = PatrolSession(
        task_id=tasks[0].id,
        hall_id=hall_p.id,
        inspector_id=user_id,
        day=plan.day,
        started_at=sh(plan.day, 10),
        state="complete",
    )
    session.add(patrol)
    session.flush()
    for index, (window_key, category, status) in enumerate(
        [("P1", "phone", "confirmed"), ("P1", "phone", "pending"), ("C1", "absent", "dismissed")]
    ):
        window = windows[window_key]
        session.add(
            PatrolFinding(
                session_id=patrol.id,
                hall_id=window.hall_id,
                window_id=window.id,
                camera="CAM",
                category=category,
                note="发现",
                at=sh(plan.day, 11),
                inspector_id=user_id,
                capture=f"cap-{index}",
                clip_seconds=10,
                status=status,
            )
        )


def score(
    session: Session,
    kind: str,
    subject_id: int,
    hall_id: int,
    day: date,
    value: float,
    *,
    current: bool = True,
) -> None:
    session.add(
        ScoreDay(
            day=day,
            month=day.strftime("%Y-%m"),
            subject_kind=kind,
            subject_id=subject_id,
            hall_id=hall_id,
            department_id=None,
            profile_key="sichuan-2011",
            day_points=0.0,
            month_score=value,
            dimensions={},
            state={},
            lines_count=0,
            revision=1 if current else 0,
            current=current,
            computed_at=NOW,
            as_of=NOW,
        )
    )


def build_scores(session: Session, reg: dict[str, object]) -> None:
    depts, staff = reg["depts"], reg["staff"]
    assert isinstance(depts, dict) and isinstance(staff, dict)
    november = {"P1": 88.0, "P2": 95.5, "P3": 99.9, "P4": 97.0, "C1": 70.0}
    for key, value in november.items():
        dept = depts[key]
        score(session, "department", dept.id, dept.hall_id, d(11, 29), 50.0)  # an earlier day: not shown
        score(session, "department", dept.id, dept.hall_id, d(11, 30), value)
    score(
        session, "department", depts["P1"].id, depts["P1"].hall_id, d(11, 30), 10.0, current=False
    )  # superseded
    for key, value in {"S1": 90.0, "S2": 99.0, "S3": 60.0}.items():
        member = staff[key]
        score(
            session,
            "staff",
            member.id,
            depts[{"S1": "P1", "S2": "P2", "S3": "C1"}[key]].hall_id,
            d(11, 30),
            value,
        )
    for key, value in {"P1": 85.0, "C1": 75.0}.items():  # October's last day: the change against it
        score(session, "department", depts[key].id, depts[key].hall_id, d(10, 31), value)
    score(session, "staff", staff["S1"].id, depts["P1"].hall_id, d(10, 31), 92.0)


def build_world(session: Session, *, with_scores: bool = True) -> World:
    user = session.query(User).filter_by(username="root").one()
    reg = build_registry(session)
    build_cases(session, reg)
    build_signals(session, reg)
    build_investigations(session, reg, user.id)
    build_ratings(session, reg)
    build_absences(session, reg)
    build_patrols(session, reg, user.id)
    if with_scores:
        build_scores(session, reg)
    session.commit()
    depts = reg["depts"]
    assert isinstance(depts, dict)
    return World(ids={key: dept.id for key, dept in depts.items()})
