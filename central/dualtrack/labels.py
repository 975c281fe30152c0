"""zh-CN labels of the dual-track judgement's codes (codes stay English in the API and the audit)."""

from __future__ import annotations

import logging

from central.dualtrack.rule import BaselineSource, Method, Outcome

logger = logging.getLogger(__name__)

OUTCOME_LABELS: dict[str, str] = {
    Outcome.FLAGGED: "疑似体外循环",
    Outcome.CLEAR: "未见异常",
    Outcome.LOW_VOLUME: "来访过少，未研判",
}
OUTCOME_CLASSES: dict[str, str] = {
    Outcome.FLAGGED: "badge-warn",
    Outcome.CLEAR: "badge-ok",
    Outcome.LOW_VOLUME: "badge-grey",
}
SOURCE_LABELS: dict[str, str] = {
    BaselineSource.HISTORY: "本窗口平常未登记比例",
    BaselineSource.CAPPED: "允许比例（本窗口平常比例超出允许比例）",
    BaselineSource.ALLOWANCE: "允许比例（本窗口历史研判不足）",
}

# What the judgement's "visits", "cases" and their difference are, by method.
METHOD_LABELS: dict[str, dict[str, str]] = {
    Method.VISITS: {
        "name": "逐次来访比对（办理时长来访与在场时段的办件登记）",
        "visits": "办理时长来访",
        "cases": "其中有办件登记",
        "excess": "无任何登记",
        "unit": "人次",
    },
    Method.COUNTS: {
        "name": "按小时计数比对（来访人次与登记办件数）",
        "visits": "来访",
        "cases": "登记办件",
        "excess": "未登记",
        "unit": "件",
    },
}

__all__ = ["METHOD_LABELS", "OUTCOME_CLASSES", "OUTCOME_LABELS", "SOURCE_LABELS"]
