"""Findings of a patrol (issue 15 item 4; SC-7): what an inspector saw at a window, with the snapshot
and the clip of the seconds before it that the hall's agent is asked for at once (the edge keeps a
short ring of the video it already encoded: the clip shows what the inspector saw, masks burned in).

A finding is recorded whatever the camera's state: the evidence is asked for when central knows the
camera that watches the window, and arrives through the agent's outbox (`captured_evidence`)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.audit.chain import record
from central.patrols.models import PatrolFinding, PatrolSession
from central.patrols.schemas import FindingIn
from central.patrols.sessions import PatrolRefused
from central.registry.models import ServiceWindow
from central.video.capture import request_capture
from central.video.models import WindowCamera
from common.profiles.schema import PatrolRules

logger = logging.getLogger(__name__)


def record_finding(
    session: Session,
    *,
    patrol: PatrolSession,
    body: FindingIn,
    principal: Principal,
    rules: PatrolRules,
    now: datetime,
) -> PatrolFinding:
    """Store the finding, ask the hall's agent for its snapshot and clip, audit. Not committed."""
    window = session.scalar(
        select(ServiceWindow).where(
            ServiceWindow.hall_id == patrol.hall_id, ServiceWindow.code == body.window
        )
    )
    if window is None:
        raise PatrolRefused(422, f"the patrolled hall has no window {body.window[:40]}")
    watching = session.scalar(select(WindowCamera).where(WindowCamera.window_id == window.id))
    finding = PatrolFinding(
        session_id=patrol.id,
        hall_id=patrol.hall_id,
        window_id=window.id,
        camera=watching.camera if watching is not None else "",
        category=body.category,
        note=body.note.strip(),
        at=now,
        inspector_id=principal.user_id,
        capture=f"finding-{uuid.uuid4().hex[:20]}",
        clip_seconds=rules.finding_clip_seconds,
    )
    session.add(finding)
    session.flush()
    if watching is not None:
        finding.capture_command_id = request_capture(
            session,
            hall_id=patrol.hall_id,
            camera=watching.camera,
            window=window.code,
            capture=finding.capture,
            at=now,
            clip_seconds=finding.clip_seconds,
            now=now,
        )
    else:
        logger.info(
            "finding %d: no camera watches window %s, so no snapshot or clip", finding.id, window.code
        )
    record(
        session,
        actor=principal.actor,
        action="patrol.finding.record",
        target_type="patrol_finding",
        target_id=str(finding.id),
        after={
            "patrol": patrol.id,
            "window": window.code,
            "camera": finding.camera,
            "category": finding.category,
            "note": finding.note,
            "capture": finding.capture,
        },
        at=now,
    )
    return finding
