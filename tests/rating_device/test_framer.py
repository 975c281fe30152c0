"""Framer tests as tables of raw bytes (pymodbus style), plus properties of the incremental decoder.

The frames below are written out byte by byte (docs/keypad-protocol.md, "Worked example"); their
CRCs are checked against a bit-by-bit CRC-16/IBM-3740 written here, independent of the codec.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rating_device.protocol import (
    MAX_FRAME,
    Ack,
    Error,
    Frame,
    FrameDecoder,
    Heartbeat,
    Hello,
    Key,
    Prompt,
    crc16,
    encode,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


KEY = h("a5 00 05 03 00 01 00 07 05 00 01 e2 40 19 d9")
ACK = h("a5 00 02 04 00 01 00 03 00 07 d5 f4")
HEARTBEAT = h("a5 00 04 05 00 01 00 08 00 00 ea 60 27 65")
HELLO = h("a5 00 08 01 00 01 00 00 07 65 6d 75 2d 31 2e 30 f5 4a")
HELLO_BROADCAST = h("a5 00 09 01 ff ff 00 01 08 65 64 67 65 20 30 2e 31 1d 1c")
PROMPT = h(
    "a5 00 22 02 00 01 00 2a 06 e5 bc a0 e4 b8 89 04 31 30 30 31 0b 53 43 32 30 32 34 2d 30 30 30 31"
    " 09 e8 af b7 e8 af 84 e4 bb b7 0b 84"
)
PROMPT_EMPTY = h("a5 00 0d 02 00 02 00 01 00 00 00 09 e8 af b7 e8 af 84 e4 bb b7 73 a4")
ERROR = h("a5 00 0b 06 00 01 00 09 03 09 e4 b8 8d e6 94 af e6 8c 81 68 62")
KEY_FULL_OF_A5 = h("a5 00 05 03 a5 a5 00 a5 01 a5 a5 a5 a5 12 0e")  # 0xA5 in device, seq, payload

# Good CRC, bad payload.
KEY_9 = h("a5 00 05 03 00 01 00 07 09 00 00 00 0a 3a 9c")
KEY_0 = h("a5 00 05 03 00 01 00 07 00 00 00 00 0a 92 e0")
HELLO_BAD_UTF8 = h("a5 00 03 01 00 01 00 01 02 ff fe db f4")
HELLO_TRAILING = h("a5 00 03 01 00 01 00 01 01 61 21 83 d2")
HELLO_SHORT = h("a5 00 03 01 00 01 00 01 05 61 62 27 b5")
# Impossible headers.
UNKNOWN_TYPE = h("a5 00 02 7f 00 01 00 01 00 00 04 3d")
ABSURD_LENGTH = h("a5 ff ff 03 00 01 00 07")
ACK_CLAIMING_5 = h("a5 00 05 04 00 01 00 03 00 07 00 00 00")

F_KEY = Frame(1, 7, Key(5, 123456))
F_ACK = Frame(1, 3, Ack(7))
F_HEARTBEAT = Frame(1, 8, Heartbeat(60000))
F_HELLO = Frame(1, 0, Hello("emu-1.0"))
F_HELLO_BROADCAST = Frame(0xFFFF, 1, Hello("edge 0.1"))
F_PROMPT = Frame(1, 42, Prompt("张三", "1001", "SC2024-0001"))
F_PROMPT_EMPTY = Frame(2, 1, Prompt("", "", ""))
F_ERROR = Frame(1, 9, Error(3, "不支持"))
F_KEY_A5 = Frame(0xA5A5, 0xA5, Key(1, 0xA5A5A5A5))

GOOD = [
    ("key", KEY, F_KEY),
    ("ack", ACK, F_ACK),
    ("heartbeat", HEARTBEAT, F_HEARTBEAT),
    ("hello", HELLO, F_HELLO),
    ("hello-broadcast", HELLO_BROADCAST, F_HELLO_BROADCAST),
    ("prompt-chinese", PROMPT, F_PROMPT),
    ("prompt-empty-fields", PROMPT_EMPTY, F_PROMPT_EMPTY),
    ("error", ERROR, F_ERROR),
    ("key-full-of-start-bytes", KEY_FULL_OF_A5, F_KEY_A5),
]

# (name, bytes on the line, frames expected, counters expected)
STREAMS = [
    *[(f"{name}-alone", raw, [frame], {"frames": 1, "garbage_bytes": 0}) for name, raw, frame in GOOD],
    ("garbage-before", h("00 11 ff 5a") + KEY, [F_KEY], {"frames": 1, "garbage_bytes": 4}),
    ("garbage-between", KEY + h("42 42 00") + ACK, [F_KEY, F_ACK], {"garbage_bytes": 3}),
    ("garbage-after", ACK + h("01 02"), [F_ACK], {"garbage_bytes": 2}),
    ("two-frames-one-chunk", KEY + ACK, [F_KEY, F_ACK], {"frames": 2, "garbage_bytes": 0}),
    ("all-types-back-to-back", b"".join(r for _, r, _ in GOOD), [f for *_, f in GOOD], {"garbage_bytes": 0}),
    ("bad-crc-then-good", KEY[:-1] + h("00") + ACK, [F_ACK], {"bad_crc": 1, "frames": 1}),
    ("flipped-payload-bit-then-good", KEY[:9] + h("01") + KEY[10:] + HELLO, [F_HELLO], {"bad_crc": 1}),
    ("truncated-then-good", KEY[:9] + ACK, [F_ACK], {"bad_crc": 1, "garbage_bytes": 9}),
    ("false-start-before-frame", h("a5") + KEY, [F_KEY], {"bad_length": 1, "garbage_bytes": 1}),
    ("false-start-pair", h("a5 a5") + ACK, [F_ACK], {"bad_length": 2, "garbage_bytes": 2}),
    ("absurd-length-then-good", ABSURD_LENGTH + KEY, [F_KEY], {"bad_length": 1, "frames": 1}),
    ("length-wrong-for-type", ACK_CLAIMING_5 + KEY, [F_KEY], {"bad_length": 1, "frames": 1}),
    ("unknown-type-then-good", UNKNOWN_TYPE + ACK, [F_ACK], {"bad_length": 1, "frames": 1}),
    ("key-9", KEY_9 + ACK, [F_ACK], {"bad_payload": 1, "bad_crc": 0, "garbage_bytes": 0}),
    ("key-0", KEY_0, [], {"bad_payload": 1, "frames": 0}),
    ("hello-bad-utf8", HELLO_BAD_UTF8 + ACK, [F_ACK], {"bad_payload": 1}),
    ("hello-trailing-bytes", HELLO_TRAILING, [], {"bad_payload": 1}),
    ("hello-string-overruns", HELLO_SHORT + KEY, [F_KEY], {"bad_payload": 1, "frames": 1}),
    ("only-garbage", bytes(range(256)), [], {"frames": 0}),
    ("empty", b"", [], {"frames": 0, "garbage_bytes": 0}),
]


def _check(decoder: FrameDecoder, got: list[Frame], frames: list[Frame], counts: dict[str, int]) -> None:
    assert got == frames
    stats = decoder.stats.as_dict()
    assert {name: stats[name] for name in counts} == counts


def crc16_bitwise(data: bytes) -> int:
    """CRC-16/IBM-3740 straight from its definition (poly 0x1021, init 0xFFFF, no reflection)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_crc_is_crc16_ibm_3740() -> None:
    assert crc16(b"123456789") == 0x29B1 == crc16_bitwise(b"123456789")
    rng = random.Random(5)
    for size in (0, 1, 2, 17, 602):
        data = rng.randbytes(size)
        assert crc16(data) == crc16_bitwise(data)


