"""zh-CN labels of the dual-track judgement's codes (codes stay English in the API and the audit)."""

from __future__ import annotations

import logging

from central.dualtrack.rule import BaselineSource, Outcome

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

__all__ = ["OUTCOME_CLASSES", "OUTCOME_LABELS", "SOURCE_LABELS"]
