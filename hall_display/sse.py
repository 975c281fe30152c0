"""An incremental Server-Sent Events parser (the WHATWG "event stream" rules) and the writer for the
agent's own stream to its pages.

Bytes arrive in chunks that may split a line, a CRLF or a UTF-8 character anywhere; lines end with
CRLF, LF or CR. `data` lines join with newlines, `:` lines are comments (keep-alives), `id` persists
until changed (the last event id a reconnect sends), `retry` takes digits only, and a field this
parser does not know is skipped. An unfinished event at the end of the stream is dropped, as a browser
drops it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_LINE_END = re.compile(rb"\r\n|\r|\n")
MAX_LINE_BYTES = 16 * 1024 * 1024  # a snapshot of a large hall is a few MB on one line


class SseError(ValueError):
    """The stream cannot be an event stream (a line longer than any event of the feed)."""


@dataclass(frozen=True)
class SseEvent:
    event: str  # "message" when the event named none
    data: str
    id: str | None  # the last event id when it was dispatched (None: the stream never set one)


class SseParser:
    def __init__(self, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self.last_id: str | None = None
        self.retry_ms: int | None = None  # the server's reconnection time, when it gave one
        self.comments = 0
        self._buffer = b""
        self._skip_lf = False  # the last chunk ended in CR: a LF first in the next one is its pair
        self._first_line = True
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events this chunk completes, in order."""
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = False
        buffer = self._buffer + chunk if self._buffer else chunk
        events: list[SseEvent] = []
        start = 0
        for match in _LINE_END.finditer(buffer):
            if match.group() == b"\r" and match.end() == len(buffer):
                self._skip_lf = True
            self._line(buffer[start : match.start()], events)
            start = match.end()
        self._buffer = buffer[start:]
        if len(self._buffer) > self.max_line_bytes:
            raise SseError(f"a line longer than {self.max_line_bytes} bytes")
        return events

    def _line(self, raw: bytes, events: list[SseEvent]) -> None:
        line = raw.decode("utf-8", errors="replace")
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            self._dispatch(events)
        elif line.startswith(":"):
            self.comments += 1
        else:
            name, colon, value = line.partition(":")
            self._field(name, value.removeprefix(" ") if colon else "")

    def _field(self, name: str, value: str) -> None:
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)

    def _dispatch(self, events: list[SseEvent]) -> None:
        if self._data:
            events.append(SseEvent(self._event or "message", "\n".join(self._data), self.last_id))
        self._event = ""
        self._data = []


def encode_event(event: str | None, data: str, event_id: int | None = None) -> bytes:
    """One event as the stream carries it (a data line per line of `data`)."""
    parts = [f"id: {event_id}\n" if event_id is not None else ""]
    parts.append(f"event: {event}\n" if event else "")
    # Only CR and LF end a line of the stream (str.splitlines would also split at U+2028 in a name).
    parts.extend(f"data: {line}\n" for line in re.split(r"\r\n|\r|\n", data))
    return ("".join(parts) + "\n").encode("utf-8")


def encode_comment(text: str) -> bytes:
    return f": {text}\n\n".encode()
