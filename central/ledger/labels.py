"""zh-CN labels for what the ledger (台帐, SC-7) shows: kinds of entry, colours, origins, findings.

Codes stay English everywhere else (API fields, audit entries); pages and exports translate them here.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from central.signals.lifecycle import ACTION_LABELS, FINDING_LABELS, STATUS_LABELS
from central.signals.reasons import REASONS, Color, Origin

logger = logging.getLogger(__name__)


class LedgerKind(StrEnum):
    """Where a ledger entry comes from (SC-7: every finding goes into the ledger)."""

    SIGNAL = "signal"
    FOLLOWUP = "followup"  # the follow-up of a 差评 (HCP): central.ratings
    FINDING = "finding"  # a video patrol's finding, whatever its review: central.patrols
    COMPLAINT = "complaint"  # a citizen's complaint, whatever became of it: central.complaints


# The issue of a signal is its row, not an event: the ledger names it like an action all the same.
ISSUE_ACTION = "issue"

KIND_LABELS: dict[str, str] = {
    LedgerKind.SIGNAL: "预警纠错",
    LedgerKind.FOLLOWUP: "差评回访整改",
    LedgerKind.FINDING: "视频巡查发现",
    LedgerKind.COMPLAINT: "群众投诉",
}
COLOR_LABELS: dict[str, str] = {Color.GREEN: "绿色预警", Color.YELLOW: "黄色纠错", Color.RED: "红色纠错"}
ORIGIN_LABELS: dict[str, str] = {
    Origin.LIGHT: "办件亮灯",
    Origin.DUE_DATE: "到期提醒",
    Origin.MANUAL: "人工发出",
    Origin.FOLLOWUP: "差评整改超期",
    Origin.VIDEO: "视频监察",
    Origin.PATROL: "视频巡查",
    Origin.COMPLAINT: "投诉逾期",
    Origin.SAMPLING: "抽样监察",
    Origin.DATA: "数据监察",
    Origin.DUAL_TRACK: "双轨运行研判",
}
SIGNAL_STATUS_LABELS: dict[str, str] = {status.value: text for status, text in STATUS_LABELS.items()}
SIGNAL_ACTION_LABELS: dict[str, str] = {
    ISSUE_ACTION: "发出",
    **{action.value: text for action, text in ACTION_LABELS.items()},
}
SIGNAL_FINDING_LABELS: dict[str, str] = {finding.value: text for finding, text in FINDING_LABELS.items()}
REASON_LABELS: dict[str, str] = {code: reason.label for code, reason in REASONS.items()}


def label(labels: dict[str, str], code: str | None) -> str:
    """The label of a code; an unknown code shows as itself (never hidden), a missing one as ''."""
    if code is None:
        return ""
    return labels.get(code, code)
