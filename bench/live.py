"""Benchmark: the edge's CPU for live views (issue #15 item 3), encoded once per camera and profile.

    .venv/bin/python -m bench.live [--seconds 15]

The edge side runs in this process, as in the agent: cameras read by the real capture
(edge.video.capture.CameraReader) and the live publisher (edge.live). The viewers are aiortc peers in
another process (edge.live.probe), over real WebRTC on loopback, decoding what they receive, so their
CPU is not the edge's. The cameras are generated hall scenes at 1280x720 with their windows' privacy
masks: a bank of frames is rendered once and each camera cycles through it at its frame rate, so the
figures are the edge's (capture hand-over, masking, scaling, encoding, packetising, SRTP, sending),
not the scene generator's. Edge CPU is this process's CPU time (user + system, every thread) over
`--seconds`, once every viewer is receiving:
1. one camera, 1 viewer and then 10 viewers of its focus profile (1280x720 at 15 fps): the ratio of
   the two, per encoded frame (a loaded machine makes the encoder skip frames it is late for), is
   the cost of viewers once the encoding is shared (target ≤ 1.3; the ratio per second is printed).
   What a viewer still costs is aiortc's sending of each RTP packet (packetising, SRTP, a sendto,
   about one packet per 1.2 kB), so the ratio grows with the focus bitrate (--focus-kbps);
2. a hall grid: 20 cameras, one inspector watching all 20 as tiles (320x180 at 5 fps): cores (≤ 1).
The cameras alone (no viewer) are measured too, so the live part can be told from the capture.
Ends with `RESULT <name> <value> <unit> target=<target>` lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from rich.console import Console

from bench.common import load_average, machine_speed_ms
from edge.live.config import LiveConfig, ProfileName
from edge.live.publisher import LiveCamera, LivePublisher
from edge.video.capture import CameraReader
from edge.video.config import CameraConfig
from edge.video.privacy import camera_masks
from edge.video.scene import make_scene

logger = logging.getLogger(__name__)
console = Console()

SIZE = (1280, 720)
CAMERA_FPS = 15.0
BANK_FRAMES = 30
GRID = 20
WARM_UP_S = 60.0  # longest wait for every viewer to receive (a failure, not a figure)


class BankCamera:
    """A FrameSource factory: the bank's frames in turn at `fps`, from `offset` (no rendering)."""

    def __init__(self, bank: Sequence[np.ndarray], *, fps: float, offset: int) -> None:
        self.bank, self.fps, self.offset = bank, fps, offset

    def open(self, config: CameraConfig) -> _BankSource:
        return _BankSource(self)


class _BankSource:
    def __init__(self, camera: BankCamera) -> None:
        self._camera = camera
        self._released = threading.Event()
        self._next = time.monotonic()
        self._count = camera.offset

    @property
    def description(self) -> str:
        return "bench bank"

    def read(self) -> np.ndarray | None:
        self._next += 1 / self._camera.fps
        if self._released.wait(max(0.0, self._next - time.monotonic())):
            return None
        self._count += 1
        return self._camera.bank[self._count % len(self._camera.bank)]

    def release(self) -> None:
        self._released.set()


@dataclass(frozen=True)
class Figure:
    cores: float  # CPU seconds per second
    frames_sent: int  # to every viewer together, during the measurement
    frames_encoded: int
    seconds: float  # wall time measured


def render_bank() -> list[np.ndarray]:
    """Frames of the 4-window hall scene (people, sensor noise, lighting drift), rendered once."""
    scene = make_scene("hall", seed=7, width=SIZE[0], height=SIZE[1])
    return [scene.render(10.0 + k / CAMERA_FPS) for k in range(BANK_FRAMES)]


def start_cameras(bank: list[np.ndarray], count: int) -> list[tuple[CameraReader, LiveCamera]]:
    scene = make_scene("hall", seed=7, width=SIZE[0], height=SIZE[1])
    cameras = []
    for i in range(count):
        name = f"CAM-{i + 1:02d}"
        config = CameraConfig.model_validate(
            {"name": name, "source": {"type": "generated"}, "width": 640, "height": 360}
        )
        source = BankCamera(bank, fps=CAMERA_FPS, offset=i * 7)
        reader = CameraReader(config, outbox=None, open_source=source.open)
        reader.start()
        masks = camera_masks(config, scene.window_configs(name))
        cameras.append((reader, LiveCamera(name, reader, masks)))
    return cameras


