"""Score rows written straight through the ORM, in the shape the daily pass writes them (central.scores
.models): one `ScoreDay` per subject and day with its explained `ScoreLine`s, a recomputed day as a
superseded row plus its successor. The pages and API only read these tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from central.scores.models import ScoreDay, ScoreLine

# The Sichuan profile's dimensions at full marks (common/profiles/data/sichuan-2011.yaml).
SICHUAN = "sichuan-2011"
FULL = {
    "disclosure": 10.0,
    "procedure": 14.0,
    "time_limits": 14.0,
    "fees": 8.0,
    "satisfaction": 10.0,
    "attitude": 10.0,
    "supervision": 14.0,
    "accountability": 10.0,
    "integrity": 10.0,
}


def dims(**lost: float) -> dict[str, float]:
    """The dimensions with `lost` points taken off each one named."""
    return {code: weight - lost.get(code, 0.0) for code, weight in FULL.items()}


@dataclass(frozen=True)
class Line:
    rule_code: str
    rule_label: str
    dimension: str
    points: float
    explanation: str
    source_kind: str
    source_id: int | None = None


RED = ("light_red", "红灯", "time_limits")


def red(signal_id: int) -> Line:
    return Line(*RED, -10, "红灯 1 件 × −10 = −10", "signal", signal_id)


@dataclass
class Scores:
    session: Session
    computed_at: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 17, 0, tzinfo=UTC))

    def day(
        self,
        kind: str,
        subject_id: int,
        *,
        hall_id: int,
        department_id: int | None,
        day: date,
        month_score: float,
        lines: Sequence[Line] = (),
        dimensions: dict[str, float] | None = None,
        profile_key: str = SICHUAN,
        revision: int = 1,
        current: bool = True,
        superseded_at: datetime | None = None,
        superseded_reason: str | None = None,
        computed_at: datetime | None = None,
    ) -> ScoreDay:
        row = ScoreDay(
            day=day,
            month=day.strftime("%Y-%m"),
            subject_kind=kind,
            subject_id=subject_id,
            hall_id=hall_id,
            department_id=department_id,
            profile_key=profile_key,
            day_points=sum(line.points for line in lines),
            month_score=month_score,
            dimensions=dimensions if dimensions is not None else dims(),
            state={},
            lines_count=len(lines),
            revision=revision,
            current=current,
            computed_at=computed_at or self.computed_at,
            as_of=computed_at or self.computed_at,
            superseded_at=superseded_at,
            superseded_reason=superseded_reason,
        )
        self.session.add(row)
        self.session.flush()
        for line in lines:
            self.session.add(
                ScoreLine(
                    score_day_id=row.id,
                    rule_code=line.rule_code,
                    rule_label=line.rule_label,
                    dimension=line.dimension,
                    points=line.points,
                    explanation=line.explanation,
                    source_kind=line.source_kind,
                    source_id=line.source_id,
                )
            )
        self.session.flush()
        return row
