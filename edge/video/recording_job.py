"""`hallwatch edge analyse`: one recording analysed and sent to central, beside the running agent.

A one-shot agent for one camera: the camera's pipeline with `origin="recording"`, its own outbox
beside the agent's (`<outbox>-recording-<camera>.db`, locked like the agent's, so two analyses of one
camera never race and the live agent is never disturbed), and an uploader that sends what the
analysis stored. What central has not taken when the upload time runs out stays in that outbox and
goes with the next analysis of the camera (the same recording again stores nothing twice: the ids
are the same).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from edge.agent import lock_outbox, open_outbox
from edge.central import make_client
from edge.config import EdgeConfig
from edge.outbox import Outbox, OutboxCounts
from edge.uploader import Uploader
from edge.video.config import CameraConfig
from edge.video.detect.base import make_detector
from edge.video.pipeline import CameraPipeline
from edge.video.recording import RecordingError, RecordingInfo, RecordingStats, analyse_recording, probe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordingJob:
    config: EdgeConfig
    camera: CameraConfig
    info: RecordingInfo
    start: datetime

    @property
    def outbox_path(self) -> Path:
        path = self.config.outbox.path
        return path.with_name(f"{path.stem}-recording-{self.camera.name}{path.suffix or '.db'}")


@dataclass(frozen=True)
class JobResult:
    stats: RecordingStats
    outbox: OutboxCounts  # after the upload: pending > 0 when central did not take everything in time
    refused: int = 0  # observations the outbox refused (a full disk): the analysis must be run again


def plan_job(config: EdgeConfig, *, file: Path, camera: str, start: datetime | None) -> RecordingJob:
    """Check the request before anything is opened: the camera, its windows, the file, its start."""
    cameras = {c.name: c for c in config.cameras}
    if camera not in cameras:
        known = ", ".join(sorted(cameras)) or "none"
        raise RecordingError(f"no camera {camera!r} in the config (known: {known})")
    if not any(w.camera == camera for w in config.windows):
        raise RecordingError(f"camera {camera!r} watches no window in the config: nothing to analyse")
    info = probe(file)
    start = start or info.start
    if start is None:
        raise RecordingError(
            f"{file}: the file does not say when it was recorded; give --start, e.g. 2026-12-05T08:30+08:00"
        )
    if start.tzinfo is None:
        raise RecordingError("--start needs a time zone, e.g. 2026-12-05T08:30+08:00")
    return RecordingJob(config=config, camera=cameras[camera], info=info, start=start)


def run_job(
    job: RecordingJob,
    *,
    key: str,
    upload_timeout: float,
    on_frame: Callable[[RecordingStats], None] | None = None,
    on_upload: Callable[[int], None] | None = None,
) -> JobResult:
    """Analyse the recording into its outbox, then send it to central for at most `upload_timeout`."""
    config = job.config
    detector = make_detector(config.analysis.detector)
    lock = lock_outbox(job.outbox_path.with_name(job.outbox_path.name + ".lock"))
    outbox = open_outbox(config.outbox, job.outbox_path, spare=False)
    try:
        outbox.promote_provisional()  # an analysis that was killed: its counts so far
        pipeline = CameraPipeline(
            job.camera,
            [w for w in config.windows if w.camera == job.camera.name],
            analysis=config.analysis,
            profile=config.profile,
            outbox=outbox,
            detector=detector,
            origin="recording",
        )
        stats = analyse_recording(job.info.path, pipeline, start=job.start, on_frame=on_frame)
        counts = _upload(job, outbox, key, upload_timeout, on_upload)
        return JobResult(stats=stats, outbox=counts, refused=outbox.health().refused)
    finally:
        outbox.close()
        lock.close()


def _upload(
    job: RecordingJob, outbox: Outbox, key: str, timeout: float, on_upload: Callable[[int], None] | None
) -> OutboxCounts:
    settings = job.config.outbox
    client = make_client(job.config.central, key)
    uploader = Uploader(
        outbox,
        client,
        batch_size=settings.batch_size,
        batch_max_bytes=settings.batch_max_bytes,
        initial_backoff_seconds=settings.initial_backoff_seconds,
        max_backoff_seconds=settings.max_backoff_seconds,
    )
    uploader.start()
    deadline = time.monotonic() + timeout
    try:
        while (left := uploader.drain(min(0.5, max(deadline - time.monotonic(), 0.0)))) and (
            time.monotonic() < deadline
        ):
            if on_upload is not None:
                on_upload(left)
    finally:
        uploader.stop()
        client.close()
    return outbox.counts()
