"""A real RTSP camera for the tests: GStreamer's RTSP server (tests/rtsp_camera_server.py) serving
H.264 on loopback, in a process of Debian's python3, which has GStreamer's bindings (the venv has none).

It can be stopped (the camera loses power: its connections close) and started again on the same
port, and it counts its RTSP clients, so a test can prove the edge opens the camera once. Frame n
is `pattern_image(n, width, height)` of tests/edge/video/cameras.py (blue top half, red left quarter,
a moving white bar), H.264-encoded. The Debian packages come with `make test` (the Makefile's
`gstreamer` target); without them the tests that need the camera are skipped, saying what is missing.
"""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import threading
from pathlib import Path
from typing import IO

import numpy as np

logger = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).with_name("rtsp_camera_server.py")
START_S = 30.0
# The readers' stall_seconds for this camera: FFmpeg probes about 30 frames of H.264 when it opens an
# RTSP stream (~1.2 s at 25 fps), and the open timeout is twice the stall; room for a busy machine.
STALL_SECONDS = 3.0


@functools.cache
def missing() -> str | None:
    """Why this machine cannot run the camera (what to install), or None."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (the RTSP camera runs on Debian's python3); `make gstreamer` installs it"
    done = subprocess.run([SYSTEM_PYTHON, str(SERVER), "--check"], capture_output=True, text=True, timeout=60)
    if done.returncode == 0:
        return None
    why = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:] or ["no answer"]
    return f"{why[0]}; `make gstreamer` installs it"


class RtspCamera:
    """The camera at `url` (rtsp://127.0.0.1:PORT/cam); `start()` it, `stop()`, `start()` again."""

    def __init__(self, *, width: int = 320, height: int = 240, fps: int = 25, path: str = "/cam") -> None:
        self.size, self.fps, self.path = (width, height), fps, path
        self.port = 0  # chosen by the first start, kept by every later one
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._events: dict[str, int] = {"connected": 0, "session": 0, "closed": 0}

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    @property
    def connections(self) -> int:
        """RTSP client connections accepted since the first start."""
        with self._lock:
            return self._events["connected"]

    @property
    def sessions(self) -> int:
        """RTSP sessions (SETUP) made since the first start."""
        with self._lock:
            return self._events["session"]

    @property
    def clients_now(self) -> int:
        """Client connections open now."""
        with self._lock:
            return self._events["connected"] - self._events["closed"]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        assert not self.running, "the camera is running already"
        width, height = self.size
        args = ["--port", str(self.port), "--path", self.path, "--width", str(width), "--height", str(height)]
        process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER), *args, "--fps", str(self.fps)],
            stdin=subprocess.PIPE,  # the server exits when this closes, even if the test dies
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        ready: list[int] = []
        got_ready = threading.Event()
        threading.Thread(
            target=self._listen, args=(process.stdout, ready, got_ready), name="rtsp-camera", daemon=True
        ).start()
        if not got_ready.wait(START_S) or not ready:
            process.kill()
            process.wait()
            raise RuntimeError(f"the RTSP camera did not start on port {self.port} (exit {process.poll()})")
        self._process, self.port = process, ready[0]
        logger.info("RTSP camera serving %s", self.url)

    def stop(self) -> None:
        """Power off: the process ends and the kernel closes every client's connection."""
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        with self._lock:  # a killed server says nothing more: its connections are all gone
            self._events["closed"] = self._events["connected"]
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()

    def _listen(self, out: IO[str], ready: list[int], got_ready: threading.Event) -> None:
        try:
            for line in out:
                event = json.loads(line)
                if "ready" in event:
                    ready.append(int(event["ready"]))
                    got_ready.set()
                    continue
                with self._lock:
                    self._events[event["event"]] += 1
        except (ValueError, OSError):  # the pipe closed under us (stop), or a stray line
            logger.debug("RTSP camera: stopped listening", exc_info=True)
        finally:
            got_ready.set()


def assert_pattern(image: np.ndarray) -> None:
    """`image` is the camera's picture (tests/edge/video/cameras.py's pattern_image) through H.264:
    blue top right, red left quarter, black bottom right; medians, as a white bar moves across."""
    height, width = image.shape[:2]
    top_right = np.median(image[: height // 2 - 4, width // 4 + 4 :].reshape(-1, 3), axis=0)
    left = np.median(image[:, : width // 4 - 4].reshape(-1, 3), axis=0)
    bottom_right = np.median(image[height // 2 + 4 :, width // 4 + 4 :].reshape(-1, 3), axis=0)
    assert np.abs(top_right - (200, 60, 0)).max() < 24, top_right
    assert np.abs(left - (0, 0, 220)).max() < 24, left
    assert bottom_right.max() < 24, bottom_right
