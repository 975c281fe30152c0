"""The signal lifecycle (SZ-13), pure: which action may move a signal from which status, and where.

issued → acknowledged (the department) → corrected; or escalated (a yellow not corrected in time,
or by an inspector) → investigating → closed with a finding of fault or no fault. An inspector may
also close a corrected signal after checking the correction, with a finding.
"""

from __future__ import annotations

from enum import StrEnum


class SignalStatus(StrEnum):
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    CORRECTED = "corrected"
    ESCALATED = "escalated"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


class SignalAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CORRECT = "correct"
    ESCALATE = "escalate"
    INVESTIGATE = "investigate"
    CLOSE = "close"


class Finding(StrEnum):
    FAULT = "fault"  # 有过错: accountability follows (SC-10)
    NO_FAULT = "no_fault"


S = SignalStatus
_MOVES: dict[SignalAction, tuple[frozenset[SignalStatus], SignalStatus]] = {
    SignalAction.ACKNOWLEDGE: (frozenset({S.ISSUED}), S.ACKNOWLEDGED),
    SignalAction.CORRECT: (frozenset({S.ISSUED, S.ACKNOWLEDGED}), S.CORRECTED),
    SignalAction.ESCALATE: (frozenset({S.ISSUED, S.ACKNOWLEDGED, S.CORRECTED}), S.ESCALATED),
    SignalAction.INVESTIGATE: (
        frozenset({S.ISSUED, S.ACKNOWLEDGED, S.CORRECTED, S.ESCALATED}),
        S.INVESTIGATING,
    ),
    SignalAction.CLOSE: (frozenset({S.CORRECTED, S.INVESTIGATING}), S.CLOSED),
}
OPEN_SIGNAL_STATUSES = frozenset(set(SignalStatus) - {S.CLOSED})
# Statuses in which a yellow signal still waits for its correction (and so may turn red).
AWAITING_CORRECTION = frozenset({S.ISSUED, S.ACKNOWLEDGED})

STATUS_LABELS = {
    S.ISSUED: "已发出",
    S.ACKNOWLEDGED: "已签收",
    S.CORRECTED: "已纠正",
    S.ESCALATED: "已升级",
    S.INVESTIGATING: "调查中",
    S.CLOSED: "已办结",
}
ACTION_LABELS = {
    SignalAction.ACKNOWLEDGE: "签收",
    SignalAction.CORRECT: "报告纠正",
    SignalAction.ESCALATE: "升级",
    SignalAction.INVESTIGATE: "立案调查",
    SignalAction.CLOSE: "办结",
}
FINDING_LABELS = {Finding.FAULT: "有过错", Finding.NO_FAULT: "无过错"}


class SignalTransitionError(ValueError):
    """An action the signal's status does not allow, with a reason a person can act on."""


def next_status(status: SignalStatus, action: SignalAction) -> SignalStatus:
    allowed, target = _MOVES[action]
    if status not in allowed:
        raise SignalTransitionError(
            f"a signal that is {status.value} cannot be {action.value}d; "
            f"allowed from: {', '.join(sorted(s.value for s in allowed))}"
        )
    return target


def allowed_actions(status: SignalStatus) -> list[SignalAction]:
    return [action for action, (allowed, _target) in _MOVES.items() if status in allowed]
