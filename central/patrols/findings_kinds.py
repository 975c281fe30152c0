"""What a patrol may find at a window (issue 15 item 4): work discipline and service attitude
(RULES "Video patrols": 工作纪律、服务态度)."""

from __future__ import annotations

import logging
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
