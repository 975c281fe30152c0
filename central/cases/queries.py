"""Read cases: one case as of a moment (replaying its log), and filtered pages of cases."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, joinedload

from central.cases.clock import ClockView, DueDates, Light, clock_view, paused_workdays, view_from_dues
from central.cases.lifecycle import CaseStatus, TransitionError, replay
from central.cases.lights import LightCounts, count_lights, light_expression
from central.cases.models import Case, CaseEvent
from central.cases.projection import event_voids, fact_of, live_events, policy_of
from central.cases.schemas import CaseDetail, CaseEventPublic, CasePage, CaseSummary
from central.core.clock import shanghai_date, to_utc
from central.profiles.assignment import halls_by_profile, profile_for_hall
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, Item
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def case_clause(within: Jurisdiction) -> ColumnElement[bool]:
    """The WHERE clause that keeps a case query inside a jurisdiction."""
    return within.clause(hall_id=Case.hall_id, department_id=Case.department_id)


def case_exists(session: Session, *, case_no: str) -> bool:
    """Whether a case exists anywhere (only to audit probes; never tell the caller)."""
    return session.scalar(select(Case.id).where(Case.case_no == case_no)) is not None


def get_case(
    session: Session,
    *,
    case_no: str,
    as_of: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    within: Jurisdiction | None = None,
) -> CaseDetail | None:
    """The case as it stood at `as_of`; None if it did not exist then, at all, or outside `within`
    (another jurisdiction's case looks exactly like a missing one: existence is not leaked)."""
    case = session.scalar(
        select(Case)
        .where(Case.case_no == case_no)
        .options(
            joinedload(Case.events).joinedload(CaseEvent.staff),
            joinedload(Case.events).joinedload(CaseEvent.window),
        )
    )
    if case is None or (
        within and not within.covers_case(hall_id=case.hall_id, department_id=case.department_id)
    ):
        return None
    moment = to_utc(as_of)
    events = sorted((e for e in case.events if e.at <= moment), key=lambda e: (e.at, e.id))
    voids = event_voids(session, case_ids=[case.id])  # shown, marked, but not replayed (SC-18)
    live = [e for e in live_events(case, voided=voids) if e.at <= moment]
    if not live:
        return None
    profile = profile_for_hall(session, hall_id=case.hall_id, default_key=default_profile_key)
    try:
        state = replay((fact_of(e) for e in live), policy=policy_of(profile))
    except TransitionError as exc:  # only possible if the log was altered behind the application
        logger.error("case %s has an impossible stored history: %s", case_no, exc)
        raise
    view = clock_view(
        state,
        calendar=calendar,
        promised_limit=case.promised_limit_days,
        legal_limit=case.legal_limit_days,
        as_of=shanghai_date(as_of),
        rules=profile.lights,
    )
    try:
        suspended = paused_workdays(state, calendar)
    except CalendarMissingError:
        suspended = None
    last_staff = next((e.staff for e in reversed(live) if e.staff is not None), None)
    first_window = next((e.window for e in live if e.window is not None), None)
    item, hall, department = _labels(session, case)
    return CaseDetail(
        **_summary_fields(case, item, hall, department, state.status, state.accepted_on, view),
        as_of=moment,
        profile=profile.key,
        promised_limit_days=case.promised_limit_days,
        legal_limit_days=case.legal_limit_days,
        extension_days=state.extension_days,
        suspended_working_days=suspended,
        window_code=first_window.code if first_window else None,
        staff_code=last_staff.code if last_staff else None,
        staff_name=last_staff.name if last_staff else None,
        events=[
            CaseEventPublic(
                event_id=e.event_id,
                type=e.type,
                at=e.at,
                window_code=e.window.code if e.window else None,
                staff_code=e.staff.code if e.staff else None,
                staff_name=e.staff.name if e.staff else None,
                days=e.days,
                reason=e.reason,
                source=e.source,
                voided=e.id in voids,
                void_approval_id=voids.get(e.id),
            )
            for e in events
        ],
    )


def _labels(session: Session, case: Case) -> tuple[Item, Hall, Department]:
    item = session.get(Item, case.item_id)
    hall = session.get(Hall, case.hall_id)
    department = session.get(Department, case.department_id)
    assert item is not None and hall is not None and department is not None
    return item, hall, department


def _summary_fields(
    case: Case,
    item: Item,
    hall: Hall,
    department: Department,
    status: CaseStatus,
    accepted_on: date | None,
    view: ClockView,
) -> dict[str, object]:
    return {
        "case_no": case.case_no,
        "item_code": item.code,
        "item_name": item.name,
        "hall_code": hall.code,
        "department_code": department.code,
        "department_name": department.name,
        "applicant_name": case.applicant_name,
        "status": status,
        "accepted_on": accepted_on,
        "due_date": view.due_date,
        "legal_due_date": view.legal_due_date,
        "remaining_working_days": view.remaining_working_days,
        "light": view.light,
        "green_warning": view.green_warning,
        "legal_overdue": view.legal_overdue,
        "finished_on_time": view.finished_on_time,
        "calendar_missing": view.calendar_missing,
        "missing_years": list(view.missing_years),
    }


@dataclass(frozen=True)
class CaseFilters:
    hall_code: str | None = None
    department_code: str | None = None
    light: Light | None = None
    status: CaseStatus | None = None
    accepted_from: date | None = None
    accepted_to: date | None = None
    case_no_prefix: str | None = None
    # Only cases received at or before this moment: a list "as of" a past moment leaves out the cases
    # that did not exist yet (None: every stored case, the list as it stands now).
    received_by: datetime | None = None
    within: Jurisdiction | None = None  # the caller's jurisdiction; None only for trusted callers


def list_cases(
    session: Session,
    *,
    filters: CaseFilters,
    as_of: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    page: int,
    page_size: int,
) -> CasePage:
    day = shanghai_date(as_of)
    groups = halls_by_profile(session, default_key=default_profile_key)
    light = light_expression(
        as_of=day, calendar=calendar, halls_by_profile=groups, default_key=default_profile_key
    )
    query = _filtered(select(Case, Item, Hall, Department, light.label("light")), filters, light)
    total = session.scalar(_filtered(select(func.count(Case.id)), filters, light)) or 0
    rows = session.execute(
        query.order_by(Case.accepted_on.desc().nulls_last(), Case.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    hall_keys = {hall_id: key for key, ids in groups.items() for hall_id in ids}
    items = [
        CaseSummary(
            **_summary_fields(
                case,
                item,
                hall,
                dept,
                CaseStatus(case.status),
                case.accepted_on,
                _projection_view(
                    case, day, calendar, get_profile(hall_keys.get(case.hall_id, default_profile_key))
                ),
            )
        )
        for case, item, hall, dept, _light in rows
    ]
    return CasePage(as_of=to_utc(as_of), total=total, page=page, page_size=page_size, items=items)


def light_counts(
    session: Session,
    *,
    as_of: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    within: Jurisdiction | None = None,
    received_by: datetime | None = None,
) -> LightCounts:
    """How many open cases show each light as of a moment, inside `within`; with `received_by`, only
    the cases received by then (a count as of a past moment never counts cases that came later)."""
    light = light_expression(
        as_of=shanghai_date(as_of),
        calendar=calendar,
        halls_by_profile=halls_by_profile(session, default_key=default_profile_key),
        default_key=default_profile_key,
    )
    clauses = [case_clause(within)] if within else []
    if received_by is not None:
        clauses.append(Case.received_at <= to_utc(received_by))
    return count_lights(session, light=light, where=and_(*clauses) if clauses else None)


def _filtered(query: SelectT, filters: CaseFilters, light: ColumnElement[str | None]) -> SelectT:
    query = (
        query.join(Item, Item.id == Case.item_id)
        .join(Hall, Hall.id == Case.hall_id)
        .join(Department, Department.id == Case.department_id)
    )
    if filters.within is not None:
        query = query.where(case_clause(filters.within))
    if filters.hall_code:
        query = query.where(Hall.code == filters.hall_code)
    if filters.department_code:
        query = query.where(Department.code == filters.department_code)
    if filters.status:
        query = query.where(Case.status == filters.status.value)
    if filters.light:
        query = query.where(light == filters.light.value)
    if filters.accepted_from:
        query = query.where(Case.accepted_on >= filters.accepted_from)
    if filters.accepted_to:
        query = query.where(Case.accepted_on <= filters.accepted_to)
    if filters.received_by is not None:
        query = query.where(Case.received_at <= to_utc(filters.received_by))
    if filters.case_no_prefix:
        query = query.where(Case.case_no.startswith(filters.case_no_prefix, autoescape=True))
    return query


def _projection_view(case: Case, as_of: date, calendar: WorkCalendar, profile: RuleProfile) -> ClockView:
    """The clock from the stored projection: agrees with `clock_view` over the replayed log."""
    missing: tuple[int, ...] = ()
    if case.calendar_missing:
        # Which years: those missing in the year of acceptance and the next (where limits end).
        start = (case.accepted_on or as_of).year
        missing = tuple(calendar.missing_years(start, start + 1))
    if case.promised_due_date is None and case.legal_due_date is None:
        return ClockView(calendar_missing=case.calendar_missing, missing_years=missing)
    dues = DueDates(
        promised=case.promised_due_date,
        legal=case.legal_due_date,
        paused_since=case.paused_since,
        paused_remaining_promised=case.paused_remaining_promised,
        paused_remaining_legal=case.paused_remaining_legal,
        missing_years=missing,
    )
    return view_from_dues(
        status=CaseStatus(case.status),
        closed_on=case.closed_on,
        dues=dues,
        calendar=calendar,
        as_of=as_of,
        rules=profile.lights,
    )


__all__ = ["CaseFilters", "get_case", "list_cases"]
