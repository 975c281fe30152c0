"""One subject's month (a member of staff, a window, a department or a hall): the trend by day, the
dimension breakdown, every explained line with a link to its record, and the earlier figures a
recomputation replaced, with their reason (issue 17 items 2–4)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.profiles.assignment import hall_profile_keys
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow, Staff
from central.scores.links import source_links
from central.scores.models import ScoreDay, ScoreLine
from central.scores.queries import ScoreLookupError, scheme_of
from central.scores.schemas import (
    DimensionScore,
    EarlierFigure,
    LineOut,
    Named,
    SubjectMonthOut,
    SubjectOut,
    TrendPoint,
)
from common.profiles.scoring import ScoreLevel

logger = logging.getLogger(__name__)

# A subject's code in a URL: a registry code, or HALL:WINDOW for a window (window codes repeat).
_CODE = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}"
SUBJECT_CODE_PATTERN = rf"^{_CODE}(:{_CODE})?$"
_SUBJECT_CODE = re.compile(SUBJECT_CODE_PATTERN)
LEVEL_NAMES_ZH = {"staff": "人员", "window": "窗口", "department": "部门", "hall": "大厅"}


@dataclass(frozen=True)
class Subject:
    level: ScoreLevel
    id: int
    code: str  # as URLs and rankings write it (HALL:WINDOW for a window)
    name: str
    hall_id: int
    hall: Named
    department: Named | None

    def public(self) -> SubjectOut:
        return SubjectOut(
            level=self.level, code=self.code, name=self.name, hall=self.hall, department=self.department
        )


def _not_found(level: ScoreLevel, code: str) -> ScoreLookupError:
    return ScoreLookupError(
        404,
        f"no {level} {code} in your jurisdiction",
        f"辖区内没有代码为“{code[:81]}”的{LEVEL_NAMES_ZH[level]}。",
    )


def _dept(code: str | None, name: str | None) -> Named | None:
    return Named(code=code, name=name or code) if code is not None else None


def _candidates(session: Session, level: ScoreLevel, code: str) -> list[tuple[Any, ...]]:
    """(id, code, name, hall id, hall code, hall name, department code, department name) rows."""
    hall_cols = (Hall.id, Hall.code, Hall.name)
    if level == "hall":
        halls = select(*hall_cols).where(Hall.code == code)
        return [(*row, *row, None, None) for row in session.execute(halls)]
    if level == "department":
        departments = (
            select(Department.id, Department.code, Department.name, *hall_cols)
            .join(Hall, Hall.id == Department.hall_id)
            .where(Department.code == code)
        )
        return [(*row, row[1], row[2]) for row in session.execute(departments)]
    if level == "staff":
        staff = (
            select(Staff.id, Staff.code, Staff.name, *hall_cols, Department.code, Department.name)
            .join(Department, Department.id == Staff.department_id)
            .join(Hall, Hall.id == Department.hall_id)
            .where(Staff.code == code)
        )
        return [tuple(row) for row in session.execute(staff)]
    hall_code, _, window_code = code.rpartition(":")
    query = (
        select(ServiceWindow.id, ServiceWindow.code, ServiceWindow.name, *hall_cols)
        .add_columns(Department.code, Department.name)
        .join(Hall, Hall.id == ServiceWindow.hall_id)
        .outerjoin(Department, Department.id == ServiceWindow.department_id)
        .where(ServiceWindow.code == window_code)
        .order_by(Hall.code)
    )
    if hall_code:
        query = query.where(Hall.code == hall_code)
    return [tuple(row) for row in session.execute(query)]


def find_subject(session: Session, *, level: ScoreLevel, code: str, within: Jurisdiction | None) -> Subject:
    """The subject of `code`, if its hall is inside `within` (None: no check — one's own page). A bare
    window code must name one window among the visible halls (else 422: write HALL:WINDOW)."""
    if not _SUBJECT_CODE.fullmatch(code) or (":" in code and level != "window"):
        raise _not_found(level, code)
    rows = [
        row for row in _candidates(session, level, code) if within is None or within.includes_hall(row[3])
    ]
    if not rows:
        raise _not_found(level, code)
    if len(rows) > 1:
        halls = "、".join(row[4] for row in rows[:5])
        raise ScoreLookupError(
            422,
            f"window code {code} is used in several halls ({halls}); write HALL:{code}",
            f"窗口代码“{code}”在多个大厅中使用（{halls}），请写作“大厅代码:{code}”。",
        )
    subject_id, own_code, name, hall_id, hall_code, hall_name, dept_code, dept_name = rows[0]
    if level == "window":
        own_code = f"{hall_code}:{own_code}"
    return Subject(
        level=level,
        id=subject_id,
        code=own_code,
        name=name,
        hall_id=hall_id,
        hall=Named(code=hall_code, name=hall_name),
        department=_dept(dept_code, dept_name) if level != "department" else None,
    )


def default_month(session: Session, *, subject: Subject, today: date) -> str:
    """The subject's last scored month, or this month when it was never scored."""
    last: date | None = session.scalar(
        select(func.max(ScoreDay.day)).where(
            ScoreDay.subject_kind == subject.level,
            ScoreDay.subject_id == subject.id,
            ScoreDay.current.is_(True),
        )
    )
    return (last or today).strftime("%Y-%m")


def subject_month(session: Session, *, subject: Subject, month: str, default_key: str) -> SubjectMonthOut:
    """Everything the subject's page shows for `month` (YYYY-MM)."""
    days = list(
        session.scalars(
            select(ScoreDay)
            .where(
                ScoreDay.subject_kind == subject.level,
                ScoreDay.subject_id == subject.id,
                ScoreDay.month == month,
            )
            .order_by(ScoreDay.day, ScoreDay.revision)
        )
    )
    current = [row for row in days if row.current]
    last = current[-1] if current else None
    profile_key = (
        last.profile_key
        if last is not None
        else hall_profile_keys(session, default_key=default_key).get(subject.hall_id, default_key)
    )
    scheme = scheme_of(profile_key)
    names = {d.code: d.name for d in scheme.dimensions} if scheme else {}
    dimensions = [
        DimensionScore(
            code=d.code,
            name=d.name,
            weight=d.weight,
            score=last.dimensions.get(d.code) if last is not None else None,
        )
        for d in (scheme.dimensions if scheme else [])
    ]
    lines: list[tuple[ScoreLine, date]] = [
        (line, day)
        for line, day in session.execute(
            select(ScoreLine, ScoreDay.day)
            .join(ScoreDay, ScoreDay.id == ScoreLine.score_day_id)
            .where(ScoreLine.score_day_id.in_([row.id for row in current]))
            .order_by(ScoreDay.day, ScoreLine.id)
        )
    ]
    links = source_links(session, ((line.source_kind, line.source_id) for line, _ in lines))
    now_scores = {row.day: row.month_score for row in current}
    return SubjectMonthOut(
        subject=subject.public(),
        month=month,
        scored=scheme is not None and scheme.scores,
        profile_key=profile_key,
        total=scheme.total if scheme else None,
        last_day=last.day if last else None,
        month_score=last.month_score if last else None,
        trend=[TrendPoint(day=r.day, month_score=r.month_score, day_points=r.day_points) for r in current],
        dimensions=dimensions,
        lines=[
            LineOut(
                day=day,
                rule_code=line.rule_code,
                rule_label=line.rule_label,
                dimension=line.dimension,
                dimension_name=names.get(line.dimension, line.dimension),
                points=line.points,
                explanation=line.explanation,
                source_kind=line.source_kind,
                source_id=line.source_id,
                link=links.get((line.source_kind, line.source_id)) if line.source_id is not None else None,
            )
            for line, day in lines
        ],
        earlier=[
            EarlierFigure(
                day=row.day,
                revision=row.revision,
                month_score=row.month_score,
                day_points=row.day_points,
                computed_at=row.computed_at,
                superseded_at=row.superseded_at,
                reason=row.superseded_reason,
                now_score=now_scores.get(row.day),
            )
            for row in days
            if not row.current
        ],
    )


def staff_subject(session: Session, *, staff_id: int) -> Subject | None:
    """The member of staff an account belongs to (`users.staff_id`), for their own page."""
    code = session.scalar(select(Staff.code).where(Staff.id == staff_id))
    return find_subject(session, level="staff", code=code, within=None) if code else None


__all__ = [
    "LEVEL_NAMES_ZH",
    "SUBJECT_CODE_PATTERN",
    "Subject",
    "default_month",
    "find_subject",
    "staff_subject",
    "subject_month",
]
