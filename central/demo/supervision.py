"""Demo supervision work: the scheduler's signals, a signal raised by hand, an investigation passed
down, and a correction request waiting in the province's approvals inbox — all through the services
people use, so the pages have something to show."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.models import User
from central.access.roles import Role
from central.access.service import jurisdiction_of_user
from central.approvals.kinds import ApprovalError
from central.approvals.service import create_request
from central.calendar.service import load_calendar
from central.cases.models import Case, CaseEvent
from central.cases.queries import case_clause
from central.complaints.jobs import COMPLAINT_SIGNAL_SOURCES
from central.core.actor import Actor
from central.dualtrack.judge import DUALTRACK_SIGNAL_SOURCES
from central.investigations.schemas import InvestigationCreate
from central.investigations.service import open_investigation
from central.ratings.overdue import RATINGS_SIGNAL_SOURCES
from central.signals.models import Signal
from central.signals.scheduler import run_signals
from central.signals.schemas import SignalCreate
from central.signals.service import raise_signal
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SupervisionSummary:
    signals: int
    investigations: int
    approvals: int


def demo_principal(session: Session, username: str) -> Principal:
    """The signed-in principal of a demo account, as the API would build it."""
    user = session.scalars(select(User).where(User.username == username)).one()
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction=jurisdiction_of_user(session, user),
        actor=Actor(kind="user", name=user.username),
    )


def seed_supervision(
    session: Session,
    *,
    now: datetime,
    default_profile: str,
    inspector: str,
    county_inspector: str,
    clerk: str,
) -> SupervisionSummary:
    calendar = load_calendar(session)
    summary = run_signals(
        session,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
        instance="demo",
        sources={**RATINGS_SIGNAL_SOURCES, **COMPLAINT_SIGNAL_SOURCES, **DUALTRACK_SIGNAL_SOURCES},
    )
    province, county, post = (demo_principal(session, name) for name in (inspector, county_inspector, clerk))
    department = post.jurisdiction.code
    raise_signal(
        session,
        body=SignalCreate(
            reason_code="corrections_not_told_at_once",
            reason="申请人反映补正材料分三次告知",
            evidence="12345 热线工单；窗口录像（待调阅审批）",
            department_code=department,
        ),
        principal=province,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
    )
    investigations = 0
    red = session.scalars(
        select(Signal)
        .where(
            Signal.color == "red",
            Signal.status == "issued",
            county.jurisdiction.clause(hall_id=Signal.hall_id, department_id=Signal.department_id),
        )
        .order_by(Signal.id)
        .limit(1)
    ).first()
    if red is not None:
        body = InvestigationCreate(signal_id=red.id, assignee_scope=county.jurisdiction.code)
        open_investigation(
            session,
            body=body,
            principal=province,
            now=now,
            calendar=calendar,
            default_profile=default_profile,
        )
        investigations = 1
    session.commit()
    approvals = _request_a_void(
        session, post=post, now=now, calendar=calendar, default_profile=default_profile
    )
    logger.info("demo supervision: %d signals issued by the scheduler", summary.issued)
    return SupervisionSummary(signals=summary.issued + 1, investigations=investigations, approvals=approvals)


def _request_a_void(
    session: Session, *, post: Principal, now: datetime, calendar: WorkCalendar, default_profile: str
) -> int:
    """The clerk asks to void a mistaken 'undertaken' entry (the first whose removal leaves a
    possible history); the province's inspectors find it in their inbox."""
    candidates = session.scalars(
        select(CaseEvent.event_id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(case_clause(post.jurisdiction), CaseEvent.type == "undertaken", Case.status == "undertaken")
        .order_by(CaseEvent.id)
        .limit(20)
    ).all()
    for event_id in candidates:
        try:
            create_request(
                session,
                requester=post,
                kind="case_event_void",
                target=event_id,
                payload={},
                reason="录入错误：承办环节误点，申请作废此条记录",
                now=now,
                calendar=calendar,
                default_profile_key=default_profile,
            )
        except ApprovalError as exc:
            session.rollback()
            logger.debug("demo void of %s refused: %s", event_id, exc.detail)
            continue
        return 1
    return 0
