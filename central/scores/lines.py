"""How one subject's day turns into explained lines (pure: no database, no clock).

A subject's day starts from the running totals its previous day's row left (`state`) and adds lines:

* **per record** — one line per counted record (−10 for this red signal), the rule's monthly cap kept
  with the month's points of that rule so far;
* **run** — on a working day, the streak of working days with a record grows or resets; each run it
  completes is a line (−3 for 3 warnings in a row);
* **share** and **satisfaction** — monthly measures: the month-to-date figures give month-to-date
  points, and the day books their change (which may be a bonus taken back);
* **clamp** — a dimension's score stays in [0, weight]: when the lines would push it out, a clamp
  line books the difference, so **the scheme's total plus the month's lines is always the score**.

A province's day is tens of thousands of subjects, most with nothing that day: their day costs no rule
evaluation (`score_subject`'s quiet path), and each scheme's rules are planned once per level (`Plan`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from central.scores.sources import Record
from common.profiles.points import Figures, clamp_dimension, plain, score_rule, signed
from common.profiles.scoring import (
    PerRecordRule,
    PerShareRule,
    RunRule,
    SatisfactionRule,
    ScoreLevel,
    ScoreSource,
    ScoringRules,
)

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
class DayFigures:
    """What one subject has on the day, gathered from the day's records and tallies."""

    records: list[Record] = field(default_factory=list)
    closed: int = 0
    early: int = 0
    missing: int = 0
    ratings: int = 0
    weight: float = 0.0
    good_weight: float = 0.0


@dataclass(frozen=True)
class Plan:
    """A scheme's rules for one level, sorted once for the day's tens of thousands of subjects."""

    scheme: ScoringRules
    rules: tuple[PerRecordRule | RunRule | PerShareRule | SatisfactionRule, ...]
    run_codes: tuple[str, ...]
    dimensions: tuple[tuple[str, float, tuple[str, ...]], ...]  # code, weight, the codes of its rules


def plan_for(scheme: ScoringRules, kind: ScoreLevel) -> Plan:
    rules = tuple(rule for rule in scheme.rules if kind in rule.levels)
    return Plan(
        scheme=scheme,
        rules=rules,
        run_codes=tuple(rule.code for rule in rules if isinstance(rule, RunRule)),
        dimensions=tuple(
            (d.code, d.weight, tuple(r.code for r in scheme.rules if r.dimension == d.code))
            for d in scheme.dimensions
        ),
    )


def score_subject(
    ref: SubjectRef,
    *,
    scheme: ScoringRules | Plan,
    figures: DayFigures,
    state: Mapping[str, Any] | None,
    day: date,
    workday: bool,
) -> SubjectScore:
    """One subject's day: its lines, and the state the next day starts from."""
    plan = scheme if isinstance(scheme, Plan) else plan_for(scheme, ref.kind)
    month = month_of(day)
    same_month = state is not None and state.get("month") == month
    totals: dict[str, float] = dict(state["totals"]) if same_month and state else {}
    shares: dict[str, list[int]] = (
        {k: list(v) for k, v in state["shares"].items()} if same_month and state else {}
    )
    satisfaction: list[float] = list(state["sat"]) if same_month and state else [0.0, 0.0, 0.0]
    streaks: dict[str, int] = dict(state.get("streaks", {})) if state else {}
    lines: list[Line] = []
    if figures.records or figures.closed or figures.ratings:
        lines = _day_lines(plan, figures, totals, shares, satisfaction, streaks, workday)
    elif workday:  # nothing today: no line (the month's measures did not move), streaks broken
        for code in plan.run_codes:
            streaks.pop(code, None)
    dimensions = _dimension_scores(plan, totals)
    return SubjectScore(
        subject=ref,
        lines=lines,
        day_points=float(round(sum(line.points for line in lines), 2)),
        month_score=float(round(sum(dimensions.values()), 2)),
        dimensions=dimensions,
        state={"month": month, "totals": totals, "shares": shares, "sat": satisfaction, "streaks": streaks},
    )


