"""Device API (keypads.md): edge agents post observations and long-poll commands, with X-Device-Key,
each scoped to its own hall. Mounted under /api/v1 without a user principal."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.core.session_slots import give_back
from central.devices.commands import wait_for_commands
from central.devices.device_kinds import KindNotAllowed
from central.devices.keys_router import DeviceDep
from central.devices.models import DeviceCommand
from central.devices.service import ObservationConflict, ingest_observations
from common.contract import CommandPage, ObservationAnswer, ObservationBatch
from common.device_channel import CURSOR_MAX, MAX_REPLY_BYTES

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
    await give_back(session)  # the key is checked: wait without a connection or a session slot
    return await wait_for_commands(
        request.app.state.session_factory,
        request.app.state.clock,
        request.app.state.notifier,
        hall_id=device.hall_id,
        after=after,
        wait=wait,
    )


class ReplyIn(BaseModel):
    """A command's reply by HTTP: what the channel's `reply` message carries, for an agent that
    long-polls (its channel refused or down)."""

    model_config = ConfigDict(extra="forbid")
    command_id: int = Field(ge=1, le=CURSOR_MAX)
    body: dict[str, Any] = Field(description=f"The answer; at most {MAX_REPLY_BYTES} bytes as JSON.")


@router.post(
    "/device/replies",
    status_code=204,
    responses={
        404: {"description": "no such command of this device's hall"},
        413: {"description": "too large"},
    },
)
async def post_reply(request: Request, reply: ReplyIn, device: DeviceDep, session: SessionDep) -> Response:
    size = len(json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_REPLY_BYTES:
        raise HTTPException(413, f"a reply body is at most {MAX_REPLY_BYTES} bytes as JSON, this one {size}")
    hall = await run_in_threadpool(
        session.scalar, select(DeviceCommand.hall_id).where(DeviceCommand.id == reply.command_id)
    )
    await give_back(session)
    if hall != device.hall_id:  # never another hall's command, nor a made-up one
        raise HTTPException(404, f"no command {reply.command_id} for this device's hall")
    await request.app.state.replies.deliver(reply.command_id, reply.body)
    return Response(status_code=204)
