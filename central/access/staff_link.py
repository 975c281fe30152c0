"""Which member of staff an account belongs to (`users.staff_id`): their own score page (SZ-19,
issue 17). The member of staff must lie inside the account's own jurisdiction (a department's user:
a member of that department), and belongs to one account at most. Every change is audited."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.service import AccessError, UserNotFoundError, find_user, jurisdiction_of_user
from central.audit.chain import record
from central.core.actor import Actor
from central.registry.jurisdiction import Jurisdiction, ScopeError
from central.registry.models import Department, Staff

logger = logging.getLogger(__name__)


class StaffLinkError(AccessError):
    """The staff code names nobody, somebody outside the account's jurisdiction, or somebody
    another account belongs to already."""


def staff_code_of(session: Session, user: User) -> str | None:
    if user.staff_id is None:
        return None
    code: str | None = session.scalar(select(Staff.code).where(Staff.id == user.staff_id))
    return code


def link_staff(session: Session, *, user: User, staff_code: str | None, actor: Actor, now: datetime) -> None:
    """Link `user` to the member of staff of `staff_code` (None: unlink), with its audit entry. Raises
    StaffLinkError; does not commit."""
    before = staff_code_of(session, user)
    staff_id = None
    if staff_code is not None:
        found = session.execute(
            select(Staff.id, Department.id, Department.hall_id)
            .join(Department, Department.id == Staff.department_id)
            .where(Staff.code == staff_code)
        ).first()
        scope = jurisdiction_of_user(session, user)
        if found is None:
            raise StaffLinkError(f"no member of staff has the code {staff_code!r}")
        staff_id, department_id, hall_id = found
        if not scope.covers_case(hall_id=hall_id, department_id=department_id):
            raise StaffLinkError(
                f"staff {staff_code} is outside the jurisdiction of {user.username} ({scope.code})"
            )
        other = session.scalar(select(User.username).where(User.staff_id == staff_id, User.id != user.id))
        if other is not None:
            raise StaffLinkError(f"staff {staff_code} already belongs to the account {other}")
    if before == staff_code:
        return
    user.staff_id = staff_id
    record(
        session,
        actor=actor,
        action="user.staff_linked",
        target_type="user",
        target_id=user.username,
        before={"staff": before},
        after={"staff": staff_code},
        at=now,
    )
    logger.info("user %s: staff %s (was %s)", user.username, staff_code, before)


def user_within(session: Session, *, username: str, within: Jurisdiction) -> User:
    """The account of `username` if its scope lies inside `within` (an administrator's); raises
    UserNotFoundError otherwise, as for a name nobody has."""
    user = find_user(session, username=username)
    try:
        scope = jurisdiction_of_user(session, user) if user is not None else None
    except ScopeError:
        scope = None
    if user is None or scope is None or not within.contains(scope):
        raise UserNotFoundError(f"no user {username} in your jurisdiction")
    return user


__all__ = ["StaffLinkError", "link_staff", "staff_code_of", "user_within"]
