"""One camera's pipeline in the edge agent: newest frame → window analysers → evidence → outbox.

The reader (edge.video.capture) hands over the newest frame `analysis_fps` times a second; the
camera's analyser (edge.video.presence) turns it into presence intervals, absences (离岗) and
visitor hours. An absence that starts or ends is photographed from the very frame that decided it, at
the camera's own resolution, with every privacy mask of the camera (all its windows' and its own,
edge.video.privacy) blacked out before encoding, and the absence observation names that snapshot. Everything one frame produced goes into the outbox in one transaction (one fsync),
so an absence is never stored without its evidence, or the reverse.

Faults stay inside: a frame the analyser refuses, a detector that throws, or a snapshot that cannot
be encoded is counted and logged (rate-limited), and the next frame is analysed as usual. While the
camera is offline no frames come; the analyser ends its intervals at the last frame it saw once the
gap passes its limit, so an outage is never counted as an empty seat.

`citizen_present` answers the keypad readers (another thread): was a citizen at a window's counter
when its key was pressed? None when this camera cannot tell (no frame lately), never a guess.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from common.contract import EvidenceReason, Origin
from edge.clock import utc_now
from edge.outbox import Outbox, OutboxFull
from edge.video.capture import CameraReader, Frame
from edge.video.config import AnalysisConfig, CameraConfig, WindowConfig
from edge.video.detect.base import PersonDetector
from edge.video.events import AbsenceEnded, AbsenceStarted, Event, to_observation
from edge.video.evidence import EvidenceError, caption_text, evidence_observation, make_snapshot
from edge.video.presence import BadFrameError, CameraAnalyser
from edge.video.privacy import camera_masks
from edge.video.schedule import schedule_for

logger = logging.getLogger(__name__)

LOG_EVERY_S = 60.0  # a recurring fault is logged at most this often per camera
FRESH_FRAME_SECONDS = 10.0  # an older last analysed frame: the camera cannot say who is there now
PROVISIONAL_EVERY = timedelta(seconds=10)  # the seated seconds a kill -9 may lose, at most


@dataclass
class PipelineStats:
    frames: int = 0  # frames analysed
    bad_frames: int = 0  # refused by the analyser (size, time order)
    errors: int = 0  # the detector or the encoder failed on a frame
    observations: int = 0  # stored in the outbox
    evidence: int = 0
    refused: int = 0  # observations the outbox refused (a full disk): dropped
    evidence_skipped: int = 0  # snapshots not made: the disk is below the outbox's reserve


class CameraPipeline:
    """Analyses the windows one camera sees; `process` is the whole per-frame step (tests call it)."""

    def __init__(
        self,
        camera: CameraConfig,
        windows: Sequence[WindowConfig],
        *,
        analysis: AnalysisConfig,
        profile: str,
        outbox: Outbox,
        detector: PersonDetector | None,
        reader: CameraReader | None = None,
        clock: Callable[[], datetime] = utc_now,
        origin: Origin = "live",
    ) -> None:
        self.camera = camera
        self.origin = origin  # "recording": every observation says so (edge.video.recording)
        self.windows = {w.name: w for w in windows}
        self.privacy_masks = camera_masks(camera, windows)  # every image of this camera carries them all
        self.outbox = outbox
        self.schedules = {w.name: schedule_for(w, profile) for w in windows}
        self.reader = reader or CameraReader(
            camera, outbox=outbox, clock=clock, window_states=self.window_states
        )
        self.analyser = (
            CameraAnalyser([(w, self.schedules[w.name]) for w in windows], analysis, detector)
            if windows and detector is not None
            else None
        )
        self.stats = PipelineStats()
        self._grace = timedelta(seconds=analysis.citizen_grace_seconds)
        # A camera analysed less often than every few seconds is not stale between two of its frames.
        self._fresh = timedelta(seconds=max(FRESH_FRAME_SECONDS, 2.0 / camera.analysis_fps))
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_frame: Frame | None = None
        self._last_logged: dict[str, float] = {}
        self._provisional_counts: tuple[tuple[str, datetime, int], ...] = ()
        self._provisional_at: datetime | None = None

    @classmethod
    def health_only(
        cls, camera: CameraConfig, *, outbox: Outbox, clock: Callable[[], datetime] = utc_now
    ) -> CameraPipeline:
        """A camera that sees no window: read it only to report its health (SC-5(5))."""
        return cls(
            camera, [], analysis=AnalysisConfig(), profile="", outbox=outbox, detector=None, clock=clock
        )

    def window_states(self, at: datetime) -> list[dict[str, Any]]:
        """Each window's state for the camera's health report (the reader's watchdog thread asks)."""
        seen = self._last_frame is not None and self.analyser is not None
        states = []
        for name, schedule in self.schedules.items():
            seat = self.analyser.windows[name].staff.seat if seen and self.analyser else None
            states.append(
                {
                    "code": name,
                    "staffed": schedule.is_staffed_time(at),
                    "seat_taken": seat.occupied if seat else None,
                    "taken_since": seat.since if seat and seat.occupied else None,
                }
            )
        return states

    def citizen_present(self, window: str, at: datetime) -> bool | None:
        """Whether the camera saw a citizen at `window`'s counter at `at` (or within the configured
        grace before it); None when this camera does not analyse that window or has no fresh frame
        (an offline camera must not call anybody absent). Asked from a keypad reader's thread: it
        only reads attributes the analysis thread replaces whole."""
        analyser = self.analyser.windows.get(window) if self.analyser is not None else None
        frame = self._last_frame
        if analyser is None or frame is None or at - frame.at > self._fresh:
            return None
        return analyser.citizen_seen(at, self._grace)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.reader.start()
        if self.analyser is not None:
            self._thread = threading.Thread(target=self._run, name=f"analyse-{self.camera.name}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop reading, then end open intervals at the last frame seen and store them."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.reader.stop()
        self.finish()

    def finish(self) -> int:
        """End open intervals at the last frame seen and store them with the hours' visits (the final
        counts replace the provisional ones); returns how many observations were new."""
        if self.analyser is None or self._last_frame is None:
            return 0
        stored = self._store(self.analyser.close(self._last_frame.at), frame=None)
        with contextlib.suppress(OutboxFull):  # the provisional rows stay; the next start promotes them
            self.outbox.put_provisional(self.camera.name, [])
        return stored

    # --- the per-frame step ------------------------------------------------------------------

    def process(self, frame: Frame) -> int:
        """Analyse one frame and store what it produced; returns how many observations were new."""
        if self.analyser is None:
            return 0
        try:
            events = self.analyser.feed(frame.image, frame.at)
        except BadFrameError as exc:
            self.stats.bad_frames += 1
            self._log_rarely("bad", "camera %s: frame skipped: %s", self.camera.name, exc)
            return 0
        except Exception as exc:  # a detector fault must not stop the camera (device input is untrusted)
            self.stats.errors += 1
            self._log_rarely("error", "camera %s: analysis failed on a frame: %r", self.camera.name, exc)
            return 0
        self.stats.frames += 1
        self._last_frame = frame
        stored = self._store(events, frame=frame)
        self._keep_visits_on_disk(frame.at)
        return stored

    def _store(self, events: Sequence[Event], *, frame: Frame | None) -> int:
        if not events:
            return 0
        observations: list[dict[str, Any]] = []
        for event in events:
            evidence = self._evidence(event, frame) if frame is not None else None
            if evidence is not None:
                observations.append(evidence)
            ids = [evidence["id"]] if evidence is not None else []
            observations.append(
                to_observation(event, camera=self.camera.name, evidence=ids, origin=self.origin)
            )
        try:
            stored = self.outbox.put_many(observations)
        except OutboxFull:  # logged and counted by the outbox
            self.stats.refused += len(observations)
            return 0
        self.stats.observations += stored
        for event in events:
            if isinstance(event, AbsenceStarted | AbsenceEnded):
                logger.info("camera %s: %s", self.camera.name, event)
        return stored

    def _keep_visits_on_disk(self, at: datetime) -> None:
        """The current hours' visitor counts as they stand, kept in the outbox's provisional rows, so
        a killed agent loses none of them (the next start promotes them). Written when a count
        changes, and the seated seconds at least every PROVISIONAL_EVERY (one fsync each)."""
        assert self.analyser is not None
        hours = self.analyser.provisional_visits()
        counts = tuple((h.window, h.hour_start, h.visits) for h in hours)
        due = self._provisional_at is None or at - self._provisional_at >= PROVISIONAL_EVERY
        if counts == self._provisional_counts and not due:
            return
        observations = [to_observation(h, camera=self.camera.name, origin=self.origin) for h in hours]
        with contextlib.suppress(OutboxFull):  # in memory still: tried again on a change or when due
            self.outbox.put_provisional(self.camera.name, observations)
        self._provisional_counts, self._provisional_at = counts, at

    def _evidence(self, event: Event, frame: Frame) -> dict[str, Any] | None:
        if not isinstance(event, AbsenceStarted | AbsenceEnded):
            return None
        reason: EvidenceReason = "absence_start" if isinstance(event, AbsenceStarted) else "absence_end"
        what = f"a snapshot of camera {self.camera.name} ({reason} at window {event.window}, {frame.at:%H:%M:%S})"
        if not self.outbox.admit_media("evidence", what):  # the absence itself is still stored
            self.stats.evidence_skipped += 1
            return None
        try:
            return self.snapshot(frame, window=event.window, reason=reason)
        except EvidenceError as exc:
            self.stats.errors += 1
            self._log_rarely("evidence", "camera %s: no evidence for %s: %s", self.camera.name, event, exc)
            return None

    def snapshot(
        self, frame: Frame, *, window: str, reason: EvidenceReason, capture: str | None = None
    ) -> dict[str, Any]:
        """The evidence observation of `frame` about `window`: the camera's full-resolution picture
        with every privacy mask of the camera black (`capture`: the patrol capture it answers).
        Raises EvidenceError if it cannot be made."""
        snapshot = make_snapshot(
            frame.full,
            masks=self.privacy_masks,
            caption=caption_text(at=frame.at, window=window, camera=self.camera.name, reason=reason),
        )
        self.stats.evidence += 1
        return evidence_observation(
            snapshot,
            at=frame.at,
            window=window,
            camera=self.camera.name,
            reason=reason,
            origin=self.origin,
            capture=capture,
        )

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        period = 1.0 / self.camera.analysis_fps
        seq = 0
        next_tick = time.monotonic()
        while not self._stop.is_set():
            frame = self.reader.wait_newer(seq, timeout=max(period, 1.0))
            if frame is not None:
                seq = frame.seq
                self.process(frame)
            next_tick = max(next_tick + period, time.monotonic())
            self._stop.wait(max(0.0, next_tick - time.monotonic()))

    def _log_rarely(self, key: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last_logged.get(key, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._last_logged[key] = now
            logger.warning(message, *args)
