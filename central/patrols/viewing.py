"""The two sides of a patrol's proof of viewing, and the judging that sets them side by side.

* The browser's side: the patrol page posts its WebRTC statistics (frames decoded, packets received)
  per view every few seconds; a count never goes down (a lower figure is a restarted page, kept out).
* The edge's side: the agent's `live_view` observation when a view ended (`PATROL_HANDLERS`).
* Judging (`judge_patrol`): an ended patrol is judged once every view the browser says it watched has
  the edge's report, or when `edge_report_wait_minutes` have passed; `settle_patrols` (the patrol job)
  ends patrols left open and judges the overdue ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.clock import to_utc
from central.devices.service import Handler, ItemOutcome, ObservationContext
from central.live.models import LiveView
from central.patrols.models import PatrolSession
from central.patrols.proof import EdgeCounts, ViewCounts, awaiting_edge, judge
from central.patrols.schemas import ViewingIn
from central.patrols.sessions import PATROLS_ACTOR, State, end_patrol
from central.profiles.assignment import profile_for_hall
from common.contract import LiveViewIn
from common.profiles.schema import PatrolRules

logger = logging.getLogger(__name__)

LEFT_OPEN_NOTE = "巡查页面已关闭或长时间无操作，系统自动结束"


def report_viewing(
    session: Session, *, patrol: PatrolSession, items: Sequence[ViewingIn], now: datetime
) -> int:
    """Keep the browser's counts of the patrol's views; the number of views updated. Not committed."""
    viewers = {i.viewer: i for i in items}
    updated = 0
    for view in session.scalars(
        select(LiveView).where(LiveView.patrol_session_id == patrol.id, LiveView.viewer.in_(sorted(viewers)))
    ):
        item = viewers[view.viewer]
        decoded, received = view.browser_frames_decoded or 0, view.browser_packets_received or 0
        if item.frames_decoded < decoded or item.packets_received < received:
            continue  # counts only grow: a lower one is a reloaded page or a replay
        view.browser_frames_decoded, view.browser_packets_received = (
            item.frames_decoded,
            item.packets_received,
        )
        view.browser_reported_at = now
        updated += 1
    return updated


def store_view_reports(ctx: ObservationContext, items: Sequence[LiveViewIn]) -> dict[str, ItemOutcome]:
    """The edge's counts of ended views (its own hall's only), then judge patrols they complete."""
    session = ctx.session
    views = {
        v.viewer: v
        for v in session.scalars(
            select(LiveView).where(
                LiveView.viewer.in_(sorted({i.viewer for i in items})), LiveView.hall_id == ctx.device.hall_id
            )
        )
    }
    results: dict[str, ItemOutcome] = {}
    patrols: set[int] = set()
    for item in items:
        view = views.get(item.viewer)
        if view is None:
            results[item.id] = ItemOutcome("rejected", f"no live view {item.viewer} of this hall")
        elif view.edge_reported_at is not None:
            results[item.id] = ItemOutcome("duplicate", "this view's report is stored")
        else:
            view.edge_first_frame_at = to_utc(item.first_frame_at) if item.first_frame_at else None
            view.edge_last_frame_at = to_utc(item.last_frame_at) if item.last_frame_at else None
            view.edge_frames_sent, view.edge_packets_sent = item.frames_sent, item.packets_sent
            view.edge_reported_at = ctx.now
            if view.patrol_session_id is not None:
                patrols.add(view.patrol_session_id)
            results[item.id] = ItemOutcome("stored")
    session.flush()
    for patrol in session.scalars(
        select(PatrolSession).where(
            PatrolSession.id.in_(sorted(patrols)), PatrolSession.state == State.JUDGING
        )
    ):
        judge_patrol(session, patrol=patrol, rules=ctx.profile.patrols, now=ctx.now, final=False)
    return results


PATROL_HANDLERS: dict[str, Handler] = {"live_view": store_view_reports}


def view_counts(session: Session, *, patrol_id: int) -> list[ViewCounts]:
    views = session.scalars(
        select(LiveView).where(LiveView.patrol_session_id == patrol_id, LiveView.outcome == "answered")
    )
    return [
        ViewCounts(
            viewer=v.viewer,
            camera=v.camera,
            frames_decoded=v.browser_frames_decoded or 0,
            packets_received=v.browser_packets_received or 0,
            edge=None
            if v.edge_reported_at is None
            else EdgeCounts(
                first_frame_at=v.edge_first_frame_at,
                last_frame_at=v.edge_last_frame_at,
                frames_sent=v.edge_frames_sent or 0,
                packets_sent=v.edge_packets_sent or 0,
            ),
        )
        for v in views
    ]


def judge_patrol(
    session: Session, *, patrol: PatrolSession, rules: PatrolRules, now: datetime, final: bool
) -> bool:
    """Judge an ended patrol when the edge has reported every view the browser watched (or `final`:
    the wait is over); False while it still waits. Audited. Not committed."""
    if patrol.state != State.JUDGING:
        return False
    views = view_counts(session, patrol_id=patrol.id)
    if awaiting_edge(views) and not final:
        return False
    proof = judge(views, min_seconds=rules.min_viewing_seconds)
    patrol.state = State.COMPLETE if proof.complete else State.INCOMPLETE
    patrol.watched_seconds = round(proof.watched_seconds, 1)
    reasons = list(proof.reasons)
    if not proof.complete and patrol.end_note:
        reasons.append(f"结束说明：{patrol.end_note}")
    patrol.verdict = "；".join(reasons)[:1000] or None
    patrol.judged_at = now
    record(
        session,
        actor=PATROLS_ACTOR,
        action="patrol.session.judge",
        target_type="patrol_session",
        target_id=str(patrol.id),
        after={
            "state": patrol.state,
            "watched_seconds": patrol.watched_seconds,
            "cameras": list(proof.cameras),
            "verdict": patrol.verdict,
        },
        at=now,
    )
    logger.info("patrol %d judged %s (%.0f s watched)", patrol.id, patrol.state, proof.watched_seconds)
    return True


def settle_patrols(session: Session, *, now: datetime, default_profile_key: str) -> int:
    """End patrols left open past the profile's limit and judge those that waited long enough for the
    edge; the number settled. Commits."""
    settled = 0
    # Locked and skipped: another instance settling at the same moment takes the others.
    pending = select(PatrolSession).with_for_update(skip_locked=True)
    for patrol in list(session.scalars(pending.where(PatrolSession.state == State.OPEN))):
        rules = profile_for_hall(session, hall_id=patrol.hall_id, default_key=default_profile_key).patrols
        if now - patrol.started_at >= timedelta(minutes=rules.session_max_minutes):
            end_patrol(session, patrol=patrol, actor=PATROLS_ACTOR, note=LEFT_OPEN_NOTE, now=now)
            settled += 1
    for patrol in list(session.scalars(pending.where(PatrolSession.state == State.JUDGING))):
        rules = profile_for_hall(session, hall_id=patrol.hall_id, default_key=default_profile_key).patrols
        final = patrol.ended_at is None or now - patrol.ended_at >= timedelta(
            minutes=rules.edge_report_wait_minutes
        )
        settled += judge_patrol(session, patrol=patrol, rules=rules, now=now, final=final)
    session.commit()
    return settled
