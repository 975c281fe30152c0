"""Glass-to-glass latency of a live view: camera → edge publisher → WebRTC on loopback → Chromium.

A stamped camera (bench.live_stamp: each frame carries its capture time, drawn as blocks) at 1280x720
(25 fps by default, as many IP cameras; the profile takes 15 of them a second) is read by the
agent's real capture (CameraReader) and published by the real `LivePublisher` in its `focus` profile
(1280x720 at 15 fps). Headless Chromium (Debian's, under Playwright) receives it on a
page the bench serves itself on 127.0.0.1 (bench/glass.html); signalling goes straight to
`LivePublisher.answer` (central's relay is not on the media path: bench.live_first_frame covers it).
As each frame is presented (requestVideoFrameCallback) the page reads the stamp back from the
picture and notes the frame's times on the page's wall clock, `performance.timeOrigin +
performance.now()`, which is the clock of Python's time.time() on one machine (checked at the
start: `clock_offset`). Glass-to-glass is from the capture to the frame's display: the later of its
expected display time and the time it was handed to the compositor (headless Chromium has no
screen: it expects the frame on its next begin-frame, sometimes before the hand-over it reports).
The receive time (last packet in) splits it into the edge and network part and the browser's part.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from bench.live import render_bank
from bench.live_browser import browser_page
from bench.live_stamp import ORIGIN, StampedCamera, draw_stamp, full_time, read_stamp
from edge.live.config import LiveConfig
from edge.live.publisher import LiveCamera, LivePublisher
from edge.video.capture import CameraReader
from edge.video.config import CameraConfig
from edge.video.privacy import apply_privacy_masks, camera_masks
from edge.video.scene import make_scene

logger = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("glass.html")
CAMERA = "CAM-GLASS"
WARM_UP_FRAMES = 30  # the first two seconds: the jitter buffer and the encoder's rate control settle
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ClockOffset:
    low_ms: float  # the page's clock minus time.time(): within [low, high]
    high_ms: float


@dataclass(frozen=True)
class GlassFigures:
    glass_ms: list[float]  # capture → displayed, per frame
    received_ms: list[float]  # capture → its last packet received
    shown_ms: list[float]  # last packet received → displayed (jitter buffer, decoding, rendering)
    misread: int  # frames whose stamp failed its checksum
    offset: ClockOffset
    receiver: dict[str, Any]  # the page's inbound-rtp statistics at the end


class _Signalling(BaseHTTPRequestHandler):
    publisher: LivePublisher  # set on the subclass made per server

    def do_GET(self) -> None:
        body = PAGE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        offer = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = self.publisher.answer(offer["sdp"], camera=CAMERA, profile="focus")
        body = json.dumps({"sdp": answer.sdp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


@contextmanager
def signalling(publisher: LivePublisher) -> Iterator[str]:
    """The page and its offer endpoint on 127.0.0.1; yields the base URL."""
    handler = type("Signalling", (_Signalling,), {"publisher": publisher})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="glass-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def stamped_publisher(camera_fps: float) -> Iterator[LivePublisher]:
    bank = render_bank()
    scene = make_scene("hall", seed=7, width=1280, height=720)
    config = CameraConfig.model_validate({"name": CAMERA, "source": {"type": "generated"}})
    masks = camera_masks(config, scene.window_configs(CAMERA))
    _check_stamp_survives(bank[0], masks)
    reader = CameraReader(config, outbox=None, open_source=StampedCamera(bank, fps=camera_fps).open)
    reader.start()
    publisher = LivePublisher([LiveCamera(CAMERA, reader, masks)], LiveConfig(host_addresses=["127.0.0.1"]))
    publisher.start()
    try:
        yield publisher
    finally:
        publisher.stop()
        reader.stop()


def _check_stamp_survives(picture: Any, masks: Any) -> None:
    """The stamp must lie outside every privacy mask (masks are drawn black before encoding)."""
    stamped = picture.copy()
    draw_stamp(stamped, 123_456)
    if read_stamp(apply_privacy_masks(stamped, masks)) != 123_456:
        raise RuntimeError(f"the stamp at {ORIGIN} is covered by a privacy mask of the scene")


def clock_offset(tab: Page, tries: int = 20) -> ClockOffset:
    """Where the page's performance.timeOrigin + now() lies against time.time(): the tightest of
    `tries` brackets (a call's round trip bounds it)."""
    brackets = []
    for _ in range(tries):
        before = time.time() * 1000
        page = float(tab.evaluate("() => window.clockNow()"))
        after = time.time() * 1000
        brackets.append((page - after, page - before))
    low, high = min(brackets, key=lambda b: b[1] - b[0])
    return ClockOffset(low, high)


def measure_glass(
    *, frames: int, camera_fps: float, jitter_ms: float | None, browser_args: Sequence[str] = ()
) -> GlassFigures:
    with (
        stamped_publisher(camera_fps) as publisher,
        signalling(publisher) as url,
        browser_page(url, browser_args) as tab,
    ):
        tab.goto(url)
        offset = clock_offset(tab)
        tab.evaluate("(jitter) => window.startGlass(jitter)", jitter_ms)
        wanted = WARM_UP_FRAMES + frames
        tab.wait_for_function(
            f"() => window.glass.samples.length >= {wanted}",
            timeout=(START_TIMEOUT_S + wanted / 5) * 1000,
            polling=500,
        )
        samples: list[dict[str, Any]] = tab.evaluate("() => window.glass.samples")[WARM_UP_FRAMES:wanted]
        misread = int(tab.evaluate("() => window.glass.misread"))
        receiver: dict[str, Any] = tab.evaluate("() => window.glassStats()")
        tab.evaluate("() => window.stopGlass()")
    glass, received, shown = [], [], []
    for sample in samples:
        displayed = max(sample["expected"], sample["presented"])
        captured = full_time(sample["stamp"], displayed)
        glass.append(displayed - captured)
        if sample["received"] is not None:
            received.append(sample["received"] - captured)
            shown.append(displayed - sample["received"])
    return GlassFigures(glass, received, shown, misread, offset, receiver)


def receiver_summary(stats: dict[str, Any]) -> str:
    """Per decoded frame, from the browser's inbound-rtp statistics (seconds summed over frames)."""
    decoded = max(int(stats.get("framesDecoded", 0)), 1)
    emitted = max(int(stats.get("jitterBufferEmittedCount", 0)), 1)

    def per(key: str, count: int) -> str:
        return f"{float(stats.get(key, 0.0)) / count * 1000:.1f} ms"

    return (
        f"jitter buffer {per('jitterBufferDelay', emitted)} (target {per('jitterBufferTargetDelay', emitted)}, "
        f"minimum {per('jitterBufferMinimumDelay', emitted)}), decode {per('totalDecodeTime', decoded)}, "
        f"first packet → decoded {per('totalProcessingDelay', decoded)}; "
        f"{stats.get('framesDecoded', 0)} decoded, {stats.get('framesDropped', 0)} dropped, "
        f"{stats.get('packetsLost', 0)} packets lost, {stats.get('freezeCount', 0)} freezes"
    )
