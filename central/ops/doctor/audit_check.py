"""Are the audit chain's signed checkpoints recent, and does the chain agree with the newest?

`serve` signs the chain's head every `audit_checkpoint_interval_seconds` into a directory outside the
database (`central.audit.checkpoint`); a checkpoint that stopped coming leaves the newest entries
without a signature, so a rewritten tail would pass `audit verify`. A checkpoint is only written
when the head moved: an old one over a chain that has not grown since is fine."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.checkpoint import Checkpoint, CheckpointError, latest_checkpoint, load_checkpoints
from central.audit.models import HEAD_ID, AuditEntry, AuditHead
from central.audit.signing import SigningKeyError, load_private_key
from central.core.config import Settings
from central.ops.doctor.limits import DoctorLimits
from central.ops.report import Check, Status, age, local_time

logger = logging.getLogger(__name__)

TITLE = "审计检查点 audit checkpoints"
DEFAULT_INTERVAL_SECONDS = 3600  # when serve does not sign (interval 0), a cron job is expected hourly


def max_age(settings: Settings, limits: DoctorLimits) -> timedelta:
    if limits.checkpoint_max_age_minutes is not None:
        return timedelta(minutes=limits.checkpoint_max_age_minutes)
    return 2 * timedelta(seconds=settings.audit_checkpoint_interval_seconds or DEFAULT_INTERVAL_SECONDS)


def check_checkpoints(
    settings: Settings, session: Session | None, *, now: datetime, limits: DoctorLimits, production: bool
) -> Check:
    """`session` None: the database could not be read, so only the files are looked at."""
    directory, key_path = settings.audit_checkpoint_dir, settings.audit_signing_key
    if directory is None or key_path is None:
        return _not_configured(production)
    try:
        public = load_private_key(key_path).public_key()
    except SigningKeyError as exc:
        hint = "修正 HALLWATCH_AUDIT_SIGNING_KEY 指向的密钥文件 (属主可读, chmod 600) — fix the key file"
        return Check(
            "audit_checkpoints", TITLE, Status.ERROR, f"签名密钥不可用 signing key unusable: {exc}", hint=hint
        )
    newest = latest_checkpoint(directory)
    if newest is None:
        return Check(
            "audit_checkpoints",
            TITLE,
            Status.ERROR,
            f"还没有检查点 no checkpoint in {directory}",
            hint=_signing_hint(settings),
        )
    try:
        load_checkpoints(directory / newest.file_name, public)
    except CheckpointError as exc:
        hint = "检查点目录被改动或换了密钥: hallwatch audit verify --checkpoint DIR --public-key KEY.pub — investigate"
        return Check(
            "audit_checkpoints", TITLE, Status.ERROR, f"最新检查点不可信 newest refused: {exc}", hint=hint
        )
    signed = f"最新检查点 newest: seq {newest.seq}, {age(now - newest.at)}前 ({local_time(newest.at)})"
    if session is None:
        return Check("audit_checkpoints", TITLE, Status.OK, signed)
    head_seq, disagreement = _against_chain(session, newest)
    if disagreement is not None:
        hint = (
            "审计链可能被改写: hallwatch audit verify --checkpoint DIR --public-key KEY.pub, 并从备份核对 — "
            "the chain may have been rewritten: verify it against the checkpoints and a backup"
        )
        return Check("audit_checkpoints", TITLE, Status.ERROR, f"{signed}; {disagreement}", hint=hint)
    if head_seq > newest.seq and now - newest.at > max_age(settings, limits):
        summary = (
            f"{signed}; 链头已到 seq {head_seq}, 超过 {age(max_age(settings, limits))}未签名 — "
            f"entries after seq {newest.seq} unsigned for longer than allowed"
        )
        return Check("audit_checkpoints", TITLE, Status.ERROR, summary, hint=_signing_hint(settings))
    return Check("audit_checkpoints", TITLE, Status.OK, f"{signed}; 链头 head seq {head_seq}")


def _not_configured(production: bool) -> Check:
    summary = "未配置签名检查点 not configured (HALLWATCH_AUDIT_CHECKPOINT_DIR)"
    if not production:
        return Check(
            "audit_checkpoints", TITLE, Status.OK, f"{summary}: SQLite 部署 (演示/测试) demo or test"
        )
    hint = (
        "生成密钥 hallwatch audit keygen /etc/hallwatch/audit.key, 设置 HALLWATCH_AUDIT_CHECKPOINT_DIR (数据库管理员"
        "不能改写的目录) 与 HALLWATCH_AUDIT_SIGNING_KEY — make a key and set both, so a rewritten chain is caught"
    )
    return Check("audit_checkpoints", TITLE, Status.WARNING, summary, hint=hint)


def _signing_hint(settings: Settings) -> str:
    if settings.audit_checkpoint_interval_seconds > 0:
        every = f"serve 每 {settings.audit_checkpoint_interval_seconds} 秒签一次"
        return (
            f"{every}: 查看 serve 的日志, 确认目录可写、密钥可读; 立即签一次: hallwatch audit checkpoint — serve signs "
            "on a schedule: read its log, check the directory and key; sign now with hallwatch audit checkpoint"
        )
    return (
        "间隔为 0, 应由定时任务运行 hallwatch audit checkpoint: 检查 cron/systemd timer — the interval is 0, so a "
        "cron job or timer must run hallwatch audit checkpoint: check it"
    )


def _against_chain(session: Session, newest: Checkpoint) -> tuple[int, str | None]:
    """The chain's head seq, and what is wrong if the chain does not agree with `newest`."""
    head = session.execute(select(AuditHead.seq).where(AuditHead.id == HEAD_ID)).scalar()
    head_seq = int(head or 0)
    if newest.seq > head_seq:
        return head_seq, f"链头 seq {head_seq} 短于检查点 the chain is shorter than the checkpoint (cut off?)"
    if newest.seq == 0:
        return head_seq, None
    stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == newest.seq).limit(1))
    if stored != newest.head_hash:
        return head_seq, f"seq {newest.seq} 的哈希与检查点不符 does not hash to the signed head"
    return head_seq, None
