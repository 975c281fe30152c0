"""The edge agent's wall clock (UTC, aware); every part takes it as an injectable `clock`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)
