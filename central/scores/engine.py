"""One day's scores of every subject — staff member, window, department, hall — with every point
explained (QTH-3, SZ-16..18). Gathers the day's records per subject and scores each
(`central.scores.lines`); `central.scores.daily` writes.

Nothing here reads the clock: `as_of` says which records count (see `central.scores.sources`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.profiles.assignment import hall_profile_keys
from central.registry.models import Department, ServiceWindow, Staff
from central.scores.lines import DayFigures, Plan, SubjectRef, SubjectScore, plan_for, score_subject
from central.scores.models import ScoreDay
from central.scores.sources import CaseTally, DayRecords, RatingTally, Subject, day_records
from common.profiles.loader import get_profile
from common.profiles.scoring import ScoringRules
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


@dataclass
class DayScores:
    day: date
    as_of: datetime
    subjects: list[SubjectScore] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(len(s.lines) for s in self.subjects)


class Registry:
    """The subjects of the scored halls, and who sits alone at which window."""

    def __init__(
        self,
        session: Session,
        *,
        default_profile_key: str,
        hall_ids: Collection[int] | None,
        subject: Subject | None,
    ) -> None:
        keys = hall_profile_keys(session, default_key=default_profile_key)
        self.schemes: dict[str, ScoringRules] = {}
        self.hall_keys: dict[int, str] = {}
        for hall_id, key in keys.items():
            scheme = get_profile(key).scoring
            if scheme.scores and (hall_ids is None or hall_id in hall_ids):
                self.schemes[key] = scheme
                self.hall_keys[hall_id] = key
        halls = sorted(self.hall_keys)
        self.departments = {
            dept_id: hall_id
            for dept_id, hall_id in session.execute(
                select(Department.id, Department.hall_id).where(Department.hall_id.in_(halls))
            )
        }
        self.windows = {
            window_id: (hall_id, dept_id)
            for window_id, hall_id, dept_id in session.execute(
                select(ServiceWindow.id, ServiceWindow.hall_id, ServiceWindow.department_id).where(
                    ServiceWindow.hall_id.in_(halls)
                )
            )
        }
        staff_rows = session.execute(
            select(Staff.id, Staff.department_id, Staff.window_id)
            .join(Department, Department.id == Staff.department_id)
            .where(Staff.active.is_(True), Department.hall_id.in_(halls))
        ).all()
        self.staff = {staff_id: (self.departments[dept_id], dept_id) for staff_id, dept_id, _w in staff_rows}
        at_window: dict[int, list[int]] = defaultdict(list)
        for staff_id, _dept, window_id in staff_rows:
            if window_id is not None:
                at_window[window_id].append(staff_id)
        self.sole_staff = {window: ids[0] for window, ids in at_window.items() if len(ids) == 1}
        self.only = subject

    def subjects(self) -> Iterable[SubjectRef]:
        def keep(kind: str, subject_id: int) -> bool:
            return self.only is None or self.only == (kind, subject_id)

        for hall_id, key in sorted(self.hall_keys.items()):
            if keep("hall", hall_id):
                yield SubjectRef("hall", hall_id, hall_id, None, key)
        for dept_id, hall_id in sorted(self.departments.items()):
            if keep("department", dept_id):
                yield SubjectRef("department", dept_id, hall_id, dept_id, self.hall_keys[hall_id])
        for window_id, (hall_id, window_dept) in sorted(self.windows.items()):
            if keep("window", window_id):
                yield SubjectRef("window", window_id, hall_id, window_dept, self.hall_keys[hall_id])
        for staff_id, (hall_id, staff_dept) in sorted(self.staff.items()):
            if keep("staff", staff_id):
                yield SubjectRef("staff", staff_id, hall_id, staff_dept, self.hall_keys[hall_id])

    def owners(
        self, hall: int, department: int | None, window: int | None, staff: int | None
    ) -> list[Subject]:
        """Every subject a record or tally belongs to."""
        if window is not None and department is None and window in self.windows:
            department = self.windows[window][1]
        if staff is None and window is not None:
            staff = self.sole_staff.get(window)
        found: list[Subject] = [("hall", hall)]
        if department is not None:
            found.append(("department", department))
        if window is not None:
            found.append(("window", window))
        if staff is not None:
            found.append(("staff", staff))
        return found


def compute_day(
    session: Session,
    *,
    day: date,
    as_of: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    hall_ids: Collection[int] | None = None,
    subject: Subject | None = None,
    registry: Registry | None = None,
) -> DayScores:
    """Every subject's lines and scores for `day` (of the halls given, or all scored halls; or of
    one subject, for the one-at-a-time baseline), from the records as they stood at `as_of`.
    `registry`: the subjects read once for a run of days (built with the same halls and subject)."""
    if registry is None:
        registry = Registry(
            session, default_profile_key=default_profile_key, hall_ids=hall_ids, subject=subject
        )
    result = DayScores(day=day, as_of=as_of)
    if not registry.hall_keys:
        return result
    calendar.require(day)
    scoped_halls = hall_ids if hall_ids is not None else sorted(registry.hall_keys)
    gathered = _gather(
        registry,
        day_records(
            session,
            day=day,
            as_of=as_of,
            default_profile_key=default_profile_key,
            hall_ids=None if hall_ids is None and subject is None else scoped_halls,
            subject=subject,
        ),
    )
    previous = previous_states(session, day=day, hall_ids=hall_ids, subject=subject)
    workday = calendar.is_workday(day)
    plans: dict[tuple[str, str], Plan] = {}
    empty = DayFigures()
    for ref in registry.subjects():
        plan = plans.get((ref.profile_key, ref.kind))
        if plan is None:
            plan = plans[ref.profile_key, ref.kind] = plan_for(registry.schemes[ref.profile_key], ref.kind)
        figures = gathered.get((ref.kind, ref.id), empty)
        result.subjects.append(
            score_subject(
                ref,
                scheme=plan,
                figures=figures,
                state=previous.get((ref.kind, ref.id)),
                day=day,
                workday=workday,
            )
        )
    return result


def _gather(registry: Registry, found: DayRecords) -> dict[Subject, DayFigures]:
    gathered: dict[Subject, DayFigures] = defaultdict(DayFigures)
    for record in found.records:
        for owner in registry.owners(record.hall, record.department, record.window, record.staff):
            gathered[owner].records.append(record)
    for tally in found.cases:
        _add_cases(gathered, registry, tally)
    for ratings in found.ratings:
        _add_ratings(gathered, registry, ratings)
    return gathered


def _add_cases(gathered: dict[Subject, DayFigures], registry: Registry, tally: CaseTally) -> None:
    # A case names its own clerk or none: the window's sole clerk is not charged with its figures.
    owners = registry.owners(tally.hall, tally.department, tally.window, None)
    if tally.staff is not None:
        owners = [o for o in owners if o[0] != "staff"] + [("staff", tally.staff)]
    else:
        owners = [o for o in owners if o[0] != "staff"]
    for owner in owners:
        figures = gathered[owner]
        figures.closed += tally.closed
        figures.early += tally.early
        figures.missing += tally.missing


def _add_ratings(gathered: dict[Subject, DayFigures], registry: Registry, tally: RatingTally) -> None:
    owners = [o for o in registry.owners(tally.hall, tally.department, tally.window, None) if o[0] != "staff"]
    if tally.staff is not None:
        owners.append(("staff", tally.staff))
    for owner in owners:
        figures = gathered[owner]
        figures.ratings += tally.count
        figures.weight += tally.weight
        figures.good_weight += tally.good_weight


def previous_states(
    session: Session, *, day: date, hall_ids: Collection[int] | None, subject: Subject | None
) -> dict[Subject, dict[str, Any]]:
    """The state each subject's current row of the day before left."""
    query = select(ScoreDay.subject_kind, ScoreDay.subject_id, ScoreDay.state).where(
        ScoreDay.day == day - timedelta(days=1), ScoreDay.current.is_(True)
    )
    if hall_ids is not None:
        query = query.where(ScoreDay.hall_id.in_(sorted(hall_ids)))
    if subject is not None:
        query = query.where(ScoreDay.subject_kind == subject[0], ScoreDay.subject_id == subject[1])
    return {(kind, subject_id): state for kind, subject_id, state in session.execute(query)}
