"""Event builders shared by case tests."""

from __future__ import annotations

from typing import Any

HALL = "510000-ZWFW"
ITEM = "SCJGJ-XK-001"  # promised 10, legal 20 working days


def ev(event_id: str, case_no: str, kind: str, at: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": event_id,
        "case_no": case_no,
        "type": kind,
        "at": at,
        "item_code": ITEM,
        "hall_code": HALL,
    }
    event.update(extra)
    return event
