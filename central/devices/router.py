"""Device API (keypads.md): edge agents post observations and long-poll commands, with X-Device-Key,
each scoped to its own hall. Mounted under /api/v1 without a user principal."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.devices.commands import wait_for_commands
from central.devices.device_kinds import KindNotAllowed
from central.devices.keys_router import DeviceDep
from central.devices.service import ObservationConflict, ingest_observations
from common.contract import CommandPage, ObservationAnswer, ObservationBatch

logger = logging.getLogger(__name__)
router = APIRouter(tags=["device"])


@router.post(
    "/device/observations",
    response_model=ObservationAnswer,
    responses={
        403: {"description": "an observation of a kind this device's kind may not post (nothing stored)"},
        413: {"description": "batch too large"},
        503: {"description": "busy: send the batch again"},
    },
)
def post_observations(
    request: Request,
    batch: ObservationBatch,
    device: DeviceDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> ObservationAnswer:
    count = len(batch.observations)
    if count > settings.max_batch_events:
        raise HTTPException(
            413, f"a batch holds at most {settings.max_batch_events} observations, this one {count}"
        )
    try:
        return ingest_observations(
            session,
            device=device,
            observations=batch.observations,
            now=now,
            calendar=calendar,
            default_profile_key=settings.rule_profile,
            handlers=request.app.state.observation_handlers,  # built by the app factory
        )
    except KindNotAllowed as exc:
        raise HTTPException(403, exc.detail) from exc
    except ObservationConflict as exc:
        raise HTTPException(503, f"{exc}; send the batch again", headers={"Retry-After": "1"}) from exc


@router.get("/device/commands", response_model=CommandPage)
async def get_commands(
    request: Request,
    device: DeviceDep,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="The cursor of the last answer.")] = 0,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to wait for a command.")] = 0,
) -> CommandPage:
    await run_in_threadpool(session.close)  # the key is checked: wait without a connection
    return await wait_for_commands(
        request.app.state.session_factory,
        request.app.state.clock,
        request.app.state.notifier,
        hall_id=device.hall_id,
        after=after,
        wait=wait,
    )
