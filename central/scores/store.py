"""Writing computed scores: a day's rows in bulk, and a recomputed day row by row against what stands.

A recomputation keeps what did not change (same score, same lines) and, for a subject whose figure
changed, keeps the earlier row — no longer current, with when and why — beside the new one, so the
earlier figure stays visible (issue 17 item 3)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central.core.bulk import draw_ids, insert_rows
from central.scores.engine import DayScores
from central.scores.lines import Line, SubjectScore, month_of
from central.scores.models import ScoreDay, ScoreLine

logger = logging.getLogger(__name__)


def write_day(session: Session, scores: DayScores, *, computed_at: datetime) -> None:
    """Insert every subject's row and lines of a day not computed before (one statement per table)."""
    _insert(session, scores, scores.subjects, computed_at=computed_at, revisions={})


def rewrite_day(session: Session, scores: DayScores, *, computed_at: datetime, reason: str) -> int:
    """Bring a computed day's current rows in line with `scores`; answers how many subjects changed."""
    subjects = scores.subjects
    if not subjects:
        return 0
    halls = sorted({s.subject.hall for s in subjects})
    standing = {
        (row.subject_kind, row.subject_id): row
        for row in session.scalars(
            select(ScoreDay).where(
                ScoreDay.day == scores.day, ScoreDay.current.is_(True), ScoreDay.hall_id.in_(halls)
            )
        )
    }
    lines_of = _lines_by_day(session, [row.id for row in standing.values()])
    changed: list[SubjectScore] = []
    revisions: dict[tuple[str, int], int] = {}
    superseded: list[int] = []
    for score in subjects:
        key = (score.subject.kind, score.subject.id)
        row = standing.get(key)
        if row is not None and _same(row, lines_of.get(row.id, []), score):
            continue
        changed.append(score)
        if row is not None:
            superseded.append(row.id)
            revisions[key] = row.revision + 1
    if superseded:
        session.execute(
            update(ScoreDay)
            .where(ScoreDay.id.in_(superseded))
            .values(current=False, superseded_at=computed_at, superseded_reason=reason)
        )
    _insert(session, scores, changed, computed_at=computed_at, revisions=revisions)
    return len(changed)


def _same(row: ScoreDay, lines: Sequence[tuple[Any, ...]], score: SubjectScore) -> bool:
    if row.month_score != score.month_score or row.day_points != score.day_points:
        return False
    return sorted(lines) == sorted(_line_key(line) for line in score.lines)


def _line_key(line: Line) -> tuple[Any, ...]:
    return (line.rule_code, line.points, line.source_kind, line.source_id or 0, line.explanation)


def _lines_by_day(session: Session, day_ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    found: dict[int, list[tuple[Any, ...]]] = {}
    for chunk in range(0, len(day_ids), 5000):
        rows = session.execute(
            select(
                ScoreLine.score_day_id,
                ScoreLine.rule_code,
                ScoreLine.points,
                ScoreLine.source_kind,
                ScoreLine.source_id,
                ScoreLine.explanation,
            ).where(ScoreLine.score_day_id.in_(day_ids[chunk : chunk + 5000]))
        )
        for day_id, code, points, kind, source_id, why in rows:
            found.setdefault(day_id, []).append((code, points, kind, source_id or 0, why))
    return found


def _insert(
    session: Session,
    scores: DayScores,
    subjects: Sequence[SubjectScore],
    *,
    computed_at: datetime,
    revisions: dict[tuple[str, int], int],
) -> None:
    if not subjects:
        return
    ids = draw_ids(session, ScoreDay, len(subjects))
    month = month_of(scores.day)
    days: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for day_id, score in zip(ids, subjects, strict=True):
        ref = score.subject
        days.append(
            {
                "id": day_id,
                "day": scores.day,
                "month": month,
                "subject_kind": ref.kind,
                "subject_id": ref.id,
                "hall_id": ref.hall,
                "department_id": ref.department,
                "profile_key": ref.profile_key,
                "day_points": score.day_points,
                "month_score": score.month_score,
                "dimensions": score.dimensions,
                "state": score.state,
                "lines_count": len(score.lines),
                "revision": revisions.get((ref.kind, ref.id), 1),
                "current": True,
                "computed_at": computed_at,
                "as_of": scores.as_of,
                "superseded_at": None,
                "superseded_reason": None,
            }
        )
        lines += [
            {
                "score_day_id": day_id,
                "rule_code": line.rule_code,
                "rule_label": line.rule_label,
                "dimension": line.dimension,
                "points": line.points,
                "explanation": line.explanation,
                "source_kind": line.source_kind,
                "source_id": line.source_id,
            }
            for line in score.lines
        ]
    insert_rows(session, ScoreDay, days)
    if lines:
        line_ids = draw_ids(session, ScoreLine, len(lines))
        insert_rows(session, ScoreLine, [{"id": i, **row} for i, row in zip(line_ids, lines, strict=True)])
