"""The monthly e-supervision report's figures (电子监察月报, SC-11, SZ-19) for one jurisdiction:
`report_data` gathers the month's facts in SQL (`central.reports.facts`) and assembles the sections
(`central.reports.sections`), the score table and the departments that need attention.

`assemble` works on facts gathered for a wider jurisdiction too: the closed-month pass gathers the
deployment once and assembles a report for every region from it (`central.reports.service`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy.orm import Session

from central.core.clock import shanghai_date
from central.profiles.assignment import halls_by_profile
from central.registry.jurisdiction import Jurisdiction
from central.reports import sections
from central.reports.attention import DepartmentMetrics, departments_needing_attention
from central.reports.facts import Facts, collect
from central.reports.period import Month, parse_month, scope_kind_text, scope_name
from central.reports.schemas import MonthlyReportData, ScoreRow, ScoresSection, ScoreTable
from central.reports.score_facts import ScoreFact
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

SCORE_ROWS = 60  # per score table: the best and the worst half of these when there are more
NO_SCORES = "本月尚无绩效得分：评分程序尚未计算本月的得分，本节从略。"


def gather(
    session: Session,
    *,
    month: Month,
    within: Jurisdiction,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> Facts:
    today = shanghai_date(now)
    return collect(
        session,
        month=month,
        until=min(month.last, today),
        today=today,
        within=within,
        calendar=calendar,
        groups=halls_by_profile(session, default_key=default_profile),
        default_profile=default_profile,
    )


def report_data(
    session: Session,
    *,
    month: str | Month,
    scope: Jurisdiction,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> MonthlyReportData:
    """The report of `month` (YYYY-MM, checked: `ReportInputError`) for `scope` (the deployment, a
    region or a hall), with the data as it stands at `now`."""
    wanted = parse_month(month, today=shanghai_date(now)) if isinstance(month, str) else month
    facts = gather(
        session, month=wanted, within=scope, now=now, calendar=calendar, default_profile=default_profile
    )
    name, level = scope_name(session, scope)
    return assemble(facts, scope=scope, scope_name=name, scope_level=level, computed_at=now)


def _ranked(
    facts: list[ScoreFact], last: dict[tuple[str, int], float], halls: dict[int, tuple[str, str]]
) -> ScoreTable:
    """Ranked by score (equal scores share a rank), with the change against last month."""
    facts = sorted(facts, key=lambda f: (-f.score, f.code))
    rows: list[ScoreRow] = []
    for index, fact in enumerate(facts):
        previous = last.get((fact.kind, fact.subject_id))
        rank = rows[-1].rank if rows and rows[-1].score == round(fact.score, 2) else index + 1
        rows.append(
            ScoreRow(
                rank=rank,
                code=fact.code,
                name=fact.name,
                hall_code=halls.get(fact.hall_id, ("?", ""))[0],
                department_name=fact.department_name,
                score=round(fact.score, 2),
                last_month=None if previous is None else round(previous, 2),
                change=None if previous is None else round(fact.score - previous, 2),
            )
        )
    count = len(rows)
    if count > SCORE_ROWS:
        half = SCORE_ROWS // 2
        return ScoreTable(rows=rows[:half] + rows[-half:], count=count, omitted=count - 2 * half)
    return ScoreTable(rows=rows, count=count)


def _last_day(facts: list[ScoreFact]) -> tuple[date | None, list[ScoreFact]]:
    """The scope's last computed day of a month, and the rows of that day."""
    if not facts:
        return None, []
    day = max(f.day for f in facts)
    return day, [f for f in facts if f.day == day]


def scores(lab: sections.Labeller) -> tuple[ScoresSection, dict[int, float]]:
    """The score table, and each department's score (for the attention rule)."""
    inside = [f for f in lab.facts.scores if lab.inside(f.hall_id)]
    day, current = _last_day([f for f in inside if f.month == lab.facts.month.text])
    last_day, previous = _last_day([f for f in inside if f.month == lab.facts.month.previous.text])
    last = {(f.kind, f.subject_id): f.score for f in previous}
    halls = dict(lab.names.halls)

    def table(kind: str) -> ScoreTable:
        return _ranked([f for f in current if f.kind == kind], last, halls)

    section = ScoresSection(
        available=bool(current),
        note=None if current else NO_SCORES,
        day=day,
        last_month_day=last_day,
        departments=table("department"),
        staff=table("staff"),
    )
    return section, {f.subject_id: f.score for f in current if f.kind == "department"}


def _metrics(
    lab: sections.Labeller, volume_rows: dict[int, tuple[int, int]], department_scores: dict[int, float]
) -> dict[int, DepartmentMetrics]:
    red = defaultdict(
        int, {dept: n for (_hall, dept), n in sections.red_signals(lab).items() if dept is not None}
    )
    found = {}
    for dept_id in set(volume_rows) | set(red) | set(department_scores):
        if dept_id not in lab.names.departments:
            continue
        code, name, hall_id = lab.names.departments[dept_id]
        if not lab.inside(hall_id):
            continue
        decided, on_time = volume_rows.get(dept_id, (0, 0))
        found[dept_id] = DepartmentMetrics(
            code=code,
            name=name,
            hall_code=lab.names.halls.get(hall_id, ("?", ""))[0],
            score=department_scores.get(dept_id),
            red_signals=red[dept_id],
            decided=decided,
            on_time_rate=sections.rate(on_time, decided),
        )
    return found


def assemble(
    facts: Facts, *, scope: Jurisdiction, scope_name: str, scope_level: str | None, computed_at: datetime
) -> MonthlyReportData:
    """The report of `scope` from facts gathered for it or for a jurisdiction containing it."""
    lab = sections.Labeller(facts, scope)
    score_section, department_scores = scores(lab)
    decided: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for fact in facts.cases:
        if lab.inside(fact.hall_id):
            decided[fact.department_id][0] += fact.decided
            decided[fact.department_id][1] += fact.on_time
    metrics = _metrics(lab, {d: (n, ok) for d, (n, ok) in decided.items()}, department_scores)
    month = facts.month
    return MonthlyReportData(
        month=month.text,
        scope_kind=scope_kind_text(scope),
        scope_code=scope.code,
        scope_name=scope_name,
        scope_level=scope_level,
        period_start=month.first,
        period_end=month.last,
        data_until=facts.until,
        complete=shanghai_date(computed_at) > month.last,
        computed_at=computed_at,
        volume=sections.volume(lab),
        lights=sections.lights(lab),
        signals=sections.signals(lab),
        investigations=sections.investigations(lab),
        ratings=sections.ratings(lab),
        absences=sections.absences(lab),
        patrols=sections.patrols(lab),
        scores=score_section,
        attention=departments_needing_attention(metrics),
    )


__all__ = ["NO_SCORES", "assemble", "gather", "report_data"]
