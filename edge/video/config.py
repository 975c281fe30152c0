"""Camera, window and analysis sections of the edge config (camera_configs/*.yaml), Frigate style.

A camera's `source` and the `detector` are discriminated unions keyed by `type`. Regions and privacy
masks are polygons in coordinates relative to the frame (0..1, origin top left), so a config survives
a camera that changes resolution. A window's working hours, breaks, absence threshold and visit time
default from the hall's rule profile (`presence` section) and may be overridden per window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.staffing import Period
from edge.config_checks import CODE_PATTERN, Code40, Finding, field_text, raise_findings

logger = logging.getLogger(__name__)

# (x, y) relative to the frame: 0..1 from the left and from the top.
Point = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]
Polygon = Annotated[list[Point], Field(min_length=3, max_length=64)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# --- camera sources ---------------------------------------------------------------------------


class StreamSource(_Section):
    type: Literal["stream"]
    url: str = Field(
        ...,
        min_length=8,
        max_length=1000,
        pattern=r"^(rtsp|rtsps|http|https)://",
        description="RTSP or HTTP(S) URL of the camera stream (credentials in the URL stay on the box).",
    )


class DeviceSource(_Section):
    type: Literal["device"]
    index: int = Field(..., ge=0, le=63, description="V4L2 device index (/dev/videoN).")


class FileSource(_Section):
    type: Literal["file"]
    path: Path = Field(..., description="A video file, read at its own frame rate.")
    loop: bool = Field(
        False,
        description="Start again at the end. Off by default: a recording plays once (to analyse one "
        "faster than real time, use `hallwatch edge analyse`).",
    )


class GeneratedSource(_Section):
    type: Literal["generated"]
    scene: str = Field(
        "hall",
        pattern=CODE_PATTERN,
        max_length=40,
        description="Name of a generated scene (edge.video.scene): staff and citizens from real photos.",
    )
    seed: int = Field(0, ge=0, description="Seed of the scene's timeline (who comes and goes when).")
    fps: float = Field(10.0, gt=0, le=60, description="Frames per second the scene produces.")


SOURCE_MODELS = (StreamSource, DeviceSource, FileSource, GeneratedSource)
CameraSource = Annotated[
    StreamSource | DeviceSource | FileSource | GeneratedSource, Field(discriminator="type")
]


class CameraConfig(_Section):
    name: Code40 = Field(..., description="The camera's code; unique in the file.")
    source: CameraSource
    analysis_fps: float = Field(
        2.0, gt=0, le=30, description="Frames per second handed to analysis (the newest; others dropped)."
    )
    width: int = Field(640, ge=64, le=3840, description="Analysis frames are scaled to this width.")
    height: int = Field(360, ge=48, le=2160, description="Analysis frames are scaled to this height.")
    stall_seconds: float = Field(
        10.0, gt=0, le=600, description="No new frame for this long: the stream is stalled, reconnect."
    )
    reconnect_max_seconds: float = Field(
        60.0, gt=0, le=3600, description="Longest wait between attempts to reopen a lost camera."
    )
    health_every_seconds: float = Field(
        60.0, ge=1, le=3600, description="Health is reported on every change and at least this often."
    )
    privacy_masks: list[Polygon] = Field(
        default_factory=list,
        max_length=32,
        description="Camera-level masks that belong to no window (a door, an ID-card reader, a citizen's "
        "screen); blacked out, with every mask of every window on this camera, in every image that leaves "
        "it (edge.video.privacy).",
    )


# --- detectors ------------------------------------------------------------------------------


class OpenCVDetectorConfig(_Section):
    """OpenCV's bundled Haar cascades (frontal face, profile face, upper body): nothing to download."""

    type: Literal["opencv"]
    min_neighbors: int = Field(4, ge=1, le=20, description="Cascade hits needed to accept a detection.")
    # 32 px and 15 % steps find the same people as 24 px and 10 % on 640×360 window cameras (faces
    # are 40–50 px there) at half the CPU (tests/edge/video/test_detect.py measures both).
    scale_factor: float = Field(1.15, gt=1, le=2, description="Image pyramid step of the cascade.")
    min_size: int = Field(32, ge=8, le=512, description="Smallest face searched for, in pixels.")


