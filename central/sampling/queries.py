"""Sampling reads: the draws a person may see, one draw with its cases, my reviews still to do, and
each department's coverage in a month. A draw is visible to whoever's jurisdiction holds its scope."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.models import User
from central.cases.lifecycle import CLOSED_STATUSES
from central.cases.models import Case
from central.registry.jurisdiction import Jurisdiction, ScopeError, ScopeKind
from central.registry.models import Department, Hall, Item
from central.sampling.draw import sample_rates
from central.sampling.models import SampleCase, SampleDraw
from central.sampling.population import month_days
from central.sampling.review import may_sample
from central.sampling.schemas import CoverageRow, DrawPublic, Finding, SampleCasePublic, SamplingError
from central.sampling.service import draw_scope
from common.profiles.supervision import SamplingRules

logger = logging.getLogger(__name__)


def _visible(session: Session, draw: SampleDraw, within: Jurisdiction) -> bool:
    try:
        return within.contains(draw_scope(session, draw))
    except ScopeError:  # the scope left the registry: only the deployment still sees the draw
        return within.kind is ScopeKind.DEPLOYMENT


def visible_draw(session: Session, *, draw_id: int, principal: Principal) -> SampleDraw:
    may_sample(principal)
    draw = session.get(SampleDraw, draw_id)
    if draw is None or not _visible(session, draw, principal.jurisdiction):
        raise SamplingError(
            404, f"no sample draw #{draw_id}", f"没有编号为 #{draw_id} 的抽样，或不在您的辖区内。"
        )
    return draw


def list_draws(session: Session, *, principal: Principal, month: str | None = None) -> list[DrawPublic]:
    """Newest first; without the cases (`draw_detail` has them)."""
    may_sample(principal)
    query = select(SampleDraw).order_by(SampleDraw.month.desc(), SampleDraw.id.desc())
    if month:
        query = query.where(SampleDraw.month == month)
    seen: dict[str, bool] = {}  # draws of one scope share the answer (one registry walk per scope)
    draws = []
    for draw in session.scalars(query):
        if draw.scope_code not in seen:
            seen[draw.scope_code] = _visible(session, draw, principal.jurisdiction)
        if seen[draw.scope_code]:
            draws.append(draw)
    counts = _review_counts(session, [d.id for d in draws])
    return [_public(d, counts.get(d.id, (0, 0)), cases=[]) for d in draws]


def draw_detail(session: Session, *, draw_id: int, principal: Principal) -> DrawPublic:
    draw = visible_draw(session, draw_id=draw_id, principal=principal)
    cases = _case_rows(
        session, select(SampleCase).where(SampleCase.draw_id == draw.id).order_by(SampleCase.position)
    )
    counts = _review_counts(session, [draw.id])
    return _public(draw, counts.get(draw.id, (0, 0)), cases=cases)


def my_pending(session: Session, *, principal: Principal) -> list[SampleCasePublic]:
    """The sampled cases dealt to me and not reviewed yet, oldest draw first."""
    may_sample(principal)
    query = (
        select(SampleCase)
        .where(SampleCase.reviewer_id == principal.user_id, SampleCase.finding.is_(None))
        .order_by(SampleCase.draw_id, SampleCase.position)
    )
    return _case_rows(session, query)


def _review_counts(session: Session, draw_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not draw_ids:
        return {}
    query = (
        select(
            SampleCase.draw_id,
            func.count(SampleCase.finding),
            func.sum(case((SampleCase.finding == Finding.NONCOMPLIANT.value, 1), else_=0)),
        )
        .where(SampleCase.draw_id.in_(draw_ids))
        .group_by(SampleCase.draw_id)
    )
    return {draw_id: (int(reviewed), int(bad or 0)) for draw_id, reviewed, bad in session.execute(query)}


def _public(draw: SampleDraw, counts: tuple[int, int], *, cases: list[SampleCasePublic]) -> DrawPublic:
    rules = SamplingRules.model_validate(draw.rules)
    return DrawPublic(
        id=draw.id,
        month=draw.month,
        scope=draw.scope_code,
        drawn_at=draw.drawn_at,
        drawn_by=draw.drawn_by,
        seed=draw.seed,
        algorithm=draw.algorithm,
        profile_key=draw.profile_key,
        rates=dict(sample_rates(rules)),
        min_per_department=rules.min_per_department,
        population=draw.population,
        population_digest=draw.population_digest,
        reviewers=list(draw.reviewers),
        sample_size=draw.sample_size,
        reviewed=counts[0],
        noncompliant=counts[1],
        note=draw.note,
        cases=cases,
    )


def _case_rows(session: Session, query: Any) -> list[SampleCasePublic]:
    rows = session.execute(
        query.add_columns(Department.code, Department.name, Item.code, Item.name, User.username)
        .join(Department, Department.id == SampleCase.department_id)
        .join(Item, Item.id == SampleCase.item_id)
        .join(User, User.id == SampleCase.reviewer_id)
    ).all()
    return [
        SampleCasePublic(
            id=c.id,
            draw_id=c.draw_id,
            position=c.position,
            case_no=c.case_no,
            department_code=dept_code,
            department_name=dept_name,
            item_code=item_code,
            item_name=item_name,
            kinds=[k for k in c.kinds.split(",") if k],
            stratum=c.stratum,
            reviewer=reviewer,
            finding=Finding(c.finding) if c.finding else None,
            reason_code=c.reason_code,
            note=c.note,
            reviewed_at=c.reviewed_at,
            signal_id=c.signal_id,
        )
        for c, dept_code, dept_name, item_code, item_name, reviewer in rows
    ]


def coverage(session: Session, *, month: str, principal: Principal) -> list[CoverageRow]:
    """Per department of my jurisdiction: the month's closed cases, how many were drawn and reviewed."""
    may_sample(principal)
    try:
        first, last = month_days(month)
    except ValueError as exc:
        raise SamplingError(422, f"month {month!r} is not a month", f"月份无效：{month}。") from exc
    within = principal.jurisdiction
    closed = {
        department_id: int(count)
        for department_id, count in session.execute(
            select(Case.department_id, func.count())
            .where(
                Case.closed_on.between(first, last),
                Case.status.in_([s.value for s in CLOSED_STATUSES]),
                within.clause(hall_id=Case.hall_id, department_id=Case.department_id),
            )
            .group_by(Case.department_id)
        )
    }
    sampled_rows = session.execute(
        select(
            SampleCase.department_id,
            func.count(),
            func.count(SampleCase.finding),
            func.sum(case((SampleCase.finding == Finding.NONCOMPLIANT.value, 1), else_=0)),
        )
        .join(SampleDraw, SampleDraw.id == SampleCase.draw_id)
        .where(
            SampleDraw.month == month,
            within.clause(hall_id=SampleCase.hall_id, department_id=SampleCase.department_id),
        )
        .group_by(SampleCase.department_id)
    ).all()
    sampled = {row[0]: (int(row[1]), int(row[2]), int(row[3] or 0)) for row in sampled_rows}
    return _coverage_rows(session, set(closed) | set(sampled), closed, sampled)


def _coverage_rows(
    session: Session,
    ids: Iterable[int],
    closed: dict[int, int],
    sampled: dict[int, tuple[int, int, int]],
) -> list[CoverageRow]:
    wanted = sorted(ids)
    if not wanted:
        return []
    names = session.execute(
        select(Department.id, Department.code, Department.name, Hall.name)
        .join(Hall, Hall.id == Department.hall_id)
        .where(Department.id.in_(wanted))
        .order_by(Hall.name, Department.code)
    ).all()
    rows = []
    for department_id, code, name, hall_name in names:
        total = closed.get(department_id, 0)
        drawn, reviewed, bad = sampled.get(department_id, (0, 0, 0))
        rows.append(
            CoverageRow(
                department_code=code,
                department_name=name,
                hall_name=hall_name,
                closed=total,
                sampled=drawn,
                reviewed=reviewed,
                noncompliant=bad,
                coverage=round(drawn / total, 4) if total else None,
            )
        )
    return rows
