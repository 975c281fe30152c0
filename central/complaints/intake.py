"""A complaint as it arrives (multipart/form-data from the public page, the kiosk or the API): the
form read with bounds, the fields validated with zh-CN messages, the anti-abuse checks, the
attachments checked by their bytes, then stored — all or nothing. Shared by the API and the page."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from central.complaints.attachments import AttachmentLimits, AttachmentRefused, check_attachment
from central.complaints.guard import (
    ChallengeFailed,
    SubmissionsRefused,
    admit_submission,
    challenge_secret,
    check_answer,
    count_submission,
)
from central.complaints.labels import Channel
from central.complaints.schemas import ComplaintIn
from central.complaints.service import ComplaintInputError, Receipt, receive_complaint
from central.core.actor import Actor
from central.core.config import Settings
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

ATTACHMENTS = "attachments"
FIELD_LABELS = {
    "hall": "服务中心",
    "about": "投诉对象",
    "case_no": "办件编号",
    "window": "窗口",
    "staff": "工作人员工号",
    "department": "部门",
    "content": "投诉内容",
    "anonymous": "是否匿名",
    "name": "姓名",
    "phone": "联系电话",
    "challenge": "验证题",
    "answer": "验证题答案",
}
_FIELD_BYTES = 64 * 1024  # a text field's part: the content's 5,000 characters fit many times


class SubmissionError(Exception):
    """The complaint is not taken: `status` the HTTP answer, `message` zh-CN for the person."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


@dataclass(frozen=True)
class Sender:
    """Who sends a complaint, for the checks and the record. A person on the public page or API is
    counted by address; a hall's kiosk (a display agent showing its device key) is shared by everyone
    in the hall, so it is counted as one kiosk against a larger number (one person cannot hold the
    hall's kiosk for long: each complaint still needs its own answered question), may speak only for
    its own hall, and carries no attachments (nobody plugs a phone into it)."""

    channel: Channel
    source: str  # the count's key: the address, or device:<code>
    per_hour: int
    actor: Actor  # who the audit trail says received it
    hall: str | None = None  # a kiosk's hall: the only one its complaints may be about
    attachments: bool = True


def online_sender(settings: Settings, *, address: str) -> Sender:
    return Sender(
        channel=Channel.ONLINE,
        source=address,
        per_hour=settings.complaint_submissions_per_hour,
        actor=Actor(kind="anonymous", name="complainant", remote_addr=address),
    )


def kiosk_sender(settings: Settings, *, device_code: str, hall_code: str, address: str) -> Sender:
    return Sender(
        channel=Channel.KIOSK,
        source=f"device:{device_code}",
        per_hour=settings.complaint_kiosk_submissions_per_hour,
        actor=Actor(kind="device", name=device_code, remote_addr=address),
        hall=hall_code,
        attachments=False,
    )


@dataclass
class SentForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str | None, bytes]] = field(default_factory=list)  # name, declared type, bytes


def limits_of(settings: Settings) -> AttachmentLimits:
    return AttachmentLimits(
        max_count=settings.complaint_attachments_max,
        max_bytes=settings.complaint_attachment_max_bytes,
        max_pixels=settings.complaint_image_max_pixels,
    )


async def read_form(request: Request, *, limits: AttachmentLimits) -> SentForm:
    """The fields (text) and attachments (at most max_count, each read up to its limit + 1 byte)."""
    try:
        form = await request.form(
            max_files=limits.max_count + 1, max_fields=len(FIELD_LABELS) + 4, max_part_size=_FIELD_BYTES
        )
    except StarletteHTTPException as exc:  # starlette's own answer to a malformed or oversized form
        raise SubmissionError(400, f"表单无法读取：{exc.detail}") from exc
    sent = SentForm()
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name != ATTACHMENTS:
                raise SubmissionError(422, f"未知的上传字段“{name[:40]}”：附件请用 {ATTACHMENTS}。")
            data = await value.read(limits.max_bytes + 1)
            if not data and not value.filename:
                continue  # a file input left empty: browsers still send its part
            sent.files.append((value.filename or "", value.content_type, data))
        elif name in sent.fields:
            raise SubmissionError(422, f"字段“{FIELD_LABELS.get(name, name[:40])}”重复。")
        elif "\x00" in value:  # PostgreSQL stores no NUL in text: say so rather than fail later
            raise SubmissionError(422, f"字段“{FIELD_LABELS.get(name, name[:40])}”含有无效字符。")
        elif name != "csrf_token":  # a console-signed-in browser's form may carry it
            sent.fields[name] = value
    if len(sent.files) > limits.max_count:
        raise SubmissionError(400, f"附件过多：最多 {limits.max_count} 个。")
    return sent


