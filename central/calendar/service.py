"""The working-day calendar as the system sees it: official years plus administrator years."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.calendar.models import CalendarDay, CalendarYear
from central.calendar.schemas import CalendarCheck, CalendarYearIn, CalendarYearPublic
from central.core.actor import Actor
from common.worktime import WorkCalendar, YearRule
from common.worktime.official import official_years

logger = logging.getLogger(__name__)

_cache: dict[tuple[tuple[int, datetime], ...], WorkCalendar] = {}


class CalendarConflictError(ValueError):
    """An administrator tried to overwrite a year the official data covers."""


class CalendarReplaceNeedsApprovalError(CalendarConflictError):
    """The year is already entered: replacing it re-projects every case, so it waits for an approval (SC-18)."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year} is already entered; replacing it needs provincial approval: "
            f"POST /api/v1/approvals with kind calendar_replace, target {year} and the new year as payload"
        )
        self.year = year


def _admin_rules(session: Session) -> dict[int, YearRule]:
    rules: dict[int, YearRule] = {}
    days = session.execute(select(CalendarDay.year, CalendarDay.day, CalendarDay.kind)).all()
    for year in session.scalars(select(CalendarYear.year)):
        rules[year] = YearRule(
            year=year,
            holidays=frozenset(d for y, d, k in days if y == year and k == "holiday"),
            workdays=frozenset(d for y, d, k in days if y == year and k == "workday"),
            source="administrator",
        )
    return rules


def load_calendar(session: Session) -> WorkCalendar:
    """The current calendar; rebuilt only when an administrator year changed (cheap fingerprint)."""
    fingerprint = tuple(session.execute(select(CalendarYear.year, CalendarYear.entered_at)).all())
    cached = _cache.get(fingerprint)
    if cached is None:
        cached = WorkCalendar({**official_years(), **_admin_rules(session)})
        _cache.clear()
        _cache[fingerprint] = cached
    return cached


def enter_year(session: Session, *, entry: CalendarYearIn, now: datetime) -> CalendarYearPublic:
    """Store (or replace) an administrator year. Does not commit: callers reproject, then commit."""
    if entry.year in official_years():
        raise CalendarConflictError(
            f"{entry.year} is covered by the official calendar data and cannot be overwritten"
        )
    session.execute(delete(CalendarDay).where(CalendarDay.year == entry.year))
    existing = session.get(CalendarYear, entry.year)
    if existing is None:
        session.add(CalendarYear(year=entry.year, note=entry.note, entered_at=now))
    else:  # entered_at keys the calendar cache: a replacement always moves it forward
        existing.note = entry.note
        existing.entered_at = max(now, existing.entered_at + timedelta(microseconds=1))
    session.flush()
    session.add_all(CalendarDay(day=d, year=entry.year, kind="holiday") for d in sorted(set(entry.holidays)))
    session.add_all(CalendarDay(day=d, year=entry.year, kind="workday") for d in sorted(set(entry.workdays)))
    session.flush()
    logger.info(
        "calendar year %s entered (%d holidays, %d workdays)",
        entry.year,
        len(entry.holidays),
        len(entry.workdays),
    )
    return CalendarYearPublic(
        year=entry.year,
        source="administrator",
        holidays=sorted(set(entry.holidays)),
        workdays=sorted(set(entry.workdays)),
        note=entry.note,
    )


def describe_year(session: Session, *, year: int) -> CalendarYearPublic | None:
    rule = load_calendar(session).year_rule(year)
    if rule is None:
        return None
    note = None
    if rule.source == "administrator":
        stored = session.get(CalendarYear, year)
        note = stored.note if stored else None
    return CalendarYearPublic(
        year=year,
        source=rule.source,
        holidays=sorted(d for d in rule.holidays if d.weekday() < 5),
        workdays=sorted(rule.workdays),
        note=note,
    )


def check_coverage(session: Session, *, today: date) -> CalendarCheck:
    """Covered years and the missing ones up to next year (the next notice comes each November)."""
    calendar = load_calendar(session)
    covered = calendar.covered_years
    official = sorted(official_years())
    last = max([*covered, today.year + 1])
    return CalendarCheck(
        covered=covered,
        official=official,
        administrator=[y for y in covered if y not in official],
        missing=calendar.missing_years(min(covered), last) if covered else [today.year, today.year + 1],
    )


def admin_entry(session: Session, *, year: int) -> CalendarYearPublic | None:
    """The administrator's entry for `year` as stored now (the audit trail's "before")."""
    stored = session.get(CalendarYear, year)
    if stored is None:
        return None
    days = session.execute(select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.year == year)).all()
    return CalendarYearPublic(
        year=year,
        source="administrator",
        holidays=sorted(d for d, k in days if k == "holiday"),
        workdays=sorted(d for d, k in days if k == "workday"),
        note=stored.note,
    )


def import_year(
    session: Session, *, entry: CalendarYearIn, default_key: str, now: datetime, actor: Actor
) -> CalendarYearPublic:
    """Enter a new year and move every case it affects, in one transaction (with its audit entry).

    A year already entered is not replaced here (CalendarReplaceNeedsApprovalError): that goes
    through the calendar_replace approval, which calls `store_year` once someone else approved.
    """
    if entry.year not in official_years() and session.get(CalendarYear, entry.year) is not None:
        raise CalendarReplaceNeedsApprovalError(entry.year)
    try:
        stored = store_year(session, entry=entry, default_key=default_key, now=now, actor=actor)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return stored


def store_year(
    session: Session, *, entry: CalendarYearIn, default_key: str, now: datetime, actor: Actor
) -> CalendarYearPublic:
    """Enter or replace a year, re-project the cases it moves and audit it. Does not commit."""
    from central.cases.projection import reproject_after_calendar_change  # cases depend on calendar, not back

    before = admin_entry(session, year=entry.year)
    stored = enter_year(session, entry=entry, now=now)
    reproject_after_calendar_change(
        session, year=entry.year, calendar=load_calendar(session), default_key=default_key
    )
    record(
        session,
        actor=actor,
        action="calendar.year_entered",
        target_type="calendar_year",
        target_id=str(entry.year),
        before=before,
        after=stored,
        at=now,
    )
    return stored
