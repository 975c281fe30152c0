"""Generated hall scenes: a camera view of 1..4 service windows in which real photographs are people.

The cameras of a real hall cannot be brought into tests, and a person detector must be tested on
people, not on coloured boxes. So a scene is drawn — wall, window signs, partitions, staff chairs,
the counter with its monitors, the citizens' chairs, a tiled floor, sensor noise and a slow drift of
the lighting — and real photographs shipped by installed packages are cut out (head and shoulders)
and composited into the staff seat and the customer seat of each window, following a timeline with
known ground truth (`edge.video.scene_timeline`). People sit down and get up with a short movement,
fidget by a few pixels at times, and sit perfectly still for minutes at other times.

The people are in `edge.video.scene_people`.

`open_generated` makes a scene a camera (a FrameSource paced in real time); `write_video` writes one
to an MJPG .avi file, so tests and the benchmark can decode real video.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.video.config import GeneratedSource, WindowConfig
from edge.video.scene_people import Sprite, paste, sprite
from edge.video.scene_timeline import SceneTruth, Stint, Timeline, TimelineSpec, WindowPlan, make_timeline
from edge.video.schedule import HALL_TZ

logger = logging.getLogger(__name__)

Image = np.ndarray  # BGR (or grey) uint8, as OpenCV hands it over
Polygon = list[tuple[float, float]]

DEFAULT_START = datetime(2026, 3, 2, 9, 0, tzinfo=HALL_TZ)  # a Monday, a working day
SIT_SECONDS = 1.5  # sitting down / getting up, centred on the truth boundary
STAFF_FACE = 0.115  # face width as a share of the frame height
CUSTOMER_FACE = 0.135  # citizens sit nearer to the camera
NOISE_SIGMA = 2.5  # sensor noise, grey levels
NOISE_BANK = 8


@dataclass(frozen=True)
class _Seat:
    x: int  # where the face centre goes, in frame pixels
    y: int
    face: float  # face width in pixels
    region: Polygon  # relative polygon of the seat (WindowConfig.staff_region / customer_region)


@dataclass(frozen=True)
class _Layout:
    staff: _Seat
    customer: _Seat
    monitor: Polygon  # relative: the privacy mask of the window


class HallScene:
    """A camera view of `windows` service windows following `timeline` (drawn from `seed` if None).

    `render(t)` is a pure function of the scene second `t` (same seed, same picture). `truth` is the
    ground truth; `window_configs()` the config of each window as an installer would draw it.
    """

    def __init__(
        self,
        windows: int | Sequence[str] = 4,
        *,
        seed: int = 0,
        width: int = 640,
        height: int = 360,
        timeline: Timeline | None = None,
        start: datetime = DEFAULT_START,
        duration: float = 3600.0,
        loop: bool = False,
    ) -> None:
        names = [f"W{i:02d}" for i in range(1, windows + 1)] if isinstance(windows, int) else list(windows)
        if not 1 <= len(names) <= 4:
            raise ValueError(f"a generated scene shows 1 to 4 windows, not {len(names)}")
        if width < 160 or height < 90:
            raise ValueError(f"a generated scene is at least 160×90 pixels, not {width}×{height}")
        if start.tzinfo is None:
            raise ValueError("the scene start must be an aware datetime")
        if timeline is None:
            timeline = make_timeline(len(names), duration=duration, seed=seed, spec=TimelineSpec())
        if len(timeline.windows) != len(names):
            raise ValueError(f"the timeline has {len(timeline.windows)} windows, the scene {len(names)}")
        self.names = tuple(names)
        self.width, self.height, self.seed, self.loop = width, height, seed, loop
        self.timeline = timeline
        self.truth = SceneTruth(start=start, timeline=timeline, names=self.names)
        self._layouts = [self._layout(i) for i in range(len(names))]
        self._back, self._front, self._front_mask = self._draw_set()
        self._noise = _noise_bank(seed, height, width)
        self._sprites: dict[tuple[int, float], Sprite] = {}

    # --- public ---------------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        return self.timeline.duration

    @property
    def start(self) -> datetime:
        return self.truth.start

    def render(self, t: float) -> Image:
        """The frame at scene second `t` (BGR, uint8, height × width × 3)."""
        if self.loop:
            t %= self.duration
        frame = self._back.copy()
        for layout, plan in zip(self._layouts, self.timeline.windows, strict=True):
            self._draw_person(frame, plan.staff, layout.staff, t, entry=(-2.2, -0.5))
        np.copyto(frame, self._front, where=self._front_mask)
        for layout, plan in zip(self._layouts, self.timeline.windows, strict=True):
            self._draw_person(frame, plan.customers, layout.customer, t, entry=(0.6, 1.8))
        gain = 1.0 + 0.05 * np.sin(2 * np.pi * t / 437.0) + 0.03 * np.sin(2 * np.pi * t / 1913.0 + self.seed)
        frame = cv2.convertScaleAbs(frame, alpha=float(gain))
        plus, minus = self._noise[(round(t * 20) * 7919 + self.seed) % NOISE_BANK]
        return cv2.subtract(cv2.add(frame, plus), minus)

    def window_configs(self, camera: str = "C1", **overrides: Any) -> list[WindowConfig]:
        """A WindowConfig per window (regions and privacy mask from the layout); `overrides` (e.g.
        working_hours, breaks, absence_threshold_minutes, visit_min_seconds) apply to all of them."""
        return [
            WindowConfig.model_validate(
                {
                    "name": name,
                    "camera": camera,
                    "staff_region": layout.staff.region,
                    "customer_region": layout.customer.region,
                    "privacy_masks": [layout.monitor],
                    **overrides,
                }
            )
            for name, layout in zip(self.names, self._layouts, strict=True)
        ]

    # --- drawing --------------------------------------------------------------------------------

    def _layout(self, index: int) -> _Layout:
        w, h = self.width, self.height
        column = w / len(self.names)
        left = index * column
        staff_face, customer_face = STAFF_FACE * h, CUSTOMER_FACE * h
        staff = (round(left + 0.40 * column), round(0.30 * h))
        customer = (round(left + 0.58 * column), round(0.70 * h))
        return _Layout(
            staff=_Seat(*staff, staff_face, self._region(staff, staff_face, bottom=0.575 * h)),
            customer=_Seat(*customer, customer_face, self._region(customer, customer_face, bottom=h - 1)),
            monitor=self._relative(
                [
                    (left + 0.74 * column, 0.41 * h),
                    (left + 0.95 * column, 0.41 * h),
                    (left + 0.95 * column, 0.555 * h),
                    (left + 0.74 * column, 0.555 * h),
                ]
            ),
        )

    def _region(self, face: tuple[int, int], face_width: float, *, bottom: float) -> Polygon:
        """Head and shoulders room around a seat: narrower at the head, wider at the shoulders."""
        x, y = face
        top = y - 1.35 * face_width
        shoulders = y + 0.9 * face_width
        return self._relative(
            [
                (x - 0.85 * face_width, top),
                (x + 0.85 * face_width, top),
                (x + 1.3 * face_width, shoulders),
                (x + 1.3 * face_width, bottom),
                (x - 1.3 * face_width, bottom),
                (x - 1.3 * face_width, shoulders),
            ]
        )

    def _relative(self, points: list[tuple[float, float]]) -> Polygon:
        return [
            (
                round(min(max(px / (self.width - 1), 0.0), 1.0), 4),
                round(min(max(py / (self.height - 1), 0.0), 1.0), 4),
            )
            for px, py in points
        ]

    def _draw_set(self) -> tuple[Image, Image, np.ndarray]:
        """The set behind the staff (wall, signs, chairs) and in front of them (counter, monitors,
        the citizens' chairs) with its mask."""
        w, h = self.width, self.height
        back = np.empty((h, w, 3), np.uint8)
        shade = np.linspace(0.92, 1.05, h, dtype=np.float32)[:, None, None]
        back[:] = np.clip(np.array([196, 212, 224], np.float32) * shade, 0, 255).astype(np.uint8)
        floor_top = round(0.83 * h)
        back[floor_top:] = (150, 154, 158)
        for x in range(0, w, max(w // 12, 8)):
            cv2.line(back, (x, floor_top), (x - (w // 2 - x) // 3, h), (128, 132, 136), 1)
        front = np.zeros_like(back)
        mask = np.zeros((h, w), np.uint8)
        column = w / len(self.names)
        for index, layout in enumerate(self._layouts):
            left = round(index * column)
            self._draw_wall(back, index, left, column)
            staff = layout.staff
            cv2.rectangle(
                back,
                (round(staff.x - 0.9 * staff.face), round(staff.y + 0.2 * staff.face)),
                (round(staff.x + 0.9 * staff.face), round(0.58 * h)),
                (92, 62, 40),
                -1,
            )
            self._draw_front(front, mask, layout, left, column)
        return back, front, mask.astype(bool)[:, :, None]

    def _draw_wall(self, back: Image, index: int, left: int, column: float) -> None:
        h = self.height
        plate = (round(left + 0.3 * column), round(0.03 * h), round(left + 0.7 * column), round(0.11 * h))
        cv2.rectangle(back, plate[:2], plate[2:], (140, 82, 24), -1)
        scale = max((plate[3] - plate[1]) / 30, 0.3)
        cv2.putText(
            back,
            f"{index + 1:02d}",
            (plate[0] + 4, plate[3] - 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        poster = (round(left + 0.78 * column), round(0.14 * h), round(left + 0.94 * column), round(0.34 * h))
        cv2.rectangle(back, poster[:2], poster[2:], (226, 236, 240), -1)
        for row in range(poster[1] + 6, poster[3] - 3, 6):
            cv2.line(back, (poster[0] + 3, row), (poster[2] - 3, row), (120, 120, 130), 1)
        cv2.rectangle(back, (left, round(0.12 * h)), (left + 4, round(0.58 * h)), (170, 176, 180), -1)

    def _draw_front(self, front: Image, mask: Image, layout: _Layout, left: int, column: float) -> None:
        w, h = self.width, self.height
        right = min(round(left + column), w)
        shapes: list[tuple[tuple[int, int], tuple[int, int], tuple[int, int, int]]] = [
            ((left, round(0.56 * h)), (right, round(0.60 * h)), (62, 112, 158)),  # counter top
            ((left, round(0.60 * h)), (right, round(0.83 * h)), (186, 178, 168)),  # counter front
            ((left, round(0.66 * h)), (right, round(0.68 * h)), (150, 140, 128)),  # a strip
        ]
        mon = [(round(x * (w - 1)), round(y * (h - 1))) for x, y in layout.monitor]
        shapes.append((mon[0], mon[2], (40, 40, 40)))
        shapes.append(((mon[0][0] + 3, mon[0][1] + 3), (mon[2][0] - 3, mon[2][1] - 3), (170, 120, 60)))
        c = layout.customer
        shapes.append(
            (
                (round(c.x - 1.0 * c.face), round(c.y + 0.3 * c.face)),
                (round(c.x + 1.0 * c.face), h - 1),
                (70, 70, 76),
            )
        )
        for top_left, bottom_right, colour in shapes:
            cv2.rectangle(front, top_left, bottom_right, colour, -1)
            cv2.rectangle(mask, top_left, bottom_right, 255, -1)

    def _draw_person(
        self, frame: Image, stints: Sequence[Stint], seat: _Seat, t: float, *, entry: tuple[float, float]
    ) -> None:
        half = SIT_SECONDS / 2
        stint = next((s for s in stints if s.start - half <= t < s.end + half), None)
        if stint is None:
            return
        # 0 = standing off the seat, 1 = seated; sitting down and getting up are short movements.
        settled = min((t - (stint.start - half)) / SIT_SECONDS, ((stint.end + half) - t) / SIT_SECONDS, 1.0)
        dx = (1 - settled) * entry[0] * seat.face
        dy = (1 - settled) * entry[1] * seat.face
        jx, jy = _jitter(stint, t)
        cut = self._sprite(stint.person, seat.face)
        paste(frame, cut, round(seat.x + dx + jx) - cut.face_x, round(seat.y + dy + jy) - cut.face_y)

    def _sprite(self, person: int, face: float) -> Sprite:
        key = (person, face)
        if key not in self._sprites:
            self._sprites[key] = sprite(person, face)
        return self._sprites[key]


def _jitter(stint: Stint, t: float) -> tuple[int, int]:
    for fidget in stint.fidgets:
        if fidget.start <= t < fidget.end:
            step = int((t - fidget.start) * 2)  # a new position every half second
            rng = np.random.default_rng([int(fidget.start * 1000), step])
            dx, dy = rng.integers(-fidget.amplitude, fidget.amplitude + 1, size=2)
            return int(dx), int(dy)
    return 0, 0


def _noise_bank(seed: int, height: int, width: int) -> list[tuple[Image, Image]]:
    rng = np.random.default_rng(seed)
    bank = []
    for _ in range(NOISE_BANK):
        noise = rng.normal(0.0, NOISE_SIGMA, (height, width, 3))
        bank.append((np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8)))
    return bank


# --- scenes as cameras ---------------------------------------------------------------------------

SCENES = {"hall": 4, "hall-1": 1, "hall-2": 2, "hall-3": 3, "empty": 4}
DEMO_SECONDS = 3600.0  # the demo timeline, looped


def make_scene(name: str, *, seed: int, width: int, height: int) -> HallScene:
    """A named demo scene: "hall" (4 windows), "hall-1".."hall-3" (fewer, larger), "empty" (nobody)."""
    if name not in SCENES:
        raise ValueError(f"no generated scene {name!r} (known: {', '.join(SCENES)})")
    windows = SCENES[name]
    # Long gaps beyond the profiles' usual 10-minute threshold, so the demo hall shows real 离岗.
    spec = TimelineSpec(absence_after_s=600.0, stint_s=(240.0, 720.0))
    timeline = make_timeline(windows, duration=DEMO_SECONDS, seed=seed, spec=spec)
    if name == "empty":
        timeline = Timeline(DEMO_SECONDS, tuple(WindowPlan((), ()) for _ in range(windows)))
    return HallScene(windows, seed=seed, width=width, height=height, timeline=timeline, loop=True)


class GeneratedFrameSource:
    """A scene as a camera: `read()` waits for the next frame time at `fps` and renders the scene at
    the seconds elapsed since the source was opened. `release()` (any thread) ends it at once."""

    def __init__(
        self, scene: HallScene, *, fps: float, name: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self.scene, self.fps, self._clock = scene, fps, clock
        self._opened = clock()
        self._frames = 0
        self._released = threading.Event()
        self._description = f"generated scene {name!r} ({scene.width}×{scene.height} at {fps:g} fps)"

    @property
    def description(self) -> str:
        return self._description

    def read(self) -> Image | None:
        due = self._opened + self._frames / self.fps
        wait = due - self._clock()
        if wait > 0 and self._released.wait(wait):
            return None
        if self._released.is_set():
            return None
        elapsed = self._clock() - self._opened
        # Never build a backlog: a slow reader skips frame times instead of catching up.
        self._frames = max(self._frames + 1, int(elapsed * self.fps) + 1)
        return self.scene.render(elapsed)

    def release(self) -> None:
        self._released.set()


def open_generated(source: GeneratedSource, *, width: int, height: int) -> GeneratedFrameSource:
    """The FrameSource of a `generated` camera source (edge.video.sources calls this)."""
    scene = make_scene(source.scene, seed=source.seed, width=width, height=height)
    return GeneratedFrameSource(scene, fps=source.fps, name=source.scene)


def write_video(scene: HallScene, path: Path, *, fps: float, seconds: float, start: float = 0.0) -> int:
    """Render `seconds` of `scene` from scene second `start` at `fps` into an MJPG .avi; returns the
    number of frames written. Frame k shows scene second start + k / fps."""
    if path.suffix.lower() != ".avi":
        raise ValueError(f"write_video writes MJPG .avi files, not {path.name!r}")
    fourcc = cv2.VideoWriter.fourcc(*"MJPG")
    writer = cv2.VideoWriter(str(path), fourcc, fps, (scene.width, scene.height))
    if not writer.isOpened():
        raise OSError(f"cannot write video {path}")
    frames = round(seconds * fps)
    try:
        for k in range(frames):
            writer.write(scene.render(start + k / fps))
    finally:
        writer.release()
    logger.info("wrote %d frames (%.0f s of scene) to %s", frames, seconds, path)
    return frames
