"""Person detectors behind one interface (`PersonDetector`), made from the config by `make_detector`."""

from __future__ import annotations

import logging

from edge.video.detect.base import (
    Detection,
    DetectorUnavailableError,
    PersonDetector,
    make_detector,
    suppress_overlaps,
)

logger = logging.getLogger(__name__)

__all__ = ["Detection", "DetectorUnavailableError", "PersonDetector", "make_detector", "suppress_overlaps"]