@pytest.mark.parametrize(("name", "raw", "frame"), GOOD, ids=[g[0] for g in GOOD])
def test_good_frames_encode_to_the_table(name: str, raw: bytes, frame: Frame) -> None:
    assert encode(frame) == raw
    assert int.from_bytes(raw[-2:]) == crc16_bitwise(raw[1:-2])


@pytest.mark.parametrize(("name", "raw", "frames", "counts"), STREAMS, ids=[s[0] for s in STREAMS])
def test_stream_in_one_chunk(name: str, raw: bytes, frames: list[Frame], counts: dict[str, int]) -> None:
    decoder = FrameDecoder()
    _check(decoder, decoder.feed(raw), frames, counts)


@pytest.mark.parametrize(("name", "raw", "frames", "counts"), STREAMS, ids=[s[0] for s in STREAMS])
def test_stream_byte_by_byte(name: str, raw: bytes, frames: list[Frame], counts: dict[str, int]) -> None:
    decoder = FrameDecoder()
    got = [frame for index in range(len(raw)) for frame in decoder.feed(raw[index : index + 1])]
    _check(decoder, got, frames, counts)


@pytest.mark.parametrize(("name", "raw", "frames", "counts"), STREAMS, ids=[s[0] for s in STREAMS])
def test_stream_split_at_every_boundary(
    name: str, raw: bytes, frames: list[Frame], counts: dict[str, int]
) -> None:
    for cut in range(len(raw) + 1):
        decoder = FrameDecoder()
        got = decoder.feed(raw[:cut]) + decoder.feed(raw[cut:])
        _check(decoder, got, frames, counts)


