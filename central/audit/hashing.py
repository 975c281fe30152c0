"""The canonical form of an audit entry and its hash, shared by appending and verifying.

hash = SHA-256(canonical JSON of the entry's stored fields + the previous entry's hash); the first
entry follows 64 zeros. Changing, removing or slipping in a row breaks every link after it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

ZERO_HASH = "0" * 64

# The C string encoder behind json.dumps(ensure_ascii=False): quotes and escapes one str.
_quote: Callable[[str], str] = json.encoder.encode_basestring
# Actors, actions, target types and addresses repeat from entry to entry: quote each once.
_quote_name: Callable[[str], str] = functools.lru_cache(maxsize=4096)(_quote)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)  # exact, unlike a float
    if isinstance(value, set | frozenset):
        return sorted(value)  # one order, so the same set always hashes the same
    raise TypeError(f"cannot record {type(value).__name__} in the audit trail")


def canonical_json(value: Any) -> str | None:
    """The text stored for before/after (None stays NULL): one spelling per value, so it hashes stably."""
    if value is None:
        return None
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable
    )


def iso_utc(at: datetime) -> str:
    """`at` as hashed: ISO 8601 in UTC with microseconds, which both databases keep exactly."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_payload(
    seq: int,
    at: str,
    actor: str,
    remote_addr: str | None,
    action: str,
    target_type: str,
    target_id: str,
    before: str | None,
    after: str | None,
) -> str:
    """json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) of the stored fields.

    Spelled out key by key because verify runs it a million times; `before`/`after` are the stored
    JSON texts, quoted as strings, so no text in them can pose as another field.
    """
    return (
        f'{{"action":{_quote_name(action)},"actor":{_quote_name(actor)},'
        f'"after":{"null" if after is None else _quote(after)},"at":{_quote(at)},'
        f'"before":{"null" if before is None else _quote(before)},'
        f'"remote_addr":{"null" if remote_addr is None else _quote_name(remote_addr)},'
        f'"seq":{seq},"target_id":{_quote(target_id)},"target_type":{_quote_name(target_type)}}}'
    )


def entry_hash(payload: str, prev_hash: str) -> str:
    return hashlib.sha256((payload + prev_hash).encode("utf-8")).hexdigest()
