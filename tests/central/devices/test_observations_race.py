"""Two uploads of the same outbox rows at once: the loser's insert hits the unique constraint, its
batch is decided again and answers duplicate — no 500, nothing stored twice (both databases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.orm import Session

from central.calendar.service import load_calendar
from central.core.clock import to_utc
from central.devices.keys import authenticate_device
from central.devices.service import ingest_observations
from central.ratings.keypad_observations import KEYPAD_HANDLERS
from central.ratings.models import KeypadPress, Rating
from central.registry.models import ServiceWindow
from common.contract import ObservationBatch
from common.profiles import DEFAULT_PROFILE_KEY
from tests.central.devices.helpers import edge, press, seconds
from tests.conftest import FakeClock

__all__ = ["edge"]


def test_a_concurrent_duplicate_insert_is_answered_as_duplicate(
    db: Engine, edge, session: Session, clock: FakeClock
) -> None:
    device = authenticate_device(session, presented=edge["EDGE-P"]["X-Device-Key"], now=clock())
    assert device is not None
    items = [press(seconds(clock, -10), 5, seq=1), press(seconds(clock, -5), 4, seq=2)]
    batch = ObservationBatch.model_validate({"observations": items})
    window_id = session.scalar(select(ServiceWindow.id).where(ServiceWindow.code == "W01"))

    raced: list[bool] = []

    def other_upload_commits_first(*args: Any) -> None:
        """Between this batch's duplicate check and its first write, another request stores item 1."""
        statement: str = args[2]
        if not statement.lstrip().upper().startswith("INSERT") or raced:
            return
        raced.append(True)
        first = items[0]
        with db.begin() as conn:
            conn.execute(
                insert(KeypadPress).values(
                    device_id=device.device_id,
                    observation_id=first["id"],
                    window_id=window_id,
                    keypad=first["keypad"],
                    keypad_seq=first["seq"],
                    key=first["key"],
                    uptime_ms=first["uptime_ms"],
                    pressed_at=to_utc(batch.observations[0].at),
                    received_at=clock(),
                    rating_id=None,
                    outcome="bound",
                )
            )

    calendar = load_calendar(session)
    # At the cursor, below the ORM: the batch's rows go in as bulk statements (central.core.bulk).
    event.listen(db, "before_cursor_execute", other_upload_commits_first)
    try:
        answer = ingest_observations(
            session,
            device=device,
            observations=batch.observations,
            now=clock(),
            calendar=calendar,
            default_profile_key=DEFAULT_PROFILE_KEY,
            handlers=KEYPAD_HANDLERS,
        )
    finally:
        event.remove(db, "before_cursor_execute", other_upload_commits_first)
    assert raced == [True]
    assert [r.outcome for r in answer.results] == ["duplicate", "stored"]
    session.expire_all()
    assert session.scalar(select(func.count(KeypadPress.id))) == 2
    assert session.scalar(select(func.count(Rating.id))) == 1  # the first attempt's rating was rolled back
