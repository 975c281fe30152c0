"""A small supervision world for ledger tests (SC-7): signals written straight through the session
(they are computed elsewhere), two with investigations, across two halls and three departments.

The clock stands at 2026-11-27 10:00 Shanghai (the `clock` fixture), so "today" is 2026-11-27.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.cases.models import Case
from central.core.clock import SHANGHAI, shanghai_date
from central.investigations.models import Investigation
from central.registry.models import Department, Item
from central.signals.models import Signal, SignalEvent
from tests.conftest import make_user

TODAY = date(2026, 11, 27)


def sh(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """An aware UTC moment from Shanghai wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class World:
    """Signal ids by name: P* at the provincial hall (SCJGJ, SCGAT), K* at the county hall (JJSJ)."""

    ids: dict[str, int]

    def names(self, ids: list[int]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[i] for i in ids]


def _case(session: Session, *, case_no: str, item: Item, department: Department) -> Case:
    case = Case(
        case_no=case_no,
        item_id=item.id,
        hall_id=department.hall_id,
        department_id=department.id,
        promised_limit_days=10,
        legal_limit_days=20,
        status="accepted",
        accepted_on=date(2026, 11, 2),
        last_event_at=sh(2026, 11, 2),
    )
    session.add(case)
    session.flush()
    return case


def _signal(session: Session, *, department: Department, issued_at: datetime, **fields: object) -> Signal:
    values: dict[str, object] = {
        "origin": "manual",
        "reason_code": "other_minor",
        "color": "yellow",
        "status": "issued",
        "issued_by": "user:inspector",
    }
    values.update(fields)
    signal = Signal(
        initial_color=values["color"],
        hall_id=department.hall_id,
        department_id=department.id,
        issued_at=issued_at,
        issued_on=shanghai_date(issued_at),
        updated_at=issued_at,
        **values,
    )
    session.add(signal)
    session.flush()
    return signal


def _event(session: Session, signal: Signal, *, at: datetime, action: str, before: str, after: str) -> None:
    session.add(
        SignalEvent(
            signal_id=signal.id, at=at, action=action, from_status=before, to_status=after, actor="user:x"
        )
    )


def _investigation(
    session: Session, signal: Signal, *, assigner: int, due: date, reported_at: datetime | None = None
) -> None:
    session.add(
        Investigation(
            signal_id=signal.id,
            subject="核查",
            assigned_by_id=assigner,
            assignee_scope_kind="hall",
            assignee_scope_id=signal.hall_id,
            assignee_scope_code="hall",
            hall_id=signal.hall_id,
            department_id=signal.department_id,
            assigned_at=sh(2026, 11, 10, 10),
            assigned_on=date(2026, 11, 10),
            due_date=due,
            status="reported" if reported_at else "open",
            reported_at=reported_at,
            reported_by="user:county" if reported_at else None,
            report="已整改" if reported_at else None,
            finding="fault" if reported_at else None,
        )
    )


@pytest.fixture
def world(db: Engine, session: Session, registry: dict[str, int]) -> World:
    make_user(db, "assigner")
    assigner = session.scalar(select(User.id).where(User.username == "assigner"))
    assert assigner is not None
    scjgj = session.scalar(select(Department).where(Department.code == "SCJGJ"))
    assert scjgj is not None
    scgat = Department(code="SCGAT", name="省公安厅", hall_id=registry["hall"])
    jjsj = Department(code="JJSJ", name="锦江区市场监管局", hall_id=registry["county_hall"])
    session.add_all([scgat, jjsj])
    session.flush()
    item = session.scalar(select(Item).where(Item.code == "SCJGJ-XK-001"))
    assert item is not None
    county_item = Item(
        code="JJSJ-XK-001", name="个体工商户登记", department_id=jjsj.id, legal_limit_days=20, fee=0
    )
    session.add(county_item)
    session.flush()
    p1_case = _case(session, case_no="HW-P1", item=item, department=scjgj)
    p2_case = _case(session, case_no="HW-P2", item=item, department=scjgj)
    k1_case = _case(session, case_no="JJ-K1", item=county_item, department=jjsj)

    p1 = _signal(
        session,
        department=scjgj,
        issued_at=sh(2026, 11, 2),
        case_id=p1_case.id,
        reason_code="late_decision",
        status="acknowledged",
        correct_by=date(2026, 11, 3),
    )
    _event(session, p1, at=sh(2026, 11, 2, 15), action="acknowledge", before="issued", after="acknowledged")
    p2 = _signal(
        session,
        department=scjgj,
        issued_at=sh(2026, 11, 10),
        case_id=p2_case.id,
        origin="light",
        reason_code="light_red",
        color="red",
        status="investigating",
        escalated_at=sh(2026, 11, 10, 9, 30),
    )
    _event(session, p2, at=sh(2026, 11, 10, 9, 30), action="escalate", before="issued", after="escalated")
    _event(
        session, p2, at=sh(2026, 11, 10, 10), action="investigate", before="escalated", after="investigating"
    )
    _investigation(session, p2, assigner=assigner, due=date(2026, 11, 20))  # open, past due: overdue
    p3 = _signal(
        session,
        department=scgat,
        issued_at=sh(2026, 11, 20),
        origin="due_date",
        reason_code="due_date",
        color="green",
    )
    k1 = _signal(
        session,
        department=jjsj,
        issued_at=sh(2026, 11, 25),
        case_id=k1_case.id,
        reason_code="unlawful_fees",
        color="red",
        status="closed",
        closed_at=sh(2026, 11, 26, 16),
        finding="fault",
    )
    _event(session, k1, at=sh(2026, 11, 26, 16), action="close", before="investigating", after="closed")
    _investigation(
        session, k1, assigner=assigner, due=date(2026, 11, 20), reported_at=sh(2026, 11, 26, 15)
    )  # past due but reported: not overdue
    k2 = _signal(
        session, department=jjsj, issued_at=sh(2026, 10, 30), status="corrected", correct_by=date(2026, 11, 2)
    )
    _event(session, k2, at=sh(2026, 10, 31, 11), action="correct", before="issued", after="corrected")
    _investigation(session, k2, assigner=assigner, due=date(2026, 12, 30))  # open, not yet due
    session.commit()
    return World({"P1": p1.id, "P2": p2.id, "P3": p3.id, "K1": k1.id, "K2": k2.id})
