"""Shared pieces of the public feed's tests: case events of the test registry's hall, and a Server-Sent
Events reader on a thread (httpx streaming) that a test reads message by message."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from tests.central.cases.helpers import HALL, ev

FEED = f"/api/v1/public/halls/{HALL}"


def received(event_id: str, case_no: str, at: str, applicant: str = "张三明", **extra: Any) -> dict[str, Any]:
    return ev(
        event_id,
        case_no,
        "received",
        at,
        applicant_name=applicant,
        window_code="W01",
        staff_code="S001",
        **extra,
    )


@dataclass(frozen=True)
class Message:
    id: int | None
    event: str
    data: Any


class SseReader:
    """Reads `url` on a thread; `next()` answers the next message (keep-alive comments skipped)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.messages: queue.Queue[Message | BaseException] = queue.Queue()
        self.status: int | None = None
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=60.0))
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if "data" in fields:
                            self.messages.put(
                                Message(
                                    int(fields["id"]) if "id" in fields else None,
                                    fields.get("event", "message"),
                                    json.loads(fields["data"]),
                                )
                            )
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
            self.messages.put(EOFError(f"the stream ended (HTTP {self.status})"))
        except BaseException as exc:
            if not self._stop.is_set():
                self.messages.put(exc)

    def next(self, timeout: float = 15.0) -> Message:
        item = self.messages.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def pending(self) -> bool:
        return not self.messages.empty()

    def close(self) -> None:
        self._stop.set()
        self._client.close()
        self._thread.join(timeout=0.2)  # a blocked read ends with the server; the thread is a daemon
