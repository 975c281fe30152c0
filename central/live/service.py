"""Live view signalling (issue 15 item 3): authorise a view, relay the browser's offer to the hall's
edge agent as a `live_offer` command and wait for its answer (a channel `Reply`), end views.

A view is authorised when the caller may patrol or supervise (the router checks the permission), the
hall lies in the caller's jurisdiction (404 otherwise, as everywhere), the hall's profile does not
ask for a grant or the caller holds one (SC-18: `approvals.live_view_needs_grant`), and central last
heard the camera online (409 摄像机离线 otherwise: never a frozen frame). Each view is a `LiveView`
row and an audit entry, in the transaction that queues the command.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from central.access.deps import Principal
from central.audit.chain import record
from central.core.actor import Actor
from central.core.config import IceServerSetting
from central.core.session_slots import released
from central.devices.command_kinds import queue_command
from central.devices.replies import Replies
from central.live.grant import has_live_grant
from central.live.models import LiveView
from central.live.schemas import HallLiveOut, OfferIn, OfferOut
from central.live.turn_credentials import LiveIce, view_label
from central.live.views import OFFLINE, LiveRefused, find_camera, find_hall, live_cameras
from central.profiles.assignment import profile_for_hall
from central.registry.jurisdiction import ScopeKind
from central.registry.models import Hall
from common.contract import IceServer, LiveClosePayload, LiveOfferPayload, LiveRefusal, LiveReply

logger = logging.getLogger(__name__)

CLOSE_VALID = timedelta(minutes=5)  # a close for an agent that is away a while is pointless after
_REFUSALS: dict[LiveRefusal, tuple[int, str]] = {
    LiveRefusal.LIVE_OFF: (409, "live view is off at the hall's edge agent"),
    LiveRefusal.CAMERA_UNKNOWN: (404, "the hall's edge agent has no such camera"),
    LiveRefusal.CAMERA_OFFLINE: (409, f"{OFFLINE}: the camera sends no frames"),
    LiveRefusal.TOO_MANY_VIEWERS: (409, "the camera has as many viewers as its agent allows"),
    LiveRefusal.BAD_OFFER: (422, "the edge agent cannot answer this offer"),
    LiveRefusal.FAILED: (502, "the edge agent failed to answer"),
}


@dataclass(frozen=True)
class Asked:
    view_id: int
    viewer: str
    command_id: int
    ice_servers: list[IceServerSetting]  # the view's, minted for it


def grant_needed(session: Session, *, hall: Hall, default_profile_key: str) -> bool:
    profile = profile_for_hall(session, hall_id=hall.id, default_key=default_profile_key)
    return profile.approvals.live_view_needs_grant


def may_watch(
    session: Session, *, hall: Hall, principal: Principal, now: datetime, default_profile_key: str
) -> bool:
    """No grant needed for the hall, or the caller holds one (SC-18)."""
    return not grant_needed(session, hall=hall, default_profile_key=default_profile_key) or has_live_grant(
        session, user_id=principal.user_id, hall_code=hall.code, now=now
    )


def hall_live(
    session: Session, *, hall_code: str, principal: Principal, now: datetime, default_profile_key: str
) -> HallLiveOut:
    within = principal.jurisdiction
    hall = find_hall(session, code=hall_code, within=within)
    needed = grant_needed(session, hall=hall, default_profile_key=default_profile_key)
    granted = not needed or has_live_grant(session, user_id=principal.user_id, hall_code=hall.code, now=now)
    return HallLiveOut(
        hall=hall.code,
        name=hall.name,
        grant_needed=needed,
        granted=granted,
        cameras=live_cameras(session, hall=hall, within=within, now=now),
    )


def ask_view(
    session: Session,
    *,
    offer: OfferIn,
    principal: Principal,
    ice: LiveIce,
    now: datetime,
    valid_for: timedelta,
    default_profile_key: str,
    patrol_session_id: int | None = None,
) -> Asked:
    """Check the view may be given, store it, audit it and queue the offer (flushed, not committed),
    with `ice`'s servers and TURN credentials minted for this view (the agent's and the answer's).
    `patrol_session_id`: the patrol the view belongs to (its proof of viewing counts it)."""
    hall = find_hall(session, code=offer.hall, within=principal.jurisdiction)
    if not may_watch(
        session, hall=hall, principal=principal, now=now, default_profile_key=default_profile_key
    ):
        raise LiveRefused(403, f"watching hall {hall.code} live needs an approved live_view request (SC-18)")
    camera = find_camera(session, hall=hall, name=offer.camera, within=principal.jurisdiction, now=now)
    viewer = uuid.uuid4().hex
    ice_servers = ice.servers(label=view_label(user_id=principal.user_id, viewer=viewer), now=now)
    command = queue_command(
        session,
        hall_id=hall.id,
        command=LiveOfferPayload(
            viewer=viewer,
            camera=camera.name,
            profile=offer.profile,
            sdp=offer.sdp,
            ice_servers=[IceServer.model_validate(s.model_dump()) for s in ice_servers],
        ),
        expires_at=now + valid_for,  # an offer answered later than the browser waits is useless
        now=now,
    )
    view = LiveView(
        viewer=viewer,
        hall_id=hall.id,
        camera=camera.name,
        profile=offer.profile,
        user_id=principal.user_id,
        command_id=command.id,
        started_at=now,
        outcome="asked",
        patrol_session_id=patrol_session_id,
    )
    session.add(view)
    session.flush()
    record(
        session,
        actor=principal.actor,
        action="live.view.open",
        target_type="live_view",
        target_id=viewer,
        after={
            "hall": hall.code,
            "camera": camera.name,
            "device": camera.device_code,
            "profile": offer.profile,
            "patrol_session": patrol_session_id,
        },
        at=now,
    )
    return Asked(view_id=view.id, viewer=viewer, command_id=command.id, ice_servers=ice_servers)


async def request_view(
    session: Session,
    *,
    replies: Replies,
    offer: OfferIn,
    principal: Principal,
    ice: LiveIce,
    now: datetime,
    timeout: float,
    default_profile_key: str,
    patrol_session_id: int | None = None,
) -> OfferOut:
    """Relay the offer to the hall's agent and answer with its SDP answer; LiveRefused otherwise."""
    asked = await run_in_threadpool(
        ask_view,
        session,
        offer=offer,
        principal=principal,
        ice=ice,
        now=now,
        valid_for=timedelta(seconds=timeout),
        default_profile_key=default_profile_key,
        patrol_session_id=patrol_session_id,
    )
    with replies.expect(asked.command_id) as pending:  # before the commit: the reply is never missed
        await run_in_threadpool(session.commit)
        async with released(session):  # no connection or session slot held while the agent answers
            body = await pending.get(timeout)
    reply = _parse(body, asked)
    outcome = "no_answer" if reply is None else f"refused:{reply.refused}" if reply.refused else "answered"
    await run_in_threadpool(_keep_outcome, session, asked.view_id, outcome)
    if reply is None:
        raise LiveRefused(
            504, f"the hall's edge agent did not answer within {timeout:g} s (is it connected?)"
        )
    if reply.refused is not None or reply.sdp is None:
        status, detail = _REFUSALS[reply.refused or LiveRefusal.FAILED]
        raise LiveRefused(status, f"{detail}: {reply.detail}" if reply.detail else detail)
    logger.info("live view %s answered by the agent (command %d)", asked.viewer, asked.command_id)
    return OfferOut(viewer=asked.viewer, sdp=reply.sdp, ice_servers=asked.ice_servers)


