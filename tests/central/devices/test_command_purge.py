"""Expired device commands are purged a day after expiry, except each hall's newest (the agents'
cursor is an id: the newest row keeps SQLite from reusing ids a cursor has passed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.devices.command_kinds import queue_command
from central.devices.commands import fetch_commands
from central.devices.jobs import purge_expired_commands
from central.devices.models import DeviceCommand
from common.contract import PromptPayload

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def queue(session: Session, hall: int, case_no: str, expires_at: datetime) -> int:
    command = queue_command(
        session,
        hall_id=hall,
        command=PromptPayload(window="W01", case_no=case_no),
        expires_at=expires_at,
        now=expires_at - timedelta(minutes=3),
    )
    return command.id


def test_expired_commands_go_a_day_later_but_each_halls_newest_stays(
    session: Session, registry: dict[str, int]
) -> None:
    hall, county = registry["hall"], registry["county_hall"]
    old = [queue(session, hall, f"C{n}", NOW - timedelta(days=3)) for n in range(3)]
    yesterday = queue(session, hall, "C-y", NOW - timedelta(hours=12))
    county_only = queue(session, county, "K1", NOW - timedelta(days=5))
    session.commit()
    assert purge_expired_commands(session, now=NOW) == 3
    session.commit()
    left = set(session.scalars(select(DeviceCommand.id)))
    assert left == {yesterday, county_only}  # within a day of expiry; the county hall's newest
    assert not left & set(old)
    fresh = queue(session, hall, "C-new", NOW + timedelta(minutes=3))
    session.commit()
    assert fresh > max([*old, yesterday, county_only])  # ids never go back
    page = fetch_commands(session, hall_id=hall, after=yesterday, now=NOW)
    assert [c.id for c in page.commands] == [fresh] and page.cursor == fresh
    assert purge_expired_commands(session, now=NOW) == 0
