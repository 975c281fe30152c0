"""A patrol finding's capture (issue 15 item 4), for the patrols domain: ask the hall's agent for a
snapshot and a clip of the seconds before the finding, and find what arrived.

`request_capture` queues a `patrol_capture` command (`common.contract.capture`) for the hall's
agents; the one with the camera takes a masked snapshot and, when the camera is being watched live,
sends the clip from its live encoder. Both arrive as observations through the agent's outbox (so they
may come late, or after retries) and are stored as `Evidence` carrying the capture's reference:
`captured_evidence` lists them. Viewing either needs an approved grant like every evidence (SC-18).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.devices.command_kinds import queue_command
from central.video.models import Evidence
from common.contract import PatrolCapturePayload

logger = logging.getLogger(__name__)

DEFAULT_VALID_FOR = timedelta(minutes=10)


def request_capture(
    session: Session,
    *,
    hall_id: int,
    camera: str,
    window: str,
    capture: str,
    at: datetime,
    clip_seconds: int,
    now: datetime,
    valid_for: timedelta = DEFAULT_VALID_FOR,
) -> int:
    """Queue the capture for the hall's agents (flushed, not committed); the command's id.

    `capture` is the caller's reference (e.g. "finding-12"), `at` the finding's moment; an agent that
    gets the command after `now + valid_for` skips it. Raises pydantic's ValidationError for values
    the contract refuses (a reference over 64 characters, clip_seconds outside 1..30)."""
    payload = PatrolCapturePayload(
        capture=capture, camera=camera, window=window, at=at, clip_seconds=clip_seconds
    )
    row = queue_command(session, hall_id=hall_id, command=payload, expires_at=now + valid_for, now=now)
    logger.info(
        "capture %s of window %s (camera %s) requested from hall #%d: command %d",
        capture,
        window,
        camera,
        hall_id,
        row.id,
    )
    return row.id


def captured_evidence(session: Session, *, capture: str) -> list[Evidence]:
    """What arrived for `capture` so far: its snapshot and/or clip, oldest first (purged ones too,
    with `purged_at` set: their metadata stays)."""
    return list(
        session.scalars(
            select(Evidence).where(Evidence.capture == capture).order_by(Evidence.taken_at, Evidence.id)
        )
    )


__all__ = ["DEFAULT_VALID_FOR", "captured_evidence", "request_capture"]
