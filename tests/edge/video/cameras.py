"""Cameras for the capture tests: video files written with OpenCV, and a real HTTP MJPEG camera on
loopback (multipart/x-mixed-replace) with faults on demand.

Like the keypad emulator, it behaves like the device on the wire: it can hang (pause: the TCP
connection stays open and silent, as a frozen camera does), send one corrupt JPEG part, and switch
resolution mid-stream. Frame n shows a bar at a position that moves with n, and each connection
starts again at frame 0.
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import socket
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.video.config import CameraConfig

logger = logging.getLogger(__name__)

BOUNDARY = b"hallwatchframe"
FILE_FRAMES = 12
FILE_FPS = 20.0


def write_video(
    path: Path, *, frames: int = FILE_FRAMES, fps: float = FILE_FPS, size: tuple[int, int] = (160, 120)
) -> Path:
    """An MJPG .avi whose frame i is uniformly grey at level 10 + 20 i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 10 + 20 * i, np.uint8))
    writer.release()
    return path


def camera(source: dict[str, Any], **fields: Any) -> CameraConfig:
    return CameraConfig.model_validate({"name": "CAM-T", "source": source, **fields})


def pattern_image(number: int, width: int, height: int) -> np.ndarray:
    """A picture that is not uniform (blue top, red left, a moving white bar)."""
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = (200, 60, 0)
    image[:, : width // 4] = (0, 0, 220)
    x = (number * 7) % max(width - 8, 1)
    image[:, x : x + 8] = 255
    return image


class MjpegCamera:
    def __init__(
        self, *, width: int = 320, height: int = 240, fps: float = 25.0, content_length: bool = True
    ) -> None:
        self.size = (width, height)
        self.content_length = content_length  # many cheap cameras send parts without it
        self.fps = fps
        self.paused = threading.Event()
        self._corrupt_next: bytes | None = None
        self._lock = threading.Lock()
        self.connections = 0
        self.parts_sent = 0
        camera = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                logger.debug(format, *args)

            def do_GET(self) -> None:
                with camera._lock:
                    camera.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                with contextlib.suppress(OSError):  # the client went away
                    camera._serve(self.wfile)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self._closed = threading.Event()
        threading.Thread(target=self._server.serve_forever, name="mjpeg-camera", daemon=True).start()

    def corrupt_next(self, data: bytes) -> None:
        """The next part sent carries these bytes instead of a JPEG."""
        with self._lock:
            self._corrupt_next = data

    def jpeg(self, number: int) -> bytes:
        ok, data = cv2.imencode(".jpg", pattern_image(number, *self.size))
        assert ok
        return data.tobytes()

    def close(self) -> None:
        self._closed.set()
        self.paused.clear()
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, out: Any) -> None:
        number = 0
        while not self._closed.is_set():
            if self.paused.is_set():  # a hung camera: the connection stays open, nothing comes
                time.sleep(0.02)
                continue
            with self._lock:
                data, self._corrupt_next = self._corrupt_next or self.jpeg(number), None
                self.parts_sent += 1
            length = b"Content-Length: %d\r\n" % len(data) if self.content_length else b""
            head = b"--%s\r\nContent-Type: image/jpeg\r\n%s\r\n" % (BOUNDARY, length)
            out.write(head + data + b"\r\n")
            number += 1
            time.sleep(1 / self.fps)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SilentServer:
    """Accepts TCP connections and never answers: a camera that hangs before the first byte."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = int(self._sock.getsockname()[1])
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        self._sock.close()
        for conn in self._held:
            conn.close()
