"""Recorded footage analysed faster than real time, at its own time (issue #19, item 2).

Halls keep 30–90 days of recordings on their NVRs; an inspector auditing yesterday needs them
analysed now, not replayed for eight hours. A recording is decoded as fast as the machine allows
(PyAV, FFmpeg's decoders), every frame stamped with the recording's time — its start (given, or the
file's own `creation_time`) plus the frame's presentation time — and only the frames the camera's
`analysis_fps` asks for are converted and analysed: the others are decoded (the codec needs them)
and dropped. The camera's own pipeline does the rest, as for a live camera — windows, privacy masks,
evidence at the recording's resolution — with every observation marked `origin: recording`, so
central never counts it as live and never stores what the live camera already reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import av

from edge.video.capture import Frame, scale_frame
from edge.video.pipeline import CameraPipeline

logger = logging.getLogger(__name__)


class RecordingError(ValueError):
    """The file cannot be analysed as a recording (not a video, no start time, no frames)."""


@dataclass
class RecordingStats:
    decoded: int = 0  # frames decoded
    analysed: int = 0  # frames handed to the pipeline
    decode_seconds: float = 0.0  # wall time in the decoder (and the conversion of analysed frames)
    analyse_seconds: float = 0.0  # wall time in the pipeline (analysis, evidence, outbox)
    first_at: datetime | None = None
    last_at: datetime | None = None
    observations: int = 0

    @property
    def scene_seconds(self) -> float:
        if self.first_at is None or self.last_at is None:
            return 0.0
        return (self.last_at - self.first_at).total_seconds()


@dataclass(frozen=True)
class RecordingInfo:
    path: Path
    start: datetime | None  # from the container's creation_time, when it has one
    duration_seconds: float | None
    fps: float | None
    width: int
    height: int
    codec: str
    frames: int | None = field(default=None)  # as the container says (may be missing or rough)


def probe(path: Path) -> RecordingInfo:
    """What the file says about itself; RecordingError when it is no video FFmpeg can read."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RecordingError(f"{path}: no video stream")
            stream = container.streams.video[0]
            duration = (
                float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
            )
            if duration is None and container.duration:
                duration = container.duration / 1_000_000  # microseconds (av.time_base)
            return RecordingInfo(
                path=path,
                start=_creation_time(container.metadata) or _creation_time(stream.metadata),
                duration_seconds=duration,
                fps=float(stream.average_rate) if stream.average_rate else None,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                codec=stream.codec_context.name,
                frames=stream.frames or None,
            )
    except (av.FFmpegError, OSError) as exc:
        raise RecordingError(f"{path}: not a readable video ({exc})") from exc


def recording_frames(
    path: Path,
    *,
    start: datetime,
    every_seconds: float,
    size: tuple[int, int],
    stats: RecordingStats,
    threads: int = 0,
) -> Iterator[Frame]:
    """The frames to analyse, `every_seconds` apart in recording time, stamped `start` + their
    presentation time; `image` scaled to `size`, `source` as recorded. `threads` = 0 lets FFmpeg
    choose (one per core); the decode time is counted in `stats`."""
    if start.tzinfo is None:
        raise RecordingError("the recording's start needs a time zone, e.g. 2026-12-05T08:30+08:00")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise RecordingError(f"{path}: not a readable video ({exc})") from exc
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        due: float | None = None
        first: float | None = None
        seq = 0
        clock = time.perf_counter()
        for picture in container.decode(stream):
            stats.decoded += 1
            if picture.time is None:  # no time stamp: the frame rate says where it is
                offset = (stats.decoded - 1) / float(stream.average_rate or 25)
            else:
                first = picture.time if first is None else first
                offset = picture.time - first
            if due is None or offset > due + every_seconds:  # the first frame, or a cut in the file
                due = offset
            if offset < due - 1e-6:
                continue  # decoded (the codec needs it), not converted nor analysed
            due += every_seconds
            full = picture.to_ndarray(format="bgr24")
            source = full.view()
            source.flags.writeable = False
            seq += 1
            frame = Frame(
                seq=seq, at=start + timedelta(seconds=offset), image=scale_frame(full, size), source=source
            )
            stats.decode_seconds += time.perf_counter() - clock
            yield frame
            clock = time.perf_counter()
        stats.decode_seconds += time.perf_counter() - clock


def analyse_recording(
    path: Path,
    pipeline: CameraPipeline,
    *,
    start: datetime,
    stats: RecordingStats | None = None,
    on_frame: Callable[[RecordingStats], None] | None = None,
    threads: int = 0,
) -> RecordingStats:
    """Feed the recording's frames to `pipeline` (made with origin="recording"), then close it:
    open intervals end at the last frame, the last hour's visits are reported. Returns the stats."""
    if pipeline.analyser is None:
        raise RecordingError(f"camera {pipeline.camera.name} watches no window: nothing to analyse")
    stats = stats or RecordingStats()
    camera = pipeline.camera
    frames = recording_frames(
        path,
        start=start,
        every_seconds=1.0 / camera.analysis_fps,
        size=(camera.width, camera.height),
        stats=stats,
        threads=threads,
    )
    for frame in frames:
        began = time.perf_counter()
        stats.observations += pipeline.process(frame)
        stats.analyse_seconds += time.perf_counter() - began
        stats.analysed += 1
        stats.first_at = stats.first_at or frame.at
        stats.last_at = frame.at
        if on_frame is not None:
            on_frame(stats)
    if stats.analysed == 0:
        raise RecordingError(f"{path}: no frame could be decoded")
    stats.observations += pipeline.finish()
    logger.info(
        "recording %s: %d frames decoded, %d analysed, %.0f s of scene in %.1f s decoding + %.1f s analysis",
        path,
        stats.decoded,
        stats.analysed,
        stats.scene_seconds,
        stats.decode_seconds,
        stats.analyse_seconds,
    )
    return stats


def _creation_time(metadata: dict[str, str]) -> datetime | None:
    text = metadata.get("creation_time")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        logger.warning("creation_time %r of a recording is not a time; give --start", text)
        return None
    return moment if moment.tzinfo is not None else None  # a zone-less time would be a guess
