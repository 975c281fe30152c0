"""The one error the video services raise: an HTTP status, an English detail for the API and a
zh-CN message for the pages (never a 500 for a person's mistake)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


class VideoError(Exception):
    def __init__(self, status_code: int, detail: str, zh: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail, self.zh = status_code, detail, zh
