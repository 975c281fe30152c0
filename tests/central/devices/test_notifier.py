"""The notifier: a commit on one instance wakes the waiters of another (two notifiers on one database
stand for two processes: PostgreSQL delivers through LISTEN either way), and a dropped LISTEN
connection comes back and makes every waiter re-read."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, text

from central.core.db import make_engine, make_session_factory
from central.devices.notifier import COMMANDS, KEY_REVOKED, Notifier, publish_after_commit
from tests.edge.contract import wait_until


def test_a_commit_through_one_notifiers_database_wakes_the_other_instances_waiters(db: Engine) -> None:
    other_engine = make_engine(db.url.render_as_string(hide_password=False))  # as another process has
    here, there = Notifier(db), Notifier(other_engine)
    assert here.wait_listening(30) and there.wait_listening(30)

    def commit() -> None:
        with make_session_factory(db)() as session:
            publish_after_commit(session, KEY_REVOKED, "0123456789abcdef")
            session.commit()

    async def scenario() -> tuple[bool, bool]:
        with there.subscribe(KEY_REVOKED, "0123456789abcdef") as key, there.subscribe(COMMANDS, "1") as hall:
            await asyncio.to_thread(commit)
            assert await key.wait(30)
            return key.fired, hall.fired

    try:
        assert asyncio.run(scenario()) == (True, False)
    finally:
        here.stop()
        there.stop()
        other_engine.dispose()


def test_a_dropped_listen_connection_comes_back_and_waiters_re_read(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("LISTEN is PostgreSQL's; SQLite notifies in process")
    notifier = Notifier(db)
    assert notifier.wait_listening(30)
    listener = notifier._listener
    assert listener is not None and listener.backend_pid is not None

    async def scenario() -> tuple[bool, bool]:
        with notifier.subscribe(COMMANDS, "3") as hall:
            with db.begin() as conn:  # as a PostgreSQL restart or a network cut would
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid})
            await asyncio.to_thread(wait_until, lambda: listener.connects >= 2, what="LISTEN back")
            assert await hall.wait(30)  # woken to re-read: a publish may have been lost meanwhile
            stale, fired = hall.stale, hall.fired
            hall.wake.clear()
            with make_session_factory(db)() as session:
                publish_after_commit(session, COMMANDS, "3")
                session.commit()
            assert await hall.wait(30)  # and publishes arrive again
            return stale and not fired, hall.fired

    try:
        assert asyncio.run(scenario()) == (True, True)
    finally:
        notifier.stop()
