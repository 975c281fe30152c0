"""Handlers of the camera observations (the contract: `common.contract`): `CAMERA_HANDLERS`,
which the app factory gives the observation service with the keypad handlers (`central.ratings.keypad_observations`).

Each handler answers every item stored, duplicate or rejected, in the batch's transaction, with one
query per batch for what it already holds; the unique constraints of `central.video.models` catch
the rest (the service retries the batch on an IntegrityError). Windows are looked up by code in the
device's own hall: an unknown code is rejected with the code and the hall named. Times more than
`FUTURE_TOLERANCE` ahead of central's clock are rejected (a wrong edge clock must not write
tomorrow's timeline).

* camera_health — the newest state per (device, camera), and **camera outages** as rows: a report
  saying offline opens one (from the last frame, when the report names it), the next online report
  closes it. An offline camera is a supervision event in itself (SC-5(5)).
* presence — staff presence intervals per window.
* absence — `central.video.absences`.  * evidence — `central.video.evidence_ingest`.
* clip — a patrol finding's WebM clip, `central.video.clip_ingest`.
* visitor_count — per window per hour; a fuller count of the same hour replaces the stored one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.clock import to_utc
from central.devices.keys import DevicePrincipal
from central.devices.service import Handler, ItemOutcome, ObservationContext
from central.video.absences import store_absences
from central.video.clip_ingest import store_clips
from central.video.evidence_ingest import store_evidence
from central.video.models import CameraOutage, CameraState, PresenceInterval, VisitorCount
from central.video.recorded import LIVE_ALREADY, covered_by_live
from central.video.windows import (
    FUTURE_TOLERANCE,
    device_windows,
    in_future,
    latest_sightings,
    note_cameras,
    unknown_window,
)
from common.contract import (
    AbsenceIn,
    CameraHealthIn,
    ClipIn,
    EvidenceIn,
    PresenceIn,
    VisitorCountIn,
)

logger = logging.getLogger(__name__)


def store_camera_health(ctx: ObservationContext, items: Sequence[CameraHealthIn]) -> dict[str, ItemOutcome]:
    """Keep the newest report per camera; open and close outages on its online/offline transitions.
    A report no newer than the stored one changes nothing (a re-send, or an old one late)."""
    session, device = ctx.session, ctx.device
    cameras = sorted({i.camera for i in items})
    states = {
        s.camera: s
        for s in session.scalars(
            select(CameraState).where(
                CameraState.device_id == device.device_id, CameraState.camera.in_(cameras)
            )
        )
    }
    outages = {
        o.camera: o
        for o in session.scalars(
            select(CameraOutage).where(
                CameraOutage.device_id == device.device_id,
                CameraOutage.camera.in_(cameras),
                CameraOutage.ended_at.is_(None),
            )
        )
    }
    results: dict[str, ItemOutcome] = {}
    watched = device_windows(session, device=device, codes=(w.code for i in items for w in i.windows))
    seen: list[tuple[int, str, datetime]] = []
    live: dict[int, tuple[bool, bool | None, datetime | None]] = {}  # the newest report per window
    for item in sorted(items, key=lambda i: to_utc(i.at)):
        at = to_utc(item.at)
        state = states.get(item.camera)
        if in_future(ctx.now, at):
            results[item.id] = ItemOutcome("rejected", f"at {at.isoformat()} is ahead of central's clock")
        elif state is not None and to_utc(state.reported_at) >= at:
            results[item.id] = ItemOutcome("duplicate", "a report as new or newer is stored")
        else:
            previous = to_utc(state.reported_at) if state is not None else None
            states[item.camera] = _update_state(session, device, state, item, at)
            _track_outage(session, device, outages, item, at, previous)
            # Windows this hall does not have are left out, not a reason to lose the camera's health.
            for named in (w for w in item.windows if w.code in watched):
                seen.append((watched[named.code].id, item.camera, at))
                since = to_utc(named.taken_since) if named.taken_since and named.seat_taken else None
                live[watched[named.code].id] = (named.staffed, named.seat_taken, since)
            results[item.id] = ItemOutcome("stored")
    note_cameras(session, device=device, seen=latest_sightings(seen), live=live)
    session.flush()
    return results


def _update_state(
    session: Session, device: DevicePrincipal, state: CameraState | None, item: CameraHealthIn, at: datetime
) -> CameraState:
    if state is None:
        state = CameraState(device_id=device.device_id, hall_id=device.hall_id, camera=item.camera)
        session.add(state)
    state.online, state.fps, state.width, state.height = item.online, item.fps, item.width, item.height
    state.reconnects, state.detail = item.reconnects, item.detail
    state.last_frame_at = to_utc(item.last_frame_at) if item.last_frame_at else None
    state.observation_id, state.reported_at = item.id, at
    return state


def _track_outage(
    session: Session,
    device: DevicePrincipal,
    outages: dict[str, CameraOutage],
    item: CameraHealthIn,
    at: datetime,
    previous: datetime | None,
) -> None:
    """Offline with no open outage: open one; online with one open: close it."""
    current = outages.get(item.camera)
    if not item.online and current is None:
        outages[item.camera] = outage = CameraOutage(
            device_id=device.device_id,
            hall_id=device.hall_id,
            camera=item.camera,
            started_at=_outage_start(item, at, previous),
            detail=item.detail,
            start_observation_id=item.id,
        )
        session.add(outage)
        logger.info("camera %s of %s offline since %s: %s", item.camera, device.device_code, at, item.detail)
    elif item.online and current is not None:
        current.ended_at, current.end_observation_id = at, item.id
        del outages[item.camera]
        logger.info("camera %s of %s back online at %s", item.camera, device.device_code, at)


def _outage_start(item: CameraHealthIn, at: datetime, previous: datetime | None) -> datetime:
    """The last frame, when the report names one after the previous report (frames stopped then);
    otherwise the report itself."""
    if item.last_frame_at is None:
        return at
    last_frame = to_utc(item.last_frame_at)
    if last_frame <= at and (previous is None or last_frame >= previous):
        return last_frame
    return at


def store_presence(ctx: ObservationContext, items: Sequence[PresenceIn]) -> dict[str, ItemOutcome]:
    session, device = ctx.session, ctx.device
    windows = device_windows(session, device=device, codes=(i.window for i in items))
    held = set(
        session.scalars(
            select(PresenceInterval.observation_id).where(
                PresenceInterval.device_id == device.device_id,
                PresenceInterval.observation_id.in_(sorted({i.id for i in items})),
            )
        )
    )
    covered = covered_by_live(session, items=items, windows=windows, moment=lambda i: i.start)
    results: dict[str, ItemOutcome] = {}
    seen: list[tuple[int, str, datetime]] = []
    for item in items:
        window = windows.get(item.window)
        start, end = to_utc(item.start), to_utc(item.end)
        if window is None:
            results[item.id] = unknown_window(device, item.window)
        elif item.id in held:
            results[item.id] = ItemOutcome("duplicate", "this presence interval is stored")
        elif item.id in covered:
            results[item.id] = LIVE_ALREADY
        elif in_future(ctx.now, end):
            results[item.id] = ItemOutcome("rejected", f"end {end.isoformat()} is ahead of central's clock")
        else:
            session.add(
                PresenceInterval(
                    device_id=device.device_id,
                    observation_id=item.id,
                    window_id=window.id,
                    camera=item.camera,
                    started_at=start,
                    ended_at=end,
                    seconds=(end - start).total_seconds(),
                    received_at=ctx.now,
                    origin=item.origin,
                )
            )
            if item.origin == "live":
                seen.append((window.id, item.camera, end))
            results[item.id] = ItemOutcome("stored")
    note_cameras(session, device=device, seen=latest_sightings(seen))
    session.flush()
    return results


def store_visitor_counts(ctx: ObservationContext, items: Sequence[VisitorCountIn]) -> dict[str, ItemOutcome]:
    """One row per window, hour and watched part: each part is reported once, final, so a part already
    stored (a re-send) is a duplicate; an agent restarted mid-hour adds a part, never replaces one."""
    session, device = ctx.session, ctx.device
    windows = device_windows(session, device=device, codes=(i.window for i in items))
    hours = sorted({to_utc(i.hour_start) for i in items})
    stored = {
        (row.window_id, to_utc(row.hour_start), row.watched_from_second): row
        for row in session.scalars(
            select(VisitorCount).where(
                VisitorCount.window_id.in_(sorted(w.id for w in windows.values())),
                VisitorCount.hour_start.in_(hours),
            )
        )
    }
    covered = covered_by_live(session, items=items, windows=windows, moment=lambda i: i.hour_start)
    results: dict[str, ItemOutcome] = {}
    seen: list[tuple[int, str, datetime]] = []
    for item in items:
        window = windows.get(item.window)
        hour = to_utc(item.hour_start)
        if window is None:
            results[item.id] = unknown_window(device, item.window)
            continue
        if item.id in covered:
            results[item.id] = LIVE_ALREADY
            continue
        if in_future(ctx.now, hour):
            results[item.id] = ItemOutcome("rejected", f"hour {hour.isoformat()} has not begun at central")
            continue
        key = (window.id, hour, item.watched_from_second)
        if key in stored:
            results[item.id] = ItemOutcome("duplicate", "this part of the hour is already counted")
            continue
        row = stored[key] = VisitorCount(
            window_id=window.id, hour_start=hour, watched_from_second=item.watched_from_second
        )
        session.add(row)
        row.device_id, row.camera, row.observation_id = device.device_id, item.camera, item.id
        row.visits, row.seated_seconds, row.updated_at = item.visits, item.seated_seconds, ctx.now
        row.origin = item.origin
        row.spans = (
            None if item.spans is None else [n for span in item.spans for n in (span.offset, span.seconds)]
        )
        if item.origin == "live":
            seen.append((window.id, item.camera, hour))
        results[item.id] = ItemOutcome("stored")
    note_cameras(session, device=device, seen=latest_sightings(seen))
    session.flush()
    return results


def _absences(ctx: ObservationContext, items: Sequence[AbsenceIn]) -> dict[str, ItemOutcome]:
    return store_absences(ctx, items)


def _evidence(ctx: ObservationContext, items: Sequence[EvidenceIn]) -> dict[str, ItemOutcome]:
    return store_evidence(ctx, items)


def _clips(ctx: ObservationContext, items: Sequence[ClipIn]) -> dict[str, ItemOutcome]:
    return store_clips(ctx, items)


# The camera kinds' handlers, by observation kind (registered by the app factory).
CAMERA_HANDLERS: dict[str, Handler] = {
    "camera_health": store_camera_health,
    "presence": store_presence,
    "visitor_count": store_visitor_counts,
    "absence": _absences,
    "evidence": _evidence,
    "clip": _clips,
}

__all__ = [
    "CAMERA_HANDLERS",
    "FUTURE_TOLERANCE",
    "store_camera_health",
    "store_presence",
    "store_visitor_counts",
]
