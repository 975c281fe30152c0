"""Per-window presence analytics: who sits in the staff seat and in the customer seat, frame by frame.

For each window (issue #4 items 3 and 4) the analyser watches two regions of the camera frame — the
staff seat and the customer seat, relative polygons from the config — and nothing else: the
detector only ever sees the region's bounding box, with pixels outside the polygon blacked out. Per
frame and region it decides whether to run the detector at all:

- **motion**: the region changed against its running background (edge.video.motion) by at least
  `motion_threshold` of its pixels;
- **confirm**: the last verdict contradicts the seat's state and the hysteresis is counting — look
  again, at least `CONFIRM_LOOKS` times before it would flip, so one missed face at a recheck
  cannot empty a seat, and one false face cannot fill it;
- **recheck**: nothing moved for `recheck_seconds` — look anyway. A motion-gated detector otherwise
  loses a person who sits perfectly still (Frigate's known failure with stationary objects), or
  never finds one it missed while they sat down.

Between detector runs the last verdict holds (nothing moved, so nothing changed). The verdicts go
through hysteresis (edge.video.seat); staff seat intervals become presence intervals and absences
(edge.video.absence), customer seat intervals visitor counts (edge.video.visitors). `citizen_seen`
tells the keypad reader whether a citizen was at the counter when a key was pressed.

`CameraAnalyser` runs the windows of one camera on one shared detector; its `full_frame` mode (the
detector on every whole frame, detections assigned to regions by their centre) is the baseline the
benchmark compares the gated pipeline with. Pure: no I/O, no threads, no clock — time is the `at` of
each frame, so it is tested exhaustively and reused by the benchmark and the edge agent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Literal

import cv2
import numpy as np

from edge.video.absence import AbsenceTracker
from edge.video.config import AnalysisConfig, WindowConfig
from edge.video.detect.base import Detection, PersonDetector, check_image
from edge.video.events import Event, PresenceInterval, VisitorHour
from edge.video.motion import MotionGate
from edge.video.regions import Region, RelativePolygon
from edge.video.schedule import WindowSchedule
from edge.video.seat import SeatChange, SeatTracker, Vacated
from edge.video.visitors import VisitorCounter

logger = logging.getLogger(__name__)

Mode = Literal["gated", "every_frame", "full_frame"]
MIN_FRAME = 32  # pixels; a smaller frame is not a camera picture
CONFIRM_LOOKS = 8  # detector runs at least, while a contradicting verdict waits out the hysteresis
MAX_GAP_SECONDS = 60.0  # frames further apart than this: what happened in between is unknown


class BadFrameError(ValueError):
    """A frame the analyser cannot use (not an image, too small, out of time order); state unchanged."""


@dataclass
class RegionCounters:
    """How often one region was looked at, and why (a run is one detector call on the region)."""

    frames: int = 0
    detector_runs: int = 0
    motion_runs: int = 0
    recheck_runs: int = 0
    confirm_runs: int = 0


class _Watch:
    """One seat region: its pixels for the current frame size, motion gate, held verdict, hysteresis."""

    def __init__(self, polygon: RelativePolygon, analysis: AnalysisConfig) -> None:
        self.polygon = polygon
        self.region: Region | None = None
        self.motion = MotionGate()
        self.seat = SeatTracker(
            present_after=analysis.present_after_seconds, empty_after=analysis.empty_after_seconds
        )
        self.recheck = timedelta(seconds=analysis.recheck_seconds)
        self.motion_threshold = analysis.motion_threshold
        self.seen = False  # the last verdict, held between detector runs
        self.last_run: datetime | None = None
        self.counters = RegionCounters()

    def pixels(self, width: int, height: int) -> Region:
        """The region in a `width` × `height` frame; BadFrameError if the frame is too small for it."""
        try:
            return Region.from_polygon(self.polygon, width=width, height=height)
        except ValueError as exc:
            raise BadFrameError(str(exc)) from exc

    def restart(self) -> None:
        self.motion.reset()
        self.seen, self.last_run = False, None

    def reason(self, image: np.ndarray, at: datetime, elapsed: float) -> str | None:
        """Why the detector must look at this region in this frame (None: the verdict holds)."""
        assert self.region is not None
        crop = self.region.crop(image)
        grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        if self.motion.update(grey, self.region.mask, elapsed=elapsed) >= self.motion_threshold:
            return "motion"
        if self.seat.pending_since is not None and self._since_run(at) >= self._confirm_every():
            return "confirm"
        if self._since_run(at) >= self.recheck:
            return "recheck"
        return None

    def _since_run(self, at: datetime) -> timedelta:
        return at - self.last_run if self.last_run is not None else timedelta.max

    def _confirm_every(self) -> timedelta:
        # At least CONFIRM_LOOKS looks while the hysteresis counts: every frame for a 2 s
        # present_after, every 2.5 s for a 20 s empty_after.
        hysteresis = self.seat.empty_after if self.seat.occupied else self.seat.present_after
        return hysteresis / CONFIRM_LOOKS

    def look(self, detector: PersonDetector, image: np.ndarray, at: datetime, reason: str) -> None:
        assert self.region is not None
        found = detector.detect(self.region.masked_crop(image))
        x0, y0 = self.region.x0, self.region.y0
        self.verdict(any(self.region.contains(*d.shifted(x0, y0).center) for d in found), at, reason)

    def verdict(self, seen: bool, at: datetime, reason: str) -> None:
        self.seen, self.last_run = seen, at
        self.counters.detector_runs += 1
        if reason == "motion":
            self.counters.motion_runs += 1
        elif reason == "recheck":
            self.counters.recheck_runs += 1
        elif reason == "confirm":
            self.counters.confirm_runs += 1


class WindowAnalyser:
    """Presence, absences and visitor counts of one window, from the frames of its camera."""

    def __init__(
        self,
        window: WindowConfig,
        schedule: WindowSchedule,
        analysis: AnalysisConfig,
        detector: PersonDetector,
        *,
        gated: bool = True,
        max_gap_seconds: float = MAX_GAP_SECONDS,
    ) -> None:
        self.window, self.schedule, self.analysis, self.detector = window, schedule, analysis, detector
        self.gated, self.max_gap = gated, timedelta(seconds=max_gap_seconds)
        self.staff = _Watch(window.staff_region, analysis)
        self.customer = _Watch(window.customer_region, analysis)
        self._absence = AbsenceTracker(window.name, schedule)
        settle = analysis.present_after_seconds + analysis.empty_after_seconds + 1.0
        self._visitors = VisitorCounter(
            window.name, visit_min_seconds=schedule.visit_min_seconds, settle_seconds=settle
        )
        self._size: tuple[int, int] | None = None
        self._last: datetime | None = None
        self._elapsed = 0.0
        # The last frame whose customer region verdict was "someone there" (raw, before hysteresis).
        self.customer_seen_at: datetime | None = None

    # --- live state -----------------------------------------------------------------------------

    @property
    def staff_present(self) -> bool:
        return self.staff.seat.occupied

    @property
    def customer_present(self) -> bool:
        return self.customer.seat.occupied

    def citizen_seen(self, at: datetime, grace: timedelta) -> bool:
        """Whether a citizen was at the counter at `at`: the customer seat is taken, or someone was
        seen in the customer region at most `grace` before `at` (or since). The raw sighting counts
        too: a citizen rates while standing up to leave, or right after sitting down, before the
        hysteresis has caught up. Two plain attribute reads, so another thread may ask while frames
        are fed."""
        seen_at = self.customer_seen_at
        return self.customer.seat.occupied or (seen_at is not None and seen_at >= at - grace)

    @property
    def absent_since(self) -> datetime | None:
        """started_at of the absence in progress, if any."""
        return self._absence.open

    @property
    def counters(self) -> RegionCounters:
        """Both regions together (frames counts frames, not region-frames)."""
        total = RegionCounters()
        for field in fields(RegionCounters):
            setattr(
                total, field.name, sum(getattr(w.counters, field.name) for w in (self.staff, self.customer))
            )
        total.frames = self.staff.counters.frames
        return total

    # --- frames -------------------------------------------------------------------------------

    def feed(self, image: np.ndarray, at: datetime) -> list[Event]:
        """Analyse one frame taken at `at` (aware); BadFrameError for a frame it cannot use."""
        image = check_frame(image)
        return self.feed_checked(image, at)

    def feed_checked(self, image: np.ndarray, at: datetime) -> list[Event]:
        events = self._begin(image.shape[1], image.shape[0], at)
        for watch in (self.staff, self.customer):
            watch.counters.frames += 1
            reason = watch.reason(image, at, self._elapsed) if self.gated else "always"
            if reason is not None:
                watch.look(self.detector, image, at, reason)
        return events + self._advance(at)

    def feed_detections(
        self, detections: Sequence[Detection], *, width: int, height: int, at: datetime
    ) -> list[Event]:
        """The baseline: a detector already ran on the whole `width` × `height` frame."""
        events = self._begin(width, height, at)
        for watch in (self.staff, self.customer):
            assert watch.region is not None
            watch.counters.frames += 1
            region = watch.region
            watch.verdict(any(region.contains(*d.center) for d in detections), at, "always")
        return events + self._advance(at)

    def provisional_visits(self) -> list[VisitorHour]:
        """The hours `close` would report at the last frame (none before the first frame)."""
        if self._last is None:
            return []
        return self._visitors.provisional(self._last, self.customer.seat)

    def close(self, at: datetime) -> list[Event]:
        """Stop: end open intervals and absences at `at`, report the hours not reported yet."""
        if self._last is None:
            return []
        at = max(at, self._last)
        events, customer = self._stop(at)
        events += self._visitors.close(at, customer)
        self._last, self._size = None, None
        return events

    # --- internals ----------------------------------------------------------------------------

    def _begin(self, width: int, height: int, at: datetime) -> list[Event]:
        """Checks first (a BadFrameError leaves the state as it was), then gaps and frame sizes."""
        check_time(at, self._last)
        resized = (width, height) != self._size
        regions = [w.pixels(width, height) for w in (self.staff, self.customer)] if resized else []
        events: list[Event] = []
        restart = self._last is None
        if self._last is not None and at - self._last > self.max_gap:
            logger.warning(
                "window %s: no frame for %s: intervals end there", self.window.name, at - self._last
            )
            events, customer = self._stop(self._last)
            self._visitors.add(customer)
            restart = True
        if resized:
            if self._size is not None:
                logger.info("window %s: frame size %s → %dx%d", self.window.name, self._size, width, height)
            self.staff.region, self.customer.region = regions
            self._size = (width, height)
        if restart or resized:
            for watch in (self.staff, self.customer):
                watch.restart()
        if restart:
            for watch in (self.staff, self.customer):
                watch.restart()
            self._absence.start(at)
        self._elapsed = 0.0 if restart or self._last is None else (at - self._last).total_seconds()
        self._last = at
        return events

    def _advance(self, at: datetime) -> list[Event]:
        if self.customer.seen:  # a held verdict counts: nothing moved since someone was seen
            self.customer_seen_at = at
        staff = _changes(self.staff.seat.observe(at, self.staff.seen))
        customer = _changes(self.customer.seat.observe(at, self.customer.seen))
        events: list[Event] = [self._presence(c) for c in staff if isinstance(c, Vacated)]
        events += self._absence.advance(at, staff, self.staff.seat)
        events += self._visitors.observe(at, customer, self.customer.seat)
        return events

    def _stop(self, at: datetime) -> tuple[list[Event], list[SeatChange]]:
        staff = _changes(self.staff.seat.close(at))
        events: list[Event] = [self._presence(c) for c in staff if isinstance(c, Vacated)]
        events += self._absence.stop(at)
        return events, _changes(self.customer.seat.close(at))

    def _presence(self, change: Vacated) -> PresenceInterval:
        return PresenceInterval(self.window.name, change.start, change.end)


class CameraAnalyser:
    """The windows of one camera on one shared detector.

    mode "gated" (production): each window analyses its own regions, motion-gated with rechecks;
    "every_frame": the detector on every region of every frame; "full_frame": the detector once on
    every whole frame, detections assigned to regions by their centre (the benchmark's baseline).
    """

    def __init__(
        self,
        windows: Sequence[tuple[WindowConfig, WindowSchedule]],
        analysis: AnalysisConfig,
        detector: PersonDetector,
        *,
        mode: Mode = "gated",
        max_gap_seconds: float = MAX_GAP_SECONDS,
    ) -> None:
        if not windows:
            raise ValueError("a camera analyser needs at least one window")
        self.detector, self.mode = detector, mode
        self.windows = {
            config.name: WindowAnalyser(
                config, schedule, analysis, detector, gated=mode == "gated", max_gap_seconds=max_gap_seconds
            )
            for config, schedule in windows
        }
        self._last: datetime | None = None

    def feed(self, image: np.ndarray, at: datetime) -> list[Event]:
        image = check_frame(image)
        check_time(at, self._last)
        self._last = at
        events: list[Event] = []
        if self.mode == "full_frame":
            found = self.detector.detect(image)
            height, width = image.shape[:2]
            for analyser in self.windows.values():
                events += analyser.feed_detections(found, width=width, height=height, at=at)
            return events
        for analyser in self.windows.values():
            events += analyser.feed_checked(image, at)
        return events

    def provisional_visits(self) -> list[VisitorHour]:
        return [hour for analyser in self.windows.values() for hour in analyser.provisional_visits()]

    def close(self, at: datetime) -> list[Event]:
        events: list[Event] = []
        for analyser in self.windows.values():
            events += analyser.close(at)
        self._last = None
        return events


def check_frame(image: object) -> np.ndarray:
    """A BGR or grey uint8 frame of at least MIN_FRAME pixels a side, or BadFrameError."""
    try:
        frame = check_image(image)
    except ValueError as exc:
        raise BadFrameError(str(exc)) from exc
    if min(frame.shape[:2]) < MIN_FRAME:
        raise BadFrameError(f"a {frame.shape[1]}×{frame.shape[0]} frame is too small to analyse")
    return frame


def check_time(at: datetime, last: datetime | None) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise BadFrameError(f"frame time {at} has no time zone")
    if last is not None and at <= last:
        raise BadFrameError(
            f"frame time {at.isoformat()} is not after the previous frame ({last.isoformat()})"
        )


def _changes(change: SeatChange | None) -> list[SeatChange]:
    return [] if change is None else [change]
