"""The draw key (SC-6(1)): 32 random bytes in a file central alone reads, never in the database.

Whoever holds it can recompute every published draw (auditors are given it); whoever does not —
the halls, a database reader — cannot tell tomorrow's choice from today's. A plan records the key's
id (the first 16 hex digits of its SHA-256) so an auditor knows which key drew it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

logger = logging.getLogger(__name__)

KEY_BYTES = 32


class DrawKeyError(RuntimeError):
    """No usable draw key: the message says where it was looked for and how to make one."""


def generate_key_file(path: Path) -> str:
    """Write a new key (hex text, mode 0600) to `path`, which must not exist; answers its id."""
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    logger.info("patrol draw key %s written to %s", key_id(key), path)
    return key_id(key)


def load_key(path: Path | None) -> bytes:
    if path is None:
        raise DrawKeyError(
            "no patrol draw key: set HALLWATCH_PATROL_KEY_FILE to a key made by `hallwatch patrol keygen` "
            "(巡查抽选密钥未配置)"
        )
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise DrawKeyError(f"cannot read the patrol draw key {path}: {exc}") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise DrawKeyError(
            f"the patrol draw key {path} is not {KEY_BYTES} bytes of hex (make one with keygen)"
        )
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]
