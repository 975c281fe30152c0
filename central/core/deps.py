"""FastAPI dependencies: the session, settings, clock and calendar of the running app.

The calendar is loaded by the function the app factory puts in `app.state.load_calendar`
(`central.calendar.service.load_calendar`): core is below every domain and imports none."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from central.core.config import Settings
from central.core.session_slots import SessionSlots
from common.worktime import WorkCalendar


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session, once one of the app's session slots is free (central.core.session_slots)."""
    slots: SessionSlots = request.app.state.session_slots
    async with slots.session(request.app.state.session_factory) as session:
        yield session


# Plain reads of the app's state: `async` so FastAPI runs them on the event loop, not as one more
# worker-thread step of every request (a request waiting for a thread may hold a database connection).
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]


CalendarLoader = Callable[[Session], WorkCalendar]


def get_calendar(request: Request, session: SessionDep) -> WorkCalendar:
    load: CalendarLoader = request.app.state.load_calendar
    return load(session)


CalendarDep = Annotated[WorkCalendar, Depends(get_calendar)]
