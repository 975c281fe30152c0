"""Replacing an entered calendar year (SC-18): asked for with what it changes, applied once approved.
An approval kind beside the case kinds (approvals sit above calendar and cases, which it uses).

A year re-projects every case of the deployment, so the request carries its consequences for the
approver to weigh: the dates that stop or start being working days, and how many open cases' due
dates would move (counted by re-projecting the open cases the year can touch, without writing).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from central.access.roles import Permission
from central.access.scope import WIDE_SCOPE_TEXT
from central.approvals.kinds import (
    ApprovalKind,
    KindContext,
    Level,
    Prepared,
    bad_payload,
    conflict,
    forbidden,
    payload_of,
    register_kind,
)
from central.calendar.models import CalendarYear
from central.calendar.schemas import CalendarYearIn
from central.calendar.service import load_calendar, store_year
from central.cases.models import Case
from central.cases.projection import case_due_dates, event_voids, replay_case
from central.cases.service import describe_validation
from central.profiles.assignment import hall_profile_keys
from central.registry.jurisdiction import is_deployment_wide
from common.profiles.loader import get_profile
from common.worktime import WorkCalendar, YearRule

if TYPE_CHECKING:
    from central.access.deps import Principal
    from central.approvals.models import ApprovalRequest

logger = logging.getLogger(__name__)

KIND = "calendar_replace"


class CalendarDiff(BaseModel):
    working_days_added: list[date]  # were rest days, become working days
    working_days_removed: list[date]  # were working days, become rest days
    open_cases_moved: int  # open cases whose promised or legal due date would change


def _working_days(rule: YearRule, year: int) -> set[date]:
    day, found = date(year, 1, 1), set()
    while day.year == year:
        if rule.is_workday(day):
            found.add(day)
        day += timedelta(days=1)
    return found


def calendar_diff(session: Session, *, entry: CalendarYearIn, default_key: str) -> CalendarDiff:
    """What replacing the stored year by `entry` would change (reads only)."""
    current = load_calendar(session)
    old_rule = current.year_rule(entry.year)
    new_rule = YearRule(
        entry.year, frozenset(entry.holidays), frozenset(entry.workdays), source="administrator"
    )
    old_days = _working_days(old_rule, entry.year) if old_rule else set()
    new_days = _working_days(new_rule, entry.year)
    rules = {year: rule for year in current.covered_years if (rule := current.year_rule(year))}
    proposed = WorkCalendar({**rules, entry.year: new_rule})
    return CalendarDiff(
        working_days_added=sorted(new_days - old_days),
        working_days_removed=sorted(old_days - new_days),
        open_cases_moved=_cases_moved(session, year=entry.year, calendar=proposed, default_key=default_key),
    )


def _cases_moved(session: Session, *, year: int, calendar: WorkCalendar, default_key: str) -> int:
    start = date(year, 1, 1)
    query = (
        select(Case)
        .where(
            Case.closed_on.is_(None),
            or_(
                Case.calendar_missing.is_(True),
                Case.promised_due_date >= start,
                Case.legal_due_date >= start,
                Case.paused_since.is_not(None),
            ),
        )
        .options(selectinload(Case.events))
    )
    keys = hall_profile_keys(session, default_key=default_key)
    voided = event_voids(session)
    moved = 0
    for case in session.scalars(query):
        state = replay_case(case, profile=get_profile(keys.get(case.hall_id, default_key)), voided=voided)
        dues, _uncountable = case_due_dates(case, state, calendar=calendar)
        after = (dues.promised, dues.legal) if dues else (None, None)
        moved += after != (case.promised_due_date, case.legal_due_date)
    return moved


def _entry_of(target: str, payload: dict[str, Any]) -> CalendarYearIn:
    if not target.isdigit() or not 2000 <= int(target) <= 2100:
        raise bad_payload(
            "target is the year to replace, 2000 to 2100", "对象应为要替换的年份（2000–2100）。"
        )
    try:
        return CalendarYearIn.model_validate({"year": int(target), **payload})
    except ValidationError as exc:
        text = describe_validation(exc)
        raise bad_payload(f"payload is not a calendar year: {text}", f"日历内容有误：{text}") from exc


def prepare(ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]) -> Prepared:
    if not requester.may(Permission.CALENDAR_WRITE) or not is_deployment_wide(
        ctx.session, requester.jurisdiction
    ):
        raise forbidden(
            f"replacing a calendar year needs {Permission.CALENDAR_WRITE.value} with {WIDE_SCOPE_TEXT}",
            "替换工作日历需由全省或全系统范围的系统管理员申请。",
        )
    entry = _entry_of(target, payload)
    stored = ctx.session.get(CalendarYear, entry.year)
    if stored is None:
        raise conflict(
            f"{entry.year} is not entered yet: enter it with POST /api/v1/calendar/years (no approval needed)",
            f"{entry.year} 年尚未录入，直接录入即可，无需审批。",
        )
    diff = calendar_diff(ctx.session, entry=entry, default_key=ctx.default_profile_key)
    return Prepared(
        hall_id=None,  # every hall: decided at province level by a deployment-wide approver
        department_id=None,
        target_id=str(entry.year),
        payload={
            "entry": entry.model_dump(mode="json", exclude={"year"}),
            "replaces_entered_at": stored.entered_at.isoformat(),
            "diff": diff.model_dump(mode="json"),
        },
    )


def apply(ctx: KindContext, request: ApprovalRequest) -> dict[str, Any]:
    payload = payload_of(request)
    entry = CalendarYearIn.model_validate({"year": int(request.target_id), **payload["entry"]})
    stored = ctx.session.get(CalendarYear, entry.year)
    if stored is None or stored.entered_at.isoformat() != payload["replaces_entered_at"]:
        raise conflict(
            f"{entry.year} changed since this request was made; ask again to see what the change does now",
            f"{entry.year} 年日历在申请后已有变动，请重新申请。",
        )
    store_year(ctx.session, entry=entry, default_key=ctx.default_profile_key, now=ctx.now, actor=ctx.actor)
    logger.info("calendar year %s replaced through approval #%s", entry.year, request.id)
    return {"year": entry.year, "holidays": len(entry.holidays), "workdays": len(entry.workdays)}


CALENDAR_REPLACE = register_kind(
    ApprovalKind(
        name=KIND,
        label="替换工作日历",
        target_type="calendar_year",
        level=Level.PROVINCE,
        prepare=prepare,
        apply=apply,
    )
)
