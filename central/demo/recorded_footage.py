"""The demo hall's recorded footage: yesterday morning's NVR export, analysed as an inspector would.

The demo writes six minutes of the hall camera as an H.264 MP4 stamped with its creation time
(yesterday 09:00, hall time) — window W01's clerk away for four minutes — and runs the real
`hallwatch edge analyse` job on it (edge.video.recording_job): decoded faster than real time, the
camera's pipeline with every privacy mask, its own outbox, the upload. The console's 视频监察 page
then shows that absence marked 录像分析, beside the live camera's.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import av

from edge.config import EdgeConfig
from edge.video.recording_job import plan_job, run_job
from edge.video.scene import HallScene
from edge.video.scene_timeline import Stint, Timeline, WindowPlan
from edge.video.schedule import HALL_TZ

logger = logging.getLogger(__name__)

SECONDS = 360.0
FPS = 2
# W01's clerk leaves at 60 s and is back at 300 s (past the demo's 3-minute threshold); the others stay.
TIMELINE = Timeline(
    SECONDS,
    (
        WindowPlan(
            staff=(Stint(0, 0.0, 60.0), Stint(0, 300.0, SECONDS)), customers=(Stint(4, 320.0, SECONDS),)
        ),
        WindowPlan(staff=(Stint(1, 0.0, SECONDS),), customers=(Stint(5, 30.0, 200.0),)),
        WindowPlan(staff=(Stint(2, 0.0, SECONDS),), customers=()),
        WindowPlan(staff=(Stint(3, 0.0, SECONDS),), customers=(Stint(6, 100.0, 340.0),)),
    ),
)


def yesterday_morning(now: datetime) -> datetime:
    day = now.astimezone(HALL_TZ).date() - timedelta(days=1)
    return datetime.combine(day, time(9, 0), tzinfo=HALL_TZ)


def write_export(path: Path, *, start: datetime, width: int, height: int) -> Path:
    """The NVR export: the scene at FPS, libx264 in an MP4 whose creation_time is `start`."""
    scene = HallScene(len(TIMELINE.windows), timeline=TIMELINE, width=width, height=height, start=start)
    with av.open(str(path), "w") as container:
        container.metadata["creation_time"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for k in range(int(SECONDS * FPS)):
            frame = av.VideoFrame.from_ndarray(scene.render(k / FPS), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def analyse_yesterday(config: EdgeConfig, *, camera: str, key: str, workdir: Path, now: datetime) -> None:
    """Write yesterday's export and send its analysis to central (logs what it did; never raises)."""
    try:
        cam = next(c for c in config.cameras if c.name == camera)
        path = write_export(
            workdir / "nvr-export-yesterday.mp4",
            start=yesterday_morning(now),
            width=cam.width,
            height=cam.height,
        )
        job = plan_job(config, file=path, camera=camera, start=None)  # the start from the file itself
        result = run_job(job, key=key, upload_timeout=120.0)
    except Exception:  # the demo goes on without it
        logger.exception("demo: the recorded footage could not be analysed")
        return
    stats = result.stats
    logger.info(
        "demo: yesterday's recording analysed (%.0f s at %.1f× real time), %d observation(s) delivered",
        stats.scene_seconds,
        stats.scene_seconds / max(stats.decode_seconds + stats.analyse_seconds, 1e-9),
        result.outbox.delivered,
    )
