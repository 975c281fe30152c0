"""One day's scores of every subject — staff member, window, department, hall — with every point
explained (QTH-3, SZ-16..18). Computes; `central.scores.daily` writes.

A subject's day starts from the running totals its previous day's row left (`state`) and adds lines:

* **per record** — one line per counted record (−10 for this red signal), the rule's monthly cap kept
  with the month's points of that rule so far;
* **run** — on a working day, the streak of working days with a record grows or resets; each run it
  completes is a line (−3 for 3 warnings in a row);
* **share** and **satisfaction** — monthly measures: the month-to-date figures give month-to-date
  points, and the day books their change (which may be a bonus taken back);
* **clamp** — a dimension's score stays in [0, weight]: when the lines would push it out, a clamp
  line books the difference, so **the scheme's total plus the month's lines is always the score**.

Nothing here reads the clock: `as_of` says which records count (see `central.scores.sources`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.profiles.assignment import hall_profile_keys
from central.registry.models import Department, ServiceWindow, Staff
from central.scores.models import ScoreDay
from central.scores.sources import CaseTally, DayRecords, RatingTally, Record, Subject, day_records
from common.profiles.loader import get_profile
from common.profiles.points import (
    Figures,
    clamp_dimension,
    plain,
    score_rule,
    signed,
)
from common.profiles.scoring import (
    PerRecordRule,
    PerShareRule,
    RunRule,
    SatisfactionRule,
    ScoreLevel,
    ScoringRules,
)
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

SOURCE_LABELS = {
    "signal": "纠错信号",
    "rating": "评价",
    "follow_up": "差评回访",
    "absence": "离岗记录",
    "patrol_finding": "巡查发现",
    "investigation": "核查",
    "complaint": "投诉",
}
CLAMP_PREFIX = "clamp:"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class Line:
    rule_code: str
    rule_label: str
    dimension: str
    points: float
    explanation: str
    source_kind: str
    source_id: int | None = None


@dataclass(frozen=True)
class SubjectRef:
    kind: ScoreLevel
    id: int
    hall: int
    department: int | None
    profile_key: str


@dataclass
class SubjectScore:
    subject: SubjectRef
    lines: list[Line]
    day_points: float
    month_score: float
    dimensions: dict[str, float]
    state: dict[str, Any]


@dataclass
class DayScores:
    day: date
    as_of: datetime
    subjects: list[SubjectScore] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(len(s.lines) for s in self.subjects)


@dataclass
class _Figures:
    """What one subject has on the day, gathered from the day's records and tallies."""

    records: list[Record] = field(default_factory=list)
    closed: int = 0
    early: int = 0
    missing: int = 0
    ratings: int = 0
    weight: float = 0.0
    good_weight: float = 0.0


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
) -> DayScores:
    """Every subject's lines and scores for `day` (of the halls given, or all scored halls; or of
    one subject, for the one-at-a-time baseline), from the records as they stood at `as_of`."""
    registry = Registry(session, default_profile_key=default_profile_key, hall_ids=hall_ids, subject=subject)
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
    for ref in registry.subjects():
        scheme = registry.schemes[ref.profile_key]
        figures = gathered.get((ref.kind, ref.id), _Figures())
        result.subjects.append(
            score_subject(
                ref,
                scheme=scheme,
                figures=figures,
                state=previous.get((ref.kind, ref.id)),
                day=day,
                workday=workday,
            )
        )
    return result


def _gather(registry: Registry, found: DayRecords) -> dict[Subject, _Figures]:
    gathered: dict[Subject, _Figures] = defaultdict(_Figures)
    for record in found.records:
        for owner in registry.owners(record.hall, record.department, record.window, record.staff):
            gathered[owner].records.append(record)
    for tally in found.cases:
        _add_cases(gathered, registry, tally)
    for ratings in found.ratings:
        _add_ratings(gathered, registry, ratings)
    return gathered


def _add_cases(gathered: dict[Subject, _Figures], registry: Registry, tally: CaseTally) -> None:
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


def _add_ratings(gathered: dict[Subject, _Figures], registry: Registry, tally: RatingTally) -> None:
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