def _day_lines(
    plan: Plan,
    figures: DayFigures,
    totals: dict[str, float],
    shares: dict[str, list[int]],
    satisfaction: list[float],
    streaks: dict[str, int],
    workday: bool,
) -> list[Line]:
    """The lines of a day with something in it; updates the running figures in place."""
    shares["early_completion"] = _add(shares.get("early_completion"), figures.early, figures.closed)
    shares["missing_data"] = _add(shares.get("missing_data"), figures.missing, figures.closed)
    satisfaction[0] += figures.good_weight
    satisfaction[1] += figures.weight
    satisfaction[2] += figures.ratings
    by_source: dict[ScoreSource, list[Record]] = defaultdict(list)
    for record in figures.records:
        by_source[record.source].append(record)
    lines: list[Line] = []
    for rule in plan.rules:
        if isinstance(rule, PerRecordRule):
            if rule.source in by_source:
                lines += _record_lines(rule, by_source[rule.source], totals)
        elif isinstance(rule, RunRule):
            lines += _run_lines(rule, by_source.get(rule.source, []), streaks, workday)
        elif isinstance(rule, PerShareRule):
            if figures.closed:  # the month's share moves only with the day's closures
                hits, cases = shares[rule.source.value]
                lines += _monthly_line(rule, Figures(hits=hits, cases=cases), totals, "case_share")
        elif figures.ratings:  # likewise the satisfaction rate with the day's ratings
            rate = satisfaction[0] / satisfaction[1] if satisfaction[1] > 0 else None
            rated = Figures(rate=rate, ratings=int(satisfaction[2]))
            lines += _monthly_line(rule, rated, totals, "satisfaction")
    for line in lines:
        totals[line.rule_code] = round(totals.get(line.rule_code, 0.0) + line.points, 2)
    clamps = _clamp_lines(plan, totals)
    for line in clamps:
        totals[line.rule_code] = round(totals.get(line.rule_code, 0.0) + line.points, 2)
    return lines + clamps


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
    if after:
        streaks[rule.code] = after
    else:
        streaks.pop(rule.code, None)
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


def _clamp_lines(plan: Plan, totals: dict[str, float]) -> list[Line]:
    """A dimension's score stays within [0, weight]: book what keeps it there (or gives back what an
    earlier clamp held back, once the lines move back inside)."""
    lines = []
    names = {d.code: d.name for d in plan.scheme.dimensions}
    for code, weight, rule_codes in plan.dimensions:
        raw = sum(totals.get(rule_code, 0.0) for rule_code in rule_codes)
        clamp_code = CLAMP_PREFIX + code
        held = totals.get(clamp_code, 0.0)
        target = round(clamp_dimension(weight, raw) - weight, 2)
        change = round(target - raw - held, 2)
        if change == 0:
            continue
        if target == raw:
            why = (
                f"{names[code]}各项合计 {signed(raw)}，已回到 0 至满分 {plain(weight)} 之内，"
                f"退回此前的限值调整：计 {signed(change)}"
            )
        else:
            bound = "满分" if raw > target else "0 分"
            why = (
                f"{names[code]}满分 {plain(weight)}，各项合计 {signed(raw)}，"
                f"得分以{bound}为限：计 {signed(change)}"
            )
        lines.append(Line(clamp_code, "维度限值", code, change, why, "clamp"))
    return lines


def _dimension_scores(plan: Plan, totals: Mapping[str, float]) -> dict[str, float]:
    scores = {}
    for code, weight, rule_codes in plan.dimensions:
        change = sum(totals.get(rule_code, 0.0) for rule_code in rule_codes) + totals.get(
            CLAMP_PREFIX + code, 0.0
        )
        scores[code] = round(weight + change, 2)
    return scores
