"""Evidence access (SC-18) and retention: who may see a snapshot, and when it goes.

* The approvals of kinds `evidence_view` / `evidence_export` name an evidence id (`str(Evidence.id)`);
  importing this module plugs `locate_evidence` into `central.approvals.evidence`, so a request is
  placed at the evidence's hall and department and an unknown id is not found.
* Metadata: anyone with `signals.supervise` whose jurisdiction covers the evidence.
* The JPEG: only with an approved, unexpired grant for this user (`has_evidence_access`); an
  export (download) needs an export grant. Every view and download is audited; 403s are audited by
  the app's refusal handler.
* Retention: a snapshot expires `presence.evidence_retention_days` after it was taken. Expired, it
  answers 410 Gone at once; `purge_expired_evidence` (the CLI and the background signal loop) deletes
  its bytes and keeps the metadata row with `purged_at`, one audit entry per run that purged any.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.access.roles import Permission
from central.approvals.evidence import EvidenceOwner, has_evidence_access, set_evidence_locator
from central.audit.chain import record
from central.core.actor import Actor
from central.registry.jurisdiction import Jurisdiction
from central.video.errors import VideoError
from central.video.models import Evidence, EvidenceImage

logger = logging.getLogger(__name__)

RETENTION_ACTOR = Actor(kind="system", name="evidence-retention")
PURGE_CHUNK = 500
MAX_ID = 2**62


def locate_evidence(session: Session, evidence_id: str) -> EvidenceOwner | None:
    """The hall and department of a stored snapshot (None: no such evidence)."""
    if not (evidence_id.isascii() and evidence_id.isdigit()) or not 1 <= int(evidence_id) <= MAX_ID:
        return None
    row = session.execute(
        select(Evidence.hall_id, Evidence.department_id).where(Evidence.id == int(evidence_id))
    ).first()
    return EvidenceOwner(hall_id=row.hall_id, department_id=row.department_id) if row else None


set_evidence_locator(locate_evidence)


def not_found(evidence_id: int) -> VideoError:
    return VideoError(
        404, f"no evidence #{evidence_id}", f"没有编号为 #{evidence_id} 的证据，或不在您的辖区内。"
    )


def visible_evidence(session: Session, *, evidence_id: int, within: Jurisdiction) -> Evidence:
    evidence = session.scalars(
        select(Evidence).where(
            Evidence.id == evidence_id,
            within.clause(hall_id=Evidence.hall_id, department_id=Evidence.department_id),
        )
    ).first()
    if evidence is None:
        raise not_found(evidence_id)
    return evidence


def is_gone(evidence: Evidence, now: datetime) -> bool:
    return evidence.purged_at is not None or evidence.expires_at <= now


def gone(evidence: Evidence) -> VideoError:
    return VideoError(
        410,
        f"evidence #{evidence.id} expired at {evidence.expires_at.isoformat()} and is deleted",
        f"证据 #{evidence.id} 已超过保存期限（{evidence.expires_at:%Y-%m-%d}），已删除。",
    )


def evidence_for_supervisor(
    session: Session, *, evidence_id: int, principal: Principal, now: datetime
) -> Evidence:
    """The metadata of a snapshot for an inspector of its jurisdiction (410 once expired)."""
    if not principal.may(Permission.SIGNALS_SUPERVISE):
        raise VideoError(
            403, f"your role ({principal.role.value}) may not look at evidence", "您的角色无权查看证据信息。"
        )
    evidence = visible_evidence(session, evidence_id=evidence_id, within=principal.jurisdiction)
    if is_gone(evidence, now):
        raise gone(evidence)
    return evidence


def may_view(session: Session, *, evidence_id: int, principal: Principal, now: datetime) -> bool:
    return has_evidence_access(
        session, user_id=principal.user_id, evidence_id=str(evidence_id), export=False, now=now
    )


def evidence_image(
    session: Session, *, evidence_id: int, principal: Principal, export: bool, now: datetime
) -> tuple[Evidence, bytes]:
    """The bytes of a snapshot (JPEG) or clip (WebM: `Evidence.media_type`) for a user holding a
    grant, audited (the caller commits)."""
    evidence = visible_evidence(session, evidence_id=evidence_id, within=principal.jurisdiction)
    if is_gone(evidence, now):
        raise gone(evidence)
    kind = "导出" if export else "查看"
    if not has_evidence_access(
        session, user_id=principal.user_id, evidence_id=str(evidence_id), export=export, now=now
    ):
        raise VideoError(
            403,
            f"{'exporting' if export else 'viewing'} evidence #{evidence_id} needs an approved "
            f"evidence_{'export' if export else 'view'} request (SC-18)",
            f"{kind}证据 #{evidence_id} 须经本级监察机关审批（SC-18）：请先提交“{kind}证据”申请，批准后再{kind}。",
        )
    jpeg = session.scalar(select(EvidenceImage.jpeg).where(EvidenceImage.evidence_id == evidence.id))
    if jpeg is None:  # purged by another instance a moment ago
        raise gone(evidence)
    record(
        session,
        actor=principal.actor,
        action="evidence.export" if export else "evidence.view",
        target_type="evidence",
        target_id=str(evidence.id),
        after={"sha256": evidence.sha256, "bytes": len(jpeg), "window_id": evidence.window_id},
        at=now,
    )
    return evidence, jpeg


def purge_expired_evidence(session: Session, *, now: datetime, actor: Actor = RETENTION_ACTOR) -> int:
    """Delete the bytes of every snapshot past its retention; returns how many, and commits nothing.

    Marks rows `purged_at` first (``UPDATE … WHERE purged_at IS NULL RETURNING id``): of two purges
    at once, each row is claimed by one, which deletes its bytes and counts it.
    """
    purged: list[int] = []
    while True:
        candidates = list(
            session.scalars(
                select(Evidence.id)
                .where(Evidence.purged_at.is_(None), Evidence.expires_at <= now)
                .order_by(Evidence.id)
                .limit(PURGE_CHUNK)
            )
        )
        if not candidates:
            break
        claimed = list(
            session.scalars(
                update(Evidence)
                .where(Evidence.id.in_(candidates), Evidence.purged_at.is_(None))
                .values(purged_at=now)
                .returning(Evidence.id)
            )
        )
        session.execute(delete(EvidenceImage).where(EvidenceImage.evidence_id.in_(claimed)))
        purged.extend(claimed)
    if purged:
        record(
            session,
            actor=actor,
            action="evidence.purge",
            target_type="evidence",
            target_id=f"{min(purged)}..{max(purged)}",
            after={"purged": len(purged), "expired_by": now.isoformat()},
            at=now,
        )
        logger.info("purged %d expired evidence snapshots", len(purged))
    return len(purged)


__all__ = [
    "RETENTION_ACTOR",
    "evidence_for_supervisor",
    "evidence_image",
    "is_gone",
    "locate_evidence",
    "may_view",
    "purge_expired_evidence",
    "visible_evidence",
]