class YoloDetectorConfig(_Section):
    """ultralytics YOLO from a local weights file (the production choice; nothing is downloaded)."""

    type: Literal["yolo"]
    weights: Path = Field(..., description="Local weights file, e.g. /opt/hallwatch/yolo11n.pt.")
    confidence: float = Field(0.4, gt=0, lt=1, description="Least confidence of a person detection.")
    image_size: int = Field(640, ge=64, le=1920, multiple_of=32, description="Inference size.")
    device: str = Field("cpu", max_length=20, description="cpu, cuda:0, …")


DETECTOR_MODELS = (OpenCVDetectorConfig, YoloDetectorConfig)
DetectorConfig = Annotated[OpenCVDetectorConfig | YoloDetectorConfig, Field(discriminator="type")]


class AnalysisConfig(_Section):
    detector: DetectorConfig = Field(default_factory=lambda: OpenCVDetectorConfig(type="opencv"))
    motion_threshold: float = Field(
        0.02,
        gt=0,
        le=1,
        description="Share of a region's pixels that must change for the detector to run on it.",
    )
    recheck_seconds: float = Field(
        30.0,
        ge=1,
        le=600,
        description="Run the detector on a still region at least this often, so a seated person who "
        "does not move is not lost.",
    )
    present_after_seconds: float = Field(
        2.0, ge=0, le=120, description="Hysteresis: seen this long before the seat counts as taken."
    )
    empty_after_seconds: float = Field(
        20.0, ge=0, le=600, description="Hysteresis: unseen this long before the seat counts as empty."
    )
    citizen_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        le=600,
        description="A keypad press counts as made with a citizen at the counter when one was seen in "
        "the window's customer region at most this long before it (citizens rate while standing up "
        "to leave).",
    )


# --- windows --------------------------------------------------------------------------------


class WindowConfig(_Section):
    name: Code40 = Field(..., description="Code of the service window (as in central's registry).")
    camera: Code40 = Field(..., description="The camera that sees this window.")
    staff_region: Polygon = Field(..., description="Where the staff member sits (relative polygon).")
    customer_region: Polygon = Field(..., description="Where the citizen sits (relative polygon).")
    privacy_masks: list[Polygon] = Field(
        default_factory=list,
        max_length=32,
        description="Blacked out (screens, documents, faces of passers-by) in every image of this "
        "window's camera, whichever window the image is about (edge.video.privacy).",
    )
    working_hours: list[Period] | None = Field(
        None, max_length=8, description="Override of the profile's working hours for this window."
    )
    breaks: list[Period] | None = Field(None, max_length=8, description="Override of the profile's breaks.")
    working_days: Literal["official", "all"] = Field(
        "official",
        description="official: the State Council calendar (调休 included); all: every day, for halls "
        "open at weekends (周末不打烊).",
    )
    absence_threshold_minutes: float | None = Field(
        None, gt=0, le=480, description="Override: an empty seat for longer than this is 离岗."
    )
    visit_min_seconds: float | None = Field(
        None, ge=1, le=3600, description="Override: a citizen seated this long counts as a visit."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(
            [
                *verify_periods_do_not_overlap(self.working_hours, "working_hours"),
                *verify_periods_do_not_overlap(self.breaks, "breaks"),
            ]
        )
        return self


# --- cross-field checks ----------------------------------------------------------------------


def verify_window_cameras(windows: Sequence[Any], cameras: Sequence[Any]) -> list[Finding]:
    names = {field_text(c, "name") for c in cameras} - {None}
    findings = []
    for index, window in enumerate(windows):
        camera = field_text(window, "camera")
        if camera is not None and camera not in names:
            known = ", ".join(sorted(n for n in names if n)) or "none"
            findings.append(
                Finding(("windows", index, "camera"), f"no camera {camera!r} in cameras (known: {known})")
            )
    return findings


def verify_periods_do_not_overlap(periods: Sequence[Period] | None, field: str) -> list[Finding]:
    ordered = sorted(enumerate(periods or ()), key=lambda item: item[1].start)
    return [
        Finding((field, index), f"{period} overlaps {previous}")
        for (_, previous), (index, period) in pairwise(ordered)
        if period.start < previous.end
    ]