def measure(publisher: LivePublisher, views: Sequence[tuple[str, ProfileName]], seconds: float) -> Figure:
    """Edge CPU over `seconds` while a viewer process watches `views` (camera, profile) at once."""
    if not views:
        began = time.process_time()
        time.sleep(seconds)
        return Figure((time.process_time() - began) / seconds, 0, 0, seconds)
    probe = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge.live.probe",
            "--viewers",
            str(len(views)),
            "--frames",
            "1000000",
            "--seconds",
            str(WARM_UP_S + seconds + 30),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert probe.stdin is not None and probe.stdout is not None
    ids: list[str] = []
    try:
        offers = json.loads(probe.stdout.readline())["offers"]
        answers = [publisher.answer(o, camera=c, profile=p) for o, (c, p) in zip(offers, views, strict=True)]
        ids = [a.viewer for a in answers]
        probe.stdin.write(json.dumps({"answers": [a.sdp for a in answers]}) + "\n")
        probe.stdin.flush()
        deadline = time.monotonic() + WARM_UP_S
        while not all((s := publisher.viewer_stats(v)) is not None and s.frames_sent >= 3 for v in ids):
            if time.monotonic() > deadline:
                raise RuntimeError("the viewers did not all receive")
            time.sleep(0.1)
        streams = sorted(set(views))
        sent0, enc0 = _sent(publisher, ids), _encoded(publisher, streams)
        began, wall = time.process_time(), time.monotonic()
        time.sleep(seconds)
        cpu, wall = time.process_time() - began, time.monotonic() - wall
        sent, enc = _sent(publisher, ids) - sent0, _encoded(publisher, streams) - enc0
        return Figure(cpu / wall, sent, enc, wall)
    finally:
        for viewer in ids:
            publisher.close(viewer)
        probe.kill()
        probe.wait()


def _sent(publisher: LivePublisher, viewers: list[str]) -> int:
    return sum(s.frames_sent for v in viewers if (s := publisher.viewer_stats(v)) is not None)


def _encoded(publisher: LivePublisher, streams: list[tuple[str, ProfileName]]) -> int:
    return sum(publisher.stream_stats(c, p).frames_encoded for c, p in streams)


def per_frame(figure: Figure) -> float:
    """CPU seconds per encoded frame."""
    return figure.cores * figure.seconds / max(figure.frames_encoded, 1)


def report(what: str, figure: Figure) -> None:
    cost = f", {per_frame(figure) * 1000:.1f} ms CPU per encoded frame" if figure.frames_encoded else ""
    console.print(
        f"{what}: {figure.cores:.3f} cores; {figure.frames_encoded / figure.seconds:.1f} frames encoded/s, "
        f"{figure.frames_sent / figure.seconds:.1f} frames sent/s{cost}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="Length of each measurement.")
    parser.add_argument(
        "--focus-kbps",
        type=int,
        default=LiveConfig().focus.bitrate_kbps,
        help="The focus profile's bitrate (a viewer's cost is per RTP packet: about one per 1.2 kB).",
    )
    args = parser.parse_args()
    seconds = args.seconds
    logging.basicConfig(level=logging.WARNING)
    cv2.setNumThreads(1)  # as the agent sets it where it has cameras (edge.agent)
    console.print(f"load {load_average()}, machine speed {machine_speed_ms():.0f} ms")
    bank = render_bank()
    focus = LiveConfig().focus.model_copy(update={"bitrate_kbps": args.focus_kbps})
    config = LiveConfig(host_addresses=["127.0.0.1"], max_viewers_per_camera=16, focus=focus)

    cameras = start_cameras(bank, 1)
    publisher = LivePublisher([c for _, c in cameras], config)
    publisher.start()
    try:
        name = cameras[0][1].name
        idle = measure(publisher, [], seconds)
        report("one camera, no viewer (capture only)", idle)
        one = measure(publisher, [(name, "focus")], seconds)
        report(f"one camera, 1 viewer (focus 1280x720 at 15 fps, {args.focus_kbps} kbps)", one)
        ten = measure(publisher, [(name, "focus")] * 10, seconds)
        report("one camera, 10 viewers (focus)", ten)
    finally:
        publisher.stop()
        for reader, _ in cameras:
            reader.stop()
    raw = ten.cores / one.cores
    # Per encoded frame: on a loaded machine the encoder skips camera frames it is late for, and a
    # run that encoded fewer frames would look cheaper than it is.
    ratio = per_frame(ten) / per_frame(one)
    console.print(f"10 vs 1 viewers: {raw:.2f}x the edge's CPU per second, {ratio:.2f}x per encoded frame")

    cameras = start_cameras(bank, GRID)
    publisher = LivePublisher([c for _, c in cameras], config)
    publisher.start()
    try:
        grid_idle = measure(publisher, [], seconds)
        report(f"{GRID} cameras, no viewer (capture only)", grid_idle)
        grid = measure(publisher, [(c.name, "tile") for _, c in cameras], seconds)
        report(f"{GRID} cameras, one inspector's grid ({GRID} tiles 320x180 at 5 fps)", grid)
    finally:
        publisher.stop()
        for reader, _ in cameras:
            reader.stop()
    console.print(f"load {load_average()} (the machine is shared: CPU time, not wall time, is measured)")
    print(f"RESULT live_cpu_10_vs_1_viewers {ratio:.2f} x target=<=1.3")
    print(f"RESULT live_grid_20_windows_cpu {grid.cores:.2f} cores target=<=1")


if __name__ == "__main__":
    main()
