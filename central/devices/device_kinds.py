"""Which observation kinds each kind of device may post (a keypad's key cannot report camera health).

The edge agent speaks for its hall's keypads and cameras, so it may post every kind; a device with a
key of its own posts only what that device observes; a display only reads. A batch holding any kind
its device may not post is refused as a whole (403, nothing stored), naming the first such item.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, get_args

from central.registry.document import DeviceKind
from common.contract import Observation

logger = logging.getLogger(__name__)

KEYPAD_KINDS = frozenset({"keypad_press", "keypad_health"})
CAMERA_KINDS = frozenset({"camera_health", "presence", "absence", "visitor_count", "evidence", "clip"})
LIVE_KINDS = frozenset({"live_view"})  # the agent's live publisher's reports: only an edge agent has one
ALL_KINDS = KEYPAD_KINDS | CAMERA_KINDS | LIVE_KINDS

ALLOWED_KINDS: dict[str, frozenset[str]] = {
    "edge": ALL_KINDS,
    "keypad": KEYPAD_KINDS,
    "camera": CAMERA_KINDS,
    "display": frozenset(),
}


def observation_kinds() -> frozenset[str]:
    """Every kind the observation schema accepts (the `kind` literals of its union)."""
    union = get_args(Observation)[0]
    return frozenset(get_args(model.model_fields["kind"].annotation)[0] for model in get_args(union))


class KindNotAllowed(Exception):
    """An observation of a kind its device may not post; `detail` names which and why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def check_kinds(device_kind: str, observations: Sequence[Any]) -> None:
    """Raise KindNotAllowed for the first observation the device kind may not post."""
    allowed = ALLOWED_KINDS.get(device_kind, frozenset())
    for index, item in enumerate(observations):
        if item.kind not in allowed:
            may = ", ".join(sorted(allowed)) or "none"
            raise KindNotAllowed(
                f"observation {index} ({item.id!r}) is of kind {item.kind!r}, which a device of kind "
                f"{device_kind!r} may not post (it may post: {may}); nothing was stored"
            )


# The table covers every device kind and only known observation kinds (checked at import, and tested).
assert set(ALLOWED_KINDS) == set(get_args(DeviceKind)), "ALLOWED_KINDS must name every DeviceKind"
assert observation_kinds() == ALL_KINDS, "ALLOWED_KINDS must know every observation kind"
