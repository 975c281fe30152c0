"""The follow-up step forms of the console (回访 / 整改 / 办结): plain form fields checked with
Chinese messages, then the same service functions as the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.core.clock import ensure_aware, to_utc
from central.core.types import DATE_RANGE_ZH, DateOutOfRange, check_moment
from central.ratings.followups import FollowUpError, close_followup, record_callback, record_rectification
from central.ratings.schemas import TEXT_MAX, CallbackIn, CloseIn, RectifyIn

logger = logging.getLogger(__name__)


class FormProblem(ValueError):
    """A form field a person has to fix (400)."""


def _text(fields: dict[str, str], name: str, *, label: str, max_length: int, required: bool) -> str | None:
    value = (fields.get(name) or "").strip()
    if required and not value:
        raise FormProblem(f"请填写{label}。")
    if len(value) > max_length:
        raise FormProblem(f"{label}过长：最多 {max_length} 个字符。")
    return value or None


def _moment(value: str | None) -> datetime | None:
    """A datetime-local value (Shanghai wall time, to the minute), or None when left empty."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        raise FormProblem(f"回访时间格式无效：“{value[:40]}”，应为 YYYY-MM-DDTHH:MM（北京时间）。") from None
    try:
        return to_utc(check_moment(moment))
    except DateOutOfRange:
        raise FormProblem(f"回访时间超出范围：“{value[:40]}”，{DATE_RANGE_ZH}。") from None


def _level(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if value not in {"1", "2", "3", "4", "5"}:
        raise FormProblem(f"复评等级无效：“{value[:40]}”，应为 1 到 5（或不填）。")
    return int(value)


def _callback(
    session: Session, principal: Principal, followup_id: int, fields: dict[str, str], now: datetime
) -> None:
    result = _text(fields, "result", label="回访结果", max_length=TEXT_MAX, required=True)
    body = CallbackIn(
        result=result or "",
        called_by=_text(fields, "called_by", label="回访人", max_length=120, required=False),
        called_at=_moment(fields.get("called_at")),
    )
    record_callback(session, principal=principal, followup_id=followup_id, body=body, now=now)


def _rectify(
    session: Session, principal: Principal, followup_id: int, fields: dict[str, str], now: datetime
) -> None:
    text = _text(fields, "rectification", label="整改情况", max_length=TEXT_MAX, required=True)
    body = RectifyIn(rectification=text or "")
    record_rectification(session, principal=principal, followup_id=followup_id, body=body, now=now)


def _close(
    session: Session, principal: Principal, followup_id: int, fields: dict[str, str], now: datetime
) -> None:
    body = CloseIn(rerating_level=_level(fields.get("rerating_level")))
    close_followup(session, principal=principal, followup_id=followup_id, body=body, now=now)


StepForm = Callable[[Session, Principal, int, dict[str, str], datetime], None]
STEP_FORMS: dict[str, StepForm] = {"callback": _callback, "rectify": _rectify, "close": _close}


def run_step(
    session: Session,
    *,
    principal: Principal,
    followup_id: int,
    step: str,
    fields: dict[str, str],
    now: datetime,
) -> tuple[str | None, int]:
    """Take one step from a form: (None, 200) when done (the caller commits), else the Chinese
    message and status code to show above the forms (the caller rolls back)."""
    try:
        STEP_FORMS[step](session, principal, followup_id, fields, now)
    except FormProblem as problem:
        return str(problem), 400
    except FollowUpError as exc:
        return exc.zh, exc.status_code
    return None, 200


__all__ = ["STEP_FORMS", "FormProblem", "run_step"]
