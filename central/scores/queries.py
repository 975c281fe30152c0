"""Reading the published scores (SZ-19): which halls a request covers, a day's ranking of one level, and
the selection's trend and dimension breakdown. Only current rows (a recomputed day's earlier figure is
`current` false) are ranked.

Scores are published to every member of staff of a hall (SZ-19), so a department's user sees their
whole hall: visibility is `Jurisdiction.includes_hall`, not the department-narrowed case clause.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session, aliased

from central.profiles.assignment import hall_profile_keys
from central.registry.jurisdiction import Jurisdiction, ScopeKind, jurisdiction_of
from central.registry.models import Department, Hall, Region, ServiceWindow, Staff
from central.scores.models import ScoreDay
from central.scores.schemas import (
    BreakdownOut,
    DimensionOut,
    DimensionScore,
    Named,
    RankingRow,
    SchemeOut,
    SelectionKind,
    SelectionOut,
    TrendPoint,
    UnscoredHall,
)
from common.profiles.loader import ProfileError, get_profile
from common.profiles.scoring import ScoreLevel, ScoringRules

logger = logging.getLogger(__name__)

SUBJECT_TABLES: dict[str, Any] = {
    "staff": Staff,
    "window": ServiceWindow,
    "department": Department,
    "hall": Hall,
}
DEPLOYMENT_NAME = "全部辖区"


class ScoreLookupError(LookupError):
    """A hall, region or subject that does not exist or lies outside the caller's jurisdiction (the
    two answer alike), or a code that names several windows; `detail` for the API, `zh` for pages."""

    def __init__(self, status_code: int, detail: str, zh: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail, self.zh = status_code, detail, zh


def scheme_of(profile_key: str) -> ScoringRules | None:
    """The scheme of a shipped profile; None for a key no profile has any more."""
    try:
        return get_profile(profile_key).scoring
    except ProfileError:
        logger.warning("scores name the unknown rule profile %r", profile_key)
        return None


def scheme_out(profile_key: str) -> SchemeOut:
    scheme = scheme_of(profile_key)
    if scheme is None:
        return SchemeOut(profile_key=profile_key, total=0, dimensions=[])
    return SchemeOut(
        profile_key=profile_key,
        total=scheme.total,
        dimensions=[DimensionOut(code=d.code, name=d.name, weight=d.weight) for d in scheme.dimensions],
    )


# -- where: a hall, a region, or the caller's whole jurisdiction ---------------------------------------


@dataclass(frozen=True)
class Selection:
    kind: SelectionKind
    code: str
    name: str
    hall_ids: frozenset[int] | None  # None: every hall (the deployment scope)

    def clause(self, hall_id: Any) -> ColumnElement[bool]:
        return true() if self.hall_ids is None else hall_id.in_(sorted(self.hall_ids))

    def includes(self, hall_id: int) -> bool:
        return self.hall_ids is None or hall_id in self.hall_ids

    def public(self) -> SelectionOut:
        return SelectionOut(kind=self.kind, code=self.code, name=self.name)


def _no_hall(code: str) -> ScoreLookupError:
    return ScoreLookupError(
        404, f"no hall {code} in your jurisdiction", f"辖区内没有代码为“{code[:40]}”的大厅。"
    )


def _no_region(code: str) -> ScoreLookupError:
    return ScoreLookupError(
        404, f"no region {code} in your jurisdiction", f"辖区内没有代码为“{code[:40]}”的地区。"
    )


def _hall_selection(hall: Hall) -> Selection:
    return Selection("hall", hall.code, hall.name, frozenset({hall.id}))


def resolve_selection(
    session: Session, *, within: Jurisdiction, hall_code: str | None, region_code: str | None
) -> Selection:
    """The hall or region asked for, inside `within`; by default the whole jurisdiction (a department's
    user: their hall). Raises ScoreLookupError (404) outside it, as for a code nobody has."""
    if hall_code:
        hall = session.scalar(select(Hall).where(Hall.code == hall_code))
        if hall is None or not within.includes_hall(hall.id):
            raise _no_hall(hall_code)
        return _hall_selection(hall)
    if region_code:
        region = session.scalar(select(Region).where(Region.code == region_code))
        inside = region is not None and (
            within.kind is ScopeKind.DEPLOYMENT
            or (within.kind is ScopeKind.REGION and region.id in within.region_ids)
        )
        if region is None or not inside:
            raise _no_region(region_code)
        halls = jurisdiction_of(session, kind=ScopeKind.REGION, scope_id=region.id).hall_ids
        return Selection("region", region.code, region.name, halls)
    if within.kind is ScopeKind.DEPLOYMENT:
        return Selection("deployment", "*", DEPLOYMENT_NAME, None)
    if within.kind is ScopeKind.REGION:
        region = session.get(Region, within.scope_id)
        assert region is not None  # the jurisdiction was built from it in this request
        return Selection("region", region.code, region.name, within.hall_ids)
    hall = session.get(Hall, min(within.hall_ids))  # a hall's or a department's: one hall
    assert hall is not None
    return _hall_selection(hall)


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    kind: SelectionKind


def selectable_places(session: Session, *, within: Jurisdiction) -> list[Place]:
    """The regions and halls a person may choose on the page: those inside their jurisdiction."""
    regions = select(Region.code, Region.name).order_by(Region.code)
    halls = select(Hall.code, Hall.name).order_by(Hall.code)
    if within.kind is not ScopeKind.DEPLOYMENT:
        region_ids = within.region_ids if within.kind is ScopeKind.REGION else frozenset()
        regions = regions.where(Region.id.in_(sorted(region_ids)))
        halls = halls.where(Hall.id.in_(sorted(within.hall_ids)))
    found = [Place(code, name, "region") for code, name in session.execute(regions)]
    return found + [Place(code, name, "hall") for code, name in session.execute(halls)]


def unscored_halls(session: Session, *, selection: Selection, default_key: str) -> list[UnscoredHall]:
    """The selection's halls whose rule profile has no scoring scheme (they have no rows, ever)."""
    keys = hall_profile_keys(session, default_key=default_key)
    scoring = {key: (s := scheme_of(key)) is not None and s.scores for key in set(keys.values())}
    ids = [hall_id for hall_id, key in keys.items() if not scoring[key] and selection.includes(hall_id)]
    if not ids:
        return []
    rows = session.execute(select(Hall.id, Hall.code, Hall.name).where(Hall.id.in_(ids)).order_by(Hall.code))
    return [UnscoredHall(code=code, name=name, profile_key=keys[hall_id]) for hall_id, code, name in rows]