def test_incomplete_frame_waits_then_completes() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(PROMPT[:-1]) == []
    assert decoder.pending == len(PROMPT) - 1
    assert decoder.feed(PROMPT[-1:]) == [F_PROMPT]
    assert decoder.pending == 0


def test_flush_gives_up_on_a_false_start_holding_a_frame_back() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(h("a5 00 20 02") + ACK) == []  # a PROMPT header claiming 32 bytes waits for 42
    assert decoder.pending == 4 + len(ACK)
    assert decoder.flush() == [F_ACK]
    assert decoder.stats.bad_length == 1
    assert decoder.pending == 0


def test_flush_drops_a_frame_cut_short() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(PROMPT[:20]) == []
    assert decoder.flush() == []
    assert decoder.pending == 0
    assert decoder.feed(KEY) == [F_KEY]


def test_largest_prompt_is_max_frame_and_round_trips() -> None:
    prompt = Prompt("张" * 60, "号" * 40, "川" * 64, "请" * 32)
    raw = encode(Frame(65534, 65535, prompt))
    assert len(raw) == MAX_FRAME == 602
    assert FrameDecoder().feed(raw) == [Frame(65534, 65535, prompt)]


# --- properties -----------------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=20)
messages = st.one_of(
    st.builds(Hello, st.text(st.characters(codec="utf-8"), max_size=8)),
    st.builds(Prompt, texts, texts, texts, texts),
    st.builds(Key, st.integers(1, 5), st.integers(0, 2**32 - 1)),
    st.builds(Ack, st.integers(0, 65535)),
    st.builds(Heartbeat, st.integers(0, 2**32 - 1)),
    st.builds(Error, st.integers(0, 255), texts),
)
frames_st = st.builds(Frame, st.integers(0, 65535), st.integers(0, 65535), messages)


@st.composite
def garbage(draw: st.DrawFn) -> bytes:
    """Noise biased towards what confuses a decoder: start bytes, plausible headers, cut frames."""
    kind = draw(st.sampled_from(["bytes", "starts", "header", "cut-frame", "flipped-frame"]))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    if kind == "starts":
        return b"".join(
            draw(st.lists(st.sampled_from([b"\xa5", b"\x00", b"\xa5\x00", b"\x05\x03"]), max_size=10))
        )
    if kind == "header":
        return h("a5 00 05 03") + draw(st.binary(max_size=12))
    raw = encode(draw(frames_st))
    if kind == "cut-frame":
        return raw[: draw(st.integers(1, len(raw) - 1))]
    index = draw(st.integers(1, len(raw) - 1))  # one flipped bit: CRC-16 always detects it
    return raw[:index] + bytes((raw[index] ^ (1 << draw(st.integers(0, 7))),)) + raw[index + 1 :]


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(garbage(), frames_st), max_size=6),
    garbage(),
    st.lists(st.integers(0, 10_000), max_size=12),
)
def test_any_frames_any_splits_any_garbage_yield_exactly_the_frames(
    pairs: list[tuple[bytes, Frame]], tail: bytes, cuts: list[int]
) -> None:
    noises = [noise for noise, _ in pairs] + [tail]
    assume(all(decode_all(noise) == [] for noise in noises))  # garbage holding no valid frame
    stream = b"".join(noise + encode(frame) for noise, frame in pairs) + tail
    decoder = FrameDecoder()
    got = [frame for chunk in _chunks(stream, cuts) for frame in decoder.feed(chunk)]
    assert decoder.pending <= MAX_FRAME
    assert got + decoder.flush() == [frame for _, frame in pairs]
    assert decoder.pending == 0


def decode_all(data: bytes) -> list[Frame]:
    """Feed, then flush as the edge does when the line goes quiet."""
    decoder = FrameDecoder()
    return decoder.feed(data) + decoder.flush()


@settings(max_examples=200, deadline=None)
@given(frames_st)
def test_every_valid_frame_round_trips(frame: Frame) -> None:
    assert FrameDecoder().feed(encode(frame)) == [frame]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=20))
def test_decoder_never_raises_and_stays_bounded(data: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder()
    for chunk in _chunks(data, cuts):
        decoder.feed(chunk)
        assert decoder.pending <= MAX_FRAME


def test_a_million_random_bytes_make_no_key_press() -> None:
    rng = random.Random(20240501)
    data = rng.randbytes(1_000_000)
    decoder = FrameDecoder()
    frames = [frame for cut in range(0, len(data), 4096) for frame in decoder.feed(data[cut : cut + 4096])]
    assert [f for f in frames if isinstance(f.message, Key)] == []
    assert frames == []  # not even a heartbeat: noise has to pass a header check and a 16-bit CRC
    assert decoder.stats.frames == 0
    assert decoder.stats.garbage_bytes + decoder.pending == len(data)
    assert decoder.flush() == []
