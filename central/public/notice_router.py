"""Administering a hall's screen notices (signed in, registry.write, within the hall's jurisdiction)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from central.access.deps import Principal, require
from central.access.roles import Permission
from central.core.deps import NowDep, SessionDep
from central.public.notices import add_notice, end_notice
from central.public.snapshot import active_notices, hall_by_code
from common.public_feed import Notice, NoticeList

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/halls", tags=["public"])
RegistryWriter = Annotated[Principal, Depends(require(Permission.REGISTRY_WRITE))]


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=500, description="Shown on the hall's screens as written")


def _hall_id(session: SessionDep, code: str, principal: Principal) -> int:
    hall = hall_by_code(session, code)
    if hall is None or not principal.jurisdiction.covers_hall(hall.id):
        raise HTTPException(404, f"no hall {code!r} in your jurisdiction")
    return hall.id


@router.get("/{hall}/notices", response_model=NoticeList)
def list_notices(hall: str, session: SessionDep, principal: RegistryWriter) -> NoticeList:
    return NoticeList(notices=active_notices(session, hall_id=_hall_id(session, hall, principal)))


@router.post("/{hall}/notices", response_model=Notice, status_code=201)
def post_notice(
    hall: str, body: NoticeIn, session: SessionDep, now: NowDep, principal: RegistryWriter
) -> Notice:
    """A notice onto the hall's screens at once (ID and phone numbers in it are cut out). Audited."""
    hall_id = _hall_id(session, hall, principal)
    return add_notice(session, hall_id=hall_id, text=body.text, actor=principal.actor, now=now)


@router.delete("/{hall}/notices/{notice_id}", status_code=204)
def delete_notice(
    hall: str, notice_id: int, session: SessionDep, now: NowDep, principal: RegistryWriter
) -> None:
    """The notice leaves the screens (kept on record). Audited."""
    if not end_notice(
        session,
        hall_id=_hall_id(session, hall, principal),
        notice_id=notice_id,
        actor=principal.actor,
        now=now,
    ):
        raise HTTPException(404, f"no notice {notice_id} showing at hall {hall!r}")
