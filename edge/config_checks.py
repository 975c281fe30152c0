"""What every edge config section's checks share: findings with their place, and unique names.

Checks that need more than one field are `verify_*` functions returning findings; each model calls
its own from one `model_validator` (Frigate style), so every finding is reported at the field it
concerns. They take raw mappings too, so the file loader can still report duplicates when some other
part of the file is invalid (pydantic runs a model's own checks only once all its fields are valid).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from common.config_fields import CODE_PATTERN, Code40
from common.findings import CHECK_ERROR, Finding, Loc, raise_findings

__all__ = [
    "CHECK_ERROR",
    "CODE_PATTERN",
    "Code40",
    "Finding",
    "Loc",
    "field_text",
    "raise_findings",
    "verify_unique",
]

logger = logging.getLogger(__name__)


def verify_unique(entries: Sequence[Any], section: str, field: str) -> list[Finding]:
    """Each later entry whose `field` repeats an earlier one's, named at that later entry."""
    values = [field_text(e, field) for e in entries]
    counts = Counter(v for v in values if v is not None)
    first: dict[str, int] = {}
    findings = []
    for index, value in enumerate(values):
        if value is None:
            continue
        if counts[value] > 1 and value in first:
            message = f"{field} {value!r} is already used by {section}[{first[value]}]"
            findings.append(Finding((section, index, field), message))
        first.setdefault(value, index)
    return findings


def field_text(entry: Any, field: str) -> str | None:
    """A text field of a model or of a raw mapping (None when absent or not text)."""
    value = entry.get(field) if isinstance(entry, Mapping) else getattr(entry, field, None)
    return value.strip() if isinstance(value, str) else None