def score_subject(
    ref: SubjectRef,
    *,
    scheme: ScoringRules,
    figures: _Figures,
    state: Mapping[str, Any] | None,
    day: date,
    workday: bool,
) -> SubjectScore:
    """One subject's day: its lines, and the state the next day starts from."""
    month = month_of(day)
    same_month = state is not None and state.get("month") == month
    totals: dict[str, float] = dict(state["totals"]) if same_month and state else {}
    shares: dict[str, list[int]] = (
        {k: list(v) for k, v in state["shares"].items()} if same_month and state else {}
    )
    satisfaction: list[float] = list(state["sat"]) if same_month and state else [0.0, 0.0, 0.0]
    streaks: dict[str, int] = dict(state.get("streaks", {})) if state else {}
    closed, early, missing = figures.closed, figures.early, figures.missing
    shares["early_completion"] = _add(shares.get("early_completion"), early, closed)
    shares["missing_data"] = _add(shares.get("missing_data"), missing, closed)
    satisfaction = [
        satisfaction[0] + figures.good_weight,
        satisfaction[1] + figures.weight,
        satisfaction[2] + figures.ratings,
    ]
    lines: list[Line] = []
    for rule in scheme.rules:
        if ref.kind not in rule.levels:
            continue
        if isinstance(rule, PerRecordRule):
            lines += _record_lines(rule, figures.records, totals)
        elif isinstance(rule, RunRule):
            lines += _run_lines(rule, figures.records, streaks, workday)
        elif isinstance(rule, PerShareRule):
            hits, cases = shares[rule.source.value]
            lines += _monthly_line(rule, Figures(hits=hits, cases=cases), totals, "case_share")
        else:
            rate = satisfaction[0] / satisfaction[1] if satisfaction[1] > 0 else None
            rated = Figures(rate=rate, ratings=int(satisfaction[2]))
            lines += _monthly_line(rule, rated, totals, "satisfaction")
    for line in lines:
        totals[line.rule_code] = round(totals.get(line.rule_code, 0.0) + line.points, 2)
    lines += _clamp_lines(scheme, totals)
    for line in lines:
        if line.rule_code.startswith(CLAMP_PREFIX):
            totals[line.rule_code] = round(totals.get(line.rule_code, 0.0) + line.points, 2)
    dimensions = _dimension_scores(scheme, totals)
    return SubjectScore(
        subject=ref,
        lines=lines,
        day_points=float(round(sum(line.points for line in lines), 2)),
        month_score=float(round(sum(dimensions.values()), 2)),
        dimensions=dimensions,
        state={"month": month, "totals": totals, "shares": shares, "sat": satisfaction, "streaks": streaks},
    )


def _add(before: list[int] | None, hits: int, cases: int) -> list[int]:
    hits_before, cases_before = before or [0, 0]
    return [hits_before + hits, cases_before + cases]


def _matches(rule: PerRecordRule | RunRule, record: Record) -> bool:
    if record.source is not rule.source:
        return False
    if rule.reasons and record.tag not in rule.reasons:
        return False
    return not (rule.categories and record.tag not in rule.categories)


def _record_lines(rule: PerRecordRule, records: list[Record], totals: dict[str, float]) -> list[Line]:
    lines = []
    so_far = totals.get(rule.code, 0.0)
    for record in records:
        if not _matches(rule, record):
            continue
        scored = score_rule(rule, Figures(records=1, month_so_far=so_far))
        why = f"{scored.explanation}（{SOURCE_LABELS[record.kind]} #{record.id}）"
        lines.append(Line(rule.code, rule.label, rule.dimension, scored.points, why, record.kind, record.id))
        so_far = round(so_far + scored.points, 2)
    return lines


def _run_lines(rule: RunRule, records: list[Record], streaks: dict[str, int], workday: bool) -> list[Line]:
    """Runs count working days: a day off neither extends a streak nor breaks it."""
    if not workday:
        return []
    hits = [r for r in records if _matches(rule, r)]
    before = streaks.get(rule.code, 0)
    after = before + 1 if hits else 0
    streaks[rule.code] = after
    runs = after // rule.length - before // rule.length if after else 0
    if runs <= 0:
        return []
    scored = score_rule(rule, Figures(runs=runs))
    why = f"{scored.explanation}（连续 {after} 个工作日有预警，今日 {len(hits)} 件）"
    first = hits[0]
    return [Line(rule.code, rule.label, rule.dimension, scored.points, why, first.kind, first.id)]


def _monthly_line(
    rule: PerShareRule | SatisfactionRule, figures: Figures, totals: dict[str, float], kind: str
) -> list[Line]:
    """A monthly measure books the change of its month-to-date points."""
    scored = score_rule(rule, figures)
    booked = totals.get(rule.code, 0.0)
    change = round(scored.points - booked, 2)
    if change == 0:
        return []
    why = f"{scored.explanation}；本月累计 {signed(scored.points)}，此前已计 {signed(booked)}，本日计 {signed(change)}"
    return [Line(rule.code, rule.label, rule.dimension, change, why, kind)]


def _clamp_lines(scheme: ScoringRules, totals: dict[str, float]) -> list[Line]:
    """A dimension's score stays within [0, weight]: book what keeps it there (or gives back what an
    earlier clamp held back, once the lines move back inside)."""
    lines = []
    for dimension in scheme.dimensions:
        raw = sum(totals.get(rule.code, 0.0) for rule in scheme.rules if rule.dimension == dimension.code)
        clamp_code = CLAMP_PREFIX + dimension.code
        held = totals.get(clamp_code, 0.0)
        target = round(clamp_dimension(dimension.weight, raw) - dimension.weight, 2)
        change = round(target - raw - held, 2)
        if change == 0:
            continue
        if target == raw:
            why = (
                f"{dimension.name}各项合计 {signed(raw)}，已回到 0 至满分 {plain(dimension.weight)} 之内，"
                f"退回此前的限值调整：计 {signed(change)}"
            )
        else:
            bound = "满分" if raw > target else "0 分"
            why = (
                f"{dimension.name}满分 {plain(dimension.weight)}，各项合计 {signed(raw)}，"
                f"得分以{bound}为限：计 {signed(change)}"
            )
        lines.append(Line(clamp_code, "维度限值", dimension.code, change, why, "clamp"))
    return lines


def _dimension_scores(scheme: ScoringRules, totals: Mapping[str, float]) -> dict[str, float]:
    scores = {}
    for dimension in scheme.dimensions:
        change = sum(totals.get(rule.code, 0.0) for rule in scheme.rules if rule.dimension == dimension.code)
        change += totals.get(CLAMP_PREFIX + dimension.code, 0.0)
        scores[dimension.code] = round(dimension.weight + change, 2)
    return scores
