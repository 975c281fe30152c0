"""One end of a keypad line, without I/O: the protocol session both ends share.

docs/keypad-protocol.md, "Sequence numbers" and "Reliability": each side numbers the frames it sends
(u16, wrapping); a reliable frame — a KEY from the keypad, a PROMPT from the edge — is sent again
every RETRANSMIT_INTERVAL_S until its ACK comes, at most MAX_RETRANSMITS times, repeating the
original frame byte for byte; a receiver ACKs such a frame every time it arrives and recognises a
resent one (same seq, same message) so it acts on it once.

`ProtocolSession` keeps exactly that state and nothing else: the edge's keypad reader and the
keypad emulator each wrap it with their own I/O (pyserial, a pty) and their own clock, passed in as
monotonic seconds, as pymodbus's one transport serves client, server and null modem. Not
thread-safe: its owner serialises the calls (both owners call it from their line thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rating_device.framer import Frame
from rating_device.messages import Ack, Message
from rating_device.protocol import MAX_RETRANSMITS, RETRANSMIT_INTERVAL_S

logger = logging.getLogger(__name__)

U16_MAX = 0xFFFF


@dataclass
class Outgoing:
    """A reliable frame waiting for its ACK."""

    frame: Frame
    due: float  # monotonic: when it is sent again
    resends: int = 0


@dataclass(frozen=True)
class Due:
    """What the timers say now: frames to send again, and frames given up (never ACKed)."""

    resend: tuple[Frame, ...]
    given_up: tuple[Frame, ...]


class ProtocolSession:
    def __init__(self, *, device_id: int, first_seq: int = 0) -> None:
        self.device_id = device_id  # on every frame this end sends: its own id, or the addressed keypad's
        self._seq = first_seq & U16_MAX
        self._pending: dict[int, Outgoing] = {}
        self._last_reliable: tuple[int, Message] | None = None  # the last reliable frame received

    # --- sending ------------------------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & U16_MAX
        return self._seq

    def frame(self, message: Message, *, seq: int | None = None) -> Frame:
        """A frame of `message` from this end, with the next seq (or the one given)."""
        return Frame(self.device_id, self.next_seq() if seq is None else seq, message)

    def ack(self, received: Frame) -> Frame:
        """The ACK of a received reliable frame (its seq in the payload)."""
        return self.frame(Ack(received.seq))

    def track(self, frame: Frame, *, now: float) -> None:
        """`frame` was just sent and must be ACKed: send it again until then (see `due`)."""
        self._pending[frame.seq] = Outgoing(frame, now + RETRANSMIT_INTERVAL_S)

    def acknowledged(self, seq: int) -> Frame | None:
        """An ACK for `seq` arrived: the frame it settles (None: nothing of ours was waiting)."""
        outgoing = self._pending.pop(seq, None)
        return None if outgoing is None else outgoing.frame

    def cancel(self, seq: int) -> bool:
        """Stop sending `seq` again (e.g. a PROMPT that expired); True if it was waiting."""
        return self._pending.pop(seq, None) is not None

    def clear(self) -> int:
        """The line is gone: nothing waits any more; returns how many frames were waiting."""
        lost = len(self._pending)
        self._pending.clear()
        return lost

    def due(self, now: float) -> Due:
        """Frames whose ACK is late: the ones to send again now (their timers restart), and the ones
        sent MAX_RETRANSMITS times already (given up, forgotten)."""
        resend, given_up = [], []
        for seq, outgoing in list(self._pending.items()):
            if now < outgoing.due:
                continue
            if outgoing.resends >= MAX_RETRANSMITS:
                del self._pending[seq]
                given_up.append(outgoing.frame)
                continue
            outgoing.resends += 1
            outgoing.due = now + RETRANSMIT_INTERVAL_S
            resend.append(outgoing.frame)
        return Due(tuple(resend), tuple(given_up))

    def next_due(self) -> float | None:
        """The earliest timer (monotonic), for a line thread's sleep."""
        return min((o.due for o in self._pending.values()), default=None)

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def is_waiting(self, seq: int) -> bool:
        return seq in self._pending

    # --- receiving ----------------------------------------------------------------------------

    def is_repeat(self, received: Frame) -> bool:
        """Whether `received` (a reliable frame: ACK it either way) is a resend of the last one —
        same seq, same message — to act on once."""
        key = (received.seq, received.message)
        if self._last_reliable == key:
            return True
        self._last_reliable = key
        return False

    def restart(self, *, first_seq: int) -> None:
        """A new boot or a new connection: a fresh counter, nothing waiting, nothing received."""
        self._seq = first_seq & U16_MAX
        self._pending.clear()
        self._last_reliable = None
