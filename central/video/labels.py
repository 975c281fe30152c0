"""Codes of the video capability and their zh-CN labels (codes stay English in the API and audit)."""

from __future__ import annotations

import logging
from enum import StrEnum

logger = logging.getLogger(__name__)


class AbsenceStatus(StrEnum):
    PENDING = "pending"  # 待核实: reported by the camera, not yet looked at by an inspector
    CONFIRMED = "confirmed"  # 已确认: a signal was raised (SC-6.1, SZ-11)
    DISMISSED = "dismissed"  # 已排除: e.g. staff on an errand the hall approved; a reason is required


class WindowState(StrEnum):
    PRESENT = "present"
    SEAT_EMPTY = "seat_empty"  # 暂离: empty for less than the absence threshold
    ABSENT = "absent"
    OFF_HOURS = "off_hours"
    UNKNOWN = "unknown"
    CAMERA_OFFLINE = "camera_offline"  # never shown as live (SC-5(5))


ABSENCE_STATUS_LABELS: dict[str, str] = {
    AbsenceStatus.PENDING: "待核实",
    AbsenceStatus.CONFIRMED: "已确认",
    AbsenceStatus.DISMISSED: "已排除",
}
WINDOW_STATE_LABELS: dict[str, str] = {
    WindowState.PRESENT: "在岗",
    WindowState.SEAT_EMPTY: "暂离",
    WindowState.ABSENT: "离岗",
    WindowState.OFF_HOURS: "非工作时间",
    WindowState.UNKNOWN: "未知",
    WindowState.CAMERA_OFFLINE: "摄像机离线",
}
EVIDENCE_REASON_LABELS: dict[str, str] = {
    "absence_start": "离岗开始",
    "absence_end": "离岗结束",
    "manual": "手动抓拍",
}
