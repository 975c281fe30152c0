"""The protocol session both ends share (rating_device.session): sequence numbers, resends until the
ACK, giving up, and a resent frame recognised — on a clock the test moves."""

from __future__ import annotations

import pytest

from rating_device.protocol import BROADCAST, MAX_RETRANSMITS, RETRANSMIT_INTERVAL_S, Ack, Hello, Key, Prompt
from rating_device.session import ProtocolSession


def test_sequence_numbers_go_up_by_one_and_wrap() -> None:
    session = ProtocolSession(device_id=7, first_seq=0xFFFE)
    frames = [session.frame(Hello("fw")) for _ in range(3)]
    assert [f.seq for f in frames] == [0xFFFF, 0, 1]
    assert {f.device_id for f in frames} == {7}
    assert session.frame(Hello("fw"), seq=42).seq == 42  # a press keeps the seq it was given
    assert session.ack(frames[0]).message == Ack(0xFFFF)


@pytest.mark.parametrize(
    ("ack_after_resends", "resends", "given_up"),
    [
        (0, 0, False),  # ACKed before its timer ran out
        (2, 2, False),
        (MAX_RETRANSMITS, MAX_RETRANSMITS, False),  # the ACK of the last resend still counts
        (None, MAX_RETRANSMITS, True),  # never ACKed: 1 + MAX_RETRANSMITS sends, then given up
    ],
)
def test_a_reliable_frame_is_resent_until_its_ack_at_most_max_retransmits_times(
    ack_after_resends: int | None, resends: int, given_up: bool
) -> None:
    session = ProtocolSession(device_id=BROADCAST)
    frame = session.frame(Prompt("张三", "S001", "C1"))
    now = 100.0
    session.track(frame, now=now)
    sent_again = 0
    gave_up = False
    for _ in range(MAX_RETRANSMITS + 2):
        if ack_after_resends is not None and sent_again == ack_after_resends:
            assert session.acknowledged(frame.seq) == frame
            break
        assert session.next_due() == pytest.approx(now + RETRANSMIT_INTERVAL_S)
        assert session.due(now + RETRANSMIT_INTERVAL_S / 2).resend == ()  # not late yet
        now += RETRANSMIT_INTERVAL_S
        due = session.due(now)
        sent_again += len(due.resend)
        assert all(f == frame for f in due.resend)  # byte for byte the same frame
        if due.given_up:
            gave_up = True
            break
    assert (sent_again, gave_up) == (resends, given_up)
    assert session.waiting == 0 and session.next_due() is None


def test_acks_of_unknown_seqs_cancel_and_clear() -> None:
    session = ProtocolSession(device_id=1)
    first, second = session.frame(Key(5, 10)), session.frame(Key(4, 20))
    session.track(first, now=0.0)
    session.track(second, now=0.0)
    assert session.acknowledged(999) is None and session.waiting == 2
    assert session.cancel(first.seq) and not session.cancel(first.seq)
    assert session.is_waiting(second.seq) and not session.is_waiting(first.seq)
    assert session.clear() == 1 and session.waiting == 0


def test_a_resent_frame_is_recognised_once_and_a_new_one_is_not_a_repeat() -> None:
    keypad = ProtocolSession(device_id=7)
    edge = ProtocolSession(device_id=7)
    prompt = edge.frame(Prompt("张三", "S001", "C1"))
    assert keypad.is_repeat(prompt) is False  # shown
    assert keypad.is_repeat(prompt) is True  # the resend: ACKed again, not shown again
    other = edge.frame(Prompt("张三", "S001", "C1"))  # the same text with a new seq is a new prompt
    assert keypad.is_repeat(other) is False
    keypad.restart(first_seq=5)
    assert keypad.is_repeat(other) is False and keypad.frame(Hello("fw")).seq == 6
