"""central for bench/link.py: the real app (`create_app`, run by uvicorn in this process) plus two
bench-only routes that stand in for a feature that queues a command and waits for its reply (as the
live view will wait for a WebRTC answer):

    POST /bench/commands/{hall_id}?reply_wait=S   queue a command for the hall (committed, the hall's
                                                  waiters notified) and, if S > 0, wait up to S seconds
                                                  for the agent's reply at this instance
    POST /bench/replies/{command_id}              a reply sent over HTTP (the long-poll agents' way)

    python -m bench.link_server --port 8123      (HALLWATCH_DATABASE_URL names the database)
"""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from central.app import create_app
from central.core.config import Settings
from central.core.db import make_engine
from central.devices.command_kinds import queue_command
from central.devices.replies import Replies
from common.contract import PromptPayload

logger = logging.getLogger(__name__)


def bench_app() -> FastAPI:
    settings = Settings()
    app = create_app(settings, engine=make_engine(settings.database_url))
    factory = app.state.session_factory
    replies: Replies = app.state.replies

    def insert(session: Session, hall_id: int) -> int:
        now = app.state.clock()
        command = queue_command(
            session,
            hall_id=hall_id,
            command=PromptPayload(window="W01", case_no="BENCH"),
            now=now,
            expires_at=now + timedelta(minutes=5),
        )
        return command.id

    @app.post("/bench/commands/{hall_id}")
    async def queue(hall_id: int, reply_wait: float = 0) -> dict[str, Any]:
        session = factory()
        try:
            command_id = await run_in_threadpool(insert, session, hall_id)  # flushed: has its id
            if reply_wait <= 0:
                await run_in_threadpool(session.commit)
                return {"id": command_id, "reply": None}
            with replies.expect(command_id) as pending:  # before the commit: the reply is never missed
                await run_in_threadpool(session.commit)
                return {"id": command_id, "reply": await pending.get(reply_wait)}
        finally:
            await run_in_threadpool(session.close)

    @app.post("/bench/replies/{command_id}")
    async def reply(command_id: int, body: dict[str, Any]) -> dict[str, bool]:
        await replies.deliver(command_id, body)
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.link_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(bench_app(), host="127.0.0.1", port=args.port, log_level="warning", ws_max_queue=64)


if __name__ == "__main__":
    main()
