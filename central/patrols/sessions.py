"""Patrol sessions (issue 15 item 4): an inspector opens a task of today's plan (or an unplanned patrol
of a hall in their jurisdiction), watches the hall's windows live, records findings, and ends it.

A session moves open → judging (ended: waiting for the edge's counts of what it sent each viewer) →
complete or incomplete (`central.patrols.viewing` judges it, `central.patrols.proof` says why). Only
complete sessions count toward the quota. A session left open (the tab closed) is ended by the patrol
job after the profile's `session_max_minutes`; one whose edge never reports is judged without it
after `edge_report_wait_minutes`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.audit.chain import record
from central.core.actor import Actor
from central.live.models import LiveView
from central.live.service import end_view
from central.patrols.models import PatrolSession, PatrolTask
from central.registry.jurisdiction import ScopeKind
from central.registry.models import Hall

logger = logging.getLogger(__name__)

PATROLS_ACTOR = Actor(kind="system", name="patrols")
MAX_END_NOTE = 300


class State(StrEnum):
    OPEN = "open"
    JUDGING = "judging"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


STATE_LABELS = {
    State.OPEN: "巡查中",
    State.JUDGING: "待核验",
    State.COMPLETE: "已完成",
    State.INCOMPLETE: "未完成（不计入）",
}


class PatrolRefused(Exception):
    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail = status_code, detail


def may_patrol(principal: Principal) -> str | None:
    """Why the principal may not patrol (English, for the API), or None."""
    if not principal.may(Permission.PATROLS):
        return f"your role ({principal.role.value}) may not {Permission.PATROLS.value}"
    return None


def start_patrol(
    session: Session,
    *,
    principal: Principal,
    task_id: int | None,
    hall_code: str | None,
    today: date,
    now: datetime,
) -> PatrolSession:
    """Open a patrol of today's task `task_id`, or an unplanned one of `hall_code`; an open patrol of
    the same task (or hall) by the same inspector is resumed rather than doubled. Not committed."""
    if (task_id is None) == (hall_code is None):
        raise PatrolRefused(422, "give either a task or a hall")
    task = _task(session, task_id=task_id, principal=principal, today=today) if task_id is not None else None
    hall_id = (
        task.hall_id if task is not None else _hall(session, code=hall_code or "", principal=principal).id
    )
    open_one = session.scalar(
        select(PatrolSession).where(
            PatrolSession.inspector_id == principal.user_id,
            PatrolSession.state == State.OPEN,
            PatrolSession.hall_id == hall_id,
            PatrolSession.task_id == task_id if task_id is not None else PatrolSession.task_id.is_(None),
        )
    )
    if open_one is not None:
        return open_one
    patrol = PatrolSession(
        task_id=task_id,
        hall_id=hall_id,
        inspector_id=principal.user_id,
        day=today,
        started_at=now,
        state=State.OPEN,
    )
    session.add(patrol)
    session.flush()
    record(
        session,
        actor=principal.actor,
        action="patrol.session.start",
        target_type="patrol_session",
        target_id=str(patrol.id),
        after={"task": task_id, "hall_id": hall_id, "day": today.isoformat()},
        at=now,
    )
    logger.info("patrol %d opened by %s (task %s)", patrol.id, principal.username, task_id)
    return patrol


def visible_patrol(session: Session, *, patrol_id: int, principal: Principal) -> PatrolSession:
    """A patrol the principal may read: their own, or any of a hall in their jurisdiction when they
    supervise (404 alike for one that does not exist and one they may not see)."""
    patrol = session.get(PatrolSession, patrol_id)
    if patrol is None or not principal.jurisdiction.includes_hall(patrol.hall_id):
        raise PatrolRefused(404, f"no patrol {patrol_id}")
    if patrol.inspector_id != principal.user_id and not principal.may(Permission.SIGNALS_SUPERVISE):
        raise PatrolRefused(404, f"no patrol {patrol_id}")
    return patrol


def own_open_patrol(session: Session, *, patrol_id: int, principal: Principal) -> PatrolSession:
    """The principal's own patrol, still open (409 once ended: views and findings belong to open ones)."""
    patrol = visible_patrol(session, patrol_id=patrol_id, principal=principal)
    if patrol.inspector_id != principal.user_id:
        raise PatrolRefused(403, "only the patrol's own inspector acts in it")
    if patrol.state != State.OPEN:
        raise PatrolRefused(409, f"patrol {patrol.id} has ended ({STATE_LABELS[State(patrol.state)]})")
    return patrol


def patrol_hall_code(session: Session, patrol: PatrolSession) -> str:
    hall = session.get(Hall, patrol.hall_id)
    return hall.code if hall is not None else ""


def end_patrol(
    session: Session, *, patrol: PatrolSession, actor: Actor, note: str | None, now: datetime
) -> None:
    """End an open patrol: its views are closed (the edge then reports what it sent), it waits to be
    judged. Not committed; the caller judges it (`central.patrols.viewing.judge_patrol`)."""
    if patrol.state != State.OPEN:
        raise PatrolRefused(409, f"patrol {patrol.id} has ended already")
    patrol.ended_at = now
    patrol.end_note = (note or "").strip()[:MAX_END_NOTE] or None
    patrol.state = State.JUDGING
    for view in session.scalars(select(LiveView).where(LiveView.patrol_session_id == patrol.id)):
        end_view(session, view=view, actor=actor, now=now)
    record(
        session,
        actor=actor,
        action="patrol.session.end",
        target_type="patrol_session",
        target_id=str(patrol.id),
        after={"note": patrol.end_note},
        at=now,
    )


def _task(session: Session, *, task_id: int, principal: Principal, today: date) -> PatrolTask:
    task = session.get(PatrolTask, task_id)
    if task is None or not principal.jurisdiction.includes_hall(task.hall_id):
        raise PatrolRefused(404, f"no patrol task {task_id}")
    if task.day != today:
        raise PatrolRefused(
            409, f"task {task_id} is for {task.day.isoformat()}, not today ({today.isoformat()})"
        )
    if task.inspector_id is not None and task.inspector_id != principal.user_id:
        raise PatrolRefused(403, f"task {task_id} is assigned to another inspector")
    if principal.jurisdiction.kind not in (ScopeKind.DEPLOYMENT, ScopeKind.REGION):
        raise PatrolRefused(403, "planned patrols are for supervising bodies (a region scope)")
    return task


def _hall(session: Session, *, code: str, principal: Principal) -> Hall:
    hall = session.scalar(select(Hall).where(Hall.code == code))
    if hall is None or not principal.jurisdiction.includes_hall(hall.id):
        raise PatrolRefused(404, f"no hall {code[:40]} in your jurisdiction")
    return hall
