"""A background thread that runs one step over and over, with work posted to it from other threads.

The emulator keeps all line I/O on one thread (no locks around file descriptors); other threads
post actions (a press, an unplug) that run between steps, and wake the thread through a pipe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

CALL_TIMEOUT_S = 10.0
FAILURE_PAUSE_S = 0.05


class LoopThread:
    def __init__(self, name: str, step: Callable[[], None]) -> None:
        self.name = name
        self._step = step
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._open = True
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake()
            thread.join(CALL_TIMEOUT_S)

    def close(self) -> None:
        self.stop()
        if self._open:
            self._open = False
            os.close(self._wake_r)
            os.close(self._wake_w)

    def post(self, action: Callable[[], None]) -> None:
        """Run `action` on the thread between steps (at once, here, when the thread is not running)."""
        if not self.running:
            action()
            return
        self._inbox.put(action)
        self._wake()

    def call(self, action: Callable[[], None]) -> None:
        """Run `action` on the thread and wait until it has run; what it raised is raised here."""
        done = threading.Event()
        failures: list[Exception] = []

        def wrapped() -> None:
            try:
                action()
            except Exception as exc:  # the caller's to handle (e.g. a port that will not reopen)
                failures.append(exc)
            finally:
                done.set()

        self.post(wrapped)
        if not done.wait(CALL_TIMEOUT_S):
            raise TimeoutError(f"{self.name} did not answer")
        if failures:
            raise failures[0]

    def wait(self, fds: list[int], timeout: float) -> list[int]:
        """Sleep until one of `fds` is readable, something is posted, or `timeout`; the ready fds."""
        ready, _, _ = select.select([self._wake_r, *fds], [], [], max(timeout, 0.0))
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
        return [fd for fd in ready if fd != self._wake_r]

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe wakes the thread already; closed: stopped
            os.write(self._wake_w, b"!")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._drain()
                self._step()
            except Exception:
                logger.exception("%s: step failed", self.name)
                self._stopping.wait(FAILURE_PAUSE_S)

    def _drain(self) -> None:
        while True:
            try:
                action = self._inbox.get_nowait()
            except queue.Empty:
                return
            action()
