"""A small stand-in for central's public feed, for the display agent's tests (central's real feed has
its own tests; the end-to-end ones run the agent against it).

A raw asyncio HTTP/1.1 server on loopback in its own thread, so a test controls exactly what goes on
the wire and can cut every connection at once (`stop`), then serve again on the same port (`start`).
It keeps a hall's feed the way the contract says central does: every change gets the next id; a
stream with `Last-Event-ID: N` gets every change after N, or a snapshot when N is pruned (`behind`)
or past the last id (`ahead`); a stream without one starts with a snapshot.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from common.public_feed import FeedSnapshot, PublicCase, SnapshotReason
from tests.hall_display import samples


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class LookupAnswer:
    status: int = 404
    body: dict[str, Any] = field(default_factory=lambda: {"detail": "未找到该办件，或查询密码不正确"})
    headers: dict[str, str] = field(default_factory=dict)


class FakeCentral:
    def __init__(self, *, hall: str = samples.HALL, keepalive_seconds: float = 0.5) -> None:
        self.hall = hall
        self.keepalive_seconds = keepalive_seconds
        self.accepted_keys: set[str] | None = None  # None: any key
        self.silent = False  # send no keep-alives (a stream that hangs)
        self.garbage: bytes | None = None  # sent once to the next stream, after its catch-up
        self.lookup = LookupAnswer()
        self.serve_side_data = True
        self.seen: list[Seen] = []
        self.cases: dict[str, PublicCase] = {c.case_no: c for c in (samples.case(1), samples.case(2))}
        self.events: list[tuple[int, str, str]] = []  # (id, name, data)
        self.last_id = 7
        self.pruned_through = 7  # changes up to this id are gone from the log
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fake-central")
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.Queue[bytes | None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control (from the test's thread) ----------------------------------------------------

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        """Close the port and cut every connection, as a killed central does."""
        self._call(self._stop())

    def close(self) -> None:
        self.stop()
        self._call(self._finish_handlers())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def publish(self, name: str, data: str) -> int:
        """A change: its id, sent to every open stream (kept for later ones while stopped)."""
        return int(self._call(self._publish(name, data)))

    def publish_case(self, case: PublicCase) -> int:
        self.cases[case.case_no] = case
        return self.publish("case", case.model_dump_json())

    def streams_opened(self) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith("/events")]

    def snapshot(self, reason: SnapshotReason = "start") -> FeedSnapshot:
        return samples.snapshot(self.last_id, list(self.cases.values()), reason=reason)

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    # --- the server (on its own loop) ----------------------------------------------------------

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for queue in list(self._streams):
            queue.put_nowait(None)

    async def _finish_handlers(self) -> None:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _publish(self, name: str, data: str) -> int:
        self.last_id += 1
        self.events.append((self.last_id, name, data))
        for queue in list(self._streams):
            queue.put_nowait(_event(name, data, self.last_id))
        return self.last_id

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            seen = await _read_request(reader)
            if seen is None:
                return
            self.seen.append(seen)
            await self._answer(seen, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, seen: Seen, writer: asyncio.StreamWriter) -> None:
        api = f"/api/v1/public/halls/{self.hall}"
        if self.accepted_keys is not None and seen.headers.get("x-device-key") not in self.accepted_keys:
            await _respond(writer, 401, {"detail": "device key refused"})
        elif seen.method == "GET" and seen.path == f"{api}/events":
            await self._stream(seen, writer)
        elif seen.method == "GET" and seen.path == f"{api}/catalog" and self.serve_side_data:
            await _respond(writer, 200, samples.catalog().model_dump(mode="json"))
        elif seen.method == "GET" and seen.path == f"{api}/info" and self.serve_side_data:
            await _respond(writer, 200, samples.info().model_dump(mode="json"))
        elif seen.method == "POST" and seen.path == "/api/v1/public/cases/lookup":
            await _respond(writer, self.lookup.status, self.lookup.body, self.lookup.headers)
        else:
            await _respond(writer, 404, {"detail": "Not Found"})

    async def _stream(self, seen: Seen, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._streams.add(queue)
        try:
            head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            writer.write(f"{head}Connection: close\r\n\r\n".encode())
            writer.write(self._catch_up(seen.headers.get("last-event-id")))
            if self.garbage is not None:
                writer.write(self.garbage)
                self.garbage = None
            await writer.drain()
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.keepalive_seconds)
                except TimeoutError:
                    item = b"" if self.silent else b": keep-alive\n\n"
                if item is None:
                    return
                writer.write(item)
                await writer.drain()
        finally:
            self._streams.discard(queue)

    def _catch_up(self, header: str | None) -> bytes:
        last = int(header) if header is not None and header.isdigit() else None
        if last is not None and self.pruned_through <= last <= self.last_id:
            return b"".join(_event(name, data, i) for i, name, data in self.events if i > last)
        reason: SnapshotReason = "start" if last is None else ("ahead" if last > self.last_id else "behind")
        return _event("snapshot", self.snapshot(reason).model_dump_json(), self.last_id)


def _event(name: str, data: str, event_id: int) -> bytes:
    return f"id: {event_id}\nevent: {name}\ndata: {data}\n\n".encode()


async def _read_request(reader: asyncio.StreamReader) -> Seen | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    return Seen(parts[0], parts[1].split("?")[0], headers, body)


async def _respond(
    writer: asyncio.StreamWriter, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    writer.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        f"{extra}Connection: close\r\n\r\n".encode()
        + data
    )
    await writer.drain()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
