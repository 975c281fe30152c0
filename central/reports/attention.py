"""需要关注的部门: the departments of a report's scope that the leadership should look at first.

The rule (shown on the page and in the PDF as `RULE_ZH`): a department is listed when it is
* among the `PER_RULE` lowest month scores of the scope's departments (when scores exist), or
* among the `PER_RULE` with the most red signals in the month — raised red, or raised yellow and
  escalated (turned red) in the month — counting only departments with at least one, or
* among the `PER_RULE` lowest on-time rates, counting only departments that decided at least
  `MIN_DECIDED` cases in the month (a rate over two cases says little) and missed at least one.
A department that several rules name is listed once, with every reason; those with more reasons
come first, then the lower score, the more red signals, the lower on-time rate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from central.reports.schemas import AttentionRow, AttentionSection

logger = logging.getLogger(__name__)

PER_RULE = 3
MIN_DECIDED = 5
RULE_ZH = (
    f"列入条件（满足任一项）：本月绩效得分最低的 {PER_RULE} 个部门；"
    f"本月红色纠错最多的 {PER_RULE} 个部门（直接发出的红色纠错与本月升级为红色的黄色纠错，至少 1 件）；"
    f"按时办结率最低的 {PER_RULE} 个部门（本月办结至少 {MIN_DECIDED} 件且有超期）。"
    "同时满足多项的排在前面。"
)


@dataclass(frozen=True)
class DepartmentMetrics:
    code: str
    name: str
    hall_code: str
    score: float | None
    red_signals: int
    decided: int
    on_time_rate: float | None


def _bottom(candidates: list[tuple[float, str]]) -> set[str]:
    return {code for _value, code in sorted(candidates)[:PER_RULE]}


def departments_needing_attention(metrics: Mapping[int, DepartmentMetrics]) -> AttentionSection:
    """Apply the rule above to the scope's departments (keyed by id)."""
    rows = list(metrics.values())
    lowest_score = _bottom([(m.score, m.code) for m in rows if m.score is not None])
    most_red = _bottom([(-m.red_signals, m.code) for m in rows if m.red_signals > 0])
    lowest_on_time = _bottom(
        [
            (m.on_time_rate, m.code)
            for m in rows
            if m.on_time_rate is not None and m.decided >= MIN_DECIDED and m.on_time_rate < 1
        ]
    )
    listed = []
    for m in rows:
        reasons = []
        if m.code in lowest_score:
            reasons.append(f"绩效得分偏低（{m.score:.1f} 分）")
        if m.code in most_red:
            reasons.append(f"红色纠错较多（{m.red_signals} 件）")
        if m.code in lowest_on_time and m.on_time_rate is not None:
            reasons.append(f"按时办结率偏低（{m.on_time_rate * 100:.1f}%）")
        if reasons:
            listed.append(
                AttentionRow(
                    code=m.code,
                    name=m.name,
                    hall_code=m.hall_code,
                    reasons=reasons,
                    score=m.score,
                    red_signals=m.red_signals,
                    on_time_rate=m.on_time_rate,
                )
            )
    listed.sort(
        key=lambda r: (
            -len(r.reasons),
            r.score if r.score is not None else float("inf"),
            -r.red_signals,
            r.on_time_rate if r.on_time_rate is not None else 2.0,
            r.code,
        )
    )
    return AttentionSection(rule=RULE_ZH, rows=listed)


__all__ = ["MIN_DECIDED", "PER_RULE", "RULE_ZH", "DepartmentMetrics", "departments_needing_attention"]
