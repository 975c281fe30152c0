"""Rating prompts (一事一评): a window is asked to rate one case, and its edge agent is told to show
the PROMPT on the window's keypad (a DeviceCommand, sent down the hall's channel or long-poll).

A prompt is opened (a) by case events pushed through the API with a window, when the event time is
within prompt_valid_seconds of now (a historical import must not prompt anyone), and (b) by the
staff member's "request rating" (POST /api/v1/ratings/prompts). A case that already has a rating
gets no prompt. How presses bind to prompts: `central.ratings.binding`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.cases.models import Case
from central.cases.schemas import CaseEventIn
from central.core.actor import SYSTEM, Actor
from central.core.clock import to_utc
from central.devices.command_kinds import queue_command
from central.profiles.assignment import hall_profile_keys
from central.ratings.models import Rating, RatingPrompt
from central.registry.models import Hall, ServiceWindow, Staff
from common.contract import PromptPayload
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile

logger = logging.getLogger(__name__)


def open_prompt(
    session: Session,
    *,
    window: ServiceWindow,
    case: Case,
    staff: Staff | None,
    source: str,
    now: datetime,
    profile: RuleProfile,
    actor: Actor = SYSTEM,
) -> RatingPrompt:
    """Open a prompt for the case at the window and queue the PROMPT command for the hall's edge
    agent (both valid for profile.ratings.prompt_valid_seconds), with an audit entry. Does not
    commit; the hall's agents are woken when the caller commits."""
    expires_at = now + timedelta(seconds=profile.ratings.prompt_valid_seconds)
    prompt = RatingPrompt(
        hall_id=window.hall_id,
        window_id=window.id,
        case_id=case.id,
        staff_id=staff.id if staff else None,
        source=source,
        opened_at=now,
        expires_at=expires_at,
    )
    session.add(prompt)
    command = queue_command(
        session,
        hall_id=window.hall_id,
        command=PromptPayload(
            window=window.code,
            case_no=case.case_no,
            staff_name=staff.name if staff else None,
            staff_no=staff.code if staff else None,
        ),
        expires_at=expires_at,
        now=now,
    )
    record(
        session,
        actor=actor,
        action="rating.prompt.opened",
        target_type="case",
        target_id=case.case_no,
        after={
            "window": window.code,
            "staff": staff.code if staff else None,
            "source": source,
            "prompt_id": prompt.id,
            "command_id": command.id,
            "expires_at": expires_at.isoformat(),
        },
        at=now,
    )
    logger.info("prompt %d: case %s at window %s (%s)", prompt.id, case.case_no, window.code, source)
    return prompt


def case_is_rated(session: Session, *, case_id: int) -> bool:
    return session.scalar(select(Rating.id).where(Rating.case_id == case_id)) is not None


def staff_for_prompt(
    session: Session, *, window: ServiceWindow, case: Case, staff: Staff | None
) -> Staff | None:
    """Who is rated: the named staff member, else the case's, else the window's only active one."""
    if staff is not None:
        return staff
    if case.staff_id is not None:
        return session.get(Staff, case.staff_id)
    at_window = session.scalars(
        select(Staff).where(Staff.window_id == window.id, Staff.active.is_(True)).limit(2)
    ).all()
    return at_window[0] if len(at_window) == 1 else None


def open_prompts_for_events(
    session: Session,
    *,
    events: Sequence[CaseEventIn],
    now: datetime,
    default_profile_key: str,
    actor: Actor,
) -> list[RatingPrompt]:
    """After a batch of case events is stored: one prompt per case whose latest event with a window
    happened within prompt_valid_seconds of now, unless the case is rated. Does not commit."""
    latest: dict[str, CaseEventIn] = {}
    for event in events:
        if event.window_code and (
            event.case_no not in latest or to_utc(event.at) >= to_utc(latest[event.case_no].at)
        ):
            latest[event.case_no] = event
    if not latest:
        return []
    profiles = hall_profile_keys(session, default_key=default_profile_key)
    cases = {c.case_no: c for c in session.scalars(select(Case).where(Case.case_no.in_(sorted(latest))))}
    opened = []
    for case_no, event in sorted(latest.items()):
        case = cases.get(case_no)
        if case is None:
            continue
        profile = get_profile(profiles.get(case.hall_id, default_profile_key))
        if abs(now - to_utc(event.at)) > timedelta(seconds=profile.ratings.prompt_valid_seconds):
            continue
        if case_is_rated(session, case_id=case.id):
            continue
        window = session.scalar(
            select(ServiceWindow).where(
                ServiceWindow.hall_id == case.hall_id, ServiceWindow.code == event.window_code
            )
        )
        if window is None:
            continue
        named = (
            session.scalar(select(Staff).where(Staff.code == event.staff_code)) if event.staff_code else None
        )
        staff = staff_for_prompt(session, window=window, case=case, staff=named)
        opened.append(
            open_prompt(
                session,
                window=window,
                case=case,
                staff=staff,
                source="case_event",
                now=now,
                profile=profile,
                actor=actor,
            )
        )
    return opened


def hall_code(session: Session, hall_id: int) -> str:
    return session.scalar(select(Hall.code).where(Hall.id == hall_id)) or str(hall_id)
