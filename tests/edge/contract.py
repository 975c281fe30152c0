"""A small stand-in for central's side of the edge ↔ central contract (keypads.md), served for real.

It is a fake of the *other side* (the uploader under test talks real HTTP to it): idempotent by
observation id, answers "stored"/"duplicate"/"rejected" per item, 422 for a malformed body, and can be
told to answer 503 or to stop listening, so outages can be staged. Tests against the real central app
live in test_against_central.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field

from common.contract import (
    KeypadHealthIn,
    KeypadPressIn,
    ObservationAnswer,
    ObservationBatch,
    ObservationResult,
    PromptCommand,
)

KEY = "hwk_0123456789abcdef_" + "k" * 43


KeypadObservation = Annotated[KeypadPressIn | KeypadHealthIn, Field(discriminator="kind")]


class Batch(ObservationBatch):
    """Central's batch (`common.contract`) narrowed to what this stand-in stores: keypad kinds, at most
    central's default max_batch_events (a camera observation is answered 422 here)."""

    observations: list[KeypadObservation] = Field(min_length=1, max_length=5000)  # type: ignore[assignment]


@dataclass
class Central:
    """What the fake central has received, and how it should behave next."""

    windows: set[str] = field(default_factory=lambda: {"W01", "W02", "W03"})
    mode: Literal["ok", "503"] = "ok"
    delay_seconds: float = 0.0  # each upload is held this long before it is stored (slow central)
    in_flight: int = 0  # uploads being held right now
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)  # id -> times received
    refused: int = 0  # requests answered 503
    malformed: int = 0  # requests answered 422
    commands: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def presses(self) -> list[dict[str, Any]]:
        with self.lock:
            return [o for o in self.stored.values() if o["kind"] == "keypad_press"]

    def health(self) -> list[dict[str, Any]]:
        with self.lock:
            return [o for o in self.stored.values() if o["kind"] == "keypad_health"]

    def add_prompt(self, window: str, case_no: str, *, expires_at: datetime, **extra: Any) -> None:
        with self.lock:
            prompt = PromptCommand(
                id=len(self.commands) + 1,
                kind="prompt",
                window=window,
                case_no=case_no,
                staff_name=extra.get("staff_name"),
                staff_no=extra.get("staff_no"),
                expires_at=expires_at,
            )
            self.commands.append(prompt.model_dump(mode="json"))

    def add_command(self, command: dict[str, Any]) -> None:
        """A command as a newer central might send it (a kind or a field this contract lacks)."""
        with self.lock:
            self.commands.append({**command, "id": len(self.commands) + 1})


def contract_app(central: Central) -> FastAPI:
    app = FastAPI()

    def check_key(key: str | None) -> None:
        if key != KEY:
            raise HTTPException(401, "a valid device key is needed in X-Device-Key")

    @app.post("/api/v1/device/observations", response_model=ObservationAnswer)
    def observations(batch: Batch, x_device_key: Annotated[str | None, Header()] = None) -> Any:
        check_key(x_device_key)
        if central.delay_seconds:
            with central.lock:
                central.in_flight += 1
            time.sleep(central.delay_seconds)  # a sync handler: it finishes even if the client died
            with central.lock:
                central.in_flight -= 1
        with central.lock:
            if central.mode == "503":
                central.refused += 1
                return JSONResponse({"detail": "staged outage"}, status_code=503)
            return _store(central, batch)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        with central.lock:
            central.malformed += 1
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)

    @app.get("/api/v1/device/commands")
    async def commands(
        after: Annotated[int, Query(ge=0)] = 0,
        wait: Annotated[float, Query(ge=0, le=30)] = 0,
        x_device_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        check_key(x_device_key)
        deadline = time.monotonic() + wait
        while True:
            with central.lock:
                due = [c for c in central.commands if c["id"] > after and _due(c, datetime.now(UTC))]
                cursor = max([after, *(c["id"] for c in central.commands)])
            if due or time.monotonic() >= deadline:
                return {"commands": due, "cursor": cursor}  # as sent: may hold kinds CommandPage lacks
            await asyncio.sleep(0.02)

    return app


def _due(command: dict[str, Any], now: datetime) -> bool:
    expires_at = command.get("expires_at")
    return not isinstance(expires_at, str) or datetime.fromisoformat(expires_at) > now


def _store(central: Central, batch: Batch) -> ObservationAnswer:
    results: list[ObservationResult] = []
    for item in batch.observations:
        central.deliveries[item.id] = central.deliveries.get(item.id, 0) + 1
        if item.window not in central.windows:
            results.append(
                ObservationResult(id=item.id, outcome="rejected", detail=f"no window {item.window}")
            )
        elif item.id in central.stored:
            results.append(ObservationResult(id=item.id, outcome="duplicate"))
        else:
            central.stored[item.id] = item.model_dump(mode="json")
            results.append(ObservationResult(id=item.id, outcome="stored"))
    counts = Counter(r.outcome for r in results)
    return ObservationAnswer(
        results=results, stored=counts["stored"], duplicates=counts["duplicate"], rejected=counts["rejected"]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Any, *, what: str, timeout: float = 30.0) -> None:
    """Poll `condition` until true; fails the test (naming `what`) if it never becomes true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)
