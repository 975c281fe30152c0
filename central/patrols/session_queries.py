"""Reading patrol sessions and their findings for the API and the pages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.models import User
from central.core.clock import shanghai_date
from central.live.models import LiveView
from central.patrols.findings_kinds import CATEGORY_LABELS, FINDING_STATUS_LABELS
from central.patrols.models import PatrolFinding, PatrolSession
from central.patrols.schemas import FindingPublic, PatrolPublic, PatrolViewPublic
from central.patrols.sessions import STATE_LABELS, State
from central.registry.models import Hall, ServiceWindow
from central.video.capture import captured_evidence
from central.video.models import AbsenceEvent

logger = logging.getLogger(__name__)


def finding_public(session: Session, finding: PatrolFinding) -> FindingPublic:
    window = session.get(ServiceWindow, finding.window_id)
    inspector = session.get(User, finding.inspector_id)
    hall = session.get(Hall, finding.hall_id)
    snapshot = clip = None
    for evidence in captured_evidence(session, capture=finding.capture):
        if evidence.media_type == "video/webm":
            clip = evidence.id
        else:
            snapshot = evidence.id
    return FindingPublic(
        id=finding.id,
        window=window.code if window else "",
        window_name=window.name if window else "",
        camera=finding.camera,
        category=finding.category,
        category_label=CATEGORY_LABELS.get(finding.category, finding.category),
        note=finding.note,
        at=finding.at,
        inspector=inspector.username if inspector else "",
        snapshot=snapshot,
        clip=clip,
        patrol=finding.session_id,
        hall_code=hall.code if hall else "",
        status=finding.status,
        status_label=FINDING_STATUS_LABELS.get(finding.status, finding.status),
        reviewed_by=finding.reviewed_by,
        reviewed_at=finding.reviewed_at,
        review_note=finding.review_note,
        signal_id=finding.signal_id,
        absence_id=finding.absence_id,
        absence_url=_absence_url(session, finding.absence_id, hall),
    )


def _absence_url(session: Session, absence_id: int | None, hall: Hall | None) -> str | None:
    """The absence's card on its hall's video page (that page shows one day's absences)."""
    absence = session.get(AbsenceEvent, absence_id) if absence_id is not None else None
    if absence is None or hall is None:
        return None
    day = shanghai_date(absence.started_at)
    return f"/console/video/halls/{quote(hall.code)}?day={day.isoformat()}#absence-{absence.id}"


def patrol_public(session: Session, patrol: PatrolSession) -> PatrolPublic:
    hall = session.get(Hall, patrol.hall_id)
    inspector = session.get(User, patrol.inspector_id)
    views = session.scalars(
        select(LiveView).where(LiveView.patrol_session_id == patrol.id).order_by(LiveView.id)
    )
    findings = session.scalars(
        select(PatrolFinding).where(PatrolFinding.session_id == patrol.id).order_by(PatrolFinding.id)
    )
    return PatrolPublic(
        id=patrol.id,
        task=patrol.task_id,
        hall_code=hall.code if hall else "",
        hall_name=hall.name if hall else "",
        inspector=inspector.username if inspector else "",
        day=patrol.day,
        started_at=patrol.started_at,
        ended_at=patrol.ended_at,
        state=patrol.state,
        state_label=STATE_LABELS[State(patrol.state)],
        verdict=patrol.verdict,
        watched_seconds=patrol.watched_seconds,
        end_note=patrol.end_note,
        views=[
            PatrolViewPublic(
                viewer=v.viewer,
                camera=v.camera,
                profile=v.profile,
                outcome=v.outcome,
                frames_decoded=v.browser_frames_decoded,
                packets_received=v.browser_packets_received,
                edge_frames_sent=v.edge_frames_sent,
                edge_packets_sent=v.edge_packets_sent,
            )
            for v in views
        ],
        findings=[finding_public(session, f) for f in findings],
    )


@dataclass(frozen=True)
class PatrolBrief:
    id: int
    state: str
    state_label: str


def task_patrols(session: Session, *, task_ids: Sequence[int]) -> dict[int, PatrolBrief]:
    """Each task's best patrol so far (a complete one, else the newest), for the plan page."""
    best: dict[int, PatrolBrief] = {}
    rows = session.execute(
        select(PatrolSession.task_id, PatrolSession.id, PatrolSession.state)
        .where(PatrolSession.task_id.in_(sorted(set(task_ids))))
        .order_by(PatrolSession.id)
    )
    for task_id, patrol_id, state in rows:
        if task_id is None or (task_id in best and best[task_id].state == State.COMPLETE):
            continue
        best[task_id] = PatrolBrief(patrol_id, state, STATE_LABELS[State(state)])
    return best
