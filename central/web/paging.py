"""The pager every console list shares: page count and the links to the pages around this one."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

logger = logging.getLogger(__name__)


def pager(path: str, query: Mapping[str, str], *, page: int, total: int, page_size: int) -> dict[str, Any]:
    """`pages`, `prev_url`, `next_url` and `first_url` (set only past the last page) for a template;
    the links keep the list's filters in `query`."""
    pages = max(1, math.ceil(total / page_size))

    def url(target: int) -> str:
        return f"{path}?" + urlencode({**query, "page": str(target)})

    return {
        "pages": pages,
        "prev_url": url(page - 1) if page > 1 else None,
        "next_url": url(page + 1) if page < pages else None,
        "first_url": url(1) if page > pages else None,
    }
