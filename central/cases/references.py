"""What a case event refers to (hall, item, window, staff), as far as the caller may refer to it.

Every reference must lie in the event's hall and in the caller's jurisdiction; one that does not
is answered in the same words as a code that exists nowhere (RULES: a refusal tells no more than a
read would), so a clerk cannot learn another hall's staff or items by posting events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.cases.schemas import CaseEventIn
from central.core.clock import shanghai_date, to_utc
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Department, Hall, Item, ServiceWindow, Staff
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=10)
T = TypeVar("T")
_CHUNK = 900  # stay under every backend's bound-parameter limit


def chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass
class Refs:
    """The registry rows a batch names that the caller may name: each keyed by the hall it lies in,
    so a code of another hall, or outside the caller's jurisdiction, reads as unknown."""

    items: dict[tuple[int, str], Item] = field(default_factory=dict)
    halls: dict[str, Hall] = field(default_factory=dict)
    windows: dict[tuple[int, str], ServiceWindow] = field(default_factory=dict)
    staff: dict[tuple[int, str], Staff] = field(default_factory=dict)


def load_refs(session: Session, events: Sequence[CaseEventIn], within: Jurisdiction | None) -> Refs:
    """Look up every code the batch names, keeping only what lies in the caller's jurisdiction
    (for a department: its own items, windows and staff, and the hall's shared windows). What is
    left out reads exactly as a code that does not exist: existence elsewhere is not leaked."""
    refs = Refs()
    for codes in chunks(sorted({e.hall_code for e in events})):
        refs.halls.update((h.code, h) for h in session.scalars(select(Hall).where(Hall.code.in_(codes))))
    if within is not None:
        refs.halls = {code: h for code, h in refs.halls.items() if within.includes_hall(h.id)}
    hall_ids = sorted(h.id for h in refs.halls.values())
    if not hall_ids:
        return refs
    department = within.scope_id if within is not None and within.kind is ScopeKind.DEPARTMENT else None
    for codes in chunks(sorted({e.item_code for e in events})):
        rows = session.execute(
            select(Item, Department.hall_id)
            .join(Department, Department.id == Item.department_id)
            .where(Item.code.in_(codes), Department.hall_id.in_(hall_ids))
        )
        refs.items.update(
            ((hall_id, i.code), i) for i, hall_id in rows if department in (None, i.department_id)
        )
    for w in session.scalars(select(ServiceWindow).where(ServiceWindow.hall_id.in_(hall_ids))):
        if department is None or w.department_id in (None, department):
            refs.windows[(w.hall_id, w.code)] = w
    for codes in chunks(sorted({e.staff_code for e in events if e.staff_code})):
        staff_rows = session.execute(
            select(Staff, Department.hall_id)
            .join(Department, Department.id == Staff.department_id)
            .where(Staff.code.in_(codes), Department.hall_id.in_(hall_ids))
        )
        refs.staff.update(
            ((hall_id, s.code), s) for s, hall_id in staff_rows if department in (None, s.department_id)
        )
    return refs


def reference_problem(event: CaseEventIn, refs: Refs, calendar: WorkCalendar, now: datetime) -> str | None:
    """The first reference the event may not make; the same words whether the code exists elsewhere
    (another hall, outside the caller's jurisdiction) or nowhere."""
    hall = refs.halls.get(event.hall_code)
    if hall is None:
        return f"unknown hall_code {event.hall_code!r}"
    if (hall.id, event.item_code) not in refs.items:
        return f"unknown item_code {event.item_code!r} at hall {event.hall_code}"
    if event.window_code and (hall.id, event.window_code) not in refs.windows:
        return f"hall {event.hall_code} has no window {event.window_code!r}"
    if event.staff_code and (hall.id, event.staff_code) not in refs.staff:
        return f"unknown staff_code {event.staff_code!r} at hall {event.hall_code}"
    year = shanghai_date(event.at).year
    if calendar.year_rule(year) is None:
        return (
            f"the working-day calendar for {year} is missing; enter it "
            f"(hallwatch calendar import, or POST /api/v1/calendar/years) before sending events of {year}"
        )
    if to_utc(event.at) > now + FUTURE_TOLERANCE:
        return f"event time {event.at.isoformat()} is in the future"
    return None
