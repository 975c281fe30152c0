"""The follow-up of every 差评 (HCP): opened when the 差评 is stored, then called back (回访, the
callback rate must reach 100%), rectified (整改) by the profile's deadline in working days (Sichuan
15, Shenzhen 5), and closed by an inspector with the citizen's optional re-rating.

* `open_followups` is called by the binding (`central.ratings.ingest.notify_bad_ratings`) for every
  rating that is (or a correction turns into) a 差评, level ≤ profile.ratings.bad_max_level.
  Idempotent: one follow-up per rating.
* `withdraw_followup` removes the untouched follow-up of a rating corrected back to a good level
  within the correction time; the scheduler's pass (`central.ratings.overdue`) does it for any it
  finds, so the binding need not call it.
* Steps (`record_callback`, `record_rectification`, `close_followup`) check the caller's role
  (post users — SIGNALS_RESPOND or CASES_WRITE — call back and rectify; inspectors —
  SIGNALS_SUPERVISE — close), then the jurisdiction (another one's follow-up is 404 like a missing
  one), then the status (409 for a step that cannot happen now). Each is audited in the caller's
  transaction; callers commit.
* A follow-up of an excluded rating takes no more steps (409): the 差评 no longer counts.

Overdue follow-ups raise signals: `central.ratings.overdue`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.audit.chain import Change, record, record_many
from central.core.actor import Actor
from central.core.bulk import draw_ids, insert_rows
from central.core.clock import to_utc
from central.ratings.labels import STEP_MOVES, FollowUpStatus, FollowUpStep
from central.ratings.models import FollowUp, Rating
from central.ratings.schemas import CallbackIn, CloseIn, RectifyIn
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import ServiceWindow, Staff
from common.profiles.schema import RuleProfile
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

FOLLOWUP_ACTOR = Actor(kind="system", name="ratings")  # who opens follow-ups
TARGET_TYPE = "rating_followup"
FUTURE_TOLERANCE = timedelta(minutes=5)

STEP_PERMISSIONS: dict[FollowUpStep, frozenset[Permission]] = {
    FollowUpStep.CALLBACK: frozenset({Permission.SIGNALS_RESPOND, Permission.CASES_WRITE}),
    FollowUpStep.RECTIFY: frozenset({Permission.SIGNALS_RESPOND, Permission.CASES_WRITE}),
    FollowUpStep.CLOSE: frozenset({Permission.SIGNALS_SUPERVISE}),
}
_ROLE_TEXT = {
    FollowUpStep.CALLBACK: "只有岗位用户（或有办件录入权限的用户）可以登记回访。",
    FollowUpStep.RECTIFY: "只有岗位用户（或有办件录入权限的用户）可以登记整改。",
    FollowUpStep.CLOSE: "只有电子监察员和系统监管员可以办结差评回访整改。",
}


class FollowUpError(Exception):
    """A step that cannot go ahead: `status_code` for the API, `detail` in English, `zh` for pages."""

    def __init__(self, status_code: int, detail: str, zh: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.zh = zh


def missing(followup_id: int) -> FollowUpError:
    return FollowUpError(
        404, f"no follow-up #{followup_id}", f"没有编号为 #{followup_id} 的差评回访整改，或不在您的辖区内。"
    )


# -- opening --------------------------------------------------------------------------------------


def is_bad(level: int, profile: RuleProfile) -> bool:
    """A 差评: 不满意 or 非常不满意 by default (profile.ratings.bad_max_level)."""
    return level <= profile.ratings.bad_max_level


def rectify_due(calendar: WorkCalendar, rated_on: date, workdays: int) -> date | None:
    """The last working day to rectify a 差评 of `rated_on`; None (logged) when the calendar lacks
    a year it needs: the scheduler fills it in once the year is entered (central.ratings.overdue)."""
    try:
        return calendar.add_workdays(rated_on, workdays)
    except CalendarMissingError as exc:
        logger.warning(
            "no rectification deadline for a 差评 of %s: calendar years %s missing", rated_on, exc.years
        )
        return None


def department_of(session: Session, rating: Rating) -> int | None:
    """The department answerable for a rating: its own, else its window's, else its staff member's."""
    if rating.department_id is not None:
        return rating.department_id
    if rating.window_id is not None:
        window = session.get(ServiceWindow, rating.window_id)
        if window is not None and window.department_id is not None:
            return window.department_id
    if rating.staff_id is not None:
        staff = session.get(Staff, rating.staff_id)
        if staff is not None:
            return staff.department_id
    return None


def open_followup(
    session: Session, *, rating: Rating, profile: RuleProfile, calendar: WorkCalendar, now: datetime
) -> FollowUp | None:
    """Open the follow-up of a 差评 (audited `followup.open`); the existing one when it has one;
    None for a rating that is not a 差评 or is excluded. Does not commit."""
    if rating.id is None:
        session.flush()
    open_followups(session, ratings=[rating], profile=profile, calendar=calendar, now=now)
    return session.scalar(select(FollowUp).where(FollowUp.rating_id == rating.id))


def open_followups(
    session: Session,
    *,
    ratings: Sequence[Rating],
    profile: RuleProfile,
    calendar: WorkCalendar,
    now: datetime,
) -> list[int]:
    """The 差评 hook: open the follow-ups these ratings lack, in one insert and one audit append
    (an outbox drained after an outage brings hundreds at once). Returns the ids of those opened."""
    wanted = {r.id: r for r in ratings if is_bad(r.level, profile) and not r.excluded}
    if not wanted:
        return []
    have = set(session.scalars(select(FollowUp.rating_id).where(FollowUp.rating_id.in_(list(wanted)))))
    new = [rating for rating_id, rating in sorted(wanted.items()) if rating_id not in have]
    due: dict[date, date | None] = {}  # a drained batch's 差评 fall on a few days
    for day in {rating.rated_on for rating in new}:
        due[day] = rectify_due(calendar, day, profile.ratings.rectify_within_workdays)
    ids = draw_ids(session, FollowUp, len(new))
    # Plain rows, not ORM objects: a drained outbox's batch opens dozens, and each would be
    # tracked by the session only to be written once.
    opened = [
        {
            "id": followup_id,
            "rating_id": rating.id,
            "hall_id": rating.hall_id,
            "department_id": department_of(session, rating),
            "status": FollowUpStatus.OPEN.value,
            "opened_at": now,
            "rectify_due": due[rating.rated_on],
        }
        for followup_id, rating in zip(ids, new, strict=True)
    ]
    # No race to guard against: whoever changes a rating holds its row (inserted or updated in the
    # same transaction), so a second binder waits and then sees these follow-ups committed.
    insert_rows(session, FollowUp, opened)
    changes = [
        Change(
            action="followup.open",
            target_type=TARGET_TYPE,
            target_id=str(row["id"]),
            after={**_row_snapshot(row), "rating_id": rating.id, "level": rating.level},
        )
        for row, rating in zip(opened, new, strict=True)
    ]
    record_many(session, actor=FOLLOWUP_ACTOR, at=now, changes=changes)
    logger.info("%d follow-up(s) opened for 差评", len(opened))
    return ids


def withdraw_followup(session: Session, *, rating: Rating, profile: RuleProfile, now: datetime) -> bool:
    """For a rating whose level was corrected within the correction time to one that is no 差评:
    remove its follow-up if nobody has touched it yet (audited `followup.withdraw`). Returns whether
    one was removed; a follow-up already called back stays."""
    if is_bad(rating.level, profile):
        return False
    followup = session.scalar(select(FollowUp).where(FollowUp.rating_id == rating.id))
    if followup is None or followup.status != FollowUpStatus.OPEN.value:
        return False
    before, followup_id = snapshot(followup), followup.id
    # Conditional: a callback (or another scheduler instance) that got there first leaves it alone.
    removed = session.execute(
        delete(FollowUp)
        .where(FollowUp.id == followup_id, FollowUp.status == FollowUpStatus.OPEN.value)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], removed).rowcount != 1:
        return False
    session.expunge(followup)
    record(
        session,
        actor=FOLLOWUP_ACTOR,
        action="followup.withdraw",
        target_type=TARGET_TYPE,
        target_id=str(followup_id),
        before=before,
        after={"rating_id": rating.id, "level": rating.level, "reason": "rating corrected"},
        at=now,
    )
    return True


# -- reading one ----------------------------------------------------------------------------------


def visible_followup(
    session: Session, *, followup_id: int, within: Jurisdiction, lock: bool = False
) -> tuple[FollowUp, Rating]:
    """The follow-up and its rating, inside `within` (404 otherwise, like a missing one)."""
    query = (
        select(FollowUp, Rating)
        .join(Rating, Rating.id == FollowUp.rating_id)
        .where(
            FollowUp.id == followup_id,
            within.clause(hall_id=FollowUp.hall_id, department_id=FollowUp.department_id),
        )
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=FollowUp)  # two steps at once: the second sees the first
    row = session.execute(query).first()
    if row is None:
        raise missing(followup_id)
    return row[0], row[1]


def may_take(principal: Principal, step: FollowUpStep) -> bool:
    return any(principal.may(permission) for permission in STEP_PERMISSIONS[step])


def allowed_steps(principal: Principal, followup: FollowUp, rating: Rating) -> list[FollowUpStep]:
    """The steps the caller may take on this follow-up now."""
    if rating.excluded:
        return []
    return [
        step
        for step, (source, _target) in STEP_MOVES.items()
        if followup.status == source.value and may_take(principal, step)
    ]


# The audited state of a follow-up: these columns.
SNAPSHOT_FIELDS = (
    "status",
    "rectify_due",
    "callback_at",
    "callback_by",
    "callback_result",
    "rectified_at",
    "rectified_by",
    "rectification",
    "rerating_level",
    "closed_at",
)


def snapshot(followup: FollowUp) -> dict[str, Any]:
    """The audited state of a follow-up."""
    return {name: getattr(followup, name) for name in SNAPSHOT_FIELDS}


def _row_snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """`snapshot` of a follow-up inserted as a plain row (columns it does not name are NULL)."""
    return {name: row.get(name) for name in SNAPSHOT_FIELDS}


# -- steps ----------------------------------------------------------------------------------------


def _begin_step(
    session: Session, *, principal: Principal, followup_id: int, step: FollowUpStep
) -> tuple[FollowUp, Rating, dict[str, Any]]:
    if not may_take(principal, step):
        raise FollowUpError(
            403, f"your role ({principal.role.value}) may not {step.value} follow-ups", _ROLE_TEXT[step]
        )
    followup, rating = visible_followup(
        session, followup_id=followup_id, within=principal.jurisdiction, lock=True
    )
    if rating.excluded:
        raise FollowUpError(
            409,
            f"rating #{rating.id} was excluded (approval #{rating.excluded_by_approval_id}): no more steps",
            "该差评已经审批剔除，无需继续回访整改。",
        )
    source, _target = STEP_MOVES[step]
    if followup.status != source.value:
        raise FollowUpError(
            409,
            f"follow-up #{followup.id} is {followup.status}; {step.value} needs {source.value}",
            _order_text(step, FollowUpStatus(followup.status)),
        )
    return followup, rating, snapshot(followup)


def _order_text(step: FollowUpStep, status: FollowUpStatus) -> str:
    if step is FollowUpStep.CALLBACK:
        return "已经登记过回访，不能重复登记。"
    if step is FollowUpStep.RECTIFY:
        return "请先登记回访，再登记整改。" if status is FollowUpStatus.OPEN else "已经登记过整改。"
    return "整改登记后才能办结。" if status is not FollowUpStatus.CLOSED else "该回访整改已经办结。"


def _finish_step(
    session: Session,
    *,
    principal: Principal,
    followup: FollowUp,
    step: FollowUpStep,
    before: dict[str, Any],
    now: datetime,
) -> FollowUp:
    followup.status = STEP_MOVES[step][1].value
    session.flush()
    record(
        session,
        actor=principal.actor,
        action=f"followup.{step.value}",
        target_type=TARGET_TYPE,
        target_id=str(followup.id),
        before=before,
        after=snapshot(followup),
        at=now,
    )
    logger.info("%s: follow-up #%s %s", principal.username, followup.id, step.value)
    return followup


def record_callback(
    session: Session, *, principal: Principal, followup_id: int, body: CallbackIn, now: datetime
) -> FollowUp:
    """回访: who called, when, and the result. Only from `open`."""
    followup, rating, before = _begin_step(
        session, principal=principal, followup_id=followup_id, step=FollowUpStep.CALLBACK
    )
    try:
        called_at = to_utc(body.called_at) if body.called_at else now
    except OverflowError:  # e.g. year 1 at +14:00: no such UTC moment
        raise FollowUpError(422, "called_at is out of range", "回访时间超出范围。") from None
    if called_at > now + FUTURE_TOLERANCE:
        raise FollowUpError(422, "called_at is in the future", "回访时间不能晚于现在。")
    if called_at < rating.rated_at:
        raise FollowUpError(422, "called_at is before the rating", "回访时间不能早于评价时间。")
    followup.callback_at = called_at
    followup.callback_by = body.called_by or principal.username
    followup.callback_result = body.result
    return _finish_step(
        session, principal=principal, followup=followup, step=FollowUpStep.CALLBACK, before=before, now=now
    )


def record_rectification(
    session: Session, *, principal: Principal, followup_id: int, body: RectifyIn, now: datetime
) -> FollowUp:
    """整改: what was done. Only after the callback."""
    followup, _rating, before = _begin_step(
        session, principal=principal, followup_id=followup_id, step=FollowUpStep.RECTIFY
    )
    followup.rectified_at = now
    followup.rectified_by = principal.username
    followup.rectification = body.rectification
    return _finish_step(
        session, principal=principal, followup=followup, step=FollowUpStep.RECTIFY, before=before, now=now
    )


def close_followup(
    session: Session, *, principal: Principal, followup_id: int, body: CloseIn, now: datetime
) -> FollowUp:
    """办结 by an inspector, recording the citizen's re-rating if there was one."""
    followup, _rating, before = _begin_step(
        session, principal=principal, followup_id=followup_id, step=FollowUpStep.CLOSE
    )
    followup.rerating_level = body.rerating_level
    followup.closed_at = now
    return _finish_step(
        session, principal=principal, followup=followup, step=FollowUpStep.CLOSE, before=before, now=now
    )


__all__ = [
    "FOLLOWUP_ACTOR",
    "FollowUpError",
    "allowed_steps",
    "close_followup",
    "department_of",
    "is_bad",
    "open_followup",
    "record_callback",
    "record_rectification",
    "rectify_due",
    "visible_followup",
    "withdraw_followup",
]