def describe(exc: ValidationError) -> str:
    """The form's problems in Chinese, field by field."""
    problems = []
    for error in exc.errors()[:10]:
        name = str(error["loc"][0]) if error["loc"] else ""
        label = FIELD_LABELS.get(name, name[:40])
        kind, ctx = error["type"], error.get("ctx") or {}
        if kind == "missing":
            text = f"请填写{label}"
        elif kind == "string_too_short":
            text = f"{label}至少 {ctx.get('min_length')} 个字"
        elif kind == "string_too_long":
            text = f"{label}最多 {ctx.get('max_length')} 个字"
        elif kind == "extra_forbidden":
            text = f"未知字段“{label}”"
        elif kind == "value_error":
            text = str(ctx.get("error", error["msg"]))
        else:
            text = f"{label}无效"
        problems.append(text)
    return "；".join(problems) + "。"


def parse_body(fields: dict[str, str]) -> ComplaintIn:
    try:
        return ComplaintIn.model_validate(fields)
    except ValidationError as exc:
        raise SubmissionError(422, describe(exc)) from exc


def _store(
    session: Session,
    *,
    sent: SentForm,
    body: ComplaintIn,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    sender: Sender,
) -> Receipt:
    try:
        admit_submission(session, source=sender.source, now=now)
        check_answer(
            session, secret=challenge_secret(settings), token=body.challenge, answer=body.answer, now=now
        )
        limits = limits_of(settings)
        checked = [
            check_attachment(filename=name, declared=declared, data=data, limits=limits)
            for name, declared, data in sent.files
        ]
        receipt = receive_complaint(
            session,
            body=body,
            attachments=checked,
            channel=sender.channel,
            actor=sender.actor,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
        count_submission(session, source=sender.source, now=now, per_hour=sender.per_hour)
    except SubmissionsRefused as exc:
        minutes = max(1, (exc.retry_after + 59) // 60)
        who = "本触摸屏" if sender.channel is Channel.KIOSK else ""
        raise SubmissionError(
            429, f"{who}提交过于频繁，请 {minutes} 分钟后再试。", retry_after=exc.retry_after
        ) from exc
    except ChallengeFailed as exc:
        raise SubmissionError(400, exc.message) from exc
    except AttachmentRefused as exc:
        raise SubmissionError(exc.status, exc.message) from exc
    except ComplaintInputError as exc:
        raise SubmissionError(422, str(exc)) from exc
    session.commit()
    return receipt


def _check_sender(sender: Sender, *, sent: SentForm, body: ComplaintIn) -> None:
    """What a kiosk may not send, refused before the question is spent."""
    if sender.hall is not None and body.hall != sender.hall:
        raise SubmissionError(403, "本触摸屏只能提交对本服务中心的投诉。")
    if not sender.attachments and sent.files:
        raise SubmissionError(422, "触摸屏投诉不能附带附件；如需提交材料，请使用网上投诉页面。")


async def submit(
    request: Request,
    session: Session,
    *,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    sender: Sender,
) -> Receipt:
    """Read, check and store one complaint; raises SubmissionError (and rolls back) when it is not
    taken. The sender's complaints are counted (its hourly number: `Sender`). The checks that decode
    files run off the event loop."""
    sent = await read_form(request, limits=limits_of(settings))
    body = parse_body(sent.fields)
    _check_sender(sender, sent=sent, body=body)
    try:
        return await run_in_threadpool(
            _store,
            session,
            sent=sent,
            body=body,
            settings=settings,
            calendar=calendar,
            now=now,
            sender=sender,
        )
    except SubmissionError:
        session.rollback()
        raise


def challenge_ttl(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.complaint_challenge_minutes)
