"""Messages validate themselves: an invalid one cannot be built or encoded, and says which field."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rating_device.protocol import (
    BROADCAST,
    Ack,
    Error,
    Frame,
    FrameDecoder,
    Heartbeat,
    Hello,
    Key,
    MessageType,
    Prompt,
    encode,
)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Key(0, 1), "key must be between 1 and 5, got 0"),
        (lambda: Key(6, 1), "key must be between 1 and 5, got 6"),
        (lambda: Key(True, 1), "key must be an int"),
        (lambda: Key(5, -1), "uptime_ms must be between 0 and 4294967295"),
        (lambda: Key(5, 2**32), "uptime_ms must be between"),
        (lambda: Ack(65536), "seq must be between 0 and 65535"),
        (lambda: Heartbeat(-5), "uptime_ms"),
        (lambda: Hello("x" * 33), "firmware is 33 bytes in UTF-8, at most 32"),
        (lambda: Hello("\ud800"), "firmware is not encodable as UTF-8"),
        (lambda: Prompt("张" * 61, "1", "C1"), "staff_name is 183 bytes in UTF-8, at most 180"),
        (lambda: Prompt("张三", "1" * 121, "C1"), "staff_no is 121 bytes"),
        (lambda: Prompt("张三", "1", "川" * 65), "case_no is 195 bytes"),
        (lambda: Prompt("张三", "1", "C1", "请" * 33), "text is 99 bytes"),
        (lambda: Prompt("张三", 1, "C1"), "staff_no must be a str"),  # type: ignore[arg-type]
        (lambda: Error(256, "x"), "code must be between 0 and 255"),
        (lambda: Error(1, "错" * 67), "text is 201 bytes"),
        (lambda: Frame(1, 65536, Ack(1)), "seq must be an int between 0 and 65535"),
        (lambda: Frame(-1, 0, Ack(1)), "device_id must be an int"),
        (lambda: Frame(1, 0, "KEY 5"), "message must be a protocol message"),  # type: ignore[arg-type]
    ],
)
def test_invalid_messages_are_refused_with_the_field_named(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        build()


def test_chinese_prompt_at_the_limits_fits() -> None:
    prompt = Prompt("张" * 60, "号" * 40, "川" * 64, "请" * 32)
    assert FrameDecoder().feed(encode(Frame(1, 1, prompt))) == [Frame(1, 1, prompt)]


def test_types_and_broadcast() -> None:
    assert [t.value for t in MessageType] == [1, 2, 3, 4, 5, 6]
    assert BROADCAST == 0xFFFF
    assert Prompt("", "", "").text == "请评价"