def close_view(session: Session, *, viewer: str, principal: Principal, now: datetime) -> None:
    """Ask the hall's agent to end the view (a `live_close`); only its viewer, or a deployment-wide
    supervisor, may end it. Commits."""
    view = session.scalar(select(LiveView).where(LiveView.viewer == viewer))
    if view is None or not principal.jurisdiction.includes_hall(view.hall_id):
        raise LiveRefused(404, f"no live view {viewer[:64]}")
    if view.user_id != principal.user_id and principal.jurisdiction.kind is not ScopeKind.DEPLOYMENT:
        raise LiveRefused(403, "a live view is ended by its own viewer")
    end_view(session, view=view, actor=principal.actor, now=now)
    session.commit()


def end_view(session: Session, *, view: LiveView, actor: Actor, now: datetime) -> bool:
    """Ask the hall's agent to end `view` (a `live_close`), audited; False if it was ended already.
    Not committed."""
    if view.closed_at is not None:
        return False
    queue_command(
        session,
        hall_id=view.hall_id,
        command=LiveClosePayload(viewer=view.viewer),
        expires_at=now + CLOSE_VALID,
        now=now,
    )
    view.closed_at = now
    record(
        session,
        actor=actor,
        action="live.view.close",
        target_type="live_view",
        target_id=view.viewer,
        after={"camera": view.camera},
        at=now,
    )
    return True


def _parse(body: dict[str, object] | None, asked: Asked) -> LiveReply | None:
    if body is None:
        return None
    try:
        reply = LiveReply.model_validate(body)
    except ValidationError as exc:
        logger.warning("live view %s: the agent's reply is malformed: %s", asked.viewer, exc.errors()[:2])
        return LiveReply(viewer=asked.viewer, refused=LiveRefusal.FAILED, detail="malformed reply")
    if reply.viewer != asked.viewer:
        logger.warning("live view %s: the agent answered for viewer %s", asked.viewer, reply.viewer)
        return LiveReply(viewer=asked.viewer, refused=LiveRefusal.FAILED, detail="reply for another viewer")
    return reply


def _keep_outcome(session: Session, view_id: int, outcome: str) -> None:
    view = session.get(LiveView, view_id)
    if view is not None:
        view.outcome = outcome[:40]
        session.commit()
    session.close()
