"""The SSE parser against the event-stream rules, whatever way the bytes are split, garbage included."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall_display.sse import SseError, SseEvent, SseParser, encode_comment, encode_event


def parse(*chunks: bytes) -> list[SseEvent]:
    parser = SseParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


def ev(event: str, data: str, event_id: str | None = None) -> SseEvent:
    return SseEvent(event, data, event_id)


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"id: 1\nevent: case\ndata: {}\n\n", [ev("case", "{}", "1")]),
        (b"data: a\ndata: b\n\n", [ev("message", "a\nb")]),  # multi-line data
        (b"data:no space\n\n", [ev("message", "no space")]),
        (b"data:  two spaces\n\n", [ev("message", " two spaces")]),  # only one space is stripped
        (b"data\n\n", [ev("message", "")]),  # a field without a colon
        (b"data: x\r\n\r\n", [ev("message", "x")]),  # CRLF
        (b"data: x\r\rdata: y\r\r", [ev("message", "x"), ev("message", "y")]),  # CR
        (b": keep-alive\n\n", []),  # a comment only
        (b": c\ndata: x\n: c2\n\n", [ev("message", "x")]),
        (b"event: case\n\n", []),  # no data: nothing dispatched, the event name forgotten
        (b"event: case\n\ndata: x\n\n", [ev("message", "x")]),
        (b"id: 5\ndata: a\n\ndata: b\n\n", [ev("message", "a", "5"), ev("message", "b", "5")]),  # id persists
        (b"id: 5\ndata: a\n\nid\ndata: b\n\n", [ev("message", "a", "5"), ev("message", "b", "")]),  # id reset
        (b"id: 5\ndata: a\n\nid: 6\x00\ndata: b\n\n", [ev("message", "a", "5"), ev("message", "b", "5")]),
        (b"data: x\n", []),  # unfinished at the end: dropped
        (b"\xef\xbb\xbfdata: bom\n\n", [ev("message", "bom")]),
        (b"retry: 3000\nfoo: bar\nDATA: x\ndata: y\n\n", [ev("message", "y")]),  # unknown fields skipped
        (b"data: \xff\xfe\n\n", [ev("message", "\ufffd\ufffd")]),  # not UTF-8: replaced, not a crash
        ("data: 张*明 \u2028 行\n\n".encode(), [ev("message", "张*明 \u2028 行")]),
        (b"\n\n\n", []),
    ],
)
def test_streams(stream: bytes, expected: list[SseEvent]) -> None:
    assert parse(stream) == expected


@pytest.mark.parametrize(
    ("line", "retry"),
    [(b"retry: 2500", 2500), (b"retry: 2.5", None), (b"retry: -1", None), (b"retry:", None)],
)
def test_retry_takes_digits_only(line: bytes, retry: int | None) -> None:
    parser = SseParser()
    parser.feed(line + b"\n\n")
    assert parser.retry_ms == retry


def test_comments_are_counted() -> None:
    parser = SseParser()
    parser.feed(b": keep-alive\n\n: keep-alive\n\n")
    assert parser.comments == 2


STREAM = 'id: 41\nevent: case\ndata: {"stage": "承办中"}\r\n\r\n: ka\r\rid: 42\r\nevent: summary\ndata: a\ndata: b\n\n'


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM.encode())), max_size=20))
def test_any_split_of_the_bytes_gives_the_same_events(cuts: list[int]) -> None:
    """Chunks split lines, CRLF pairs and UTF-8 characters anywhere."""
    data = STREAM.encode()
    bounds = [0, *sorted(cuts), len(data)]
    chunks = [data[a:b] for a, b in pairwise(bounds)]
    assert parse(*chunks) == [ev("case", '{"stage": "承办中"}', "41"), ev("summary", "a\nb", "42")]


def test_a_cr_at_the_end_of_a_chunk_pairs_with_the_lf_of_the_next() -> None:
    # Were the LF taken as a second line end, the blank line would dispatch "x" with no event name.
    assert parse(b"event: case\r", b"\ndata: x\r", b"\n\r", b"\n") == [ev("case", "x")]


@given(st.binary(max_size=300))
def test_garbage_never_crashes_the_parser(garbage: bytes) -> None:
    events = parse(garbage, b"\n\nid: 9\nevent: case\ndata: ok\n\n")
    assert events[-1] == ev("case", "ok", "9")


def test_a_line_without_end_beyond_the_limit_is_an_error() -> None:
    parser = SseParser(max_line_bytes=100)
    parser.feed(b"data: " + b"x" * 90)
    with pytest.raises(SseError):
        parser.feed(b"x" * 20)


@pytest.mark.parametrize(
    ("event", "data", "event_id"),
    [
        ("case", '{"a": 1}', 7),
        ("snapshot", "line one\nline two", 0),
        (None, "", None),
        ("status", "a\r\nb\rc", None),
    ],
)
def test_what_the_agent_writes_reads_back(event: str | None, data: str, event_id: int | None) -> None:
    written = encode_comment("keep-alive") + encode_event(event, data, event_id)
    expected = data.replace("\r\n", "\n").replace("\r", "\n")
    assert parse(written) == [ev(event or "message", expected, None if event_id is None else str(event_id))]
