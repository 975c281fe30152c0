"""What a patrol may find at a window (issue 15 item 4): work discipline and service attitude
(RULES "Video patrols": 工作纪律、服务态度)."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Literal

logger = logging.getLogger(__name__)

FindingCategory = Literal["absent", "phone", "eating", "sleeping", "attitude", "dress", "other"]

CATEGORY_LABELS: dict[str, str] = {
    "absent": "离岗",
    "phone": "玩手机",
    "eating": "吃东西",
    "sleeping": "睡岗",
    "attitude": "服务态度",
    "dress": "着装",
    "other": "其他",
}


class FindingStatus(StrEnum):
    """A finding's review (central.patrols.review): a mistaken finding is dismissed, never deleted."""

    PENDING = "pending"
    CONFIRMED = "confirmed"  # a signal was raised (SC-9: it may be passed down for investigation)
    DISMISSED = "dismissed"  # with the reviewer's reason


FINDING_STATUS_LABELS: dict[str, str] = {
    FindingStatus.PENDING: "待认定",
    FindingStatus.CONFIRMED: "已确认",
    FindingStatus.DISMISSED: "不予认定",
}
