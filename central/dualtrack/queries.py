"""Listing dual-track judgements, jurisdiction in SQL: a day's windows, flagged first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from central.dualtrack.labels import OUTCOME_LABELS
from central.dualtrack.models import DualTrackJudgement
from central.dualtrack.rule import BaselineSource, Method, Outcome
from central.dualtrack.schemas import HourOut, JudgementOut, JudgementPage
from central.registry.jurisdiction import Jurisdiction
from central.registry.models import Department, Hall, ServiceWindow
from central.video.models import Evidence
from central.video.schemas import EvidenceRef

logger = logging.getLogger(__name__)

J = DualTrackJudgement
_SEVERITY = case((J.outcome == Outcome.FLAGGED.value, 0), (J.outcome == Outcome.CLEAR.value, 1), else_=2)


@dataclass(frozen=True, kw_only=True)
class JudgementFilters:
    within: Jurisdiction
    day: date | None = None
    hall_code: str | None = None
    window_code: str | None = None
    outcome: Outcome | None = None


def _conditions(filters: JudgementFilters) -> list[ColumnElement[bool]]:
    found = [filters.within.clause(hall_id=J.hall_id, department_id=J.department_id)]
    if filters.day is not None:
        found.append(J.day == filters.day)
    if filters.hall_code:
        found.append(Hall.code == filters.hall_code)
    if filters.window_code:
        found.append(ServiceWindow.code == filters.window_code)
    if filters.outcome is not None:
        found.append(J.outcome == filters.outcome.value)
    return found


Listed = Select[DualTrackJudgement, str, str, str, str, str]


def _base(filters: JudgementFilters) -> Listed:
    return (
        select(J, Hall.code, Hall.name, ServiceWindow.code, ServiceWindow.name, Department.code)
        .join(Hall, Hall.id == J.hall_id)
        .join(ServiceWindow, ServiceWindow.id == J.window_id)
        .outerjoin(Department, Department.id == J.department_id)
        .where(*_conditions(filters))
    )


def list_judgements(
    session: Session, *, filters: JudgementFilters, page: int, page_size: int, now: datetime
) -> JudgementPage:
    """Newest day first; in a day, flagged first, the largest excess beyond the expected first."""
    base = _base(filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(J.day.desc(), _SEVERITY, (J.excess - J.expected).desc(), Hall.code, ServiceWindow.code)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    evidence = _evidence(session, [i for row in rows for i in row[0].evidence_ids], now=now)
    items = [_out(*row, evidence=evidence) for row in rows]
    return JudgementPage(total=total, page=page, page_size=page_size, items=items)


def get_judgement(
    session: Session, *, judgement_id: int, within: Jurisdiction, now: datetime
) -> JudgementOut | None:
    row = session.execute(_base(JudgementFilters(within=within)).where(J.id == judgement_id)).first()
    if row is None:
        return None
    return _out(*row, evidence=_evidence(session, list(row[0].evidence_ids), now=now))


def day_counts(session: Session, *, within: Jurisdiction, day: date) -> dict[str, int]:
    """Judgements of the day per outcome, in the jurisdiction."""
    rows = session.execute(
        select(J.outcome, func.count())
        .where(J.day == day, within.clause(hall_id=J.hall_id, department_id=J.department_id))
        .group_by(J.outcome)
    )
    return {outcome: int(n) for outcome, n in rows}


def latest_day(session: Session, *, within: Jurisdiction) -> date | None:
    return session.scalar(
        select(func.max(J.day)).where(within.clause(hall_id=J.hall_id, department_id=J.department_id))
    )


def _evidence(session: Session, ids: list[int], *, now: datetime) -> dict[int, EvidenceRef]:
    if not ids:
        return {}
    return {
        item.id: EvidenceRef(
            id=item.id,
            taken_at=item.taken_at,
            reason=item.reason,
            gone=item.purged_at is not None or item.expires_at <= now,
        )
        for item in session.scalars(select(Evidence).where(Evidence.id.in_(sorted(set(ids)))))
    }


def _out(
    judgement: DualTrackJudgement,
    hall_code: str,
    hall_name: str,
    window_code: str,
    window_name: str,
    department_code: str | None,
    *,
    evidence: dict[int, EvidenceRef],
) -> JudgementOut:
    over = set(judgement.hours_over)
    hours: list[Any] = judgement.hours
    return JudgementOut(
        id=judgement.id,
        day=judgement.day,
        hall_code=hall_code,
        hall_name=hall_name,
        window_code=window_code,
        window_name=window_name,
        department_code=department_code,
        outcome=Outcome(judgement.outcome),
        outcome_label=OUTCOME_LABELS.get(judgement.outcome, judgement.outcome),
        method=Method(judgement.method),
        visits=judgement.visits,
        cases=judgement.cases,
        excess=judgement.excess,
        expected=judgement.expected,
        beyond=judgement.excess - judgement.expected,
        baseline_share=judgement.baseline_share,
        baseline_source=BaselineSource(judgement.baseline_source),
        baseline_days=judgement.baseline_days,
        z=judgement.z,
        critical=judgement.critical,
        z_rest=judgement.z_rest,
        why=list(judgement.why),
        hours=[HourOut(hour=h, visits=v, cases=c, over=h in over) for h, v, c in hours],
        signal_id=judgement.signal_id,
        evidence=[evidence[i] for i in judgement.evidence_ids if i in evidence],
        computed_at=judgement.computed_at,
    )


__all__ = ["JudgementFilters", "day_counts", "get_judgement", "latest_day", "list_judgements"]
