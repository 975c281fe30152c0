"""Handlers of the keypad observations: presses (bound to cases by `central.ratings.ingest`) and
keypad health (the latest report per keypad, upserted). `KEYPAD_HANDLERS` is given to the
observation service by the app factory (ratings sit above devices, so devices never import this)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from central.core.clock import to_utc
from central.devices.service import Handler, ItemOutcome, ObservationContext
from central.ratings.ingest import ReportedPress, ingest_presses
from central.ratings.models import KeypadHealth
from central.registry.models import ServiceWindow
from common.contract import KeypadHealthIn, KeypadPressIn

logger = logging.getLogger(__name__)


def store_presses(ctx: ObservationContext, items: Sequence[KeypadPressIn]) -> dict[str, ItemOutcome]:
    presses = [
        ReportedPress(
            observation_id=i.id,
            window=i.window,
            keypad=i.keypad,
            seq=i.seq,
            key=i.key,
            uptime_ms=i.uptime_ms,
            at=to_utc(i.at),
            citizen_present=i.citizen_present,
        )
        for i in items
    ]
    results = ingest_presses(
        ctx.session,
        device=ctx.device,
        presses=presses,
        profile=ctx.profile,
        calendar=ctx.calendar,
        now=ctx.now,
    )
    return {key: ItemOutcome(r.outcome, r.detail) for key, r in results.items()}


def store_health(ctx: ObservationContext, items: Sequence[KeypadHealthIn]) -> dict[str, ItemOutcome]:
    """Keep the newest report per keypad. A report no newer than the stored one is a duplicate: a
    re-sent report changes nothing, and an older one must not overwrite a newer state."""
    session, device = ctx.session, ctx.device
    codes = sorted({i.window for i in items})
    query = select(ServiceWindow.code, ServiceWindow.id).where(
        ServiceWindow.hall_id == device.hall_id, ServiceWindow.code.in_(codes)
    )
    windows = {code: window_id for code, window_id in session.execute(query)}
    stored = {
        h.keypad: h
        for h in session.scalars(
            select(KeypadHealth).where(
                KeypadHealth.device_id == device.device_id,
                KeypadHealth.keypad.in_(sorted({i.keypad for i in items})),
            )
        )
    }
    results: dict[str, ItemOutcome] = {}
    for item in sorted(items, key=lambda i: to_utc(i.at)):
        window_id = windows.get(item.window)
        current = stored.get(item.keypad)
        if window_id is None:
            results[item.id] = ItemOutcome("rejected", f"no window {item.window} in hall {device.hall_code}")
        elif current is not None and to_utc(current.reported_at) >= to_utc(item.at):
            results[item.id] = ItemOutcome("duplicate", "a report as new or newer is stored")
        else:
            if current is None:
                current = stored[item.keypad] = KeypadHealth(device_id=device.device_id, keypad=item.keypad)
                session.add(current)
            current.window_id = window_id
            current.online = item.online
            current.firmware = item.firmware
            current.last_heartbeat_at = to_utc(item.last_heartbeat_at) if item.last_heartbeat_at else None
            current.bad_frames = item.bad_frames
            current.reconnects = item.reconnects
            current.reported_at = to_utc(item.at)
            results[item.id] = ItemOutcome("stored")
    session.flush()
    return results


# The keypad kinds' handlers, by observation kind (registered by the app factory).
KEYPAD_HANDLERS: dict[str, Handler] = {"keypad_press": store_presses, "keypad_health": store_health}
