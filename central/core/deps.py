"""FastAPI dependencies: the session, settings, clock and calendar of the running app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from central.calendar.service import load_calendar
from central.core.config import Settings
from common.worktime import WorkCalendar


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]


def get_calendar(session: SessionDep) -> WorkCalendar:
    return load_calendar(session)


CalendarDep = Annotated[WorkCalendar, Depends(get_calendar)]
