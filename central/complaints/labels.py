"""The codes of a complaint (status, what it is about, channel) and their zh-CN labels."""

from __future__ import annotations

import logging
from enum import StrEnum

logger = logging.getLogger(__name__)


class ComplaintStatus(StrEnum):
    RECEIVED = "received"  # waiting for the decision to accept or refuse (SZ-14)
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CLOSED = "closed"  # accepted, handled, answered


class ComplaintAbout(StrEnum):
    CASE = "case"
    WINDOW = "window"
    STAFF = "staff"
    DEPARTMENT = "department"
    HALL = "hall"


class Channel(StrEnum):
    ONLINE = "online"  # the public page or API
    KIOSK = "kiosk"  # the hall's touchscreen


STATUS_LABELS: dict[str, str] = {
    ComplaintStatus.RECEIVED: "待受理",
    ComplaintStatus.ACCEPTED: "已受理，处理中",
    ComplaintStatus.REFUSED: "不予受理",
    ComplaintStatus.CLOSED: "已办结",
}
ABOUT_LABELS: dict[str, str] = {
    ComplaintAbout.CASE: "办件",
    ComplaintAbout.WINDOW: "窗口",
    ComplaintAbout.STAFF: "工作人员",
    ComplaintAbout.DEPARTMENT: "部门",
    ComplaintAbout.HALL: "服务中心",
}
CHANNEL_LABELS: dict[str, str] = {Channel.ONLINE: "网上投诉", Channel.KIOSK: "大厅触摸屏"}
OUTCOME_LABELS: dict[bool, str] = {True: "投诉属实", False: "投诉不属实"}
# What the ledger (and the audit entries) call the steps of a complaint.
RECEIVE_ACTION = "receive"
ACTION_LABELS: dict[str, str] = {
    RECEIVE_ACTION: "收到投诉",
    "accept": "受理",
    "refuse": "不予受理",
    "assign": "交办调查",
    "close": "办结答复",
}


def outcome_label(upheld: bool | None) -> str:
    return "" if upheld is None else OUTCOME_LABELS[upheld]
