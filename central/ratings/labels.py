"""Codes and zh-CN labels of ratings and their follow-ups (HCP), shared by the API, pages, exports
and the ledger. Kept free of heavy imports so that `central.ledger` can use them."""

from __future__ import annotations

import logging
from enum import StrEnum

logger = logging.getLogger(__name__)

# RULES "Satisfaction ratings": five levels, 5 非常满意 … 1 非常不满意 (国办发〔2019〕51号).
LEVEL_LABELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

CHANNEL_LABELS: dict[str, str] = {
    "window_device": "窗口评价器",
    "pad": "平板",
    "web": "网站",
    "app": "移动端",
    "sms": "短信",
    "qr": "二维码",
}


class FollowUpStatus(StrEnum):
    """open → called_back (回访) → rectified (整改) → closed (optional re-rating)."""

    OPEN = "open"
    CALLED_BACK = "called_back"
    RECTIFIED = "rectified"
    CLOSED = "closed"


class FollowUpStep(StrEnum):
    CALLBACK = "callback"
    RECTIFY = "rectify"
    CLOSE = "close"


# Which status each step starts from and leads to.
STEP_MOVES: dict[FollowUpStep, tuple[FollowUpStatus, FollowUpStatus]] = {
    FollowUpStep.CALLBACK: (FollowUpStatus.OPEN, FollowUpStatus.CALLED_BACK),
    FollowUpStep.RECTIFY: (FollowUpStatus.CALLED_BACK, FollowUpStatus.RECTIFIED),
    FollowUpStep.CLOSE: (FollowUpStatus.RECTIFIED, FollowUpStatus.CLOSED),
}
# Not yet rectified: such a follow-up past its deadline is overdue.
UNRECTIFIED: frozenset[str] = frozenset({FollowUpStatus.OPEN.value, FollowUpStatus.CALLED_BACK.value})

FOLLOWUP_STATUS_LABELS: dict[str, str] = {
    FollowUpStatus.OPEN: "待回访",
    FollowUpStatus.CALLED_BACK: "已回访",
    FollowUpStatus.RECTIFIED: "已整改",
    FollowUpStatus.CLOSED: "已办结",
}
STEP_LABELS: dict[str, str] = {
    FollowUpStep.CALLBACK: "回访",
    FollowUpStep.RECTIFY: "整改",
    FollowUpStep.CLOSE: "办结",
}
OPEN_ACTION = "open"  # the opening of a follow-up, named like a step in the ledger
FOLLOWUP_ACTION_LABELS: dict[str, str] = {OPEN_ACTION: "立案", **STEP_LABELS}


def level_label(level: int | None) -> str:
    if level is None:
        return ""
    return LEVEL_LABELS.get(level, str(level))


def channel_label(channel: str | None) -> str:
    if channel is None:
        return ""
    return CHANNEL_LABELS.get(channel, channel)


__all__ = [
    "CHANNEL_LABELS",
    "FOLLOWUP_ACTION_LABELS",
    "FOLLOWUP_STATUS_LABELS",
    "LEVEL_LABELS",
    "OPEN_ACTION",
    "STEP_LABELS",
    "STEP_MOVES",
    "UNRECTIFIED",
    "FollowUpStatus",
    "FollowUpStep",
    "channel_label",
    "level_label",
]
