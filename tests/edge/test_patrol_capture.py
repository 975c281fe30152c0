"""A patrol capture handed over at the edge (edge.patrol_capture through edge.commands): the agent
with the camera puts a masked snapshot into its outbox (and, with live view and a viewer, the clip:
tests/central/live/test_capture_e2e.py); another agent's camera is left alone; a command handed
over twice stores one snapshot; an offline camera gives none."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.contract import EvidenceIn, PatrolCaptureCommand
from edge.commands import CommandHandler
from edge.outbox import Outbox
from edge.patrol_capture import PatrolCaptures
from edge.video.capture import CameraReader
from edge.video.config import AnalysisConfig
from edge.video.pipeline import CameraPipeline
from tests.edge.contract import wait_until
from tests.edge.live.cameras import RIGHT_HALF, HangingCamera, bright_picture, camera_config

CAMERA = "CAM-L"


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


@pytest.fixture
def camera() -> HangingCamera:
    return HangingCamera(bright_picture())


@pytest.fixture
def pipeline(outbox: Outbox, camera: HangingCamera) -> Iterator[CameraPipeline]:
    config = camera_config(CAMERA, privacy_masks=[RIGHT_HALF])
    reader = CameraReader(config, outbox=None, open_source=camera.open)
    reader.start()
    yield CameraPipeline(
        config, [], analysis=AnalysisConfig(), profile="", outbox=outbox, detector=None, reader=reader
    )
    reader.stop()


def command(id: int = 1, *, camera: str = CAMERA, ref: str = "finding-12") -> dict[str, object]:
    now = datetime.now(UTC)
    return PatrolCaptureCommand(
        id=id,
        kind="patrol_capture",
        capture=ref,
        camera=camera,
        window="W01",
        at=now,
        clip_seconds=5,
        expires_at=now + timedelta(minutes=10),
    ).model_dump(mode="json")


def handed(
    outbox: Outbox, pipeline: CameraPipeline, *commands: dict[str, object]
) -> tuple[int, PatrolCaptures]:
    captures = PatrolCaptures({CAMERA: pipeline}, None, outbox=outbox)
    handler = CommandHandler(outbox, lambda *_: False, capture=captures)
    return handler.handle_page({"commands": list(commands), "cursor": 0}), captures


def test_the_agent_with_the_camera_stores_a_masked_snapshot_once(
    outbox: Outbox, pipeline: CameraPipeline
) -> None:
    wait_until(lambda: pipeline.reader.latest() is not None, what="a frame")
    count, captures = handed(outbox, pipeline, command(1), command(2, camera="CAM-X"))
    assert (count, captures.snapshots, captures.clips) == (1, 1, 0)  # live view off: no clip
    handed(outbox, pipeline, command(3))  # the same capture again (a replayed page, a second request)
    [row] = outbox.pending(10)
    snapshot = EvidenceIn.model_validate(json.loads(row.body))
    assert (snapshot.reason, snapshot.capture, snapshot.camera, snapshot.window) == (
        "patrol_finding",
        "finding-12",
        CAMERA,
        "W01",
    )
    jpeg = base64.b64decode(snapshot.jpeg_base64)
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture[:300, :300].mean() > 190 and picture[:300, 340:].mean() < 5  # the mask is black


def test_an_offline_camera_gives_no_snapshot(
    outbox: Outbox, pipeline: CameraPipeline, camera: HangingCamera
) -> None:
    camera.hung.set()
    wait_until(lambda: pipeline.reader.latest() is None, what="the camera offline", timeout=30)
    count, captures = handed(outbox, pipeline, command(1))
    assert (count, captures.snapshots) == (1, 0) and outbox.pending(10) == []