# -- a day's ranking ------------------------------------------------------------------------------------


def last_scored_day(session: Session, *, selection: Selection) -> date | None:
    """The last day scored in the selection (the default day of a ranking)."""
    day: date | None = session.scalar(
        select(func.max(ScoreDay.day)).where(ScoreDay.current.is_(True), selection.clause(ScoreDay.hall_id))
    )
    return day


def _named(code: str | None, name: str | None) -> Named | None:
    return Named(code=code, name=name or code) if code is not None else None


def ranking(
    session: Session, *, level: ScoreLevel, day: date, selection: Selection, page: int, page_size: int
) -> tuple[int, list[RankingRow]]:
    """(how many, one page of rows): the level's current rows of `day` in the selection, highest month
    score first; equal scores share a rank (1, 2, 2, 4)."""
    where = (
        ScoreDay.day == day,
        ScoreDay.subject_kind == level,
        ScoreDay.current.is_(True),
        selection.clause(ScoreDay.hall_id),
    )
    rank = func.rank().over(order_by=ScoreDay.month_score.desc())
    ranked = select(ScoreDay.id.label("id"), rank.label("rank")).where(*where).subquery()
    total = session.scalar(select(func.count()).select_from(ranked)) or 0
    if total == 0:
        return 0, []
    subject = aliased(SUBJECT_TABLES[level])
    hall, department = aliased(Hall), aliased(Department)
    query = (
        select(
            ranked.c.rank,
            ScoreDay.subject_id,
            ScoreDay.month_score,
            ScoreDay.day_points,
            ScoreDay.dimensions,
            ScoreDay.profile_key,
            ScoreDay.revision,
            subject.code,
            subject.name,
            hall.code,
            hall.name,
            department.code,
            department.name,
        )
        .join(ranked, ranked.c.id == ScoreDay.id)
        .join(hall, hall.id == ScoreDay.hall_id)
        .outerjoin(subject, subject.id == ScoreDay.subject_id)
        .outerjoin(department, department.id == ScoreDay.department_id)
        .order_by(ranked.c.rank, hall.code, subject.code, ScoreDay.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return total, [_ranking_row(level, row) for row in session.execute(query)]


def _ranking_row(level: ScoreLevel, row: Any) -> RankingRow:
    (place, subject_id, month_score, day_points, dims, key, revision, *names) = row
    code, name, hall_code, hall_name, dept_code, dept_name = names
    if code is None:  # the subject left the registry after it was scored
        code, name = f"#{subject_id}", "（已删除）"
    elif level == "window":
        code = f"{hall_code}:{code}"
    return RankingRow(
        rank=place,
        subject=Named(code=code, name=name),
        hall=Named(code=hall_code, name=hall_name),
        department=_named(dept_code, dept_name) if level != "department" else None,
        month_score=month_score,
        day_points=day_points,
        dimensions=dict(dims or {}),
        profile_key=key,
        revision=revision,
    )


def schemes_of(rows: list[RankingRow]) -> list[SchemeOut]:
    return [scheme_out(key) for key in sorted({row.profile_key for row in rows})]


# -- the selection as a whole: its halls' trend and dimensions -----------------------------------------


def selection_trend(session: Session, *, selection: Selection, day: date) -> list[TrendPoint]:
    """The month of `day` through `day`: the selection's halls' month score, averaged per day."""
    rows = session.execute(
        select(ScoreDay.day, func.avg(ScoreDay.month_score), func.avg(ScoreDay.day_points))
        .where(
            ScoreDay.subject_kind == "hall",
            ScoreDay.current.is_(True),
            ScoreDay.month == day.strftime("%Y-%m"),
            ScoreDay.day <= day,
            selection.clause(ScoreDay.hall_id),
        )
        .group_by(ScoreDay.day)
        .order_by(ScoreDay.day)
    )
    return [
        TrendPoint(day=d, month_score=round(float(score), 2), day_points=round(float(points), 2))
        for d, score, points in rows
    ]


def selection_breakdown(session: Session, *, selection: Selection, day: date) -> list[BreakdownOut]:
    """Per scheme: the month score and each dimension's score of the selection's halls, averaged."""
    rows = session.execute(
        select(ScoreDay.profile_key, ScoreDay.month_score, ScoreDay.dimensions).where(
            ScoreDay.subject_kind == "hall",
            ScoreDay.current.is_(True),
            ScoreDay.day == day,
            selection.clause(ScoreDay.hall_id),
        )
    )
    by_key: dict[str, list[tuple[float, dict[str, float]]]] = defaultdict(list)
    for key, score, dims in rows:
        by_key[key].append((score, dict(dims or {})))
    found = []
    for key in sorted(by_key):
        halls, scheme = by_key[key], scheme_out(key)
        averaged = []
        for dimension in scheme.dimensions:
            scores = [hall_dims[dimension.code] for _, hall_dims in halls if dimension.code in hall_dims]
            average = round(sum(scores) / len(scores), 2) if scores else None
            averaged.append(DimensionScore(**dimension.model_dump(), score=average))
        month_score = round(sum(score for score, _ in halls) / len(halls), 2)
        found.append(
            BreakdownOut(scheme=scheme, halls=len(halls), month_score=month_score, dimensions=averaged)
        )
    return found


__all__ = [
    "Place",
    "ScoreLookupError",
    "Selection",
    "last_scored_day",
    "ranking",
    "resolve_selection",
    "scheme_of",
    "scheme_out",
    "schemes_of",
    "selectable_places",
    "selection_breakdown",
    "selection_trend",
    "unscored_halls",
]
