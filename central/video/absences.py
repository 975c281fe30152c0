"""Absence (离岗) observations: one `AbsenceEvent` per (window, moment the seat became empty).

The edge sends each absence twice (`AbsenceIn`): phase "start" once the threshold is passed, phase
"end" when the seat is taken again or working hours end. Both name `started_at`, which identifies
the absence, so the phases may arrive in either order — after an outage the outbox may deliver an
end whose start was stored by an earlier, lost response, or (if the start was rejected or lost at
the edge) an end alone: an end with no absence creates it closed. A second end with another end
time is a contradiction and rejected; the same end again is a duplicate.

Evidence ids an absence names are kept as links (`AbsenceEvidence`), joined to the evidence by
(device, observation id) when read, so the snapshot may arrive before or after the absence.
New absences wait for an inspector (待核实): `central.video.review`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from central.core.clock import to_utc
from central.devices.keys import DevicePrincipal
from central.devices.service import ItemOutcome, ObservationContext
from central.registry.models import ServiceWindow
from central.video.labels import AbsenceStatus
from central.video.models import AbsenceEvent, AbsenceEvidence
from central.video.recorded import LIVE_ALREADY, covered_by_live
from central.video.windows import device_windows, in_future, latest_sightings, note_cameras, unknown_window
from common.contract import AbsenceIn

logger = logging.getLogger(__name__)

Key = tuple[int, datetime]  # (window id, started_at in UTC)


def store_absences(ctx: ObservationContext, items: Sequence[AbsenceIn]) -> dict[str, ItemOutcome]:
    session, device = ctx.session, ctx.device
    windows = device_windows(session, device=device, codes=(i.window for i in items))
    held = _held(session, {(w.id, to_utc(i.started_at)) for i in items if (w := windows.get(i.window))})
    results: dict[str, ItemOutcome] = {}
    links: list[tuple[AbsenceEvent, str]] = []
    seen: list[tuple[int, str, datetime]] = []
    covered = covered_by_live(session, items=items, windows=windows, moment=lambda i: i.started_at)
    for item in items:  # in the order sent: a start before its end in the same batch
        window = windows.get(item.window)
        if window is None:
            results[item.id] = unknown_window(device, item.window)
            continue
        if item.id in covered:
            results[item.id] = LIVE_ALREADY
            continue
        latest = to_utc(item.ended_at or item.started_at)
        if in_future(ctx.now, latest):
            results[item.id] = ItemOutcome("rejected", f"{latest.isoformat()} is ahead of central's clock")
            continue
        key = (window.id, to_utc(item.started_at))
        absence = held.get(key)
        if absence is None:
            absence = held[key] = _new_absence(session, ctx, device, window, item)
            outcome = ItemOutcome("stored")
        else:
            outcome = _start(absence, item) if item.phase == "start" else _end(absence, item, ctx.now)
        results[item.id] = outcome
        if outcome.outcome != "rejected":
            links.extend((absence, evidence_id) for evidence_id in item.evidence)
            if item.origin == "live":
                seen.append((window.id, item.camera, latest))
    session.flush()
    _link_evidence(session, device, links)
    note_cameras(session, device=device, seen=latest_sightings(seen))
    session.flush()
    return results


def _held(session: Session, keys: set[Key]) -> dict[Key, AbsenceEvent]:
    if not keys:
        return {}
    query = select(AbsenceEvent).where(
        tuple_(AbsenceEvent.window_id, AbsenceEvent.started_at).in_(sorted(keys))
    )
    return {(a.window_id, to_utc(a.started_at)): a for a in session.scalars(query)}


def _new_absence(
    session: Session, ctx: ObservationContext, device: DevicePrincipal, window: ServiceWindow, item: AbsenceIn
) -> AbsenceEvent:
    absence = AbsenceEvent(
        hall_id=window.hall_id,
        window_id=window.id,
        department_id=window.department_id,
        device_id=device.device_id,
        camera=item.camera,
        started_at=to_utc(item.started_at),
        ended_at=to_utc(item.ended_at) if item.ended_at else None,
        start_observation_id=item.id if item.phase == "start" else None,
        end_observation_id=item.id if item.phase == "end" else None,
        status=AbsenceStatus.PENDING.value,
        received_at=ctx.now,
        updated_at=ctx.now,
        origin=item.origin,
    )
    session.add(absence)
    logger.info("absence at window %s from %s (%s)", window.code, absence.started_at, item.phase)
    return absence


def _start(absence: AbsenceEvent, item: AbsenceIn) -> ItemOutcome:
    if absence.start_observation_id is None:  # its end came first: the start adds only its id
        absence.start_observation_id = item.id
        return ItemOutcome("stored")
    return ItemOutcome("duplicate", "the start of this absence is stored")


def _end(absence: AbsenceEvent, item: AbsenceIn, now: datetime) -> ItemOutcome:
    assert item.ended_at is not None  # the schema requires it for phase "end"
    ended_at = to_utc(item.ended_at)
    if absence.ended_at is None:
        absence.ended_at, absence.end_observation_id, absence.updated_at = ended_at, item.id, now
        return ItemOutcome("stored")
    if to_utc(absence.ended_at) == ended_at:
        return ItemOutcome("duplicate", "the end of this absence is stored")
    return ItemOutcome(
        "rejected",
        f"this absence (started {absence.started_at.isoformat()}) already ended at "
        f"{to_utc(absence.ended_at).isoformat()}, not {ended_at.isoformat()}",
    )


def _link_evidence(session: Session, device: DevicePrincipal, links: list[tuple[AbsenceEvent, str]]) -> None:
    wanted = {(absence.id, evidence_id) for absence, evidence_id in links}
    if not wanted:
        return
    query = select(AbsenceEvidence.absence_id, AbsenceEvidence.evidence_observation_id).where(
        AbsenceEvidence.absence_id.in_(sorted({absence_id for absence_id, _ in wanted}))
    )
    present = {(absence_id, evidence_id) for absence_id, evidence_id in session.execute(query)}
    session.add_all(
        AbsenceEvidence(
            absence_id=absence_id, device_id=device.device_id, evidence_observation_id=evidence_id
        )
        for absence_id, evidence_id in sorted(wanted - present)
    )


__all__ = ["store_absences"]
