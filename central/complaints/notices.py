"""The written notice (书面告知书) a named complainant is given (SZ-14): the decision to accept, or
to refuse with the reasons, and later the outcome with the reply. The console prints it with the
full name (to be sent); the public status page shows it with the name masked."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from central.complaints.labels import ABOUT_LABELS, ComplaintStatus, outcome_label
from central.complaints.models import Complaint
from central.core.clock import shanghai_date
from common.masking import mask_person_name

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Letter:
    kind: str  # 受理告知书 | 不予受理告知书 | 投诉处理结果告知书
    number: str
    addressee: str
    hall: str
    about: str
    status: str
    received_on: str
    decided_on: str
    reasons: str | None
    decision_note: str | None
    outcome: str | None
    closed_on: str | None
    reply: str | None
    dated: str


def notice_letter(row: Complaint, *, full_name: bool) -> Letter | None:
    """The notice as things stand; None for an anonymous complaint (nobody to write to) and for one
    not decided yet."""
    if row.anonymous or row.complainant_name is None or row.decided_at is None:
        return None
    refused = row.status == ComplaintStatus.REFUSED
    closed = row.status == ComplaintStatus.CLOSED
    if refused:
        kind = "不予受理告知书"
    elif closed:
        kind = "投诉处理结果告知书"
    else:
        kind = "受理告知书"
    name = row.complainant_name if full_name else mask_person_name(row.complainant_name)
    last = row.closed_at if closed and row.closed_at else row.decided_at
    return Letter(
        kind=kind,
        number=row.number,
        addressee=name,
        hall=row.hall.name,
        about=ABOUT_LABELS[row.about],
        status=row.status,
        received_on=_day(row.received_on.isoformat()),
        decided_on=_day(shanghai_date(row.decided_at).isoformat()),
        reasons=row.decision_note if refused else None,
        decision_note=None if refused else row.decision_note,
        outcome=outcome_label(row.upheld) if closed else None,
        closed_on=_day(shanghai_date(row.closed_at).isoformat()) if closed and row.closed_at else None,
        reply=row.reply if closed else None,
        dated=_day(shanghai_date(last).isoformat()),
    )


def _day(iso: str) -> str:
    """2026-10-08 → 2026年10月8日."""
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"
