"""Evidence snapshots: privacy masks are black in the JPEG itself, captions add a band, the observation
is exactly what central accepts."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from skimage import data

from common.contract import EvidenceIn
from edge.video.evidence import (
    CAPTION_HEIGHT,
    EvidenceError,
    caption_text,
    evidence_observation,
    make_snapshot,
)

AT = datetime(2026, 11, 27, 2, 15, 3, tzinfo=UTC)


def astronaut_bgr() -> np.ndarray:
    return cv2.cvtColor(cv2.resize(data.astronaut(), (640, 360)), cv2.COLOR_RGB2BGR)


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_masked_area_is_black_in_the_decoded_jpeg_and_the_rest_is_the_photo() -> None:
    frame = astronaut_bgr()
    face = [(0.35, 0.05), (0.7, 0.05), (0.7, 0.6), (0.35, 0.6)]  # the astronaut's face
    snapshot = make_snapshot(frame, masks=[face], caption="test")
    picture = decode(snapshot.jpeg)[:360]
    inside = picture[int(0.1 * 360) : int(0.55 * 360), int(0.4 * 640) : int(0.65 * 640)]
    # JPEG ringing leaves a few levels of noise near edges; the inside is (near) pure black.
    assert inside.mean() < 2 and inside.max() < 40
    outside = picture[:, : int(0.3 * 640)].astype(int)
    assert np.abs(outside - frame[:, : int(0.3 * 640)].astype(int)).mean() < 6  # still the photo
    assert frame[100, 300].sum() > 0  # the caller's frame is untouched


def test_no_trace_of_the_masked_content_survives() -> None:
    """Two frames differing only under the mask give the same JPEG bytes."""
    frame = astronaut_bgr()
    other = frame.copy()
    other[50:200, 250:420] = 255 - other[50:200, 250:420]
    mask = [(0.3, 0.1), (0.7, 0.1), (0.7, 0.6), (0.3, 0.6)]
    first = make_snapshot(frame, masks=[mask], caption="same")
    second = make_snapshot(other, masks=[mask], caption="same")
    assert first.jpeg == second.jpeg


def test_the_caption_is_a_band_below_the_picture() -> None:
    frame = astronaut_bgr()
    snapshot = make_snapshot(
        frame, masks=[], caption=caption_text(at=AT, window="W01", camera="C1", reason="absence_start")
    )
    assert (snapshot.width, snapshot.height) == (640, 360 + CAPTION_HEIGHT)
    assert decode(snapshot.jpeg)[360:].mean() < 60  # a dark band with white text
    assert caption_text(at=AT, window="W01", camera="C1", reason="x").startswith("2026-11-27 10:15:03 CST")


def test_the_observation_is_what_central_accepts() -> None:
    snapshot = make_snapshot(astronaut_bgr(), masks=[], caption="c")
    observation = evidence_observation(snapshot, at=AT, window="W01", camera="C1", reason="absence_start")
    parsed = EvidenceIn.model_validate(observation)
    jpeg = base64.b64decode(parsed.jpeg_base64)
    assert jpeg[:3] == b"\xff\xd8\xff" and hashlib.sha256(jpeg).hexdigest() == parsed.sha256
    assert parsed.id == f"W01:ev:{int(AT.timestamp() * 1000)}"


@pytest.mark.parametrize(
    "bad",
    [np.zeros((0, 0, 3), np.uint8), np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), "frame"],
)
def test_frames_that_cannot_be_evidence_are_refused_clearly(bad: object) -> None:
    with pytest.raises(EvidenceError):
        make_snapshot(bad, masks=[], caption="x")  # type: ignore[arg-type]


def test_a_huge_noisy_frame_steps_quality_down_to_fit() -> None:
    noise = np.random.default_rng(1).integers(0, 256, size=(1080, 1920, 3), dtype=np.uint8)
    snapshot = make_snapshot(noise, masks=[], caption="noise")
    assert len(snapshot.jpeg) <= 1_000_000
