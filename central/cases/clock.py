"""Due dates, remaining working days and lights (QTH-2, SZ-10, LAW arts. 42, 45; 民法典 art. 201).

Pure functions of a replayed `CaseState`, the working-day calendar and the profile's light rules.
Both due dates count working days after acceptance (the day of acceptance is not counted).
A pause stops the clock: its first day still counts, the working days after it up to and
including the day it ends do not. An open pause freezes the remaining working days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from central.cases.lifecycle import DECIDED_STATUSES, OPEN_STATUSES, CaseState, CaseStatus
from common.profiles.schema import LightRules
from common.worktime import CalendarMissingError, WorkCalendar


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class DueDates:
    """Due dates ignoring any open pause, and the frozen remaining days while one is open.

    Each due date is None when counting to it needs a year nobody entered (`missing_years`):
    a legal due date in January may be unknown while the promised one in December is not.
    """

    promised: date | None
    legal: date | None
    paused_since: date | None = None
    paused_remaining_promised: int | None = None
    paused_remaining_legal: int | None = None
    missing_years: tuple[int, ...] = ()

    def driving(self, rules: LightRules) -> tuple[date | None, int | None]:
        """The due date that drives the light, and its frozen remaining days."""
        if rules.due_basis == "promised":
            return self.promised, self.paused_remaining_promised
        return self.legal, self.paused_remaining_legal


@dataclass(frozen=True)
class ClockView:
    due_date: date | None = None
    legal_due_date: date | None = None
    remaining_working_days: int | None = None
    light: Light | None = None
    green_warning: bool = False
    overdue: bool = False
    legal_overdue: bool = False
    finished_on_time: bool | None = None
    calendar_missing: bool = False
    missing_years: tuple[int, ...] = ()


def paused_workdays(state: CaseState, calendar: WorkCalendar) -> int:
    """Working days the closed pauses took off the clock."""
    return sum(
        calendar.workdays_between(p.start, p.end) for p in state.pauses if p.counts and p.end is not None
    )


def frozen_remaining(calendar: WorkCalendar, paused_since: date, due: date) -> int:
    """Remaining days at the start of a pause; -1 or less when it was already overdue."""
    remaining = calendar.workdays_between(paused_since, due)
    return min(remaining, -1) if paused_since > due else remaining


def due_dates(
    state: CaseState, *, calendar: WorkCalendar, promised_limit: int, legal_limit: int
) -> DueDates | None:
    """None before acceptance; raises `CalendarMissingError` when neither due date can be counted."""
    accepted_on = state.accepted_on
    if accepted_on is None:
        return None
    extra = state.extension_days + paused_workdays(state, calendar)
    missing: set[int] = set()

    def count(limit: int) -> date | None:
        try:
            return calendar.add_workdays(accepted_on, limit + extra)
        except CalendarMissingError as exc:
            missing.update(exc.years)
            return None

    promised, legal = count(promised_limit), count(legal_limit)
    if promised is None and legal is None:
        raise CalendarMissingError(missing)
    pause = state.open_pause
    since = pause.start if pause is not None and pause.counts else None
    return DueDates(
        promised=promised,
        legal=legal,
        paused_since=since,
        paused_remaining_promised=frozen_remaining(calendar, since, promised) if since and promised else None,
        paused_remaining_legal=frozen_remaining(calendar, since, legal) if since and legal else None,
        missing_years=tuple(sorted(missing)),
    )


def light_for(remaining: int, overdue: bool, rules: LightRules) -> Light:
    if overdue:
        return Light.RED
    if rules.yellow_remaining_workdays is not None and remaining <= rules.yellow_remaining_workdays:
        return Light.YELLOW
    return Light.GREEN


def clock_view(
    state: CaseState,
    *,
    calendar: WorkCalendar,
    promised_limit: int,
    legal_limit: int,
    as_of: date,
    rules: LightRules,
) -> ClockView:
    """The clock of a replayed case as of a date."""
    try:
        dues = due_dates(state, calendar=calendar, promised_limit=promised_limit, legal_limit=legal_limit)
    except CalendarMissingError as missing:
        return ClockView(calendar_missing=True, missing_years=tuple(missing.years))
    if dues is None:
        return ClockView()
    return view_from_dues(
        status=state.status, closed_on=state.closed_on, dues=dues, calendar=calendar, as_of=as_of, rules=rules
    )


def view_from_dues(
    *,
    status: CaseStatus,
    closed_on: date | None,
    dues: DueDates,
    calendar: WorkCalendar,
    as_of: date,
    rules: LightRules,
) -> ClockView:
    """The clock from due dates (replayed or stored in the projection: both paths share this).

    An unknown due date lies past the covered years, so no as-of or closing date in them passes it.
    """
    view = _clock(status, closed_on, dues, calendar=calendar, as_of=as_of, rules=rules)
    if dues.missing_years or view.calendar_missing:
        years = tuple(sorted(set(dues.missing_years) | set(view.missing_years)))
        view = replace(view, calendar_missing=True, missing_years=years)
    return view


def _clock(
    status: CaseStatus,
    closed_on: date | None,
    dues: DueDates,
    *,
    calendar: WorkCalendar,
    as_of: date,
    rules: LightRules,
) -> ClockView:
    driving, frozen = dues.driving(rules)
    if status not in OPEN_STATUSES:
        decided = status in DECIDED_STATUSES and closed_on is not None
        return ClockView(
            due_date=driving,
            legal_due_date=dues.legal,
            finished_on_time=(closed_on <= driving) if decided and closed_on and driving else None,
            legal_overdue=bool(decided and closed_on and dues.legal and closed_on > dues.legal),
        )
    if driving is None:
        return ClockView(legal_due_date=dues.legal)
    try:
        if dues.paused_since is not None:
            assert frozen is not None
            return _paused_view(dues, driving, frozen, calendar=calendar, as_of=as_of, rules=rules)
        remaining = calendar.workdays_between(as_of, driving)
    except CalendarMissingError as missing:
        return ClockView(calendar_missing=True, missing_years=tuple(missing.years))
    overdue = as_of > driving
    return ClockView(
        due_date=driving,
        legal_due_date=dues.legal,
        remaining_working_days=remaining,
        light=light_for(remaining, overdue, rules),
        green_warning=rules.green_warning_on_due_date and as_of == driving,
        overdue=overdue,
        legal_overdue=dues.legal is not None and as_of > dues.legal,
    )


def _paused_view(
    dues: DueDates, driving: date, frozen: int, *, calendar: WorkCalendar, as_of: date, rules: LightRules
) -> ClockView:
    """An open pause: the light rests on the frozen remaining days; the shown due dates move out
    by every working day the pause has lasted so far (unknown if that needs a missing year)."""
    assert dues.paused_since is not None
    shift = calendar.workdays_between(dues.paused_since, max(as_of, dues.paused_since))
    missing: set[int] = set()

    def shifted(due: date | None) -> date | None:
        if due is None or shift == 0:
            return due
        try:
            return calendar.add_workdays(due, shift)
        except CalendarMissingError as exc:
            missing.update(exc.years)
            return None

    return ClockView(
        due_date=shifted(driving),
        legal_due_date=shifted(dues.legal),
        remaining_working_days=frozen,
        light=light_for(frozen, frozen < 0, rules),
        overdue=frozen < 0,
        legal_overdue=dues.legal is not None and dues.paused_since > dues.legal,
        calendar_missing=bool(missing),
        missing_years=tuple(sorted(missing)),
    )
